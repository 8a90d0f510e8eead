// markwatch review: keyboard shortcuts, selection and in-place reviews. No framework, no build.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var KEYS = { c: "confirmed", d: "dismissed", e: "escalated" };
  var LABELS = { new: "New", confirmed: "Confirmed", dismissed: "Dismissed", escalated: "Escalated", resolved: "Resolved" };
  try { LABELS = JSON.parse(document.body.dataset.labels || "null") || LABELS; } catch (e) { /* keep English */ }

  function typing(ev) {
    var t = ev.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  function toggleHelp(show) {
    var h = document.getElementById("help");
    if (h) h.hidden = show === undefined ? !h.hidden : !show;
  }

  // -- the queue ----------------------------------------------------------------------------
  var table = document.getElementById("alerts");
  var rows = table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr.row")) : [];
  var cur = -1;

  function focusRow(i) {
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    if (cur >= 0 && rows[cur]) rows[cur].classList.remove("current");
    cur = i;
    rows[cur].classList.add("current");
    rows[cur].scrollIntoView({ block: "nearest" });
  }
  function countSelected() {
    var n = table ? table.querySelectorAll('input[name="ids"]:checked').length : 0;
    var el = document.getElementById("selected-count");
    if (el) { el.hidden = n === 0; el.textContent = (el.dataset.template || "{n} selected").replace("{n}", n); }
    rows.forEach(function (r) { r.classList.toggle("picked", r.querySelector('input[name="ids"]').checked); });
  }
  function setBadge(row, status) {
    var b = row.querySelector(".status .badge");
    if (b) { b.className = "badge s-" + status; b.textContent = LABELS[status] || status; }
  }
  // The status tabs' counts after an in-place review: one fewer under the old status, one more under the new.
  function bumpTab(status, by) {
    var n = document.querySelector('.tabs .n[data-status="' + status + '"]');
    if (n) n.textContent = String(Math.max(0, (parseInt(n.textContent, 10) || 0) + by));
  }
  function review(row, status) {
    var before = row.dataset.status;
    row.classList.add("busy");
    fetch("/api/alerts/" + encodeURIComponent(row.dataset.id) + "/review", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ status: status, note: "" })
    }).then(function (r) {
      row.classList.remove("busy");
      if (!r.ok) throw new Error("HTTP " + r.status);
      setBadge(row, status);
      row.classList.add("done");
      if (before && before !== status) { bumpTab(before, -1); bumpTab(status, 1); row.dataset.status = status; }
    }).catch(function (err) {
      row.classList.add("failed");
      row.title = "review failed: " + err.message + " (reload and try again)";
    });
    focusRow(cur + 1);
  }

  if (table) {
    rows.forEach(function (r, i) {
      r.addEventListener("click", function (ev) {
        if (ev.target.closest("a, input, button")) return;
        focusRow(i);
      });
    });
    table.addEventListener("change", countSelected);
    var all = document.getElementById("select-all");
    if (all) all.addEventListener("change", function () {
      rows.forEach(function (r) { r.querySelector('input[name="ids"]').checked = all.checked; });
      countSelected();
    });
    if (rows.length) focusRow(0);
  }

  // -- one alert ----------------------------------------------------------------------------
  var form = document.getElementById("review");
  function submitReview(status) {
    var b = form.querySelector('button[name="status"][value="' + status + '"]');
    if (b) b.click();
  }
  function go(id) { var a = document.getElementById(id); if (a) window.location.href = a.href; }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "Escape") { toggleHelp(false); if (typing(ev)) ev.target.blur(); return; }
    if (typing(ev)) return;
    var k = ev.key;
    if (k === "?") { toggleHelp(); ev.preventDefault(); return; }
    if (k === "/") { var q = document.getElementById("q"); if (q) { q.focus(); q.select(); ev.preventDefault(); } return; }
    if (table && rows.length) {
      if (k === "j" || k === "ArrowDown") { focusRow(cur + 1); ev.preventDefault(); }
      else if (k === "k" || k === "ArrowUp") { focusRow(cur - 1); ev.preventDefault(); }
      else if (k === "o" || k === "Enter") { window.location.href = rows[cur].dataset.href; }
      else if (k === "x") { var c = rows[cur].querySelector('input[name="ids"]'); c.checked = !c.checked; countSelected(); }
      else if (KEYS[k]) { review(rows[cur], KEYS[k]); }
      else if (k === "N") { go("next-page"); }
      else if (k === "P") { go("prev-page"); }
      return;
    }
    if (form) {
      if (KEYS[k]) { submitReview(KEYS[k]); ev.preventDefault(); }
      else if (k === "n" || k === "j") { go("next"); }
      else if (k === "p" || k === "k") { go("prev"); }
      else if (k === "u") { go("back"); }
    }
  });
})();
