// The list of root activities, newest first, kept up to date by polling
// /api/roots with a cursor: only roots that changed since the last answer
// come back, and rows are patched in place. Also the page's router:
// #/trace/<ref> opens a trace, #/trace/<ref>/item/<ref> an item's details.
"use strict";

const POLL_MS = 1000;
const PAGE = 100;

const Router = (() => {
  function parse() {
    const m = location.hash.match(/^#\/trace\/([^/]+)(?:\/item\/([^/]+))?/);
    if (!m) return { trace: null, item: null };
    return { trace: decodeURIComponent(m[1]), item: m[2] ? decodeURIComponent(m[2]) : null };
  }

  function go(trace, item) {
    let hash = "";
    if (trace) hash = `#/trace/${encodeURIComponent(trace)}`;
    if (trace && item) hash += `/item/${encodeURIComponent(item)}`;
    if (location.hash !== hash) location.hash = hash;
    else route();
  }

  function route() {
    const { trace, item } = parse();
    Trace.open(trace, item);
  }

  return { parse, go, route };
})();

const List = (() => {
  const { el } = UI;
  const rows = new Map(); // root ref -> <li>
  const state = { cursor: null, offset: 0, total: 0, received: 0, sources: new Set(), busy: false, selected: null };

  function filters() {
    return {
      q: document.getElementById("q").value.trim(),
      severity: document.getElementById("severity").value,
      source: document.getElementById("source").value,
    };
  }

  function fill(li, s) {
    const sev = s.errors > 0 ? "sev-error" : UI.severityClass(s.max_severity);
    li.className = `root ${sev}${s.errors ? " has-errors" : ""}${s.id === state.selected ? " selected" : ""}`;
    li.dataset.type = s.type;
    li.dataset.items = s.items;
    li.dataset.errors = s.errors;
    const kind = s.type === "ACTIVITY" ? "▶" : "•";
    const corr = s.corrids.filter((c) => !s.traces.includes(c));
    li.replaceChildren(
      el("a", { href: `#/trace/${encodeURIComponent(s.id)}`, class: "root-link" },
        el("div", { class: "line1" },
          el("span", { class: "kind" }, kind),
          el("span", { class: "name", title: s.name || s.id }, s.name || s.id),
          s.target ? el("span", { class: "target", title: "target" }, s.target) : null,
          s.status && s.status.toUpperCase() === "EXCEPTION" ? el("span", { class: "badge exc" }, "EXCEPTION") : null,
          el("span", { class: "dur" }, s.duration === null ? "" : UI.duration(s.duration))),
        el("div", { class: "line2" },
          s.source ? el("span", { class: "source" }, s.source) : null,
          el("span", { class: "count" }, `${s.items} item${s.items === 1 ? "" : "s"}`),
          s.errors ? el("span", { class: "errors" }, `${s.errors} error${s.errors === 1 ? "" : "s"}`) : null,
          s.missing_parent ? el("span", {
            class: "orphan",
            title: `parent-id ${JSON.stringify(s.missing_parent)}: no item with this tracking-id was received`,
          }, "orphan: parent not received") : null,
          corr.slice(0, 3).map((c) => el("span", { class: "chip" }, c)),
          s.traces.length ? el("span", { class: "chip trace", title: s.traces[0] }, `trace ${s.traces[0].slice(0, 8)}…`) : null,
          el("time", { class: "when" }, UI.clock(s.start)))));
  }

  function apply(page) {
    const list = document.getElementById("roots");
    for (const s of page.roots) {
      let li = rows.get(s.id);
      if (!li) {
        li = el("li", { "data-id": s.id });
        rows.set(s.id, li);
      }
      fill(li, s);
    }
    // A root that moved into this page unchanged is not sent: ask for the
    // whole page once.
    if (page.ids.some((id) => !rows.has(id))) return false;
    const keep = new Set(page.ids);
    for (const [id, li] of rows) {
      if (!keep.has(id)) { li.remove(); rows.delete(id); }
    }
    page.ids.forEach((id, i) => {
      const li = rows.get(id);
      if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
    });
    state.total = page.total;
    state.received = page.received;
    for (const source of page.sources) {
      if (!state.sources.has(source)) {
        state.sources.add(source);
        document.getElementById("source").append(el("option", { value: source }, source));
      }
    }
    pager();
    return true;
  }

  function pager() {
    const from = state.total === 0 ? 0 : state.offset + 1;
    const to = Math.min(state.offset + PAGE, state.total);
    document.getElementById("page-info").textContent =
      `${from.toLocaleString("en")}–${to.toLocaleString("en")} of ${state.total.toLocaleString("en")}`;
    document.getElementById("newer").disabled = state.offset === 0;
    document.getElementById("older").disabled = state.offset + PAGE >= state.total;
    document.getElementById("empty").hidden = state.total > 0;
    const f = filters();
    document.getElementById("empty").textContent = state.received === 0
      ? `No items yet. Point an application at ${location.origin}.`
      : (f.q || f.severity || f.source ? "No trace matches the filters." : "No traces.");
  }

  async function poll() {
    if (state.busy) return;
    state.busy = true;
    try {
      const f = filters();
      const params = new URLSearchParams({ offset: state.offset, limit: PAGE, q: f.q, severity: f.severity, source: f.source });
      if (state.cursor !== null) params.set("after", state.cursor);
      const current = Trace.current;
      if (current) params.set("watch", current.ref);
      const response = await fetch(`/api/roots?${params}`);
      const page = await response.json();
      if (page.watch) Trace.onWatch(page.watch);
      if (!page.unchanged) {
        if (apply(page)) {
          state.cursor = page.cursor;
        } else {
          state.cursor = null;
          state.busy = false;
          return poll();
        }
      }
      document.getElementById("status").textContent =
        `live · ${page.cursor.toLocaleString("en")} item${page.cursor === 1 ? "" : "s"} received`;
      document.getElementById("status").className = "status live";
    } catch (e) {
      document.getElementById("status").textContent = "collector unreachable";
      document.getElementById("status").className = "status down";
    } finally {
      state.busy = false;
    }
  }

  // Starts the list over, e.g. when the filters or the page change.
  function reset() {
    state.cursor = null;
    for (const li of rows.values()) li.remove();
    rows.clear();
    poll();
  }

  function highlight(id) {
    state.selected = id;
    for (const [ref, li] of rows) li.classList.toggle("selected", ref === id);
  }

  function start() {
    let typing = null;
    document.getElementById("q").addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => { state.offset = 0; reset(); }, 250);
    });
    for (const id of ["severity", "source"]) {
      document.getElementById(id).addEventListener("change", () => { state.offset = 0; reset(); });
    }
    document.getElementById("filters").addEventListener("submit", (ev) => ev.preventDefault());
    document.getElementById("newer").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); reset(); });
    document.getElementById("older").addEventListener("click", () => { state.offset += PAGE; reset(); });
    window.addEventListener("hashchange", Router.route);
    Router.route();
    poll();
    setInterval(poll, POLL_MS);
  }

  return { start, highlight };
})();

List.start();
