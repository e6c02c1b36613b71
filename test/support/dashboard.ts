/** Calls to apps/health's dashboard endpoints as the page makes them (JSON in and out). */

export interface DashboardAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T & { error?: { code: string; message: string } };
}

/** POST `path` with a JSON body and, when given, `authorization: Bearer <key>`. */
export async function dashboardPost(
  base: string,
  path: string,
  body: unknown,
  options: { key?: string; headers?: Record<string, string> } = {},
): Promise<DashboardAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  const res = await fetch(`${base}${path}`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as DashboardAnswer["body"] };
}

export async function dashboardGet<T = Record<string, unknown>>(base: string, path: string): Promise<DashboardAnswer<T>> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as DashboardAnswer<T>["body"] };
}
