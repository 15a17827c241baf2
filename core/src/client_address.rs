//! Who the client is: the TCP peer, or behind trusted proxies the right-most
//! `X-Forwarded-For` address that is not itself a trusted proxy (the left part of that
//! header is whatever the client wrote). Shared by the gateway's per-address connection
//! cap and the api's per-address limits on sign-in, so both count the same address.

use axum::http::HeaderMap;
use std::net::IpAddr;

/// An address range: an address and a prefix length (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u32,
}

impl IpRange {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (raw, None),
        };
        let network: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{raw:?} is not an address or CIDR range"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{raw:?} has a bad prefix length"))?,
        };
        Ok(Self { network, prefix })
    }

    /// Comma-separated ranges; empty items are skipped.
    pub fn parse_list(raw: &str) -> Result<Vec<Self>, String> {
        raw.split(',')
            .filter(|r| !r.trim().is_empty())
            .map(Self::parse)
            .collect()
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => (u32::from(n) ^ u32::from(a))
                .checked_shr(32 - self.prefix)
                .unwrap_or(0)
                .eq(&0),
            (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n) ^ u128::from(a))
                .checked_shr(128 - self.prefix)
                .unwrap_or(0)
                .eq(&0),
            _ => false,
        }
    }
}

/// The client's address: the peer, or behind trusted proxies the right-most forwarded
/// address that is not a trusted proxy. `forwarded` holds the `X-Forwarded-For` values in
/// the order received.
pub fn client_address<'a>(
    peer: Option<IpAddr>,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[IpRange],
) -> Option<IpAddr> {
    let mut client = peer?.to_canonical();
    let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).collect();
    for hop in hops.iter().rev() {
        if !trusted.iter().any(|r| r.contains(client)) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(address) => client = address.to_canonical(),
            Err(_) => break,
        }
    }
    Some(client)
}

/// [`client_address`] from a request's peer and headers. The header is read lossily: junk
/// the client put at the left of it must not hide the address the proxy appended at its
/// right.
pub fn from_headers(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpRange],
) -> Option<IpAddr> {
    let forwarded: Vec<String> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    client_address(peer, forwarded.iter().map(String::as_str), trusted)
}

/// Address ranges from the variable `name`: unset or empty means `default`, `none` means
/// no range.
pub fn ranges_from_env(name: &str, default: &str) -> anyhow::Result<Vec<IpRange>> {
    let raw: String = crate::env::var_or(name, default.to_owned())?;
    if raw.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    IpRange::parse_list(&raw).map_err(|e| anyhow::anyhow!("{name}={raw:?} is invalid: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_count_only_behind_a_trusted_proxy() {
        let trusted = IpRange::parse_list("127.0.0.1").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "9.9.9.9, 203.0.113.7".parse().unwrap());
        let client = from_headers(Some("127.0.0.1".parse().unwrap()), &headers, &trusted);
        assert_eq!(client, Some("203.0.113.7".parse().unwrap()));
        let direct = from_headers(Some("198.51.100.1".parse().unwrap()), &headers, &trusted);
        assert_eq!(direct, Some("198.51.100.1".parse().unwrap()));
    }
}
