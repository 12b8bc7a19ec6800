/* Keyboard coding with autosave (annotation app).
 *
 * Every label goes into a retry queue kept in localStorage before it is sent, and leaves the queue
 * only when the server has acknowledged it (2xx), refused it for good (409 conflict: the server's
 * value is shown and the refused one is in the server's history; other 4xx: kept aside in a
 * "rejected" list), so a reload, a crash or a lost connection never loses a label. Requests are
 * idempotent PUTs keyed by (post, pass) for the current coder with the version the client last
 * saw; the queue is sent in order, one request at a time, with backoff while the server is away.
 * Theme names are only ever set with textContent: nothing typed is interpreted as HTML.
 */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("coding-data").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const QUEUE_KEY = "diptych.annotation.queue.v1.u" + cfg.user;
  const REJECTED_KEY = "diptych.annotation.rejected.v1.u" + cfg.user;
  const $ = (id) => document.getElementById(id);
  // The coder's keys (annotation.keymap_models: one home of the actions and defaults).
  const KEYS = JSON.parse(document.getElementById("coding-keys").textContent);

  // ------------------------------------------------------------------ state
  const items = [];
  const sections = document.querySelectorAll("#items .item");
  sections.forEach((el, i) => {
    const post = i === 0 ? null : cfg.posts[i - 1];
    const src = i === 0 ? cfg.common : post;
    items.push({
      el, index: i, kind: i === 0 ? "common" : "post",
      url: i === 0 ? cfg.common_url : post.url,
      theme: src.theme, saved: src.theme, version: src.version, pending: false,
    });
  });
  const byUrl = new Map(items.map((it) => [it.url, it]));
  let recent = (cfg.recent || []).slice();
  // The cluster's themes from this coder's earlier passes: names (each pass has its own
  // codebook), offered under the digits after this pass's recent themes, with a few slots kept.
  const earlier = (cfg.earlier || []).map((t) => ({ id: null, name: t.name, from: t.pass }));
  const EARLIER_SLOTS = 5;
  function digitThemes() {
    const key = (t) => t.name.toLowerCase();
    const head = recent.slice(0, 9 - Math.min(earlier.length, EARLIER_SLOTS));
    const taken = new Set(head.map(key));
    const rest = earlier.concat(recent.slice(head.length)).filter((t) => !taken.has(key(t)) && taken.add(key(t)));
    return head.concat(rest).slice(0, 9);
  }
  let cursor = 0;

  // ------------------------------------------------------------------ queue
  function readList(key) {
    try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function writeList(key, list) { localStorage.setItem(key, JSON.stringify(list)); }
  function newId() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 8); }

  function enqueue(item, theme) {
    const q = readList(QUEUE_KEY);
    // Lead time (our convention): seconds from the cursor reaching the item to this label.
    const lead = item.selectedAt ? Math.round((Date.now() - item.selectedAt) / 100) / 10 : null;
    const op = { id: newId(), url: item.url, theme_id: theme.id || null, theme_name: theme.name,
                 base_version: item.version, at: Date.now(), lead_time_s: lead };
    // Only the latest value of a label matters: replace a queued op that is not in flight.
    const i = q.findIndex((o) => o.url === op.url && o.id !== inFlight);
    if (i >= 0) { op.base_version = q[i].base_version; q[i] = op; } else { q.push(op); }
    writeList(QUEUE_KEY, q);
    showStatus();            // "Saving…" at once: nothing reads "All saved" while a label waits
    flushSoon(0);
  }

  let inFlight = null, timer = null, backoff = 1000, flushing = false;
  function flushSoon(delay) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, delay);
  }

  async function flush() {
    timer = null;
    if (flushing) return;
    flushing = true;
    try {
      for (;;) {
        const q = readList(QUEUE_KEY);
        if (!q.length) break;
        const op = q[0];
        inFlight = op.id;
        showStatus();
        let response;
        try {
          response = await fetch(op.url, {
            method: "PUT", credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
            // Theme ids are opaque strings ("T…"); a number is a sequential id queued before
            // they were, which the server no longer knows: send the name alone.
            body: JSON.stringify({ theme_id: typeof op.theme_id === "string" ? op.theme_id : null,
                                   theme_name: op.theme_name,
                                   base_version: op.base_version, lead_time_s: op.lead_time_s }),
          });
        } catch (e) { response = null; }
        // Server away, or logged out (403): keep the label queued and retry later.
        if (!response || response.status >= 500 || response.status === 429 ||
            response.status === 401 || response.status === 403) {
          inFlight = null;
          showStatus(response ? "denied" : "offline");
          flushSoon(backoff);
          backoff = Math.min(backoff * 2, 15000);
          return;
        }
        backoff = 1000;
        let body = {};
        try { body = await response.json(); } catch (e) { body = {}; }
        dropOp(op.id);
        inFlight = null;
        // 409 is a stale version (settled: the server's value is shown) unless the pass is
        // closed because a later pass of the cluster has begun (refused, kept aside).
        if (response.ok || (response.status === 409 && body.status !== "pass_locked")) {
          settle(op, body, response.status === 409);
        } else {
          const rejected = readList(REJECTED_KEY);
          rejected.push(Object.assign({ status: response.status, detail: body }, op));
          writeList(REJECTED_KEY, rejected.slice(-200));
          const item = byUrl.get(op.url);
          if (item) {
            item.pending = false;
            item.theme = item.saved;
            item.conflict = "Not saved: “" + op.theme_name + "” was refused by the server (" +
              refusalText(body) + ").";
            render(item);
            progress();
          }
          showStatus("rejected");
        }
      }
    } finally {
      flushing = false;
      inFlight = null;
    }
    showStatus();
  }

  // A DRF error body ({"field": ["message"]}, {"detail": "..."}) as one readable line.
  function refusalText(body) {
    if (body && typeof body.detail === "string") return body.detail;
    const parts = [];
    Object.values(body || {}).forEach((v) => { [].concat(v).forEach((m) => parts.push(String(m))); });
    return parts.join("; ") || "no reason given";
  }

  function dropOp(id) { writeList(QUEUE_KEY, readList(QUEUE_KEY).filter((o) => o.id !== id)); }

  function settle(op, body, conflict) {
    // Later queued ops for the same label build on the version just acknowledged; after a
    // conflict they keep their stale base, so they are refused too instead of overwriting.
    const q = readList(QUEUE_KEY);
    if (!conflict) {
      q.forEach((o) => { if (o.url === op.url) o.base_version = body.version; });
      writeList(QUEUE_KEY, q);
    }
    const item = byUrl.get(op.url);
    if (body.theme) rememberTheme(body.theme, op.theme_name);
    if (!item) return;
    item.version = body.version;
    const stillQueued = q.some((o) => o.url === op.url);
    if (!stillQueued) {
      item.pending = false;
      if (body.theme) item.theme = item.saved = body.theme;
      if (conflict) {
        // Codes are per coder: the stored value is this coder's own earlier save (another tab,
        // or a page older than that save). Say so, and bring the note into view.
        item.conflict = "You had already saved “" + body.theme.name + "” here (in another tab or " +
          "an earlier visit of this page); that label is kept. “" + op.theme_name +
          "” was not applied: choose it again to replace it.";
      }
    }
    render(item);
    if (conflict && item.conflict) item.el.querySelector(".conflict").scrollIntoView({ block: "center" });
    progress();
  }

  // A theme created from a name gets its id once the server answers.
  function rememberTheme(theme, typedName) {
    recent.forEach((t) => { if (!t.id && t.name.toLowerCase() === (typedName || "").toLowerCase()) { t.id = theme.id; t.name = theme.name; } });
    items.forEach((it) => { if (it.theme && !it.theme.id && it.theme.name.toLowerCase() === (typedName || "").toLowerCase()) it.theme = { id: theme.id, name: theme.name }; });
    renderRecent();
  }

  function showStatus(state) {
    const n = readList(QUEUE_KEY).length;
    const el = $("save-status");
    const rejected = readList(REJECTED_KEY).length;
    if (state === "offline") el.textContent = "Offline — " + n + " label(s) kept in this browser, retrying…";
    else if (state === "denied") el.textContent = "Not saved: log in again — " + n + " label(s) kept in this browser";
    else if (n) el.textContent = "Saving… (" + n + ")";
    else el.textContent = rejected && state === "rejected" ? "A label was refused by the server" : "All saved";
    el.dataset.pending = String(n);
    el.className = "save-status" + (n ? " pending" : "") + (state === "offline" || state === "denied" ? " offline" : "");
  }

  // ------------------------------------------------------------------ rendering
  function render(item) {
    const slot = item.el.querySelector('[data-role="theme"]');
    slot.textContent = item.theme ? item.theme.name : "—";
    slot.classList.toggle("empty", !item.theme);
    item.el.classList.toggle("coded", !!item.theme);
    item.el.classList.toggle("pending", !!item.pending);
    let note = item.el.querySelector(".conflict");
    if (item.conflict) {
      if (!note) { note = document.createElement("p"); note.className = "conflict"; item.el.appendChild(note); }
      note.textContent = item.conflict;
    } else if (note) { note.remove(); }
  }

  function renderRecent() {
    const list = $("recent");
    list.textContent = "";
    const themes = digitThemes();
    themes.forEach((t, i) => {
      const li = document.createElement("li");
      const key = document.createElement("kbd");
      key.textContent = String(i + 1);
      li.appendChild(key);
      li.appendChild(document.createTextNode(" " + t.name));
      if (t.from) {
        const from = document.createElement("span");
        from.className = "muted small from-pass";
        from.textContent = " (" + t.from + " pass)";
        li.appendChild(from);
      }
      list.appendChild(li);
    });
    $("recent-empty").hidden = themes.length > 0;
  }

  function progress() {
    const done = items.filter((it) => it.theme).length;
    $("pass-progress").max = items.length;
    $("pass-progress").value = done;
    $("pass-count").textContent = done + " / " + items.length;
    const other = Object.values(cfg.other_passes).reduce((a, b) => a + b, 0);
    $("cluster-progress").max = cfg.items_per_pass * 3;
    $("cluster-progress").value = other + done;
    const complete = done === items.length;
    $("coding").classList.toggle("complete", complete);
    if (complete) hideMissing();
    $("next-hint").textContent = complete ? "press n" : (items.length - done) + " item(s) without a theme";
    return complete;
  }

  function select(i) {
    cursor = Math.max(0, Math.min(items.length - 1, i));
    if (!items[cursor].el.classList.contains("selected")) items[cursor].selectedAt = Date.now();
    items.forEach((it) => it.el.classList.toggle("selected", it.index === cursor));
    items[cursor].el.scrollIntoView({ block: "nearest" });
  }

  // ------------------------------------------------------------------ labelling
  function assign(item, theme) {
    if (cfg.read_only || !theme || !theme.name) return;
    item.theme = { id: theme.id || null, name: theme.name };
    item.pending = true;
    item.conflict = null;
    render(item);
    recent = [item.theme].concat(recent.filter((t) => t.name.toLowerCase() !== theme.name.toLowerCase()));
    renderRecent();
    enqueue(item, item.theme);
    progress();
    if (cursor < items.length - 1) select(cursor + 1);
  }

  // ------------------------------------------------------------------ theme box
  const box = $("theme-box"), input = $("theme-input"), suggestions = $("suggestions");
  let options = [], highlighted = -1, searchTimer = null;

  function openBox(initial) {
    if (cfg.read_only) return;
    const item = items[cursor];
    $("theme-box-label").textContent = item.kind === "common" ? "Common theme of this cluster" : "Theme of post " + item.index;
    box.hidden = false;
    item.el.querySelector(".theme-slot").appendChild(box);
    input.value = initial || "";
    showLength();
    input.focus();
    search();
  }
  function closeBox() {
    box.hidden = true;
    input.value = "";
    suggestions.textContent = "";
    input.setAttribute("aria-expanded", "false");
    input.blur();
  }
  function search() {
    if (searchTimer) clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const q = input.value.trim();
      const local = digitThemes().filter((t) => t.name.toLowerCase().includes(q.toLowerCase()));
      let remote = [];
      try {
        const r = await fetch(cfg.themes_url + "?pass=" + encodeURIComponent(cfg.pass) + "&q=" + encodeURIComponent(q), { credentials: "same-origin" });
        if (r.ok) remote = (await r.json()).results;
      } catch (e) { remote = []; }
      if (input.value.trim() !== q) return;
      const seen = new Set();
      options = local.concat(remote).filter((t) => {
        const k = t.name.toLowerCase();
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      }).slice(0, 10);
      highlighted = -1;
      drawOptions();
    }, 120);
  }
  function drawOptions() {
    suggestions.textContent = "";
    options.forEach((t, i) => {
      const li = document.createElement("li");
      li.textContent = t.name;
      li.setAttribute("role", "option");
      li.className = i === highlighted ? "highlighted" : "";
      li.addEventListener("mousedown", (e) => { e.preventDefault(); pick(t); });
      suggestions.appendChild(li);
    });
    input.setAttribute("aria-expanded", options.length ? "true" : "false");
  }
  function pick(theme) {
    closeBox();
    assign(items[cursor], theme);
  }
  // Theme names have a limit (no silent truncation): a counter, and a long name is refused
  // in the box with the reason, before it reaches the server.
  const maxLength = Number(input.dataset.maxLength) || Infinity;
  function typedName() { return input.value.replace(/\s+/g, " ").trim(); }
  function showLength() {
    const n = [...typedName()].length, el = $("theme-length");   // code points, as the server counts
    el.textContent = n > maxLength ? "Too long: " + n + " characters; the limit is " + maxLength + "."
      : n + " / " + maxLength + " characters";
    el.classList.toggle("too-long", n > maxLength);
    return n <= maxLength;
  }
  input.addEventListener("input", () => { showLength(); search(); });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { highlighted = Math.min(options.length - 1, highlighted + 1); drawOptions(); e.preventDefault(); }
    else if (e.key === "ArrowUp") { highlighted = Math.max(-1, highlighted - 1); drawOptions(); e.preventDefault(); }
    else if (e.key === "Escape") { closeBox(); e.preventDefault(); }
    else if (e.key === "Enter") {
      e.preventDefault();
      const name = typedName();
      if (highlighted >= 0) pick(options[highlighted]);
      else if (!showLength()) { /* too long: stays in the box with the reason */ }
      else if (name) {
        const same = options.concat(digitThemes()).find((t) => t.name.toLowerCase() === name.toLowerCase());
        pick(same || { id: null, name });
      } else closeBox();
    }
    e.stopPropagation();
  });
  input.addEventListener("blur", () => { setTimeout(() => { if (document.activeElement !== input) closeBox(); }, 150); });

  // ------------------------------------------------------------------ zoom
  const zoom = $("zoom"), zoomImg = $("zoom-img");
  function toggleZoom(item) {
    if (!zoom.hidden) { zoom.hidden = true; return; }
    const img = item && item.el.querySelector("img[data-zoom]");
    if (!img) return;
    zoomImg.src = img.dataset.zoom;
    zoom.hidden = false;
  }
  zoom.addEventListener("click", () => { zoom.hidden = true; });
  document.querySelectorAll('[data-role="zoom"]').forEach((b) => b.addEventListener("click", (e) => {
    const section = e.currentTarget.closest(".item");
    select(Number(section.dataset.index));
    toggleZoom(items[cursor]);
  }));
  items.forEach((it) => it.el.addEventListener("click", () => select(it.index)));

  // ------------------------------------------------------------------ next
  let leaving = false;
  // `n` before every item has a theme: say which are missing and put the cursor on the first.
  function showMissing() {
    const missing = items.filter((it) => !it.theme);
    const names = missing.map((it) => it.kind === "common" ? "the common theme" : "post " + it.index);
    let note = $("missing-note");
    if (!note) {
      note = document.createElement("p");
      note.id = "missing-note";
      note.className = "missing-note";
      note.setAttribute("role", "alert");
      document.querySelector(".coding-head").appendChild(note);
    }
    note.textContent = "Not finished: " + names.join(", ") + (missing.length === 1 ? " has" : " have") +
      " no theme yet. The cursor is on " + names[0] + ".";
    note.hidden = false;
    select(missing[0].index);
    missing[0].el.focus({ preventScroll: true });
  }
  function hideMissing() { const note = $("missing-note"); if (note) note.hidden = true; }

  async function goNext() {
    if (leaving) return;
    if (!progress()) { showMissing(); return; }
    hideMissing();
    leaving = true;
    const until = Date.now() + 5000;
    flushSoon(0);
    while (readList(QUEUE_KEY).length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    window.location.href = cfg.next_url;
  }
  $("next-link").addEventListener("click", (e) => { e.preventDefault(); goNext(); });

  // ------------------------------------------------------------------ keys
  document.addEventListener("keydown", (e) => {
    if (e.target === input || e.ctrlKey || e.metaKey || e.altKey) return;
    const item = items[cursor];
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (!zoom.hidden && (e.key === "Escape" || key === KEYS.zoom)) { zoom.hidden = true; e.preventDefault(); return; }
    if (e.key === "ArrowDown" || key === KEYS.next) { select(cursor + 1); e.preventDefault(); }
    else if (e.key === "ArrowUp" || key === KEYS.previous) { select(cursor - 1); e.preventDefault(); }
    else if (e.key === "Enter" || key === KEYS.type) { openBox(""); e.preventDefault(); }
    else if (e.key === " " || key === KEYS.common || e.key === "=") {
      if (item.kind !== "post") { /* the common theme itself: type it (Enter) */ }
      else if (items[0].theme) assign(item, items[0].theme);
      else $("save-status").textContent = "Give the cluster a common theme first";
      e.preventDefault();
    } else if (/^[1-9]$/.test(e.key)) {
      const theme = digitThemes()[Number(e.key) - 1];
      if (theme) assign(item, theme);
      e.preventDefault();
    } else if (key === KEYS.zoom) { toggleZoom(item); e.preventDefault(); }
    else if (key === KEYS.next_pass) { goNext(); e.preventDefault(); }
  });
  window.addEventListener("online", () => flushSoon(0));
  // Restored from the back/forward cache, the page shows labels as they were when it was left:
  // fetch it again so it shows what the server holds (the queue in localStorage survives).
  window.addEventListener("pageshow", (e) => {
    if (!e.persisted) return;
    delete document.documentElement.dataset.codingReady;   // not ready until the fresh page is
    window.location.reload();
  });
  window.addEventListener("storage", (e) => { if (e.key === QUEUE_KEY) showStatus(); });

  // ------------------------------------------------------------------ start: queued labels win
  // Items scrolled into view stop below the sticky header, never under it.
  const head = document.querySelector(".coding-head");
  const measureHead = () => document.documentElement.style.setProperty("--coding-head-h", head.offsetHeight + "px");
  measureHead();
  window.addEventListener("resize", measureHead);
  readList(QUEUE_KEY).forEach((op) => {
    const item = byUrl.get(op.url);
    if (item) { item.theme = { id: op.theme_id, name: op.theme_name }; item.pending = true; }
  });
  items.forEach(render);
  renderRecent();
  progress();
  const firstOpen = items.findIndex((it) => !it.theme);
  select(firstOpen >= 0 ? firstOpen : 0);
  showStatus();
  flushSoon(0);
  document.documentElement.dataset.codingReady = "1";
})();
