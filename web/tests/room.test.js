// Unit tests of the client's merge rules (static/js/room.js): live events, replays and
// history pages end as one list with every message once, in seq order. No browser needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Room } from '../static/js/room.js';

const ME = '00000000-0000-7000-8000-000000000001';
const BOB = '00000000-0000-7000-8000-000000000002';

function posted(seq, prevSeq, id, text, actor = BOB, clientMsgId = undefined) {
  return {
    roomId: 'r', seq, prevSeq,
    event: { type: 'message.posted', actor, occurredAt: '2026-01-01T00:00:00Z', data: { messageId: id, message: text, clientMsgId } },
  };
}
const edited = (seq, prevSeq, id, text) => ({
  roomId: 'r', seq, prevSeq, event: { type: 'message.edited', actor: BOB, occurredAt: 'x', data: { messageId: id, message: text } },
});
const deleted = (seq, prevSeq, id) => ({
  roomId: 'r', seq, prevSeq, event: { type: 'message.deleted', actor: BOB, occurredAt: 'x', data: { messageId: id } },
});
const history = (seq, id, text, extra = {}) => ({ messageId: id, seq, senderId: BOB, message: text, timestamp: 't', ...extra });
const texts = (room) => room.list().map((m) => m.text);

test('live events apply in order and a repeated seq is ignored', () => {
  const room = new Room({ roomId: 'r', lastSeq: 10 });
  assert.equal(room.applyEvent(posted(12, 10, 'a', 'one'), ME).result, 'applied');
  assert.equal(room.applyEvent(posted(12, 10, 'a', 'one'), ME).result, 'duplicate');
  assert.equal(room.applyEvent(posted(15, 12, 'b', 'two'), ME).result, 'applied');
  assert.deepEqual(texts(room), ['one', 'two']);
  assert.equal(room.lastSeq, 15);
});

test('an event past a gap is not applied, so the resume replays it in order', () => {
  const room = new Room({ roomId: 'r', lastSeq: 10 });
  assert.equal(room.applyEvent(posted(14, 12, 'b', 'two'), ME).result, 'gap');
  assert.equal(room.lastSeq, 10);
  // The replay from 10: 12 then 14, then the live copy of 14 again.
  room.applyEvent(posted(12, 10, 'a', 'one'), ME);
  room.applyEvent(posted(14, 12, 'b', 'two'), ME);
  assert.equal(room.applyEvent(posted(14, 12, 'b', 'two'), ME).result, 'duplicate');
  assert.deepEqual(texts(room), ['one', 'two']);
});

test('history pages add only what is missing and keep seq order', () => {
  const room = new Room({ roomId: 'r', lastSeq: 20 });
  room.applyEvent(posted(22, 20, 'c', 'three live'), ME);
  room.mergeHistory([history(18, 'a', 'one'), history(20, 'b', 'two'), history(22, 'c', 'three stale')]);
  assert.deepEqual(texts(room), ['one', 'two', 'three live']);
  room.mergeHistory([history(5, 'z', 'zero')]);
  assert.deepEqual(texts(room), ['zero', 'one', 'two', 'three live']);
  assert.equal(room.oldestSeq(), 5);
});

test('an edit or delete for a message not loaded yet applies when it loads', () => {
  const room = new Room({ roomId: 'r', lastSeq: 30 });
  room.applyEvent(edited(31, 30, 'a', 'fixed'), ME);
  room.applyEvent(deleted(32, 31, 'b'), ME);
  room.mergeHistory([history(3, 'a', 'typo'), history(4, 'b', 'oops')]);
  assert.equal(room.messages.get('a').text, 'fixed');
  assert.equal(room.messages.get('b').deleted, true);
});

test('a replayed edit never brings a deleted message back', () => {
  const room = new Room({ roomId: 'r', lastSeq: 1 });
  room.mergeHistory([history(1, 'a', 'x', { deleted: true })]);
  room.applyEvent(edited(2, 1, 'a', 'y'), ME);
  assert.equal(room.messages.get('a').deleted, true);
});

test('my own message settles its pending copy by clientMsgId', () => {
  const room = new Room({ roomId: 'r', lastSeq: 1 });
  room.pending.set('c1', { clientMsgId: 'c1', text: 'hi', state: 'sent' });
  const outcome = room.applyEvent(posted(2, 1, 'a', 'hi', ME, 'c1'), ME);
  assert.equal(outcome.result, 'applied');
  assert.equal(room.pending.size, 0);
});

test('a full page means there may be more before it', () => {
  const room = new Room({ roomId: 'r', lastSeq: 0 });
  room.mergeHistory(Array.from({ length: 3 }, (_, i) => history(i + 1, `m${i}`, `t${i}`)), 3);
  assert.equal(room.hasOlder, true);
  room.mergeHistory([], 3);
  assert.equal(room.hasOlder, false);
});

const reaction = (seq, prevSeq, id, emoji, actor, added = true) => ({
  roomId: 'r', seq, prevSeq,
  event: { type: added ? 'reaction.added' : 'reaction.removed', actor, occurredAt: 'x', data: { messageId: id, emoji } },
});

test('reaction events change the counts history gave; my own repeat changes nothing', () => {
  const room = new Room({ roomId: 'r', lastSeq: 1 });
  room.mergeHistory([history(1, 'a', 'x', { reactions: [{ emoji: '👍', count: 1, me: false }] })]);
  room.applyEvent(reaction(2, 1, 'a', '👍', ME), ME);
  room.applyEvent(reaction(3, 2, 'a', '🎉', BOB), ME);
  assert.deepEqual(room.messages.get('a').reactions, [{ emoji: '👍', count: 2, me: true }, { emoji: '🎉', count: 1, me: false }]);
  room.applyEvent(reaction(4, 3, 'a', '👍', ME), ME);
  assert.equal(room.messages.get('a').reactions[0].count, 2, 'a repeat of mine counts once');
  room.applyEvent(reaction(5, 4, 'a', '🎉', BOB, false), ME);
  room.applyEvent(reaction(6, 5, 'a', '👍', ME, false), ME);
  assert.deepEqual(room.messages.get('a').reactions, [{ emoji: '👍', count: 1, me: false }]);
  // A replayed event at or below the cursor is not applied twice.
  room.applyEvent(reaction(6, 5, 'a', '👍', ME, false), ME);
  assert.deepEqual(room.messages.get('a').reactions, [{ emoji: '👍', count: 1, me: false }]);
});
