export { PageTokenCodec } from "./page-token.js";
export { resolvePageSize, type PageLimits } from "./page-size.js";
export { loadPageTokenKey } from "./page-token-key.js";
