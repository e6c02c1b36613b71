import { describe, expect, it } from "vitest";
import { countResources, describeResources, excessResources, hasResources, minimumCounts } from "../setup/resource-diff.js";

describe("countResources", () => {
  it("counts each kind of resource", () => {
    expect(countResources(["PipeWrap", "Timeout", "PipeWrap"])).toEqual({ PipeWrap: 2, Timeout: 1 });
    expect(countResources([])).toEqual({});
  });
});

describe("minimumCounts", () => {
  it("keeps, per kind, what both samples hold", () => {
    expect(minimumCounts({ PipeWrap: 3, Timeout: 1 }, { PipeWrap: 3 })).toEqual({ PipeWrap: 3 });
    expect(minimumCounts({ TCPSocketWrap: 2 }, { TCPSocketWrap: 1, Timeout: 4 })).toEqual({ TCPSocketWrap: 1 });
  });
});

describe("excessResources", () => {
  it("reports the kinds that grew and by how much", () => {
    const baseline = { PipeWrap: 3, Timeout: 1 };
    const current = { PipeWrap: 3, Timeout: 2, TCPServerWrap: 1, TCPSocketWrap: 2 };
    expect(excessResources(baseline, current)).toEqual({ Timeout: 1, TCPServerWrap: 1, TCPSocketWrap: 2 });
  });

  it("does not count resources that closed as negative leaks", () => {
    expect(excessResources({ PipeWrap: 3, Timeout: 2 }, { PipeWrap: 3 })).toEqual({});
  });

  it("is empty when nothing changed", () => {
    expect(excessResources({ MessagePort: 1 }, { MessagePort: 1 })).toEqual({});
  });
});

describe("hasResources", () => {
  it("is false only when every count is zero", () => {
    expect(hasResources({})).toBe(false);
    expect(hasResources({ Timeout: 0 })).toBe(false);
    expect(hasResources({ Timeout: 1 })).toBe(true);
  });
});

describe("describeResources", () => {
  it("names each kind with its count and a hint, largest first", () => {
    expect(describeResources({ Timeout: 1, TCPSocketWrap: 2, SomethingNew: 1 })).toBe(
      "2 × TCPSocketWrap (TCP connection: a pg pool/client, ioredis client, Kafka producer/consumer/admin or gRPC channel), " +
        "1 × SomethingNew, 1 × Timeout (setTimeout/setInterval not cleared)",
    );
  });
});
