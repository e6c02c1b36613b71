// Prints the mutation score of each core folder from Stryker's JSON reports (scripts/mutation/run.sh):
//   node scripts/mutation/score-table.mjs reports/mutation/write-path [reports/mutation/outbox …]
// Score = (killed + timeout) / (killed + timeout + survived + no coverage), as Stryker counts it;
// ignored mutants (SQL text, static) are listed apart and not scored.
import { readFileSync, existsSync } from "node:fs";

const folders = new Map();
for (const base of process.argv.slice(2)) {
  const file = base.endsWith(".json") ? base : `${base}.json`;
  if (!existsSync(file)) {
    console.log(`mutation: no report ${file}`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  for (const [path, { mutants }] of Object.entries(report.files)) {
    const folder = path.split("/").slice(0, 2).join("/");
    const c = folders.get(folder) ?? { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, Ignored: 0, CompileError: 0, RuntimeError: 0 };
    for (const m of mutants) c[m.status] = (c[m.status] ?? 0) + 1;
    folders.set(folder, c);
  }
}
console.log("| folder | score | killed | timeout | survived | no coverage | ignored |");
console.log("|---|---|---|---|---|---|---|");
for (const [folder, c] of [...folders].sort()) {
  const detected = c.Killed + c.Timeout;
  const valid = detected + c.Survived + c.NoCoverage;
  const score = valid === 0 ? "n/a" : `${((100 * detected) / valid).toFixed(1)} %`;
  console.log(`| ${folder} | ${score} | ${c.Killed} | ${c.Timeout} | ${c.Survived} | ${c.NoCoverage} | ${c.Ignored} |`);
}
