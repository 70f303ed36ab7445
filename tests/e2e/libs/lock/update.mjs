#!/usr/bin/env node
// Writes the lockfiles of the given install keys (all of PINS in ../npm.mjs when
// none is given): tests/e2e/libs/lock/<key>/package.json with the pinned top-level
// versions, and package-lock.json resolved from the npm registry by
// `npm install --package-lock-only` (nothing is installed), every package with
// its registry URL ("resolved") and checksum ("integrity") even where a user's
// npmrc says omit-lockfile-registry-resolved. Commit both files;
// the tests then install exactly that tree with `npm ci`.
//   node tests/e2e/libs/lock/update.mjs [key...]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { PINS, LOCK_DIR, pinnedDependencies } from "../npm.mjs";

const keys = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(PINS);
for (const key of keys) {
  if (!PINS[key]) { console.error(`update.mjs: unknown key ${key} (keys: ${Object.keys(PINS).join(", ")})`); process.exit(2); }
  const dir = path.join(LOCK_DIR, key);
  fs.mkdirSync(dir, { recursive: true });
  const pkg = { name: `durable-test-npm-${key}`, private: true, dependencies: pinnedDependencies(key) };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  fs.rmSync(path.join(dir, "package-lock.json"), { force: true });
  execFileSync("npm", ["install", "--package-lock-only", "--prefix", dir,
    "--registry=https://registry.npmjs.org/", "--omit-lockfile-registry-resolved=false", "--no-audit", "--no-fund"], { stdio: "inherit" });
  console.log(`update.mjs: ${key}: ${path.relative(process.cwd(), dir)}/package-lock.json`);
}
