/**
 * `JQ_*` names that belong to jq's clients (the TypeScript SDK's examples, jqctl, the other
 * language SDKs), not to a server process. A shell that exports them for a client must still be
 * able to start jq, so the servers' unknown-key check skips them instead of refusing them.
 * One name per meaning; docs/api-keys.md documents them.
 */
export const CLIENT_KEYS = [
  /** The raw API key a client sends as `authorization: Bearer <key>`. */
  "JQ_API_KEY",
] as const;

/**
 * JQ_API_KEY is one letter from the server's JQ_API_KEYS. A server operator who meant the list of
 * hashed keys and typed the singular would otherwise run an open API without a word, so a value in
 * JQ_API_KEYS' `name:role:sha256hex` form is refused with a pointer to the right name.
 */
export function misplacedServerKeys(key: string, value: string): string | undefined {
  if (key !== "JQ_API_KEY") return undefined;
  return /^[^:,]+:[a-z+]+:[0-9a-fA-F]{64}(,|$)/.test(value.trim())
    ? "this is a client's raw key; the server's list of name:role:sha256 entries is JQ_API_KEYS"
    : undefined;
}
