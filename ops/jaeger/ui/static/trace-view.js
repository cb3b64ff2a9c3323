// shopmesh's trace view: a search over Jaeger's HTTP API and one trace as a waterfall, with the
// command that prints the trace's log lines from every service. No build step, no dependencies.
//   /                 search: service, operation, lookback
//   /trace/<id>       one trace (the URL Jaeger uses, so links to Jaeger keep working)
"use strict";

const COLORS = ["#0b6bcb", "#27ab83", "#d64545", "#8662c7", "#cb6e17", "#2680c2", "#3ebd93", "#e12d39", "#9446ed", "#486581", "#f0b429", "#c65d21"];
const view = document.getElementById("view");

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

async function api(path) {
  const response = await fetch(`api/${path}`);
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return (await response.json()).data;
}

const duration = (micros) => (micros >= 1e6 ? `${(micros / 1e6).toFixed(2)} s` : micros >= 1000 ? `${(micros / 1000).toFixed(1)} ms` : `${micros} µs`);
const tagValue = (span, key) => span.tags.find((tag) => tag.key === key)?.value;

/** Services in a stable colour each, in the order they first appear. */
function palette(names) {
  const colors = new Map();
  for (const name of names) if (!colors.has(name)) colors.set(name, COLORS[colors.size % COLORS.length]);
  return colors;
}

/** Spans depth first, each child after its parent, siblings by start time. */
function ordered(trace) {
  const ids = new Set(trace.spans.map((span) => span.spanID));
  const children = new Map();
  const roots = [];
  for (const span of trace.spans) {
    const parent = span.references.find((ref) => ref.refType === "CHILD_OF" && ids.has(ref.spanID))?.spanID;
    if (parent) children.set(parent, [...(children.get(parent) ?? []), span]);
    else roots.push(span);
  }
  const byStart = (a, b) => a.startTime - b.startTime;
  const out = [];
  const visit = (span, depth) => {
    out.push({ span, depth });
    for (const child of (children.get(span.spanID) ?? []).sort(byStart)) visit(child, depth + 1);
  };
  for (const root of roots.sort(byStart)) visit(root, 0);
  return out;
}

async function showTrace(traceId) {
  document.title = `trace ${traceId}`;
  view.replaceChildren(element("p", { class: "empty" }, "loading..."));
  const [trace] = await api(`traces/${encodeURIComponent(traceId)}`);
  if (!trace) return view.replaceChildren(element("p", { class: "empty" }, `no trace ${traceId}`));
  const service = (span) => trace.processes[span.processID]?.serviceName ?? "?";
  const rows = ordered(trace);
  const start = Math.min(...trace.spans.map((span) => span.startTime));
  const end = Math.max(...trace.spans.map((span) => span.startTime + span.duration));
  const total = Math.max(1, end - start);
  const colors = palette(rows.map(({ span }) => service(span)));
  const root = rows[0].span;
  const summary = element(
    "div",
    { class: "summary" },
    element("h1", {}, `${service(root)}: ${root.operationName}`),
    element("span", {}, `trace ${trace.traceID}`),
    element("span", {}, new Date(start / 1000).toLocaleString()),
    element("span", {}, `duration ${duration(total)}`),
    element("span", {}, `${colors.size} services, ${trace.spans.length} spans`),
  );
  const logs = element(
    "p",
    { class: "logs" },
    "Every service's log lines of this trace, in time order: ",
    element("code", {}, `npm run logs -- --trace ${trace.traceID}`),
  );
  const waterfall = element("div", { class: "waterfall" });
  for (const { span, depth } of rows) {
    const name = service(span);
    const failed = tagValue(span, "error") === true || tagValue(span, "otel.status_code") === "ERROR";
    const left = ((span.startTime - start) / total) * 100;
    const width = (span.duration / total) * 100;
    const label = element(
      "div",
      { class: "span-label", style: `padding-left: ${8 + depth * 14}px`, title: `${name} ${span.operationName}` },
      element("span", { class: "service", style: `background: ${colors.get(name)}` }, name),
      failed ? element("span", { class: "error" }, "! ") : "",
      span.operationName,
    );
    const bar = element(
      "div",
      { class: "span-bar" },
      element("i", { style: `left: ${left}%; width: ${width}%; background: ${colors.get(name)}` }),
      element("b", { style: left + width > 80 ? `right: ${100 - left + 0.5}%` : `left: ${left + width + 0.5}%` }, duration(span.duration)),
    );
    const row = element("div", { class: "span-row", "data-span": span.spanID }, label, bar);
    row.addEventListener("click", (event) => {
      if (event.target.closest(".span-tags")) return;
      const open = row.querySelector(".span-tags");
      if (open) return open.remove();
      const tags = [...span.tags].sort((a, b) => a.key.localeCompare(b.key));
      const table = element("table", {}, ...tags.map((tag) => element("tr", {}, element("td", {}, tag.key), element("td", {}, String(tag.value)))));
      row.append(element("div", { class: "span-tags" }, table));
    });
    waterfall.append(row);
  }
  view.replaceChildren(summary, logs, waterfall);
  document.body.dataset.ready = "true";
}

async function showSearch(params) {
  document.title = "shopmesh traces";
  const services = (await api("services")).filter((name) => name !== "jaeger").sort();
  const service = params.get("service") ?? (services.includes("order") ? "order" : services[0]);
  const form = element(
    "form",
    { class: "search" },
    element(
      "label",
      {},
      "service",
      element("select", { name: "service" }, ...services.map((name) => element("option", name === service ? { selected: "" } : {}, name))),
    ),
    element("label", {}, "operation", element("input", { name: "operation", value: params.get("operation") ?? "", placeholder: "any" })),
    element(
      "label",
      {},
      "lookback",
      element(
        "select",
        { name: "lookback" },
        ...["15m", "1h", "6h", "24h"].map((v) => element("option", v === (params.get("lookback") ?? "1h") ? { selected: "" } : {}, v)),
      ),
    ),
    element("button", { type: "submit" }, "find traces"),
  );
  view.replaceChildren(form, element("p", { class: "empty" }, service ? "loading..." : "no services have sent traces yet"));
  if (!service) return;
  const query = new URLSearchParams({ service, limit: "40", lookback: params.get("lookback") ?? "1h" });
  if (params.get("operation")) query.set("operation", params.get("operation"));
  const traces = await api(`traces?${query}`);
  const rows = traces
    .map((trace) => {
      const start = Math.min(...trace.spans.map((span) => span.startTime));
      const end = Math.max(...trace.spans.map((span) => span.startTime + span.duration));
      const root = ordered(trace)[0].span;
      const services = new Set(trace.spans.map((span) => trace.processes[span.processID]?.serviceName));
      return { trace, start, total: end - start, root, services };
    })
    .sort((a, b) => b.start - a.start)
    .map(({ trace, start, total, root, services }) =>
      element(
        "tr",
        {},
        element("td", {}, element("a", { href: `trace/${trace.traceID}` }, `${trace.processes[root.processID]?.serviceName}: ${root.operationName}`)),
        element("td", {}, new Date(start / 1000).toLocaleTimeString()),
        element("td", {}, duration(total)),
        element("td", {}, `${trace.spans.length} spans, ${services.size} services`),
      ),
    );
  const table = element(
    "table",
    {},
    element("tr", {}, element("th", {}, "trace"), element("th", {}, "started"), element("th", {}, "duration"), element("th", {}, "size")),
    ...rows,
  );
  view.replaceChildren(form, rows.length ? table : element("p", { class: "empty" }, "no traces"));
  document.body.dataset.ready = "true";
}

document.getElementById("lookup").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = document.getElementById("trace-id").value.trim();
  if (id) window.location.assign(`trace/${encodeURIComponent(id)}`);
});

const path = window.location.pathname.slice(new URL(document.baseURI).pathname.length);
const match = /^trace\/([0-9a-fA-F]+)/.exec(path);
(match ? showTrace(match[1]) : showSearch(new URLSearchParams(window.location.search))).catch((err) => {
  view.replaceChildren(element("p", { class: "empty" }, `failed: ${err.message}`));
});
