import { InvalidArgument, NotFound } from "../errors/index.js";
import { PermissionDenied } from "./api-key-auth.js";

/**
 * The queues one API key may see and touch (issue 13 item 3): names, and prefixes written
 * `prefix*`. An unscoped key (no queue list in JQ_API_KEYS) allows every queue. Handlers ask
 * before acting; what a scoped key may not see is answered as if it did not exist (NOT_FOUND for
 * a job or schedule found by id, filtered out of listings), what it names explicitly is refused
 * with PERMISSION_DENIED.
 */
export class QueueScope {
  static readonly ALL = new QueueScope(undefined);

  private readonly names: ReadonlySet<string>;
  private readonly prefixes: readonly string[];

  constructor(readonly patterns: readonly string[] | undefined) {
    this.names = new Set((patterns ?? []).filter((p) => !p.endsWith("*")));
    this.prefixes = (patterns ?? []).filter((p) => p.endsWith("*")).map((p) => p.slice(0, -1));
  }

  get scoped(): boolean {
    return this.patterns !== undefined;
  }

  allows(queue: string): boolean {
    return !this.scoped || this.names.has(queue) || this.prefixes.some((p) => queue.startsWith(p));
  }

  /** Refuses a queue the caller named but may not use. */
  require(queue: string, field: string): string {
    if (!this.allows(queue)) throw new PermissionDenied(`${field}: this API key may not use queue ${queue}`);
    return queue;
  }

  /** A scoped key must name a queue where an unscoped one may list every queue. */
  requireNamed(queue: string | null, field: string): void {
    if (this.scoped && queue === null) throw new InvalidArgument(field, "is required for an API key scoped to queues");
    if (queue !== null) this.require(queue, field);
  }

  /** An object found by id in a queue the caller may not see does not exist for it. */
  hide(queue: string, kind: string, id: string): void {
    if (!this.allows(queue)) throw new NotFound(kind, id);
  }
}
