-- Accounts are not chat events: the api owns them directly.
CREATE TABLE accounts (
    user_id       uuid PRIMARY KEY,
    username      text NOT NULL,
    username_key  text NOT NULL UNIQUE,          -- lower-cased, for case-insensitive login
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The projector's position in each stream, committed in the same transaction as the
-- effects of the events up to it.
CREATE TABLE projector_checkpoints (
    stream     text PRIMARY KEY,
    last_seq   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rooms (
    room_id     text PRIMARY KEY,
    name        text NOT NULL,
    visibility  text NOT NULL CHECK (visibility IN ('public', 'private')),
    kind        text NOT NULL CHECK (kind IN ('group', 'direct')),
    created_by  uuid NOT NULL,
    created_at  timestamptz NOT NULL,
    created_seq bigint NOT NULL,
    last_seq    bigint NOT NULL                  -- the room's latest event
);

CREATE TABLE room_members (
    room_id    text NOT NULL REFERENCES rooms (room_id),
    user_id    uuid NOT NULL,
    joined_at  timestamptz NOT NULL,
    joined_seq bigint NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_by_user ON room_members (user_id);

CREATE TABLE messages (
    message_id       uuid PRIMARY KEY,
    room_id          text NOT NULL REFERENCES rooms (room_id),
    seq              bigint NOT NULL,
    sender_id        uuid NOT NULL,
    body             text NOT NULL,
    sent_at          timestamptz NOT NULL,       -- server receive time, authoritative
    client_timestamp timestamptz,
    client_msg_id    text,
    edited_at        timestamptz,
    deleted          boolean NOT NULL DEFAULT false,
    UNIQUE (room_id, seq),
    -- A retried send outside JetStream's duplicate window still lands once.
    UNIQUE (room_id, sender_id, client_msg_id)
);
CREATE INDEX messages_by_room_time ON messages (room_id, sent_at);

CREATE TABLE presence (
    user_id      uuid PRIMARY KEY,
    status       text NOT NULL CHECK (status IN ('online', 'away', 'offline')),
    last_seen    timestamptz,
    typing_in    text,
    typing_until timestamptz,
    updated_seq  bigint NOT NULL
);
