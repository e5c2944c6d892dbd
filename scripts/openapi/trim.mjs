// trim.mjs cuts GitHub's official OpenAPI description (npm package
// @octokit/openapi) down to the REST operations broom uses, plus every
// component they reference, directly or through other components.
// The result is internal/pr/prtest/testdata/api.github.com.json, which the
// prtest fake uses to validate every request it serves.
//
// Usage (see README.md beside this file):
//
//   node scripts/openapi/trim.mjs <path to api.github.com.json> [out]
//
// No dependencies: only Node's standard library.

import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

// The operations broom (and its tests) call, as [method, path].
const OPERATIONS = [
  ["get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"],
  ["post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"],
  ["patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}"],
  ["get", "/repos/{owner}/{repo}/pulls/{pull_number}"],
  ["get", "/repos/{owner}/{repo}/issues/{issue_number}"],
  ["post", "/repos/{owner}/{repo}/issues"],
  ["patch", "/repos/{owner}/{repo}/issues/{issue_number}"],
  ["get", "/repos/{owner}/{repo}/issues"],
  ["get", "/repos/{owner}/{repo}/issues/{issue_number}/events"],
  ["post", "/repos/{owner}/{repo}/issues/{issue_number}/labels"],
  ["delete", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"],
  ["get", "/repos/{owner}/{repo}/collaborators/{username}/permission"],
  ["get", "/repos/{owner}/{repo}/labels/{name}"],
  ["post", "/repos/{owner}/{repo}/labels"],
];

const here = dirname(fileURLToPath(import.meta.url));
const [input, output = join(here, "../../internal/pr/prtest/testdata/api.github.com.json")] =
  process.argv.slice(2);
if (!input) {
  console.error("usage: node trim.mjs <node_modules/@octokit/openapi/generated/api.github.com.json> [out]");
  process.exit(2);
}

const full = JSON.parse(readFileSync(input, "utf8"));

// refs yields every "$ref" string inside node.
function* refs(node) {
  if (Array.isArray(node)) {
    for (const v of node) yield* refs(v);
  } else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") yield v;
      else yield* refs(v);
    }
  }
}

const paths = {};
const tags = new Set();
for (const [method, path] of OPERATIONS) {
  const item = full.paths[path];
  if (!item || !item[method]) {
    console.error(`operation not in the description: ${method.toUpperCase()} ${path}`);
    process.exit(1);
  }
  paths[path] ??= item.parameters ? { parameters: item.parameters } : {};
  paths[path][method] = item[method];
  for (const t of item[method].tags ?? []) tags.add(t);
}

// The $ref closure over components, starting from the kept paths.
const components = {};
const queue = [...refs(paths)];
const seen = new Set();
while (queue.length > 0) {
  const ref = queue.pop();
  if (seen.has(ref)) continue;
  seen.add(ref);
  const m = /^#\/components\/([^/]+)\/(.+)$/.exec(ref);
  if (!m) {
    console.error(`unsupported $ref: ${ref}`);
    process.exit(1);
  }
  const [, kind, name] = m;
  const target = full.components?.[kind]?.[name];
  if (target === undefined) {
    console.error(`dangling $ref: ${ref}`);
    process.exit(1);
  }
  (components[kind] ??= {})[name] = target;
  queue.push(...refs(target));
}

// Sort components by kind and name so that regenerating gives stable diffs.
const sorted = {};
for (const kind of Object.keys(components).sort()) {
  sorted[kind] = {};
  for (const name of Object.keys(components[kind]).sort()) sorted[kind][name] = components[kind][name];
}

const trimmed = {
  openapi: full.openapi,
  info: full.info,
  servers: full.servers,
  tags: (full.tags ?? []).filter((t) => tags.has(t.name)),
  externalDocs: full.externalDocs,
  paths,
  components: sorted,
};

// One-space indentation: still small, and a regeneration diffs line by line.
writeFileSync(output, JSON.stringify(trimmed, null, 1) + "\n");
const count = Object.values(sorted).reduce((n, c) => n + Object.keys(c).length, 0);
console.log(`wrote ${output}: ${OPERATIONS.length} operations, ${count} components`);
