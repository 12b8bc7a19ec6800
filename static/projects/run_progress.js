// Polls the run's status endpoint and updates the progress card until the run finishes.
(function () {
  const card = document.getElementById("run-progress");
  if (!card) return;
  const $ = (id) => document.getElementById(id);
  let wasFinished = card.dataset.finished === "1";
  function show(data) {
    $("run-status").textContent = data.status_display;
    $("run-status").className = "status " + data.status;
    $("run-stage").textContent = data.stage || "—";
    $("run-bar").value = data.progress;
    $("run-percent").textContent = Math.round(data.progress * 100) + " %";
    $("run-error").hidden = !data.error_message;
    $("run-error").textContent = data.error_message;
    $("run-dashboard-link").hidden = data.status !== "succeeded";
    $("run-log").textContent = data.log_tail;
    showTiming(data.timing);
  }
  function duration(s) {
    if (s === null || s === undefined) return "—";
    s = Math.round(s);
    return s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
  }
  function showTiming(t) {
    const box = $("run-timing");
    if (!box || !t) return;
    const rows = t.stages.map((st) => st.stage + ": " + duration(st.seconds) + (st.current ? " so far" : ""));
    box.textContent = (t.elapsed_s === null ? "" : "elapsed " + duration(t.elapsed_s)) +
      (t.remaining_s === null ? "" : " · about " + duration(t.remaining_s) + " left (" + t.estimate_note + ")") +
      (rows.length ? " · " + rows.join(" · ") : "");
  }
  async function poll() {
    try {
      const response = await fetch(card.dataset.statusUrl, {credentials: "same-origin"});
      if (response.ok) {
        const data = await response.json();
        show(data);
        // Reload once at the end so the cancel/resume buttons match the final state.
        if (data.finished) { if (!wasFinished) window.location.reload(); return; }
      }
    } catch (e) { /* network hiccup: try again */ }
    setTimeout(poll, 1500);
  }
  poll();   // a finished run is shown once (its stage times), a running one until it ends
})();
