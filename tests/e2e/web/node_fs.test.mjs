// node:fs under nodejs_compat (issue 10; docs/nodejs.md): a virtual file system in
// the Worker's heap, from compatibility date 2025-09-01 as on Cloudflare. /tmp is
// writable and per request, with a size bound; /bundle and / are read-only;
// /dev/null, /dev/zero, /dev/full, /dev/random work; no host file is ever reached.
import { test } from "node:test";
import assert from "node:assert/strict";
import fsHost from "node:fs";
import path from "node:path";
import { makeProject, startDev, runDevExpectFailure } from "../lib.mjs";
import { nodeCases } from "./node_cases.mjs";

const cases = {
  basics: `
    const r = {};
    fs.writeFileSync("/tmp/a.txt", "hello");
    fs.appendFileSync("/tmp/a.txt", " world");
    r.read = fs.readFileSync("/tmp/a.txt", "utf8");
    r.buf = fs.readFileSync("/tmp/a.txt").subarray(0, 5).toString("hex");
    const st = fs.statSync("/tmp/a.txt");
    r.stat = [st.isFile(), st.isDirectory(), st.size];
    fs.mkdirSync("/tmp/d/e/f", { recursive: true });
    fs.writeFileSync("/tmp/d/e/f/g.bin", new Uint8Array([1, 2, 3]));
    r.readdir = fs.readdirSync("/tmp/d/e/f");
    r.dirents = fs.readdirSync("/tmp/d", { withFileTypes: true }).map((d) => [d.name, d.isDirectory()]);
    fs.renameSync("/tmp/a.txt", "/tmp/b.txt");
    r.exists = [fs.existsSync("/tmp/a.txt"), fs.existsSync("/tmp/b.txt"), fs.existsSync("/etc/passwd")];
    fs.copyFileSync("/tmp/b.txt", "/tmp/c.txt");
    const fd = fs.openSync("/tmp/c.txt", "r+");
    fs.writeSync(fd, "HELLO", 0);
    const b = Buffer.alloc(5);
    fs.readSync(fd, b, 0, 5, 6);
    r.fd = [b.toString(), fs.fstatSync(fd).size];
    fs.closeSync(fd);
    r.c = fs.readFileSync("/tmp/c.txt", "utf8");
    fs.rmSync("/tmp/d", { recursive: true });
    r.afterRm = fs.readdirSync("/tmp").sort();
    r.promises = await fsp.readFile("/tmp/b.txt", "utf8");
    await fsp.writeFile("/tmp/p.txt", "via promises");
    r.cb = await new Promise((res) => fs.readFile("/tmp/p.txt", "utf8", (e, v) => res(e ? e.code : v)));
    const h = await fsp.open("/tmp/p.txt");
    r.handle = (await h.readFile("utf8")).length;
    await h.close();
    r.root = fs.readdirSync("/");
    return r;`,
  errors: `
    const grab = (f) => { try { f(); return "no error"; } catch (e) { return [e.code, e.message]; } };
    return {
      missing: grab(() => fs.readFileSync("/tmp/nope")),
      host: grab(() => fs.readFileSync("/etc/passwd")),
      dotdot: grab(() => fs.readFileSync("/tmp/../../etc/hostname")),
      bundle: grab(() => fs.writeFileSync("/bundle/x", "x")),
      rootWrite: grab(() => fs.writeFileSync("/x", "x")),
      mkdirRoot: grab(() => fs.mkdirSync("/etc")),
      isDir: grab(() => fs.readFileSync("/tmp")),
      notEmpty: (fs.mkdirSync("/tmp/q/r", { recursive: true }), grab(() => fs.rmdirSync("/tmp/q"))),
      exists: (fs.writeFileSync("/tmp/e", ""), grab(() => fs.openSync("/tmp/e", "wx"))),
      full: grab(() => fs.writeFileSync("/dev/full", "x")),
      badFd: grab(() => fs.closeSync(12345)),
      cbErr: await new Promise((res) => fs.stat("/tmp/none", (e) => res(e && e.code))),
      promiseErr: await fsp.readFile("/nope").then(() => "no error", (e) => e.code),
    };`,
  dev: `
    const z = Buffer.alloc(4, 9);
    const fd = fs.openSync("/dev/zero", "r");
    fs.readSync(fd, z, 0, 4, null);
    fs.closeSync(fd);
    const rnd = Buffer.alloc(32);
    const fr = fs.openSync("/dev/urandom", "r");
    fs.readSync(fr, rnd);
    fs.closeSync(fr);
    fs.writeFileSync("/dev/null", "discarded");
    return { zero: [...z], random: rnd.some((x) => x !== 0), null: fs.readFileSync("/dev/null").length,
      devs: fs.readdirSync("/dev") };`,
  quota: `
    const mb = Buffer.alloc(1024 * 1024, 1);
    let n = 0, code = null;
    try { for (; n < 100; n++) fs.writeFileSync("/tmp/f" + n, mb); } catch (e) { code = e.code; }
    // freeing space lets writes succeed again
    fs.unlinkSync("/tmp/f0");
    fs.writeFileSync("/tmp/again", mb);
    return { n, code, again: fs.statSync("/tmp/again").size };`,
  leftover: `return fs.readdirSync("/tmp");`,
  stream: `
    const w = fs.createWriteStream("/tmp/s.txt");
    await new Promise((res) => { w.write("one "); w.end("two", res); });
    const chunks = [];
    await new Promise((res, rej) => fs.createReadStream("/tmp/s.txt", { highWaterMark: 3 })
      .on("data", (c) => chunks.push(c.toString())).on("end", res).on("error", rej));
    return chunks;`,
};

const worker = nodeCases(cases, { top: `import fs from "node:fs"; import fsp from "node:fs/promises";\n  fs.writeFileSync("/tmp/at-load", "x"); // the module's top level has its own /tmp`, date: "2025-09-01" });
const run = (name) => worker.run(name);

test("node:fs: files and directories in /tmp (sync, descriptors, callbacks, promises)", async () => {
  assert.deepEqual(await run("basics"), {
    read: "hello world", buf: "68656c6c6f", stat: [true, false, 11],
    readdir: ["g.bin"], dirents: [["e", true]],
    exists: [false, true, false], fd: ["world", 11], c: "HELLO world",
    afterRm: ["b.txt", "c.txt"], promises: "hello world", cb: "via promises", handle: 12,
    root: ["bundle", "dev", "tmp"],
  });
});

test("node:fs: host files are unreachable; read-only places fail with Node's codes", async () => {
  const out = await run("errors");
  assert.deepEqual(out.missing, ["ENOENT", "ENOENT: no such file or directory, open '/tmp/nope'"]);
  assert.equal(out.host[0], "ENOENT");
  assert.equal(out.dotdot[0], "ENOENT");
  assert.deepEqual(out.bundle, ["EROFS", "EROFS: read-only file system, open '/bundle/x'"]);
  assert.equal(out.rootWrite[0], "EROFS");
  assert.equal(out.mkdirRoot[0], "EROFS");
  assert.equal(out.isDir[0], "EISDIR");
  assert.equal(out.notEmpty[0], "ENOTEMPTY");
  assert.equal(out.exists[0], "EEXIST");
  assert.equal(out.full[0], "ENOSPC");
  assert.equal(out.badFd[0], "EBADF");
  assert.equal(out.cbErr, "ENOENT");
  assert.equal(out.promiseErr, "ENOENT");
  // and the Worker's own files on the host are not visible either
  assert.ok(fsHost.existsSync(path.join(worker.dir, "src/index.js")));
});

test("node:fs: /dev/zero, /dev/urandom, /dev/null", async () => {
  assert.deepEqual(await run("dev"), { zero: [0, 0, 0, 0], random: true, null: 0, devs: ["full", "null", "random", "urandom", "zero"] });
});

test("node:fs: /tmp is bounded (32 MiB, then ENOSPC) and belongs to one request", async () => {
  assert.deepEqual(await run("quota"), { n: 32, code: "ENOSPC", again: 1024 * 1024 });
  // the next request starts with an empty /tmp: nothing from the earlier ones, nor the top level's file
  assert.deepEqual(await run("leftover"), []);
});

test("node:fs: createReadStream and createWriteStream", async () => {
  assert.deepEqual(await run("stream"), ["one", " tw", "o"]);
});

test("node:fs needs compatibility date 2025-09-01 (or enable_nodejs_fs_module), as on Cloudflare", async () => {
  const old = makeProject({
    "wrangler.toml": `name = "f"\nmain = "src/index.js"\ncompatibility_date = "2025-08-31"\ncompatibility_flags = ["nodejs_compat"]\n`,
    "src/index.js": `import fs from "node:fs"; export default { fetch() { return new Response(String(fs)); } };`,
  });
  const r = await runDevExpectFailure(old);
  assert.match(r.stderr, /No such module "node:fs": durable does not provide this Node\.js module/);
  const flagged = makeProject({
    "wrangler.toml": `name = "f"\nmain = "src/index.js"\ncompatibility_date = "2025-08-31"\ncompatibility_flags = ["nodejs_compat", "enable_nodejs_fs_module"]\n`,
    "src/index.js": `import { readdirSync } from "node:fs"; export default { fetch() { return Response.json(readdirSync("/")); } };`,
  });
  const s = await startDev(flagged);
  try {
    assert.deepEqual(await (await fetch(s.url + "/")).json(), ["bundle", "dev", "tmp"]);
  } finally { await s.stop(); }
});
