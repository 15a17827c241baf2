//! Who may hold a connection here: caps on open connections per user and per client
//! address, and the registry of each user's open connections that logout and bans close.
//!
//! - **Per address** (`GATEWAY_MAX_CONNECTIONS_PER_IP`, 1000): counted from the handshake,
//!   authenticated or not, so a flood of idle anonymous sockets from one place is bounded.
//!   Addresses in `GATEWAY_IP_LIMIT_EXEMPT` (loopback by default: tests, load generators
//!   and a co-located proxy) are not counted. The address is the TCP peer, or behind a
//!   proxy listed in `GATEWAY_TRUSTED_PROXIES` the right-most `X-Forwarded-For` address that
//!   is not itself a trusted proxy (the left part of that header is whatever the client
//!   wrote). A server that does not pass the peer address counts nothing.
//! - **Per user** (`GATEWAY_MAX_CONNECTIONS_PER_USER`, 20): counted from the moment the
//!   user is known (handshake token or in-band `auth`).
//!
//! Both are per gateway process: N gateways admit up to N times as much (a cluster-wide
//! count would put a shared store on every handshake's path; the README says "per gateway
//! process"). Over a cap the handshake answers 429 `too_many_connections`; an in-band
//! `auth` over the user cap is closed with 4005. A slot is freed when its connection ends.
//!
//! Revocation: each gateway subscribes to `control.user.*.revoked` (see
//! `chat_core::sessions`) and closes, with 4004, the user's connections whose token is of
//! an older generation than the notice's, including one whose session was checked (from
//! the session cache, without Postgres) just before the notice came and that attaches
//! after it. The notice is at most once, so it is not the
//! only way: every `GATEWAY_SESSION_RECHECK_MS` (30 s), and at once after every reconnect
//! to NATS (noticed within [`RECONNECT_POLL`]), the gateway reads the accounts of all the
//! users it holds connections of in one batched query and closes, with 4004, every
//! connection whose token's generation is no longer the account's, or whose account is
//! banned or gone. A revocation whose notice this gateway missed therefore closes its
//! sockets within one re-check period (plus one query) while Postgres answers; a missed
//! notice during a NATS outage, within [`RECONNECT_POLL`] plus one query of NATS returning.

use chat_schemas::ws::close;
use chat_schemas::UserId;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::GatewayConfig;

mod revocation;
pub use revocation::{recheck_once, recheck_sessions, watch_revocations, RECONNECT_POLL};

// Shared with the api's per-address limits on sign-in, hence in core.
use crate::outbound::OutboundSender;
pub use chat_core::client_address::{client_address, IpRange};

/// Over a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Address,
    User,
}

impl Full {
    pub fn message(self) -> &'static str {
        match self {
            Full::Address => "too many connections from this address; close one first",
            Full::User => "too many connections for this user; close one first",
        }
    }
}

/// The caps and the open connections they count.
pub struct Admission {
    per_user: usize,
    per_address: usize,
    exempt: Vec<IpRange>,
    tables: Mutex<Tables>,
}

#[derive(Default)]
struct Tables {
    addresses: HashMap<IpAddr, usize>,
    /// Per user, per slot: the connection once it has a queue to close.
    users: HashMap<UserId, HashMap<u64, Option<Attached>>>,
    next_slot: u64,
    /// The generations of the revocation notices heard lately, per user, and when: a
    /// connection whose session was checked (from the session cache) before the notice
    /// came, but that attaches after it, is closed at once (see [`UserSlot::attach`]).
    revoked: HashMap<UserId, (u64, Instant)>,
}

/// How long a heard revocation is remembered for connections still between their session
/// check and [`UserSlot::attach`] (milliseconds, normally).
const REVOKED_MEMORY: Duration = Duration::from_secs(60);

struct Attached {
    generation: u64,
    out: OutboundSender,
}

impl Admission {
    pub fn new(config: &GatewayConfig) -> Arc<Self> {
        Arc::new(Self {
            per_user: config.max_connections_per_user,
            per_address: config.max_connections_per_ip,
            exempt: config.ip_limit_exempt.clone(),
            tables: Mutex::default(),
        })
    }

    /// Counts a connection from `address` (`None`: unknown, not counted), or refuses it.
    pub fn admit_address(self: &Arc<Self>, address: Option<IpAddr>) -> Result<AddressSlot, Full> {
        let address = address.filter(|a| !self.exempt.iter().any(|r| r.contains(*a)));
        if let Some(address) = address {
            let mut tables = self.tables.lock().expect("admission lock");
            let open = tables.addresses.entry(address).or_default();
            if *open >= self.per_address {
                refused(Full::Address);
                return Err(Full::Address);
            }
            *open += 1;
        }
        Ok(AddressSlot {
            admission: self.clone(),
            address,
        })
    }

    /// Counts a connection of `user`, or refuses it.
    pub fn admit_user(self: &Arc<Self>, user: UserId) -> Result<UserSlot, Full> {
        let mut tables = self.tables.lock().expect("admission lock");
        let slot = tables.next_slot;
        let open = tables.users.entry(user).or_default();
        if open.len() >= self.per_user {
            refused(Full::User);
            return Err(Full::User);
        }
        open.insert(slot, None);
        tables.next_slot += 1;
        Ok(UserSlot {
            admission: self.clone(),
            user,
            slot,
        })
    }

    /// Closes `user`'s connections whose token is older than `generation`; answers how many.
    pub fn revoke(&self, user: UserId, generation: u64) -> usize {
        let mut tables = self.tables.lock().expect("admission lock");
        tables
            .revoked
            .retain(|_, (_, heard)| heard.elapsed() < REVOKED_MEMORY);
        let floor = tables.revoked.entry(user).or_insert((0, Instant::now()));
        *floor = (floor.0.max(generation), Instant::now());
        let Some(open) = tables.users.get(&user) else {
            return 0;
        };
        let mut closed = 0;
        for attached in open.values().flatten() {
            if attached.generation < generation {
                attached.out.close(
                    close::SESSION_REVOKED,
                    "session ended: logged out or banned",
                );
                closed += 1;
            }
        }
        closed
    }

    /// Closes `user`'s connections whose token is not of `generation` (`u64::MAX`: all);
    /// answers how many.
    pub fn revoke_other_than(&self, user: UserId, generation: u64) -> usize {
        let tables = self.tables.lock().expect("admission lock");
        let Some(open) = tables.users.get(&user) else {
            return 0;
        };
        let mut closed = 0;
        for attached in open.values().flatten() {
            if attached.generation != generation {
                attached.out.close(
                    close::SESSION_REVOKED,
                    "session ended: logged out or banned",
                );
                closed += 1;
            }
        }
        closed
    }

    /// The users holding open connections here.
    pub fn open_users(&self) -> Vec<UserId> {
        let tables = self.tables.lock().expect("admission lock");
        tables.users.keys().copied().collect()
    }

    /// Open connections of `user` here.
    pub fn connections_of(&self, user: UserId) -> usize {
        let tables = self.tables.lock().expect("admission lock");
        tables.users.get(&user).map_or(0, HashMap::len)
    }
}

fn refused(cap: Full) {
    let reason = match cap {
        Full::Address => "address",
        Full::User => "user",
    };
    metrics::counter!("chat_gateway_connections_refused_total", "cap" => reason).increment(1);
}

/// A connection counted against its address; freed when dropped.
pub struct AddressSlot {
    admission: Arc<Admission>,
    address: Option<IpAddr>,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let Some(address) = self.address else { return };
        let mut tables = self.admission.tables.lock().expect("admission lock");
        if let Some(open) = tables.addresses.get_mut(&address) {
            *open -= 1;
            if *open == 0 {
                tables.addresses.remove(&address);
            }
        }
    }
}

/// A connection counted against its user; freed when dropped.
pub struct UserSlot {
    admission: Arc<Admission>,
    user: UserId,
    slot: u64,
}

impl UserSlot {
    /// Makes the connection reachable by revocation: a notice of a newer generation than
    /// `generation` closes it through `out`.
    pub fn attach(&self, generation: u64, out: &OutboundSender) {
        let mut tables = self.admission.tables.lock().expect("admission lock");
        // A notice heard since the session was checked (the check may have come from the
        // cache just before it): the session has ended.
        if tables
            .revoked
            .get(&self.user)
            .is_some_and(|(floor, _)| generation < *floor)
        {
            out.close(
                close::SESSION_REVOKED,
                "session ended: logged out or banned",
            );
            return;
        }
        if let Some(slot) = tables
            .users
            .get_mut(&self.user)
            .and_then(|open| open.get_mut(&self.slot))
        {
            *slot = Some(Attached {
                generation,
                out: out.clone(),
            });
        }
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut tables = self.admission.tables.lock().expect("admission lock");
        if let Some(open) = tables.users.get_mut(&self.user) {
            open.remove(&self.slot);
            if open.is_empty() {
                tables.users.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_match_by_prefix_and_family() {
        let loopback = IpRange::parse_list("127.0.0.0/8, ::1").unwrap();
        let hit = |a: &str| loopback.iter().any(|r| r.contains(ip(a)));
        assert!(hit("127.0.0.1") && hit("127.3.2.1") && hit("::1"));
        assert!(hit("::ffff:127.0.0.1"), "IPv4-mapped IPv6 counts as IPv4");
        assert!(!hit("128.0.0.1") && !hit("10.0.0.1") && !hit("::2"));
        assert!(IpRange::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(IpRange::parse("10.0.0.0/33").is_err());
        assert!(IpRange::parse("example.com").is_err());
        assert_eq!(IpRange::parse_list("").unwrap(), vec![]);
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let trusted = IpRange::parse_list("10.0.0.0/8").unwrap();
        let peer = Some(ip("10.0.0.5"));
        // The client wrote "1.1.1.1" itself; the proxy appended the real peer, 2.2.2.2.
        let forwarded = ["1.1.1.1, 2.2.2.2"];
        assert_eq!(
            client_address(peer, forwarded.into_iter(), &trusted),
            Some(ip("2.2.2.2"))
        );
        // Two proxies in a row, the header split over two lines.
        let forwarded = ["1.1.1.1, 2.2.2.2", "10.0.0.9"];
        assert_eq!(
            client_address(peer, forwarded.into_iter(), &trusted),
            Some(ip("2.2.2.2"))
        );
        // An untrusted peer's header is ignored.
        assert_eq!(
            client_address(Some(ip("3.3.3.3")), ["1.1.1.1"].into_iter(), &trusted),
            Some(ip("3.3.3.3"))
        );
        // Garbage stops the walk at the last good address.
        assert_eq!(
            client_address(peer, ["nonsense"].into_iter(), &trusted),
            Some(ip("10.0.0.5"))
        );
        assert_eq!(client_address(None, [].into_iter(), &trusted), None);
    }

    #[test]
    fn slots_are_capped_and_freed_on_drop() {
        let admission = Admission::new(&GatewayConfig {
            max_connections_per_user: 2,
            max_connections_per_ip: 1,
            ..GatewayConfig::default()
        });
        let user = UserId::generate();
        let a = admission.admit_user(user).unwrap();
        let _b = admission.admit_user(user).unwrap();
        assert_eq!(admission.admit_user(user).err(), Some(Full::User));
        drop(a);
        assert!(admission.admit_user(user).is_ok());

        let remote = Some(ip("192.0.2.1"));
        let slot = admission.admit_address(remote).unwrap();
        assert_eq!(admission.admit_address(remote).err(), Some(Full::Address));
        assert!(admission.admit_address(Some(ip("192.0.2.2"))).is_ok());
        assert!(admission.admit_address(Some(ip("127.0.0.1"))).is_ok());
        assert!(admission.admit_address(Some(ip("127.0.0.1"))).is_ok());
        assert!(admission.admit_address(None).is_ok());
        drop(slot);
        assert!(admission.admit_address(remote).is_ok());
    }
}
