// Module and service-worker formats, imports, env, ctx, timers, the prelude.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDev, runDevExpectFailure, makeProject } from "../lib.mjs";

const toml = (extra = "") => `name = "t"\nmain = "src/index.js"\ncompatibility_date = "2026-01-01"\n${extra}`;

test("service-worker format: addEventListener + respondWith, vars as globals", async () => {
  const dir = makeProject({
    "wrangler.toml": toml(`[vars]\nGREETING = "hi"\nLIMITS = { max = 3 }\n`),
    "src/index.js": `addEventListener("fetch", (event) => {
        event.respondWith(handle(event.request));
      });
      async function handle(request) {
        return new Response(GREETING + " " + LIMITS.max + " " + new URL(request.url).pathname);
      }`,
  });
  const srv = await startDev(dir);
  try {
    assert.equal(await (await fetch(srv.url + "/sw")).text(), "hi 3 /sw");
  } finally { await srv.stop(); }
});

test("module format: env vars (strings and JSON), relative and data imports, cloudflare:workers", async () => {
  const dir = makeProject({
    "wrangler.toml": toml(`[vars]\nNAME = "durable"\nCONF = { retries = 2, tags = ["a", "b"] }\nFLAG = true\n`),
    "src/index.js": `import { helper } from "./lib/helper.js";
      import text from "./data/greeting.txt";
      import { DurableObject, WorkerEntrypoint, RpcTarget } from "cloudflare:workers";
      export default { async fetch(req, env, ctx) {
        return Response.json({ helper: helper(), text, name: env.NAME, conf: env.CONF, flag: env.FLAG,
          classes: [typeof DurableObject, typeof WorkerEntrypoint, typeof RpcTarget],
          ctx: [typeof ctx.waitUntil, typeof ctx.passThroughOnException] });
      } };`,
    "src/lib/helper.js": `import { two } from "../two.js"; export const helper = () => "helped" + two;`,
    "src/two.js": `export const two = 2;`,
    "src/data/greeting.txt": "hello text",
  });
  const srv = await startDev(dir);
  try {
    const j = await (await fetch(srv.url + "/")).json();
    assert.deepEqual(j, { helper: "helped2", text: "hello text", name: "durable", conf: { retries: 2, tags: ["a", "b"] },
      flag: true, classes: ["function", "function", "function"], ctx: ["function", "function"] });
  } finally { await srv.stop(); }
});

test("a WorkerEntrypoint class as the default export", async () => {
  const dir = makeProject({
    "wrangler.toml": toml(`[vars]\nX = "x"\n`),
    "src/index.js": `import { WorkerEntrypoint } from "cloudflare:workers";
      export default class extends WorkerEntrypoint { fetch(req) { return new Response("entry " + this.env.X); } }`,
  });
  const srv = await startDev(dir);
  try {
    assert.equal(await (await fetch(srv.url + "/")).text(), "entry x");
  } finally { await srv.stop(); }
});

test("node: imports and bare specifiers are refused at load with a clear message", async () => {
  let dir = makeProject({ "wrangler.toml": toml(), "src/index.js": `import fs from "node:fs"; export default {};` });
  let r = await runDevExpectFailure(dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /node:fs/);
  dir = makeProject({ "wrangler.toml": toml(), "src/index.js": `import x from "lodash"; export default {};` });
  r = await runDevExpectFailure(dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /lodash.*bundler/);
});

test("ctx.waitUntil keeps work going after the response; timers fire", async () => {
  const dir = makeProject({
    "wrangler.toml": toml(),
    "src/index.js": `let log = [];
      export default { async fetch(req, env, ctx) {
        const p = new URL(req.url).pathname;
        if (p === "/start") {
          ctx.waitUntil(new Promise((r) => setTimeout(() => { log.push("later"); r(); }, 50)));
          return new Response("started");
        }
        if (p === "/timer") {
          const v = await new Promise((r) => setTimeout((a, b) => r(a + b), 10, 2, 3));
          let n = 0; const id = setInterval(() => { n++; }, 1);
          await new Promise((r) => setTimeout(r, 30)); clearInterval(id);
          const cleared = await new Promise((r) => { const t = setTimeout(() => r("fired"), 5); clearTimeout(t); setTimeout(() => r("cleared"), 20); });
          return Response.json({ v, intervalRan: n > 1, cleared });
        }
        if (p === "/reject") { ctx.waitUntil(Promise.reject(new Error("bg failure"))); return new Response("ok"); }
        return Response.json(log);
      } };`,
  });
  const srv = await startDev(dir);
  try {
    assert.equal(await (await fetch(srv.url + "/start")).text(), "started");
    await srv.waitForLog(/GET \/start 200/);
    // waitUntil work completes after the response was sent:
    let log;
    for (let i = 0; i < 50; i++) {
      log = await (await fetch(srv.url + "/log")).json();
      if (log.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(log, ["later"]);
    assert.deepEqual(await (await fetch(srv.url + "/timer")).json(), { v: 5, intervalRan: true, cleared: "cleared" });
    assert.equal((await fetch(srv.url + "/reject")).status, 200);
    await srv.waitForLog(/bg failure/);
  } finally { await srv.stop(); }
});

test("the ES2022 prelude: at, findLast, hasOwn, Error cause, toSorted, groupBy", async () => {
  const dir = makeProject({
    "wrangler.toml": toml(),
    "src/index.js": `export default { fetch() {
      const a = [3, 1, 2];
      const e = new Error("outer", { cause: "inner" });
      class MyError extends Error { constructor(m) { super(m, { cause: 7 }); this.name = "MyError"; } }
      const m = new MyError("x");
      let engineErr; try { null.x; } catch (err) { engineErr = err; }
      return Response.json({
        at: [a.at(-1), "abc".at(-1), new Uint8Array([1, 2]).at(-1)],
        findLast: [a.findLast((x) => x > 1), a.findLastIndex((x) => x > 5)],
        hasOwn: [Object.hasOwn({ k: 1 }, "k"), Object.hasOwn({}, "toString")],
        cause: [e.cause, m.cause, m instanceof MyError, m instanceof Error, engineErr instanceof Error, engineErr instanceof TypeError],
        sorted: [a.toSorted(), a.toReversed(), a.with(0, 9), a],
        groupBy: Object.groupBy([1, 2, 3, 4], (x) => (x % 2 ? "odd" : "even")),
        mapGroupBy: [...Map.groupBy([1, 2, 3], (x) => x > 1)],
      });
    } };`,
  });
  const srv = await startDev(dir);
  try {
    const j = await (await fetch(srv.url + "/")).json();
    assert.deepEqual(j, {
      at: [2, "c", 2], findLast: [2, -1], hasOwn: [true, false],
      cause: ["inner", 7, true, true, true, true],
      sorted: [[1, 2, 3], [2, 1, 3], [9, 1, 2], [3, 1, 2]],
      groupBy: { odd: [1, 3], even: [2, 4] }, mapGroupBy: [[false, [1]], [true, [2, 3]]],
    });
  } finally { await srv.stop(); }
});

// CFG-6: a module is a file with an import or export statement anywhere. esbuild
// --minify puts the whole bundle on one line ending in `export{a as default};`,
// which the first-statement check and the start-of-line scan both miss.
test("module detection: a minified one-line bundle, an export after a template literal, a script with 'export' in a string", async () => {
  let dir = makeProject({
    "wrangler.toml": toml(`[vars]\nV = "v"\n`),
    "src/index.js": `var b=class{constructor(){this.n=1}};var a={async fetch(r,e){return new Response("min "+e.V+new b().n)}};export{a as default};`,
  });
  let srv = await startDev(dir);
  try {
    assert.equal(await (await fetch(srv.url + "/")).text(), "min v1");
  } finally { await srv.stop(); }

  dir = makeProject({
    "wrangler.toml": toml(),
    "src/index.js": `const page = \`
export default nothing
\`; const h = { fetch() { return new Response(page.trim()); } }; /* import x */ export { h as default };`,
  });
  srv = await startDev(dir);
  try {
    assert.equal(await (await fetch(srv.url + "/")).text(), "export default nothing");
  } finally { await srv.stop(); }

  // A service-worker script whose text contains "export" at the start of a line
  // (inside a template literal) stays a script: its globals work, `this` is global.
  dir = makeProject({
    "wrangler.toml": toml(`[vars]\nG = "g"\n`),
    "src/index.js": `const doc = \`
export const notReally = 1;
import nothing from "x";
\`;
addEventListener("fetch", (ev) => ev.respondWith(new Response(G + " " + (this === globalThis) + " " + doc.split("\\n").length)));`,
  });
  srv = await startDev(dir);
  try {
    assert.equal(await (await fetch(srv.url + "/")).text(), "g true 4");
  } finally { await srv.stop(); }
});

test("module detection: a syntax error is reported with its line, as a load failure", async () => {
  const dir = makeProject({ "wrangler.toml": toml(), "src/index.js": `export default {\n  fetch() { return new Response("x") ;; }\n  oops(\n};` });
  const r = await runDevExpectFailure(dir);
  assert.match(r.stderr, /SyntaxError/);
  assert.match(r.stderr, /index\.js:\d+/);
});

test("the ES2025 prelude: Iterator helpers, Set methods, Promise.try; scheduler.wait", async () => {
  const dir = makeProject({
    "wrangler.toml": toml(),
    "src/index.js": `export default { async fetch() {
      const m = new Map([["a", 1], ["b", 2], ["c", 3], ["d", 4]]);
      const out = {};
      out.chain = m.values().filter((v) => v % 2 === 0).map((v) => v * 10).toArray();
      out.dropTake = [1, 2, 3, 4, 5].values().drop(1).take(2).toArray();
      out.flat = ["ab", "cd"].values().flatMap((s) => s.split("")).toArray();
      out.reduce = [1, 2, 3].values().reduce((a, b) => a + b);
      out.some = [1, 2, 3].values().some((x) => x > 2);
      out.every = [1, 2, 3].values().every((x) => x > 2);
      out.find = [1, 2, 3].values().find((x) => x > 1);
      out.from = Iterator.from({ i: 0, next() { return this.i < 3 ? { value: this.i++, done: false } : { done: true }; } }).toArray();
      out.tag = Object.prototype.toString.call([1].values().map((x) => x));
      let closed = 0;
      const endless = { i: 0, next() { return { value: this.i++, done: false }; }, return() { closed++; return {}; }, __proto__: Iterator.prototype };
      out.endless = endless.map((x) => x * 2).take(3).toArray();
      const h = [1, 2, 3].values().map((x) => x);
      h.next(); h.return();
      out.afterReturn = h.next();
      try { new Iterator(); } catch (e) { out.abstract = e instanceof TypeError; }
      try { [1].values().map(5); } catch (e) { out.notFn = e instanceof TypeError; }
      try { [1].values().take(-1); } catch (e) { out.negative = e instanceof RangeError; }
      out.union = [...new Set([1, 2]).union(new Set([2, 3]))];
      out.intersection = [...new Set([1, 2, 3]).intersection(new Set([2, 3, 4]))];
      out.difference = [...new Set([1, 2, 3]).difference(new Set([2]))];
      out.symmetric = [...new Set([1, 2]).symmetricDifference(new Set([2, 3]))];
      out.subset = [new Set([1]).isSubsetOf(new Set([1, 2])), new Set([1, 5]).isSubsetOf(new Set([1, 2]))];
      out.superset = new Set([1, 2]).isSupersetOf(new Set([2]));
      out.disjoint = [new Set([1]).isDisjointFrom(new Set([2])), new Set([2]).isDisjointFrom(new Set([2]))];
      out.setLike = [...new Set([1, 2, 3]).intersection(new Map([[2, "x"]]))];
      try { new Set().union([1]); } catch (e) { out.notSetLike = e instanceof TypeError; }
      out.try = await Promise.try((a) => a + 1, 4);
      out.tryThrow = await Promise.try(() => { throw new Error("boom"); }).catch((e) => e.message);
      const order = []; await Promise.all([scheduler.wait(20).then((v) => order.push("20:" + v)), scheduler.wait(0).then((v) => order.push("0:" + v))]); out.waited = order;
      const ac = new AbortController();
      const p = scheduler.wait(60000, { signal: ac.signal });
      ac.abort(new Error("stop"));
      out.aborted = await p.catch((e) => e.message);
      return Response.json({ out, closed });
    } };`,
  });
  const srv = await startDev(dir);
  try {
    const { out, closed } = await (await fetch(srv.url + "/")).json();
    assert.deepEqual(out, {
      chain: [20, 40], dropTake: [2, 3], flat: ["a", "b", "c", "d"], reduce: 6, some: true, every: false, find: 2,
      from: [0, 1, 2], tag: "[object Iterator Helper]", endless: [0, 2, 4], afterReturn: { done: true },
      abstract: true, notFn: true, negative: true,
      union: [1, 2, 3], intersection: [2, 3], difference: [1, 3], symmetric: [1, 3], subset: [true, false],
      superset: true, disjoint: [true, false], setLike: [2], notSetLike: true,
      try: 5, tryThrow: "boom", waited: ["0:undefined", "20:undefined"], aborted: "stop",
    });
    assert.equal(closed, 1);
  } finally { await srv.stop(); }
});
