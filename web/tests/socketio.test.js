// The /socket.io/ endpoint, driven by the real socket.io-client from Node, against the native
// /ws protocol it maps (README "WebSocket protocol", the mapping in docs): a Socket.IO user on
// chat-server and a native user on a second gateway process talk in one room and see the
// same events with the same seqs; a Socket.IO client that drops resumes without a gap or a
// repeat; bad input is refused with the codes /ws uses for the same thing, and publishes nothing.
// Each scenario runs over WebSocket (polling first, then the upgrade) and over long-polling only.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { registerUser, startStack, waitFor } from './support/stack.js';

const PASSWORD = 'correct horse battery';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** socket.io-client's transports option: absent means its default (polling, then upgrade). */
const TRANSPORTS = [
  { label: 'websocket', options: {}, expect: 'websocket' },
  { label: 'polling', options: { transports: ['polling'] }, expect: 'polling' },
];
const posted = (events) => events.filter((e) => e.event.type === 'message.posted');
const seqs = (events) => events.map((e) => e.seq);

/** A native /ws client: every frame kept; `request` sends a frame with an id and resolves to its answer. */
class NativeClient {
  static async open(url, token) {
    const client = new NativeClient(new WebSocket(url, { headers: { authorization: `Bearer ${token}` } }));
    await waitFor(() => client.frames.find((f) => f.type === 'hello'), { what: `hello on ${url}` });
    return client;
  }

  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.pending = new Map();
    this.nextId = 1;
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      this.frames.push(frame);
      // Replayed events carry no id; a `resumed` or `joined` ends the request.
      if (frame.type !== 'event' && frame.id && this.pending.has(frame.id)) {
        this.pending.get(frame.id)(frame);
        this.pending.delete(frame.id);
      }
    });
  }

  request(frame, timeoutMs = 10_000) {
    const id = `n${this.nextId++}`;
    this.ws.send(JSON.stringify({ ...frame, id }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(frame)}`)), timeoutMs);
      this.pending.set(id, (answer) => (clearTimeout(timer), resolve(answer)));
    });
  }

  events(roomId) {
    return this.frames.filter((f) => f.type === 'event' && f.roomId === roomId);
  }

  close() {
    this.ws.terminate();
  }
}

/** The native frame as a Socket.IO payload: without `type` (the event name) and `id`. */
function payloadOf(frame) {
  const { type: _type, id: _id, ...rest } = frame;
  return rest;
}

/** Each event follows the one before it (`prevSeq`), starting after `fromSeq`: no gap, no repeat. */
function assertChain(events, fromSeq, who) {
  let last = fromSeq;
  for (const e of events) {
    assert.equal(e.prevSeq, last, `${who}: event ${e.seq} follows ${last}`);
    assert.ok(e.seq > last, `${who}: seqs increase`);
    last = e.seq;
  }
}

describe('the /socket.io/ endpoint with socket.io-client', { timeout: 300_000 }, () => {
  let stack;
  let gateway;
  const sockets = [];
  const natives = [];
  let n = 0;

  before(async () => {
    // The tests send faster than a person; the frame limit is not what they are about.
    stack = await startStack({ GATEWAY_RATE_PER_SEC: '500', GATEWAY_RATE_BURST: '500' });
    gateway = await stack.startGateway();
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    for (const client of natives) client.close();
    await stack?.stop();
  });

  async function user(name) {
    n += 1;
    return registerUser(stack.url, `${name}_${n}_${Date.now().toString(36)}`, PASSWORD);
  }

  async function native(who, url = gateway.wsUrl) {
    const client = await NativeClient.open(url, who.token);
    natives.push(client);
    return client;
  }

  /**
   * A socket.io-client on chat-server's /socket.io/, recording `event`, `hello` and `error`
   * events; resolves once `hello` arrived. No automatic reconnection: a test reconnects itself.
   */
  async function sio(who, options = {}) {
    const socket = io(stack.url, { auth: { token: who.token }, forceNew: true, reconnection: false, autoConnect: false, ...options });
    sockets.push(socket);
    const rec = { socket, events: [], hellos: [], errors: [] };
    socket.on('event', (p) => rec.events.push(p));
    socket.on('hello', (p) => rec.hellos.push(p));
    socket.on('error', (p) => rec.errors.push(p));
    const failed = new Promise((_, reject) => socket.once('connect_error', reject));
    socket.connect();
    await Promise.race([failed, waitFor(() => rec.hellos.length > 0, { what: 'hello over Socket.IO' })]);
    return rec;
  }

  const ask = (socket, event, ...args) => socket.timeout(10_000).emitWithAck(event, ...args);

  /** A private room of `owner` with `others` as members, created over HTTP. */
  async function room(owner, others) {
    const { roomId } = await owner.api('POST', '/rooms', { name: `sio ${n}`, visibility: 'private', members: others.map((o) => o.userId) });
    return roomId;
  }

  for (const { label, options, expect } of TRANSPORTS) {
    test(`Socket.IO (${label}) and /ws on another gateway see every event once, in order, same seqs`, async () => {
      const alice = await user('alice');
      const bob = await user('bob');
      const roomId = await room(alice, [bob]);
      const a = await sio(alice, options);
      const b = await native(bob);
      assert.equal(a.hellos[0].userId, alice.userId);
      assert.ok(a.hellos[0].rooms.includes(roomId), 'hello lists the room');
      assert.equal(a.hellos[0].type, undefined, 'the event name is the type');

      const joinedA = await ask(a.socket, 'join', { roomId });
      const joinedB = await b.request({ type: 'join', roomId });
      assert.equal(joinedA.type, 'joined', JSON.stringify(joinedA));
      assert.equal(joinedA.id, undefined, 'acks carry no id');
      assert.deepEqual(payloadOf(joinedA), payloadOf(joinedB));

      // Both send at once, several messages each, without waiting for each other.
      const count = 8;
      const [acksA, acksB] = await Promise.all([
        Promise.all(Array.from({ length: count }, (_, i) => ask(a.socket, 'send', { roomId, message: `a${i}`, clientMsgId: `a-${label}-${i}` }))),
        Promise.all(Array.from({ length: count }, (_, i) => b.request({ type: 'send', roomId, message: `b${i}` }))),
      ]);
      for (const ack of [...acksA, ...acksB]) assert.equal(ack.type, 'ack', JSON.stringify(ack));
      await waitFor(() => posted(a.events).length >= 2 * count && posted(b.events(roomId)).length >= 2 * count, {
        what: `${2 * count} messages on both sides (Socket.IO ${posted(a.events).length}, /ws ${posted(b.events(roomId)).length})`,
      });
      await sleep(300); // a repeat would arrive now
      const seenA = a.events.filter((e) => e.roomId === roomId);
      const seenB = b.events(roomId);
      assert.equal(seenA.length, 2 * count, 'Socket.IO: each event once');
      assert.equal(seenB.length, 2 * count, '/ws: each event once');
      assertChain(seenA, joinedA.lastSeq, 'Socket.IO');
      assertChain(seenB, joinedB.lastSeq, '/ws');
      // The same events with the same seqs, and each payload is the native frame minus `type`.
      assert.deepEqual(seenA, seenB.map(payloadOf));
      const acked = [...acksA, ...acksB].map((x) => x.seq).sort((x, y) => x - y);
      assert.deepEqual(seqs(seenA), acked, 'the seqs the acks named');
      const bySeq = new Map(seenA.map((e) => [e.seq, e.event.data.message]));
      acksA.forEach((ack, i) => assert.equal(bySeq.get(ack.seq), `a${i}`));
      acksB.forEach((ack, i) => assert.equal(bySeq.get(ack.seq), `b${i}`));
      // Sends of one connection are stored in the order received.
      assert.deepEqual(posted(seenA).filter((e) => e.event.actor === alice.userId).map((e) => e.event.data.message),
        Array.from({ length: count }, (_, i) => `a${i}`));
      await waitFor(() => a.socket.io.engine.transport.name === expect, { what: `transport ${expect}` });
      a.socket.disconnect();
    });

    test(`a Socket.IO client (${label}) that drops resumes: the missed events once, nothing lost`, async () => {
      const alice = await user('alice');
      const bob = await user('bob');
      const roomId = await room(alice, [bob]);
      const a = await sio(alice, options);
      const b = await native(bob);
      const joinedA = await ask(a.socket, 'join', { roomId });
      const joinedB = await b.request({ type: 'join', roomId });

      // Bob keeps sending over /ws on the other gateway all along.
      let sending = true;
      const acksB = [];
      const sender = (async () => {
        for (let i = 0; sending; i += 1) {
          acksB.push(await b.request({ type: 'send', roomId, message: `b${i}` }));
          await sleep(60);
        }
      })();
      await waitFor(() => a.events.length >= 3, { what: 'live events before the drop' });

      const dropped = new Promise((resolve) => a.socket.once('disconnect', resolve));
      a.socket.io.engine.close(); // the transport goes, without a Socket.IO disconnect
      await dropped;
      const lastSeq = a.events.at(-1).seq;
      const sentBeforeAway = acksB.length;
      await waitFor(() => acksB.length >= sentBeforeAway + 5, { what: 'Bob sending while Alice is away' });

      const hellos = a.hellos.length;
      a.socket.connect();
      await waitFor(() => a.hellos.length > hellos, { what: 'hello after reconnecting' });
      const resumed = await ask(a.socket, 'resume', { rooms: [{ roomId, lastSeq }] });
      assert.equal(resumed.type, 'resumed', JSON.stringify(resumed));
      assert.equal(resumed.roomId, roomId);
      assert.equal(resumed.recovered, true);
      assert.ok(resumed.replayed >= 5, `replayed ${resumed.replayed}, at least the 5 sent while away`);
      // The replayed events come before the answer, as on /ws.
      assert.equal(a.events.at(-1)?.seq >= resumed.lastSeq, true, 'every replayed event arrived before `resumed`');

      const resumedAt = acksB.length;
      await waitFor(() => acksB.length >= resumedAt + 5, { what: 'Bob sending after the resume' });
      sending = false;
      await sender;
      const lastAck = acksB.at(-1).seq;
      await waitFor(() => a.events.at(-1)?.seq === lastAck && b.events(roomId).at(-1)?.seq === lastAck, {
        what: `both at Bob's last seq ${lastAck}`,
      });
      await sleep(300);
      const seenA = a.events.filter((e) => e.roomId === roomId);
      assertChain(seenA, joinedA.lastSeq, 'Socket.IO across the drop');
      assertChain(b.events(roomId), joinedB.lastSeq, '/ws');
      assert.deepEqual(seqs(seenA), seqs(b.events(roomId)), 'Alice saw exactly what Bob, who never dropped, saw');
      assert.deepEqual(seqs(seenA), acksB.map((x) => x.seq), 'every message Bob sent, once');
      a.socket.disconnect();
    });
  }

  /** An error answer's code (a Socket.IO ack has no id; a /ws answer echoes the request's). */
  function errorCode(answer, what, { native = false } = {}) {
    assert.equal(answer.type, 'error', `${what}: ${JSON.stringify(answer)}`);
    if (!native) assert.equal(answer.id, undefined, `${what}: no id`);
    assert.equal(typeof answer.message, 'string', `${what}: a message`);
    return answer.code;
  }

  /**
   * Alice's private room with one message in it, watched over /ws on the other gateway, so
   * that `assertNothingPublished` can tell that nothing reached the room since: the next event
   * is the next message sent, and history has nothing in between.
   */
  async function quietRoom() {
    const alice = await user('alice');
    const roomId = await room(alice, []);
    const watcher = await native(alice);
    await watcher.request({ type: 'join', roomId });
    const say = async (message) => (await alice.api('POST', '/sendMessage', { roomId, senderId: alice.userId, message, timestamp: new Date().toISOString() })).seq;
    await say('before');
    return {
      alice, roomId, watcher,
      async assertNothingPublished() {
        const after = await say('after');
        await waitFor(() => watcher.events(roomId).some((e) => e.seq === after), { what: 'the message after' });
        assert.deepEqual(watcher.events(roomId).map((e) => e.event.data.message), ['before', 'after'], 'events in the room');
        const history = await alice.api('GET', `/getMessages?roomId=${roomId}&limit=100&minSeq=${after}`);
        assert.deepEqual(history.messages.map((m) => m.message), ['before', 'after'], 'history');
      },
    };
  }

  test('an unknown event is `unknown_type`, as on /ws; nothing is published', async () => {
    const q = await quietRoom();
    const a = await sio(q.alice);
    assert.equal(errorCode(await ask(a.socket, 'frobnicate', { roomId: q.roomId, message: 'x' }), 'unknown event'), 'unknown_type');
    assert.equal(errorCode(await q.watcher.request({ type: 'frobnicate', roomId: q.roomId }), '/ws', { native: true }), 'unknown_type');
    assert.deepEqual(await ask(a.socket, 'ping', {}), { type: 'pong' }, 'still answering');
    await q.assertNothingPublished();
  });

  test('a payload that is not one object, or a field of the wrong type, is `invalid_frame`; nothing is published', async () => {
    const q = await quietRoom();
    const { roomId } = q;
    const a = await sio(q.alice); // a member: a command carried out would publish
    for (const bad of [{ roomId, message: 42 }, { roomId: 7, message: 'x' }, { roomId, message: 'x', clientMsgId: {} }]) {
      const viaSio = errorCode(await ask(a.socket, 'send', bad), `send ${JSON.stringify(bad)}`);
      const viaWs = errorCode(await q.watcher.request({ type: 'send', ...bad }), '/ws', { native: true });
      assert.equal(viaSio, viaWs, `send ${JSON.stringify(bad)}: Socket.IO and /ws agree`);
      assert.equal(viaSio, 'invalid_frame');
    }
    for (const [what, args] of [
      ['a string', ['hello']], ['an array', [[{ roomId, message: 'in an array' }]]], ['no payload', []],
      ['two payloads', [{ roomId, message: 'first of two' }, 'second']],
      ['three payloads', [{ roomId, message: 'first of three' }, 1, 2]],
    ]) {
      assert.equal(errorCode(await ask(a.socket, 'send', ...args), `send with ${what}`), 'invalid_frame', `send with ${what}`);
    }
    assert.deepEqual(await ask(a.socket, 'ping', {}), { type: 'pong' }, 'still answering');
    assert.equal(a.socket.connected, true);
    await q.assertNothingPublished();
  });

  test('join, send and read in a room you are not in: the codes /ws answers; nothing is published', async () => {
    const q = await quietRoom();
    const { roomId } = q;
    const carol = await user('carol');
    const c = await sio(carol);
    const cNative = await native(carol);
    const baseline = q.watcher.events(roomId)[0].seq;
    for (const [event, payload] of [
      ['join', { roomId }], ['send', { roomId, message: 'let me in' }], ['read', { roomId, seq: baseline }],
      ['join', { roomId: 'no-such-room' }], ['send', { roomId: 'no-such-room', message: 'hello?' }],
    ]) {
      const what = `${event} ${JSON.stringify(payload)}`;
      const viaSio = errorCode(await ask(c.socket, event, payload), what);
      const viaWs = errorCode(await cNative.request({ type: event, ...payload }), `/ws ${what}`, { native: true });
      assert.equal(viaSio, viaWs, `${what}: Socket.IO and /ws agree`);
      assert.match(viaSio, /^(not_a_member|room_not_found|room_private)$/);
    }
    assert.deepEqual(await ask(c.socket, 'ping', {}), { type: 'pong' }, 'still answering');
    await q.assertNothingPublished();
  });

  test('a refused event sent without an ack callback arrives as the event `error`', async () => {
    const q = await quietRoom();
    const carol = await user('carol');
    const c = await sio(carol);
    const cNative = await native(carol);
    const expected = errorCode(await cNative.request({ type: 'send', roomId: q.roomId, message: 'no ack' }), '/ws', { native: true });
    const names = [];
    c.socket.onAny((name) => names.push(name));
    c.socket.emit('send', { roomId: q.roomId, message: 'no ack' });
    c.socket.emit('send', 'not an object');
    c.socket.emit('ping', {}); // a success without a callback: dropped
    // Then compare what came, so that a missing one shows which.
    await waitFor(() => c.errors.length >= 2, { timeoutMs: 5_000 }).catch(() => {});
    await sleep(300);
    // The bridge refuses a payload that is not one object at once, so that refusal may come
    // before the answer of the earlier send (README, "Socket.IO"): compare as a set.
    const sorted = (list) => list.map((e) => JSON.stringify(e)).sort();
    assert.deepEqual(sorted(c.errors.map((e) => [e.code, e.type, typeof e.message])),
      sorted([[expected, undefined, 'string'], ['invalid_frame', undefined, 'string']]));
    assert.deepEqual(names, ['error', 'error'], 'nothing else arrived (the pong was dropped)');
    await q.assertNothingPublished();
  });

  /** A well-formed, unexpired HS256 token for `sub`, signed with a secret the server does not have. */
  function foreignToken(sub) {
    const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, iss: 'chat', aud: 'chat-clients', iat: now, exp: now + 3600 })}`;
    return `${body}.${createHmac('sha256', randomBytes(32)).update(body).digest('base64url')}`;
  }

  // The codes of the /ws handshake: no token, unauthenticated; a token that does not
  // verify, invalid_token.
  for (const [what, auth, code] of [
    ['no token', {}, 'unauthenticated'],
    ['a bad token', { token: 'not.a.jwt' }, 'invalid_token'],
    ['a token signed by another server', { token: foreignToken('01a1') }, 'invalid_token'],
  ]) {
    for (const { label, options } of TRANSPORTS) {
      test(`${what} (${label}): connect_error "${code}", no hello`, async () => {
        const socket = io(stack.url, { auth, forceNew: true, reconnection: false, ...options });
        sockets.push(socket);
        let hello = false;
        socket.on('hello', () => (hello = true));
        const err = await new Promise((resolve, reject) => {
          socket.once('connect_error', resolve);
          socket.once('connect', () => reject(new Error('connected without a valid token')));
        });
        assert.equal(err.message, code);
        await sleep(200);
        assert.equal(hello, false);
        assert.equal(socket.connected, false);
        socket.disconnect();
      });
    }
  }
});
