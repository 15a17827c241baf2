// The terminal client and the web client in one room: a person in Chromium and a `chat`
// process (target/debug/chat, built by ops/test) see each other's messages live; the
// terminal user joins by the room's name and sees the browser user by name.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT, startStack, waitFor } from './support/stack.js';
import { launchBrowser } from './support/browser.js';

const CHAT_BIN = process.env.CHAT_CLIENT_BIN || path.join(ROOT, 'target/debug/chat');
const PASSWORD = 'correct horse battery';

let stack;
let browser;
let terminal;

before(async () => {
  stack = await startStack();
  browser = await launchBrowser();
});

after(async () => {
  terminal?.process.kill('SIGKILL');
  await browser?.close();
  await stack?.stop();
});

/** A running `chat` with everything it printed so far. */
function startTerminal(args) {
  const child = spawn(CHAT_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { process: child, stdout: '', stderr: '', exit: null };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  out.exited = new Promise((resolve) => child.on('exit', (code) => resolve((out.exit = code))));
  return out;
}

test('a terminal user and a browser user chat in one room', { timeout: 120_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1180, height: 740 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(stack.url);
  await page.getByLabel('Username').fill('carol');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#me-name').filter({ hasText: 'carol' }).waitFor();
  await page.getByText('New room').click();
  await page.getByLabel('Room name').fill('mixed');
  await page.getByRole('button', { name: 'Create room' }).click();
  await page.locator('#room-title', { hasText: 'mixed' }).waitFor();
  const roomId = (await page.locator('#room-meta code').textContent()).trim();

  // The terminal user finds the room by its name in the public room directory.
  terminal = startTerminal(['--server', stack.url, '--user', 'dave', '--password', PASSWORD, '--register']);
  await waitFor(() => terminal.stderr.includes('* connected'), {
    what: `the terminal client connecting; stderr:\n${terminal.stderr}`,
  });
  terminal.process.stdin.write('/join Mixed\n');
  await waitFor(() => terminal.stderr.includes(`joined ${roomId}`), {
    what: `the terminal client joining; stderr:\n${terminal.stderr}`,
  });

  // Browser → terminal.
  await page.getByLabel('Message', { exact: true }).fill('hello from the browser');
  await page.getByLabel('Message', { exact: true }).press('Enter');
  // Shown by name, not by id.
  await waitFor(() => terminal.stdout.split('\n').some((l) => l === `[${roomId}] carol: hello from the browser`), {
    what: `the message on the terminal; stdout:\n${terminal.stdout}`,
  });

  // Terminal → browser.
  terminal.process.stdin.write('hello from the terminal\n');
  await page.locator('#message-list li.message:not(.pending) .text', { hasText: 'hello from the terminal' }).waitFor();
  const texts = await page.locator('#message-list li.message:not(.pending) .text').allTextContents();
  assert.deepEqual(texts, ['hello from the browser', 'hello from the terminal']);

  // End of input: the terminal client waits for its acks and exits cleanly.
  terminal.process.stdin.end();
  assert.equal(await terminal.exited, 0, `stderr:\n${terminal.stderr}`);
  const lines = terminal.stdout.split('\n').filter((l) => l.includes('hello from the'));
  assert.equal(lines.length, 2, `each message printed once:\n${terminal.stdout}`);
  await context.close();
});
