// The object model: ids, stubs, fetch, RPC, errors, E-order, one instance per id,
// resets and broken stubs, eviction (spec objects.md).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startDev, runDevExpectFailure, makeProject } from "../lib.mjs";

const wrangler = `name = "model"
main = "index.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "THING"
class_name = "Thing"

[[durable_objects.bindings]]
name = "OTHER"
class_name = "Other"

[[durable_objects.bindings]]
name = "PLAIN"
class_name = "Plain"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Thing", "Other"]
new_classes = ["Plain"]
`;

const worker = `
import { DurableObject, RpcTarget } from "cloudflare:workers";
let constructed = 0;
export class Thing extends DurableObject {
  log = [];
  field = () => "arrow";
  #secret() { return "private"; }
  constructor(ctx, env) { super(ctx, env); constructed++; this.n = 0; this.born = constructed; }
  record(i) { this.log.push(i); return this.log.length; }
  getLog() { return this.log; }
  add(k) { this.n += k; return this.n; }
  // Kept in memory for 3 s after each call (waitUntil), whatever the load on the
  // machine: the server of these tests evicts idle objects after 300 ms.
  addPinned(k) { this.ctx.waitUntil(new Promise((r) => setTimeout(r, 3000))); return this.add(k); }
  echo(v) { return v; }
  born_() { return this.born; }
  idInfo() { return { id: this.ctx.id.toString(), name: this.ctx.id.name }; }
  throwIt(kind) {
    if (kind === "type") throw new TypeError("bad type here");
    if (kind === "range") throw new RangeError("out of range");
    if (kind === "string") throw "just a string";
    const e = new Error("plain error"); e.code = 42; throw e;
  }
  returnFunction() { return () => 1; }
  returnClass() { class K { x = 1 } return new K(); }
  get prop() { return 5; }
  async slow(ms) { await new Promise((r) => setTimeout(r, ms)); return ms; }
  async failBlock() { return this.ctx.blockConcurrencyWhile(async () => { throw new Error("init failed"); }); }
  async callSelf() { const me = this.env.THING.get(this.ctx.id); return me.add(100); }
  async callOther(name) { return this.env.OTHER.getByName(name).hello(this.ctx.id.name); }
  async fetch(req) {
    const body = await req.text();
    if (new URL(req.url).pathname === "/throw") throw new SyntaxError("fetch threw");
    if (new URL(req.url).pathname === "/notresponse") return "nope";
    return new Response("obj:" + req.method + ":" + new URL(req.url).pathname + new URL(req.url).search + ":" + body + ":" + req.headers.get("x-test"),
      { status: 201, headers: { "x-from": "object", "set-cookie": "a=1" } });
  }
}
export class Other extends DurableObject {
  hello(from) { return "hello " + from + " from " + this.ctx.id.name; }
}
export class Plain {
  constructor(state) { this.state = state; }
  async fetch() { return new Response("plain"); }
  method() { return 1; }
}
const tests = {
  async ids(env) {
    const a = env.THING.idFromName("x"), b = env.THING.idFromName("x"), c = env.THING.idFromName("y");
    const o = env.OTHER.idFromName("x");
    const out = { hex: a.toString(), same: a.equals(b), diff: !a.equals(c), crossNs: a.toString() !== o.toString(),
      name: a.name, num: env.THING.idFromName(42).equals(env.THING.idFromName("42")), empty: env.THING.idFromName("").toString().length };
    const back = env.THING.idFromString(a.toString().toUpperCase());
    out.roundTrip = back.equals(a) && back.toString() === a.toString() && back.name === undefined;
    const errs = [];
    for (const bad of ["", "abc", "g".repeat(64), a.toString() + "0"]) {
      try { env.THING.idFromString(bad); errs.push("no error"); } catch (e) { errs.push(e.constructor.name + ":" + e.message); }
    }
    try { env.THING.idFromString(o.toString()); errs.push("no error"); } catch (e) { errs.push(e.constructor.name + ":" + e.message); }
    try { env.THING.idFromName(); errs.push("no error"); } catch (e) { errs.push(e.constructor.name); }
    try { env.THING.get(a.toString()); errs.push("no error"); } catch (e) { errs.push(e.constructor.name); }
    try { env.THING.get(o); errs.push("no error"); } catch (e) { errs.push(e.constructor.name); }
    try { env.THING.get(a, { routingMode: "nearest" }); errs.push("no error"); } catch (e) { errs.push(e.constructor.name + ":" + e.message); }
    out.errs = errs;
    const seen = new Set();
    for (let i = 0; i < 2000; i++) seen.add(env.THING.newUniqueId().toString());
    out.unique = seen.size;
    const u = env.THING.newUniqueId();
    out.uniqueName = u.name;
    out.uniqueValid = env.THING.idFromString(u.toString()).equals(u);
    const eu = env.THING.jurisdiction("eu");
    out.jur = [eu.idFromName("x").toString() !== a.toString(), eu.newUniqueId().jurisdiction, env.THING.newUniqueId({ jurisdiction: "eu" }).jurisdiction];
    try { env.THING.jurisdiction("mars"); out.jur.push("no error"); } catch (e) { out.jur.push(e.constructor.name); }
    try { eu.get(a); out.jur.push("no error"); } catch (e) { out.jur.push(e.message); }
    const stub = env.THING.get(a);
    out.stub = [stub.id.equals(a), stub.name, env.THING.getByName("x").name, typeof stub.then];
    return out;
  },
  async fetch(env) {
    const stub = env.THING.getByName("f");
    const r = await stub.fetch("https://thing.internal/path?q=1", { method: "POST", body: "payload", headers: { "x-test": "hdr" } });
    const out = { status: r.status, body: await r.text(), xfrom: r.headers.get("x-from"), cookie: r.headers.get("set-cookie") };
    try { await stub.fetch("/relative"); out.rel = "no error"; } catch (e) { out.rel = e.constructor.name + ":" + e.message; }
    try { await stub.fetch("http://x/throw"); out.thrown = "no error"; } catch (e) { out.thrown = [e.constructor.name, e.message, e.remote]; }
    try { await stub.fetch("http://x/notresponse"); out.notResponse = "no error"; } catch (e) { out.notResponse = [e.constructor.name, e.remote]; }
    const req = new Request("http://x/fromreq", { method: "PUT", body: "rb", headers: { "x-test": "r" } });
    out.fromRequest = await (await stub.fetch(req)).text();
    out.plain = await (await env.PLAIN.getByName("p").fetch("http://x/")).text();
    return out;
  },
  async rpc(env) {
    const s = env.THING.getByName("rpc");
    const out = {};
    out.add = [await s.add(2), await s.add(3)];
    const v = { m: new Map([[1, "a"]]), s: new Set([1, 2]), d: new Date(0), r: /x+/gi, big: 12345678901234567890n,
      u8: new Uint8Array([1, 2, 3]), nested: { arr: [1, , 3] }, neg0: -0, nan: NaN, inf: -Infinity, err: new RangeError("r") };
    v.self = v;
    const back = await s.echo(v);
    out.clone = [back.m.get(1), [...back.s].join(), back.d.getTime(), back.r.source + back.r.flags, back.big === 12345678901234567890n,
      [...back.u8].join(), 1 in back.nested.arr, Object.is(back.neg0, -0), Number.isNaN(back.nan), back.inf, back.err instanceof RangeError,
      back.err.message, back.self === back, back !== v];
    const errs = [];
    for (const kind of ["type", "range", "string", "plain"]) {
      try { await s.throwIt(kind); errs.push("no error"); } catch (e) { errs.push([e.constructor.name, e.message, e.remote, e.code, "durableObjectReset" in e]); }
    }
    out.errs = errs;
    const fails = [];
    const attempt = async (f) => { try { await f(); fails.push("no error"); } catch (e) { fails.push(e.constructor.name + ":" + e.message); } };
    await attempt(() => s.noSuchMethod());
    await attempt(() => s.field());
    await attempt(() => s.log());
    await attempt(() => s.alarm());
    await attempt(() => s.constructor());
    await attempt(() => s.prop());
    await attempt(() => s.echo(() => 1));
    await attempt(() => s.echo(new (class K {})()));
    await attempt(() => s.echo(Symbol("s")));
    await attempt(() => s.returnFunction());
    await attempt(() => s.returnClass());
    await attempt(() => env.PLAIN.getByName("p").method());
    out.fails = fails;
    out.afterErrors = await s.add(0);
    out.idInfo = await s.idInfo();
    out.self = await s.callSelf();
    out.other = await s.callOther();
    return out;
  },
  async order(env) {
    const s = env.THING.getByName("order-" + Math.random());
    const ps = [];
    for (let i = 0; i < 500; i++) {
      ps.push(s.record(i));
      if (i % 50 === 0) ps.push(s.fetch("http://x/", { method: "POST", body: "b" + i }));
    }
    await Promise.all(ps);
    const log = await s.getLog();
    return { inOrder: log.every((v, i) => v === i), length: log.length };
  },
  async count(env, url) {
    return { n: await env.THING.getByName("shared-count").addPinned(1) };
  },
  async reset(env) {
    const s = env.THING.getByName("reset");
    await s.add(5);
    const before = await s.born_();
    let first;
    try { await s.failBlock(); first = "no error"; } catch (e) { first = [e.message, e.remote, e.durableObjectReset]; }
    let broken;
    try { await s.add(1); broken = "no error"; } catch (e) { broken = [e.message, e.durableObjectReset]; }
    const fresh = env.THING.getByName("reset");
    return { first, broken, freshValue: await fresh.add(0), newInstance: (await fresh.born_()) > before };
  },
  async born(env) { return { born: await env.THING.getByName("evict").born_(), n: await env.THING.getByName("evict").add(1) }; },
};
export default {
  async fetch(req, env) {
    const name = new URL(req.url).pathname.slice(1);
    const t = tests[name];
    if (!t) return new Response("no test " + name, { status: 404 });
    return Response.json(await t(env, new URL(req.url)));
  },
};
`;

let srv, dir;
before(async () => {
  dir = makeProject({ "wrangler.toml": wrangler, "index.js": worker });
  srv = await startDev(dir, ["--threads", "2", "--idle-timeout-ms", "300"]);
});
after(async () => { assert.equal((await srv.stop()).code, 0); });
const run = async (name) => {
  const r = await fetch(srv.url + "/" + name);
  const text = await r.text();
  assert.equal(r.status, 200, `${name}: ${text}\n${srv.logs()}`);
  return JSON.parse(text);
};

test("ids: deterministic, validated, namespaced, unique, jurisdictions (ID-*, NS-*)", async () => {
  const j = await run("ids");
  assert.match(j.hex, /^[0-9a-f]{64}$/);
  assert.equal(j.same, true);
  assert.equal(j.diff, true);
  assert.equal(j.crossNs, true);
  assert.equal(j.name, "x");
  assert.equal(j.num, true);
  assert.equal(j.empty, 64);
  assert.equal(j.roundTrip, true);
  const hexErr = "TypeError:Invalid Durable Object ID: must be 64 hex digits";
  assert.deepEqual(j.errs.slice(0, 4), [hexErr, hexErr, hexErr, hexErr]);
  assert.equal(j.errs[4], "TypeError:Durable Object ID is not valid for this namespace.");
  assert.deepEqual(j.errs.slice(5, 8), ["TypeError", "TypeError", "TypeError"]);
  assert.match(j.errs[8], /^RangeError:unknown routingMode/);
  assert.equal(j.unique, 2000);
  assert.equal(j.uniqueName, undefined);
  assert.equal(j.uniqueValid, true);
  assert.deepEqual(j.jur, [true, "eu", "eu", "TypeError", "get called on jurisdictional subnamespace with an ID from a different jurisdiction"]);
  assert.deepEqual(j.stub, [true, "x", "x", "undefined"]);
});

test("ids are stable across restarts (the secret is kept under --persist-to)", async () => {
  const persist = fs.mkdtempSync(path.join(os.tmpdir(), "durable-persist-"));
  const d = makeProject({ "wrangler.toml": wrangler, "index.js": worker });
  const hexes = [];
  for (let i = 0; i < 2; i++) {
    const s = await startDev(d, ["--persist-to", persist]);
    try { hexes.push((await (await fetch(s.url + "/ids")).json()).hex); } finally { await s.stop(); }
  }
  assert.equal(hexes[0], hexes[1]);
  assert.ok(fs.existsSync(path.join(persist, "durable.sqlite")));
  const other = await startDev(d, ["--persist-to", fs.mkdtempSync(path.join(os.tmpdir(), "durable-persist-"))]);
  try { assert.notEqual((await (await fetch(other.url + "/ids")).json()).hex, hexes[0], "another deployment, other ids"); }
  finally { await other.stop(); }
});

test("stub.fetch: request and response cross intact; errors are remote (FETCH-*)", async () => {
  const j = await run("fetch");
  assert.equal(j.status, 201);
  assert.equal(j.body, "obj:POST:/path?q=1:payload:hdr");
  assert.equal(j.xfrom, "object");
  assert.equal(j.cookie, "a=1");
  assert.equal(j.rel, "TypeError:Fetch API cannot load: /relative");
  assert.deepEqual(j.thrown, ["SyntaxError", "fetch threw", true]);
  assert.deepEqual(j.notResponse, ["TypeError", true]);
  assert.equal(j.fromRequest, "obj:PUT:/fromreq:rb:r");
  assert.equal(j.plain, "plain");
});

test("RPC: methods, structured clones, errors, what is not callable (RPC-*)", async () => {
  const j = await run("rpc");
  assert.deepEqual(j.add, [2, 5]);
  assert.deepEqual(j.clone, ["a", "1,2", 0, "x+gi", true, "1,2,3", false, true, true, null, true, "r", true, true]);
  assert.deepEqual(j.errs, [
    ["TypeError", "bad type here", true, null, false],
    ["RangeError", "out of range", true, null, false],
    ["Error", "just a string", true, null, false],
    ["Error", "plain error", true, null, false],
  ]);
  const f = j.fails;
  assert.match(f[0], /^TypeError:The RPC receiver does not implement the method "noSuchMethod"/);
  assert.match(f[1], /^TypeError:The RPC receiver does not implement the method "field"/);
  assert.match(f[2], /^TypeError:The RPC receiver does not implement the method "log"/);
  assert.match(f[3], /^TypeError:'alarm' is a reserved method/);
  assert.match(f[4], /^TypeError:'constructor' is a reserved method/);
  assert.match(f[5], /^TypeError:"prop" is not a function/);
  // Functions go by reference (RPC-9, tests/e2e/objects/rpc_refs.test.mjs); class
  // instances, symbols and returned class instances cannot be sent (RPC-10).
  for (const i of [6, 9]) assert.equal(f[i], "no error", `fails[${i}] = ${f[i]}`);
  for (const i of [7, 8, 10]) assert.match(f[i], /DataCloneError|could not be cloned/, `fails[${i}] = ${f[i]}`);
  assert.match(f[11], /extends DurableObject/);
  assert.equal(j.afterErrors, 5, "errors thrown by methods do not reset the object (LIFE-7)");
  assert.match(j.idInfo.id, /^[0-9a-f]{64}$/);
  assert.equal(j.idInfo.name, "rpc");
  assert.equal(j.self, 105, "an object can call itself");
  assert.equal(j.other, "hello rpc from undefined");
});

test("E-order: unawaited calls through one stub arrive in order (ORDER-1)", async () => {
  const j = await run("order");
  assert.deepEqual(j, { inOrder: true, length: 500 });
});

test("one instance per id across two shards (UNIQ-1)", async () => {
  const N = 200;
  const rs = await Promise.all(Array.from({ length: N }, () => fetch(srv.url + "/count").then((r) => r.json())));
  const ns = rs.map((r) => r.n).sort((a, b) => a - b);
  assert.deepEqual(ns, Array.from({ length: N }, (_, i) => i + 1));
});

test("a failed blockConcurrencyWhile resets the object and breaks the stub (LIFE-9, ERR-6)", async () => {
  const j = await run("reset");
  assert.deepEqual(j.first, ["init failed", true, true]);
  assert.deepEqual(j.broken, ["init failed", true]);
  assert.equal(j.freshValue, 0, "a new get() reaches a new instance with fresh memory");
  assert.equal(j.newInstance, true);
});

test("idle objects are evicted and constructed again on the next call (LIFE-14)", async () => {
  const a = await run("born");
  assert.equal(a.n, 1);
  await srv.waitForLog(/GET \/born 200/);
  await new Promise((r) => setTimeout(r, 1200));
  const b = await run("born");
  assert.equal(b.n, 1, "in-memory state was dropped");
  assert.ok(b.born > a.born, "the constructor ran again");
});

test("configuration errors name the class and say how to fix it (MIG-10)", async () => {
  const bad = (toml, js = "export class Thing {} export default {};") => runDevExpectFailure(makeProject({ "wrangler.toml": toml, "index.js": js }));
  const head = `name = "x"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\n`;
  let r = await bad(head + `[[durable_objects.bindings]]\nname = "T"\nclass_name = "Thing"\n`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Thing.*not currently configured to implement Durable Objects/);
  r = await bad(head + `[[durable_objects.bindings]]\nname = "T"\nclass_name = "Missing"\n[[migrations]]\ntag = "v1"\nnew_classes = ["Missing"]\n`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Missing.*not exported/);
  r = await bad(head + `[[durable_objects.bindings]]\nname = "T"\nclass_name = "Thing"\nscript_name = "elsewhere"\n`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /elsewhere/);
  assert.match(r.stderr, /durable serve/);
});

test("a service-worker script cannot define Durable Object classes (WRK-23): clear startup error", async () => {
  const d = makeProject({
    "wrangler.toml": `name = "sw"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\n[[durable_objects.bindings]]\nname = "THING"\nclass_name = "Thing"\n[[migrations]]\ntag = "v1"\nnew_classes = ["Thing"]\n`,
    "index.js": `addEventListener("fetch", (e) => e.respondWith(THING.get(THING.idFromName("a")).fetch(e.request)));`,
  });
  const r = await runDevExpectFailure(d);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /service-worker script.*cannot define Durable Object classes/);
});
