//! Hostile clients against the real binary: however many connections they open and leave
//! half-sent, other clients are answered, and the process never runs out of descriptors.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{BINARY, Replica};

/// The descriptors `serve` may open: low, as on many systems by default, so that the
/// attack below would exhaust them without the connection cap.
const OPEN_FILES: u32 = 256;

/// `serve` on a fresh SQLite store, its descriptor limit (soft and hard) set to
/// `OPEN_FILES`.
fn serve_with_few_descriptors(data_dir: &std::path::Path, extra: &str) -> Replica {
    let mut command = Command::new("sh");
    command.arg("-c").arg(format!(
        "ulimit -n {OPEN_FILES} && exec \"$0\" --data-dir \"$1\" serve --bind 127.0.0.1:0 {extra}"
    ));
    command.arg(BINARY).arg(data_dir);
    command.env_remove("FEATHER_DATABASE_URL");
    Replica::spawn(command)
}

fn address(replica: &Replica) -> String {
    replica.url("").trim_start_matches("http://").to_owned()
}

/// `GET /healthz` on a new connection; the status line, or why there is none.
fn health(address: &str, patience: Duration) -> Result<String, String> {
    let mut stream = TcpStream::connect(address).map_err(|error| error.to_string())?;
    stream
        .set_read_timeout(Some(patience))
        .map_err(|error| error.to_string())?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .map_err(|error| error.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|error| error.to_string())?;
    answer
        .lines()
        .next()
        .map(str::to_owned)
        .ok_or_else(|| "closed without an answer".to_owned())
}

/// Connections that send the start of a request head and then nothing.
fn half_sent_connections(address: &str, count: usize) -> Vec<TcpStream> {
    (0..count)
        .filter_map(|_| {
            let mut stream = TcpStream::connect(address).ok()?;
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
                .ok()?;
            Some(stream)
        })
        .collect()
}

#[test]
fn a_slowloris_larger_than_the_descriptor_limit_leaves_other_clients_answered() {
    let data = tempfile::tempdir().expect("a data directory");
    let replica = serve_with_few_descriptors(data.path(), "--header-read-timeout 60");
    let address = address(&replica);
    assert_eq!(
        health(&address, Duration::from_secs(5)).as_deref(),
        Ok("HTTP/1.1 200 OK")
    );

    let held = half_sent_connections(&address, 2 * OPEN_FILES as usize);
    // Each new client takes the place of the connection idle the longest.
    for attempt in 0..20 {
        assert_eq!(
            health(&address, Duration::from_secs(5)).as_deref(),
            Ok("HTTP/1.1 200 OK"),
            "request {attempt} during the attack"
        );
    }
    drop(held);
}

#[test]
fn a_connection_that_sends_no_head_in_time_is_closed() {
    let data = tempfile::tempdir().expect("a data directory");
    let replica = serve_with_few_descriptors(data.path(), "--header-read-timeout 1");
    let mut silent = TcpStream::connect(address(&replica)).expect("connect");
    silent
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .expect("the start of a head");
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let started = Instant::now();
    let mut rest = Vec::new();
    let read = silent.read_to_end(&mut rest);
    assert!(
        read.is_ok() || started.elapsed() < Duration::from_secs(10),
        "the connection was still open after 10 s: {read:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed after {:?}, not at the 1 s header-read timeout",
        started.elapsed()
    );
}
