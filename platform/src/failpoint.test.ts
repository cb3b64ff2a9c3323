import { FAILPOINTS, parseFailpoints } from "./failpoint.js";

describe("SHOPMESH_FAILPOINTS", () => {
  test("unset or empty arms nothing", () => {
    expect(parseFailpoints(undefined).size).toBe(0);
    expect(parseFailpoints(" , ").size).toBe(0);
  });

  test("a name crashes on its first pass, name@N on its N-th", () => {
    const armed = parseFailpoints(`${FAILPOINTS.outboxAfterPublish}, ${FAILPOINTS.consumerAfterCommit}@3`);
    expect(Object.fromEntries(armed)).toEqual({ [FAILPOINTS.outboxAfterPublish]: 1, [FAILPOINTS.consumerAfterCommit]: 3 });
  });

  test("an unknown name or a bad pass is refused, not ignored", () => {
    expect(() => parseFailpoints("outbox.after-publsh")).toThrow(/unknown failpoint "outbox.after-publsh"/);
    expect(() => parseFailpoints(`${FAILPOINTS.outboxAfterPublish}@0`)).toThrow(/positive pass number/);
    expect(() => parseFailpoints(`${FAILPOINTS.outboxAfterPublish}@x`)).toThrow(/positive pass number/);
  });

  test("production refuses any setting", () => {
    expect(() => parseFailpoints(FAILPOINTS.outboxAfterPublish, "production")).toThrow(/production/);
    expect(parseFailpoints(undefined, "production").size).toBe(0);
  });
});
