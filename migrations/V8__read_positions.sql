-- Read positions, folded from the reads stream (chat.read.<roomId>.<userId>, the latest
-- event per user and room). No row: never read (position 0).
CREATE TABLE read_positions (
    user_id       uuid NOT NULL,
    room_id       text NOT NULL,
    -- A stream sequence of the room's events; only ever raised (GREATEST), so a replay
    -- or an older event applied late never moves it back.
    last_read_seq bigint NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (user_id, room_id)
);
-- Unread counts use messages' UNIQUE (room_id, seq) index.
