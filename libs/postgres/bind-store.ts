import type pg from "pg";

/** A storage function: takes the pool (or a transaction's client) first. */
type DbFunction = (db: pg.Pool, ...args: never[]) => unknown;

/** The functions of `F` with their database argument bound. */
export type BoundStore<F extends Record<string, DbFunction>> = {
  readonly [K in keyof F]: F[K] extends (db: pg.Pool, ...args: infer A) => infer R ? (...args: A) => R : never;
};

/**
 * A narrow store for the handlers of a process (issue 10: handlers get stores, not `pg.Pool`): the
 * storage functions they need, bound to the process's pool. Which functions a store holds is
 * decided beside them in libs/, so a handler can reach only those.
 */
export function bindStore<F extends Record<string, DbFunction>>(db: pg.Pool, functions: F): BoundStore<F> {
  const bound = Object.fromEntries(
    Object.entries(functions).map(([name, fn]) => [name, (...args: unknown[]) => (fn as (db: pg.Pool, ...a: unknown[]) => unknown)(db, ...args)]),
  );
  return Object.freeze(bound) as BoundStore<F>;
}
