//! Loopback ports: a free one to listen on, waiting until one opens, and a plain
//! `GET /healthz` that works with or without an async runtime.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A port nothing listens on right now (the OS picks it; the caller binds it soon after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Blocks until `127.0.0.1:port` accepts connections; panics after 20 s.
pub fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not open port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `GET <base>/healthz` answers 200 (`base` is `http://127.0.0.1:<port>`). Plain HTTP/1.1
/// on a socket, so that it needs no runtime and blocks at most two seconds.
pub fn healthy(base: &str) -> bool {
    let Some(address) = base.strip_prefix("http://") else {
        return false;
    };
    let Ok(mut conn) = TcpStream::connect(address) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let mut answer = String::new();
    conn.write_all(request.as_bytes()).is_ok()
        && conn.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 200")
}
