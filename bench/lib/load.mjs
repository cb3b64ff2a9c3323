// Load generators written for this benchmark: a closed loop (N calls in flight, for
// saturation) and an open model (a fixed arrival rate, for latency; each latency counts
// from the moment the call was due, so a stalled server cannot hide its queue).
// Both stop by themselves: at the end of their time or after `maxRequests`.
import http from "node:http";
import { performance } from "node:perf_hooks";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";

/** p50/p90/p99/max of latencies in ms, throughput in calls/s. */
export function summarize(latencies, elapsedMs, errors) {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
  return {
    calls: sorted.length,
    errors,
    seconds: elapsedMs / 1000,
    throughput: sorted.length / (elapsedMs / 1000),
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

/** Keeps `concurrency` calls in flight until `durationMs` has passed or `maxRequests` were sent. */
export async function closedLoop(call, { concurrency, durationMs, maxRequests = Infinity }) {
  const latencies = [];
  let errors = 0;
  let sent = 0;
  let firstError;
  const start = performance.now();
  const end = start + durationMs;
  async function worker() {
    while (performance.now() < end && sent < maxRequests) {
      sent++;
      const t0 = performance.now();
      try {
        await call();
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ...summarize(latencies, performance.now() - start, errors), firstError: firstError?.message };
}

/**
 * Starts calls at `rate` per second for `durationMs`, whatever the answers do. Calls beyond
 * `maxInFlight` are counted as errors (the server is not keeping up) rather than queued here.
 */
export async function openLoop(call, { rate, durationMs, maxRequests = Infinity, maxInFlight = 2_000, drainMs = 30_000 }) {
  const latencies = [];
  let errors = 0;
  let inFlight = 0;
  let sent = 0;
  let firstError;
  const total = Math.min(maxRequests, Math.floor((rate * durationMs) / 1000));
  const interval = 1000 / rate;
  const pending = new Set();
  const start = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
    for (; sent < due; sent++) {
      const intended = start + sent * interval;
      if (inFlight >= maxInFlight) {
        errors++;
        continue;
      }
      inFlight++;
      const promise = call().then(
        () => latencies.push(performance.now() - intended),
        (err) => {
          errors++;
          firstError ??= err;
        },
      );
      const tracked = promise.finally(() => {
        inFlight--;
        pending.delete(tracked);
      });
      pending.add(tracked);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(interval, 5))));
  }
  const sendEnd = performance.now();
  await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, drainMs).unref())]);
  errors += pending.size; // still unanswered after the drain window
  return { ...summarize(latencies, Math.max(sendEnd - start, (total / rate) * 1000), errors), rate, firstError: firstError?.message };
}

/** A bare grpc-js channel calling one unary method: the same client for every gRPC target. */
export function grpcUnary(address, method, request, { credentials = grpc.credentials.createInsecure(), channelOptions = {} } = {}) {
  // One long-lived channel per target: with TLS the handshake happens once, as between services.
  const client = new grpc.Client(address, credentials, { "grpc.enable_retries": 0, ...channelOptions });
  const path = `/${method.parent.typeName}/${method.name}`;
  const bytes = Buffer.from(toBinary(method.input, create(method.input, request)));
  const serialize = () => bytes;
  const deserialize = (buffer) => fromBinary(method.output, buffer);
  const metadata = new grpc.Metadata();
  return {
    call: () =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(path, serialize, deserialize, null, metadata, {}, (err, response) => (err ? reject(err) : resolve(response)));
      }),
    close: () => client.close(),
  };
}

/** Connect JSON over HTTP/1.1 keep-alive connections (what a browser or curl sends). */
export function connectJson(baseUrl, method, json, { connections = 64 } = {}) {
  const url = new URL(`/${method.parent.typeName}/${method.name}`, baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const body = Buffer.from(JSON.stringify(json));
  const headers = { "content-type": "application/json", "connect-protocol-version": "1", "content-length": body.length };
  return {
    url: url.toString(),
    body: body.toString(),
    headers: { "content-type": "application/json", "connect-protocol-version": "1" },
    call: () =>
      new Promise((resolve, reject) => {
        const req = http.request(url, { method: "POST", agent, headers }, (res) => {
          const chunks = [];
          res.on("data", (chunk) => chunks.push(chunk));
          res.on("end", () =>
            res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks)}`)),
          );
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}
