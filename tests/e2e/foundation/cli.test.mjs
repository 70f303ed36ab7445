// The command line: version flags, one-line refusals of unknown or bad options,
// one process per port and per data folder, and tools/hello saying what it does
// (issue 8, items 4 and 26).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { bin, root, makeProject, startDev } from "../lib.mjs";

const run = (args, opts = {}) => {
  const r = spawnSync(bin, args, { encoding: "utf8", timeout: 20000, env: { ...process.env, NO_COLOR: "1" }, ...opts });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const lines = (t) => t.split("\n").filter((l) => l.trim() !== "");

const objectsProject = () => makeProject({
  "wrangler.toml": `name = "lock"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\n[[durable_objects.bindings]]\nname = "C"\nclass_name = "C"\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["C"]\n`,
  "index.js": `import { DurableObject } from "cloudflare:workers";
export class C extends DurableObject {
  async fetch() { const n = ((await this.ctx.storage.get("n")) ?? 0) + 1; await this.ctx.storage.put("n", n); return new Response(String(n)); }
}
export default { fetch(req, env) { return env.C.get(env.C.idFromName("a")).fetch(req); } };
`,
});
const plainProject = () => makeProject({
  "wrangler.toml": `name = "plain"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\n`,
  "index.js": `export default { fetch() { return new Response("plain"); } };`,
});

for (const args of [["-V"], ["--version"], ["dev", "-V"], ["dev", "--version"]]) {
  test(`durable ${args.join(" ")} prints the version`, () => {
    const r = run(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^durable \d+\.\d+\.\d+\n$/);
  });
}

for (const args of [["--bogus"], ["frobnicate"], ["dev", "--bogus"], ["dev", "-x"], ["dev", "--port"]]) {
  test(`durable ${args.join(" ")}: one line that points at --help, exit 2`, () => {
    const r = run(args, { cwd: os.tmpdir() });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    const l = lines(r.stderr);
    assert.equal(l.length, 1, `expected one line, got:\n${r.stderr}`);
    assert.match(l[0], /see `durable (dev )?--help`/);
    assert.ok(l[0].includes(args[args.length - 1]), `names the culprit: ${l[0]}`);
  });
}

test("--threads 0 is refused", () => {
  const dir = plainProject();
  try {
    for (const a of [["--threads", "0"], ["--threads=0"]]) {
      const r = run(["dev", "--port", "0", ...a], { cwd: dir });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /--threads expects 1 to 256/);
      assert.doesNotMatch(r.stdout, /Ready on/);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a second durable on a busy port fails with 'port N is in use'", async () => {
  const a = plainProject(), b = plainProject();
  const first = await startDev(a, ["--threads", "2"]);
  try {
    const r = run(["dev", "--port", String(first.port), "--threads", "2"], { cwd: b });
    assert.notEqual(r.code, 0, `second server started:\n${r.stdout}`);
    assert.doesNotMatch(r.stdout, /Ready on/);
    const l = lines(r.stderr);
    assert.equal(l.length, 1, r.stderr);
    assert.match(l[0], new RegExp(`port ${first.port} is in use`));
    // The first one is untouched and still answers.
    assert.equal(await (await fetch(first.url + "/")).text(), "plain");
  } finally {
    assert.equal((await first.stop()).code, 0);
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  }
});

test("a port held by another program is refused the same way", async () => {
  const dir = plainProject();
  const other = net.createServer();
  await new Promise((r) => other.listen(0, "127.0.0.1", r));
  const port = other.address().port;
  try {
    const r = run(["dev", "--port", String(port), "--threads", "1"], { cwd: dir });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`port ${port} is in use`));
  } finally {
    other.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("two processes on one data folder: the second is refused with the folder's name", async () => {
  const a = objectsProject(), b = objectsProject();
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "durable-data-"));
  const first = await startDev(a, ["--persist-to", data]);
  try {
    assert.equal(await (await fetch(first.url + "/")).text(), "1");
    const r = run(["dev", "--port", "0", "--threads", "1", "--persist-to", data], { cwd: b });
    assert.notEqual(r.code, 0, `second server started:\n${r.stdout}`);
    assert.doesNotMatch(r.stdout, /Ready on/);
    const l = lines(r.stderr);
    assert.equal(l.length, 1, r.stderr);
    assert.ok(l[0].includes(data), `names the folder: ${l[0]}`);
    assert.match(l[0], /in use by another durable process/);
    assert.equal(await (await fetch(first.url + "/")).text(), "2");
  } finally {
    assert.equal((await first.stop()).code, 0);
  }
  // The lock goes with the process: the next start on the folder works and sees the data.
  const second = await startDev(b, ["--persist-to", data]);
  try {
    assert.equal(await (await fetch(second.url + "/")).text(), "3");
  } finally {
    assert.equal((await second.stop()).code, 0);
    for (const d of [a, b, data]) fs.rmSync(d, { recursive: true, force: true });
  }
});

test("tools/hello says what it is doing before it serves", { timeout: 600000 }, async () => {
  const proc = spawn(path.join(root, "tools/hello"), ["--port", "0", "--threads", "1"], {
    cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "", errText = "";
  proc.stderr.on("data", (d) => { errText += d; });
  const exited = new Promise((r) => proc.once("exit", (code, sig) => r({ code, sig })));
  try {
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`not ready:\n${out}\n${errText}`)), 590000);
      proc.stdout.on("data", (d) => { out += d; if (/Ready on/.test(out)) { clearTimeout(t); resolve(); } });
      proc.once("exit", (c) => { clearTimeout(t); reject(new Error(`tools/hello exited ${c}:\n${out}\n${errText}`)); });
    });
    for (const re of [/^hello: checking dependencies/m, /^hello: configuring/m, /^hello: building durable/m, /^hello: starting examples\/hello/m])
      assert.match(errText, re);
  } finally {
    proc.kill("SIGTERM");
    await exited;
  }
});
