// An object's event that runs past the CPU limit (spec limits.md LIM-13, workers.md
// WRK-30, objects.md ERR-2/ERR-5, LIFE-7, LIFE-9; storage.md ALARM-8; websockets.md
// HIB-20): whatever part of the event loops — the handler itself, the constructor,
// a blockConcurrencyWhile callback, a promise reaction or a timer callback of the
// event, an alarm, a hibernatable socket's webSocketMessage — the event is aborted,
// its caller gets an Error (remote, durableObjectReset), the instance is reset (its
// memory starts over, its uncommitted writes are rolled back, its held outputs are
// dropped), and the other objects of the shard carry on with their state.
//
// Every call has a generous bound ("answers within 10 s"): without the fix most of
// these calls never answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";
import { connect } from "../ws/wsclient.mjs";

const wrangler = `name = "cpu"
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
globalThis.ctorMode = "";   // what the next constructor does (set by /ctor)
globalThis.alarmAttempts = [];
export class Obj extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.n = 0;
    const mode = globalThis.ctorMode;
    globalThis.ctorMode = "";
    if (mode === "loop") for (;;) {}
    if (mode === "bcw") ctx.blockConcurrencyWhile(() => { for (;;) {} });
    if (mode === "bcwAsync") ctx.blockConcurrencyWhile(async () => { for (;;) {} });
    if (mode === "bcwJob") ctx.blockConcurrencyWhile(() => new Promise(() => { Promise.resolve().then(() => { for (;;) {} }); }));
  }
  fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/ws") {
      const [client, server] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(server);
      return new Response(null, { status: 101, webSocket: client });
    }
    this.ctx.storage.kv.put("k", "lost");
    for (;;) {}
  }
  bump() { return ++this.n; }
  state() { return { n: this.n, k: this.ctx.storage.kv.get("k") ?? null, held: this.ctx.storage.kv.get("held") ?? null }; }
  spin() { this.n += 100; this.ctx.storage.kv.put("k", "lost"); for (;;) {} }
  hold() { this.ctx.storage.kv.put("held", "lost"); return "held"; }
  spinJob() {
    this.n += 100;
    this.ctx.storage.kv.put("k", "lost");
    return new Promise(() => { Promise.resolve().then(() => { for (;;) {} }); });
  }
  spinTimer() {
    this.n += 100;
    return new Promise((resolve) => setTimeout(() => { for (;;) {} }, 1));
  }
  async armAlarm() { await this.ctx.storage.setAlarm(Date.now() + 10); return "armed"; }
  alarmState() { return { attempts: globalThis.alarmAttempts, done: this.ctx.storage.kv.get("alarmDone") ?? null }; }
  alarm(info) {
    globalThis.alarmAttempts.push(info.retryCount);
    this.ctx.storage.kv.put("alarmDone", "lost");
    if (!info.isRetry) for (;;) {}
    this.ctx.storage.kv.put("alarmDone", info.retryCount);
  }
  webSocketMessage(ws, msg) {
    if (msg === "spin") { this.ctx.storage.kv.put("k", "lost"); for (;;) {} }
    ws.send("echo " + msg + " " + ++this.n);
  }
}
const outcome = async (p) => {
  try { return { value: await p }; }
  catch (e) { return { name: e.name, message: e.message, remote: e.remote, reset: e.durableObjectReset }; }
};
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const op = u.pathname.slice(1);
    if (op === "loop") for (;;) {}
    const stub = env.OBJ.get(env.OBJ.idFromName(u.searchParams.get("name")));
    if (op === "ws") return stub.fetch(req);
    if (op === "fetch") return Response.json(await outcome(stub.fetch("http://o/spin").then((r) => r.text())));
    if (op === "ctor") { globalThis.ctorMode = u.searchParams.get("mode"); return Response.json(await outcome(stub.bump())); }
    if (op === "held") {
      // Both calls reach the object in one delivery: hold()'s reply waits for its
      // write to commit, and spin() resets the object first.
      const a = outcome(stub.hold()), b = outcome(stub.spin());
      return Response.json([await a, await b]);
    }
    return Response.json(await outcome(stub[op]()));
  },
};
`;

let srv;
before(async () => {
  srv = await startDev(makeProject({ "wrangler.toml": wrangler, "index.js": worker }), ["--cpu-ms", "500"]);
});
after(async () => {
  const r = await srv?.stop();
  assert.equal(r?.code, 0, srv?.logs());   // a clean stop (the sanitizer build: no leak)
});

// GET path → JSON, or a failure if no answer within 10 s (the call hangs).
const get = async (path) => {
  const r = await fetch(srv.url + path, { signal: AbortSignal.timeout(10000) });
  assert.equal(r.status, 200, `${path}: ${r.status} ${await r.clone().text()}\n${srv.logs()}`);
  return r.json();
};

const assertCpuReset = (o, what) => {
  assert.equal(o.value, undefined, `${what}: the call succeeded: ${JSON.stringify(o)}`);
  assert.equal(o.name, "Error", JSON.stringify(o));
  assert.match(o.message, /Durable Object Obj exceeded its CPU time limit and was reset/, what);
  assert.equal(o.remote, true, what);
  assert.equal(o.reset, true, what);
};

// A second object on the same shard (--threads 1) keeps its memory and answers.
let bystander = 0;
const bystanderAnswers = async () => {
  const o = await get("/bump?name=bystander");
  assert.equal(o.value, ++bystander, "the other object of the shard lost its state");
};

test("a fetch handler that loops: the caller gets the reset error, the object starts over, writes rolled back", async () => {
  await bystanderAnswers();
  assert.equal((await get("/bump?name=f")).value, 1);
  assertCpuReset(await get("/fetch?name=f"), "fetch");
  await srv.waitForLog(/Durable Object Obj exceeded its CPU time limit and was reset/);
  assert.doesNotMatch(srv.logs(), /internal error in the objects layer/);
  assert.deepEqual((await get("/state?name=f")).value, { n: 0, k: null, held: null });
  await bystanderAnswers();
});

test("an RPC method that loops; the reply of an earlier call held behind its write is dropped", async () => {
  await bystanderAnswers();
  assert.equal((await get("/bump?name=r")).value, 1);
  assertCpuReset(await get("/spin?name=r"), "rpc");
  assert.deepEqual((await get("/state?name=r")).value, { n: 0, k: null, held: null });
  const [held, spun] = await get("/held?name=r");
  assertCpuReset(held, "held reply");
  assertCpuReset(spun, "rpc after a held reply");
  assert.deepEqual((await get("/state?name=r")).value, { n: 0, k: null, held: null });
  await bystanderAnswers();
});

// loop: the constructor; bcw: a blockConcurrencyWhile callback (sync, async, or a
// promise reaction it waits for) called by the constructor.
for (const mode of ["loop", "bcw", "bcwAsync", "bcwJob"]) {
  test(`a constructor that loops (${mode}) fails the event; the next one constructs again`, async () => {
    await bystanderAnswers();
    assertCpuReset(await get(`/ctor?name=c-${mode}&mode=${mode}`), `constructor (${mode})`);
    assert.equal((await get(`/bump?name=c-${mode}`)).value, 1, mode);
    assert.equal((await get(`/bump?name=c-${mode}`)).value, 2, mode);
    await bystanderAnswers();
  });
}

for (const op of ["spinJob", "spinTimer"]) {
  test(`a loop in a ${op === "spinJob" ? "promise reaction" : "timer callback"} of the event is charged to it`, async () => {
    await bystanderAnswers();
    assert.equal((await get(`/bump?name=${op}`)).value, 1);
    assertCpuReset(await get(`/${op}?name=${op}`), op);
    assert.deepEqual((await get(`/state?name=${op}`)).value, { n: 0, k: null, held: null });
    await bystanderAnswers();
  });
}

test("an alarm handler that loops counts as a failed attempt and is retried", async () => {
  await bystanderAnswers();
  assert.equal((await get("/armAlarm?name=a")).value, "armed");
  // The first attempt loops; the retry (2 s later, plus jitter) finishes.
  const deadline = Date.now() + 15000;
  let s;
  while (Date.now() < deadline) {
    s = (await get("/alarmState?name=a")).value;
    if (s.done !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(s, { attempts: [0, 1], done: 1 });
  await srv.waitForLog(/alarm\(\) failed \(attempt 1\)/);
  await bystanderAnswers();
});

test("webSocketMessage of a hibernatable socket that loops: the socket closes, the object starts over", async () => {
  await bystanderAnswers();
  const ws = await connect(srv.port, "/ws?name=w");
  ws.send("a");
  assert.equal(await ws.message(), "echo a 1");
  ws.send("spin");
  const ev = await ws.closed(10000);
  assert.equal(ev.type, "close", JSON.stringify(ev));
  assert.equal(ev.code, 1011);
  ws.destroy();
  const ws2 = await connect(srv.port, "/ws?name=w");
  ws2.send("b");
  assert.equal(await ws2.message(), "echo b 1");
  ws2.destroy();
  assert.deepEqual((await get("/state?name=w")).value, { n: 1, k: null, held: null });
  await bystanderAnswers();
});

test("a Worker request that loops gets 503; the objects of the shard carry on", async () => {
  await bystanderAnswers();
  const r = await fetch(srv.url + "/loop", { signal: AbortSignal.timeout(10000) });
  assert.equal(r.status, 503);
  await bystanderAnswers();
});
