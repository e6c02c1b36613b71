export { JqClient, RETRYABLE_CODES, type ClientOptions } from "./client.js";
