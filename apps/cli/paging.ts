/**
 * Reads pages until `limit` items (0: all) or the last page; returns the items and the token
 * of the next page (empty when there is none), so `--json` output keeps the listing's shape.
 */
export async function collectPages<T>(
  limit: number,
  fetch: (pageToken: string, pageSize: number) => Promise<{ items: T[]; nextPageToken: string }>,
  startToken = "",
): Promise<{ items: T[]; nextPageToken: string }> {
  const items: T[] = [];
  let token = startToken;
  do {
    const want = limit === 0 ? 500 : Math.min(500, limit - items.length);
    const page = await fetch(token, want);
    items.push(...page.items);
    token = page.nextPageToken;
  } while (token && (limit === 0 || items.length < limit));
  return { items, nextPageToken: token };
}
