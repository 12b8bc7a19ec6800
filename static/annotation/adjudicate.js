/* Adjudication by keyboard: n = next undecided row, 1-9 = accept that coder's theme for the
 * focused row, Enter or / = type a theme (the input offers the codebook; Enter there decides the
 * typed theme: the row's hidden default button comes before the Accept buttons), Esc = leave
 * the box.
 * After a decision the server redirects back to its block; the page then moves to the next
 * undecided row, so a round is adjudicated with a digit per row. Blocks with nothing left to
 * decide start collapsed. The round comes in pages of cluster samples; n goes on to the next
 * page with an undecided row when this page has none left. */
(function () {
  "use strict";
  const rows = Array.from(document.querySelectorAll(".dis-row"));
  const LAST_KEY = "diptych.adjudicate.last." + location.pathname;
  let current = -1;

  function rowKey(row) { return row.closest("section").id + ":" + rows.filter((r) => r.closest("section") === row.closest("section")).indexOf(row); }

  function focusRow(i) {
    if (i < 0 || i >= rows.length) return;
    current = i;
    rows.forEach((r, j) => r.classList.toggle("focused", j === i));
    const block = rows[i].closest("details");
    if (block) block.open = true;
    rows[i].focus({ preventScroll: true });
    rows[i].scrollIntoView({ block: "center" });
  }

  function nextOpen(from) {
    for (let k = 1; k <= rows.length; k++) {
      const i = (from + k + rows.length) % rows.length;
      if (rows[i].dataset.decided === "0") return i;
    }
    return -1;
  }

  // n: the next undecided row of this page (wrapping round it); when this page has none left,
  // the page that holds the next one (the server finds it across the round, wrapping round).
  const pager = document.querySelector(".adjudication-pager");
  function nextDisagreement() {
    const here = nextOpen(current);
    if (here >= 0) focusRow(here);
    else if (pager && pager.dataset.more === "1") location.assign(pager.dataset.nextOpenUrl);
  }

  // Count and fold: a block with no undecided row starts closed.
  document.querySelectorAll("details.cluster-block").forEach((block) => {
    const open = block.querySelectorAll('.dis-row[data-decided="0"]').length;
    block.querySelector(".open-count").textContent = open ? open + " row(s) to decide" : "all decided";
    block.open = open > 0;
  });

  rows.forEach((row, i) => {
    row.addEventListener("click", () => { current = i; rows.forEach((r, j) => r.classList.toggle("focused", j === i)); });
    // Remember the row: after a decision the page goes on at the next open row, after an
    // undo it comes back to the row itself (open again).
    row.querySelectorAll("form").forEach((f) => f.addEventListener("submit", () =>
      sessionStorage.setItem(LAST_KEY, JSON.stringify({ row: rowKey(row), undo: f.classList.contains("undo") }))));
  });

  document.addEventListener("keydown", (e) => {
    const typing = e.target.tagName === "INPUT" || e.target.tagName === "TEXTAREA";
    if (typing) {
      if (e.key === "Escape") { e.target.blur(); if (current >= 0) rows[current].focus({ preventScroll: true }); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "n" || e.key === "j") { nextDisagreement(); e.preventDefault(); }
    else if (e.key === "k") { focusRow(Math.max(0, current - 1)); e.preventDefault(); }
    else if (/^[1-9]$/.test(e.key) && current >= 0) {
      const cells = rows[current].querySelectorAll("td, th");
      const cell = cells[Number(e.key)];              // cell 0 is the item
      const button = cell && cell.querySelector(".accept-button");
      if (button && cell !== cells[cells.length - 1]) button.click();
      e.preventDefault();
    } else if ((e.key === "Enter" || e.key === "/") && current >= 0) {
      rows[current].querySelector("form.decide input[name=theme_name]").focus();
      e.preventDefault();
    }
  });

  // Back from a decision: go on from the row just decided.
  let last = null;
  try { last = JSON.parse(sessionStorage.getItem(LAST_KEY)); } catch (err) { last = null; }
  sessionStorage.removeItem(LAST_KEY);
  const lastIndex = last && last.row ? rows.findIndex((r) => rowKey(r) === last.row) : -1;
  if (lastIndex >= 0) focusRow(last.undo ? lastIndex : nextOpen(lastIndex));
  else if (rows.length) focusRow(nextOpen(-1));
  document.documentElement.dataset.adjudicateReady = "1";
})();
