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

impl PostgresCluster {
    /// `kill -9` of the postmaster, as in a crash. Its backends notice the postmaster's
    /// death and exit (any still alive after 10 s get `kill -9` too); the lock files the
    /// dead postmaster leaves are removed, because a process that nobody reaps stays a
    /// zombie here and a zombie's pid still looks alive to the next postmaster's check.
    /// Answers how long the processes took to go. `start_again` starts it after.
    pub fn kill9(&self) -> Duration {
        let started = Instant::now();
        let lock = self.data_dir().join("postmaster.pid");
        let text = std::fs::read_to_string(&lock).expect("postmaster.pid of a running cluster");
        let postmaster: u32 = text
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .expect("a pid on the first line of postmaster.pid");
        let children = children_of(postmaster);
        signal_kill(postmaster);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !is_gone(postmaster) || children.iter().any(|c| !is_gone(*c)) {
            if Instant::now() > deadline {
                for pid in children.iter().copied().filter(|c| !is_gone(*c)) {
                    signal_kill(pid);
                }
            }
            assert!(
                Instant::now() < deadline + Duration::from_secs(10),
                "Postgres processes survived kill -9"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(&lock);
        let socket_lock = self.dir.path().join(format!(".s.PGSQL.{}.lock", self.port));
        let _ = std::fs::remove_file(socket_lock);
        started.elapsed()
    }
}

/// The processes whose parent is `pid` (from `/proc`).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| proc_stat(*child).is_some_and(|(_, ppid)| ppid == pid))
        .collect()
}

/// State letter and parent pid of a process, from `/proc/<pid>/stat`.
fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid ...": comm may contain spaces, so split after the last ')'.
    let mut rest = stat.rsplit_once(')')?.1.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Dead: no such process, or a zombie nobody reaped.
fn is_gone(pid: u32) -> bool {
    proc_stat(pid).is_none_or(|(state, _)| state == 'Z' || state == 'X')
}

fn signal_kill(pid: u32) {
    let _ = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
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
