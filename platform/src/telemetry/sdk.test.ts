import { ROOT_CONTEXT, SpanKind } from "@opentelemetry/api";
import { tracing } from "@opentelemetry/sdk-node";
import { NoBackgroundDbRootsSampler, rootSamplingRatio } from "./sdk.js";

const traceIds = Array.from({ length: 400 }, (_, index) => (index * 2_654_435_761).toString(16).padStart(32, "0").slice(-32));
const recorded = (sampler: tracing.Sampler, attributes = {}) =>
  traceIds.filter(
    (traceId) => sampler.shouldSample(ROOT_CONTEXT, traceId, "span", SpanKind.SERVER, attributes, []).decision === tracing.SamplingDecision.RECORD_AND_SAMPLED,
  ).length;

test("a background database call never starts a trace; other roots are recorded at the configured ratio", () => {
  expect(recorded(new NoBackgroundDbRootsSampler(), { "db.system.name": "mysql" })).toBe(0);
  expect(recorded(new NoBackgroundDbRootsSampler())).toBe(traceIds.length);
  expect(recorded(new NoBackgroundDbRootsSampler(0))).toBe(0);
});

test("the ratio comes from the standard variables, and a bad value is refused", () => {
  expect(rootSamplingRatio({})).toBe(1);
  expect(rootSamplingRatio({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" })).toBe(0.25);
  expect(() => rootSamplingRatio({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" })).toThrow(/from 0 to 1/);
});
