// Compiled with `tsc --noEmit` by `npm test`: the declarations type-check, and a client
// written against them compiles with strict settings.
import { ChatClient, type AckFrame, type EventFrame, type EventBody } from 'chat-platform-client';

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
client.addEventListener('roomAdded', (e) => void e.detail.room.roomId.toUpperCase());
client.addEventListener('readPosition', (e) => void e.detail.lastReadSeq.toFixed());
void client.read('r', 3).then((ack) => ack.type);
const ack: Promise<AckFrame> = client.send('room', 'hello');
void ack;
