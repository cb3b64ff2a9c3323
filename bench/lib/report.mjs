// bench/results/latest.md: the targets (met / not met, with the measured ratio), then every
// scenario's figures, the footprint and the notes, from the same object as <date>.json.

const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const cell = (s, digits = 2) => (s && typeof s === "object" ? `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})` : fmt(s, digits));

const describeQuery = (q) => {
  const extras = [
    ...(q.brands?.length ? [`brands ${q.brands.join("/")}`] : []),
    ...(q.minPriceMinor || q.maxPriceMinor ? [`price ${q.minPriceMinor ?? 0}–${q.maxPriceMinor ?? "∞"} minor units`] : []),
    ...(q.orderBy ? [`by ${q.orderBy}`] : []),
  ];
  return `\`${q.query}\`${extras.length ? ` (${extras.join(", ")})` : ""}`;
};

/** The search section: engine vs database at a fixed rate, loading and index lag, OpenSearch's RSS. */
function searchSection(search) {
  const { engine, database, load, indexLag, opensearch } = search;
  const lines = ["## Search", ""];
  lines.push(
    `SearchProducts at ${search.rate}/s (open model), the same ${search.queries.length} queries in turn (${search.queries.map(describeQuery).join(", ")}), ` +
      "on a catalog with SEARCH_ENGINE=opensearch and on one with SEARCH_ENGINE=database (MariaDB FULLTEXT) over the same database, alternated. " +
      "CPU per call (Scenarios) includes the shared OpenSearch and MariaDB processes, which other work on the machine also uses.",
    "",
  );
  lines.push("| SearchProducts | engine (OpenSearch) | database (FULLTEXT) | engine / database |", "|---|---|---|---|");
  lines.push(`| p50 ms | ${cell(engine.p50)} | ${cell(database.p50)} | ${cell(search.p50Ratio)}x |`);
  lines.push(`| p99 ms | ${cell(engine.p99)} | ${cell(database.p99)} | ${cell(search.p99Ratio)}x |`);
  lines.push(`| errors | ${engine.errors} | ${database.errors} | |`);
  lines.push(`| degraded answers | ${engine.degraded} of ${engine.calls} | ${database.degraded} of ${database.calls} (never set without an engine) | |`);
  lines.push(`| answers with no product | ${engine.emptyAnswers} | ${database.emptyAnswers} | |`);
  lines.push("");
  if (load)
    lines.push(
      `Loading: ${load.products} demo products through CreateProduct as admin in ${fmt(load.seconds, 1)} s (${fmt(load.perSecond, 0)}/s); all searchable on the engine ${fmt(load.allIndexedAfterSeconds, 1)} s after the last one returned.`,
      "",
    );
  if (indexLag)
    lines.push(
      `Index lag, UpdateProduct returned -> SearchProducts for the new name finds the product, not degraded (one update at a time, each at a random point of the refresh cycle; polled every ${indexLag.pollMs} ms): ` +
        `p50 ${fmt(indexLag.p50, 0)} ms, p99 ${fmt(indexLag.p99, 0)} ms, max ${fmt(indexLag.max, 0)} ms over ${indexLag.found} updates${indexLag.missed ? ` (**${indexLag.missed} not found within 30 s**)` : ""}. ` +
        (indexLag.written
          ? `Of that, outbox relay + Kafka + indexer until the new version is in the index (a realtime GET): p50 ${fmt(indexLag.written.p50, 0)} ms, p99 ${fmt(indexLag.written.p99, 0)} ms; the rest is the index refresh (every 1 s).`
          : ""),
      "",
    );
  if (opensearch?.pid)
    lines.push(
      `OpenSearch (shared infrastructure, not counted in the stack below${opensearch.heapMax ? `; JVM ${opensearch.heapMax}` : ""}): RSS ${fmt(opensearch.restMiB, 0)} MiB before the search rounds, ${fmt(opensearch.peakMiB, 0)} MiB at their peak.`,
      "",
    );
  return lines;
}

/** Renders the markdown report; `jsonName` is the raw results file next to it. */
export function renderMarkdown(results, jsonName) {
  const lines = [];
  lines.push(`# shopmesh bench — ${results.date}${results.quick ? " (--quick)" : ""}`);
  lines.push("");
  lines.push(
    `Machine: ${results.machine.cpus} cores (${results.machine.model}), Node ${results.machine.node}, load average at start ${results.machine.loadavgAtStart.map((n) => n.toFixed(2)).join(" ")}. ` +
      `${results.plan.rounds} alternating rounds (A B A B ...) per comparison, ${results.plan.segmentMs} ms per saturation segment, ${results.plan.openMs} ms per fixed-rate segment, ${results.plan.concurrency} calls in flight for saturation. ` +
      `Figures are medians with the spread over rounds (min–max). Raw figures: [${jsonName}](${jsonName}). Chart: [chart.svg](chart.svg). Run time ${fmt(results.seconds, 0)} s.`,
  );
  lines.push("");
  if (results.error) lines.push(`**The run failed:** \`${results.error.split("\n")[0]}\` — figures below are what was measured before it.`, "");
  lines.push("## Targets", "", "| target | measured | goal | verdict |", "|---|---|---|---|");
  for (const t of results.targets)
    lines.push(`| ${t.name} | ${t.measured} | ${t.goal} | ${t.met === undefined ? "not measured" : t.met ? "met" : "**not met**"} |`);
  lines.push("");
  lines.push("![latency percentiles and throughput per scenario](chart.svg)", "");
  lines.push("## Scenarios", "");
  lines.push(
    "| scenario | target | calls/s | p50 ms | p90 ms | p99 ms | server CPU ms/call (total) | CPU ms/call by process | errors |",
    "|---|---|---|---|---|---|---|---|---|",
  );
  for (const s of Object.values(results.scenarios)) {
    const byProcess = s.cpuMsPerCall
      ? Object.entries(s.cpuMsPerCall)
          .filter(([name]) => name !== "total")
          .map(([name, v]) => `${name} ${fmt(v?.median ?? v, 3)}`)
          .join(", ")
      : "";
    lines.push(
      `| ${s.label} | ${s.target} | ${cell(s.throughput, 1)} | ${cell(s.p50)} | ${cell(s.p90)} | ${cell(s.p99)} | ${cell(s.cpuMsPerCall?.total, 3)} | ${byProcess} | ${s.errors ?? 0}${s.firstError ? ` (${String(s.firstError).slice(0, 80)})` : ""} |`,
    );
  }
  for (const s of Object.values(results.scenarios)) {
    if (s.placeOrderOnly)
      lines.push(
        "",
        `${s.label}: PlaceOrder's own latency (without the AddItem that fills the cart or the wait for a free customer): p50 ${fmt(s.placeOrderOnly.p50)} ms, p99 ${fmt(s.placeOrderOnly.p99)} ms over ${s.placeOrderOnly.calls} orders.`,
      );
  }
  lines.push("");
  lines.push("## Ratios (per round, then median and spread)", "", "| comparison | median (min–max) |", "|---|---|");
  for (const [name, s] of Object.entries(results.comparisons)) {
    if (s && typeof s === "object" && "median" in s) lines.push(`| ${name} | ${cell(s, 3)} |`);
    else if (s && typeof s === "object") for (const [sub, v] of Object.entries(s)) lines.push(`| ${name}.${sub} | ${cell(v, 3)} |`);
  }
  lines.push("");
  if (results.placeOrderCost) {
    const cost = results.placeOrderCost;
    lines.push("## One PlaceOrder, from its trace", "");
    lines.push(`${cost.rpcHops} RPC hops (counted at the caller): ${cost.rpcCalls.map((call) => `\`${call}\``).join(", ")}.`, "");
    lines.push(
      `SQL statements by service: ${Object.entries(cost.sqlStatements)
        .map(([name, count]) => `${name} ${count}`)
        .join(", ")}. Redis commands: ${
        Object.entries(cost.redisCommands)
          .map(([name, count]) => `${name} ${count}`)
          .join(", ") || "none traced"
      }. The catalog runs untraced here (its tracing-off twin serves the checkout), so its cache reads are not counted.`,
      "",
    );
  }
  if (results.eventLag) {
    lines.push("## Events", "");
    lines.push(
      `Event lag, outbox commit -> consumer's processed_events row (both on the MariaDB clock): p50 ${fmt(results.eventLag.p50, 0)} ms, p99 ${fmt(results.eventLag.p99, 0)} ms, max ${fmt(results.eventLag.max, 0)} ms over ${results.eventLag.events} events. ` +
        `Relay alone (created_at -> published_at): p50 ${fmt(results.eventLag.relay.p50, 0)} ms, p99 ${fmt(results.eventLag.relay.p99, 0)} ms over ${results.eventLag.relay.events} events.`,
    );
    if (results.relayDrain)
      lines.push(
        "",
        `Relay drain: ${results.relayDrain.events} order events written with the relay off, published in ${fmt(results.relayDrain.seconds)} s after it was turned on (from the restarted process listening, so it includes Kafka producer connect) = ${fmt(results.relayDrain.perSecond, 0)} events/s.`,
      );
    lines.push("");
  }
  if (results.search?.engine) lines.push(...searchSection(results.search));
  lines.push("## Footprint (RSS, MiB)", "", "| process | idle | peak under load |", "|---|---|---|");
  const idle = results.footprint?.idleMiB ?? {};
  const peak = results.footprint?.peakUnderLoadMiB ?? {};
  for (const name of Object.keys(idle)) lines.push(`| ${name} | ${fmt(idle[name], 0)} | ${peak[name] ? fmt(peak[name], 0) : "–"} |`);
  if (results.footprint?.stack)
    lines.push(
      "",
      `Whole local stack at rest (${results.footprint.stack.processes.join(", ")}): **${fmt(results.footprint.stack.idleMiB, 0)} MiB**${results.footprint.stack.complete ? "" : " (incomplete: not every service was started in this run)"}.`,
    );
  lines.push("");
  if (results.profiles?.length) {
    lines.push("## CPU profiles", "");
    for (const p of results.profiles)
      lines.push(
        `- [\`${p.file}\`](${p.file}): ${p.service} under "${p.scenario}" (for: ${p.forTarget}). Open in Chrome DevTools (Performance) or speedscope.`,
      );
    lines.push("");
  }
  lines.push("## How it was measured", "");
  lines.push(
    "- Every process is started by the bench: services from their builds (`services/<name>/dist/main.js`) with throwaway databases and consumer groups of their own, the way test/e2e/mesh.ts does; Envoy rendered by tools/envoy-gen for their ports (one worker thread); the floor servers from bench/floor-server.mjs. Infra (MariaDB, Redis, Kafka, Jaeger) is the shared local one and is not counted.",
    "- Floor: a bare `@grpc/grpc-js` server and a bare connect-node (h2c) server answering GetProduct with the exact bytes the catalog returned. Same client for all gRPC targets (one grpc-js channel, the bench process), same concurrency.",
    "- Saturation: closed loop. Latency goals: open model at a fixed arrival rate; latency counts from the moment a call was due.",
    "- Server CPU per call: utime+stime from /proc/<pid>/stat before and after each segment, divided by the calls answered (10 ms tick resolution).",
    "- The load generator shares the 2 cores with the servers, and other work on the machine varies: absolute figures move between runs, ratios from the same round much less.",
  );
  for (const note of results.notes) lines.push(`- ${note}`);
  lines.push("");
  return lines.join("\n");
}
