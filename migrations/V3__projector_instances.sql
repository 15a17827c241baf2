-- Projector instances announce themselves here so each can take its fair share of the
-- units (room-stream partitions and the users stream); leases are advisory locks.
CREATE TABLE projector_instances (
    instance_id text PRIMARY KEY,
    last_seen   timestamptz NOT NULL
);
