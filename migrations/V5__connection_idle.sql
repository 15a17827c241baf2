-- Whether each open connection has gone idle (no command for the gateway's away_after):
-- a user is away for idleness only while every connection of theirs is idle.
ALTER TABLE connections ADD COLUMN idle boolean NOT NULL DEFAULT false;
