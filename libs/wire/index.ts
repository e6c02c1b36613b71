/**
 * libs/wire — proto ↔ domain mapping, one module per direction: to-wire.ts (domain records →
 * proto messages) and from-wire.ts (proto values → domain values, checked). Used by apps/api, the
 * outbox relay, the worker SDK and jqctl. Owns no I/O.
 */
export * from "./from-wire.js";
export * from "./to-wire.js";
