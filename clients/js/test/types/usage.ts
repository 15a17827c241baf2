// Compiled with `tsc --noEmit` by `npm test`: the declarations type-check, and a client
// written against them compiles with strict settings.
import {
  ChatClient,
  type AckFrame,
  type EventBody,
  type EventFrame,
  type ProfileFrame,
  type ReadFrame,
  type ReadPositionFrame,
  type ReceiptFrame,
  type RoomAddedFrame,
  type RoomRemovedFrame,
  type RoomSummary,
} from 'chat-platform-client';

const client = new ChatClient({ url: 'ws://127.0.0.1:1/ws', token: async () => 'token' });
client.addEventListener('event', (e) => {
  const frame: EventFrame = e.detail;
  const body: EventBody = frame.event;
  if (body.type === 'message.posted') {
    const text: string = body.data.message;
    void text;
  }
});
client.addEventListener('reset', (e) => void e.detail.lastSeq.toFixed());
// The five inbox and read-state frames, typed from the generated protocol types.
client.addEventListener('roomAdded', (e) => {
  const room: RoomSummary = e.detail.room;
  const unread: number | undefined = room.unreadCount;
  const peer: string | null | undefined = room.peerName;
  void [room.roomId.toUpperCase(), room.lastSeq.toFixed(), unread, peer];
});
client.addEventListener('roomRemoved', (e) => void e.detail.roomId.toUpperCase());
client.addEventListener('profile', (e) => void [e.detail.userId, e.detail.displayName.trim()]);
client.addEventListener('readPosition', (e) => void [e.detail.roomId, e.detail.lastReadSeq.toFixed()]);
client.addEventListener('receipt', (e) => void [e.detail.roomId, e.detail.userId, e.detail.seq.toFixed()]);
const frames: [RoomAddedFrame['type'], RoomRemovedFrame['type'], ProfileFrame['type'], ReadPositionFrame['type'], ReceiptFrame['type']] =
  ['roomAdded', 'roomRemoved', 'profile', 'readPosition', 'receipt'];
void frames;
const readFrame: ReadFrame = { type: 'read', id: '1', roomId: 'r', seq: 3 };
void client.read(readFrame.roomId, readFrame.seq).then((ack: AckFrame) => ack.type);
// @ts-expect-error a seq is a number
void client.read('r', '3');
const ack: Promise<AckFrame> = client.send('room', 'hello');
void ack;
