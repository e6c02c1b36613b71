/**
 * libs/backoff — the one capped-exponential backoff formula and its policy type, pure and with no
 * dependencies, so the SDK package (packages/sdk-ts) compiles it too.
 */
export * from "./backoff.js";
