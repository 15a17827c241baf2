//! Real services for tests: a private `nats-server -js` on a free port with a temporary
//! store, and a database of the test's own on the test Postgres (`TEST_DATABASE_URL`).
//! Each is removed on drop.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not open port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A `nats-server -js` of the test's own.
pub struct NatsServer {
    child: Child,
    port: u16,
    _store: tempfile::TempDir,
}

impl NatsServer {
    pub fn start() -> Self {
        let port = free_port();
        let store = tempfile::tempdir().expect("temp dir");
        let bin = std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".into());
        let child = Command::new(&bin)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {bin} (set NATS_SERVER_BIN): {e}"));
        wait_for_port(port, "nats-server");
        Self {
            child,
            port,
            _store: store,
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A database of the test's own on the shared test Postgres, dropped afterwards.
pub struct TestDatabase {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    pub fn create() -> Self {
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("client_test_{}", uuid::Uuid::new_v4().simple());
        admin_sql(&admin_url, &format!("CREATE DATABASE {name}")).unwrap_or_else(|e| {
            panic!("creating a database on TEST_DATABASE_URL={admin_url}: {e}")
        });
        Self { admin_url, name }
    }

    pub fn url(&self) -> String {
        let base = self
            .admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&self.admin_url);
        format!("{base}/{}", self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = admin_sql(&self.admin_url, &sql);
    }
}

/// Runs one statement on the admin database, on a runtime of its own (tests are plain
/// threads that drive processes).
fn admin_sql(url: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        client.batch_execute(sql).await
    })
}
