// The gates around storage (spec objects.md GATE-3, GATE-8, GATE-9; storage.md
// ALARM-6 for evicted objects): a failed commit never lets a response claim
// success, allowUnconfirmed writes do not hold outputs, other I/O opens the input
// gate, and an alarm wakes an object that left memory.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";

const wrangler = `name = "gates"
main = "index.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "G"
class_name = "G"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["G"]
`;

const worker = String.raw`
import { DurableObject } from "cloudflare:workers";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export class G extends DurableObject {
  constructor(ctx, env) { super(ctx, env); this.born = (globalThis.births = (globalThis.births ?? 0) + 1); }
  // The write of the special key makes the commit fail (DURABLE_TEST_HOOKS=1).
  async failing() {
    await this.ctx.storage.put("x", 1);
    await this.ctx.storage.put("__durable_fail_commit__", 1);
    return "this must never reach the caller";
  }
  async failingUnconfirmed() {
    await this.ctx.storage.put("__durable_fail_commit__", 1, { allowUnconfirmed: true });
    return "sent before the commit";
  }
  async read(k) { const v = await this.ctx.storage.get(k); return v === undefined ? "<undefined>" : v; }
  born_() { return this.born; }
  async slowIncrement() {
    const n = (await this.ctx.storage.get("n")) ?? 0;
    this.readers = (this.readers ?? 0) + 1;
    // Timers open the input gate (GATE-3): wait on them until the other request has
    // read too (bounded), so the interleaving does not depend on arrival times.
    for (let i = 0; this.readers < 2 && i < 1000; i++) await sleep(5);
    await this.ctx.storage.put("n", n + 1);
    return n + 1;
  }
  async arm(ms) { await this.ctx.storage.setAlarm(Date.now() + ms); return "armed"; }
  async alarm(info) {
    await this.ctx.storage.put("alarmed", { born: this.born, retryCount: info.retryCount });
    console.log("alarm ran in instance " + this.born);
  }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const stub = env.G.getByName(u.searchParams.get("name") ?? "a");
    try {
      const r = await stub[u.pathname.slice(1)](...JSON.parse(u.searchParams.get("args") ?? "[]"));
      return Response.json({ ok: r });
    } catch (e) {
      return Response.json({ error: e.name + ": " + e.message, reset: e.durableObjectReset === true });
    }
  },
};
`;

let srv;
before(async () => {
  const dir = makeProject({ "wrangler.toml": wrangler, "index.js": worker });
  srv = await startDev(dir, ["--idle-timeout-ms", "300"], { env: { DURABLE_TEST_HOOKS: "1" } });
});
after(async () => { await srv?.stop(); });

const call = async (method, name, args = []) => {
  const r = await fetch(`${srv.url}/${method}?name=${encodeURIComponent(name)}&args=${encodeURIComponent(JSON.stringify(args))}`);
  assert.equal(r.status, 200);
  return r.json();
};

test("GATE-8 a response produced after a write whose commit fails never reaches the caller", async () => {
  const before = await call("born_", "fail");
  const r = await call("failing", "fail");
  assert.ok(r.error, `the caller must get an error, got ${JSON.stringify(r)}`);
  assert.match(r.error, /SQLITE_FULL|commit failed/);
  assert.equal(r.reset, true, "the error says the object was reset");
  assert.equal((await call("read", "fail", ["x"])).ok, "<undefined>", "nothing of the failed commit is stored");
  assert.notEqual((await call("born_", "fail")).ok, before.ok, "a new instance serves the next call");
});

test("GATE-9 a reply after an allowUnconfirmed write is not held back by it", async () => {
  const r = await call("failingUnconfirmed", "unconfirmed");
  assert.deepEqual(r, { ok: "sent before the commit" });
});

test("GATE-3 awaiting a timer opens the input gate: concurrent read-modify-write can lose updates", async () => {
  const results = await Promise.all([call("slowIncrement", "race"), call("slowIncrement", "race")]);
  assert.deepEqual(results.map((r) => r.ok), [1, 1], "both read 0 before either wrote");
  assert.equal((await call("read", "race", ["n"])).ok, 1);
});

test("ALARM-6 an alarm wakes an object that was evicted from memory", async () => {
  const born = (await call("born_", "sleeper")).ok;
  assert.equal((await call("arm", "sleeper", [1500])).ok, "armed");
  await srv.waitForLog(/alarm ran in instance/, 15000);
  const stored = (await call("read", "sleeper", ["alarmed"])).ok;
  assert.equal(stored.retryCount, 0);
  assert.notEqual(stored.born, born, "the alarm ran in a new instance: the first one had been evicted (idle 300 ms)");
});
