// The trusted documents' ids are what a graphql-js client computes: the SHA-256 of
// print(document), for every operation the project ships (docs/operations/manifest.json).
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";

import { parse, print } from "graphql";

const operations = new URL("../../docs/operations/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("manifest.json", operations), "utf8"));
const ids = new Set(manifest.operations.map((operation) => operation.id));
const files = readdirSync(operations).filter((name) => name.endsWith(".graphql"));
const missing = files.filter((name) => {
  const printed = print(parse(readFileSync(new URL(name, operations), "utf8")));
  return !ids.has(createHash("sha256").update(printed).digest("hex"));
});
if (missing.length > 0 || files.length !== ids.size) {
  console.error(`not in docs/operations/manifest.json as graphql-js prints them: ${missing}`);
  process.exit(1);
}
