//! Resident memory of the watched server processes, from `/proc/<pid>/status`.

use std::collections::BTreeMap;

/// `VmRSS` in KiB of each pid that is alive.
pub fn sample(pids: &[u32]) -> BTreeMap<u32, u64> {
    pids.iter()
        .filter_map(|pid| Some((*pid, rss_kib(*pid)?)))
        .collect()
}

pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_memory_is_readable() {
        let kib = super::rss_kib(std::process::id()).expect("own VmRSS");
        assert!(kib > 100, "{kib} KiB");
        assert!(super::rss_kib(u32::MAX).is_none());
    }
}
