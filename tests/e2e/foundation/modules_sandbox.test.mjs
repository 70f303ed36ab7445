// Worker code cannot read the host's files through imports (issue 8, item 9).
// Modules load only from inside the project folder, after symlinks; import() at
// request time reaches only the modules loaded at start; every refusal reads the
// same whether or not the path exists; directories, FIFOs, devices and huge files
// are refused without hanging.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startDev, runDevExpectFailure } from "../lib.mjs";

const SECRET = "TOP-SECRET-OUTSIDE";
const toml = `name = "sandbox"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\n`;

// base/
//   data.txt            OUTSIDE-DATA (what "./link/../data.txt" would be by POSIX rules)
//   outside/secret.{txt,json,js}
//   <project>/          the Worker; link -> ../outside, zero.bin -> /dev/zero
let base;
function project(files, { links = true } = {}) {
  const dir = fs.mkdtempSync(path.join(base, "project-"));
  fs.writeFileSync(path.join(dir, "wrangler.toml"), toml);
  fs.writeFileSync(path.join(dir, "data.txt"), "INSIDE-DATA");
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  if (links) {
    fs.symlinkSync(path.join(base, "outside"), path.join(dir, "link"));
    fs.symlinkSync(path.join(base, "outside", "secret.txt"), path.join(dir, "leak.txt"));
    fs.symlinkSync("/dev/zero", path.join(dir, "zero.bin"));
  }
  return dir;
}

before(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "durable-sandbox-")));
  fs.mkdirSync(path.join(base, "outside"));
  fs.writeFileSync(path.join(base, "data.txt"), "OUTSIDE-DATA");
  fs.writeFileSync(path.join(base, "outside", "secret.txt"), SECRET);
  fs.writeFileSync(path.join(base, "outside", "secret.json"), JSON.stringify(SECRET));
  fs.writeFileSync(path.join(base, "outside", "secret.js"), `export default ${JSON.stringify(SECRET)};`);
});
after(() => fs.rmSync(base, { recursive: true, force: true }));

const worker = (imports) => `${imports}
export default { fetch() { return new Response("up"); } };`;

// ---- at load: a static import that leaves the project stops the start ----

const loadCases = [
  ["a relative path out of the project", () => "../outside/secret.txt"],
  ["an absolute path", () => path.join(base, "outside", "secret.txt")],
  ["an absolute path to a .js file", () => path.join(base, "outside", "secret.js")],
  ["a symlinked folder pointing out", () => "./link/secret.txt"],
  ["a symlinked file pointing out", () => "./leak.txt"],
  ["a file: URL", () => `file://${path.join(base, "outside", "secret.txt")}`],
  ["a device through a symlink", () => "./zero.bin"],
  ["a device by absolute path", () => "/dev/zero"],
];
for (const [what, spec] of loadCases) {
  test(`at load: ${what} is refused`, async () => {
    const dir = project({ "index.js": worker(`import s from ${JSON.stringify(spec())};\nglobalThis.s = s;`) });
    const r = await runDevExpectFailure(dir);
    assert.notEqual(r.code, 0, `it started:\n${r.stdout}`);
    assert.match(r.stderr, /No such module|does not load modules from URLs/);
    assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET), "the secret leaked");
  });
}

test("at load: a missing file and a file outside give the same error", async () => {
  const msgs = [];
  for (const spec of ["../outside/secret.txt", "../outside/nothing-here.txt"]) {
    const dir = project({ "index.js": worker(`import s from ${JSON.stringify(spec)};`) });
    const r = await runDevExpectFailure(dir);
    assert.notEqual(r.code, 0);
    const line = r.stderr.split("\n").find((l) => /No such module/.test(l));
    assert.ok(line, r.stderr);
    msgs.push(line.replace(spec, "SPEC").replace(dir, "DIR"));
  }
  assert.equal(msgs[0], msgs[1]);
});

test("at load: '..' after a symlink stays in the project (no POSIX walk-out)", async () => {
  const dir = project({ "index.js": `import d from "./link/../data.txt";
export default { fetch() { return new Response(d); } };` });
  const srv = await startDev(dir);
  try {
    const body = await (await fetch(srv.url + "/")).text();
    assert.equal(body, "INSIDE-DATA");
  } finally {
    await srv.stop();
  }
});

test("at load: a directory, a FIFO and a huge file are refused without hanging", async () => {
  const cases = [
    ["./dir.txt", (dir) => fs.mkdirSync(path.join(dir, "dir.txt")), /not a regular file/],
    ["./pipe.txt", (dir) => execFileSync("mkfifo", [path.join(dir, "pipe.txt")]), /not a regular file/],
    ["./big.bin", (dir) => { const f = path.join(dir, "big.bin"); fs.writeFileSync(f, ""); fs.truncateSync(f, 65 * 1024 * 1024); }, /larger than/],
  ];
  for (const [spec, make, re] of cases) {
    const dir = project({ "index.js": worker(`import s from ${JSON.stringify(spec)};`) });
    make(dir);
    const r = await runDevExpectFailure(dir, [], 20000);
    assert.notEqual(r.code, 0, `${spec}: it started`);
    assert.match(r.stderr, re, spec);
  }
});

test("at load: a very long specifier is refused cleanly", async () => {
  const spec = "./" + "a/".repeat(3000) + "x.txt";
  const dir = project({ "index.js": worker(`import s from ${JSON.stringify(spec)};`) });
  const r = await runDevExpectFailure(dir);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /No such module/);
  assert.ok(r.stderr.length < 4000, "the error quotes a bounded part of the name");
});

// ---- at request time: import() sees only the modules loaded at start ----

test("at request time: import() reaches only the modules loaded at start, and says the same for everything else", async () => {
  const dir = project({
    "index.js": `import loaded from "./loaded.txt";
import { lib } from "./lib.js";
export default {
  async fetch(request) {
    const spec = new URL(request.url).searchParams.get("m");
    try {
      const m = await import(spec);
      return Response.json({ ok: true, v: String(m.default ?? m.lib) });
    } catch (e) {
      return Response.json({ ok: false, err: String(e) });
    }
  },
};`,
    "loaded.txt": "LOADED",
    "lib.js": `export const lib = "LIB";`,
    "late.js": `export default "LATE";`,
    "unloaded.txt": "UNLOADED",
    "sub/inner.json": `"INNER"`,
  });
  fs.mkdirSync(path.join(dir, "adir.js"));
  execFileSync("mkfifo", [path.join(dir, "fifo.txt")]);
  const srv = await startDev(dir);
  const ask = async (spec) => (await fetch(srv.url + "/?m=" + encodeURIComponent(spec))).json();
  try {
    assert.deepEqual(await ask("./loaded.txt"), { ok: true, v: "LOADED" });
    assert.deepEqual(await ask("./lib.js"), { ok: true, v: "LIB" });

    const refused = [
      "./late.js", "./unloaded.txt", "./sub/inner.json", "./missing.js",
      "./adir.js", "./fifo.txt", "./zero.bin", "/dev/zero",
      "../outside/secret.txt", "../outside/secret.js", "../outside/nothing.txt",
      path.join(base, "outside", "secret.json"), path.join(base, "outside", "nothing.json"),
      "./link/secret.txt", "./link/nothing.txt", "./leak.txt",
      "./" + "../".repeat(40) + "etc/hostname.txt",
      "./loaded.txt\u0000/../../outside/secret.txt".replace("loaded", "unloaded"),
      "./" + "b/".repeat(3000) + "y.js",
    ];
    const shapes = new Set();
    for (const spec of refused) {
      const r = await ask(spec);
      assert.equal(r.ok, false, `${JSON.stringify(spec.slice(0, 80))} was imported: ${r.v}`);
      assert.ok(!JSON.stringify(r).includes(SECRET), `secret leaked for ${spec}`);
      assert.match(r.err, /No such module/, spec.slice(0, 80));
      // The same text for every name, once the name itself is taken out.
      const m = /^TypeError: No such module "(.*?)" imported from (.*)$/s.exec(r.err);
      assert.ok(m, r.err.slice(0, 300));
      shapes.add(r.err.replace(m[1], "SPEC"));
    }
    assert.equal(shapes.size, 1, [...shapes].join("\n"));
    // A NUL cuts the name: what is left is checked like any other name.
    const nul = await ask("./loaded.txt\u0000/../../outside/secret.txt");
    assert.ok(!JSON.stringify(nul).includes(SECRET));
    for (const spec of [`file://${path.join(base, "outside", "secret.txt")}`, "file:./loaded.txt"]) {
      const r = await ask(spec);
      assert.equal(r.ok, false);
      assert.match(r.err, /does not load modules from URLs/);
    }
    // Still serving after all of it.
    assert.deepEqual(await ask("./lib.js"), { ok: true, v: "LIB" });
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

test("a dynamic import at load time joins the module graph", async () => {
  const dir = project({
    "index.js": `const late = import("./late.js");
export default { async fetch() { return new Response((await late).default + (await import("./late.js")).default); } };`,
    "late.js": `export default "LATE";`,
  }, { links: false });
  const srv = await startDev(dir);
  try {
    assert.equal(await (await fetch(srv.url + "/")).text(), "LATELATE");
  } finally {
    await srv.stop();
  }
});
