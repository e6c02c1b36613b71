/**
 * libs/api-keys — who may call: bearer API keys checked against the hashes in JQ_API_KEYS
 * (SPEC §9). One implementation for the gRPC edge of apps/api and the dashboard's actions in
 * apps/health.
 */
export * from "./api-key-auth.js";
export * from "./queue-scope.js";
