/* A label retry queue kept in localStorage: the saving contract of the coding pages, as a module.
 *
 * Every write goes into the queue before it is sent and leaves it only when the server has
 * acknowledged it (2xx), refused it for good (409 conflict: the caller shows the server's value;
 * other 4xx, e.g. 423 round closed: kept aside in a "rejected" list), so a reload, a crash or a
 * lost connection never loses a label. Writes are idempotent PUTs keyed by URL, carrying the
 * version the client last saw; the queue is sent in order, one request at a time, with backoff
 * while the server is away (network error, 5xx, 429) or the session is gone (401/403).
 *
 *   const q = DiptychSaveQueue({ key, rejectedKey, csrf, onSettled, onRejected, onStatus });
 *   q.enqueue(url, payload, baseVersion);   // payload: the JSON body without base_version
 *   q.queued();                             // ops not yet acknowledged (for a reload)
 *   await q.drain(5000);                    // wait (at most ms) until the queue is empty
 */
(function () {
  "use strict";

  function DiptychSaveQueue(opts) {
    const KEY = opts.key, REJECTED = opts.rejectedKey;
    let inFlight = null, timer = null, backoff = 1000, flushing = false;

    function read(key) {
      try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
    }
    function write(key, list) { localStorage.setItem(key, JSON.stringify(list)); }
    function newId() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 8); }
    function status(state) { if (opts.onStatus) opts.onStatus(state, read(KEY).length); }

    function enqueue(url, payload, baseVersion) {
      const q = read(KEY);
      const op = { id: newId(), url, payload, base_version: baseVersion, at: Date.now() };
      // Only the latest value of a label matters: replace a queued op that is not in flight.
      const i = q.findIndex((o) => o.url === url && o.id !== inFlight);
      if (i >= 0) { op.base_version = q[i].base_version; q[i] = op; } else { q.push(op); }
      write(KEY, q);
      flushSoon(0);
      return op;
    }

    function flushSoon(delay) {
      if (timer) clearTimeout(timer);
      timer = setTimeout(flush, delay);
    }

    function drop(id) { write(KEY, read(KEY).filter((o) => o.id !== id)); }

    async function flush() {
      timer = null;
      if (flushing) return;
      flushing = true;
      let refused = false;   // say so once the queue is empty, not only in passing
      try {
        for (;;) {
          const q = read(KEY);
          if (!q.length) break;
          const op = q[0];
          inFlight = op.id;
          status("saving");
          let response;
          try {
            response = await fetch(op.url, {
              method: "PUT", credentials: "same-origin",
              headers: { "Content-Type": "application/json", "X-CSRFToken": opts.csrf },
              body: JSON.stringify(Object.assign({}, op.payload, { base_version: op.base_version })),
            });
          } catch (e) { response = null; }
          if (!response || response.status >= 500 || response.status === 429 ||
              response.status === 401 || response.status === 403) {
            inFlight = null;
            status(response ? "denied" : "offline");
            flushSoon(backoff);
            backoff = Math.min(backoff * 2, 15000);
            return;
          }
          backoff = 1000;
          let body = {};
          try { body = await response.json(); } catch (e) { body = {}; }
          drop(op.id);
          inFlight = null;
          if (response.ok || response.status === 409) {
            // Later queued ops for the same label build on the version just acknowledged; after
            // a conflict they keep their stale base, so they are refused too, never overwrite.
            const rest = read(KEY);
            if (response.ok) {
              rest.forEach((o) => { if (o.url === op.url) o.base_version = body.version; });
              write(KEY, rest);
            }
            if (opts.onSettled) {
              opts.onSettled(op, body, response.status === 409, rest.some((o) => o.url === op.url));
            }
          } else {
            const rejected = read(REJECTED);
            rejected.push(Object.assign({ status: response.status, detail: body }, op));
            write(REJECTED, rejected.slice(-200));
            if (opts.onRejected) opts.onRejected(op, response.status, body);
            refused = true;
            status("rejected");
          }
        }
      } finally {
        flushing = false;
        inFlight = null;
      }
      status(refused ? "rejected" : "idle");
    }

    async function drain(ms) {
      const until = Date.now() + ms;
      flushSoon(0);
      while (read(KEY).length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      return read(KEY).length === 0;
    }

    window.addEventListener("online", () => flushSoon(0));
    window.addEventListener("storage", (e) => { if (e.key === KEY) status("idle"); });

    return { enqueue, flushSoon, drain, queued: () => read(KEY), rejected: () => read(REJECTED) };
  }

  window.DiptychSaveQueue = DiptychSaveQueue;
})();
