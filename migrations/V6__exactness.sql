-- The sequence of the latest membership change (join, leave, creation) of each user in each
-- room, kept after a leave: join and leave commands derive their Nats-Msg-Id from it, so
-- concurrent identical commands that saw the same state store one event.
CREATE TABLE member_changes (
    room_id text NOT NULL,
    user_id uuid NOT NULL,
    seq     bigint NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
INSERT INTO member_changes (room_id, user_id, seq)
    SELECT room_id, user_id, joined_seq FROM room_members;

-- The one direct room of each pair of users (lower user id first), whatever its id: rooms
-- made with computable ids before ids were keyed stay the pair's room.
CREATE TABLE direct_rooms (
    user_low  uuid NOT NULL,
    user_high uuid NOT NULL,
    room_id   text NOT NULL UNIQUE,
    PRIMARY KEY (user_low, user_high)
);
INSERT INTO direct_rooms (user_low, user_high, room_id)
    SELECT least(r.created_by, m.user_id), greatest(r.created_by, m.user_id), r.room_id
    FROM rooms r JOIN room_members m ON m.room_id = r.room_id AND m.user_id <> r.created_by
    WHERE r.kind = 'direct'
    ORDER BY r.created_seq
    ON CONFLICT DO NOTHING;
