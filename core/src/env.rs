//! Reading typed settings from environment variables. Every variable the services read is
//! listed in the README's configuration table; defaults are the ones that work on a laptop.

use anyhow::{anyhow, Context};
use std::str::FromStr;
use std::time::Duration;

/// The variable's value parsed as `T`, or `default` when it is unset or empty.
pub fn var_or<T>(name: &str, default: T) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|e| anyhow!("environment variable {name}={v:?} is invalid: {e}")),
        _ => Ok(default),
    }
}

/// A duration given in milliseconds.
pub fn millis_or(name: &str, default_ms: u64) -> anyhow::Result<Duration> {
    var_or(name, default_ms).map(Duration::from_millis)
}

/// A secret from `NAME` or from the file named by `NAME_FILE`; never logged.
pub fn secret(name: &str) -> anyhow::Result<String> {
    if let Ok(v) = std::env::var(name) {
        if !v.is_empty() {
            return Ok(v);
        }
    }
    let file_var = format!("{name}_FILE");
    let path = std::env::var(&file_var)
        .map_err(|_| anyhow!("set {name} or {file_var}: there is no built-in secret"))?;
    let raw =
        std::fs::read_to_string(&path).with_context(|| format!("reading {file_var}={path}"))?;
    Ok(raw.trim().to_owned())
}
