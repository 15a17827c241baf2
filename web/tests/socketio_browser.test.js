// The /socket.io/ endpoint from a real browser: in one Chromium page served from chat-server's
// origin, under the Content-Security-Policy the server gives its own page, socket.io-client
// (the package's browser build, loaded from node_modules, no CDN) signs in as one person and
// the repo's JavaScript SDK (clients/js, as the web client loads it from /static/sdk/) as
// another. Both join one room and talk; each must receive the other's messages with the seqs
// the sender's ack named, and the same events in the same order.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { registerUser, ROOT, startStack } from './support/stack.js';
import { launchBrowser } from './support/browser.js';

const PASSWORD = 'correct horse battery';
const SOCKET_IO_JS = path.join(ROOT, 'web/node_modules/socket.io-client/dist/socket.io.min.js');
/** The test page: nothing but socket.io-client; the test drives it with `page.evaluate`. */
const PAGE = '<!doctype html><meta charset="utf-8"><title>Socket.IO and the SDK</title>'
  + '<script src="/sio-test/socket.io.min.js"></script><p>Socket.IO and the SDK</p>';

describe('Socket.IO in Chromium beside the JavaScript SDK', { timeout: 180_000 }, () => {
  let stack;
  let browser;
  let csp;

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
    // The page is held to what chat-server allows its own page.
    csp = (await fetch(stack.url)).headers.get('content-security-policy');
    assert.ok(csp, 'chat-server sends a Content-Security-Policy');
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A page on chat-server's origin whose /sio-test/ files are served by the test. */
  async function openPage(problems) {
    // A page the test serves comes from no address, which Chromium treats as public: it
    // may reach the loopback server (the WebSockets) only with this permission.
    const context = await browser.newContext({ permissions: ['local-network-access'] });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    await page.route(`${stack.url}/sio-test/**`, (route) => {
      const file = new URL(route.request().url()).pathname;
      if (file === '/sio-test/page.html') {
        return route.fulfill({ contentType: 'text/html', headers: { 'content-security-policy': csp }, body: PAGE });
      }
      if (file === '/sio-test/socket.io.min.js') {
        return route.fulfill({ contentType: 'text/javascript', body: fs.readFileSync(SOCKET_IO_JS) });
      }
      return route.fulfill({ status: 404, body: '' });
    });
    await page.goto(`${stack.url}/sio-test/page.html`);
    assert.equal(await page.evaluate(() => typeof io), 'function', 'socket.io-client loaded');
    return { context, page };
  }

  for (const transports of [undefined, ['polling']]) {
    const label = transports ? 'long-polling' : 'WebSocket after the upgrade';
    test(`a Socket.IO user (${label}) and an SDK user talk in one room`, async () => {
      const suffix = `${transports ? 'p' : 'w'}${Date.now().toString(36)}`;
      const alice = await registerUser(stack.url, `alice_${suffix}`, PASSWORD);
      const bob = await registerUser(stack.url, `bob_${suffix}`, PASSWORD);
      const { roomId } = await alice.api('POST', '/rooms', { name: 'browsers', visibility: 'private', members: [bob.userId] });
      const problems = [];
      const { context, page } = await openPage(problems);

      // Alice over socket.io-client, Bob over the SDK's native /ws, both in this page.
      const joined = await page.evaluate(async ({ tokenA, tokenB, roomId, transports }) => {
        const seen = { sio: [], sdk: [], hello: null };
        window.seen = seen;
        const socket = io({ auth: { token: tokenA }, reconnection: false, ...(transports ? { transports } : {}) });
        window.sio = socket;
        socket.on('event', (p) => seen.sio.push(p));
        seen.hello = await new Promise((resolve, reject) => {
          setTimeout(() => reject(new Error('timed out: hello over Socket.IO')), 15_000);
          socket.once('hello', resolve);
          socket.once('connect_error', (e) => reject(new Error(`connect_error: ${e.message}`)));
        });
        const sioJoined = await socket.timeout(10_000).emitWithAck('join', { roomId });
        const { ChatClient } = await import('/static/sdk/index.js');
        const sdk = new ChatClient({ token: tokenB });
        window.sdk = sdk;
        sdk.addEventListener('event', ({ detail }) => seen.sdk.push(detail));
        sdk.connect();
        // No step may hang the test: each fails with what it was waiting for.
        const within = (promise, what) => Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), 15_000))]);
        await within(sdk.ready(), 'the SDK connected');
        await within(sdk.join(roomId), 'the SDK joined');
        return { sio: sioJoined, sdkLastSeq: sdk.lastSeq(roomId) };
      }, { tokenA: alice.token, tokenB: bob.token, roomId, transports });
      assert.equal(joined.sio.type, 'joined', JSON.stringify(joined.sio));
      assert.equal(joined.sio.lastSeq, joined.sdkLastSeq, 'both start from the same seq');

      // They take turns, then both send at once.
      const acks = await page.evaluate(async ({ roomId }) => {
        const sioSend = async (message) => ({ by: 'sio', message, ...(await window.sio.timeout(10_000).emitWithAck('send', { roomId, message })) });
        const sdkSend = async (message) => ({ by: 'sdk', message, ...(await window.sdk.send(roomId, message)) });
        const out = [];
        for (let i = 0; i < 3; i += 1) {
          out.push(await sioSend(`from Socket.IO ${i}`));
          out.push(await sdkSend(`from the SDK ${i}`));
        }
        out.push(...(await Promise.all([3, 4, 5].flatMap((i) => [sioSend(`from Socket.IO ${i}`), sdkSend(`from the SDK ${i}`)]))));
        return out;
      }, { roomId });
      for (const ack of acks) assert.ok(Number.isInteger(ack.seq) && ack.seq > joined.sio.lastSeq, JSON.stringify(ack));
      assert.ok(acks.filter((a) => a.by === 'sio').every((a) => a.type === 'ack' && a.messageId), 'Socket.IO acks are `ack` frames');

      const total = acks.length;
      await page.waitForFunction((n) => window.seen.sio.length >= n && window.seen.sdk.length >= n, total, { timeout: 15_000 })
        .catch(async (e) => {
          const counts = await page.evaluate(() => [window.seen.sio.length, window.seen.sdk.length]);
          throw new Error(`events seen (Socket.IO, SDK): ${counts}, wanted ${total} each: ${e.message}`);
        });
      await page.waitForTimeout(300); // a repeat would arrive now
      const { seen, transport } = await page.evaluate(() => ({ seen: window.seen, transport: window.sio.io.engine.transport.name }));

      assert.equal(seen.hello.userId, alice.userId);
      assert.equal(transport, transports ? 'polling' : 'websocket');
      const summary = (events) => events.map((e) => [e.seq, e.event.type, e.event.data.message]);
      assert.equal(seen.sio.length, total, 'Socket.IO: each event once');
      assert.equal(seen.sdk.length, total, 'SDK: each event once');
      assert.deepEqual(summary(seen.sio), summary(seen.sdk), 'the same events in the same order');
      // The SDK passes on the whole native frame; Socket.IO's payload is that frame minus `type`.
      assert.ok(seen.sdk.every((e) => e.type === 'event'));
      assert.deepEqual(seen.sio, seen.sdk.map(({ type: _type, ...rest }) => rest), 'the same payloads');
      let last = joined.sio.lastSeq;
      for (const e of seen.sio) {
        assert.equal(e.prevSeq, last, `event ${e.seq} follows ${last}`);
        last = e.seq;
      }
      const bySeq = new Map(seen.sio.map((e) => [e.seq, e]));
      for (const ack of acks) {
        const event = bySeq.get(ack.seq);
        assert.ok(event, `the event of ${ack.by}'s "${ack.message}" (seq ${ack.seq}) arrived`);
        assert.equal(event.event.data.message, ack.message);
        assert.equal(event.event.actor, ack.by === 'sio' ? alice.userId : bob.userId);
      }
      assert.deepEqual(problems, []);
      await page.evaluate(() => (window.sio.disconnect(), window.sdk.close()));
      await context.close();
    });
  }
});
