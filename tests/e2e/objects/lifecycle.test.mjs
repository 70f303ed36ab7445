// An object's life across failures (spec objects.md LIFE-3; storage.md ALARM-8):
// - an alarm that fires into an object whose constructor throws counts as a failed
//   attempt and is retried (it used to stay marked running until a restart: never
//   delivered again).
//
// Module globals outlive an instance (same isolate): `marks` records what ran.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";

const wrangler = `name = "life"
main = "index.js"
compatibility_date = "2026-01-01"

[[durable_objects.bindings]]
name = "OBJ"
class_name = "Obj"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Obj"]
`;

const worker = `
import { DurableObject } from "cloudflare:workers";
globalThis.marks = [];
globalThis.ctorFails = 0;
const mark = (m) => globalThis.marks.push(m);
export class Obj extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    if (globalThis.ctorFails > 0) { globalThis.ctorFails--; mark("ctor-threw"); throw new Error("constructor failed on purpose"); }
    this.n = 0;
  }
  bump() { return ++this.n; }
  // Sets an alarm (committed), makes the next n constructors throw, and resets
  // this instance, so that the alarm fires into a new one.
  async armThenReset(n, mode) {
    globalThis.alarmMode = mode;
    await this.ctx.storage.setAlarm(Date.now() + 300);
    await this.ctx.storage.sync();
    globalThis.ctorFails = n;
    this.ctx.abort("reset after arming");
  }
  async armAlarm(mode) {
    globalThis.alarmMode = mode;
    await this.ctx.storage.setAlarm(Date.now() + 10);
    return "armed";
  }
  async alarm(info) {
    mark("alarm " + info.retryCount + " " + info.isRetry);
    if (globalThis.alarmMode === "abort" && !info.isRetry) this.ctx.abort("alarm aborted");
    if (globalThis.alarmMode === "abortNoRetry") this.ctx.abort("alarm aborted, no retry", { retryAlarm: false });
  }
  async getAlarm() { return await this.ctx.storage.getAlarm(); }
  async tryCatch() {
    try {
      this.ctx.abort("aborted in try");
      mark("after abort");
    } catch (e) {
      mark("caught " + e.message);
    } finally {
      mark("finally");
    }
    mark("after try");
    return "returned";
  }
  syncTryCatch() {
    try { this.ctx.abort(); } catch { mark("sync caught"); }
    mark("sync after");
    return "returned";
  }
  async inner() { await null; this.ctx.abort("aborted deeper"); }
  async awaitCatch() {
    try { await this.inner(); } catch (e) { mark("await caught " + e.message); }
    mark("await after");
    return "returned";
  }
  async promiseCatch() {
    // A .catch() handler is called with the error (not a catch block), and the
    // instance is gone all the same.
    const seen = await this.inner().catch((e) => e.message);
    mark("promise saw " + seen);
    return seen;
  }
  hang() { return new Promise(() => {}); }
}
const outcome = async (p) => {
  try { return { value: await p }; }
  catch (e) { return { name: e.name, message: e.message, remote: e.remote, reset: e.durableObjectReset }; }
};
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const op = u.pathname.slice(1);
    if (op === "marks") { const m = globalThis.marks; globalThis.marks = []; return Response.json(m); }
    const stub = env.OBJ.get(env.OBJ.idFromName(u.searchParams.get("name")));
    const args = JSON.parse(u.searchParams.get("args") || "[]");
    if (op === "inflight") {
      // hang() is in flight when tryCatch() aborts: both fail with the reason.
      const a = outcome(stub.hang());
      await new Promise((r) => setTimeout(r, 50));
      return Response.json([await outcome(stub.tryCatch()), await a]);
    }
    return Response.json(await outcome(stub[op](...args)));
  },
};
`;

let srv;
before(async () => {
  srv = await startDev(makeProject({ "wrangler.toml": wrangler, "index.js": worker }));
});
after(async () => {
  const r = await srv?.stop();
  assert.equal(r?.code, 0, srv?.logs());
});

const get = async (path) => {
  const r = await fetch(srv.url + path, { signal: AbortSignal.timeout(10000) });
  assert.equal(r.status, 200, `${path}: ${r.status} ${await r.clone().text()}\n${srv.logs()}`);
  return r.json();
};
const call = (name, op, ...args) => get(`/${op}?name=${name}&args=${encodeURIComponent(JSON.stringify(args))}`);
const marks = () => get("/marks");
const assertReset = (o, message, what) => {
  assert.equal(o.value, undefined, `${what}: the call succeeded: ${JSON.stringify(o)}`);
  assert.equal(o.message, message, `${what}: ${JSON.stringify(o)}`);
  assert.equal(o.reset, true, `${what}: not durableObjectReset: ${JSON.stringify(o)}`);
  assert.equal(o.remote, true, what);
};
// Polls `fn` until it returns something truthy (each poll is a request; the
// bound is generous: without the fixes the state never comes).
const until = async (fn, what, tries = 150) => {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}: never happened\n${srv.logs()}`);
};

test("an alarm whose object's constructor throws is a failed attempt, retried: alarm() runs as retry 1", async () => {
  await marks();
  assertReset(await call("ctor", "armThenReset", 1, "ok"), "reset after arming", "armThenReset");
  const seen = [];
  await until(async () => { seen.push(...await marks()); return seen.some((m) => m.startsWith("alarm ")); }, "the alarm after a constructor failure");
  assert.deepEqual(seen, ["ctor-threw", "alarm 1 true"]);
  await srv.waitForLog(/alarm not delivered, the object failed before alarm\(\) ran \(attempt 1\): Error: constructor failed on purpose/);
  assert.equal((await call("ctor", "getAlarm")).value, null, "the alarm was not cleared after it ran");
});
