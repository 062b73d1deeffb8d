//! `demo`: the service on a fresh temporary store, with the built-in demo MCP server
//! connected over both transports, so that a newcomer sees a populated listing in seconds.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use feather_demo_mcp::DemoServer;
use feather_domain::custom_mcp::CustomMcpRequest;
use feather_domain::integration::ToolsStatus;
use feather_service::Service;
use uuid::Uuid;

use crate::cli::{DemoArgs, StoreArgs, UpstreamArgs};

/// What the demo adds to `--allow-upstream`: loopback, where its own server listens.
const DEMO_ALLOW_UPSTREAM: &str = "127.0.0.1/32,::1/128";

/// The MCP inspector the banner's one-liners run, pinned: its CLI mode lists and calls
/// tools.
const INSPECTOR: &str = "@modelcontextprotocol/inspector@1.0.3";

/// How long the banner waits for the first syncs before printing anyway.
const SYNC_WAIT: Duration = Duration::from_secs(15);

pub async fn run(
    _store: &StoreArgs,
    upstream: &UpstreamArgs,
    args: DemoArgs,
) -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir().context("could not create a temporary data directory")?;
    let demo_server = DemoServer::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("could not start the demo MCP server")?;
    // The demo server listens on loopback, which the SSRF guard refuses unless allowed;
    // both loopback families, so that `localhost` (127.0.0.1 and ::1) works too.
    let allow_upstream = match upstream.allow_upstream.as_deref().map(str::trim) {
        None | Some("") => DEMO_ALLOW_UPSTREAM.to_owned(),
        Some(given) => format!("{given},{DEMO_ALLOW_UPSTREAM}"),
    };
    let store = StoreArgs {
        data_dir: Some(data_dir.path().to_owned()),
        database_url: None,
    };
    let upstream = UpstreamArgs {
        secret_key: None,
        allow_upstream: Some(allow_upstream),
    };
    let service = crate::app::service(&store, &upstream).await?;
    let (organization, key) = service.create_organization("Demo").await?;
    let listener = crate::serve::bind(args.bind).await?;
    let address = listener.local_addr()?;

    let mut connections = Vec::new();
    for (nickname, url, transport) in [
        (
            "Support Desk",
            demo_server.streamable_url(),
            "streamable_http",
        ),
        ("Support Desk (legacy SSE)", demo_server.sse_url(), "sse"),
    ] {
        let connected = service
            .connect_custom_mcp(
                organization.id,
                CustomMcpRequest {
                    nickname: nickname.to_owned(),
                    server_url: url,
                    transport: Some(transport.to_owned()),
                    ..CustomMcpRequest::default()
                },
            )
            .await
            .with_context(|| format!("could not connect the demo server over {transport}"))?;
        connections.push(connected.connection.id);
    }
    tokio::spawn(print_banner_when_synced(
        service.clone(),
        organization.id,
        connections,
        Banner {
            key: key.plain_text_key,
            api: format!("http://{address}"),
            mcp_server: demo_server.streamable_url(),
        },
    ));
    let served = crate::serve::serve_until_signal(
        service,
        crate::serve::HttpSettings::defaults(),
        listener,
        2,
    )
    .await;
    demo_server.shutdown().await;
    served
}

/// What the banner tells, besides the connections it lists.
struct Banner {
    key: String,
    api: String,
    mcp_server: String,
}

/// Waits (a bounded time) for the demo connections' first syncs, then prints the banner.
/// Everything printed is a shell script (text lines are comments), so it can be pasted
/// whole; CI runs it as such, with the README's walk-through that uses its variables.
async fn print_banner_when_synced(
    service: Service,
    organization_id: Uuid,
    connections: Vec<Uuid>,
    banner: Banner,
) {
    let deadline = tokio::time::Instant::now() + SYNC_WAIT;
    let mut listing = Vec::new();
    while tokio::time::Instant::now() < deadline {
        listing = service
            .list_connections(organization_id)
            .await
            .unwrap_or_default();
        let settled = listing.iter().all(|view| {
            matches!(
                view.connection.tools_status,
                ToolsStatus::Synced | ToolsStatus::Failed
            )
        });
        if settled && listing.len() == connections.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let Banner {
        key,
        api,
        mcp_server,
    } = banner;
    println!();
    println!("  # feather-integrations demo: a temporary store, gone when you stop it (Ctrl-C).");
    println!(
        "  # The built-in demo MCP server is connected twice (Streamable HTTP and legacy SSE):"
    );
    for view in &listing {
        println!(
            "  #   {:<28} tools_status={:<8} tools={}",
            view.connection.nickname,
            view.connection.tools_status.as_str(),
            view.tools.len()
        );
    }
    println!();
    println!("  export API={api}");
    println!("  export KEY={key}");
    println!("  export MCP_SERVER={mcp_server}  # the demo MCP server itself");
    let search = listing.first().and_then(|view| {
        view.tools
            .iter()
            .find(|tool| tool.tool.tool_path == "search_customers")
            .map(|tool| (view, tool.tool.id, tool.tool.slug.clone()))
    });
    let Some((view, tool_id, slug)) = search else {
        println!();
        println!("  # The first sync has not finished: list the connections to see how it went.");
        println!("  curl -s $API/v1/integrations/connections -H \"x-api-key: $KEY\"");
        return;
    };
    println!(
        "  export CONNECTION={}  # \"{}\"",
        view.connection.id, view.connection.nickname
    );
    println!("  export TOOL={tool_id}  # its search_customers tool");
    println!();
    println!("  # Every connection with its tools");
    println!("  curl -s $API/v1/integrations/connections -H \"x-api-key: $KEY\"");
    println!();
    println!("  # Pin a value: every call of search_customers now asks for 3 results");
    println!(
        "  curl -s -X PATCH $API/v1/integrations/connections/$CONNECTION/tools/$TOOL \\\n       \
         -H \"x-api-key: $KEY\" -d '{{\"input_defaults\": {{\"limit\": {{\"value\": 3, \"type\": \"pinned\"}}}}}}'"
    );
    println!();
    println!("  # Call it (the pinned limit wins over the caller's 50)");
    println!(
        "  curl -s -X POST $API/v1/integrations/connections/$CONNECTION/test-mcp-call \\\n       \
         -H \"x-api-key: $KEY\" -d '{{\"slug\": \"{slug}\", \"input\": {{\"query\": \"\", \"limit\": 50}}}}'"
    );
    println!();
    println!("  # Agents: every enabled tool of the organization as one MCP server (Streamable");
    println!("  # HTTP) at $API/mcp, the API key as a bearer token. The pin above applies there");
    println!("  # too: limit is not in search_customers' schema, and 3 wins whatever is sent.");
    println!("  #   URL: $API/mcp    header: Authorization: Bearer $KEY");
    println!("  # With the MCP inspector's CLI (Node 20+), list the tools, then call one:");
    println!(
        "  npx -y {INSPECTOR} --cli $API/mcp --transport http \\\n       \
         --header \"Authorization: Bearer $KEY\" --method tools/list"
    );
    println!(
        "  npx -y {INSPECTOR} --cli $API/mcp --transport http \\\n       \
         --header \"Authorization: Bearer $KEY\" --method tools/call --tool-name {slug} \\\n       \
         --tool-arg query=a --tool-arg limit=50"
    );
    println!();
    println!(
        "  # More in the README (\"A first session with curl\", \"Agents\"); the API reference:"
    );
    println!("  # $API/openapi.json");
    println!();
}
