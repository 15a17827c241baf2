//! Child processes of a test: workspace binaries found next to the test binary, started
//! with a fixed environment (so a restart is the same process again), waited for until
//! `/healthz` answers, signalled, and killed on drop, also when the test panics. Also the
//! `/proc` reading that crash tests need to kill a whole process tree.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ports::healthy;

/// How long a process may take from spawn to a healthy `/healthz`.
const START_BOUND: Duration = Duration::from_secs(60);

/// A workspace binary: `$<NAME>_BIN` if set (e.g. `CHAT_SERVER_BIN`, to compare another
/// build), else `target/<profile>/<name>` next to the running test binary, which lives in
/// `target/<profile>/deps`.
pub fn binary(name: &str) -> PathBuf {
    let variable = format!("{}_BIN", name.to_uppercase().replace('-', "_"));
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap();
            exe.parent().and_then(|d| d.parent()).unwrap().join(name)
        });
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` (ops/test does)",
        path.display()
    );
    path
}

/// One process. Its stdout is dropped and its stderr goes to the test's output, unless
/// `log_to` names a file for both.
pub struct Proc {
    pub name: String,
    /// Where it answers `GET /healthz` (`http://127.0.0.1:<port>`), if it serves HTTP.
    pub base: String,
    program: PathBuf,
    env: Vec<(String, String)>,
    log: Option<PathBuf>,
    child: Option<Child>,
}

impl Proc {
    pub fn new(name: &str, program: PathBuf) -> Self {
        Self {
            name: name.to_owned(),
            base: String::new(),
            program,
            env: Vec::new(),
            log: None,
            child: None,
        }
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// Sets several variables; later ones win over earlier ones of the same name.
    pub fn envs<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        for (key, value) in pairs {
            self = self.env(key.as_ref(), value.as_ref());
        }
        self
    }

    /// Appends stdout and stderr to `path` (read back with `log_tail`).
    pub fn log_to(mut self, path: PathBuf) -> Self {
        self.log = Some(path);
        self
    }

    /// Where it will answer `/healthz`.
    pub fn serving_on(mut self, port: u16) -> Self {
        self.base = format!("http://127.0.0.1:{port}");
        self
    }

    /// Starts the process without waiting for anything.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.name);
        let mut command = Command::new(&self.program);
        command.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        match &self.log {
            Some(path) => {
                let log = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .expect("log file");
                command
                    .stdout(Stdio::from(log.try_clone().expect("log file")))
                    .stderr(Stdio::from(log));
            }
            None => {
                command.stdout(Stdio::null()).stderr(Stdio::inherit());
            }
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} ({}): {e}", self.name, self.program.display()));
        self.child = Some(child);
    }

    /// Starts the process and waits until `/healthz` answers 200.
    pub async fn start(&mut self) {
        self.spawn();
        let deadline = Instant::now() + START_BOUND;
        while !healthy(&self.base) {
            self.assert_starting(deadline);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `start` for tests that run on plain threads.
    pub fn start_blocking(&mut self) {
        self.spawn();
        let deadline = Instant::now() + START_BOUND;
        while !healthy(&self.base) {
            self.assert_starting(deadline);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn assert_starting(&mut self, deadline: Instant) {
        assert!(
            self.is_running(),
            "{} exited during start-up{}",
            self.name,
            self.log_excerpt()
        );
        assert!(
            Instant::now() < deadline,
            "{} did not answer {}/healthz within {START_BOUND:?}{}",
            self.name,
            self.base,
            self.log_excerpt()
        );
    }

    fn log_excerpt(&self) -> String {
        match self.log {
            Some(_) => format!("; log:\n{}", self.log_tail(40)),
            None => String::new(),
        }
    }

    /// `kill -9`: no chance to flush, drain or say goodbye.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM: the graceful path (see `wait_exit`).
    pub fn terminate(&self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }

    /// Waits up to `bound` for the process to exit (after `terminate`); answers whether it
    /// did.
    pub async fn wait_exit(&mut self, bound: Duration) -> bool {
        let deadline = Instant::now() + bound;
        while !self.has_exited() {
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }

    /// `wait_exit` for tests that run on plain threads.
    pub fn wait_exit_blocking(&mut self, bound: Duration) -> bool {
        let deadline = Instant::now() + bound;
        while !self.has_exited() {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }

    /// Not running (any more); reaps it if it just exited.
    fn has_exited(&mut self) -> bool {
        let Some(child) = self.child.as_mut() else {
            return true;
        };
        if child.try_wait().ok().flatten().is_some() {
            self.child = None;
            return true;
        }
        false
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The process id, while it runs (e.g. to read its memory in `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The last `lines` of its log file (empty without `log_to`).
    pub fn log_tail(&self, lines: usize) -> String {
        let Some(path) = &self.log else {
            return String::new();
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The processes whose parent is `pid` (from `/proc`).
pub fn children_of(pid: u32) -> Vec<u32> {
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
pub fn is_gone(pid: u32) -> bool {
    proc_stat(pid).is_none_or(|(state, _)| state == 'Z' || state == 'X')
}

/// `kill -9 <pid>` of a process this test did not spawn itself (e.g. a postmaster).
pub fn signal_kill(pid: u32) {
    let _ = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}
