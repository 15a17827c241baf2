//! The streams, created idempotently at start-up and read back to verify.
//!
//! - **rooms** (`CHAT_ROOMS`): `chat.room.<roomId>`, file storage, kept for ever (history is
//!   rebuilt from it), RePublished to `live.room.<roomId>`.
//! - **users** (`CHAT_USERS`): `chat.user.<userId>` (status, typing, connections opened and
//!   closed) and `chat.gateway.<gatewayId>` (gateway heartbeats), file storage, short
//!   retention (presence is folded into Postgres; only recent changes matter live); user
//!   subjects are RePublished to `live.user.<userId>`.
//! - **people** (`CHAT_PEOPLE`): `chat.profile.<userId>`, file storage, no age limit and one
//!   event per subject: a keyed last-value store of each user's profile, kept as long as the
//!   account (the latest profile is all a rebuild needs), RePublished to
//!   `live.profile.<userId>`.
//! - **reads** (`CHAT_READS`): `chat.read.<roomId>.<userId>`, file storage, no age limit and
//!   one event per subject: each user's read position in each room (a keyed last-value
//!   store; only the latest position matters), RePublished to `live.read.<roomId>.<userId>`.
//!
//! The server this project runs on may be older than the client library: a setting it does
//! not know is dropped without an error. So after creating or updating a stream we read its
//! configuration back and stop start-up on any difference.

use anyhow::{bail, Context as _};
use async_nats::jetstream::{
    self,
    stream::{Config, DiscardPolicy, Republish, RetentionPolicy, StorageType},
};
use std::time::Duration;

use super::subjects;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Rooms,
    Users,
    People,
    Reads,
}

/// Names and limits of the streams (`NATS_*` variables).
#[derive(Debug, Clone)]
pub struct StreamSettings {
    pub rooms_stream: String,
    pub users_stream: String,
    pub people_stream: String,
    pub reads_stream: String,
    /// R1 on one node, R3 on a cluster.
    pub replicas: usize,
    /// Window in which a repeated `Nats-Msg-Id` is recognised as a duplicate.
    pub duplicate_window: Duration,
    /// How long status events are kept.
    pub users_max_age: Duration,
    /// How many status events per user are kept.
    pub users_max_per_subject: i64,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            rooms_stream: "CHAT_ROOMS".into(),
            users_stream: "CHAT_USERS".into(),
            people_stream: "CHAT_PEOPLE".into(),
            reads_stream: "CHAT_READS".into(),
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            users_max_age: Duration::from_secs(86_400),
            users_max_per_subject: 100,
        }
    }
}

impl StreamSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        use crate::env::var_or;
        let d = Self::default();
        Ok(Self {
            rooms_stream: var_or("NATS_ROOMS_STREAM", d.rooms_stream)?,
            users_stream: var_or("NATS_USERS_STREAM", d.users_stream)?,
            people_stream: var_or("NATS_PEOPLE_STREAM", d.people_stream)?,
            reads_stream: var_or("NATS_READS_STREAM", d.reads_stream)?,
            replicas: var_or("NATS_REPLICAS", d.replicas)?,
            duplicate_window: Duration::from_secs(var_or(
                "NATS_DUPLICATE_WINDOW_SECS",
                d.duplicate_window.as_secs(),
            )?),
            users_max_age: Duration::from_secs(var_or(
                "NATS_USERS_MAX_AGE_SECS",
                d.users_max_age.as_secs(),
            )?),
            users_max_per_subject: var_or("NATS_USERS_MAX_PER_SUBJECT", d.users_max_per_subject)?,
        })
    }

    pub fn name(&self, kind: StreamKind) -> &str {
        match kind {
            StreamKind::Rooms => &self.rooms_stream,
            StreamKind::Users => &self.users_stream,
            StreamKind::People => &self.people_stream,
            StreamKind::Reads => &self.reads_stream,
        }
    }

    /// The configuration we want the server to hold for `kind`.
    pub fn config_for(&self, kind: StreamKind) -> Config {
        let (subject_prefix, live_prefix) = match kind {
            StreamKind::Rooms => (subjects::ROOM_PREFIX, subjects::LIVE_ROOM_PREFIX),
            StreamKind::Users => (subjects::USER_PREFIX, subjects::LIVE_USER_PREFIX),
            StreamKind::People => (subjects::PROFILE_PREFIX, subjects::LIVE_PROFILE_PREFIX),
            StreamKind::Reads => (subjects::READ_PREFIX, subjects::LIVE_READ_PREFIX),
        };
        let (max_age, max_per_subject) = match kind {
            StreamKind::Rooms => (Duration::ZERO, -1),
            StreamKind::Users => (self.users_max_age, self.users_max_per_subject),
            // Only a user's latest profile matters, and it must outlive any age limit.
            // Only the latest position per (room, user) matters, for as long as the room.
            StreamKind::People | StreamKind::Reads => (Duration::ZERO, 1),
        };
        // Read subjects have two tokens (room, user); every other kind one.
        let tokens = if kind == StreamKind::Reads { ">" } else { "*" };
        let mut stored = vec![format!("{subject_prefix}.{tokens}")];
        if kind == StreamKind::Users {
            // Gateway heartbeats share the users stream so that the projector sees them in
            // one order with the connection events they vouch for.
            stored.push(format!("{}.*", subjects::GATEWAY_PREFIX));
        }
        Config {
            name: self.name(kind).to_string(),
            subjects: stored,
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::Old,
            max_age,
            max_messages_per_subject: max_per_subject,
            duplicate_window: self.duplicate_window,
            num_replicas: self.replicas,
            allow_direct: true,
            republish: Some(republish(kind, subject_prefix, live_prefix)),
            ..Default::default()
        }
    }
}

/// Where a stream's events are republished for the live path: `chat.<x>.*` to
/// `live.<x>.{{wildcard(1)}}`; read positions keep both tokens, with a full wildcard
/// (`chat.read.>` to `live.read.>`, which 2.9 accepts and stores as given).
fn republish(kind: StreamKind, subject_prefix: &str, live_prefix: &str) -> Republish {
    let (source, destination) = if kind == StreamKind::Reads {
        (format!("{subject_prefix}.>"), format!("{live_prefix}.>"))
    } else {
        (
            format!("{subject_prefix}.*"),
            format!("{live_prefix}.{{{{wildcard(1)}}}}"),
        )
    };
    Republish {
        source,
        destination,
        headers_only: false,
    }
}

/// Creates or updates the stream to `wanted`, then verifies what the server stored.
pub async fn ensure(js: &jetstream::Context, wanted: &Config) -> anyhow::Result<()> {
    match js.get_stream(&wanted.name).await {
        Ok(mut stream) => {
            let current = stream.info().await?.config.clone();
            if !differences(wanted, &current).is_empty() {
                js.update_stream(wanted.clone())
                    .await
                    .with_context(|| format!("updating stream {}", wanted.name))?;
            }
        }
        Err(_) => create(js, wanted).await?,
    }
    let mut stream = js
        .get_stream(&wanted.name)
        .await
        .with_context(|| format!("reading back stream {}", wanted.name))?;
    let stored = stream.info().await?.config.clone();
    let diffs = differences(wanted, &stored);
    if !diffs.is_empty() {
        bail!(
            "stream {} does not hold the configuration we asked for (is the NATS server too \
             old for a setting, or was the stream changed by hand?): {}",
            wanted.name,
            diffs.join("; ")
        );
    }
    tracing::info!(stream = %wanted.name, "stream verified");
    Ok(())
}

/// How long a stream's creation waits for a NATS cluster that is still forming.
const CLUSTER_FORMING: std::time::Duration = std::time::Duration::from_secs(30);

/// Creates the stream. A cluster whose nodes have not all met yet answers "no suitable
/// peers for placement" for a replicated stream: that is retried for [`CLUSTER_FORMING`]
/// (every process of a fleet may start together with its NATS nodes); any other refusal
/// is an error at once.
async fn create(js: &jetstream::Context, wanted: &Config) -> anyhow::Result<()> {
    use async_nats::jetstream::context::CreateStreamErrorKind;
    use async_nats::jetstream::ErrorCode;
    let deadline = std::time::Instant::now() + CLUSTER_FORMING;
    loop {
        match js.create_stream(wanted.clone()).await {
            Ok(_) => return Ok(()),
            Err(e)
                if matches!(e.kind(), CreateStreamErrorKind::JetStream(ref j)
                    if j.error_code() == ErrorCode::CLUSTER_NO_PEERS)
                    && std::time::Instant::now() < deadline =>
            {
                tracing::info!(stream = %wanted.name, "NATS cluster still forming; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(e) => {
                return Err(e).with_context(|| format!("creating stream {}", wanted.name));
            }
        }
    }
}

/// Every setting we rely on whose stored value differs from the wanted one.
pub fn differences(wanted: &Config, stored: &Config) -> Vec<String> {
    let mut out = Vec::new();
    macro_rules! check {
        ($field:ident) => {
            if wanted.$field != stored.$field {
                out.push(format!(
                    "{}: wanted {:?}, server has {:?}",
                    stringify!($field),
                    wanted.$field,
                    stored.$field
                ));
            }
        };
    }
    check!(subjects);
    check!(storage);
    check!(retention);
    check!(discard);
    check!(max_age);
    check!(max_messages_per_subject);
    check!(duplicate_window);
    check!(num_replicas);
    check!(allow_direct);
    check!(republish);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> StreamSettings {
        StreamSettings {
            rooms_stream: "R".into(),
            users_stream: "U".into(),
            people_stream: "P".into(),
            reads_stream: "RD".into(),
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            users_max_age: Duration::from_secs(60),
            users_max_per_subject: 10,
        }
    }

    #[test]
    fn a_dropped_republish_is_reported() {
        let wanted = settings().config_for(StreamKind::Rooms);
        let mut stored = wanted.clone();
        stored.republish = None;
        let diffs = differences(&wanted, &stored);
        assert_eq!(diffs.len(), 1);
        assert!(diffs[0].starts_with("republish"));
    }

    #[test]
    fn the_people_stream_keeps_one_profile_per_user_for_ever() {
        let wanted = settings().config_for(StreamKind::People);
        assert_eq!(wanted.subjects, ["chat.profile.*"]);
        assert_eq!(wanted.max_messages_per_subject, 1);
        assert_eq!(wanted.max_age, Duration::ZERO);
        assert_eq!(wanted.storage, StorageType::File);
        let mut stored = wanted.clone();
        stored.max_messages_per_subject = -1;
        assert_eq!(differences(&wanted, &stored).len(), 1);
    }

    #[test]
    fn the_reads_stream_keeps_one_position_per_room_and_user_for_ever() {
        let wanted = settings().config_for(StreamKind::Reads);
        assert_eq!(wanted.subjects, ["chat.read.>"]);
        assert_eq!(wanted.max_messages_per_subject, 1);
        assert_eq!(wanted.max_age, Duration::ZERO);
        let republish = wanted.republish.clone().unwrap();
        assert_eq!(
            (republish.source.as_str(), republish.destination.as_str()),
            ("chat.read.>", "live.read.>")
        );
    }

    #[test]
    fn identical_configs_have_no_differences() {
        let wanted = settings().config_for(StreamKind::Users);
        assert!(differences(&wanted, &wanted.clone()).is_empty());
    }
}
