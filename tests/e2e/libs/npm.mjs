// Real libraries from the npm registry for the libs/ tests: installed at pinned
// versions into build/npm/<name>-<version>/ (once; later runs reuse them) and
// bundled with esbuild the way a Workers project is (ESM, the workerd/worker/
// browser export conditions, cloudflare:* left to the runtime).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { root } from "../lib.mjs";

export const ESBUILD_VERSION = "0.28.2";

/** Installs `specs` (["name@version", ...]) into build/npm/<key>/ unless already
 *  there; returns that folder's node_modules. Installs into a temporary folder
 *  and renames it into place, so two test files installing at once do not mix. */
export function npmInstall(key, specs, { legacyPeerDeps = false } = {}) {
  const dir = path.join(root, "build", "npm", key);
  const modules = path.join(dir, "node_modules");
  if (fs.existsSync(path.join(dir, ".installed"))) return modules;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  execFileSync("npm", ["install", "--prefix", tmp, "--no-audit", "--no-fund", "--no-save",
    ...(legacyPeerDeps ? ["--legacy-peer-deps"] : []), ...specs],
    { stdio: ["ignore", "pipe", "pipe"], timeout: 300000 });
  fs.writeFileSync(path.join(tmp, ".installed"), specs.join("\n") + "\n");
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
  const esbuildModules = npmInstall(`esbuild-${ESBUILD_VERSION}`, [`esbuild@${ESBUILD_VERSION}`]);
  const esbuild = (await import(pathToFileURL(path.join(esbuildModules, "esbuild", "lib", "main.js")).href)).default;
  return esbuild.build({
    entryPoints: [entry], outfile, bundle: true, format: "esm", platform: "neutral",
    conditions: ["workerd", "worker", "browser"], mainFields: ["module", "main"], target: "es2021",
    external: ["cloudflare:*", ...external], alias, plugins, nodePaths: [modules], logLevel: "silent", absWorkingDir: path.dirname(entry),
  });
}
