-- What Postgres does for each stored message, cut to what the queries need (measured in a
-- 1,000,000-message catch-up: the foreign key's check was a sixth of Postgres' time).
--
-- The foreign key to rooms goes: the projector is the only writer of messages, checks
-- once per run of messages that their rooms exist (projector/src/messages.rs), and rooms
-- are never deleted. The key cost a lookup and a row lock on rooms per message.
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_room_id_fkey;

-- A message without a clientMsgId can never conflict on it (NULLs are distinct), so only
-- the messages with one need the index; the lookup of an earlier send
-- (`client_msg_id = $3`) implies the predicate and still uses it.
CREATE UNIQUE INDEX messages_client_msg_id ON messages (room_id, sender_id, client_msg_id)
    WHERE client_msg_id IS NOT NULL;
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_room_id_sender_id_client_msg_id_key;
