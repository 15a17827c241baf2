//! `nats-server` for tests: a single JetStream server of the test's own (killable and
//! restartable on the same port and store), and a three-node cluster on loopback.

use std::process::{Child, Command, Stdio};

use crate::ports::{free_port, wait_for_port};
use crate::settings::nats_server_args;

/// `NATS_SERVER_BIN`, or `nats-server` on the `PATH`.
pub fn nats_server_bin() -> String {
    std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".into())
}

fn spawn_nats(args: &[String]) -> Child {
    let bin = nats_server_bin();
    Command::new(&bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {bin} (set NATS_SERVER_BIN): {e}"))
}

fn kill_child(child: &mut Option<Child>) {
    if let Some(mut child) = child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A `nats-server -js` of the test's own, on a free port with a temporary store; killed
/// on drop.
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
        kill_child(&mut self.child);
    }

    /// Starts again on the same port with the same store.
    pub fn restart(&mut self) {
        self.kill();
        self.child = Some(spawn_nats(&nats_server_args(self.port, self.store.path())));
        wait_for_port(self.port, "nats-server");
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Three clustered JetStream servers on loopback (`n0`..`n2`), each killable; all killed
/// on drop. Does not wait for the cluster to form: callers retry what needs a leader.
pub struct NatsCluster {
    nodes: Vec<Option<Child>>,
    pub client_ports: Vec<u16>,
    _dir: tempfile::TempDir,
}

impl NatsCluster {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let client_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let route_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let routes: Vec<String> = route_ports
            .iter()
            .map(|p| format!("nats-route://127.0.0.1:{p}"))
            .collect();
        let mut nodes = Vec::new();
        for i in 0..3 {
            let store = dir.path().join(format!("store-{i}"));
            let conf = dir.path().join(format!("n{i}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "server_name: n{i}\nlisten: 127.0.0.1:{}\njetstream {{ store_dir: \"{}\" }}\n\
                     cluster {{ name: test, listen: 127.0.0.1:{}, routes: [{}] }}\n",
                    client_ports[i],
                    store.display(),
                    route_ports[i],
                    routes.join(", ")
                ),
            )
            .unwrap();
            let conf = conf.to_str().unwrap().to_owned();
            nodes.push(Some(spawn_nats(&["-c".to_owned(), conf])));
        }
        Self {
            nodes,
            client_ports,
            _dir: dir,
        }
    }

    /// The client URLs of all nodes, comma-separated (what `NATS_URL` takes).
    pub fn urls(&self) -> String {
        self.client_ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `kill -9` of one node (0..3).
    pub fn kill(&mut self, node: usize) {
        kill_child(&mut self.nodes[node]);
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for node in 0..self.nodes.len() {
            self.kill(node);
        }
    }
}
