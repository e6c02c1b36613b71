import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ApiKeyAuth, PermissionDenied, Unauthenticated } from "./api-key-auth.js";

const sha = (k: string) => createHash("sha256").update(k).digest("hex");

describe("API key auth", () => {
  const auth = new ApiKeyAuth([
    { name: "ops", roles: ["admin"], sha256: sha("secret-admin") },
    { name: "app", roles: ["client"], sha256: sha("secret-client") },
  ]);

  it("lets a key with an allowed role through, by its name", () => {
    expect(auth.authorize("Bearer secret-admin", ["admin"])).toMatchObject({ name: "ops", roles: ["admin"] });
    expect(auth.authorize("Bearer secret-admin", ["admin"]).scope.scoped).toBe(false);
    expect(auth.authorize("bearer   secret-client", ["client", "admin"]).name).toBe("app");
  });

  it("refuses missing, malformed and unknown keys, and keys without the role", () => {
    expect(() => auth.authorize(undefined, ["admin"])).toThrow(Unauthenticated);
    expect(() => auth.authorize("", ["admin"])).toThrow("missing API key");
    expect(() => auth.authorize("Basic abc", ["admin"])).toThrow("malformed authorization header");
    expect(() => auth.authorize("Bearer nope", ["admin"])).toThrow("unknown API key");
    expect(() => auth.authorize("Bearer secret-client", ["admin"])).toThrow(PermissionDenied);
  });

  it("lets everyone through as anonymous when no keys are configured", () => {
    const open = new ApiKeyAuth([]);
    expect(open.enabled).toBe(false);
    expect(open.authorize(undefined, ["admin"]).name).toBe("anonymous");
  });
});
