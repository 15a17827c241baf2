//! A whole small deployment of a test's own: NATS, a database and the `chat-server`
//! binary on a fixed port, which the test may stop (SIGTERM) and start again. For tests
//! that run on plain threads and drive other processes against it (the terminal client's).

use std::time::Duration;

use crate::nats::NatsServer;
use crate::ports::free_port;
use crate::postgres::TestDatabase;
use crate::process::Proc;
use crate::product::{chat_server, Backing};

/// NATS, a database and `chat-server`; all of it goes on drop (server first).
pub struct ServerStack {
    server: Proc,
    nats: NatsServer,
    db: TestDatabase,
}

impl Backing for (&NatsServer, &TestDatabase) {
    fn nats_url(&self) -> String {
        self.0.url()
    }
    fn database_url(&self) -> String {
        self.1.url()
    }
}

impl ServerStack {
    pub fn start() -> Self {
        let nats = NatsServer::start();
        let db = TestDatabase::create_blocking();
        let server = chat_server(&(&nats, &db), free_port(), &[]);
        let mut stack = Self { server, nats, db };
        stack.start_server();
        stack
    }

    /// `http://127.0.0.1:<port>`, what `chat --server` takes.
    pub fn base(&self) -> String {
        self.server.base.clone()
    }

    pub fn nats_url(&self) -> String {
        self.nats.url()
    }

    pub fn database_url(&self) -> String {
        self.db.url()
    }

    /// Starts `chat-server` (again) on the stack's port and waits until it answers.
    pub fn start_server(&mut self) {
        self.server.start_blocking();
    }

    /// SIGTERM (the graceful path: clients are closed with 1012) and waits for the exit.
    pub fn stop_server(&mut self) {
        assert!(self.server.is_running(), "chat-server is running");
        self.server.terminate();
        if !self.server.wait_exit_blocking(Duration::from_secs(20)) {
            self.server.kill9();
            panic!("chat-server did not stop within 20 s of SIGTERM");
        }
    }
}
