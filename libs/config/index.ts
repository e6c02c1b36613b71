export { loadConfig, ConfigError, type ConfigProblem } from "./load.js";
export type { Config } from "./config.js";
export { redactUrl } from "./redact.js";
export { API_ROLES, type ApiRole } from "./settings.js";
export { CLIENT_KEYS } from "./client-keys.js";
