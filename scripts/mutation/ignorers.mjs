import { declareValuePlugin, PluginKind } from "@stryker-mutator/api/plugin";

// StrykerJS ignorers (stryker.config.mjs: `ignorers: ["sql-text", "log-calls"]`).
//
// sql-text: SQL text is not mutated.
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

// log-calls: a call of a logger (`log.warn(…)`, `this.log.info(…)`, `logger.error(…)`) is not
// mutated, arguments included. Its text and fields are for the operator reading the log, not a
// guarantee a test should pin; mutating them ("" for the message, {} for the fields, the call
// removed) gives survivors that say nothing about the queue. The code around the call (the
// condition that decides to log, what happens next) is still mutated.
const LOG_LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal"]);
const LOGGER_NAMES = new Set(["log", "logger"]);

function loggerName(node) {
  if (node.type === "Identifier") return node.name;
  if (node.type === "MemberExpression" && !node.computed && node.property.type === "Identifier") return node.property.name;
  return undefined;
}

export function isLogCall(node) {
  if (node.type !== "CallExpression" || node.callee.type !== "MemberExpression" || node.callee.computed) return false;
  const { object, property } = node.callee;
  return property.type === "Identifier" && LOG_LEVELS.has(property.name) && LOGGER_NAMES.has(loggerName(object) ?? "");
}

/** A log call, the statement that is only one, or an arrow function whose body is only one. */
function isLogging(node) {
  if (node.type === "ExpressionStatement") return isLogCall(node.expression);
  if (node.type === "ArrowFunctionExpression") return isLogCall(node.body);
  return isLogCall(node);
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, "log-calls", {
    shouldIgnore(path) {
      return isLogging(path.node) ? "a log call: its text is for operators, not a guarantee (docs/testing.md)" : undefined;
    },
  }),
  declareValuePlugin(PluginKind.Ignore, "sql-text", {
    shouldIgnore(path) {
      const text = literalText(path);
      return text !== undefined && isSqlText(text) ? "SQL text: the integration tests run it against Postgres (docs/testing.md)" : undefined;
    },
  }),
];
