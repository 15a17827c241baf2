// Tokens: a fixed string or a provider called before every connection (and before the
// token expires, to keep a connection alive), and when a token expires, read from its
// JWT `exp` claim without verifying it (the server verifies; the client only schedules).

/** @param {string | (() => string | Promise<string>)} source */
export async function currentToken(source) {
  const token = typeof source === 'function' ? await source() : source;
  if (typeof token !== 'string' || token === '') throw new TypeError('the token provider gave no token');
  return token;
}

/** The token's expiry in ms since the epoch, or null when it is not a JWT with `exp`. */
export function tokenExpiry(token) {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const base64 = payload.replaceAll('-', '+').replaceAll('_', '/');
    const claims = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')));
    return Number.isFinite(claims.exp) ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** When to renew a token expiring at `expiresAt`: a minute before, never sooner than 5 s. */
export function renewalDelay(expiresAt, now = Date.now()) {
  return Math.max(5_000, expiresAt - now - 60_000);
}
