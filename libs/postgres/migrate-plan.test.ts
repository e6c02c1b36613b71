import { describe, expect, it } from "vitest";
import { MigrationError, planMigrations, type Migration } from "./migrate.js";

const m = (version: number, checksum = `c${version}`): Migration => ({ version, name: `m${version}`, sql: "", checksum });
const row = (version: number, checksum = `c${version}`) => ({ version, name: `m${version}`, checksum });

describe("planMigrations", () => {
  it("applies everything on an empty database, in version order", () => {
    expect(planMigrations([m(2), m(1), m(3)], []).map((x) => x.version)).toEqual([1, 2, 3]);
  });
  it("applies only what is pending", () => {
    expect(planMigrations([m(1), m(2), m(3)], [row(1), row(2)]).map((x) => x.version)).toEqual([3]);
    expect(planMigrations([m(1), m(2)], [row(1), row(2)])).toEqual([]);
  });
  it("refuses an applied migration whose file was edited", () => {
    expect(() => planMigrations([m(1, "new")], [row(1, "old")])).toThrow(MigrationError);
    expect(() => planMigrations([m(1, "new")], [row(1, "old")])).toThrow(/migration 1 m1 was edited after it was applied/);
  });
  it("refuses a database migrated by a newer build", () => {
    expect(() => planMigrations([m(1)], [row(1), row(2)])).toThrow(/does not know/);
  });
  it("refuses a new migration numbered below an applied one", () => {
    expect(() => planMigrations([m(1), m(2), m(3)], [row(1), row(3)])).toThrow(/numbered below the applied 3/);
  });
});
