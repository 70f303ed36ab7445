// The npm packages the tests (and bench/setup) install are locked: every install
// key in PINS (tests/e2e/libs/npm.mjs) has tests/e2e/libs/lock/<key>/ with a
// package.json holding exactly the pinned top-level versions and a package-lock.json
// that resolves them to those versions, every package of the tree with its
// registry URL and checksum, so `npm ci` installs the same tree whatever the
// registry publishes later. Nothing under tests/, bench/ or tools/ runs a plain
// `npm install`/`npm i` (which would re-resolve from the registry). No network.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { root } from "../lib.mjs";
import { PINS, LOCK_DIR, splitSpec } from "./npm.mjs";

const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"));

for (const [key, specs] of Object.entries(PINS)) {
  test(`install key ${key}: its lockfile pins ${specs.join(" ")}`, () => {
    const dir = path.join(LOCK_DIR, key);
    const want = Object.fromEntries(specs.map(splitSpec));
    for (const [name, version] of Object.entries(want))
      assert.match(version, /^\d+\.\d+\.\d+(-[\w.]+)?$/, `${key}: ${name} is pinned to ${version}, not an exact version`);
    const pkg = readJson(path.join(dir, "package.json"));
    assert.deepEqual(pkg.dependencies, want, `${key}: package.json dependencies`);
    assert.equal(pkg.devDependencies, undefined);
    const lock = readJson(path.join(dir, "package-lock.json"));
    assert.ok(lock.lockfileVersion >= 2, `${key}: lockfileVersion ${lock.lockfileVersion}`);
    assert.deepEqual(lock.packages[""].dependencies, want, `${key}: package-lock.json root dependencies`);
    for (const [name, version] of Object.entries(want))
      assert.equal(lock.packages[`node_modules/${name}`]?.version, version, `${key}: ${name} in package-lock.json`);
    const entries = Object.entries(lock.packages).filter(([p]) => p !== "");
    assert.ok(entries.length >= specs.length);
    for (const [p, e] of entries) {
      assert.ok(!e.link, `${key}: ${p} is a link`);
      assert.match(e.version || "", /^\d+\.\d+\.\d+/, `${key}: ${p} has no resolved version`);
      assert.match(e.resolved || "", /^https:\/\/registry\.npmjs\.org\/.+\.tgz$/, `${key}: ${p} has no registry URL`);
      assert.match(e.integrity || "", /^sha512-/, `${key}: ${p} has no sha512 integrity`);
    }
  });
}

test("every lockfile folder is an install key of PINS", () => {
  const dirs = fs.readdirSync(LOCK_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  assert.deepEqual(dirs.sort(), Object.keys(PINS).sort());
});

test("nothing in tests/, bench/ or tools/ runs a plain npm install", () => {
  // update.mjs writes the lockfiles; this file names the command it looks for.
  const allowed = new Set([path.join(LOCK_DIR, "update.mjs"), path.join(LOCK_DIR, "..", "lockfiles.test.mjs")]);
  const found = [];
  const walk = (dir) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) { if (!["node_modules", ".workerd", "results", ".bin"].includes(d.name)) walk(p); continue; }
      if (!/\.(mjs|js|sh)$/.test(d.name) && !isScript(p)) continue;
      if (allowed.has(p)) continue;
      const text = fs.readFileSync(p, "utf8");
      if (/\bnpm\b["',\s]+(\[\s*["'])?(install|i|add)\b["'\s]/.test(text)) found.push(path.relative(root, p));
    }
  };
  for (const top of ["tests", "bench", "tools"]) walk(path.join(root, top));
  assert.deepEqual(found, [], "install npm packages with npmInstall (tests/e2e/libs/npm.mjs) or `npm ci` of a lockfile");
});

function isScript(p) {
  const fd = fs.openSync(p, "r");
  const buf = Buffer.alloc(2);
  fs.readSync(fd, buf, 0, 2, 0);
  fs.closeSync(fd);
  return buf.toString() === "#!";
}
