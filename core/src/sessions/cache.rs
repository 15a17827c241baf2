//! The remembered account states that let a gateway check sessions through a Postgres
//! outage and skip a database read for a user it read moments ago (the rules are in the
//! parent module's comment). Pure bookkeeping, tested here without services.

use super::AccountState;
use chat_schemas::UserId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Account states as last read from Postgres (see the module comment).
pub(super) struct SessionCache {
    lifetime: Duration,
    /// How old a state may be to answer a check without Postgres (zero: never).
    trust: Duration,
    entries: Mutex<HashMap<UserId, Entry>>,
}

struct Entry {
    /// `None`: no such account.
    state: Option<AccountState>,
    read_at: Instant,
    /// The NATS connection's connect count when the read started, if it was connected:
    /// the state is trusted only while no reconnect happened since (no notice missed
    /// for lack of a connection).
    epoch: Option<u64>,
}

/// What the cache alone can say about a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quick {
    Live,
    Revoked,
}

impl SessionCache {
    pub(super) fn new(lifetime: Duration, trust: Duration) -> Self {
        SessionCache {
            lifetime,
            trust,
            entries: Mutex::default(),
        }
    }

    pub(super) fn record(&self, user: UserId, state: Option<AccountState>, epoch: Option<u64>) {
        let mut entries = self.entries.lock().expect("session cache lock");
        let generation = entries
            .get(&user)
            .and_then(|e| e.state.map(|s| s.generation));
        // A notice may have raised the generation past what a slower read returned.
        let state = state.map(|s| AccountState {
            generation: s.generation.max(generation.unwrap_or(0)),
            ..s
        });
        entries.insert(
            user,
            Entry {
                state,
                read_at: Instant::now(),
                epoch,
            },
        );
    }

    pub(super) fn fresh(&self, user: UserId) -> Option<Option<AccountState>> {
        let entries = self.entries.lock().expect("session cache lock");
        entries
            .get(&user)
            .filter(|e| e.read_at.elapsed() < self.lifetime)
            .map(|e| e.state)
    }

    /// The answer for a token of `generation` without Postgres, if the cache may give one
    /// (`epoch`: the NATS connection's now; see the module comment).
    pub(super) fn quick(&self, user: UserId, generation: u64, epoch: Option<u64>) -> Option<Quick> {
        let entries = self.entries.lock().expect("session cache lock");
        let entry = entries.get(&user)?;
        let state = entry.state?;
        if generation < state.generation {
            return Some(Quick::Revoked);
        }
        let trusted = entry.read_at.elapsed() < self.trust
            && epoch.is_some()
            && entry.epoch == epoch
            && state.admits(generation);
        trusted.then_some(Quick::Live)
    }

    pub(super) fn revoked(&self, user: UserId, generation: u64) {
        let mut entries = self.entries.lock().expect("session cache lock");
        if let Some(Entry {
            state: Some(state), ..
        }) = entries.get_mut(&user)
        {
            state.generation = state.generation.max(generation);
        }
    }

    pub(super) fn prune(&self) {
        let keep = self.lifetime.max(self.trust);
        let mut entries = self.entries.lock().expect("session cache lock");
        entries.retain(|_, e| e.read_at.elapsed() < keep);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(trust: Duration) -> SessionCache {
        SessionCache::new(Duration::from_secs(900), trust)
    }

    fn live(generation: u64) -> Option<AccountState> {
        Some(AccountState {
            generation,
            banned: false,
        })
    }

    #[test]
    fn only_a_recent_live_state_read_on_the_same_connection_answers_alone() {
        let (cache, user) = (cache(Duration::from_secs(30)), UserId::generate());
        assert_eq!(cache.quick(user, 1, Some(1)), None, "never read");
        cache.record(user, live(1), Some(1));
        assert_eq!(cache.quick(user, 1, Some(1)), Some(Quick::Live));
        // NATS reconnected since the read, or is down: a notice may have been missed.
        assert_eq!(cache.quick(user, 1, Some(2)), None);
        assert_eq!(cache.quick(user, 1, None), None);
        // A newer token than the state read (a login after a missed logout notice).
        assert_eq!(cache.quick(user, 2, Some(1)), None);
        // A notice heard: older tokens are refused without Postgres, at any age.
        cache.revoked(user, 2);
        assert_eq!(cache.quick(user, 1, Some(1)), Some(Quick::Revoked));
        assert_eq!(cache.quick(user, 2, Some(1)), Some(Quick::Live));
        // Banned, or no account: Postgres is asked.
        let banned = Some(AccountState {
            generation: 3,
            banned: true,
        });
        cache.record(user, banned, Some(1));
        assert_eq!(cache.quick(user, 3, Some(1)), None);
        cache.record(user, None, Some(1));
        assert_eq!(cache.quick(user, 3, Some(1)), None);
        // Read without a connection: never trusted.
        cache.record(user, live(4), None);
        assert_eq!(cache.quick(user, 4, None), None);
    }

    #[test]
    fn a_state_older_than_the_trust_bound_is_read_again() {
        let (cache, user) = (cache(Duration::from_millis(20)), UserId::generate());
        cache.record(user, live(1), Some(1));
        assert_eq!(cache.quick(user, 1, Some(1)), Some(Quick::Live));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(cache.quick(user, 1, Some(1)), None);
        let off = self::cache(Duration::ZERO);
        off.record(user, live(1), Some(1));
        assert_eq!(off.quick(user, 1, Some(1)), None, "trust off");
    }
}
