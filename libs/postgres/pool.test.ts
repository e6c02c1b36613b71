import { describe, expect, it } from "vitest";
import { connectionOptions } from "./pool.js";

describe("connectionOptions", () => {
  it("leaves the URL alone when there are no settings", () => {
    expect(connectionOptions("postgres://u@h:5432/db?options=-c%20work_mem%3D8MB", {})).toEqual({ connectionString: "postgres://u@h:5432/db?options=-c%20work_mem%3D8MB" });
  });

  it("sends the settings as the startup options", () => {
    expect(connectionOptions("postgres://u@h:5432/db", { enable_seqscan: "off" })).toEqual({ connectionString: "postgres://u@h:5432/db", options: "-c enable_seqscan=off" });
  });

  it("moves the URL's own options out of it and keeps them first, so neither replaces the other", () => {
    const { connectionString, options } = connectionOptions("postgres://u:p@h:5432/db?sslmode=disable&options=-c%20work_mem%3D8MB", { enable_seqscan: "off" });
    expect(options).toBe("-c work_mem=8MB -c enable_seqscan=off");
    expect(new URL(connectionString).searchParams.has("options")).toBe(false);
    expect(new URL(connectionString).searchParams.get("sslmode")).toBe("disable");
    expect(new URL(connectionString).password).toBe("p");
  });
});
