//! Read positions, live: every `read.moved` event is RePublished on
//! `live.read.<roomId>.<userId>`; this gateway subscribes once (`live.read.>`, like
//! presence) and for each one
//!
//! - sends `readPosition {roomId, lastReadSeq}` to every local connection of the reader
//!   through their inbox ([`InboxRelay::deliver`]: after `hello`, the one that sent `read`
//!   included), so every device of the user shows the same unread state;
//! - sends `receipt {roomId, userId, seq}` to the local connections subscribed to that
//!   room, except the reader's, throttled per (room, reader) by [`ReceiptThrottle`], and
//!   only in rooms within the presence member bound (rooms too large for per-member
//!   presence get no receipts: "seen by" hundreds of people is noise, and the fan-out
//!   would be members × readers).
//!
//! Subscribers of a room are its members (fan-out drops a connection on `member.left`),
//! so a receipt never reaches anyone outside the room. The throttle is per gateway: a
//! client connected to one gateway sees at most one receipt per second per reader.

use async_nats::Client;
use chat_core::eventlog::subjects;
use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::ws::ServerFrame;
use futures::StreamExt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::fanout::Fanout;
use crate::frames;
use crate::inbox::InboxRelay;
use crate::receipts::{Receipt, ReceiptThrottle};

#[derive(Default)]
pub struct ReadRelay {
    throttle: Mutex<ReceiptThrottle>,
}

impl ReadRelay {
    /// Subscribes to read positions; runs until the connection ends.
    pub async fn run(
        self: Arc<Self>,
        client: Client,
        fanout: Arc<Fanout>,
        inbox: Arc<InboxRelay>,
    ) -> Result<(), async_nats::Error> {
        let mut moves = client
            .subscribe(format!("{}.>", subjects::LIVE_READ_PREFIX))
            .await?;
        loop {
            let next_due = self.throttle.lock().expect("reads lock").next_due();
            let wait = async {
                match next_due {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                message = moves.next() => {
                    let Some(message) = message else { return Ok(()) };
                    let Some(receipt) = read_moved(&message.payload) else {
                        tracing::warn!(subject = %message.subject, "unreadable read position; skipped");
                        continue;
                    };
                    inbox.deliver(receipt.reader, &ServerFrame::ReadPosition {
                        room_id: receipt.room.to_string(),
                        last_read_seq: receipt.seq,
                    });
                    let now = self.throttle.lock().expect("reads lock").offer(receipt, Instant::now());
                    if let Some(receipt) = now {
                        send_receipt(&fanout, receipt);
                    }
                }
                () = wait => {
                    let due = self.throttle.lock().expect("reads lock").due(Instant::now());
                    for receipt in due {
                        send_receipt(&fanout, receipt);
                    }
                }
            }
        }
    }
}

/// The room, reader and position of a stored `read.moved` event.
fn read_moved(payload: &[u8]) -> Option<Receipt> {
    let envelope: Envelope = serde_json::from_slice(payload).ok()?;
    match (envelope.body, envelope.room_id, envelope.user_id) {
        (EventBody::ReadMoved { seq }, Some(room), Some(reader)) => {
            Some(Receipt { room, reader, seq })
        }
        _ => None,
    }
}

fn send_receipt(fanout: &Fanout, receipt: Receipt) {
    let frame = frames::encode(&ServerFrame::Receipt {
        room_id: receipt.room.to_string(),
        user_id: receipt.reader.to_string(),
        seq: receipt.seq,
    });
    fanout.offer_receipt(&receipt.room, frame, receipt.reader);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_schemas::{RoomId, UserId};

    #[test]
    fn a_stored_read_position_names_room_reader_and_seq() {
        let reader = UserId::generate();
        let room = RoomId::parse("r1").unwrap();
        let event = Envelope::read_moved(reader, room.clone(), 42);
        let payload = serde_json::to_vec(&event).unwrap();
        assert_eq!(
            read_moved(&payload),
            Some(Receipt {
                room,
                reader,
                seq: 42
            })
        );
        assert_eq!(read_moved(b"{}"), None);
    }
}
