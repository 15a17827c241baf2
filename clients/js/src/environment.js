// What the runtime can tell about the network and the page: browsers report going offline
// and online and whether the page is visible; Node reports neither, so there every hook is
// a no-op and the connection relies on its ping probe alone.

const hasWindowEvents = typeof globalThis.addEventListener === 'function';

/** Whether the runtime says it has no network (a browser's navigator.onLine). */
export function reportsOffline() {
  return globalThis.navigator?.onLine === false;
}

/** Whether the page is hidden (browsers throttle hidden pages' timers, so probes wait). */
export function pageHidden() {
  return globalThis.document?.hidden === true;
}

/**
 * Subscribes to `offline`, `online` and visibility changes where the runtime has them;
 * returns the function that unsubscribes.
 */
export function watchEnvironment({ offline, online, visible }) {
  const subscriptions = [];
  const listen = (target, type, listener) => {
    target.addEventListener(type, listener);
    subscriptions.push(() => target.removeEventListener(type, listener));
  };
  if (hasWindowEvents) {
    listen(globalThis, 'offline', offline);
    listen(globalThis, 'online', online);
  }
  const doc = globalThis.document;
  if (doc && typeof doc.addEventListener === 'function') {
    listen(doc, 'visibilitychange', () => {
      if (!doc.hidden) visible();
    });
  }
  return () => subscriptions.splice(0).forEach((unsubscribe) => unsubscribe());
}
