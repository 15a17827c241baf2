-- Sessions: every token carries the account's token generation (`gen`); logging out or a
-- ban raises it, which ends every token issued before. A banned account cannot log in.
ALTER TABLE accounts
    ADD COLUMN token_generation bigint NOT NULL DEFAULT 0,
    ADD COLUMN banned_at timestamptz;
