/**
 * Runs before each test file's code: gives the file a namespace of its own (topics, consumer
 * groups, Redis keys) through process.env, where services built in the file and processes it
 * spawns pick it up. See platform/src/testing/namespace.ts.
 */
import { namespaceEnvironment, newTestNamespace, newTestRunId } from "../../platform/src/testing/namespace.js";

Object.assign(process.env, namespaceEnvironment(newTestNamespace(process.env["SHOPMESH_TEST_RUN"] ?? newTestRunId())));
