// The chart in bench/results/chart.svg, drawn by hand (no plotting dependency): one row per
// scenario and target, throughput on the left (linear), latency p50/p90/p99 on the right
// (log scale, ms). Medians over the rounds; the whiskers on throughput are the spread.

const escape = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Renders `results` (as written to <date>.json) to an SVG document. */
export function renderChart(results) {
  const rows = Object.entries(results.scenarios).map(([key, s]) => ({
    key,
    throughput: s.throughput?.median ?? s.throughput,
    tMin: s.throughput?.min ?? s.throughput,
    tMax: s.throughput?.max ?? s.throughput,
    p50: s.p50?.median ?? s.p50,
    p90: s.p90?.median ?? s.p90,
    p99: s.p99?.median ?? s.p99,
  }));
  const rowHeight = 22;
  const labelWidth = 430;
  const panel = 300;
  const gap = 40;
  const top = 70;
  const width = labelWidth + panel * 2 + gap + 30;
  const height = top + rows.length * rowHeight + 50;
  const maxThroughput = Math.max(1, ...rows.map((row) => row.tMax).filter(Number.isFinite));
  const latencies = rows.flatMap((row) => [row.p50, row.p99]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...latencies, 1))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...latencies, 10))));
  const tx = (value) => labelWidth + (value / maxThroughput) * panel;
  const lx = (ms) => labelWidth + panel + gap + ((Math.log10(Math.max(ms, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * panel;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(
    `<text x="10" y="20" font-size="14" font-weight="bold">shopmesh bench ${escape(results.date.slice(0, 16))}${results.quick ? " (--quick)" : ""} — ${results.machine.cpus} cores, medians of ${results.plan.rounds} alternating rounds</text>`,
  );
  out.push(`<text x="${labelWidth}" y="${top - 25}" font-weight="bold">throughput (calls/s; whisker = min–max over rounds)</text>`);
  out.push(
    `<text x="${labelWidth + panel + gap}" y="${top - 25}" font-weight="bold">latency ms, log scale: <tspan fill="#2b7bb9">■ p50</tspan> <tspan fill="#f0a030">■ p90</tspan> <tspan fill="#d03030">■ p99</tspan></text>`,
  );
  for (let decade = lo; decade <= hi; decade *= 10) {
    const x = lx(decade);
    out.push(`<line x1="${x}" y1="${top - 8}" x2="${x}" y2="${top + rows.length * rowHeight}" stroke="#ddd"/>`);
    out.push(`<text x="${x}" y="${top - 10}" text-anchor="middle" fill="#666">${decade}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const value = (maxThroughput * i) / 4;
    const x = tx(value);
    out.push(`<line x1="${x}" y1="${top - 8}" x2="${x}" y2="${top + rows.length * rowHeight}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${top - 10}" text-anchor="middle" fill="#666">${Math.round(value)}</text>`);
  }
  rows.forEach((row, index) => {
    const y = top + index * rowHeight;
    const mid = y + rowHeight / 2;
    if (index % 2 === 0) out.push(`<rect x="0" y="${y}" width="${width}" height="${rowHeight}" fill="#f7f7f7"/>`);
    out.push(`<text x="10" y="${mid + 4}">${escape(row.key.length > 72 ? `${row.key.slice(0, 70)}…` : row.key)}</text>`);
    if (Number.isFinite(row.throughput)) {
      out.push(`<rect x="${labelWidth}" y="${y + 5}" width="${Math.max(1, tx(row.throughput) - labelWidth)}" height="${rowHeight - 10}" fill="#7aa874"/>`);
      out.push(`<line x1="${tx(row.tMin)}" y1="${mid}" x2="${tx(row.tMax)}" y2="${mid}" stroke="#234" stroke-width="1.5"/>`);
      out.push(
        `<text x="${tx(row.tMax) + 4}" y="${mid + 4}" fill="#333">${row.throughput >= 100 ? Math.round(row.throughput) : row.throughput.toFixed(1)}</text>`,
      );
    }
    if (Number.isFinite(row.p50) && Number.isFinite(row.p99)) {
      out.push(`<line x1="${lx(row.p50)}" y1="${mid}" x2="${lx(row.p99)}" y2="${mid}" stroke="#999"/>`);
      for (const [value, color] of [
        [row.p50, "#2b7bb9"],
        [row.p90, "#f0a030"],
        [row.p99, "#d03030"],
      ])
        if (Number.isFinite(value)) out.push(`<rect x="${lx(value) - 3}" y="${mid - 5}" width="6" height="10" fill="${color}"/>`);
    }
  });
  const met = results.targets.filter((t) => t.met === true).length;
  const missed = results.targets.filter((t) => t.met === false).length;
  out.push(
    `<text x="10" y="${height - 20}" fill="#333">targets: ${met} met, ${missed} not met, ${results.targets.length - met - missed} not measured — see latest.md; checkout latencies count from the moment each checkout was due (open model)</text>`,
  );
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}
