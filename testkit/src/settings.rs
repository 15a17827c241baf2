//! The settings shared with the browser tests and the ops scripts (`testkit/services.env`),
//! compiled in so that a test binary needs no file at run time.

/// The file's text, as the JS and bash sides read it too.
const SERVICES_ENV: &str = include_str!("../services.env");

/// The value of `key` in `services.env` (panics if missing: the file is part of the kit).
fn setting(key: &str) -> &'static str {
    SERVICES_ENV
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .map(str::trim)
        .unwrap_or_else(|| panic!("{key} missing from testkit/services.env"))
}

/// The arguments of a test `nats-server` on `port` storing JetStream data in `store`.
pub fn nats_server_args(port: u16, store: &std::path::Path) -> Vec<String> {
    setting("NATS_SERVER_ARGS")
        .split_whitespace()
        .map(|arg| match arg {
            "{port}" => port.to_string(),
            "{store}" => store.display().to_string(),
            other => other.to_owned(),
        })
        .collect()
}

/// The admin database tests create their own databases on: `TEST_DATABASE_URL`, or the
/// shared default.
pub fn admin_database_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| setting("TEST_DATABASE_URL").into())
}

/// `RUST_LOG` of product processes under test.
pub fn product_log_level() -> &'static str {
    setting("RUST_LOG")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nats_arguments_fill_in_port_and_store() {
        let args = nats_server_args(4222, std::path::Path::new("/tmp/store"));
        assert_eq!(
            args,
            ["-a", "127.0.0.1", "-p", "4222", "-js", "-sd", "/tmp/store"]
        );
    }

    #[test]
    fn every_setting_is_present() {
        assert!(admin_database_url().starts_with("postgres://"));
        assert_eq!(product_log_level(), "warn");
    }
}
