// docs/checkout-saga.md is read as a claim about the code: every CamelCase name in it is a
// message, service or RPC of the contracts (or a platform export), so a renamed or removed
// event fails here; and every event of the saga's topics is in it, so a new one is described.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import type { DescFile, DescMessage } from "@bufbuild/protobuf";
import * as platform from "@shopmesh/platform";
import { ROOT } from "../deploy/tools.js";

const SAGA = readFileSync(join(ROOT, "docs/checkout-saga.md"), "utf8");
/** Named in the text but not ours to check: the model the design follows, and the event envelope. */
const OUTSIDE = new Set(["OrderStatusChangedToPaidIntegrationEventHandler", "CloudEvents"]);
/** Topics whose events make up the checkout saga. */
const SAGA_EVENT_FILES = ["order_events", "payment_events", "inventory_events", "delivery_events"];

function generatedFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? generatedFiles(join(dir, entry.name)) : entry.name.endsWith("_pb.js") ? [join(dir, entry.name)] : [],
  );
}

const messageNames = (messages: readonly DescMessage[]): string[] => messages.flatMap((message) => [message.name, ...messageNames(message.nestedMessages)]);

let contractNames: Set<string>;
const eventsByFile = new Map<string, string[]>();

beforeAll(async () => {
  contractNames = new Set();
  const genRoot = join(ROOT, "gen/src");
  for (const path of generatedFiles(genRoot)) {
    const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    const file = Object.entries(module).find(([name]) => name.startsWith("file_"))?.[1] as DescFile;
    for (const name of messageNames(file.messages)) contractNames.add(name);
    for (const service of file.services) {
      contractNames.add(service.name);
      for (const method of service.methods) contractNames.add(method.name);
    }
    for (const type of file.enums) contractNames.add(type.name);
    const events = /shopmesh\/events\/v1\/(\w+)_pb\.js$/.exec(relative(genRoot, path));
    if (events) eventsByFile.set(events[1]!, messageNames(file.messages));
  }
});

test("every CamelCase name in the saga document is a message, service or RPC of the contracts, or a platform export", () => {
  const named = new Set(SAGA.match(/\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b/g) ?? []);
  expect(named.size).toBeGreaterThan(10);
  const unknown = [...named].filter((name) => !contractNames.has(name) && !(name in platform) && !OUTSIDE.has(name));
  expect(unknown).toEqual([]);
});

test("every event of the saga's topics (order, payment, inventory, delivery) is described in the document", () => {
  const events = SAGA_EVENT_FILES.flatMap((file) => eventsByFile.get(file) ?? []);
  expect(events).toEqual(expect.arrayContaining(["OrderPlaced", "PaymentSucceeded", "StockReserved", "DeliveryAssigned"]));
  expect(events.filter((event) => !new RegExp(`\\b${event}\\b`).test(SAGA))).toEqual([]);
});
