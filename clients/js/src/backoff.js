// How long to wait before reconnect attempt `attempt` (0-based): exponential, capped, and
// spread over [50 %, 100 %] of the step so that clients cut off together do not come back
// as one wave.

/**
 * @param {number} attempt failed attempts so far
 * @param {{baseDelayMs: number, maxDelayMs: number, random?: () => number}} options
 */
export function backoffDelay(attempt, { baseDelayMs, maxDelayMs, random = Math.random }) {
  const step = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(step * (0.5 + random() / 2));
}
