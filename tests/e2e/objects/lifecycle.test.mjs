// An object's life across failures (spec objects.md LIFE-3, LIFE-12; storage.md
// ALARM-8, ALARM-9):
// - an alarm that fires into an object whose constructor throws counts as a failed
//   attempt and is retried (it used to stay marked running until a restart: never
//   delivered again);
// - ctx.abort(reason) cannot be caught: code after it, its catch and finally blocks
//   do not run, even across an await; the instance starts over; the current and
//   in-flight calls fail with `reason` (durableObjectReset); an alarm it interrupts
//   is retried, unless abort was given { retryAlarm: false }, which deletes it.
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

test("ctx.abort() in try/catch/finally: nothing after it runs, the caller gets the reason, the instance starts over", async () => {
  await marks();
  assert.equal((await call("a", "bump")).value, 1);
  assert.equal((await call("a", "bump")).value, 2);
  assertReset(await call("a", "tryCatch"), "aborted in try", "tryCatch");
  assert.deepEqual(await marks(), [], "code after abort(), its catch or finally ran");
  assert.equal((await call("a", "bump")).value, 1, "the instance kept its memory");
  await srv.waitForLog(/Durable Object Obj was aborted \(ctx\.abort\(\)\): aborted in try/);
});

test("ctx.abort() in a synchronous handler: its catch does not run; the default reason", async () => {
  await marks();
  assertReset(await call("s", "syncTryCatch"), "Durable Object was aborted.", "syncTryCatch");
  assert.deepEqual(await marks(), []);
  assert.equal((await call("s", "bump")).value, 1);
});

test("ctx.abort() in an awaited async method: the awaiting try/catch does not catch it", async () => {
  await marks();
  assert.equal((await call("w", "bump")).value, 1);
  assertReset(await call("w", "awaitCatch"), "aborted deeper", "awaitCatch");
  assert.deepEqual(await marks(), []);
  assert.equal((await call("w", "bump")).value, 1);
});

test("ctx.abort() seen through a promise's .catch(): the instance is reset all the same", async () => {
  await marks();
  assert.equal((await call("p", "bump")).value, 1);
  assertReset(await call("p", "promiseCatch"), "aborted deeper", "promiseCatch");
  assert.equal((await call("p", "bump")).value, 1);
});

test("ctx.abort(): a call in flight fails with the reason too", async () => {
  const [aborting, inflight] = await get("/inflight?name=f");
  assertReset(aborting, "aborted in try", "the aborting call");
  assertReset(inflight, "aborted in try", "the call in flight");
});

test("an alarm interrupted by ctx.abort() is retried (ALARM-9)", async () => {
  await marks();
  assert.equal((await call("r", "armAlarm", "abort")).value, "armed");
  const seen = [];
  await until(async () => { seen.push(...await marks()); return seen.includes("alarm 1 true"); }, "the retry of the aborted alarm");
  assert.deepEqual(seen, ["alarm 0 false", "alarm 1 true"]);
  assert.equal((await call("r", "getAlarm")).value, null);
});

test("ctx.abort(reason, { retryAlarm: false }) in alarm(): not retried, the alarm is deleted", async () => {
  await marks();
  assert.equal((await call("n", "armAlarm", "abortNoRetry")).value, "armed");
  await srv.waitForLog(/alarm dropped \(ctx\.abort\(\) with retryAlarm: false\)/);
  assert.equal((await call("n", "getAlarm")).value, null, "the alarm is still stored");
  assert.deepEqual(await marks(), ["alarm 0 false"]);
});
