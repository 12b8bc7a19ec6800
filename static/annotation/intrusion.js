/* Intrusion tasks, keyboard first: one task at a time; 1–9 pick the odd one out, u (or 0) =
 * unsure; every answer is saved at once through the retry queue (save_queue.js), with the lead
 * time (seconds from the task being shown to the pick). After a pick the next unanswered task
 * is shown; ← / p and → / n move between tasks. A reload resumes at the first unanswered task,
 * with answers still queued in this browser shown as given. Content is set with textContent
 * only: nothing in a post is interpreted as HTML.
 */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("intrusion-data").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const tasks = cfg.tasks;
  const byUrl = new Map(tasks.map((t) => [t.answer_url, t]));
  const PROMPTS = {
    term: "Which word does not belong with the others?",
    text: "Which text does not belong with the others?",
    image: "Which image does not belong with the others?",
    joint: "Which post (text and image) does not belong with the others?",
  };
  let current = 0, shownAt = performance.now(), advanceTimer = null;

  const queue = DiptychSaveQueue({
    key: "diptych.intrusion.queue.v1.u" + cfg.user,
    rejectedKey: "diptych.intrusion.rejected.v1.u" + cfg.user,
    csrf,
    onSettled(op, body, conflict, stillQueued) {
      const task = byUrl.get(op.url);
      if (!task) return;
      task.answer.version = body.version;
      if (!stillQueued) {
        task.pending = false;
        task.answer.choice = body.choice;
        task.answer.unsure = body.unsure;
        task.saved = { choice: body.choice, unsure: body.unsure };
        task.conflict = conflict ? "Changed elsewhere: the saved answer is shown (yours is in the history)" : null;
      }
      if (task === tasks[current]) draw();
      progress();
    },
    onRejected(op, status) {
      // Refused for good (e.g. 423: the round was closed meanwhile): show the stored answer
      // again; the refused one is kept in this browser's "rejected" list.
      if (status === 423) cfg.read_only = true;
      const task = byUrl.get(op.url);
      if (!task) return;
      task.pending = false;
      task.answer.choice = task.saved.choice;
      task.answer.unsure = task.saved.unsure;
      if (task === tasks[current]) draw();
      progress();
    },
    onStatus: showStatus,
  });

  function showStatus(state, n) {
    const el = $("save-status");
    if (state === "offline") el.textContent = "Offline — " + n + " answer(s) kept in this browser, retrying…";
    else if (state === "denied") el.textContent = "Not saved: log in again — " + n + " answer(s) kept in this browser";
    else if (state === "rejected") el.textContent = cfg.read_only ? "This round is closed: answers are read-only" : "An answer was refused by the server";
    else if (n) el.textContent = "Saving… (" + n + ")";
    else el.textContent = "All saved";
    el.dataset.pending = String(n);
    el.className = "save-status" + (n ? " pending" : "") + (state === "offline" || state === "denied" ? " offline" : "");
  }

  function answered(task) { return task.answer.choice !== null || task.answer.unsure; }

  function progress() {
    const done = tasks.filter(answered).length;
    $("task-progress").max = tasks.length;
    $("task-progress").value = done;
    $("task-count").textContent = done + " / " + tasks.length + " answered";
    const complete = done === tasks.length;
    $("intrusion").classList.toggle("complete", complete);
    $("done-note").hidden = !complete;
    return complete;
  }

  function itemNode(task, item) {
    const li = document.createElement("li");
    li.className = "choice";
    li.dataset.position = String(item.position);
    const key = document.createElement("kbd");
    key.textContent = String(item.position);
    li.appendChild(key);
    const body = document.createElement("div");
    body.className = "choice-body";
    if (item.image_url) {
      const img = document.createElement("img");
      img.src = item.image_url;
      img.alt = "Image " + item.position;
      img.dataset.zoom = item.image_zoom_url;
      img.addEventListener("click", (e) => { e.stopPropagation(); zoom(img.dataset.zoom); });
      body.appendChild(img);
    } else if (task.kind === "image" || (task.kind === "joint" && "image_url" in item)) {
      const none = document.createElement("span");
      none.className = "muted";
      none.textContent = "(no image)";
      body.appendChild(none);
    }
    if (item.term !== undefined) {
      const term = document.createElement("span");
      term.className = "term";
      term.textContent = item.term;
      body.appendChild(term);
    }
    if (item.text !== undefined) {
      const p = document.createElement("p");
      p.className = "post-text";
      p.dir = "auto";
      if (item.lang) p.lang = item.lang;
      p.textContent = item.text;
      body.appendChild(p);
    }
    li.appendChild(body);
    li.addEventListener("click", () => pick(item.position));
    return li;
  }

  function draw() {
    const task = tasks[current];
    $("task-number").textContent = String(current + 1);
    $("task-prompt").textContent = PROMPTS[task.kind];
    $("task-id").textContent = task.task;
    const list = $("choices");
    list.textContent = "";
    list.className = "choices kind-" + task.kind;
    task.items.forEach((item) => {
      const li = itemNode(task, item);
      li.classList.toggle("picked", task.answer.choice === item.position);
      li.classList.toggle("pending", !!task.pending && task.answer.choice === item.position);
      list.appendChild(li);
    });
    const unsure = $("unsure-state");
    unsure.hidden = !task.answer.unsure;
    unsure.classList.toggle("pending", !!task.pending);
    $("conflict").textContent = task.conflict || "";
    $("keys-range").textContent = "1–" + task.n_items;
    $("intrusion").dataset.task = task.task;
    $("intrusion").dataset.answered = answered(task) ? "1" : "0";
  }

  function show(index) {
    if (advanceTimer) { clearTimeout(advanceTimer); advanceTimer = null; }
    current = Math.max(0, Math.min(tasks.length - 1, index));
    shownAt = performance.now();
    draw();
    window.scrollTo(0, 0);
  }

  function nextOpen(from) {
    for (let step = 1; step <= tasks.length; step++) {
      const i = (from + step) % tasks.length;
      if (!answered(tasks[i])) return i;
    }
    return -1;
  }

  function save(choice, unsure) {
    const task = tasks[current];
    if (cfg.read_only || task.read_only) { showStatus("rejected", queue.queued().length); return; }
    const lead = Math.round((performance.now() - shownAt) / 100) / 10;
    task.answer.choice = choice;
    task.answer.unsure = unsure;
    task.pending = true;
    task.conflict = null;
    draw();
    progress();
    queue.enqueue(task.answer_url, { choice, unsure, lead_time_s: lead }, task.answer.version);
    const next = nextOpen(current);
    if (next >= 0) advanceTimer = setTimeout(() => show(next), 200);
  }

  function pick(position) {
    const task = tasks[current];
    if (position >= 1 && position <= task.n_items) save(position, false);
  }

  const zoomBox = $("zoom"), zoomImg = $("zoom-img");
  function zoom(url) { if (!url) return; zoomImg.src = url; zoomBox.hidden = false; }
  zoomBox.addEventListener("click", () => { zoomBox.hidden = true; });

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (!zoomBox.hidden) { if (e.key === "Escape" || e.key === "z") { zoomBox.hidden = true; e.preventDefault(); } return; }
    if (/^[1-9]$/.test(e.key)) { pick(Number(e.key)); e.preventDefault(); }
    else if (e.key === "u" || e.key === "0") { save(null, true); e.preventDefault(); }
    else if (e.key === "ArrowRight" || e.key === "n") { show(current + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft" || e.key === "p") { show(current - 1); e.preventDefault(); }
  });
  $("prev-task").addEventListener("click", () => show(current - 1));
  $("next-task").addEventListener("click", () => show(current + 1));
  $("unsure-button").addEventListener("click", () => save(null, true));

  // start: answers still queued in this browser win over the server's state
  tasks.forEach((t) => { t.saved = { choice: t.answer.choice, unsure: t.answer.unsure }; });
  queue.queued().forEach((op) => {
    const task = byUrl.get(op.url);
    if (task) { task.answer.choice = op.payload.choice; task.answer.unsure = op.payload.unsure; task.pending = true; }
  });
  progress();
  const first = tasks.findIndex((t) => !answered(t));
  show(first >= 0 ? first : 0);
  showStatus("idle", queue.queued().length);
  queue.flushSoon(0);
  document.documentElement.dataset.codingReady = "1";
})();
