// The HTTP API client: JSON bodies, the Bearer token, and errors turned into ApiError with
// the server's own `error.code` and `error.message` (which the UI shows as is).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** The route itself is missing (a server older than this page): the feature is hidden. */
  get routeMissing() {
    return (this.status === 404 && !/^(room|user)_/.test(this.code)) || this.status === 405;
  }
}

export function createApi(getToken = () => null) {
  async function call(method, path, body) {
    const headers = { accept: 'application/json' };
    const token = getToken();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's error page): fall through to the generic message.
    }
    if (!response.ok) {
      const error = data?.error;
      const failure = new ApiError(
        response.status,
        error?.code ?? `http_${response.status}`,
        error?.message ?? `The server answered ${response.status} ${response.statusText}.`,
      );
      failure.retryAfterMs = Number(response.headers.get('retry-after') ?? error?.retryAfter ?? 0) * 1000;
      throw failure;
    }
    return data;
  }

  const room = (id) => `/rooms/${encodeURIComponent(id)}`;
  return {
    register: (username, password) => call('POST', '/auth/register', { username, password }),
    login: (username, password) => call('POST', '/auth/login', { username, password }),
    /** Ends every session of the caller, in every browser. */
    logout: () => call('POST', '/auth/logout'),
    listRooms: async () => (await call('GET', '/rooms')).rooms,
    createRoom: (name, visibility) => call('POST', '/rooms', { name, visibility }),
    joinRoom: (roomId) => call('POST', `${room(roomId)}/join`),
    leaveRoom: (roomId) => call('POST', `${room(roomId)}/leave`),
    openDirect: (userId) => call('POST', '/dms', { userId }),
    /** The server's routes ("/rooms/{roomId}/members", …), from its OpenAPI document. */
    routes: async () => new Set(Object.keys((await call('GET', '/openapi.json'))?.paths ?? {})),
    /** {userId, username, displayName} of the caller. */
    getMe: () => call('GET', '/users/me'),
    updateMe: (displayName) => call('PATCH', '/users/me', { displayName }),
    /** People whose username or display name starts with `query` (rate limited). */
    findUsers: async (query, limit = 20) => (await call('GET', `/users?${new URLSearchParams({ query, limit: String(limit) })}`)).users,
    /** At most 100 people by id; unknown ids are absent. */
    getUsers: async (ids) => (await call('GET', `/users?${new URLSearchParams({ ids: ids.join(',') })}`)).users,
    getUser: (userId) => call('GET', `/users/${encodeURIComponent(userId)}`),
    findPublicRooms: async (query, limit = 20) => (await call('GET', `/rooms/public?${new URLSearchParams({ query, limit: String(limit) })}`)).rooms,
    addMembers: (roomId, userIds) => call('POST', `${room(roomId)}/members`, { userIds }),
    /** Moves the caller's read position in a room forward to `seq`. */
    markRead: (roomId, seq) => call('POST', `${room(roomId)}/read`, { seq }),
    listMembers: async (roomId) => (await call('GET', `${room(roomId)}/members`)).members,
    /** { results: [{roomId, seq, messageId, senderName, snippet, highlights, …}], nextBeforeSeq? } */
    searchMessages: (q, { limit = 20, beforeSeq } = {}) => {
      const query = new URLSearchParams({ q, limit: String(limit) });
      if (beforeSeq != null) query.set('beforeSeq', String(beforeSeq));
      return call('GET', `/search?${query}`);
    },
    /** { messages (oldest first), projectedSeq } */
    getMessages: (roomId, { limit = 50, beforeSeq, afterSeq } = {}) => {
      const query = new URLSearchParams({ roomId, limit: String(limit) });
      if (beforeSeq != null) query.set('beforeSeq', String(beforeSeq));
      if (afterSeq != null) query.set('afterSeq', String(afterSeq));
      return call('GET', `/getMessages?${query}`);
    },
  };
}
