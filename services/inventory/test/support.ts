import { randomUUID } from "node:crypto";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import mysql from "mysql2/promise";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { decodeEvent } from "@shopmesh/platform/data";
import { connectClient, createTestTokens, dropDatabase, grpcClient, TEST_MYSQL, testDatabaseName, testLogger } from "@shopmesh/platform/testing";
import { buildInventory, type InventoryApp } from "../src/app.js";
import { loadInventoryConfig } from "../src/config.js";

/** A fresh catalog-style id (the contract wants UUIDs). */
export const newId = (): string => randomUUID();

/** A real inventory server on port 0 in its own database, with an admin, a customer and an internal caller. */
export async function startInventory(env: Record<string, string> = {}, database = testDatabaseName("inventory")) {
  const tokens = await createTestTokens();
  const config = loadInventoryConfig({ ...process.env, NODE_ENV: "test", INVENTORY_DATABASE: database, ...env });
  const app: InventoryApp = await buildInventory(config, testLogger("inventory"), { verifier: tokens.verifier });
  const port = await app.server.listen(0, "127.0.0.1");
  const adminToken = await tokens.token(newId(), ["customer", "admin"]);
  const customerToken = await tokens.token(newId(), ["customer"]);
  const internal = grpcClient(InventoryService, port);
  return {
    app,
    port,
    database,
    adminToken,
    customerToken,
    /** An operator through the edge (Connect over HTTP/1.1) with the admin role. */
    admin: connectClient(InventoryService, port, { token: adminToken }),
    /** Anyone through the edge, no token. */
    anonymous: connectClient(InventoryService, port),
    /** Another service on the mesh (gRPC), the only way to reach the internal reservation RPCs. */
    internal,
    async stop({ drop = true }: { drop?: boolean } = {}) {
      internal.close();
      await app.server.shutdown(1_000);
      for (const closer of app.closers) await closer.close();
      if (drop) await dropDatabase(database);
    },
  };
}

export type RunningInventory = Awaited<ReturnType<typeof startInventory>>;

/** A product stocked through the admin API; returns its id. */
export async function stockedProduct(inventory: RunningInventory, onHand: number, lowStockThreshold?: number): Promise<string> {
  const productId = newId();
  await inventory.admin.setStock({ productId, onHand, lowStockThreshold });
  return productId;
}

async function query<T extends mysql.RowDataPacket>(database: string, sql: string, params: unknown[]): Promise<T[]> {
  const connection = await mysql.createConnection({ ...TEST_MYSQL, database });
  try {
    const [rows] = await connection.query<T[]>(sql, params);
    return rows;
  } finally {
    await connection.end();
  }
}

/** Events of one type and key recorded in the outbox (published or not), oldest first. */
export async function outboxEvents<D extends DescMessage>(database: string, schema: D, key: string): Promise<Array<MessageShape<D>>> {
  const rows = await query<mysql.RowDataPacket>(database, "SELECT payload FROM outbox WHERE event_type = ? AND event_key = ? ORDER BY id", [
    schema.typeName,
    key,
  ]);
  return rows.map((row) => decodeEvent(schema, row["payload"] as Buffer));
}

export async function countRows(database: string, sql: string, params: unknown[] = []): Promise<number> {
  const rows = await query<mysql.RowDataPacket>(database, sql, params);
  return Number(rows[0]!["n"]);
}
