// The gates around storage (spec objects.md GATE-3, GATE-6, GATE-8, GATE-9;
// storage.md ALARM-6 for evicted objects): a failed commit never lets a response
// claim success, nor an outbound fetch, a call to another object or a WebSocket
// message leave; allowUnconfirmed writes do not hold outputs, other I/O opens the
// input gate, and an alarm wakes an object that left memory.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startDev, makeProject } from "../lib.mjs";
import { connect } from "../ws/wsclient.mjs";

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
  // GATE-6/8: outbound calls after a write whose commit fails are never made.
  async fetchAfterFailingWrite(url) {
    this.ctx.storage.put("__durable_fail_commit__", 1);
    const r = await fetch(url);
    return "the request went out: " + r.status;
  }
  async callAfterFailingWrite(target, how) {
    this.ctx.storage.put("__durable_fail_commit__", 1);
    const stub = this.env.G.getByName(target);
    if (how === "rpc") await stub.remember("by rpc");
    else await stub.fetch("http://do/remember");
    return "the call went out";
  }
  async fetchAfterWrite(url) {
    await this.ctx.storage.put("written", "before the fetch");
    const r = await fetch(url);
    return await r.text();
  }
  async rpcAfterWrite(target) {
    this.ctx.storage.put("written", "before the call");
    return await this.env.G.getByName(target).remember("by rpc after a write");
  }
  async fetchInTransaction(url) {
    try {
      await this.ctx.storage.transaction(async (t) => { await t.put("t", 1); await fetch(url); });
      return "no error";
    } catch (e) { return e.message; }
  }
  async remember(v) { await this.ctx.storage.put("remembered", v); return "remembered " + v; }
  async fetch(req) {
    if (req.headers.get("Upgrade") === "websocket") {
      const [client, server] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(server);
      return new Response(null, { status: 101, webSocket: client });
    }
    await this.ctx.storage.put("remembered", "by stub.fetch");
    return new Response("remembered");
  }
  // Hibernatable sockets' sends are outputs too (WS-16).
  async webSocketMessage(ws, m) {
    if (m === "fail") { this.ctx.storage.put("__durable_fail_commit__", 1); ws.send("must never arrive"); }
    if (m === "ok") { this.ctx.storage.put("w", 1); ws.send("after the commit"); }
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
    if (req.headers.get("Upgrade") === "websocket") return stub.fetch(req);
    try {
      const r = await stub[u.pathname.slice(1)](...JSON.parse(u.searchParams.get("args") ?? "[]"));
      return Response.json({ ok: r });
    } catch (e) {
      return Response.json({ error: e.name + ": " + e.message, reset: e.durableObjectReset === true });
    }
  },
};
`;

let srv, upstream, upstreamUrl;
const seen = [];   // paths the upstream server was asked for
before(async () => {
  const dir = makeProject({ "wrangler.toml": wrangler, "index.js": worker });
  srv = await startDev(dir, ["--idle-timeout-ms", "300"], { env: { DURABLE_TEST_HOOKS: "1" } });
  upstream = http.createServer((req, res) => { seen.push(req.url); res.end("upstream saw " + req.url); });
  await new Promise((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;
});
after(async () => { await srv?.stop(); upstream?.close(); });

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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("GATE-6/8 an outbound fetch made after a write whose commit fails is never sent", async () => {
  const r = await call("fetchAfterFailingWrite", "out-fetch", [upstreamUrl + "/must-not-arrive"]);
  assert.equal(r.reset, true, `the caller gets the reset error, got ${JSON.stringify(r)}`);
  // A bound, not a timing claim: the request had every chance to arrive by now.
  await sleep(300);
  assert.ok(!seen.includes("/must-not-arrive"), `the upstream server saw ${JSON.stringify(seen)}`);
});

test("GATE-6/8 calls to other objects (RPC and stub.fetch) after a failing write are never made", async () => {
  for (const how of ["rpc", "fetch"]) {
    const target = "out-target-" + how;
    const r = await call("callAfterFailingWrite", "out-call-" + how, [target, how]);
    assert.equal(r.reset, true, `${how}: the caller gets the reset error, got ${JSON.stringify(r)}`);
    await sleep(200);
    assert.equal((await call("read", target, ["remembered"])).ok, "<undefined>", `${how}: the call reached the other object`);
  }
});

test("GATE-6 an outbound fetch and an RPC call after a committed write go out once it is durable", async () => {
  assert.deepEqual(await call("fetchAfterWrite", "out-ok", [upstreamUrl + "/after-write"]), { ok: "upstream saw /after-write" });
  assert.ok(seen.includes("/after-write"));
  assert.equal((await call("read", "out-ok", ["written"])).ok, "before the fetch");
  assert.deepEqual(await call("rpcAfterWrite", "out-ok2", ["out-ok2-target"]), { ok: "remembered by rpc after a write" });
  assert.equal((await call("read", "out-ok2-target", ["remembered"])).ok, "by rpc after a write");
});

test("GATE-6 a fetch inside storage.transaction() after a write fails with a clear error instead of waiting forever", async () => {
  const r = await call("fetchInTransaction", "out-txn", [upstreamUrl + "/in-txn"]);
  assert.match(r.ok, /inside storage\.transaction\(\) after a write/);
  assert.ok(!seen.includes("/in-txn"));
});

test("WS-16 a hibernatable socket's send after a write waits for the commit, and never arrives if it fails", async () => {
  const a = await connect(srv.port, "/?name=ws-ok", { headers: {} });
  a.send("ok");
  assert.equal(await a.message(), "after the commit");
  a.destroy();
  const b = await connect(srv.port, "/?name=ws-fail");
  b.send("fail");
  const ev = await b.next();
  assert.equal(ev.type, "close", `expected the reset's close, got ${JSON.stringify(ev)}`);
  assert.equal(ev.code, 1011);
  b.destroy();
});

test("GATE-6 a fetch after a write reaches the server only once the write is durable: killed (SIGKILL) when the request arrives, the restarted object has it", async () => {
  const dir = makeProject({ "wrangler.toml": wrangler, "index.js": worker });
  let s = await startDev(dir, ["--durability", "power"]);
  let arrived = false;
  const killer = http.createServer((req, res) => {
    arrived = true;
    s.proc.kill("SIGKILL");   // at the moment the request is seen: nothing after it may count
    res.end("too late");
  });
  await new Promise((r) => killer.listen(0, "127.0.0.1", r));
  try {
    const target = `http://127.0.0.1:${killer.address().port}/kill`;
    await fetch(`${s.url}/fetchAfterWrite?name=killed&args=${encodeURIComponent(JSON.stringify([target]))}`).catch(() => {});
    assert.equal(arrived, true);
    await s.exited;
    s = await startDev(dir, ["--durability", "power"]);
    const r = await fetch(`${s.url}/read?name=killed&args=${encodeURIComponent(JSON.stringify(["written"]))}`);
    assert.deepEqual(await r.json(), { ok: "before the fetch" });
  } finally {
    killer.close();
    await s.stop();
  }
});
