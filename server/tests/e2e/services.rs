//! Real services for tests: a private `nats-server` with JetStream per test, a database of
//! its own per test on the test Postgres (`TEST_DATABASE_URL`), and, for outage tests, a
//! whole private Postgres cluster that the test can stop and start. Each is removed on drop.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not open port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A `nats-server -js` of the test's own, on a free port with a temporary store.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    store: tempfile::TempDir,
}

impl NatsServer {
    pub fn start() -> Self {
        let mut server = Self {
            child: None,
            port: free_port(),
            store: tempfile::tempdir().expect("temp dir"),
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// `kill -9`: the server gets no chance to flush or say goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same port with the same store.
    pub fn restart(&mut self) {
        self.kill();
        let bin = std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".into());
        let child = Command::new(&bin)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {bin} (set NATS_SERVER_BIN): {e}"));
        self.child = Some(child);
        wait_for_port(self.port, "nats-server");
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A database of the test's own on the shared test Postgres, dropped afterwards.
pub struct TestDatabase {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let (client, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("connecting to TEST_DATABASE_URL={admin_url}: {e}"));
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
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
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async context guarantees; use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .ok()?;
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// A private Postgres cluster (initdb + pg_ctl as the `postgres` user) that a test may
/// stop and start to see how the product behaves without its database.
pub struct PostgresCluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
}

impl PostgresCluster {
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Postgres server binaries under /usr/lib/postgresql (ops/test installs them)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("pg_ctl").exists())
            .max()
            .expect("a Postgres version with pg_ctl");
        let dir = tempfile::Builder::new()
            .prefix("pgcluster")
            .tempdir()
            .expect("temp dir");
        as_postgres(
            &["chown", "-R", "postgres:postgres"],
            Some(dir.path()),
            true,
        );
        let cluster = Self {
            dir,
            port: free_port(),
            bin,
        };
        let data = cluster.data_dir();
        let initdb = cluster.bin.join("initdb");
        as_postgres(
            &[
                initdb.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-D",
            ],
            Some(&data),
            false,
        );
        cluster.start_again();
        cluster
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn start_again(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("pg.log");
        as_postgres(
            &[
                pg_ctl.to_str().unwrap(),
                "-w",
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "start",
                "-D",
            ],
            Some(&self.data_dir()),
            false,
        );
        wait_for_port(self.port, "postgres");
    }

    /// An immediate stop: connections are cut, as in a crash.
    pub fn stop(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        as_postgres(
            &[
                pg_ctl.to_str().unwrap(),
                "-w",
                "-m",
                "immediate",
                "stop",
                "-D",
            ],
            Some(&self.data_dir()),
            false,
        );
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let _ = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                pg_ctl.to_str().unwrap(),
                "-m",
                "immediate",
                "stop",
                "-D",
            ])
            .arg(self.data_dir())
            .output();
    }
}

/// Runs a command as `postgres` (Postgres refuses to run as root); `as_root` for set-up.
fn as_postgres(args: &[&str], last: Option<&std::path::Path>, as_root: bool) {
    let mut cmd = if as_root {
        Command::new(args[0])
    } else {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", args[0]]);
        c
    };
    cmd.args(&args[1..]);
    if let Some(path) = last {
        cmd.arg(path);
    }
    let out = cmd.output().expect("running a Postgres command");
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
