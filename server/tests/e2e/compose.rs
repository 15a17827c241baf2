//! The compose deployment is checked here, since no Docker engine runs in CI: Debian's
//! `docker-compose config` must accept it, and it must keep the durability settings the
//! README promises (three NATS nodes fsyncing every write, R3 streams).

use std::path::PathBuf;
use std::process::Command;

fn compose_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../compose")
}

#[test]
fn docker_compose_accepts_the_compose_file() {
    let out = Command::new("docker-compose")
        .args(["-f", "docker-compose.yml", "config", "-q"])
        .current_dir(compose_dir())
        .env("JWT_SECRET", "0123456789abcdef0123456789abcdef")
        .output()
        .expect("docker-compose is installed (ops/test installs Debian's docker-compose)");
    assert!(
        out.status.success(),
        "docker-compose config: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Without a secret it must refuse rather than start with none.
    let out = Command::new("docker-compose")
        .args(["-f", "docker-compose.yml", "config", "-q"])
        .current_dir(compose_dir())
        .env_remove("JWT_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success(), "compose ran without JWT_SECRET");
}

#[test]
fn the_compose_cluster_keeps_the_durability_settings() {
    let compose = std::fs::read_to_string(compose_dir().join("docker-compose.yml")).unwrap();
    assert!(
        compose.contains("NATS_REPLICAS: \"3\""),
        "streams must be R3"
    );
    for i in 1..=3 {
        let conf =
            std::fs::read_to_string(compose_dir().join(format!("nats/nats-{i}.conf"))).unwrap();
        assert!(
            conf.contains("sync_interval: always"),
            "nats-{i} must fsync every write"
        );
        assert!(compose.contains(&format!("nats-{i}:")), "nats-{i} service");
    }
    for service in [
        "gateway-1:",
        "gateway-2:",
        "projector-1:",
        "projector-2:",
        "api-1:",
        "api-2:",
        "lb:",
        "jaeger:",
    ] {
        assert!(compose.contains(service), "{service} missing");
    }
}
