// Lint: typescript-eslint's recommended rules, plus the project rule that only libs/config reads
// process.env (SPEC §10: config is parsed once, at start, into a typed object).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "packages/*/dist/**", "node_modules/**", ".tools/**", ".scratch/**", "libs/proto/gen/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", URL: "readonly", fetch: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-control-regex": "off",
    },
  },
  {
    files: ["apps/**/*.ts", "libs/**/*.ts"],
    ignores: ["libs/config/**", "libs/runtime/run-process.ts"],
    rules: {
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Only libs/config reads the environment; take the Config instead." }],
    },
  },
);
