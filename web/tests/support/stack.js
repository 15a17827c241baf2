// Starts the real product for the browser tests and stops it again, by pid: a nats-server
// with JetStream and a temporary store, a fresh Postgres database on TEST_DATABASE_URL, and
// target/debug/chat-server (built by ops/test) on a free port. The server can be stopped
// with SIGTERM and started again on the same port with the same NATS and database, and
// standalone gateways (target/debug/gateway) can be added beside it, sharing all three.
// nats-server's arguments, the default admin database and the log level come from
// testkit/services.env, the file the Rust test kit (chat-testkit) and ops/lib read too.

import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** testkit/services.env as an object: KEY=VALUE lines, `#` comment lines skipped. */
function readServicesEnv() {
  const text = fs.readFileSync(path.join(ROOT, 'testkit/services.env'), 'utf8');
  const settings = {};
  for (const line of text.split('\n')) {
    if (line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) settings[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return settings;
}
const SETTINGS = readServicesEnv();

/** nats-server's arguments for a server on `port` storing JetStream data in `store`. */
function natsServerArgs(port, store) {
  const fill = { '{port}': String(port), '{store}': store };
  return SETTINGS.NATS_SERVER_ARGS.split(/\s+/).map((arg) => fill[arg] ?? arg);
}

const SERVER_BIN = process.env.CHAT_SERVER_BIN || path.join(ROOT, 'target/debug/chat-server');
// The standalone gateway is built beside chat-server (cargo build --workspace --bins).
const GATEWAY_BIN = process.env.GATEWAY_BIN || path.join(path.dirname(SERVER_BIN), 'gateway');
const NATS_BIN = process.env.NATS_SERVER_BIN || 'nats-server';
const ADMIN_URL = process.env.TEST_DATABASE_URL || SETTINGS.TEST_DATABASE_URL;

/** Every child still running, so that even an aborted run kills them. */
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `check` until it returns something truthy, or fails after `timeoutMs`. */
export async function waitFor(check, { timeoutMs = 15_000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A child process whose output goes to a log file; `stop` is SIGTERM, then SIGKILL. */
class Child {
  constructor(name, bin, args, env, logPath) {
    if (bin.includes('/') && !fs.existsSync(bin)) throw new Error(`${name}: ${bin} not found (run cargo build first)`);
    this.name = name;
    this.logPath = logPath;
    const log = fs.openSync(logPath, 'a');
    this.process = spawn(bin, args, { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
    this.process.once('error', (e) => fs.appendFileSync(logPath, `spawn error: ${e.message}\n`));
    children.add(this.process);
    this.exited.then(() => children.delete(this.process));
  }

  get pid() {
    return this.process.pid;
  }

  get running() {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  async stop(signal = 'SIGTERM', graceMs = 10_000) {
    if (!this.running) return this.exited;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  tail(lines = 30) {
    try {
      return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

async function psql(sql) {
  await promisify(execFile)('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', ADMIN_URL, '-c', sql], { timeout: 30_000 });
}

/**
 * NATS, a database and chat-server, ready to serve; `serverEnv` adds settings for the
 * server (e.g. GATEWAY_MAX_REPLAY). Call `stop()` in an `after` hook.
 */
export async function startStack(serverEnv = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-web-'));
  const stack = new Stack(dir, serverEnv);
  try {
    await stack.start();
  } catch (e) {
    await stack.stop();
    throw e;
  }
  return stack;
}

class Stack {
  constructor(dir, serverEnv) {
    this.dir = dir;
    this.serverEnv = serverEnv;
    this.database = `chat_web_${Date.now()}_${randomBytes(3).toString('hex')}`;
    this.nats = null;
    this.server = null;
    this.dbCreated = false;
    this.gateways = [];
  }

  async start() {
    const natsPort = await freePort();
    this.nats = new Child('nats-server', NATS_BIN, natsServerArgs(natsPort, path.join(this.dir, 'nats')),
      process.env, path.join(this.dir, 'nats.log'));
    await waitFor(() => portOpen(natsPort), { what: `nats-server on ${natsPort}\n${this.nats.tail()}` });
    await psql(`CREATE DATABASE ${this.database}`);
    this.dbCreated = true;
    const dbUrl = new URL(ADMIN_URL);
    dbUrl.pathname = `/${this.database}`;
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.env = {
      ...process.env,
      CHAT_HTTP_ADDR: `127.0.0.1:${this.port}`,
      // Test files run side by side: no fixed operator port for /metrics.
      CHAT_METRICS_ADDR: 'off',
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
      DATABASE_URL: dbUrl.toString(),
      JWT_SECRET: randomBytes(32).toString('hex'),
      RUST_LOG: process.env.RUST_LOG || SETTINGS.RUST_LOG,
      // Some tests send dozens of messages at once through the API.
      API_RATE_PER_SEC: '1000',
      API_RATE_BURST: '1000',
      ...this.serverEnv,
    };
    await this.startServer();
  }

  /** Starts chat-server (again, on the same port) and waits for /healthz. */
  async startServer() {
    this.server = new Child('chat-server', SERVER_BIN, [], this.env, path.join(this.dir, 'server.log'));
    const server = this.server;
    await waitFor(async () => {
      if (!server.running) throw new Error(`chat-server exited\n${server.tail()}`);
      return (await fetch(`${this.url}/healthz`)).ok;
    }, { timeoutMs: 60_000, what: `chat-server on ${this.url}` });
  }

  /** Stops chat-server (SIGTERM: it drains, closing WebSockets with 1012). */
  async stopServer(signal = 'SIGTERM') {
    return this.server?.stop(signal);
  }

  /**
   * Starts one more gateway process (the `gateway` binary) on a free port, with the server's
   * NATS, database and JWT secret, so that a token from the api works on it and what one
   * gateway publishes reaches the other's clients through NATS. Resolves to the child with
   * `url` (http://…) and `wsUrl` (ws://…/ws) once /healthz answers; `stop()` ends it early,
   * `Stack.stop()` in any case.
   */
  async startGateway(gatewayEnv = {}) {
    const port = await freePort();
    const n = this.gateways.length + 1;
    const env = {
      ...this.env,
      GATEWAY_HTTP_ADDR: `127.0.0.1:${port}`,
      GATEWAY_METRICS_ADDR: 'off',
      GATEWAY_ID: `web-test-gateway-${port}`,
      ...gatewayEnv,
    };
    const gateway = new Child(`gateway ${n}`, GATEWAY_BIN, [], env, path.join(this.dir, `gateway-${n}.log`));
    this.gateways.push(gateway);
    gateway.url = `http://127.0.0.1:${port}`;
    gateway.wsUrl = `ws://127.0.0.1:${port}/ws`;
    await waitFor(async () => {
      if (!gateway.running) throw new Error(`gateway exited\n${gateway.tail()}`);
      return (await fetch(`${gateway.url}/healthz`)).ok;
    }, { timeoutMs: 60_000, what: `gateway on ${gateway.url}` });
    return gateway;
  }

  async stop() {
    for (const gateway of this.gateways) await gateway.stop();
    await this.server?.stop();
    await this.nats?.stop();
    if (this.dbCreated) await psql(`DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`).catch(() => {});
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A small client of the HTTP API for setting things up outside the browser. */
export function apiClient(baseUrl, token) {
  return async (method, route, body) => {
    const response = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(data)}`);
    return data;
  };
}

/** Registers `username` through the api: {userId, token, api}. */
export async function registerUser(baseUrl, username, password) {
  const response = await fetch(`${baseUrl}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`register ${username}: ${response.status} ${JSON.stringify(body)}`);
  return { userId: body.userId, token: body.token, api: apiClient(baseUrl, body.token) };
}
