// The join queue's pacing, without a browser: rooms go out in batched `resume` frames,
// at most two unanswered at a time; a frame refused as `rate_limited` puts its rooms back
// after `retryAfterMs`; a lost connection drops everything. Pure logic: a scripted socket.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BATCH, JoinQueue } from '../static/js/joins.js';

function setUp() {
  const sent = [];
  const settled = [];
  let n = 0;
  const conn = { state: 'open', id: () => `c${(n += 1)}`, send: (f) => (sent.push(f), true) };
  const queue = new JoinQueue({
    conn,
    positions: (ids) => ids.filter((id) => !id.startsWith('gone')).map((roomId) => ({ roomId, lastSeq: 7 })),
    onSettled: (ids) => settled.push(...ids),
  });
  return { queue, sent, settled, conn };
}
const tick = (ms) => new Promise((r) => setTimeout(r, ms));
const rooms = (count, prefix = 'r') => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

test('batches of at most BATCH rooms, two frames in flight, the rest when answered', async () => {
  const { queue, sent, settled } = setUp();
  queue.add(rooms(3 * BATCH + 1));
  await tick(700);
  assert.equal(sent.length, 2, 'two frames unanswered at most');
  assert.ok(sent.every((f) => f.type === 'resume' && f.rooms.length === BATCH && f.rooms[0].lastSeq === 7));
  for (const r of sent[0].rooms) queue.resumed({ type: 'resumed', id: sent[0].id, roomId: r.roomId });
  assert.equal(settled.length, BATCH);
  await tick(400);
  assert.equal(sent.length, 3);
  queue.clear();
});

test('a frame refused as rate_limited is sent again after retryAfterMs', async () => {
  const { queue, sent } = setUp();
  queue.add(['a', 'b', 'gone1']);
  await tick(20);
  assert.deepEqual(sent[0].rooms.map((r) => r.roomId), ['a', 'b'], 'rooms no longer known are left out');
  assert.ok(queue.failed({ type: 'error', id: sent[0].id, code: 'rate_limited', retryAfterMs: 600 }));
  await tick(400);
  assert.equal(sent.length, 1, 'not before retryAfterMs');
  await tick(600);
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1].rooms.map((r) => r.roomId), ['a', 'b']);
  assert.equal(queue.failed({ type: 'error', id: 'other', code: 'rate_limited' }), false, 'not its frame');
  queue.clear();
});

test('an error for one room counts towards its batch; a lost connection drops the queue', async () => {
  const { queue, sent, settled, conn } = setUp();
  queue.add(['a', 'b']);
  await tick(20);
  queue.resumed({ type: 'resumed', id: sent[0].id, roomId: 'a' });
  queue.failed({ type: 'error', id: sent[0].id, code: 'not_a_member' });
  assert.deepEqual(settled.sort(), ['a', 'b']);
  queue.add(rooms(5));
  conn.state = 'reconnecting';
  queue.clear();
  conn.state = 'open';
  await tick(400);
  assert.equal(sent.length, 1, 'nothing sent after the connection was lost');
});
