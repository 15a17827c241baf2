-- Presence derived from connections: a user is online while any connection lives.
ALTER TABLE presence
    ADD COLUMN manual_status text NOT NULL DEFAULT 'online'
        CHECK (manual_status IN ('online', 'away', 'offline')),
    ADD COLUMN connections integer NOT NULL DEFAULT 0;

-- Open WebSocket connections, by the gateway process (gateway_id + boot_id) holding them.
CREATE TABLE connections (
    connection_id text PRIMARY KEY,
    user_id       uuid NOT NULL,
    gateway_id    text NOT NULL,
    boot_id       text NOT NULL,
    opened_at     timestamptz NOT NULL
);
CREATE INDEX connections_by_gateway ON connections (gateway_id, boot_id);

-- The last heartbeat of each gateway process; the reaper closes the connections of the
-- stale ones.
CREATE TABLE gateways (
    gateway_id text NOT NULL,
    boot_id    text NOT NULL,
    last_seen  timestamptz NOT NULL,
    PRIMARY KEY (gateway_id, boot_id)
);
