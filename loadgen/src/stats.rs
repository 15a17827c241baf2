//! What one measured step counted: sends, acks, refusals, deliveries (unique and
//! duplicated) per room, and HDR histograms of delivery and ack latency in microseconds.
//! Workers record into shards (one lock per shard, so connections on different threads
//! rarely meet) and send their totals to the coordinator, which merges them.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

/// Latencies up to 10 minutes, 3 significant digits.
const MAX_MICROS: u64 = 600_000_000;

/// A latency histogram that travels between processes as `(value, count)` pairs.
#[derive(Debug, Clone)]
pub struct Latency(pub Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Self(Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds"))
    }
}

impl Latency {
    pub fn record(&mut self, micros: u64) {
        self.0.saturating_record(micros.clamp(1, MAX_MICROS));
    }

    pub fn merge(&mut self, other: &Latency) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    /// The value at quantile `q` in milliseconds (0 when empty).
    pub fn ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.value_at_quantile(q) as f64 / 1000.0
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }
}

impl Serialize for Latency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let pairs: Vec<(u64, u64)> = self
            .0
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        pairs.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Latency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs: Vec<(u64, u64)> = Vec::deserialize(d)?;
        let mut latency = Latency::default();
        for (value, count) in pairs {
            let _ = latency.0.record_n(value.clamp(1, MAX_MICROS), count);
        }
        Ok(latency)
    }
}

/// Totals of one step (or of the connect phase, or of a reconnect storm).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StepStats {
    /// Sends written to a socket.
    pub sent: u64,
    /// Sends the server confirmed (for a server without acks: equal to `sent`).
    pub acked: u64,
    /// Sends the server refused, by error code.
    pub refused: BTreeMap<String, u64>,
    /// Sends not made because the connection's queue in the load generator was full or
    /// the connection was gone.
    pub not_sent: u64,
    /// Deliveries received, counting duplicates.
    pub deliveries: u64,
    /// The same message received twice by the same connection.
    pub duplicates: u64,
    /// Deliveries that belong to an earlier step (they arrived after its drain).
    pub late: u64,
    /// Confirmed sends per room index.
    pub acked_per_room: HashMap<u32, u64>,
    /// Distinct deliveries per room index.
    pub unique_per_room: HashMap<u32, u64>,
    pub delivery_latency: Latency,
    pub ack_latency: Latency,
    /// Other errors by kind (connect failures, server error frames, closes).
    pub errors: BTreeMap<String, u64>,
    /// Reconnect storm: events owed to resuming clients, events they received, clients
    /// that had everything, and the time from the storm's start until each had it.
    pub replay_owed: u64,
    pub replay_received: u64,
    pub resumed: u64,
    pub resume_latency: Latency,
    /// Events a client lacked although its `resumed` said `recovered: true`.
    pub replay_missing: u64,
}

impl StepStats {
    pub fn merge(&mut self, other: &StepStats) {
        self.sent += other.sent;
        self.acked += other.acked;
        self.not_sent += other.not_sent;
        self.deliveries += other.deliveries;
        self.duplicates += other.duplicates;
        self.late += other.late;
        for (code, n) in &other.refused {
            *self.refused.entry(code.clone()).or_default() += n;
        }
        for (kind, n) in &other.errors {
            *self.errors.entry(kind.clone()).or_default() += n;
        }
        for (room, n) in &other.acked_per_room {
            *self.acked_per_room.entry(*room).or_default() += n;
        }
        for (room, n) in &other.unique_per_room {
            *self.unique_per_room.entry(*room).or_default() += n;
        }
        self.delivery_latency.merge(&other.delivery_latency);
        self.ack_latency.merge(&other.ack_latency);
        self.replay_owed += other.replay_owed;
        self.replay_received += other.replay_received;
        self.resumed += other.resumed;
        self.resume_latency.merge(&other.resume_latency);
        self.replay_missing += other.replay_missing;
    }

    pub fn unique_deliveries(&self) -> u64 {
        self.unique_per_room.values().sum()
    }

    /// Deliveries owed but not received: for each room, every confirmed send times the
    /// room's members (`members_of`), minus the distinct deliveries seen there.
    pub fn lost(&self, members_of: impl Fn(u32) -> u64) -> u64 {
        self.acked_per_room
            .iter()
            .map(|(room, acked)| {
                let owed = acked * members_of(*room);
                owed.saturating_sub(self.unique_per_room.get(room).copied().unwrap_or(0))
            })
            .sum()
    }
}

struct Shard {
    stats: StepStats,
    /// (receiver, sender, n) already delivered in this step.
    seen: HashSet<(u32, u32, u64)>,
}

/// The recorder of the current step, shared by a worker's connections.
pub struct Recorder {
    shards: Vec<Mutex<Shard>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        let shards = (0..64)
            .map(|_| {
                Mutex::new(Shard {
                    stats: StepStats::default(),
                    seen: HashSet::new(),
                })
            })
            .collect();
        Self { shards }
    }

    fn with<R>(&self, conn: u32, f: impl FnOnce(&mut Shard) -> R) -> R {
        let mut shard = self.shards[conn as usize % self.shards.len()]
            .lock()
            .expect("recorder lock");
        f(&mut shard)
    }

    /// A delivery to connection `receiver` in room `room`, `latency_us` after it was sent.
    pub fn delivered(&self, receiver: u32, room: u32, sender: u32, n: u64, latency_us: u64) {
        self.with(receiver, |shard| {
            shard.stats.deliveries += 1;
            if shard.seen.insert((receiver, sender, n)) {
                *shard.stats.unique_per_room.entry(room).or_default() += 1;
                shard.stats.delivery_latency.record(latency_us);
            } else {
                shard.stats.duplicates += 1;
            }
        })
    }

    pub fn late(&self, receiver: u32) {
        self.with(receiver, |shard| shard.stats.late += 1)
    }

    pub fn sent(&self, conn: u32) {
        self.with(conn, |shard| shard.stats.sent += 1)
    }

    pub fn not_sent(&self, conn: u32) {
        self.with(conn, |shard| shard.stats.not_sent += 1)
    }

    pub fn acked(&self, conn: u32, room: u32, latency_us: Option<u64>) {
        self.with(conn, |shard| {
            shard.stats.acked += 1;
            *shard.stats.acked_per_room.entry(room).or_default() += 1;
            if let Some(us) = latency_us {
                shard.stats.ack_latency.record(us);
            }
        })
    }

    pub fn refused(&self, conn: u32, code: &str) {
        self.with(conn, |shard| {
            *shard.stats.refused.entry(code.to_owned()).or_default() += 1
        })
    }

    /// One client's resume: `owed` missed events, `received` of them, and when it had
    /// them all, how long after the storm began.
    pub fn replayed(&self, conn: u32, owed: u64, received: u64, done_after_us: Option<u64>) {
        self.with(conn, |shard| {
            shard.stats.replay_owed += owed;
            shard.stats.replay_received += received.min(owed);
            if let Some(us) = done_after_us {
                shard.stats.resumed += 1;
                shard.stats.resume_latency.record(us);
            }
        })
    }

    pub fn missing(&self, conn: u32, events: u64) {
        self.with(conn, |shard| shard.stats.replay_missing += events)
    }

    pub fn error(&self, conn: u32, kind: &str) {
        self.with(conn, |shard| {
            *shard.stats.errors.entry(kind.to_owned()).or_default() += 1
        })
    }

    /// The totals so far, and a fresh start for the next step.
    pub fn take(&self) -> StepStats {
        let mut total = StepStats::default();
        for shard in &self.shards {
            let mut shard = shard.lock().expect("recorder lock");
            total.merge(&shard.stats);
            shard.stats = StepStats::default();
            shard.seen.clear();
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_losses_are_counted_per_room() {
        let recorder = Recorder::new();
        recorder.acked(1, 7, Some(500));
        recorder.acked(1, 7, Some(700));
        recorder.delivered(1, 7, 1, 1, 1000);
        recorder.delivered(1, 7, 1, 1, 1000);
        recorder.delivered(2, 7, 1, 1, 3000);
        recorder.delivered(2, 7, 1, 2, 2000);
        let stats = recorder.take();
        assert_eq!(stats.deliveries, 4);
        assert_eq!(stats.duplicates, 1);
        assert_eq!(stats.unique_deliveries(), 3);
        // Two sends into a room of two members owe four deliveries; three arrived.
        assert_eq!(stats.lost(|_| 2), 1);
        assert_eq!(stats.ack_latency.count(), 2);
        assert!(recorder.take().deliveries == 0, "take starts afresh");
    }

    #[test]
    fn histograms_survive_the_trip_between_processes() {
        let mut stats = StepStats::default();
        for us in [100, 2_000, 40_000] {
            stats.delivery_latency.record(us);
        }
        let json = serde_json::to_string(&stats).unwrap();
        let back: StepStats = serde_json::from_str(&json).unwrap();
        assert_eq!(back.delivery_latency.count(), 3);
        assert!((back.delivery_latency.ms(1.0) - 40.0).abs() < 0.1);
    }
}
