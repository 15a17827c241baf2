-- Profiles, folded from the people stream (chat.profile.<userId>, the latest event per
-- user). A user with no row shows their username as display name (computed when read).
CREATE TABLE profiles (
    user_id      uuid PRIMARY KEY,
    display_name text NOT NULL,
    -- The stream sequence of the event this row holds: an older event never overwrites it.
    seq          bigint NOT NULL,
    updated_at   timestamptz NOT NULL
);
