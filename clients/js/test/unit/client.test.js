// ChatClient's protocol logic, driven by a scripted socket: authentication by frame, joins,
// events once and in order, gap repair, resume after a reconnect, the outbox across a
// reconnect, refused resumes, sign-out and the liveness probe. No server, no network.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { ChatClient, FrameError, NotConnected } from '../../src/index.js';
import { FakeSocket, event, hello, until } from './fake-socket.js';

const FAST = { url: 'ws://test/ws', WebSocket: FakeSocket, baseDelayMs: 5, maxDelayMs: 20 };

beforeEach(() => FakeSocket.reset());

/** A client that has connected and been greeted; `events` collects what it passed on. */
async function greeted(options = {}) {
  const client = new ChatClient({ ...FAST, token: 'tok', ...options });
  const events = [];
  client.addEventListener('event', (e) => events.push(`${e.detail.roomId}:${e.detail.seq}`));
  client.connect();
  await until(() => FakeSocket.latest()?.sent.length > 0);
  FakeSocket.latest().deliver(hello());
  return { client, events, socket: FakeSocket.latest() };
}

/** Answers the latest frame of `type` on `socket` with `answer` (its id filled in). */
function answer(socket, type, fields) {
  const frame = socket.frames(type).at(-1);
  socket.deliver({ id: frame.id, ...fields });
  return frame;
}

test('authenticates with an auth frame, never in the url', async () => {
  const { client, socket } = await greeted();
  assert.equal(socket.url, 'ws://test/ws');
  assert.deepEqual(socket.sent[0], { type: 'auth', token: 'tok' });
  assert.equal(client.state, 'open');
  assert.equal(client.userId, 'u1');
  client.close();
});

test('a token provider is asked before each connection', async () => {
  let calls = 0;
  const { client, socket } = await greeted({ token: async () => `t${++calls}` });
  assert.deepEqual(socket.sent[0], { type: 'auth', token: 't1' });
  socket.serverClose(1006);
  await until(() => FakeSocket.all.length === 2 && FakeSocket.latest().sent.length > 0);
  assert.deepEqual(FakeSocket.latest().sent[0], { type: 'auth', token: 't2' });
  client.close();
});

test('events pass once and in order; a gap is repaired with a resume', async () => {
  const { client, events, socket } = await greeted();
  const joining = client.join('r');
  const join = answer(socket, 'join', { type: 'joined', roomId: 'r', lastSeq: 10 });
  assert.equal(join.lastSeq, undefined, 'a first join asks for no replay');
  assert.equal((await joining).lastSeq, 10);
  socket.deliver(event('r', 11, 10));
  socket.deliver(event('r', 11, 10));
  socket.deliver(event('r', 14, 13));
  assert.deepEqual(events, ['r:11'], 'the repeat and the event after a gap are held back');
  const resume = socket.frames('resume').at(-1);
  assert.deepEqual(resume.rooms, [{ roomId: 'r', lastSeq: 11 }]);
  socket.deliver(event('r', 15, 14));
  assert.equal(socket.frames('resume').length, 1, 'one repair at a time per room');
  for (const [seq, prev] of [[12, 11], [13, 12], [14, 13], [15, 14]]) socket.deliver(event('r', seq, prev));
  socket.deliver({ type: 'resumed', id: resume.id, roomId: 'r', recovered: true, replayed: 4, lastSeq: 15 });
  assert.deepEqual(events, ['r:11', 'r:12', 'r:13', 'r:14', 'r:15']);
  assert.equal(client.lastSeq('r'), 15);
  client.close();
});

test('after a reconnect every room resumes from its cursor, and is up to date only then', async () => {
  const { client, events, socket } = await greeted();
  client.join('a');
  answer(socket, 'join', { type: 'joined', roomId: 'a', lastSeq: 3 });
  client.join('b');
  answer(socket, 'join', { type: 'joined', roomId: 'b', lastSeq: 0 });
  socket.deliver(event('a', 4, 3));
  socket.serverClose(1006);
  assert.equal(client.state, 'reconnecting');
  await until(() => FakeSocket.all.length === 2 && FakeSocket.latest().sent.length > 0);
  const again = FakeSocket.latest();
  again.deliver(hello());
  const resume = again.frames('resume').at(-1);
  assert.deepEqual(resume.rooms, [
    { roomId: 'a', lastSeq: 4 },
    { roomId: 'b', lastSeq: 0 },
  ]);
  assert.equal(client.state, 'reconnecting', 'not up to date while resumes are out');
  again.deliver(event('a', 5, 4));
  again.deliver({ type: 'resumed', id: resume.id, roomId: 'a', recovered: true, replayed: 1, lastSeq: 5 });
  again.deliver({ type: 'resumed', id: resume.id, roomId: 'b', recovered: true, replayed: 0, lastSeq: 0 });
  assert.equal(client.state, 'open');
  assert.deepEqual(events, ['a:4', 'a:5']);
  client.close();
});

test('too much missed: a reset tells the caller to reload history', async () => {
  const { client, socket } = await greeted();
  const resets = [];
  client.addEventListener('reset', (e) => resets.push(e.detail));
  client.join('r', { lastSeq: 2 });
  const join = socket.frames('join').at(-1);
  assert.equal(join.lastSeq, 2);
  socket.deliver({ type: 'resumed', id: join.id, roomId: 'r', recovered: false, replayed: 0, lastSeq: 50_000 });
  socket.deliver({ type: 'joined', id: join.id, roomId: 'r', lastSeq: 50_000 });
  assert.deepEqual(resets, [{ roomId: 'r', lastSeq: 50_000 }]);
  assert.equal(client.lastSeq('r'), 50_000);
  client.close();
});

test('a send waits out a lost connection and goes again with the same clientMsgId', async () => {
  const { client, socket } = await greeted();
  const sent = client.send('r', 'hello');
  const first = socket.frames('send').at(-1);
  socket.serverClose(1006);
  const offline = client.send('r', 'while away');
  assert.equal(client.pendingSends().length, 2);
  await until(() => FakeSocket.all.length === 2 && FakeSocket.latest().sent.length > 0);
  const again = FakeSocket.latest();
  again.deliver(hello());
  const resent = again.frames('send');
  assert.deepEqual(resent.map((f) => f.message), ['hello', 'while away']);
  assert.equal(resent[0].clientMsgId, first.clientMsgId);
  again.deliver({ type: 'ack', id: resent[0].id, seq: 7, messageId: 'm7' });
  again.deliver({ type: 'error', id: resent[1].id, code: 'message_too_large', message: 'too large' });
  assert.equal((await sent).seq, 7);
  await assert.rejects(offline, (e) => e instanceof FrameError && e.code === 'message_too_large');
  assert.equal(client.pendingSends().length, 0);
  client.close();
});

test('refused rooms of a resume are retried one by one; a room left is dropped', async () => {
  const { client, socket } = await greeted();
  const lost = [];
  client.addEventListener('roomLost', (e) => lost.push(e.detail));
  for (const [room, seq] of [['a', 1], ['b', 2], ['c', 3]]) {
    client.join(room);
    answer(socket, 'join', { type: 'joined', roomId: room, lastSeq: seq });
  }
  socket.serverClose(1012);
  await until(() => FakeSocket.all.length === 2 && FakeSocket.latest().sent.length > 0);
  const again = FakeSocket.latest();
  again.deliver(hello());
  const batch = again.frames('resume').at(-1);
  again.deliver({ type: 'resumed', id: batch.id, roomId: 'a', recovered: true, replayed: 0, lastSeq: 1 });
  // Two refusals in one batch: which room each is about is unknown, so both are retried.
  again.deliver({ type: 'error', id: batch.id, code: 'not_a_member', message: 'left' });
  again.deliver({ type: 'error', id: batch.id, code: 'rate_limited', message: 'slow down', retryAfterMs: 1 });
  assert.deepEqual(lost, []);
  await until(() => again.frames('resume').length === 3);
  const [b, c] = again.frames('resume').slice(1);
  assert.deepEqual([b.rooms, c.rooms], [[{ roomId: 'b', lastSeq: 2 }], [{ roomId: 'c', lastSeq: 3 }]]);
  again.deliver({ type: 'error', id: b.id, code: 'not_a_member', message: 'left' });
  again.deliver({ type: 'resumed', id: c.id, roomId: 'c', recovered: true, replayed: 0, lastSeq: 3 });
  assert.deepEqual(lost, [{ roomId: 'b', code: 'not_a_member' }]);
  assert.deepEqual(client.rooms(), ['a', 'c']);
  assert.equal(client.state, 'open');
  client.close();
});

test('a refused token signs out without reconnecting', async () => {
  const { client, socket } = await greeted();
  let signedOut = 0;
  client.addEventListener('unauthenticated', () => signedOut++);
  socket.serverClose(4004);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(signedOut, 1);
  assert.equal(FakeSocket.all.length, 1);
  assert.equal(client.state, 'closed');
  await assert.rejects(client.setStatus('away'), NotConnected);
  client.close();
});

test('a silent socket is given up after an unanswered ping', async () => {
  const { client, socket } = await greeted({ probeEveryMs: 10, probeTimeoutMs: 10 });
  await until(() => socket.frames('ping').length > 0);
  await until(() => FakeSocket.all.length === 2);
  assert.equal(socket.closedWith, 4000);
  client.close();
});

test('watched users are watched again after a reconnect', async () => {
  const { client, socket } = await greeted();
  const watching = client.watch(['u2', 'u3']);
  answer(socket, 'watch', { type: 'ack' });
  await watching;
  socket.serverClose(1006);
  await until(() => FakeSocket.all.length === 2 && FakeSocket.latest().sent.length > 0);
  FakeSocket.latest().deliver(hello());
  assert.deepEqual(FakeSocket.latest().frames('watch').at(-1).userIds, ['u2', 'u3']);
  client.close();
});

test('ready() waits for hello, and fails when the client is signed out first', async () => {
  const client = new ChatClient({ ...FAST, token: 'tok' }).connect();
  let ready = false;
  const waiting = client.ready().then(() => (ready = true));
  await until(() => FakeSocket.latest()?.sent.length > 0);
  assert.equal(ready, false);
  FakeSocket.latest().deliver(hello());
  await waiting;
  assert.equal(ready, true);
  await client.ready();
  FakeSocket.latest().serverClose(4001);
  await assert.rejects(client.ready(), (e) => e.code === 'client_closed');
  client.close();
});

test('the inbox frames pass as events of their own name', async () => {
  const { client, socket } = await greeted();
  const seen = [];
  for (const type of ['roomAdded', 'roomRemoved', 'profile', 'readPosition', 'receipt', 'frame']) {
    client.addEventListener(type, (e) => seen.push([type, e.detail.type]));
  }
  socket.deliver({ type: 'roomAdded', room: { roomId: 'r9', name: 'new' } });
  socket.deliver({ type: 'roomRemoved', roomId: 'r9' });
  socket.deliver({ type: 'profile', userId: 'u2', displayName: 'Bo' });
  socket.deliver({ type: 'readPosition', roomId: 'r', lastReadSeq: 7 });
  socket.deliver({ type: 'receipt', roomId: 'r', userId: 'u2', seq: 7 });
  socket.deliver({ type: 'somethingNewer' });
  assert.deepEqual(seen, [
    ['roomAdded', 'roomAdded'], ['roomRemoved', 'roomRemoved'], ['profile', 'profile'],
    ['readPosition', 'readPosition'], ['receipt', 'receipt'], ['frame', 'somethingNewer'],
  ]);
  client.close();
});

test('read sends a read frame and resolves on its ack; not connected, it refuses', async () => {
  const { client, socket } = await greeted();
  const reading = client.read('r', 12);
  const frame = answer(socket, 'read', { type: 'ack' });
  assert.deepEqual({ roomId: frame.roomId, seq: frame.seq }, { roomId: 'r', seq: 12 });
  assert.equal((await reading).type, 'ack');
  client.close();
  await assert.rejects(client.read('r', 13), NotConnected);
});
