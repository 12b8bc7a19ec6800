// The round form's planner: as the PI picks solutions, posts per cluster, coders and overlap,
// asks the planning API what the round can tell (interval half-width, detectable difference).
(function () {
  const box = document.getElementById("round-plan");
  if (!box) return;
  const form = box.closest("form");
  const text = document.getElementById("round-plan-text");
  const sizes = JSON.parse(document.getElementById("solution-sizes").textContent);
  const checked = (name) => Array.from(form.querySelectorAll(`input[name="${name}"]:checked`));
  const value = (name) => (form.elements[name] ? form.elements[name].value : "");
  let pending = null;
  async function update() {
    const solutions = checked("solutions").map((i) => sizes[i.value] || 0).filter((n) => n > 0);
    const coders = checked("coders").length;
    if (!solutions.length || !coders) {
      text.textContent = "Choose solutions and coders to see how precise the scores will be.";
      return;
    }
    const perSolution = Math.round(solutions.reduce((a, b) => a + b, 0) / solutions.length);
    const params = new URLSearchParams({
      solutions: solutions.length, clusters_per_solution: perSolution, coders: coders,
      posts_per_cluster: value("posts_per_cluster") || 10,
      calibration_clusters: value("calibration_clusters") || 0, overlap: value("overlap")});
    const response = await fetch(box.dataset.planUrl + "?" + params, {credentials: "same-origin"});
    if (!response.ok) { text.textContent = "The planner could not read these numbers."; return; }
    const p = await response.json();
    if (p.half_width === null) { text.textContent = p.note; return; }
    text.textContent = `${solutions.length} solution(s) × about ${perSolution} clusters, ` +
      `${p.coders_per_cluster} coder(s) per cluster on average: each solution's consistency ` +
      `will be known to ± ${p.half_width.toFixed(3)} (95 %); two solutions must differ by ` +
      `${p.detectable_difference.toFixed(3)} to be told apart with 80 % power` +
      (p.alpha_interval_width === null ? "; α needs two coders on the calibration set."
        : `; α from the calibration set: a 95 % interval about ${p.alpha_interval_width.toFixed(2)} wide.`);
  }
  form.addEventListener("change", () => { clearTimeout(pending); pending = setTimeout(update, 250); });
  form.addEventListener("input", () => { clearTimeout(pending); pending = setTimeout(update, 400); });
  update();
})();
