//! Folding the people stream into `profiles`: each `profile.changed` event is the user's
//! profile as it now is, so applying it is an upsert that an older event never wins (the
//! row keeps the sequence it came from), and applying one twice changes nothing.

use chat_core::database::DbError;
use chat_schemas::events::{Envelope, EventBody};
use deadpool_postgres::Transaction;

/// Applies an event of the people stream.
pub async fn apply_profile_event(
    tx: &Transaction<'_>,
    seq: i64,
    event: &Envelope,
) -> Result<(), DbError> {
    let (EventBody::ProfileChanged { display_name }, Some(user)) = (&event.body, event.user_id)
    else {
        tracing::error!(
            seq,
            kind = event.body.type_name(),
            "not a profile event, on a profile subject; skipped"
        );
        return Ok(());
    };
    tx.execute(
        "INSERT INTO profiles (user_id, display_name, seq, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE \
         SET display_name = EXCLUDED.display_name, seq = EXCLUDED.seq, \
             updated_at = EXCLUDED.updated_at \
         WHERE profiles.seq < EXCLUDED.seq",
        &[&user.0, display_name, &seq, &event.occurred_at],
    )
    .await?;
    Ok(())
}
