//! The third-party servers: where they are installed, and child processes that listen on
//! a loopback port and are killed when their guard is dropped (a failing test included).

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::{Instant, sleep};

/// Names the installed interop folder (`interop/` of the repository, after `install.sh`).
pub const DIR_VAR: &str = "FEATHER_INTEROP_DIR";

/// How long a server may take to accept connections after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// An installed interop folder.
#[derive(Debug, Clone)]
pub struct Interop {
    dir: PathBuf,
    node: PathBuf,
}

impl Interop {
    /// The installation named by `FEATHER_INTEROP_DIR`; fails the test, saying what is
    /// missing, without one. Tests that call it are `#[feather_test_gates::interop]`:
    /// ignored while the variable is not set.
    pub fn find() -> Interop {
        Interop::locate().unwrap_or_else(|why| panic!("{why}"))
    }

    fn locate() -> Result<Interop, String> {
        let Some(dir) = std::env::var_os(DIR_VAR).filter(|dir| !dir.is_empty()) else {
            return Err(format!(
                "{DIR_VAR} is not set (run interop/install.sh, then set {DIR_VAR} to that folder)"
            ));
        };
        let dir = PathBuf::from(dir);
        let dir = dir
            .canonicalize()
            .map_err(|error| format!("{DIR_VAR}={} cannot be read: {error}", dir.display()))?;
        for file in [
            "everything.mjs",
            "node_modules/@modelcontextprotocol/server-everything/dist/index.js",
            "drift_server.py",
            ".venv/bin/python",
        ] {
            if !dir.join(file).exists() {
                return Err(format!(
                    "{} has no {file} (run interop/install.sh; {DIR_VAR} names that folder)",
                    dir.display()
                ));
            }
        }
        let node = find_on_path("node").ok_or("node is not on PATH")?;
        Ok(Interop { dir, node })
    }

    /// `@modelcontextprotocol/server-everything` over `transport` (`streamableHttp` or
    /// `sse`), through `everything.mjs`, which binds it to 127.0.0.1.
    pub async fn everything(&self, transport: &str) -> ServerProcess {
        let name = format!("everything-{transport}");
        ServerProcess::start(&name, None, |port| {
            let mut command = self.command(&self.node);
            command
                .arg(self.dir.join("everything.mjs"))
                .arg(transport)
                .env("PORT", port.to_string());
            command
        })
        .await
    }

    /// `drift_server.py` with catalog `catalog` (`v1`, `v2`) over `transport`
    /// (`streamable-http`, `sse`), paging `tools/list` `page_size` tools at a time, on
    /// `port` (None: a free one).
    pub async fn drift(
        &self,
        catalog: &str,
        transport: &str,
        page_size: usize,
        port: Option<u16>,
    ) -> ServerProcess {
        let name = format!("drift-{catalog}-{transport}");
        ServerProcess::start(&name, port, |port| {
            let mut command = self.command(&self.dir.join(".venv/bin/python"));
            command
                .arg(self.dir.join("drift_server.py"))
                .args(["--catalog", catalog, "--transport", transport])
                .args(["--port", &port.to_string()])
                .args(["--page-size", &page_size.to_string()])
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .env("PYTHONUNBUFFERED", "1");
            command
        })
        .await
    }

    /// A command run from the interop folder with a minimal environment: the servers
    /// never see this process's variables (server-everything's `get-env` tool returns
    /// its whole environment).
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null());
        command
    }
}

/// A running server; killed (and reaped) on drop. Its output goes to a log file under
/// the target directory, shown when it fails to start.
#[derive(Debug)]
pub struct ServerProcess {
    name: String,
    child: Child,
    port: u16,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `command(port)` and waits until it listens on `port`. Without a given port,
    /// a free one is picked, and another one if the server exits before listening (the
    /// port may have been taken in between).
    async fn start(
        name: &str,
        port: Option<u16>,
        command: impl Fn(u16) -> Command,
    ) -> ServerProcess {
        let attempts = if port.is_some() { 1 } else { 3 };
        for attempt in 1..=attempts {
            let port = port.unwrap_or_else(free_port);
            let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("interop-{name}-{port}-{}.log", std::process::id()));
            let out = File::create(&log).expect("create the server's log file");
            let err = out.try_clone().expect("share the server's log file");
            let mut command = command(port);
            command.stdout(out).stderr(err);
            let child = command
                .spawn()
                .unwrap_or_else(|error| panic!("{name}: cannot start {command:?}: {error}"));
            let mut server = ServerProcess {
                name: name.to_owned(),
                child,
                port,
                log,
            };
            match server.wait_until_listening().await {
                Ok(()) => return server,
                Err(exited) if attempt < attempts => {
                    eprintln!("{name}: {exited}; retrying on another port");
                }
                Err(exited) => panic!("{name}: {exited}:\n{}", server.log_text()),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Stops the server now and waits for it to exit, freeing its port.
    pub fn stop(mut self) {
        self.kill();
    }

    /// Ok once the port accepts connections; Err if the server exited first. Panics if
    /// it neither listens nor exits in time.
    async fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server process") {
                return Err(format!("exited ({status}) before listening on {address}"));
            }
            if TcpStream::connect(address).await.is_ok() {
                return Ok(());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen on {address} within {START_TIMEOUT:?}:\n{}",
                self.name,
                self.log_text()
            );
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the server has printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    /// Kills the server; its log is kept (and named) only when the test is failing.
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("{} log: {}", self.name, self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("find a free loopback port")
        .port()
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
