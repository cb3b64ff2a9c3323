/**
 * A service's own data: its MariaDB database (pool, transactions, migrations) and the events
 * that leave it through the outbox and arrive through the idempotent consumer (Kafka). The two
 * come together because an event is written in the same transaction as the change it reports.
 */
export * from "./db/mysql.js";
export * from "./db/migrations.js";
export * from "./kafka/events.js";
export * from "./kafka/outbox.js";
export * from "./kafka/consumer.js";
export * from "./kafka/dead-letters.js";
export * from "./wiring.js";
