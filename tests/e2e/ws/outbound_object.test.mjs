// Outbound WebSockets opened by a Durable Object obey its gates (spec
// websockets.md WS-16, objects.md GATE-1/2, GATE-6..9): sends, closes and the
// connection attempt made after a confirmed write wait for its commit and never
// happen if it fails; the socket's events are events of the object, so none runs
// while the object is inside a storage transaction or blockConcurrencyWhile.
// The far end is upstream.mjs; each case tags its connection with a query string.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { makeProject, startDev } from "../lib.mjs";
import { startUpstream } from "./upstream.mjs";

const worker = `
import { DurableObject } from "cloudflare:workers";
const opened = (ws) => new Promise((resolve, reject) => {
  ws.addEventListener("open", resolve);
  ws.addEventListener("error", (e) => reject(new Error(e.message)));
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export class Client extends DurableObject {
  constructor(ctx, env) { super(ctx, env); this.log = []; }
  async fetch(req) {
    const u = new URL(req.url);
    const up = "ws://127.0.0.1:" + u.searchParams.get("up") + "/echo?" + u.searchParams.get("tag");
    switch (u.pathname) {
      case "/sends": {   // a send before a write, two and a close after it
        const ws = new WebSocket(up);
        await opened(ws);
        const got = [];
        const echoed = new Promise((resolve) => { ws.onmessage = (e) => { got.push(e.data); if (got.length === 3) resolve(); }; });
        ws.send("before");
        this.ctx.storage.put("k", 1);
        ws.send("after-1");
        ws.send("after-2");
        await echoed;
        ws.close(1000, "done");
        return Response.json(got);
      }
      case "/fail": {    // the commit of this write fails (DURABLE_TEST_HOOKS=1)
        const ws = new WebSocket(up);
        await opened(ws);
        ws.send("before");
        if (u.searchParams.has("unconfirmed")) {
          this.ctx.storage.put("__durable_fail_commit__", 1, { allowUnconfirmed: true });
          ws.send("unconfirmed");
        } else {
          this.ctx.storage.put("__durable_fail_commit__", 1);
          ws.send("must never arrive");
          ws.close(1000, "must never close cleanly");
        }
        return new Response("sent");
      }
      case "/heldconnect": { // opened after a confirmed write: connects once it is committed
        this.ctx.storage.put("k", 2);
        const ws = new WebSocket(up);
        await opened(ws);
        const echoed = new Promise((resolve) => { ws.onmessage = (e) => resolve(e.data); });
        ws.send("held connect");
        const got = await echoed;
        ws.close(1000);
        return new Response(got);
      }
      case "/connect": { // opened after a write whose commit fails: never connects
        this.ctx.storage.put("__durable_fail_commit__", 1);
        new WebSocket(up);
        return new Response("opened");
      }
      case "/txnsend": { // a send inside a transaction, after its write
        const ws = new WebSocket(up);
        await opened(ws);
        const echoed = new Promise((resolve) => { ws.onmessage = (e) => resolve(e.data); });
        await this.ctx.storage.transaction(async (txn) => { await txn.put("x", 1); ws.send("in transaction"); });
        const got = await echoed;
        ws.close(1000);
        return new Response(got);
      }
      case "/closetimer": { // the upstream closes; the close handler starts a timer
        this.log = [];
        const ws = new WebSocket(up);
        await opened(ws);
        ws.onclose = (e) => { this.log.push("close " + e.code); setTimeout(() => this.log.push("timer"), 20); };
        ws.send("close:4000:bye");
        return new Response("closing");
      }
      case "/log": return Response.json(this.log);
      case "/bcwopen": { // the connection's answer reaches a blockConcurrencyWhile() that awaits it
        const ws = await this.ctx.blockConcurrencyWhile(async () => {
          const w = new WebSocket(up);
          await opened(w);
          return w;
        });
        const echoed = new Promise((resolve) => { ws.onmessage = (e) => resolve(e.data); });
        ws.send("after open");
        const got = await echoed;
        ws.close(1000);
        return new Response(got);
      }
      case "/open": {
        this.ws = new WebSocket(up);
        await opened(this.ws);
        this.ws.onmessage = (e) => this.log.push("message:" + e.data);
        return new Response("open");
      }
      case "/blocked": { // the echo comes back while the object is blocked
        this.log = [];
        const body = async (txn) => {
          this.log.push("start");
          this.ws.send("ping");
          if (txn) await txn.put("t", 1);
          // Long enough for the echo to come back: without the input gate its
          // event runs here and ends the wait early.
          for (let i = 0; i < 50 && !this.log.includes("message:ping"); i++) await sleep(20);
          if (txn) await txn.get("t");
          this.log.push("end");
        };
        if (u.searchParams.get("how") === "transaction") await this.ctx.storage.transaction(body);
        else await this.ctx.blockConcurrencyWhile(() => body(null));
        for (let i = 0; i < 500 && !this.log.includes("message:ping"); i++) await sleep(10);
        return Response.json(this.log);
      }
    }
    return new Response("not found", { status: 404 });
  }
}
export default {
  fetch(req, env) {
    const obj = new URL(req.url).searchParams.get("obj") ?? "a";
    return env.C.get(env.C.idFromName(obj)).fetch(req);
  },
};`;

let dir, srv, up;
before(async () => {
  up = await startUpstream();
  dir = makeProject({
    "wrangler.toml": 'name = "wsoutobj"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n' +
      '[[durable_objects.bindings]]\nname = "C"\nclass_name = "Client"\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Client"]\n',
    "src/index.js": worker,
  });
  srv = await startDev(dir, ["--threads", "2"], { env: { DURABLE_TEST_HOOKS: "1" } });
});
after(async () => {
  const r = await srv?.stop();
  await up?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r?.code, 0, srv?.logs());   // a clean stop (the sanitizer build: no leak)
});

const call = (path, q) => fetch(`${srv.url}${path}?up=${up.port}&${new URLSearchParams(q)}`);
const framesOf = (tag) => up.seen.filter((f) => f.query === tag).map((f) => (f.op === 1 ? f.text : "op" + f.op));
// Waits (bounded) until the upstream got a Close frame on the connection `tag`.
const closedAt = async (tag) => {
  for (let i = 0; i < 500 && !framesOf(tag).includes("op8"); i++) await new Promise((r) => setTimeout(r, 10));
  return framesOf(tag);
};

test("GATE-6: sends and a close after a confirmed write reach the peer, in order, once it is committed", async () => {
  const r = await call("/sends", { tag: "sends", obj: "sends" });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), ["before", "after-1", "after-2"]);
  assert.deepEqual(await closedAt("sends"), ["before", "after-1", "after-2", "op8"]);
});

test("GATE-6: a send inside a transaction, after its write, leaves once the transaction is committed", async () => {
  const r = await call("/txnsend", { tag: "txnsend", obj: "txnsend" });
  assert.equal(await r.text(), "in transaction");
  assert.deepEqual(await closedAt("txnsend"), ["in transaction", "op8"]);
});

test("GATE-8: a send and a close after a write whose commit fails never reach the peer; the reset closes the socket", async () => {
  const r = await call("/fail", { tag: "fail", obj: "fail" });
  assert.equal(r.status, 500, await r.text());
  // The object's reset closes the connection (1011); nothing held came before it.
  assert.deepEqual(await closedAt("fail"), ["before", "op8"]);
});

test("GATE-9: a send after an allowUnconfirmed write is not held", async () => {
  const r = await call("/fail", { tag: "unconfirmed", obj: "unconfirmed", unconfirmed: "1" });
  assert.equal(await r.text(), "sent");   // not held either
  assert.deepEqual(await closedAt("unconfirmed"), ["before", "unconfirmed", "op8"]);
});

test("GATE-6: new WebSocket(url) after a confirmed write connects once it is committed", async () => {
  assert.equal(await (await call("/heldconnect", { tag: "heldconnect", obj: "heldconnect" })).text(), "held connect");
  assert.deepEqual(await closedAt("heldconnect"), ["held connect", "op8"]);
});

test("GATE-6: new WebSocket(url) after a write whose commit fails never connects", async () => {
  const r = await call("/connect", { tag: "connect", obj: "connect" });
  assert.equal(r.status, 500, await r.text());
  // A connection opened afterwards (by the object, built again) does reach the peer.
  assert.equal((await call("/sends", { tag: "connect-after", obj: "connect" })).status, 200);
  assert.deepEqual(up.upgrades.filter((u) => u.includes("?connect")), ["/echo?connect-after"]);
});

for (const how of ["transaction", "blockConcurrencyWhile"]) {
  test(`GATE-1/2: an outbound socket's message is an event of its object, held while it is in ${how}()`, async () => {
    const obj = "blocked-" + how;
    assert.equal((await call("/open", { tag: obj, obj })).status, 200);
    const r = await call("/blocked", { tag: obj, obj, how });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), ["start", "end", "message:ping"]);
  });
}

test("an outbound socket's events are the object's: a timer its close handler starts outlives the socket", async () => {
  assert.equal(await (await call("/closetimer", { tag: "closetimer", obj: "closetimer" })).text(), "closing");
  let log = [];
  for (let i = 0; i < 100 && !log.includes("timer"); i++) {
    await new Promise((r) => setTimeout(r, 50));
    log = await (await call("/log", { obj: "closetimer" })).json();
  }
  assert.deepEqual(log, ["close 4000", "timer"]);
});

test("open is the answer to the event that opened the socket: awaiting it inside blockConcurrencyWhile() works", async () => {
  const r = await call("/bcwopen", { tag: "bcwopen", obj: "bcwopen" });
  assert.equal(await r.text(), "after open");
});
