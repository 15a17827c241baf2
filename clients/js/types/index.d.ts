// Types of the SDK's own API. The wire types (frames, the event envelope) are generated
// from the server's JSON Schemas into ./protocol.d.ts.
import type { ClientFrame, Envelope, EventBody, RoomPosition, RoomSummary, ServerFrame } from './protocol.js';

export type { ClientFrame, Envelope, EventBody, RoomPosition, ServerFrame };

/** The server frame of type `T`. */
export type ServerFrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
export type HelloFrame = ServerFrameOf<'hello'>;
export type AckFrame = ServerFrameOf<'ack'>;
export type JoinedFrame = ServerFrameOf<'joined'>;
export type EventFrame = ServerFrameOf<'event'>;
export type ResumedFrame = ServerFrameOf<'resumed'>;
export type PresenceFrame = ServerFrameOf<'presence'>;
export type RoomPresenceFrame = ServerFrameOf<'roomPresence'>;
export type TypingFrame = ServerFrameOf<'typing'>;
export type ErrorFrame = ServerFrameOf<'error'>;

/** The client frame of type `T`. */
export type ClientFrameOf<T extends ClientFrame['type']> = Extract<ClientFrame, { type: T }>;
export type ReadFrame = ClientFrameOf<'read'>;

/** A GET /rooms entry, as `roomAdded` carries it (generated from the server's schema). */
export type { RoomSummary };
/** The older name of RoomSummary. */
export type RoomListing = RoomSummary;
/** The per-user inbox: frames every connection gets without joining anything. */
export type RoomAddedFrame = ServerFrameOf<'roomAdded'>;
export type RoomRemovedFrame = ServerFrameOf<'roomRemoved'>;
export type ProfileFrame = ServerFrameOf<'profile'>;
export type ReadPositionFrame = ServerFrameOf<'readPosition'>;
export type ReceiptFrame = ServerFrameOf<'receipt'>;

/** A token, or a function that gives one (called before every connection and renewal). */
export type TokenSource = string | (() => string | Promise<string>);

export interface ConnectionOptions {
  /** The `/ws` address; in a browser it defaults to the page's own origin. */
  url?: string | URL;
  token: TokenSource;
  /** A WebSocket implementation; defaults to the global one (Node 20: pass `ws`'s). */
  WebSocket?: unknown;
  baseDelayMs?: number;
  maxDelayMs?: number;
  probeEveryMs?: number;
  probeTimeoutMs?: number;
  helloTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export type ChatClientOptions = ConnectionOptions;

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface PendingSend {
  roomId: string;
  message: string;
  clientMsgId: string;
  state: 'queued' | 'sending';
}

export interface ChatClientEvents {
  state: { state: ConnectionState };
  hello: HelloFrame;
  event: EventFrame;
  reset: { roomId: string; lastSeq: number };
  roomLost: { roomId: string; code: string };
  presence: PresenceFrame;
  roomPresence: RoomPresenceFrame;
  typing: TypingFrame;
  roomAdded: RoomAddedFrame;
  roomRemoved: RoomRemovedFrame;
  profile: ProfileFrame;
  readPosition: ReadPositionFrame;
  receipt: ReceiptFrame;
  serverError: ErrorFrame;
  frame: { type: string; [field: string]: unknown };
  unauthenticated: { code: number };
}

export declare class ChatClient extends EventTarget {
  constructor(options: ChatClientOptions);
  connect(): this;
  close(): void;
  /** Resolves once connected and up to date; rejects with ClientClosed if closed first. */
  ready(): Promise<void>;
  readonly state: ConnectionState;
  readonly retryAt: number | null;
  readonly userId: string | null;
  retryNow(): void;
  lastSeq(roomId: string): number | null;
  rooms(): string[];
  pendingSends(): PendingSend[];
  join(roomId: string, options?: { lastSeq?: number }): Promise<JoinedFrame>;
  leave(roomId: string): Promise<AckFrame>;
  send(roomId: string, message: string, options?: { clientMsgId?: string }): Promise<AckFrame>;
  edit(roomId: string, messageId: string, message: string): Promise<AckFrame>;
  delete(roomId: string, messageId: string): Promise<AckFrame>;
  typing(roomId: string): boolean;
  setStatus(status: 'online' | 'away' | 'offline'): Promise<AckFrame>;
  /** Moves the read position forward to `seq`; resolves on the server's ack. */
  read(roomId: ReadFrame['roomId'], seq: ReadFrame['seq']): Promise<AckFrame>;
  watch(userIds: string[]): Promise<void>;
  addEventListener<K extends keyof ChatClientEvents>(
    type: K,
    listener: (event: CustomEvent<ChatClientEvents[K]>) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
}

export declare class Connection extends EventTarget {
  constructor(options: ConnectionOptions);
  state: ConnectionState;
  retryAt: number | null;
  readonly offline: boolean;
  start(): void;
  stop(): void;
  retryNow(): void;
  send(frame: ClientFrame | { type: string; [field: string]: unknown }): boolean;
  id(): string;
  request(frame: { type: string; [field: string]: unknown }): Promise<ServerFrame>;
}

export type RoomEventOutcome = 'apply' | 'repeat' | 'gap' | 'unfollowed';

export declare class RoomCursors {
  follow(roomId: string, lastSeq?: number | null): void;
  unfollow(roomId: string): void;
  follows(roomId: string): boolean;
  position(roomId: string): number | null;
  accept(roomId: string, seq: number, prevSeq: number): RoomEventOutcome;
  reached(roomId: string, lastSeq: number): void;
  reset(roomId: string, lastSeq: number): void;
  split(): { resume: RoomPosition[]; join: string[] };
  rooms(): string[];
}

export interface OutboxEntry extends PendingSend {
  promise: Promise<AckFrame>;
}

export declare class Outbox {
  add(roomId: string, message: string, clientMsgId?: string): OutboxEntry;
  takeQueued(): OutboxEntry[];
  requeue(entry: OutboxEntry): void;
  settle(entry: OutboxEntry, ack: AckFrame): void;
  fail(entry: OutboxEntry, error: Error): void;
  failAll(error: Error): number;
  list(): PendingSend[];
  readonly size: number;
}

export declare function newClientMsgId(): string;
export declare function backoffDelay(
  attempt: number,
  options: { baseDelayMs: number; maxDelayMs: number; random?: () => number },
): number;

export declare class ConnectionLost extends Error {
  readonly code: 'connection_lost';
}
export declare class FrameError extends Error {
  readonly code: string;
  readonly frame: ErrorFrame;
}
export declare class NotConnected extends Error {
  readonly code: 'not_connected';
}
export declare class ClientClosed extends Error {
  readonly code: 'client_closed';
}
