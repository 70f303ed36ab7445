// RPC by reference (spec objects.md RPC-9): functions and RpcTarget instances are
// passed as stubs that call back into the side that sent them, stubs of objects
// travel as stubs, and a reference passed to a call is disposed when the call ends.
// Runs with two shards so the calls cross threads.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";

const wrangler = `name = "refs"
main = "index.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "R"
class_name = "R"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["R"]
`;

const worker = String.raw`
import { DurableObject, RpcTarget } from "cloudflare:workers";
class Counter extends RpcTarget {
  #n = 0;
  constructor(start) { super(); this.#n = start; }
  add(k) { this.#n += k; return this.#n; }
  get value() { return this.#n; }
  async later(k) { await new Promise((r) => setTimeout(r, 5)); return this.#n * k; }
}
export class R extends DurableObject {
  async callBack(fn, x) { return (await fn(x)) + 1; }
  async callTwice(fns) { return [await fns.a(1), await fns.b(2)]; }
  makeCounter(start) { return new Counter(start); }
  keep(fn) { this.kept = fn; return "kept"; }
  async useKept() { return this.kept(1); }
  async viaStub(stub, name) { return stub.hello(name); }
  hello(name) { return "hello " + name + " from " + this.ctx.id.name; }
  giveFunction() { return (a, b) => a * b; }
  get size() { return 3; }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const s = env.R.getByName(u.searchParams.get("name") ?? "a");
    const out = {};
    const t = async (k, f) => { try { out[k] = await f(); } catch (e) { out[k] = "error: " + e.name + ": " + e.message; } };
    let calls = 0;
    await t("callBack", () => s.callBack((x) => { calls++; return x * 10; }, 4));
    out.calls = calls;
    await t("callBackAsync", () => s.callBack(async (x) => { await new Promise((r) => setTimeout(r, 5)); return x; }, 7));
    await t("nested", () => s.callTwice({ a: (x) => x + 100, b: (x) => x + 200 }));
    await t("counter", async () => { const c = await s.makeCounter(5); return [await c.add(2), await c.add(3), await c.value, await c.later(2)]; });
    await t("noSuchMethod", async () => { const c = await s.makeCounter(1); return c.missing(); });
    await t("kept", () => s.keep(() => "still here"));
    await t("disposed", () => s.useKept());
    await t("stub", () => s.viaStub(env.R.getByName("other"), "x"));
    await t("returnedFunction", async () => { const f = await s.giveFunction(); return f(6, 7); });
    await t("getter", async () => await s.size);
    await t("classInstance", () => s.callBack(new (class K {})(), 1));
    return Response.json(out);
  },
};
`;

let srv;
before(async () => {
  const dir = makeProject({ "wrangler.toml": wrangler, "index.js": worker });
  srv = await startDev(dir, ["--threads", "2"]);
});
after(async () => { await srv?.stop(); });

test("RPC-9 functions, RpcTargets and stubs go by reference; references die with their call", async () => {
  for (const name of ["a", "b", "c"]) {   // ids land on either shard
    const r = await fetch(`${srv.url}/?name=${name}`);
    assert.equal(r.status, 200);
    const j = await r.json();
    assert.equal(j.callBack, 41, "the object called the caller's function and used its result");
    assert.equal(j.calls, 1);
    assert.equal(j.callBackAsync, 8);
    assert.deepEqual(j.nested, [101, 202], "functions nested in an object argument");
    assert.deepEqual(j.counter, [7, 10, 10, 20], "an RpcTarget returned by the object keeps its state on the object's side");
    assert.match(j.noSuchMethod, /^error: TypeError: The RPC receiver does not implement the method "missing"/);
    assert.equal(j.kept, "kept");
    assert.match(j.disposed, /^error: Error: .*no longer available/, "a function passed to a call is disposed when the call ends");
    assert.equal(j.stub, "hello x from other", "a stub passed as an argument reaches its own object");
    assert.equal(j.returnedFunction, 42, "a function returned by the object calls back into it");
    assert.equal(j.getter, 3, "awaiting a property without calling it reads it (RPC-5)");
    assert.match(j.classInstance, /DataCloneError/, "instances of other classes still cannot be sent (RPC-10)");
  }
});

test("RPC-13 calls on a call's promise reach its result (pipelining)", async () => {
  const dir = makeProject({ "wrangler.toml": wrangler, "index.js": worker.replace("export default {", `export default {
  async pipe(env) {
    const s = env.R.getByName("pipe");
    const out = {};
    out.chained = await s.makeCounter(10).add(5);
    out.same = await (await s.makeCounter(10)).add(5);
    out.getter = await s.makeCounter(3).value;
    try { await s.hello("x").add(1); out.notObject = "no error"; } catch (e) { out.notObject = e.name + ": " + e.message; }
    try { await s.missing().add(1); out.firstThrows = "no error"; } catch (e) { out.firstThrows = e.name + ": " + e.message; }
    out.plain = await s.hello("y");
    return out;
  },`).replace("async fetch(req, env) {", "async fetch(req, env) {\n    if (new URL(req.url).pathname === '/pipe') return Response.json(await this.pipe(env));") });
  const s2 = await startDev(dir, ["--threads", "2"]);
  try {
    const j = await (await fetch(`${s2.url}/pipe`)).json();
    assert.equal(j.chained, 15);
    assert.equal(j.same, 15);
    assert.equal(j.getter, 3);
    assert.equal(j.notObject, "TypeError: Can't pipeline on RPC that did not return an object.");
    assert.match(j.firstThrows, /^TypeError: The RPC receiver does not implement the method "missing"/, "the first call's error reaches the pipelined call");
    assert.equal(j.plain, "hello y from pipe", "awaiting a plain result still works");
  } finally { await s2.stop(); }
});
