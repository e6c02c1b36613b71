import type { Db } from "../postgres/db.js";

/** The cluster-wide HMAC key for page tokens, created by migration 0001 (table cluster_secrets). */
export async function loadPageTokenKey(db: Db): Promise<Buffer> {
  const { rows } = await db.query<{ secret: Buffer }>("SELECT secret FROM cluster_secrets WHERE name = 'page_token_hmac'");
  const secret = rows[0]?.secret;
  if (!secret) throw new Error("cluster_secrets has no page_token_hmac row; is the schema migrated?");
  return secret;
}
