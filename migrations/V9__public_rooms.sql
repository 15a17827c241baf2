-- The public room directory (GET /rooms/public): when each room last saw an event, kept
-- by the projector beside `last_seq` (the time of the room's latest event), and an index
-- that serves "the most recently active public group rooms" without touching any other.
ALTER TABLE rooms ADD COLUMN last_activity_at timestamptz;
UPDATE rooms r SET last_activity_at = GREATEST(
    r.created_at,
    (SELECT max(m.sent_at) FROM messages m WHERE m.room_id = r.room_id),
    (SELECT max(x.joined_at) FROM room_members x WHERE x.room_id = r.room_id));
ALTER TABLE rooms ALTER COLUMN last_activity_at SET NOT NULL;
-- A projector of the previous release (during a rolling upgrade) inserts rooms without the
-- column; they start active now and move with their next event.
ALTER TABLE rooms ALTER COLUMN last_activity_at SET DEFAULT now();
CREATE INDEX rooms_public_by_activity ON rooms (last_activity_at DESC)
    WHERE visibility = 'public' AND kind = 'group';
