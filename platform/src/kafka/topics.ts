/**
 * One topic per producing context (events keyed by aggregate id) and a dead-letter twin
 * each. scripts/infra/topics.txt creates exactly these; a test keeps the two in step.
 */
export const TOPICS = {
  identity: "shopmesh.identity.v1",
  catalog: "shopmesh.catalog.v1",
  inventory: "shopmesh.inventory.v1",
  order: "shopmesh.order.v1",
  payment: "shopmesh.payment.v1",
  delivery: "shopmesh.delivery.v1",
  notification: "shopmesh.notification.v1",
} as const;
