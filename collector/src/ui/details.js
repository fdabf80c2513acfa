// Helpers shared by the page's scripts, and the details panel: every key
// of one item, with its snapshots, properties, correlators and exception.
"use strict";

const UI = (() => {
  // Builds an element; children are nodes or strings (always as text, never
  // as HTML: item contents are not trusted).
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "style") node.style.cssText = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  // Replaces `node`'s children as el() would add them.
  function set(node, ...children) {
    node.replaceChildren(el("span", {}, ...children));
    node.replaceChildren(...node.firstChild.childNodes);
  }

  function num(value) {
    const n = typeof value === "string" ? Number(value) : value;
    return typeof n === "number" && Number.isFinite(n) ? n : null;
  }

  // A duration in microseconds, in a readable unit.
  function duration(usec) {
    const n = num(usec);
    if (n === null) return "–";
    if (Math.abs(n) < 1000) return `${Math.round(n)} µs`;
    if (Math.abs(n) < 1e6) return `${(n / 1000).toFixed(n < 1e4 ? 2 : 1)} ms`;
    if (Math.abs(n) < 6e7) return `${(n / 1e6).toFixed(2)} s`;
    return `${(n / 6e7).toFixed(1)} min`;
  }

  // A time in microseconds since the epoch, as local time of day.
  function clock(usec) {
    const n = num(usec);
    if (n === null) return "";
    const d = new Date(n / 1000);
    const pad = (v, w) => String(v).padStart(w, "0");
    return `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}`;
  }

  function stamp(usec) {
    const n = num(usec);
    if (n === null) return String(usec);
    const d = new Date(n / 1000);
    return Number.isNaN(d.getTime()) ? String(usec) : `${d.toISOString()}  (${usec})`;
  }

  const SEVERITIES = ["NONE", "TRACE", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR",
    "FAILURE", "CRITICAL", "FATAL", "HALT"];

  function rank(severity) {
    const i = SEVERITIES.indexOf(String(severity || "").toUpperCase());
    return i < 0 ? 0 : i;
  }

  // A CSS class for a severity: sev-debug, sev-info, sev-notice,
  // sev-warning, sev-error, sev-fatal.
  function severityClass(severity) {
    const r = rank(severity);
    if (r >= 8) return "sev-fatal";
    if (r >= 6) return "sev-error";
    return ["sev-debug", "sev-debug", "sev-debug", "sev-info", "sev-notice", "sev-warning"][r];
  }

  function isException(item) {
    return String(item && item.status || "").toUpperCase() === "EXCEPTION";
  }

  function corrids(item) {
    const c = item && (item.corrid !== undefined ? item.corrid : item["corr-id"]);
    if (Array.isArray(c)) return c.map(String);
    return c === undefined || c === null ? [] : [String(c)];
  }

  // Property types whose values are floating point: a whole number among
  // them was sent as `5000.0`, which JSON.parse reads as 5000.
  const FLOAT_TYPES = new Set(["double", "float", "decimal", "number"]);

  // A property's value as text, a whole double keeping its `.0`.
  function propertyText(v, type) {
    const text = String(v);
    if (typeof v === "number" && Number.isInteger(v) && FLOAT_TYPES.has(String(type || "").toLowerCase())
      && /^-?\d+$/.test(text)) {
      return `${text}.0`;
    }
    return text;
  }

  // `name`, with a break allowed after each `::`, `.`, `/` and `_`, so
  // that a long operation wraps at its parts rather than anywhere.
  function breakable(name) {
    const parts = String(name).split(/(?<=::|[./_])/);
    const out = [];
    parts.forEach((part, i) => {
      if (i > 0) out.push(document.createElement("wbr"));
      out.push(part);
    });
    return out;
  }

  return { el, set, num, duration, clock, stamp, rank, severityClass, isException, corrids,
    propertyText, breakable };
})();

const Details = (() => {
  const { el } = UI;
  const TIME_KEYS = new Set(["time-usec", "start-time-usec", "end-time-usec"]);
  const DURATION_KEYS = new Set(["elapsed-time-usec", "wait-time-usec", "msg-age-usec"]);
  // Shown first, in this order; the rest follow alphabetically.
  const FIRST = ["type", "operation", "msg-text", "severity", "status", "exception",
    "properties", "snapshots", "corrid", "location", "tracking-id", "parent-id", "source-fqn",
    "time-usec", "start-time-usec", "end-time-usec", "elapsed-time-usec"];

  function value(v) {
    if (v === null) return el("span", { class: "muted" }, "null");
    if (typeof v === "object") return el("code", { class: "json" }, JSON.stringify(v));
    return String(v);
  }

  function properties(props) {
    if (!Array.isArray(props) || props.length === 0) {
      return el("p", { class: "muted" }, "no properties");
    }
    return el("table", { class: "props" },
      el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "Value"),
        el("th", {}, "Type"), el("th", {}, "Unit"))),
      el("tbody", {}, props.map((p) => el("tr", { class: "prop", "data-name": p && p.name },
        el("td", { class: "prop-name" }, String(p && p.name !== undefined ? p.name : "?")),
        el("td", { class: "prop-value" }, p && typeof p.value === "number"
          ? UI.propertyText(p.value, p.type) : value(p ? p.value : null)),
        el("td", { class: "prop-type" }, p && p.type !== undefined ? String(p.type) : ""),
        el("td", { class: "prop-unit" }, p && p["value-type"] !== undefined ? String(p["value-type"]) : "")))));
  }

  function snapshots(list) {
    if (!Array.isArray(list)) return value(list);
    return el("div", { class: "snapshots" }, list.map((s) => el("section", { class: "snapshot", "data-name": s && s.name },
      el("h4", {}, String(s && s.name || "(no name)"),
        s && s.category ? el("span", { class: "category" }, String(s.category)) : null),
      properties(s && s.properties))));
  }

  function field(key, v, item) {
    if (key === "properties") return properties(v);
    if (key === "snapshots") return snapshots(v);
    if (key === "corrid" || key === "corr-id") {
      return el("div", { class: "chips" }, UI.corrids(item).map((c) => el("span", { class: "chip" }, c)));
    }
    if (key === "exception") return el("pre", { class: "exception-text" }, String(v));
    if (key === "severity") return el("span", { class: `sev ${UI.severityClass(v)}` }, String(v));
    if (key === "status" && UI.isException(item)) return el("span", { class: "badge exc" }, String(v));
    if (TIME_KEYS.has(key)) return UI.stamp(v);
    if (DURATION_KEYS.has(key)) return `${UI.duration(v)}  (${v} µs)`;
    return value(v);
  }

  function order(keys) {
    const first = FIRST.filter((k) => keys.includes(k));
    const rest = keys.filter((k) => !FIRST.includes(k)).sort();
    return first.concat(rest);
  }

  // Shows item `entry` (an element of /api/trace's `items`).
  function show(entry) {
    const panel = document.getElementById("details");
    const item = entry.item && typeof entry.item === "object" ? entry.item : {};
    const kind = String(item.type || "EVENT").toUpperCase();
    // An event is told by its message, an activity by its operation.
    const title = kind === "ACTIVITY"
      ? item.operation || item["msg-text"] || item.name || entry.ref
      : item["msg-text"] || item.operation || item.name || entry.ref;
    const head = el("header", { class: "details-head" },
      el("span", { class: `kind kind-${kind.toLowerCase()}` }, kind),
      el("h3", {}, String(title)),
      UI.isException(item) ? el("span", { class: "badge exc" }, "EXCEPTION") : null,
      item.severity ? el("span", { class: `sev ${UI.severityClass(item.severity)}` }, String(item.severity)) : null,
      el("button", { class: "close", title: "Close", onclick: () => Router.go(Trace.current && Trace.current.ref, null) }, "×"));
    const rows = order(Object.keys(item)).map((key) => el("tr", { class: "field", "data-key": key },
      el("th", {}, key), el("td", {}, field(key, item[key], item))));
    panel.replaceChildren(head, el("table", { class: "fields" }, el("tbody", {}, rows)));
    if (panel.dataset.ref !== entry.ref) panel.scrollTop = 0;
    panel.dataset.ref = entry.ref;
    panel.hidden = false;
  }

  function hide() {
    const panel = document.getElementById("details");
    panel.hidden = true;
    panel.replaceChildren();
    delete panel.dataset.ref;
  }

  return { show, hide };
})();
