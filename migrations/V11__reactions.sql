-- Reactions, folded from `reaction.added` / `reaction.removed` in the room stream. One row
-- per (message, user, emoji) ever reacted: `present` says whether it stands now, and `seq`
-- is the room-stream sequence of its latest change. Rows stay after a removal so that the
-- command can derive its `Nats-Msg-Id` from the state it saw (concurrent identical
-- reactions store one event; see core/src/commands/reactions.rs).
CREATE TABLE reactions (
    message_id uuid NOT NULL,
    user_id    uuid NOT NULL,
    emoji      text NOT NULL,
    room_id    text NOT NULL,
    present    boolean NOT NULL,
    seq        bigint NOT NULL,
    -- The seq at which this user's reaction was last added: history orders a message's
    -- emoji by when each was first given (the smallest such seq among present rows).
    added_seq  bigint NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);
