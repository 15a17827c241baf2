// The SDK's pure pieces: room cursors, the outbox, resume bookkeeping, backoff, tokens,
// and the generated wire types against the committed JSON Schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RoomCursors } from '../../src/cursors.js';
import { Outbox } from '../../src/outbox.js';
import { ResumeTracker } from '../../src/resume.js';
import { backoffDelay } from '../../src/backoff.js';
import { renewalDelay, tokenExpiry } from '../../src/token.js';

test('a cursor passes each event once and in order, and reports gaps', () => {
  const cursors = new RoomCursors();
  assert.equal(cursors.accept('r', 5, 4), 'unfollowed');
  cursors.follow('r');
  assert.equal(cursors.position('r'), null);
  assert.equal(cursors.accept('r', 5, 4), 'apply', 'an unknown cursor starts at the first event');
  assert.equal(cursors.accept('r', 5, 4), 'repeat');
  assert.equal(cursors.accept('r', 3, 2), 'repeat');
  assert.equal(cursors.accept('r', 9, 7), 'gap', 'prevSeq 7 is beyond the cursor 5');
  assert.equal(cursors.position('r'), 5, 'a gap does not move the cursor');
  assert.equal(cursors.accept('r', 7, 5), 'apply');
  assert.equal(cursors.accept('r', 9, 7), 'apply');
  cursors.follow('r');
  assert.equal(cursors.position('r'), 9, 'following again keeps the position');
  cursors.follow('r', 2);
  assert.equal(cursors.position('r'), 2, 'an explicit position replaces it');
});

test('joined and resumed set an unknown cursor; a reset jumps; split sorts rooms', () => {
  const cursors = new RoomCursors();
  cursors.follow('a');
  cursors.follow('b', 4);
  cursors.reached('a', 10);
  cursors.reached('b', 10);
  assert.equal(cursors.position('a'), 10);
  assert.equal(cursors.position('b'), 4, 'a known cursor is not moved past unseen events');
  cursors.reset('b', 12);
  assert.equal(cursors.position('b'), 12);
  cursors.follow('c');
  assert.deepEqual(cursors.split(), {
    resume: [
      { roomId: 'a', lastSeq: 10 },
      { roomId: 'b', lastSeq: 12 },
    ],
    join: ['c'],
  });
  cursors.unfollow('a');
  assert.deepEqual(cursors.rooms(), ['b', 'c']);
});

test('the outbox keeps one entry per key and settles each once', async () => {
  const outbox = new Outbox();
  const a = outbox.add('r', 'one', 'k1');
  assert.equal(outbox.add('r', 'one again', 'k1'), a, 'the same key is the same entry');
  const b = outbox.add('r', 'two');
  assert.match(b.clientMsgId, /^sdk-[0-9a-f-]{36}$/);
  assert.ok(b.clientMsgId.length <= 64);
  assert.deepEqual(outbox.takeQueued(), [a, b]);
  assert.deepEqual(outbox.takeQueued(), [], 'entries being sent are not taken twice');
  outbox.requeue(a);
  assert.deepEqual(outbox.takeQueued(), [a]);
  outbox.settle(a, { type: 'ack', seq: 1 });
  outbox.settle(a, { type: 'ack', seq: 2 });
  assert.deepEqual(await a.promise, { type: 'ack', seq: 1 });
  assert.equal(outbox.size, 1);
  b.promise.catch(() => {});
  assert.equal(outbox.failAll(new Error('closed')), 1);
  await assert.rejects(b.promise, /closed/);
});

test('a resume batch finishes when every room answered; refused rooms are named', () => {
  const tracker = new ResumeTracker();
  tracker.start('1', ['a', 'b', 'c']);
  assert.equal(tracker.waiting, 3);
  assert.equal(tracker.resumed('1', 'a'), null);
  assert.equal(tracker.refused('1', 'not_a_member'), null);
  assert.equal(tracker.waiting, 1);
  assert.deepEqual(tracker.resumed('1', 'c'), { refused: ['b'], codes: ['not_a_member'] });
  assert.equal(tracker.has('1'), false);
  assert.equal(tracker.resumed('1', 'a'), null, 'answers of a finished batch are ignored');
});

test('backoff grows, is capped, and spreads', () => {
  const opts = { baseDelayMs: 100, maxDelayMs: 1_000 };
  assert.equal(backoffDelay(0, { ...opts, random: () => 1 }), 100);
  assert.equal(backoffDelay(0, { ...opts, random: () => 0 }), 50);
  assert.equal(backoffDelay(3, { ...opts, random: () => 1 }), 800);
  assert.equal(backoffDelay(60, { ...opts, random: () => 1 }), 1_000);
  assert.equal(backoffDelay(60, { ...opts, random: () => 0 }), 500);
});

test('token expiry is read from a JWT and renewal comes a minute early', () => {
  const payload = Buffer.from(JSON.stringify({ sub: 'u', exp: 2_000_000_000 })).toString('base64url');
  assert.equal(tokenExpiry(`h.${payload}.s`), 2_000_000_000_000);
  assert.equal(tokenExpiry('not-a-jwt'), null);
  assert.equal(tokenExpiry('a.%%%.c'), null);
  assert.equal(renewalDelay(1_000_000, 0), 940_000);
  assert.equal(renewalDelay(10_000, 0), 5_000, 'never sooner than 5 s');
});

test('the generated wire types match the committed JSON Schemas', () => {
  const script = fileURLToPath(new URL('../../scripts/gen-types.mjs', import.meta.url));
  execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' });
});
