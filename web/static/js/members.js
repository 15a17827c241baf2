// A room's member list from GET /rooms/{roomId}/members ({userId, username, displayName,
// status, lastSeen, lastReadSeq} each): it fills in names, presence not yet known, who is
// in the room, and how far each has read ("Seen by"). A server without the route answers
// 404; then `chat.features.members` becomes false and the page hides what needs it.

/** The members, or null where the server has no member list. */
export async function loadMembers(chat, room) {
  if (chat.features.members === false) return null;
  let members;
  try {
    members = await chat.api.listMembers(room.id);
  } catch (e) {
    if (e.routeMissing) {
      chat.features.members = false;
      return null;
    }
    throw e;
  }
  chat.features.members = true;
  room.membersLoaded = true;
  chat.names.learnAll(members);
  for (const m of members) {
    room.members.add(m.userId);
    if (m.userId !== chat.me.userId && m.lastReadSeq != null) room.sawUpTo(m.userId, Number(m.lastReadSeq));
    if (m.status && !chat.presence.has(m.userId)) chat.presence.set(m.userId, { status: m.status, lastSeen: m.lastSeen ?? null });
  }
  if (room.memberCount < members.length) room.memberCount = members.length;
  return members;
}
