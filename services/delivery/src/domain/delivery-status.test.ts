import { FailedPreconditionError } from "@shopmesh/platform";
import { statusTransition, type DeliveryStatusName, type ReportedStatus } from "./delivery-status.js";

describe("statusTransition", () => {
  test.each<[DeliveryStatusName, ReportedStatus]>([
    ["ASSIGNED", "PICKED_UP"],
    ["PICKED_UP", "IN_TRANSIT"],
    ["IN_TRANSIT", "DELIVERED"],
    ["PICKED_UP", "FAILED"],
    ["IN_TRANSIT", "FAILED"],
  ])("when a delivery goes from %s to %s, then it changes", (from, to) => {
    expect(statusTransition(from, to)).toBe("changed");
  });

  test.each<[DeliveryStatusName, ReportedStatus]>([
    ["PICKED_UP", "PICKED_UP"],
    ["IN_TRANSIT", "IN_TRANSIT"],
    ["DELIVERED", "DELIVERED"],
    ["FAILED", "FAILED"],
  ])("when %s is reported again, then nothing changes and no error is raised", (from, to) => {
    expect(statusTransition(from, to)).toBe("unchanged");
  });

  test.each<[DeliveryStatusName, ReportedStatus]>([
    ["IN_TRANSIT", "PICKED_UP"],
    ["DELIVERED", "IN_TRANSIT"],
    ["DELIVERED", "FAILED"],
    ["FAILED", "DELIVERED"],
    ["FAILED", "PICKED_UP"],
    ["ASSIGNED", "IN_TRANSIT"],
    ["ASSIGNED", "DELIVERED"],
    ["ASSIGNED", "FAILED"],
    ["PICKED_UP", "DELIVERED"],
  ])("when a delivery would go from %s to %s, then FAILED_PRECONDITION", (from, to) => {
    expect(() => statusTransition(from, to)).toThrow(FailedPreconditionError);
  });

  test("when the delivery has no partner yet, then no status can be reported", () => {
    expect(() => statusTransition("UNASSIGNED", "PICKED_UP")).toThrow(/no partner yet/);
  });
});
