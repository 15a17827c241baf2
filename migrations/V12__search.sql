-- Message search (`GET /search`): each message's words, kept by Postgres itself.
--
-- A STORED generated column is recomputed on every write of `body`, whichever path the
-- projector takes (binary COPY for long runs, INSERT otherwise, UPDATE for an edit, and
-- the delete that empties `body`), so the index can never disagree with the text and the
-- projector needs no change. 'simple' (lower-casing, no stemming, no stop words): chat is
-- written in many languages at once, and a word search should find the word typed, also
-- "the" or "who". See the README, "Search".
ALTER TABLE messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX messages_search ON messages USING gin (search);
