import { topology, type TopicKey } from "../topology.js";

/**
 * One topic per producing context (events keyed by aggregate id) and a dead-letter twin
 * each, by context: the names of the topology's topics (platform/src/topology.ts), which
 * also generates scripts/infra/topics.txt.
 */
export const TOPICS = Object.fromEntries(Object.entries(topology.topics).map(([context, topic]) => [context, topic.name])) as {
  readonly [K in TopicKey]: (typeof topology.topics)[K]["name"];
};
