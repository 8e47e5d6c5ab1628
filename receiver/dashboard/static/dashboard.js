// taskhook dashboard: live regions refresh every 2 s from `data-live` URLs (server-rendered,
// escaped HTML fragments). No framework, no inline script (the CSP allows only this file).
(function () {
  "use strict";
  var INTERVAL_MS = 2000;
  var last = new WeakMap();
  var busy = new WeakSet();

  function setLive(ok) {
    var badge = document.getElementById("live-status");
    if (!badge) return;
    badge.hidden = false;
    badge.classList.toggle("offline", !ok);
    badge.textContent = ok ? "live" : "offline";
  }

  function openDetails(el) {
    var ids = [];
    el.querySelectorAll("details[open][id]").forEach(function (d) { ids.push(d.id); });
    var closed = [];
    el.querySelectorAll("details[id]:not([open])").forEach(function (d) { closed.push(d.id); });
    return { open: ids, closed: closed };
  }

  function restoreDetails(el, state) {
    state.open.forEach(function (id) {
      var d = document.getElementById(id);
      if (d && el.contains(d)) d.open = true;
    });
    state.closed.forEach(function (id) {
      var d = document.getElementById(id);
      if (d && el.contains(d)) d.open = false;
    });
  }

  function swap(el, html) {
    var state = openDetails(el);
    el.innerHTML = html;
    restoreDetails(el, state);
    if (el.querySelector("[data-live-final]")) el.removeAttribute("data-live");
  }

  function refresh(el) {
    var url = el.getAttribute("data-live");
    if (!url || busy.has(el)) return;
    busy.add(el);
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        if (last.get(el) !== html) { last.set(el, html); swap(el, html); }
        setLive(true);
      })
      .catch(function () { setLive(false); })
      .then(function () { busy.delete(el); });
  }

  function tick() {
    if (document.hidden) return;
    document.querySelectorAll("[data-live]").forEach(refresh);
  }

  function autosubmit() {
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    autosubmit();
    if (document.querySelector("[data-live]")) {
      setLive(true);
      window.setInterval(tick, INTERVAL_MS);
      document.addEventListener("visibilitychange", tick);
    }
  });
})();
