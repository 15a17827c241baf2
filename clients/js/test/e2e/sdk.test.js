// The SDK against the real product, as a Node 20 program would use it (with `ws`): two
// users talk in a room; a client whose network drops gets every missed event once and in
// order; a send whose ack was lost is retried and stored once; a logout signs it out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatClient } from '../../src/index.js';
import { collect, CuttableSocket, registerUser, startStack, waitFor, wsUrl } from './support.js';

let stack;
let alice;
let bob;
let roomId;
const clients = [];

function connect(user, options = {}) {
  const client = new ChatClient({ url: wsUrl(stack), token: user.token, WebSocket: CuttableSocket, ...options });
  clients.push(client);
  return client.connect();
}

async function opened(client) {
  await client.ready();
  return client;
}

/** How many messages in the room's history have this text (history is read up to `seq`). */
async function storedCount(text) {
  const history = await alice.api('GET', `/getMessages?roomId=${roomId}&limit=100`);
  return history.messages.filter((m) => m.message === text).length;
}

function texts(events) {
  return events.filter((f) => f.event.type === 'message.posted').map((f) => f.event.data.message);
}

before(async () => {
  stack = await startStack();
  const suffix = Date.now().toString(36);
  alice = await registerUser(stack.url, `alice_${suffix}`, 'correct horse battery');
  bob = await registerUser(stack.url, `bob_${suffix}`, 'correct horse battery');
  ({ roomId } = await alice.api('POST', '/rooms', { name: 'sdk', visibility: 'public' }));
  await bob.api('POST', `/rooms/${roomId}/join`);
});

after(async () => {
  for (const client of clients) client.close();
  await stack?.stop();
});

test('two users exchange messages: each event once, acked after it was stored', async () => {
  const a = await opened(connect(alice));
  const b = await opened(connect(bob));
  const seenByA = collect(a, 'event');
  const seenByB = collect(b, 'event');
  await a.join(roomId);
  await b.join(roomId);
  const ack = await b.send(roomId, 'hi alice');
  assert.ok(ack.seq > 0 && ack.messageId);
  await waitFor(() => texts(seenByA).includes('hi alice') && texts(seenByB).includes('hi alice'));
  const mine = seenByA.find((f) => f.event.data?.message === 'hi alice');
  assert.equal(mine.seq, ack.seq, 'both sides see the seq the ack named');
  await waitFor(async () => (await storedCount('hi alice')) === 1, { what: 'the message in history' });
  a.close();
  b.close();
});

test('a dropped network loses nothing: missed events arrive once, in order, after reconnecting', async () => {
  const a = await opened(connect(alice, { baseDelayMs: 1_500, maxDelayMs: 1_500 }));
  const events = collect(a, 'event');
  await a.join(roomId);
  const before = a.lastSeq(roomId);
  CuttableSocket.cutAll();
  await waitFor(() => a.state === 'reconnecting', { what: 'the client to notice the loss' });
  // Sent by Bob while Alice is away, and one by Alice herself from the outbox.
  for (let i = 1; i <= 5; i += 1) {
    await bob.api('POST', '/sendMessage', {
      roomId,
      message: `missed ${i}`,
      senderId: bob.userId,
      timestamp: new Date().toISOString(),
    });
  }
  const queued = a.send(roomId, 'written offline');
  const ack = await queued;
  await opened(a);
  await waitFor(() => texts(events).includes('written offline'), { what: 'the offline message to come back' });
  assert.deepEqual(texts(events), ['missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5', 'written offline']);
  const seqs = events.map((f) => f.seq);
  assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'in order');
  assert.equal(new Set(seqs).size, seqs.length, 'each once');
  assert.equal(seqs[0] > before, true);
  assert.equal(ack.seq, seqs.at(-1));
  a.close();
});

test('a send whose ack was lost is retried with the same clientMsgId and stored once', async () => {
  const a = await opened(connect(alice, { baseDelayMs: 200, maxDelayMs: 200 }));
  await a.join(roomId);
  CuttableSocket.cutAfter = (frame) => frame.type === 'send';
  const ack = await a.send(roomId, 'exactly once please');
  assert.ok(ack.seq > 0);
  await waitFor(async () => (await storedCount('exactly once please')) > 0, { what: 'the message in history' });
  assert.equal(await storedCount('exactly once please'), 1);
  assert.equal(a.pendingSends().length, 0);
  const tries = CuttableSocket.sent.filter((f) => f.type === 'send' && f.message === 'exactly once please');
  assert.equal(tries.length, 2, 'sent, cut off before the ack, sent again');
  assert.equal(tries[0].clientMsgId, tries[1].clientMsgId);
  a.close();
});

test('logging out elsewhere signs the client out; it does not retry', async () => {
  const carol = await registerUser(stack.url, `carol_${Date.now().toString(36)}`, 'correct horse battery');
  const c = await opened(connect(carol));
  const signedOut = collect(c, 'unauthenticated');
  const logout = await fetch(`${stack.url}/auth/logout`, {
    method: 'POST',
    headers: { authorization: `Bearer ${carol.token}` },
  });
  assert.equal(logout.status, 204);
  await waitFor(() => signedOut.length === 1, { what: 'the sign-out' });
  assert.equal(signedOut[0].code, 4004);
  assert.equal(c.state, 'closed');
});

test('a refused token is reported, not retried forever', async () => {
  const d = connect({ token: 'not-a-token' });
  const signedOut = collect(d, 'unauthenticated');
  await waitFor(() => signedOut.length === 1, { what: 'the refusal' });
  assert.equal(signedOut[0].code, 4001);
  assert.equal(d.state, 'closed');
});
