// The waterfall of one trace: a bar per activity, placed by its start and
// end times and indented under its parent; events as marks on their
// activity, coloured by severity; trees joined by a trace id stacked below,
// each labelled by its source.
"use strict";

const Trace = (() => {
  const { el } = UI;
  let current = null; // { ref, item, data, updated, loading }

  function times(item) {
    const start = UI.num(item["start-time-usec"] !== undefined ? item["start-time-usec"] : item["time-usec"]);
    let end = UI.num(item["end-time-usec"]);
    const elapsed = UI.num(item["elapsed-time-usec"]);
    if (end === null && start !== null && elapsed !== null) end = start + elapsed;
    if (end === null) end = start;
    return { start, end };
  }

  function isActivity(item) {
    return String(item && item.type || "").toUpperCase() === "ACTIVITY";
  }

  // An activity by its operation; an event by its message, its operation
  // being only where it came from (for a `tracing` event, its target).
  function itemName(entry) {
    const item = entry.item || {};
    const named = isActivity(item)
      ? item.operation || item["msg-text"] || item.name
      : item["msg-text"] || item.operation || item.name;
    return String(named || entry.ref);
  }

  // An event's operation when it is named by its message, else null.
  function itemTarget(entry) {
    const item = entry.item || {};
    if (isActivity(item) || !item["msg-text"] || !item.operation) return null;
    return item.operation === item["msg-text"] ? null : String(item.operation);
  }

  // Properties of a span's default snapshot that are not its fields: its
  // timing, and the mark of a span cut short by shutdown.
  const NOT_FIELDS = new Set(["busy", "idle", "cut_short"]);
  const MAX_FIELDS = 4;
  const MAX_VALUE_CHARS = 24;
  const MAX_FIELDS_CHARS = 80;

  function cut(text, max) {
    const chars = Array.from(text);
    return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : text;
  }

  function fieldValue(v, type) {
    if (typeof v === "string") return JSON.stringify(cut(v, MAX_VALUE_CHARS));
    if (v === null || v === undefined) return "null";
    if (typeof v === "object") return cut(JSON.stringify(v), MAX_VALUE_CHARS);
    return cut(UI.propertyText(v, type), MAX_VALUE_CHARS);
  }

  // The first few fields of an activity, `job=13 status="declined"`: the
  // properties of its default snapshot (the one named after it), so that
  // rows of one operation can be told apart.
  function fieldsText(item) {
    if (!isActivity(item) || !Array.isArray(item.snapshots)) return "";
    const name = item.operation !== undefined ? item.operation : item.name;
    const own = item.snapshots.find((s) => s && typeof s === "object" && s.name === name);
    if (!own || !Array.isArray(own.properties)) return "";
    const parts = [];
    for (const p of own.properties) {
      if (!p || typeof p !== "object" || p.name === undefined || NOT_FIELDS.has(String(p.name))) continue;
      parts.push(`${cut(String(p.name), MAX_VALUE_CHARS)}=${fieldValue(p.value, p.type)}`);
      if (parts.length === MAX_FIELDS) break;
    }
    return cut(parts.join(" "), MAX_FIELDS_CHARS);
  }

  // The waterfall's time window over every shown item.
  function timeWindow(items) {
    let t0 = Infinity;
    let t1 = -Infinity;
    for (const entry of items) {
      const { start, end } = times(entry.item || {});
      if (start !== null) t0 = Math.min(t0, start);
      if (end !== null) t1 = Math.max(t1, end);
    }
    if (t0 === Infinity) return { t0: 0, span: 1 };
    return { t0, span: Math.max(t1 - t0, 1) };
  }

  function axis(win) {
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => el("span", {
      class: "tick", style: `left:${f * 100}%`,
    }, UI.duration(f * win.span)));
    return el("div", { class: "wf-axis" }, el("div", { class: "wf-label" }, "Operation"),
      el("div", { class: "wf-track" }, ticks));
  }

  function groupHeader(group, index, data) {
    return el("div", { class: `wf-group${group.joined ? " joined" : ""}`, "data-group": index, "data-source": group.source },
      el("span", { class: `group-dot g${index % 6}` }),
      el("b", {}, group.source || "(no source)"),
      el("span", { class: "muted" }, group.fqn && group.fqn !== group.source ? group.fqn : ""),
      el("span", { class: "muted" }, `${group.items} item${group.items === 1 ? "" : "s"}`),
      group.errors ? el("span", { class: "errors" }, `${group.errors} error${group.errors === 1 ? "" : "s"}`) : null,
      group.joined && data.traces.length ? el("span", { class: "chip" }, `joined by trace ${data.traces[0].slice(0, 8)}…`) : null);
  }

  function pct(t, win) {
    return Math.min(100, Math.max(0, ((t - win.t0) / win.span) * 100));
  }

  // The marker of a root whose parent-id names an item never received:
  // its tree is part of one whose top has not arrived (yet).
  function orphan(entry, group) {
    const parent = entry.depth === 0 && group && group.root === entry.ref ? group.missing_parent : null;
    if (!parent) return null;
    return el("span", {
      class: "orphan",
      title: `parent-id ${JSON.stringify(parent)}: no item with this tracking-id was received`,
    }, "orphan: parent not received");
  }

  function row(entry, win, kind, group) {
    const item = entry.item || {};
    const exception = UI.isException(item);
    const depth = Math.min(entry.depth, 24);
    const target = itemTarget(entry);
    const fields = fieldsText(item);
    const label = el("div", {
      class: "wf-label", style: `padding-left:${10 + depth * 16}px`,
      title: [itemName(entry), target, fields].filter(Boolean).join("  "),
    },
      depth > 0 ? el("span", { class: "elbow" }) : null,
      kind === "activity" ? null : el("span", { class: `dot ${UI.severityClass(item.severity)}` }),
      el("span", { class: "op", title: itemName(entry) }, UI.breakable(itemName(entry))),
      exception ? el("span", { class: "badge exc" }, "EXCEPTION") : null,
      orphan(entry, group),
      target ? el("span", { class: "target" }, target) : null,
      fields ? el("span", { class: "fields" }, fields) : null);
    const track = el("div", { class: "wf-track" });
    if (kind === "activity") {
      const { start, end } = times(item);
      const left = start === null ? 0 : pct(start, win);
      const width = start === null ? 0 : Math.max(pct(end, win) - left, 0);
      const elapsed = UI.num(item["elapsed-time-usec"]);
      track.append(el("div", {
        class: `bar g${entry.group % 6}${exception ? " exception" : ""}${start === null ? " untimed" : ""}`,
        style: `left:${left}%;width:max(${width}%, 3px)`,
        "data-ref": entry.ref,
        title: `${itemName(entry)} · ${UI.duration(elapsed !== null ? elapsed : end - start)}`,
        onclick: (ev) => { ev.stopPropagation(); Router.go(current.ref, entry.ref); },
      }), el("span", { class: "bar-text", style: `left:calc(${left + width}% + 6px)` },
        exception ? el("span", { class: "exc-mark", title: "EXCEPTION" }, "⚠ ") : null,
        UI.duration(elapsed !== null ? elapsed : (start === null ? null : end - start))));
    }
    return el("div", {
      class: `wf-row ${kind}${exception ? " exception" : ""}`,
      "data-ref": entry.ref, "data-depth": entry.depth, "data-parent": entry.parent || "",
      "data-group": entry.group, "data-type": String(item.type || "EVENT").toUpperCase(),
      "data-status": item.status || "",
      onclick: () => Router.go(current.ref, entry.ref),
    }, label, track);
  }

  function mark(entry, win) {
    const item = entry.item || {};
    const { start } = times(item);
    const severity = String(item.severity || "NONE").toUpperCase();
    return el("button", {
      // Worse severities are drawn over milder ones at the same time.
      class: `mark ${UI.severityClass(severity)}`,
      style: `left:${start === null ? 0 : pct(start, win)}%;z-index:${1 + UI.rank(severity)}`,
      "data-ref": entry.ref, "data-severity": severity, type: "button",
      title: `${severity} · ${itemName(entry)}`,
      onclick: (ev) => { ev.stopPropagation(); Router.go(current.ref, entry.ref); },
    });
  }

  function render(data) {
    const items = data.items;
    const win = timeWindow(items);
    const byRef = new Map(items.map((e) => [e.ref, e]));
    const rows = new Map();
    const body = [axis(win)];
    let group = -1;
    for (const entry of items) {
      if (entry.group !== group) {
        group = entry.group;
        body.push(groupHeader(data.groups[group] || {}, group, data));
      }
      if (isActivity(entry.item)) {
        const r = row(entry, win, "activity", data.groups[entry.group]);
        rows.set(entry.ref, r);
        body.push(r);
        continue;
      }
      // An event is a mark on its nearest activity; one without is a row.
      let host = null;
      let at = entry;
      for (let hops = 0; at && at.parent && hops < 1000; hops += 1) {
        at = byRef.get(at.parent);
        if (at && rows.has(at.ref)) { host = rows.get(at.ref); break; }
      }
      if (!host) {
        host = row(entry, win, "event", data.groups[entry.group]);
        rows.set(entry.ref, host);
        body.push(host);
      }
      host.querySelector(".wf-track").append(mark(entry, win));
      host.classList.add("has-marks");
    }
    document.getElementById("waterfall").replaceChildren(...body);
    const root = data.groups[0] || {};
    const rootEntry = items[0] || { item: {}, ref: data.root };
    const rootItem = rootEntry.item || {};
    UI.set(document.getElementById("trace-title"),
      el("span", { class: "op" }, root.name || itemName(rootEntry)),
      UI.isException(rootItem) ? el("span", { class: "badge exc" }, "EXCEPTION") : null,
      root.target ? el("span", { class: "target" }, root.target) : null);
    const errors = data.groups.reduce((n, g) => n + (g.errors || 0), 0);
    UI.set(document.getElementById("trace-meta"),
      el("span", {}, UI.duration(win.span)),
      el("span", {}, `${data.total} item${data.total === 1 ? "" : "s"}`),
      errors ? el("span", { class: "errors" }, `${errors} error${errors === 1 ? "" : "s"}`) : null,
      el("span", {}, `${data.groups.length} source tree${data.groups.length === 1 ? "" : "s"}`),
      data.traces.map((t) => el("span", { class: "chip", title: "trace id" }, t)),
      UI.clock(times(rootItem).start));
    const more = document.getElementById("trace-more");
    more.hidden = !data.truncated;
    more.textContent = data.truncated
      ? `Showing the first ${data.shown.toLocaleString("en")} of ${data.total.toLocaleString("en")} items.`
      : "";
  }

  // Scrolls the waterfall, when `row` is out of its sight, to show `row`
  // in its middle.
  function reveal(row) {
    const box = document.getElementById("trace");
    const seen = box.getBoundingClientRect();
    const at = row.getBoundingClientRect();
    const axis = box.querySelector(".wf-axis");
    const top = seen.top + (axis ? axis.offsetHeight : 0);
    if (at.top >= top && at.bottom <= seen.bottom) return;
    box.scrollTop += at.top - seen.top - (box.clientHeight - at.height) / 2;
  }

  function select(itemRef) {
    for (const node of document.querySelectorAll("#waterfall .selected")) node.classList.remove("selected");
    if (!itemRef || !current || !current.data) { if (current) current.revealed = null; Details.hide(); return; }
    const entry = current.data.items.find((e) => e.ref === itemRef);
    if (!entry) { current.revealed = null; Details.hide(); return; }
    let row = null;
    for (const node of document.querySelectorAll("#waterfall [data-ref]")) {
      if (node.dataset.ref !== itemRef) continue;
      node.classList.add("selected");
      row = row || node.closest(".wf-row");
    }
    Details.show(entry);
    // Once per selection (a deep link, a click): reloads of a live trace
    // leave the scrolling to the reader.
    if (row && current.revealed !== itemRef) {
      current.revealed = itemRef;
      reveal(row);
    }
  }

  async function load() {
    if (!current || current.loading) return;
    current.loading = true;
    const wanted = current;
    try {
      const response = await fetch(`/api/trace/${encodeURIComponent(wanted.ref)}`);
      const data = await response.json();
      if (current !== wanted) return;
      document.getElementById("trace-empty").hidden = response.ok;
      document.getElementById("trace").hidden = !response.ok;
      if (!response.ok) {
        document.getElementById("trace-empty").textContent = data.error || "No such trace.";
        return;
      }
      wanted.data = data;
      wanted.root = data.root;
      render(data);
      select(wanted.item);
      List.highlight(data.root);
    } catch (e) {
      document.getElementById("status").textContent = `trace failed: ${e}`;
    } finally {
      wanted.loading = false;
    }
  }

  // Shows trace `ref` (any item of the tree) with item `item` selected.
  function open(ref, item) {
    if (!ref) {
      current = null;
      document.getElementById("trace").hidden = true;
      document.getElementById("trace-empty").hidden = false;
      Details.hide();
      List.highlight(null);
      return;
    }
    if (current && current.ref === ref) {
      current.item = item;
      select(item);
      return;
    }
    current = { ref, item, data: null, updated: null, root: null, loading: false, revealed: null };
    load();
  }

  // Reloads the trace when its trees changed (told by /api/roots' watch).
  function onWatch(watch) {
    if (!current || !watch) return;
    const changed = current.updated !== null && (watch.updated !== current.updated || watch.root !== current.root);
    current.updated = watch.updated;
    if (changed) load();
  }

  return { open, onWatch, get current() { return current; } };
})();
