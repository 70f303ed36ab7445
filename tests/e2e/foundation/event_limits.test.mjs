// Limits that belong to an event (spec workers.md WRK-30, WRK-31; limits.md LIM-13,
// LIM-14; objects.md LIFE-7): CPU counted across every turn of a request, an RPC
// call or an alarm; timers owned by their request (or by their object); a context
// re-created after it ran out of memory; a shutdown that does not wait forever on a
// busy shard; log lines that say "Uncaught" once.
//
// The busy loops spin on the wall clock, so they use at most that much CPU each:
// every single turn stays under the limit, only their sum passes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";

const toml = `name = "t"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`;
const objToml = `${toml}
[[durable_objects.bindings]]
name = "OBJ"
class_name = "Obj"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Obj"]
`;

// Up to 40 turns of 300 ms (wall) under a 1000 ms budget: with the budget counted per
// event the sum passes it (after ~4 turns on an idle machine, later on a loaded one
// where a turn gets less CPU than wall time); counted per turn, all 40 pass.
const spin = `const spin = (ms) => { const end = Date.now() + ms; while (Date.now() < end) {} };
const tick = () => new Promise((r) => setTimeout(r, 1));`;

test("CPU is counted across the turns of a request: loops separated by awaits get 503", async () => {
  const dir = makeProject({ "wrangler.toml": toml, "index.js": `${spin}
    export default { async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/turns") { for (let i = 0; i < 40; i++) { spin(300); await tick(); } return new Response("finished"); }
      if (path === "/interval") {
        // A timer's callbacks count against the request that made it.
        await new Promise((done) => { let n = 0; const t = setInterval(() => { spin(300); if (++n === 40) { clearInterval(t); done(); } }, 1); });
        return new Response("finished");
      }
      if (path === "/light") { for (let i = 0; i < 3; i++) { spin(50); await tick(); } return new Response("light"); }
      return new Response("alive");
    } };` });
  const srv = await startDev(dir, ["--cpu-ms", "1000"]);
  try {
    let r = await fetch(srv.url + "/turns");
    assert.equal(r.status, 503);
    await srv.waitForLog(/GET \/turns: .*CPU limit of 1000 ms/);
    r = await fetch(srv.url + "/interval");
    assert.equal(r.status, 503);
    await srv.waitForLog(/GET \/interval: .*CPU limit of 1000 ms/);
    // Each request has its own budget: light ones pass, the server keeps serving.
    r = await fetch(srv.url + "/light");
    assert.equal(await r.text(), "light");
    assert.equal(await (await fetch(srv.url + "/")).text(), "alive");
  } finally { await srv.stop(); }
});

test("a request's timers end with it; waitUntil keeps them until its promises settle", async () => {
  const dir = makeProject({ "wrangler.toml": toml, "index.js": `
    globalThis.ticks = 0; globalThis.held = 0;
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    export default { async fetch(req, env, ctx) {
      const path = new URL(req.url).pathname;
      if (path === "/start") { setInterval(() => { globalThis.ticks++; }, 5); return new Response("started"); }
      if (path === "/held") {
        setInterval(() => { globalThis.held++; }, 5);
        ctx.waitUntil(wait(150));
        return new Response("held");
      }
      if (path === "/watch") {
        // Sampled inside this request, 300 ms apart (its own timer).
        const a = globalThis.ticks; await wait(300); const b = globalThis.ticks;
        return Response.json({ a, b, held: globalThis.held });
      }
      return new Response("?");
    } };` });
  const srv = await startDev(dir);
  try {
    assert.equal(await (await fetch(srv.url + "/start")).text(), "started");
    assert.equal(await (await fetch(srv.url + "/held")).text(), "held");
    const w = await (await fetch(srv.url + "/watch")).json();
    // The interval of /start ended with its response (it may have fired before).
    assert.equal(w.b, w.a, `the interval kept running after its request: ${JSON.stringify(w)}`);
    // /held's interval ran while its waitUntil promise was pending (150 ms at 5 ms).
    assert.ok(w.held > 0, JSON.stringify(w));
    const w2 = await (await fetch(srv.url + "/watch")).json();
    assert.equal(w2.held, w.held, "the interval outlived the waitUntil work");
  } finally { await srv.stop(); }
});

test("after an out-of-memory error the Worker's context is re-created, with a warn line", async () => {
  const dir = makeProject({ "wrangler.toml": objToml, "index.js": `
    import { DurableObject } from "cloudflare:workers";
    const keep = [];
    export class Obj extends DurableObject {
      n = 0;
      bump() { return ++this.n; }
    }
    export default { async fetch(req, env) {
      const path = new URL(req.url).pathname;
      const stub = env.OBJ.get(env.OBJ.idFromName("a"));
      if (path === "/fill") { for (;;) keep.push(new Array(100000).fill(1)); }
      if (path === "/bump") return new Response(String(await stub.bump()));
      if (path === "/big") return new Response(String(new Array(2000000).fill(1).length + keep.length));
      return new Response("alive");
    } };` });
  const srv = await startDev(dir, ["--memory-mb", "48"]);
  try {
    assert.equal(await (await fetch(srv.url + "/bump")).text(), "1");
    assert.equal(await (await fetch(srv.url + "/bump")).text(), "2");
    assert.equal((await fetch(srv.url + "/fill")).status, 500);
    await srv.waitForLog(/warn[^\n]*heap reached its limit of 48 MiB; resetting its context/i);
    await srv.waitForLog(/context was re-created/);
    // The module array that filled the heap is gone: a request that needs 32 MB works.
    const r = await fetch(srv.url + "/big");
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "2000000");
    // The object on that shard was reset with the context: its memory starts over.
    assert.equal(await (await fetch(srv.url + "/bump")).text(), "1");
  } finally { await srv.stop(); }
});

test("objects: an RPC call's and an alarm's CPU are counted across turns; object timers live with the instance", async () => {
  const dir = makeProject({ "wrangler.toml": objToml, "index.js": `${spin}
    import { DurableObject } from "cloudflare:workers";
    let ticks = 0;
    export class Obj extends DurableObject {
      n = 0;
      bump() { return ++this.n; }
      async heavy() { for (let i = 0; i < 40; i++) { spin(300); await tick(); } return "finished"; }
      startTicking() { setInterval(() => { ticks++; }, 5); return "ticking"; }
      ticks() { return ticks; }
      boom() { this.ctx.abort("stop"); }
      async armAlarm() { await this.ctx.storage.setAlarm(Date.now() + 10); return "armed"; }
      async alarm() { for (let i = 0; i < 40; i++) { spin(300); await tick(); } }
    }
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    export default { async fetch(req, env) {
      const path = new URL(req.url).pathname;
      const stub = (n) => env.OBJ.get(env.OBJ.idFromName(n));
      if (path === "/bump") return new Response(String(await stub("cpu").bump()));
      if (path === "/heavy") {
        try { return new Response(await stub("cpu").heavy()); }
        catch (e) { return Response.json({ message: e.message, remote: e.remote, reset: e.durableObjectReset }); }
      }
      if (path === "/alarm") return new Response(await stub("alarm").armAlarm());
      if (path === "/timers") {
        const s = stub("timers");
        await s.startTicking();
        const a = await s.ticks(); await wait(200); const b = await s.ticks();
        try { await s.boom(); } catch {}
        const c = await stub("timers").ticks(); await wait(200); const d = await stub("timers").ticks();
        return Response.json({ a, b, c, d });
      }
      return new Response("?");
    } };` });
  const srv = await startDev(dir, ["--cpu-ms", "1000"]);
  try {
    assert.equal(await (await fetch(srv.url + "/bump")).text(), "1");
    assert.equal(await (await fetch(srv.url + "/bump")).text(), "2");
    const h = await (await fetch(srv.url + "/heavy")).json();
    assert.match(h.message, /exceeded its CPU time limit/);
    assert.equal(h.remote, true);
    assert.equal(h.reset, true);
    await srv.waitForLog(/Durable Object Obj exceeded its CPU time limit and was reset/);
    // The instance was reset: its memory starts over.
    assert.equal(await (await fetch(srv.url + "/bump")).text(), "1");

    // An object's timer outlives the call that made it and ends with the instance.
    const t = await (await fetch(srv.url + "/timers")).json();
    assert.ok(t.b > t.a, `the object's interval stopped with its call: ${JSON.stringify(t)}`);
    assert.equal(t.d, t.c, `the interval survived the reset: ${JSON.stringify(t)}`);

    assert.equal(await (await fetch(srv.url + "/alarm")).text(), "armed");
    await srv.waitForLog(/alarm\(\) failed \(attempt 1\): InternalError: interrupted/, 20000);
    // The second reset of the test: the alarm's object.
    await srv.waitForLog(/exceeded its CPU time limit and was reset[\s\S]*exceeded its CPU time limit and was reset/, 20000);
  } finally { await srv.stop(); }
});

test("SIGTERM does not wait forever on a shard stuck in JavaScript", { timeout: 60000 }, async () => {
  const dir = makeProject({ "wrangler.toml": toml, "index.js": `
    export default { fetch(req) { console.log("spinning"); for (;;) {} } };` });
  const srv = await startDev(dir, ["--cpu-ms", "300000"]);
  const pending = fetch(srv.url + "/").catch(() => null);
  await srv.waitForLog(/spinning/);
  srv.proc.kill("SIGTERM");
  // The grace period is 10 s; then the shard is interrupted, and abandoned 3 s
  // later at the latest. Without that the loop runs for the 300 s CPU limit.
  const deadline = new Promise((r) => setTimeout(() => r("still running"), 40000));
  const res = await Promise.race([srv.exited, deadline]);
  if (res === "still running") srv.proc.kill("SIGKILL");
  assert.notEqual(res, "still running", `durable did not exit after SIGTERM; stderr:\n${srv.logs()}`);
  assert.match(srv.logs(), /has not stopped within the grace period; interrupting/);
  await pending;
});

test("SIGTERM does not wait forever on a shard stuck in SQLite", { timeout: 60000 }, async () => {
  const dir = makeProject({ "wrangler.toml": objToml, "index.js": `
    import { DurableObject } from "cloudflare:workers";
    export class Obj extends DurableObject {
      spin() {
        console.log("querying");
        return this.ctx.storage.sql.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c").one().n;
      }
    }
    export default { async fetch(req, env) { return new Response(String(await env.OBJ.get(env.OBJ.idFromName("a")).spin())); } };` });
  const srv = await startDev(dir, ["--cpu-ms", "300000"]);
  const pending = fetch(srv.url + "/").catch(() => null);
  await srv.waitForLog(/querying/);
  srv.proc.kill("SIGTERM");
  const deadline = new Promise((r) => setTimeout(() => r("still running"), 40000));
  const res = await Promise.race([srv.exited, deadline]);
  if (res === "still running") srv.proc.kill("SIGKILL");
  assert.notEqual(res, "still running", `durable did not exit after SIGTERM; stderr:\n${srv.logs()}`);
  // Either the query was stopped (a progress handler that sees the stop) and the
  // shard stopped, or it was abandoned with a line that says so (exit code 1).
  if (res.code !== 0) {
    assert.equal(res.code, 1);
    assert.match(srv.logs(), /shard 0 is stuck and did not stop; exiting without it/);
  }
  await pending;
});

test("an uncaught non-Error is logged with one 'Uncaught'", async () => {
  const dir = makeProject({ "wrangler.toml": toml, "index.js": `
    export default { fetch(req) { throw "plain string"; } };` });
  const srv = await startDev(dir);
  try {
    assert.equal((await fetch(srv.url + "/")).status, 500);
    await srv.waitForLog(/GET \/: Uncaught plain string/);
    assert.doesNotMatch(srv.logs(), /Uncaught Uncaught/);
  } finally { await srv.stop(); }
});
