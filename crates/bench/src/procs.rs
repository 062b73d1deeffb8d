//! The processes a load run starts (the service, nginx): started as children on
//! 127.0.0.1, measured through /proc, and always stopped (SIGTERM, then SIGKILL) by a guard.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A child process that is stopped when dropped.
#[derive(Debug)]
pub struct Guard {
    name: String,
    child: Option<Child>,
}

impl Guard {
    pub fn spawn(name: &str, command: &mut Command) -> anyhow::Result<Guard> {
        let child = command
            .spawn()
            .with_context(|| format!("could not start {name}"))?;
        Ok(Guard {
            name: name.to_owned(),
            child: Some(child),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Fails when the process has already exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait()?
        {
            bail!("{} exited early: {status}", self.name);
        }
        Ok(())
    }

    /// SIGTERM, up to 10 s for a graceful exit, then SIGKILL.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A `/proc/<pid>/status` field in KiB (`VmHWM`, `VmRSS`).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The direct children of `pid` (nginx's workers), found by scanning /proc.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|candidate| {
            std::fs::read_to_string(format!("/proc/{candidate}/stat"))
                .ok()
                .and_then(|stat| {
                    // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
                    let after = stat.rsplit_once(')')?.1;
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// Waits until `address` answers `GET path` with 200.
pub async fn wait_ready(
    guard: &mut Guard,
    address: SocketAddr,
    path: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let target = crate::load::Target::get(address, path, Vec::new());
    loop {
        guard.check_alive()?;
        if let Ok((200, _, _)) = crate::load::fetch_once(&target).await {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{address}{path} did not answer 200 within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How to start the service.
#[derive(Debug, Clone)]
pub struct ServeSpec {
    pub binary: PathBuf,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// Extra environment, e.g. `FEATHER_LISTING_CACHE=off`.
    pub env: Vec<(String, String)>,
    /// The service's stderr goes here.
    pub log: PathBuf,
}

/// Starts `feather-integrations serve` on a free loopback port and waits for `/healthz`.
pub async fn start_service(spec: &ServeSpec) -> anyhow::Result<(Guard, SocketAddr)> {
    let port = free_port()?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let log = File::options()
        .create(true)
        .append(true)
        .open(&spec.log)
        .with_context(|| format!("could not open {}", spec.log.display()))?;
    let mut command = Command::new(&spec.binary);
    command
        .arg("--data-dir")
        .arg(&spec.data_dir)
        .args([
            "serve",
            "--bind",
            &address.to_string(),
            "--job-workers",
            "1",
            // The benchmarks measure the service's speed, not its rate limits.
            "--rate-limit-per-key",
            "0",
            "--rate-limit-per-org",
            "0",
            "--upstream-rate-limit-per-key",
            "0",
            "--upstream-rate-limit-per-org",
            "0",
        ])
        .env("FEATHER_LOG", "warn")
        .env_remove("FEATHER_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    if let Some(url) = &spec.database_url {
        command.env("FEATHER_DATABASE_URL", url);
    }
    for (name, value) in &spec.env {
        command.env(name, value);
    }
    let mut guard = Guard::spawn("feather-integrations serve", &mut command)?;
    wait_ready(&mut guard, address, "/healthz", Duration::from_secs(60)).await?;
    Ok((guard, address))
}

/// Starts nginx (2 workers, `daemon off`, everything under `prefix`) serving `body` at
/// `path`, and waits until it answers.
pub async fn start_nginx(
    nginx: &Path,
    prefix: &Path,
    path: &str,
    body: &[u8],
) -> anyhow::Result<(Guard, SocketAddr)> {
    use std::os::unix::fs::PermissionsExt;

    let port = free_port()?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let root = prefix.join("html");
    let file = root.join(path.trim_start_matches('/'));
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&file, body)?;
    // nginx's workers may run as an unprivileged user: make the tree readable.
    for dir in std::iter::successors(file.parent(), |dir| dir.parent()) {
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
        if dir == prefix {
            break;
        }
    }
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))?;
    for temp in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        std::fs::create_dir_all(prefix.join("tmp").join(temp))?;
    }
    let config = format!(
        "worker_processes 2;\n\
         daemon off;\n\
         master_process on;\n\
         pid {prefix}/nginx.pid;\n\
         error_log {prefix}/error.log warn;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n\
         \x20 access_log off;\n\
         \x20 sendfile on;\n\
         \x20 tcp_nopush on;\n\
         \x20 keepalive_requests 1000000;\n\
         \x20 keepalive_timeout 65;\n\
         \x20 client_body_temp_path {prefix}/tmp/client_body;\n\
         \x20 proxy_temp_path {prefix}/tmp/proxy;\n\
         \x20 fastcgi_temp_path {prefix}/tmp/fastcgi;\n\
         \x20 uwsgi_temp_path {prefix}/tmp/uwsgi;\n\
         \x20 scgi_temp_path {prefix}/tmp/scgi;\n\
         \x20 server {{\n\
         \x20   listen 127.0.0.1:{port};\n\
         \x20   root {root};\n\
         \x20   default_type application/json;\n\
         \x20 }}\n\
         }}\n",
        prefix = prefix.display(),
        root = root.display(),
    );
    let config_path = prefix.join("nginx.conf");
    std::fs::write(&config_path, config)?;
    let mut command = Command::new(nginx);
    command
        .arg("-p")
        .arg(prefix)
        .arg("-e")
        .arg(prefix.join("error.log"))
        .arg("-c")
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut guard = Guard::spawn("nginx", &mut command)?;
    wait_ready(&mut guard, address, path, Duration::from_secs(20)).await?;
    Ok((guard, address))
}
