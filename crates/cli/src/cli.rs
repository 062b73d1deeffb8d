//! Command-line interface: subcommands and the options every one of them shares.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use feather_http::{AppOptions, RateLimits, ServerLimits};
use feather_service::ServiceLimits;
use feather_service::oauth::OAuthClientConfig;
use feather_store::Store;
use uuid::Uuid;

/// The integrations layer of the Feather platform: connections, tool catalogs, tool
/// configuration.
#[derive(Debug, Parser)]
#[command(name = "feather-integrations", version)]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub upstream: UpstreamArgs,
    #[command(flatten)]
    pub logging: LoggingArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API and the background job workers (migrates the store first).
    Serve(ServeArgs),
    /// Run the service on a fresh temporary store together with a built-in demo MCP
    /// server, connected, and print what to try.
    Demo(DemoArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage organizations.
    #[command(subcommand)]
    Orgs(OrgsCommand),
    /// Manage an organization's API keys.
    #[command(subcommand)]
    ApiKeys(ApiKeysCommand),
    /// The key that seals stored credentials.
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

/// Where the data lives; shared by every subcommand.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Directory for the embedded database and the generated credentials key
    /// [default: ./data].
    #[arg(long, env = "FEATHER_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` or `sqlite://…`; without it, a SQLite file in the data directory.
    #[arg(
        long,
        env = "FEATHER_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

impl StoreArgs {
    /// The data directory: as given, else `./data`.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("./data"))
    }

    /// Opens and migrates the configured store.
    pub async fn open(&self) -> anyhow::Result<Store> {
        match &self.database_url {
            Some(url) => Store::connect(url)
                .await
                .context("could not open the database named by --database-url"),
            None => {
                let data_dir = self.data_dir();
                // Private to its owner: it holds the database and, perhaps, the key file.
                let mut directory = std::fs::DirBuilder::new();
                directory.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut directory, 0o700);
                directory.create(&data_dir).with_context(|| {
                    format!("could not create the data directory {}", data_dir.display())
                })?;
                let path = data_dir.join("feather.db");
                Store::open_sqlite_file(&path)
                    .await
                    .with_context(|| format!("could not open {}", path.display()))
            }
        }
    }
}

/// Credentials at rest and the outbound connections to user-given servers.
#[derive(Debug, Args)]
pub struct UpstreamArgs {
    /// Base64 of the 32-byte key that seals stored credentials (`secrets generate-key`
    /// makes one), or several such keys, comma-separated: the first seals, every one
    /// opens (for a rotation). Without it: on SQLite, a key generated once into the data
    /// directory (never over stored credentials); on PostgreSQL, required unless
    /// `--data-dir` names where its key file is kept. Every replica must open what any
    /// other seals.
    #[arg(
        long,
        env = "FEATHER_SECRET_KEY",
        global = true,
        hide_env_values = true
    )]
    pub secret_key: Option<String>,
    /// Non-public addresses the service may connect to: comma-separated CIDRs, IPs or host
    /// names (e.g. `127.0.0.1/32,::1/128`). Without it only public addresses are reached
    /// (`demo` always adds loopback, for its own server).
    #[arg(long, env = "FEATHER_ALLOW_UPSTREAM", global = true)]
    pub allow_upstream: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `info`, without the MCP SDK's own lines: it logs every closed or failed upstream
/// session as an ERROR (ordinary retries included) with the server's URL in it, while the
/// service reports each upstream failure itself, scrubbed. `FEATHER_LOG=info,rmcp=debug`
/// brings them back for diagnosis.
pub const DEFAULT_LOG_FILTER: &str = "info,rmcp=off";

#[derive(Debug, Args)]
pub struct LoggingArgs {
    /// Log lines as human-readable text or as JSON objects.
    #[arg(
        long,
        env = "FEATHER_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
}

impl LoggingArgs {
    /// Logs go to stderr, filtered by `FEATHER_LOG` (default [`DEFAULT_LOG_FILTER`]), so
    /// stdout stays for command output such as `--json`. Colours only on a terminal.
    pub fn install(&self) {
        let filter = tracing_subscriber::EnvFilter::try_from_env("FEATHER_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr);
        match self.log_format {
            LogFormat::Text => builder.init(),
            LogFormat::Json => builder.json().init(),
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FEATHER_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,
    /// Background job workers in this process (tool syncs).
    #[arg(long, env = "FEATHER_JOB_WORKERS", default_value_t = 2)]
    pub job_workers: usize,
    /// Keep each organization's serialized listing between writes (`off`: render every
    /// request afresh, for benchmarks and diagnosis).
    #[arg(long, env = "FEATHER_LISTING_CACHE", value_enum, default_value = "on")]
    pub listing_cache: Switch,
    /// Client connections held open at once; at the limit the one idle the longest is
    /// closed for a new one [default: what the open-files limit leaves, at most 4096].
    #[arg(long, env = "FEATHER_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// API requests answered at once; more are refused with 503 `overloaded`.
    #[arg(long, env = "FEATHER_MAX_IN_FLIGHT", default_value_t = AppOptions::DEFAULT_MAX_IN_FLIGHT)]
    pub max_in_flight: usize,
    /// Seconds a client has to send a request's head, from when it connects or its
    /// previous response ends (so also how long an idle keep-alive connection stays).
    #[arg(long, env = "FEATHER_HEADER_READ_TIMEOUT", default_value_t = ServerLimits::DEFAULT_HEADER_READ_TIMEOUT_SECS)]
    pub header_read_timeout: u64,
    /// API requests a second per key (bursts of twice that); past it 429 `rate_limited`.
    /// 0: no limit. Budgets are per process.
    #[arg(long, env = "FEATHER_RATE_LIMIT_PER_KEY", default_value_t = RateLimits::default().per_key)]
    pub rate_limit_per_key: u32,
    /// API requests a second per organization, all its keys together. 0: no limit.
    #[arg(long, env = "FEATHER_RATE_LIMIT_PER_ORG", default_value_t = RateLimits::default().per_organization)]
    pub rate_limit_per_org: u32,
    /// Requests that reach an upstream server (tool calls, refreshes, connects) a second
    /// per key. 0: no limit.
    #[arg(long, env = "FEATHER_UPSTREAM_RATE_LIMIT_PER_KEY", default_value_t = RateLimits::default().upstream_per_key)]
    pub upstream_rate_limit_per_key: u32,
    /// Requests that reach an upstream server a second per organization. 0: no limit.
    #[arg(long, env = "FEATHER_UPSTREAM_RATE_LIMIT_PER_ORG", default_value_t = RateLimits::default().upstream_per_organization)]
    pub upstream_rate_limit_per_org: u32,
    /// Connections one organization may have; a create past it answers 409
    /// `limit_reached`.
    #[arg(long, env = "FEATHER_MAX_CONNECTIONS_PER_ORG", default_value_t = ServiceLimits::default().max_connections_per_organization)]
    pub max_connections_per_org: u32,
    /// `Host` values the MCP endpoint answers (`name` or `name:port`, comma-separated;
    /// `*` for any); others are refused against DNS rebinding [default: the loopback
    /// names].
    #[arg(long, env = "FEATHER_MCP_ALLOWED_HOSTS", value_delimiter = ',')]
    pub mcp_allowed_hosts: Option<Vec<String>>,
    /// Browser origins allowed to call the MCP endpoint (`scheme://host:port`, `:*` for
    /// any port, comma-separated); a request with another `Origin` is refused [default:
    /// loopback origins].
    #[arg(long, env = "FEATHER_MCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub mcp_allowed_origins: Option<Vec<String>>,
    #[command(flatten)]
    pub oauth: OAuthArgs,
}

/// How the service presents itself to OAuth authorization servers.
#[derive(Debug, Args)]
pub struct OAuthArgs {
    /// The URL users and authorization servers reach this service at; the OAuth redirect
    /// URI (`…/v1/integrations/oauth/callback`) and the client metadata document are
    /// under it [default: http:// and the bind address].
    #[arg(long, env = "FEATHER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The URL of the service's OAuth Client ID Metadata Document, used as its client id
    /// where an authorization server takes one; it must be https [default: under the
    /// public URL, `/oauth/client-metadata.json`].
    #[arg(long, env = "FEATHER_OAUTH_CLIENT_METADATA_URL")]
    pub oauth_client_metadata_url: Option<String>,
    /// Where the OAuth callback sends the browser when done (with `status`,
    /// `connection_id` and `reason` in the query), instead of showing its own page.
    #[arg(long, env = "FEATHER_OAUTH_RETURN_URL")]
    pub oauth_return_url: Option<String>,
}

impl OAuthArgs {
    /// The settings for a service listening on `bind` (the address bound). A public URL
    /// must be an http(s) URL without a query or fragment: the redirect URI is made from
    /// it. Without one, the bound address is used, which only a browser on the same
    /// machine reaches when it is loopback (and none when it is unspecified).
    pub fn client_config(&self, bind: SocketAddr) -> anyhow::Result<OAuthClientConfig> {
        let public_url = match &self.public_url {
            Some(public_url) => {
                let parsed = url::Url::parse(public_url)
                    .with_context(|| format!("--public-url {public_url} is not a URL"))?;
                anyhow::ensure!(
                    matches!(parsed.scheme(), "http" | "https")
                        && parsed.query().is_none()
                        && parsed.fragment().is_none(),
                    "--public-url must be an http or https URL without a query or fragment"
                );
                public_url.clone()
            }
            None => {
                if bind.ip().is_unspecified() {
                    tracing::warn!(
                        %bind,
                        "no --public-url (FEATHER_PUBLIC_URL) is set and the bind address is \
                         unspecified: OAuth redirects would go to it; set the URL users \
                         reach this service at"
                    );
                }
                format!("http://{bind}")
            }
        };
        Ok(OAuthClientConfig::new(
            &public_url,
            self.oauth_client_metadata_url.clone(),
            self.oauth_return_url.clone(),
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    On,
    Off,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address the API listens on.
    #[arg(long, env = "FEATHER_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,
}

#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// Create an organization and its first API key.
    Create {
        #[arg(long)]
        name: String,
        /// Print one JSON line: {"organization_id": …, "api_key": …}.
        #[arg(long)]
        json: bool,
    },
    /// List every organization, oldest first.
    List {
        /// One JSON line per organization: {"id": …, "name": …, "created_at": …}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Print a new random key for `FEATHER_SECRET_KEY` (nothing is stored or changed).
    GenerateKey,
    /// Re-seal every stored credential with the first key of `FEATHER_SECRET_KEY`, while
    /// replicas keep serving, and print the counts; fails when any could not be opened.
    Rotate {
        /// Delete the credentials that no configured key opens (their key is lost for
        /// good) and mark their connections to be connected again.
        #[arg(long)]
        forget_unopenable: bool,
        /// Print one JSON line: {"key_id", "resealed", "already_current", "unopenable",
        /// "forgotten", "changed_meanwhile"}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create a key for an organization; the key is printed once.
    Create {
        #[arg(long)]
        org: Uuid,
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List an organization's keys (never the keys themselves).
    List {
        #[arg(long)]
        org: Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key.
    Revoke {
        #[arg(long)]
        org: Uuid,
        #[arg(long)]
        key_id: Uuid,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
