// The nodejs_compat compatibility flag (issue 10; docs/nodejs.md): node:* modules
// resolve with it and are refused without it; AsyncLocalStorage follows await,
// then, timers and queueMicrotask (QuickJS patch 0009).
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProject, startDev, runDevExpectFailure } from "../lib.mjs";

const toml = (flags = `["nodejs_compat"]`) =>
  `name = "node"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\n` +
  `compatibility_flags = ${flags}\n[vars]\nGREETING = "hi"\nNUM = 3\n`;

// Runs `body` (the inside of an async function returning a JSON-able value) in a
// Worker with nodejs_compat and returns what it returned.
async function run(imports, body, flags) {
  const dir = makeProject({
    "wrangler.toml": toml(flags),
    "src/index.js": `${imports}
      export default { async fetch(req, env, ctx) {
        try {
          const out = await (async () => { ${body} })();
          return Response.json({ ok: out });
        } catch (e) { return Response.json({ err: String(e && e.stack || e) }); }
      } };`,
  });
  const srv = await startDev(dir);
  try {
    const r = await (await fetch(srv.url + "/")).json();
    if (r.err) throw new Error("in the Worker: " + r.err);
    return r.ok;
  } finally { await srv.stop(); }
}

test("without the flag node:* imports are refused with a clear error", async () => {
  const dir = makeProject({ "wrangler.toml": toml(`[]`),
    "src/index.js": `import { Buffer } from "node:buffer"; export default { fetch() { return new Response(String(Buffer)); } };` });
  const r = await runDevExpectFailure(dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No such module "node:buffer": Node\.js modules need the nodejs_compat compatibility flag/);
});

test("with the flag an unprovided node module names itself", async () => {
  const dir = makeProject({ "wrangler.toml": toml(),
    "src/index.js": `import fs from "node:fs"; export default { fetch() { return new Response(String(fs)); } };` });
  const r = await runDevExpectFailure(dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No such module "node:fs": durable does not provide this Node\.js module/);
});

test("AsyncLocalStorage: run/getStore through await, then, timers, queueMicrotask", async () => {
  const out = await run(`import { AsyncLocalStorage } from "node:async_hooks";
    const als = new AsyncLocalStorage();
    const other = new AsyncLocalStorage();
    const tick = () => new Promise((r) => setTimeout(r, 1));`, `
    const seen = {};
    seen.outside = als.getStore() ?? null;
    const results = await Promise.all(["a", "b"].map((id) => als.run({ id }, async () => {
      const s = [];
      s.push(als.getStore().id);
      await null;
      s.push(als.getStore().id);
      await tick();
      s.push(als.getStore().id);
      await Promise.resolve(1).then(() => s.push("then:" + als.getStore().id));
      await new Promise((r) => setTimeout(() => { s.push("timer:" + als.getStore().id); r(); }, 2));
      await new Promise((r) => queueMicrotask(() => { s.push("micro:" + als.getStore().id); r(); }));
      s.push(als.exit(() => String(als.getStore())));
      s.push(other.run(7, () => als.getStore().id + other.getStore()));
      s.push(String(other.getStore()));
      return s;
    })));
    seen.results = results;
    seen.after = als.getStore() ?? null;
    const snap = als.run("S", () => AsyncLocalStorage.snapshot());
    seen.snapshot = snap(() => als.getStore());
    const bound = als.run("B", () => AsyncLocalStorage.bind(() => als.getStore()));
    seen.bound = bound();
    try { als.enterWith(1); seen.enterWith = "no error"; } catch (e) { seen.enterWith = /not implemented/.test(e.message); }
    seen.nested = await als.run(1, async () => { await als.run(2, async () => { await tick(); }); return als.getStore(); });
    return seen;`);
  const want = (id) => [id, id, id, "then:" + id, "timer:" + id, "micro:" + id, "undefined", id + "7", "undefined"];
  assert.deepEqual(out, {
    outside: null, results: [want("a"), want("b")], after: null,
    snapshot: "S", bound: "B", enterWith: true, nested: 1,
  });
});

test("AsyncLocalStorage: a store does not leak into the next request", async () => {
  const dir = makeProject({ "wrangler.toml": toml(),
    "src/index.js": `import { AsyncLocalStorage } from "node:async_hooks";
      const als = new AsyncLocalStorage(); let n = 0;
      export default { async fetch() {
        const before = als.getStore() ?? null;
        return als.run(++n, async () => { await null; return Response.json({ before, in: als.getStore() }); });
      } };` });
  const srv = await startDev(dir);
  try {
    assert.deepEqual(await (await fetch(srv.url + "/")).json(), { before: null, in: 1 });
    assert.deepEqual(await (await fetch(srv.url + "/")).json(), { before: null, in: 2 });
  } finally { await srv.stop(); }
});
