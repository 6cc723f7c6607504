// nightbridge dashboard. Reads the Nightscout API v1 of this server, nothing else:
//   /api/v1/status.json            units and thresholds (settings), server time
//   /api/v1/entries/sgv.json       current reading (count=2) and the chart period (find[date][$gte])
//   /api/v1/treatments.json        boluses and carbs in the period
//   /dashboard/connectors.json     the connector table
// A credential, when needed, is kept in localStorage (SHA-1 of the API secret, or the access
// token) and sent as the `api-secret` header: never in a URL.
"use strict";

const REFRESH_MS = 60_000;
const TICK_MS = 10_000;
const STALE_MS = 15 * 60_000;
const MGDL_PER_MMOL = 18.01559;
const AUTH_KEY = "nightbridge.credential";
const PERIOD_KEY = "nightbridge.hours";
const ARROWS = {
  DoubleUp: "⇈", SingleUp: "↑", FortyFiveUp: "↗", Flat: "→",
  FortyFiveDown: "↘", SingleDown: "↓", DoubleDown: "⇊",
  "NOT COMPUTABLE": "?", "RATE OUT OF RANGE": "⇕", NONE: "",
};
const SVG_NS = "http://www.w3.org/2000/svg";
const state = {
  hours: Number(localStorage.getItem(PERIOD_KEY)) || 3,
  clockOffset: 0,          // server time minus browser time, ms
  settings: null,          // {units, thresholds} from status.json
  current: null,           // newest sgv entry
  previous: null,          // the one before it
  start: 0,                // epoch ms where the shown period starts (server clock)
  entries: [],             // sgv entries in the period, newest first
  treatments: [],
  connectors: [],
  lastUpdate: null,
  anonymousReads: false,   // verifyauth said anonymous visitors can read
};

const $ = (id) => document.getElementById(id);
const serverNow = () => Date.now() + state.clockOffset;

// ---- credential -----------------------------------------------------------------------

class Unauthorized extends Error {}

function credential() { return localStorage.getItem(AUTH_KEY); }
// Access tokens look like "<subject>-<16 hex>"; anything else is taken as the API secret.
function toCredential(input) {
  const value = input.trim();
  return /^[\w.-]+-[0-9a-f]{16}$/i.test(value) ? value : sha1Hex(value);
}

// SHA-1 as Nightscout expects the api-secret header (hex). crypto.subtle only exists on https
// or localhost pages; a dashboard on a LAN address over http needs this small version.
function sha1Hex(text) {
  const bytes = new TextEncoder().encode(text);
  const blocks = ((bytes.length + 8) >> 6) + 1;
  const words = new Uint32Array(blocks * 16);
  bytes.forEach((b, i) => { words[i >> 2] |= b << (24 - (i & 3) * 8); });
  words[bytes.length >> 2] |= 0x80 << (24 - (bytes.length & 3) * 8);
  words[words.length - 1] = bytes.length * 8;
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w = new Uint32Array(80);
  for (let j = 0; j < words.length; j += 16) {
    for (let t = 0; t < 80; t++) {
      w[t] = t < 16 ? words[j + t] : rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    }
    let [a, b, c, d, e] = h;
    for (let t = 0; t < 80; t++) {
      const f = t < 20 ? (b & c) | (~b & d) : t < 40 ? b ^ c ^ d
        : t < 60 ? (b & c) | (b & d) | (c & d) : b ^ c ^ d;
      const k = [0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6][Math.floor(t / 20)];
      const next = (rotl(a, 5) + f + e + k + w[t]) >>> 0;
      [e, d, c, b, a] = [d, c, rotl(b, 30), a, next];
    }
    [a, b, c, d, e].forEach((v, i) => { h[i] = (h[i] + v) >>> 0; });
  }
  return h.map((v) => v.toString(16).padStart(8, "0")).join("");
}

function rotl(x, n) { return ((x << n) | (x >>> (32 - n))) >>> 0; }

async function api(path, params) {
  const url = params ? `${path}?${new URLSearchParams(params)}` : path;
  const headers = { Accept: "application/json" };
  const saved = credential();
  if (saved) headers["api-secret"] = saved;
  const response = await fetch(url, { headers, cache: "no-store" });
  if (response.status === 401 || response.status === 403) throw new Unauthorized(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

// ---- units ----------------------------------------------------------------------------

const isMmol = () => state.settings && state.settings.units === "mmol";
const unitLabel = () => (isMmol() ? "mmol/L" : "mg/dL");

function show(mgdl) {
  return isMmol() ? (mgdl / MGDL_PER_MMOL).toFixed(1) : String(Math.round(mgdl));
}

function showDelta(mgdl) {
  const text = isMmol() ? (mgdl / MGDL_PER_MMOL).toFixed(1) : String(Math.round(mgdl));
  return (mgdl >= 0 ? "+" : "−") + text.replace("-", "");
}

// Thresholds in mg/dL; values under 40 were given in mmol/L (as Nightscout reads BG_*).
function thresholds() {
  const t = (state.settings && state.settings.thresholds) || {};
  const mgdl = (v, d) => (typeof v === "number" ? (v < 40 ? v * MGDL_PER_MMOL : v) : d);
  return {
    low: mgdl(t.bgLow, 55), bottom: mgdl(t.bgTargetBottom, 80),
    top: mgdl(t.bgTargetTop, 180), high: mgdl(t.bgHigh, 260),
  };
}

function rangeOf(mgdl) {
  const t = thresholds();
  return mgdl < t.bottom ? "low" : mgdl > t.top ? "high" : "in";
}

// ---- time -----------------------------------------------------------------------------

function ago(ms) {
  const minutes = Math.floor((serverNow() - ms) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 90) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ago`;
  return `${Math.floor(minutes / 1440)} days ago`;
}

function until(ms) {
  const minutes = Math.round((ms - serverNow()) / 60_000);
  return minutes <= 0 ? "due now" : minutes < 90 ? `in ${minutes} min` : `in ${Math.round(minutes / 60)} h`;
}

const clockTime = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const hourLabel = (ms) => new Date(ms).toLocaleTimeString([], { hour: "numeric" });
const when = (ms) => new Date(ms).toLocaleString();
const treatmentTime = (t) => (typeof t.date === "number" ? t.date : Date.parse(t.created_at));

// ---- loading --------------------------------------------------------------------------

// Fetch everything for the chosen period; returns the new data without touching `state`.
async function load(hours) {
  // Without a credential, ask first whether anonymous visitors may read: a refused status.json
  // would count as a failed attempt and slow this address down.
  if (!credential() && !state.anonymousReads) {
    const verdict = await api("/api/v1/verifyauth.json");
    if (!(verdict.message && verdict.message.canRead)) throw new Unauthorized("verifyauth");
    state.anonymousReads = true;
  }
  const status = await api("/api/v1/status.json");
  const clockOffset = (status.serverTimeEpoch || Date.now()) - Date.now();
  const start = Date.now() + clockOffset - hours * 3_600_000;
  const [latest, entries, treatments, connectors] = await Promise.all([
    api("/api/v1/entries/sgv.json", { count: "2" }),
    api("/api/v1/entries/sgv.json", { "find[date][$gte]": String(start), count: "5000" }),
    api("/api/v1/treatments.json", {
      "find[created_at][$gte]": new Date(start).toISOString(), count: "1000",
    }),
    api("/dashboard/connectors.json"),
  ]);
  const sgvs = (list) => list.filter((e) => typeof e.sgv === "number" && typeof e.date === "number");
  const [current, previous] = sgvs(latest);
  return {
    clockOffset, current, previous,
    settings: status.settings || {},
    entries: sgvs(entries).filter((e) => e.date >= start),
    treatments: treatments.filter((t) => treatmentTime(t) >= start),
    connectors: connectors.connectors || [],
    start, hours,
    lastUpdate: Date.now(),
  };
}

let latestRequest = 0;

async function refresh() {
  const request = ++latestRequest;
  const hours = state.hours;
  try {
    const data = await load(hours);
    if (request !== latestRequest) return;  // a newer refresh (e.g. another period) won
    Object.assign(state, data);
    $("auth").hidden = true;
    banner(null);
    render();
  } catch (error) {
    if (request !== latestRequest) return;
    if (error instanceof Unauthorized) {
      askForCredential(Boolean(credential()));
    } else {
      const since = state.lastUpdate ? ` — showing data from ${clockTime(state.lastUpdate)}` : "";
      banner(`Cannot reach the server${since}. Retrying…`);
      renderNow();
    }
  }
}

function banner(text) {
  $("banner").hidden = !text;
  $("banner").textContent = text || "";
}

function askForCredential(rejected) {
  if (rejected) localStorage.removeItem(AUTH_KEY);
  $("auth-error").hidden = !rejected;
  $("auth").hidden = false;
  $("auth-secret").focus();
}

// ---- rendering ------------------------------------------------------------------------

function render() {
  const title = state.settings.customTitle;
  if (title) { $("title").textContent = title; document.title = title; }
  renderNow();
  renderChart();
  renderTimeInRange();
  renderConnectors();
  $("forget").hidden = !credential();
  $("updated").textContent = state.lastUpdate ? `updated ${clockTime(state.lastUpdate)}` : "";
}

function renderNow() {
  const box = $("now");
  const cur = state.current;
  if (!cur) { box.dataset.state = "empty"; return; }
  const stale = serverNow() - cur.date > STALE_MS;
  box.dataset.state = "reading";
  box.dataset.range = rangeOf(cur.sgv);
  box.classList.toggle("stale", stale);
  $("bg-value").textContent = show(cur.sgv);
  const arrow = $("bg-arrow");
  arrow.dataset.direction = cur.direction || "";
  arrow.textContent = ARROWS[cur.direction] ?? "";
  arrow.setAttribute("aria-label", cur.direction || "no direction");
  const prev = state.previous;
  const close = prev && cur.date - prev.date <= STALE_MS;
  $("bg-delta").textContent = close ? showDelta(cur.sgv - prev.sgv) : "";
  $("bg-units").textContent = unitLabel();
  $("bg-ago").textContent = ago(cur.date);
  $("bg-ago").title = when(cur.date);
  $("stale").hidden = !stale;
}

function svg(parent, tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  parent.appendChild(node);
  return node;
}

function renderChart() {
  const chart = $("chart");
  const width = Math.max(280, $("chart-box").clientWidth);
  const height = Math.max(200, $("chart-box").clientHeight);
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
  chart.dataset.start = String(state.start);
  chart.replaceChildren();
  const pad = { left: 36, right: 10, top: 40, bottom: 36 };
  const start = state.start;
  const end = start + state.hours * 3_600_000;
  const t = thresholds();
  const values = state.entries.map((e) => e.sgv);
  const yMax = Math.min(400, Math.max(t.high + 20, ...values.map((v) => v + 10)));
  const yMin = 40;
  const x = (ms) => pad.left + ((ms - start) / (end - start)) * (width - pad.left - pad.right);
  const y = (v) => pad.top + (1 - (Math.min(Math.max(v, yMin), yMax) - yMin) / (yMax - yMin))
    * (height - pad.top - pad.bottom);

  svg(chart, "rect", { class: "band", x: pad.left, y: y(t.top), width: width - pad.left - pad.right, height: y(t.bottom) - y(t.top) });
  for (const level of [t.low, t.bottom, t.top, t.high]) {
    const cls = level === t.bottom || level === t.top ? "target" : "limit";
    svg(chart, "line", { class: cls, x1: pad.left, x2: width - pad.right, y1: y(level), y2: y(level) });
    svg(chart, "text", { x: pad.left - 6, y: y(level) + 4, "text-anchor": "end" }, show(level));
  }
  // An hour tick every 1, 2, 3, 4, 6 or 12 hours: the first that leaves ~56 px per label.
  const perHour = (width - pad.left - pad.right) / state.hours;
  const stepH = [1, 2, 3, 4, 6, 12].find((h) => h * perHour >= 56) || 24;
  const firstTick = new Date(start); firstTick.setMinutes(0, 0, 0);
  for (let tick = firstTick.getTime() + 3_600_000; tick <= end; tick += 3_600_000) {
    if (new Date(tick).getHours() % stepH) continue;
    svg(chart, "line", { class: "grid", x1: x(tick), x2: x(tick), y1: pad.top, y2: height - pad.bottom });
    svg(chart, "text", { x: x(tick), y: height - pad.bottom + 16, "text-anchor": "middle" }, hourLabel(tick));
  }
  const radius = state.hours <= 6 ? 3.2 : state.hours <= 12 ? 2.6 : 2.1;
  for (const e of state.entries) {
    svg(chart, "circle", { class: `pt ${rangeOf(e.sgv)}`, cx: x(e.date).toFixed(1), cy: y(e.sgv).toFixed(1), r: radius, "data-date": e.date })
      .appendChild(document.createElementNS(SVG_NS, "title")).textContent = `${show(e.sgv)} ${unitLabel()} at ${clockTime(e.date)}`;
  }
  // Markers for every treatment; a label only where it does not run into the previous one.
  const lastLabel = { bolus: -Infinity, carbs: -Infinity };
  const label = (kind, at, y, text, anchor) => {
    if (at - lastLabel[kind] < 34) return;
    lastLabel[kind] = at;
    svg(chart, "text", { class: `${kind}-label`, x: at, y, "text-anchor": anchor }, text);
  };
  const byTime = [...state.treatments].sort((a, b) => treatmentTime(a) - treatmentTime(b));
  for (const tr of byTime) {
    const at = x(treatmentTime(tr));
    if (tr.insulin > 0) {
      const base = height - pad.bottom - 4;
      svg(chart, "path", { class: "bolus", d: `M${at - 6},${base - 11} L${at + 6},${base - 11} L${at},${base} Z` });
      label("bolus", at, base - 14, `${+tr.insulin.toFixed(2)}U`, "middle");
    }
    if (tr.carbs > 0) {
      svg(chart, "circle", { class: "carbs", cx: at, cy: pad.top - 12, r: 5 });
      label("carbs", at, pad.top - 8 - 10, `${Math.round(tr.carbs)}g`, "middle");
    }
  }
  $("chart-title").textContent = `Last ${state.hours} hours`;
  $("chart-count").textContent = `· ${state.entries.length} readings`;
  document.querySelectorAll(".periods button").forEach((b) => {
    b.setAttribute("aria-pressed", String(Number(b.dataset.hours) === state.hours));
  });
}

function renderTimeInRange() {
  const counts = { below: 0, in: 0, above: 0 };
  for (const e of state.entries) {
    const r = rangeOf(e.sgv);
    counts[r === "low" ? "below" : r === "high" ? "above" : "in"] += 1;
  }
  const total = state.entries.length;
  for (const key of Object.keys(counts)) {
    const pct = total ? (100 * counts[key]) / total : 0;
    $(`tir-${key}`).textContent = total ? `${Math.round(pct)}%` : "–";
    $(`tir-${key}`).dataset.count = counts[key];
    $(`tir-bar-${key}`).style.width = `${pct}%`;
  }
  const t = thresholds();
  $("tir-period").textContent = `· last ${state.hours} h`;
  $("tir-range").textContent = `target ${show(t.bottom)}–${show(t.top)} ${unitLabel()}`;
}

function cell(row, text, attrs = {}) {
  const td = row.insertCell();
  td.textContent = text;
  for (const [key, value] of Object.entries(attrs)) td.setAttribute(key, value);
  return td;
}

function renderConnectors() {
  const body = $("connectors").tBodies[0];
  body.replaceChildren();
  if (!state.connectors.length) {
    const row = body.insertRow();
    row.className = "empty";
    cell(row, "no connector has run yet", { colspan: "5" });
    return;
  }
  for (const c of state.connectors) {
    const row = body.insertRow();
    row.dataset.source = c.source;
    row.dataset.state = c.state;
    const source = cell(row, c.source, { "data-label": "Source" });
    source.prepend(Object.assign(document.createElement("span"), { className: "state", title: c.state }));
    cell(row, c.account, { "data-label": "Account" });
    cell(row, c.last_success_ms ? ago(c.last_success_ms) : "never", {
      "data-label": "Last sync", title: c.last_success_ms ? when(c.last_success_ms) : "",
    });
    const failedLast = c.state === "failing" || c.state === "stopped";
    cell(row, c.last_error ? `${c.last_error} (${ago(c.last_error_ms)})` : "—", {
      "data-label": "Last error", class: failedLast ? "error" : "", title: c.last_error_detail || "",
    });
    const next = c.state === "stopped" ? "stopped: fix and restart"
      : c.next_poll_ms ? until(c.next_poll_ms) : "—";
    cell(row, next, { "data-label": "Next poll" });
  }
}

// ---- wiring ---------------------------------------------------------------------------

function choosePeriod(hours) {
  state.hours = hours;
  localStorage.setItem(PERIOD_KEY, String(hours));
  refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".periods button").forEach((b) => {
    b.addEventListener("click", () => choosePeriod(Number(b.dataset.hours)));
  });
  $("auth-form").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem(AUTH_KEY, toCredential($("auth-secret").value));
    $("auth-secret").value = "";
    refresh();
  });
  $("forget").addEventListener("click", () => {
    localStorage.removeItem(AUTH_KEY);
    state.anonymousReads = false;
    refresh();
  });
  window.addEventListener("resize", () => { if (state.settings) renderChart(); });
  refresh();
  setInterval(refresh, REFRESH_MS);
  setInterval(() => { if (state.current) { renderNow(); renderConnectors(); } }, TICK_MS);
});
