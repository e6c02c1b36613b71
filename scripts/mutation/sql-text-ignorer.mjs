import { declareValuePlugin, PluginKind } from "@stryker-mutator/api/plugin";

// A StrykerJS ignorer (stryker.config.mjs: `ignorers: ["sql-text"]`): SQL text is not mutated.
// Stryker only knows one mutation for it, the whole literal to "", which any test that runs the
// statement kills with a syntax error; such mutants would lift the score without saying anything
// about the guarantees. The SQL's meaning is guarded by the integration tests that run it against
// real Postgres, and the JavaScript around it (which statement runs, with which parameters) is still
// mutated. See docs/testing.md, "Mutation testing".
//
// A literal (string or template) is SQL when its text starts with a statement keyword, or carries
// a Postgres cast (`::type`), a bound parameter (`$1`), or a call of a Postgres function
// (now(), greatest(…), pg_*), which is how the fragments of libs/jobs/transition-sql.ts look.
const STATEMENT = /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|LISTEN|UNLISTEN|NOTIFY|BEGIN|COMMIT|ROLLBACK|LOCK|SET|FROM|WHERE|JOIN|AND|OR|ORDER BY|RETURNING|VALUES|CASE|NULL)\b/;
const FRAGMENT = /::[a-z_]+|\$\d+|\bnow\(\)|\b(greatest|least|coalesce|count|unnest|pg_[a-z_]+)\(|\b(SELECT|FROM|WHERE|INSERT INTO|UPDATE|DELETE FROM)\b/;

function literalText(path) {
  if (path.isStringLiteral()) return path.node.value;
  if (path.isTemplateLiteral()) return path.node.quasis.map((q) => q.value.cooked ?? q.value.raw).join("${}");
  return undefined;
}

export function isSqlText(text) {
  return STATEMENT.test(text) || FRAGMENT.test(text);
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, "sql-text", {
    shouldIgnore(path) {
      const text = literalText(path);
      return text !== undefined && isSqlText(text) ? "SQL text: the integration tests run it against Postgres (docs/testing.md)" : undefined;
    },
  }),
];
