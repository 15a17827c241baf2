//! A whole private Postgres cluster (initdb + pg_ctl as the `postgres` user) that an
//! outage test may stop, crash and start again; stopped on drop.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::ports::{free_port, wait_for_port};
use crate::process::{children_of, is_gone, signal_kill};

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
fn as_postgres(args: &[&str], last: Option<&Path>, as_root: bool) {
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
