// A scripted stand-in for WebSocket, for unit tests of the SDK's protocol logic: it records
// the frames the client sends and lets the test deliver server frames and closes. Every
// instance is kept in `FakeSocket.all`, newest last.

export class FakeSocket extends EventTarget {
  static all = [];

  constructor(url) {
    super();
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    FakeSocket.all.push(this);
    queueMicrotask(() => {
      this.readyState = 1;
      this.dispatchEvent(new Event('open'));
    });
  }

  static latest() {
    return FakeSocket.all.at(-1);
  }

  static reset() {
    FakeSocket.all = [];
  }

  send(text) {
    this.sent.push(JSON.parse(text));
  }

  /** Frames the client sent of `type`. */
  frames(type) {
    return this.sent.filter((f) => f.type === type);
  }

  /** Delivers a server frame. */
  deliver(frame) {
    const event = new Event('message');
    event.data = JSON.stringify(frame);
    this.dispatchEvent(event);
  }

  /** The server (or the network) closes the socket. */
  serverClose(code = 1006) {
    this.readyState = 3;
    const event = new Event('close');
    event.code = code;
    this.dispatchEvent(event);
  }

  close(code = 1000) {
    this.closedWith = code;
    this.readyState = 3;
  }
}

/** Waits until `check()` is truthy (polling the event loop), or fails after `ms`. */
export async function until(check, ms = 2_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
}

export function hello(userId = 'u1', rooms = []) {
  return { type: 'hello', protocol: 1, userId, connectionId: 'c', heartbeatMs: 15000, idleTimeoutMs: 40000, rooms };
}

export function event(roomId, seq, prevSeq, text = `m${seq}`) {
  return {
    type: 'event',
    roomId,
    seq,
    prevSeq,
    event: {
      eventId: `e${seq}`,
      type: 'message.posted',
      v: 1,
      occurredAt: '2026-12-01T00:00:00Z',
      actor: 'u2',
      roomId,
      data: { messageId: `m${seq}`, message: text },
    },
  };
}
