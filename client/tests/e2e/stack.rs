//! The real `chat-server` binary on a fixed free port, against the test's own NATS and
//! database; it can be stopped with SIGTERM and started again on the same port.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::services::{free_port, NatsServer, TestDatabase};

const JWT_SECRET: &str = "client-test-secret-0123456789-0123456789";

/// NATS, a database and `chat-server`, all of this test's own.
pub struct Stack {
    server: Option<Child>,
    port: u16,
    nats: NatsServer,
    db: TestDatabase,
}

impl Stack {
    pub fn start() -> Self {
        let mut stack = Self {
            server: None,
            port: free_port(),
            nats: NatsServer::start(),
            db: TestDatabase::create(),
        };
        stack.start_server();
        stack
    }

    /// `http://127.0.0.1:<port>`, what `chat --server` takes.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts `chat-server` (again) on the stack's port and waits until it answers.
    pub fn start_server(&mut self) {
        assert!(self.server.is_none(), "chat-server is already running");
        let bin = server_binary();
        let child = Command::new(&bin)
            .env("CHAT_HTTP_ADDR", format!("127.0.0.1:{}", self.port))
            // Tests run side by side: no fixed operator port.
            .env("CHAT_METRICS_ADDR", "off")
            .env("NATS_URL", self.nats.url())
            .env("DATABASE_URL", self.db.url())
            .env("JWT_SECRET", JWT_SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        self.server = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.healthy() {
            let exited = self
                .server
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                exited.is_none(),
                "chat-server exited at start-up: {exited:?}"
            );
            assert!(Instant::now() < deadline, "chat-server did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM (the graceful path: clients are closed with 1012) and waits for the exit.
    pub fn stop_server(&mut self) {
        let mut child = self.server.take().expect("chat-server is running");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chat-server did not stop within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `GET /healthz` answers 200.
    fn healthy(&self) -> bool {
        let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
        let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        let mut answer = String::new();
        conn.write_all(request.as_bytes()).is_ok()
            && conn.read_to_string(&mut answer).is_ok()
            && answer.starts_with("HTTP/1.1 200")
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `target/debug/chat-server` of this workspace (or `CHAT_SERVER_BIN`).
fn server_binary() -> PathBuf {
    let bin = std::env::var_os("CHAT_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target/debug/chat-server")
        });
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --workspace --bins` first",
        bin.display()
    );
    bin
}
