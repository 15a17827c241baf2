//! Splitting the room stream between projector instances.
//!
//! Rooms hash (FNV-1a of the room id) into `PROJECTOR_PARTITIONS` partitions; a room's
//! events all belong to one partition, and a partition is applied in stream order, so
//! per-room order holds whoever applies it. Each partition has its own checkpoint row
//! (`CHAT_ROOMS/<i>of<n>`; plain `CHAT_ROOMS` when there is one partition). The users
//! stream, the people stream and the reads stream are a unit each. Which instance applies which unit is decided by leases
//! (see [`crate::lease`]).

use chat_core::eventlog::{StreamKind, StreamSettings};
use chat_schemas::RoomId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partition {
    pub index: u32,
    pub count: u32,
}

impl Partition {
    /// The partition `room` belongs to among `count`.
    pub fn of(room: &RoomId, count: u32) -> u32 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in room.as_str().bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        (hash % u64::from(count.max(1))) as u32
    }

    pub fn owns(&self, room: &RoomId) -> bool {
        Self::of(room, self.count) == self.index
    }
}

/// One unit of projection work: a stream, or one partition of the room stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Share {
    pub kind: StreamKind,
    pub partition: Option<Partition>,
}

impl Share {
    /// Every unit of a deployment with `partitions` room partitions.
    pub fn all(partitions: u32) -> Vec<Share> {
        let mut shares: Vec<Share> = if partitions <= 1 {
            vec![Share {
                kind: StreamKind::Rooms,
                partition: None,
            }]
        } else {
            (0..partitions)
                .map(|index| Share {
                    kind: StreamKind::Rooms,
                    partition: Some(Partition {
                        index,
                        count: partitions,
                    }),
                })
                .collect()
        };
        shares.push(Share {
            kind: StreamKind::Users,
            partition: None,
        });
        shares.push(Share {
            kind: StreamKind::People,
            partition: None,
        });
        shares.push(Share {
            kind: StreamKind::Reads,
            partition: None,
        });
        shares
    }

    /// The row of `projector_checkpoints` this unit commits.
    pub fn checkpoint_key(&self, settings: &StreamSettings) -> String {
        let stream = settings.name(self.kind);
        match self.partition {
            None => stream.to_owned(),
            Some(p) => format!("{stream}/{}of{}", p.index, p.count),
        }
    }

    /// The Postgres advisory lock that leases this unit.
    pub fn lock_key(&self, settings: &StreamSettings) -> i64 {
        let key = self.checkpoint_key(settings);
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in format!("chat-projector:{key}").bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_room_belongs_to_exactly_one_partition() {
        for i in 0..200 {
            let room = RoomId::parse(&format!("room-{i}")).unwrap();
            let owners = (0..4)
                .filter(|&index| Partition { index, count: 4 }.owns(&room))
                .count();
            assert_eq!(owners, 1);
        }
    }

    #[test]
    fn rooms_spread_over_the_partitions() {
        let mut counts = [0; 4];
        for i in 0..400 {
            counts[Partition::of(&RoomId::generate(), 4) as usize] += 1;
            let _ = i;
        }
        assert!(counts.iter().all(|&c| c > 50), "{counts:?}");
    }

    #[test]
    fn one_partition_keeps_the_plain_checkpoint_name() {
        let settings = StreamSettings::default();
        let keys: Vec<String> = Share::all(1)
            .iter()
            .map(|s| s.checkpoint_key(&settings))
            .collect();
        assert_eq!(
            keys,
            ["CHAT_ROOMS", "CHAT_USERS", "CHAT_PEOPLE", "CHAT_READS"]
        );
        let keys: Vec<String> = Share::all(2)
            .iter()
            .map(|s| s.checkpoint_key(&settings))
            .collect();
        assert_eq!(
            keys,
            [
                "CHAT_ROOMS/0of2",
                "CHAT_ROOMS/1of2",
                "CHAT_USERS",
                "CHAT_PEOPLE",
                "CHAT_READS"
            ]
        );
    }
}
