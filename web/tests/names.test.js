// Unit tests of the pure parts behind people on the page: the name cache's batching
// (static/js/names.js) against a scripted directory, a room's unread count and "seen by"
// (static/js/room.js), and initials (static/js/format.js). No browser, no server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Names } from '../static/js/names.js';
import { Room } from '../static/js/room.js';
import { initials, personName, userLabel } from '../static/js/format.js';

const settle = () => new Promise((r) => setTimeout(r, 60));

/** A directory that answers GET /users?ids= from `people` and records every call. */
function directory(people, { failFirst } = {}) {
  const calls = [];
  return {
    calls,
    async getUsers(ids) {
      calls.push(ids);
      if (failFirst && calls.length === 1) throw Object.assign(new Error('slow down'), { status: 429, retryAfterMs: 10 });
      return ids.filter((id) => people[id]).map((id) => ({ userId: id, username: people[id].toLowerCase(), displayName: people[id] }));
    },
  };
}

test('names asked for together go out in one request, and each id only once', async () => {
  const api = directory({ a: 'Ann', b: 'Bo' });
  const names = new Names(api, () => {});
  names.want(['a', 'b', 'a']);
  names.want(['b']);
  await settle();
  names.want(['a', 'b']);
  await settle();
  assert.deepEqual(api.calls, [['a', 'b']]);
  assert.equal(personName('a', names), 'Ann');
  assert.equal(names.get('b').username, 'bo');
  names.stop();
});

test('names that came with history are not asked for; unknown ids keep a short label', async () => {
  const api = directory({});
  const names = new Names(api, () => {});
  names.learn('0195f0c2-7b1e-7c3a-9d4e-2f6a8b9c0d1e', 'Carol');
  names.want(['0195f0c2-7b1e-7c3a-9d4e-2f6a8b9c0d1e', '0195f0c2-7b1e-7c3a-9d4e-aaaaaa8a22d7']);
  await settle();
  assert.deepEqual(api.calls, [['0195f0c2-7b1e-7c3a-9d4e-aaaaaa8a22d7']]);
  assert.equal(personName('0195f0c2-7b1e-7c3a-9d4e-aaaaaa8a22d7', names), 'User 8a22d7');
  names.stop();
});

test('at most 100 ids per request; a 429 is retried after Retry-After', async () => {
  const people = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`u${i}`, `P${i}`]));
  const api = directory(people, { failFirst: true });
  const names = new Names(api, () => {});
  names.want(Object.keys(people));
  await new Promise((r) => setTimeout(r, 2_300));
  assert.ok(api.calls.every((ids) => ids.length <= 100));
  assert.equal(api.calls[0].length, 100);
  assert.equal(names.get('u149')?.displayName, 'P149');
  assert.equal(names.get('u0')?.displayName, 'P0', 'the refused batch was asked again');
  names.stop();
});

test('unread: the server count until read, plus live messages after it', () => {
  const room = new Room({ roomId: 'r', lastSeq: 10 });
  room.setServerUnread(3, 7, 10);
  assert.equal(room.unread, 3);
  room.unreadSeqs.add(12);
  assert.equal(room.unread, 4);
  room.readTo(10);
  assert.equal(room.unread, 1, 'read up to 10 on another device: only 12 is left');
  room.readTo(12);
  assert.equal(room.unread, 0);
  room.readTo(5);
  assert.equal(room.readSeq, 12, 'a read position never moves back');
});

test('seen by: members whose read position reached the message, without me and the sender', () => {
  const room = new Room({ roomId: 'r' });
  room.sawUpTo('bob', 9);
  room.sawUpTo('cat', 4);
  room.sawUpTo('bob', 3);
  room.sawUpTo('me', 20);
  assert.deepEqual(room.seenBy(9, ['me', 'dan']), ['bob']);
  assert.deepEqual(room.seenBy(4, ['me', 'bob']), ['cat']);
});

test('initials come from the name: two words, or the parts of a username', () => {
  assert.equal(initials('Bobby Tables'), 'BT');
  assert.equal(initials('sam-desktop'), 'SD');
  assert.equal(initials('alice'), 'AL');
  assert.equal(initials('élodie durand'), 'ÉD');
  assert.equal(initials('  '), '?');
  assert.equal(userLabel('me', { userId: 'me', username: 'al', displayName: 'Al Bundy' }, null), 'Al Bundy (you)');
});
