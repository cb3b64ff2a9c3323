// Draws panels.json from Prometheus's HTTP API, same origin: the page is served by Prometheus
// at /user/ (--web.user-assets), so `../api/v1/` is its API. No build step, no dependencies.
"use strict";

const API = new URL("../api/v1/", window.location.href);
const RANGES = { "5m": 300, "15m": 900, "1h": 3600, "6h": 21600 };
const COLORS = ["#0b6bcb", "#d64545", "#27ab83", "#f0b429", "#8662c7", "#e12d39", "#2680c2", "#3ebd93", "#cb6e17", "#9446ed", "#486581", "#c65d21"];
const REFRESH_MS = 10_000;
const SVG = "http://www.w3.org/2000/svg";

const params = new URLSearchParams(window.location.search);
/** `?range=` takes any `<n>m` or `<n>h` besides the buttons' ranges. */
const asked = /^(\d+)([mh])$/.exec(params.get("range") ?? "");
if (asked) RANGES[asked[0]] ??= Number(asked[1]) * (asked[2] === "h" ? 3600 : 60);
let range = asked ? asked[0] : "1h";
let panels = [];

function element(tag, attributes = {}, text) {
  const node = tag === "svg" || ["path", "line", "text", "g", "rect"].includes(tag) ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A value in the panel's unit, short: 12.3/s, 45%, 230 ms, 1.2k. */
function format(value, unit) {
  if (!Number.isFinite(value)) return "-";
  const si = (v) => {
    const abs = Math.abs(v);
    if (abs >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
    if (abs >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
    if (abs >= 10 || v === 0) return `${Math.round(v)}`;
    return `${+v.toPrecision(2)}`;
  };
  switch (unit) {
    case "reqps":
    case "ops":
      return `${si(value)}/s`;
    case "percentunit":
      return `${+(value * 100).toFixed(value < 0.1 ? 2 : 1)}%`;
    case "s":
      return value < 1 ? `${+(value * 1000).toPrecision(3)} ms` : `${+value.toPrecision(3)} s`;
    default:
      return si(value);
  }
}

function legendOf(template, metric) {
  const text = template.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, label) => metric[label] ?? "");
  return text.trim() || JSON.stringify(metric);
}

async function api(path, query) {
  const url = new URL(path, API);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, String(value));
  const response = await fetch(url);
  const body = await response.json();
  if (body.status !== "success") throw new Error(body.error ?? `${response.status}`);
  return body.data.result;
}

/** Every series of every query of a panel over the selected range: [{ name, points: [[t, v]] }]. */
async function rangeSeries(panel, end) {
  const seconds = RANGES[range];
  const step = Math.max(1, Math.round(seconds / 120));
  const results = await Promise.all(
    panel.queries.map((query) => api("query_range", { query: query.expr.replaceAll("$__range", range), start: end - seconds, end, step })),
  );
  const series = results.flatMap((result, index) =>
    result.map((one) => ({
      name: legendOf(panel.queries[index].legend, one.metric),
      points: one.values.map(([t, v]) => [Number(t), Number(v)]).filter(([, v]) => Number.isFinite(v)),
    })),
  );
  // Busiest first: the legend shows what moves before what stays at zero.
  const peak = (s) => Math.max(0, ...s.points.map(([, v]) => v));
  return series.sort((a, b) => peak(b) - peak(a) || a.name.localeCompare(b.name));
}

function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((candidate) => candidate >= value);
}

function drawChart(box, panel, series, end) {
  const width = Math.max(240, box.clientWidth || 400);
  const height = 150;
  const left = 54;
  const bottom = 18;
  const seconds = RANGES[range];
  const start = end - seconds;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map(([, v]) => v))));
  const x = (t) => left + ((t - start) / seconds) * (width - left - 4);
  const y = (v) => 4 + (1 - v / max) * (height - bottom - 8);
  const svg = element("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": panel.title });
  for (let i = 0; i <= 4; i++) {
    const value = (max * i) / 4;
    svg.append(element("line", { x1: left, x2: width - 4, y1: y(value), y2: y(value), stroke: "#e4e7eb" }));
    svg.append(element("text", { x: left - 6, y: y(value) + 4, "text-anchor": "end", "font-size": 10, fill: "#616e7c" }, format(value, panel.unit)));
  }
  for (let i = 0; i <= 3; i++) {
    const t = start + (seconds * i) / 3;
    const label = new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", ...(seconds <= 900 ? { second: "2-digit" } : {}) });
    svg.append(
      element("text", { x: x(t), y: height - 4, "text-anchor": i === 0 ? "start" : i === 3 ? "end" : "middle", "font-size": 10, fill: "#616e7c" }, label),
    );
  }
  series.forEach((s, index) => {
    if (s.points.length === 0) return;
    const d = s.points.map(([t, v], i) => `${i === 0 ? "M" : "L"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join("");
    const color = COLORS[index % COLORS.length];
    svg.append(element("path", { d, fill: "none", stroke: color, "stroke-width": 1.6 }));
    if (s.points.length === 1) svg.append(element("rect", { x: x(s.points[0][0]) - 2, y: y(s.points[0][1]) - 2, width: 4, height: 4, fill: color }));
  });
  const legend = element("div", { class: "legend" });
  series.forEach((s, index) => {
    const last = s.points.at(-1)?.[1];
    const item = element("span", { style: `--swatch: ${COLORS[index % COLORS.length]}` }, `${s.name} ${format(last, panel.unit)}`);
    legend.append(item);
  });
  box.replaceChildren(svg, legend);
}

async function drawBars(box, panel, end) {
  const values = await Promise.all(
    panel.queries.map(async (query) => {
      const result = await api("query", { query: query.expr.replaceAll("$__range", range), time: end });
      return { name: query.legend, value: result.reduce((total, series) => total + Number(series.value[1]), 0) };
    }),
  );
  const max = Math.max(1, ...values.map((v) => v.value));
  const bars = element("div", { class: "bars" });
  for (const { name, value } of values) {
    const line = element("div");
    const track = element("span");
    track.append(element("i", { style: `width: ${(100 * value) / max}%` }));
    line.append(element("span", {}, name), track, element("b", {}, format(value, panel.unit)));
    bars.append(line);
  }
  box.replaceChildren(bars);
}

async function drawPanel(panel, box, end) {
  try {
    if (panel.kind === "bars") return await drawBars(box, panel, end);
    const series = await rangeSeries(panel, end);
    if (series.length === 0) return box.replaceChildren(element("div", { class: "empty" }, "no data yet"));
    drawChart(box, panel, series, end);
  } catch (err) {
    box.replaceChildren(element("div", { class: "error" }, `query failed: ${err.message}`));
  }
}

function layout(dashboard) {
  const main = document.getElementById("dashboard");
  main.replaceChildren();
  panels = [];
  for (const row of dashboard.rows) {
    main.append(element("h2", {}, row.title));
    const grid = element("div", { class: "row" });
    for (const panel of row.panels) {
      const card = element("section", { class: "panel", style: `grid-column: span ${panel.width}` });
      if (panel.description) card.title = panel.description;
      const box = element("div", { class: "chart" });
      card.append(element("h3", {}, panel.title), box);
      grid.append(card);
      panels.push({ panel, box });
    }
    main.append(grid);
  }
}

async function refresh() {
  const end = Math.floor(Date.now() / 1000);
  await Promise.all(panels.map(({ panel, box }) => drawPanel(panel, box, end)));
  document.getElementById("status").textContent = `last ${range}, updated ${new Date(end * 1000).toLocaleTimeString()}`;
  document.body.dataset.ready = "true";
}

function rangeButtons() {
  const nav = document.getElementById("ranges");
  nav.replaceChildren(
    ...Object.keys(RANGES).map((name) => {
      const button = element("button", { type: "button", class: name === range ? "active" : "" }, name);
      button.addEventListener("click", () => {
        range = name;
        rangeButtons();
        void refresh();
      });
      return button;
    }),
  );
}

async function main() {
  const dashboard = await (await fetch("panels.json")).json();
  document.title = `${dashboard.title} dashboard`;
  rangeButtons();
  layout(dashboard);
  await refresh();
  setInterval(() => void refresh(), REFRESH_MS);
}

main().catch((err) => {
  document.getElementById("status").textContent = `failed: ${err.message}`;
});
