// The Hibernation API's calls (HIB-1..16) on a room object: ctx.acceptWebSocket with
// tags, getWebSockets(tag), getTags, webSocketMessage/webSocketClose/webSocketError,
// attachments, the auto-response (answered without calling the object) and its
// timestamp, the event-timeout setting, and the argument errors. The object is not
// evicted while sockets are open yet (docs/websockets.md), so nothing here proves a
// rebuilt instance.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { makeProject, startDev } from "../lib.mjs";
import { connect, frame, OP } from "./wsclient.mjs";

const worker = `
import { DurableObject } from "cloudflare:workers";
export class Room extends DurableObject {
  constructor(ctx, env) { super(ctx, env); this.calls = 0; }
  fetch(req) {
    const u = new URL(req.url);
    const name = u.searchParams.get("name");
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server, [name, "room", "room"]);
    server.serializeAttachment({ name, joined: 1 });
    server.addEventListener("message", () => { globalThis.listenerRan = true; });
    return new Response(null, { status: 101, webSocket: client });
  }
  async webSocketMessage(ws, msg) {
    this.calls++;
    const me = ws.deserializeAttachment();
    if (msg === "who") { ws.send(JSON.stringify(this.ctx.getWebSockets("room").map((w) => w.deserializeAttachment().name))); return; }
    if (msg === "tags") { ws.send(JSON.stringify(this.ctx.getTags(ws))); return; }
    if (msg === "calls") { ws.send(String(this.calls) + " " + String(globalThis.listenerRan ?? false)); return; }
    if (msg === "stamp") { const t = this.ctx.getWebSocketAutoResponseTimestamp(ws); ws.send(t === null ? "null" : String(t instanceof Date)); return; }
    if (msg === "auto") {
      this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping!", "pong!"));
      const p = this.ctx.getWebSocketAutoResponse();
      ws.send("auto " + p.request + " " + p.getResponse()); return;
    }
    if (msg === "errors") { ws.send(JSON.stringify(errors(this.ctx, ws))); return; }
    if (msg.startsWith("to:")) { for (const w of this.ctx.getWebSockets(msg.slice(3))) w.send("private from " + me.name); return; }
    await this.ctx.storage.put("last", msg);
    for (const w of this.ctx.getWebSockets("room")) w.send(me.name + ": " + msg);
  }
  webSocketClose(ws, code, reason, wasClean) {
    const me = ws.deserializeAttachment();
    ws.close(code, reason); // already answered by the runtime: ignored
    for (const w of this.ctx.getWebSockets()) w.send(me.name + " left " + code + " " + wasClean);
  }
  webSocketError(ws, err) {
    for (const w of this.ctx.getWebSockets()) if (w !== ws) w.send("error " + /protocol/.test(err.message));
  }
}
function errors(ctx, ws) {
  const out = {};
  const t = (name, f) => { try { f(); out[name] = "no error"; } catch (e) { out[name] = e.name + ": " + e.message; } };
  const pair = () => Object.values(new WebSocketPair());
  t("acceptAfterAccept", () => { const [, s] = pair(); s.accept(); ctx.acceptWebSocket(s); });
  t("acceptAfterHibernate", () => { const [, s] = pair(); ctx.acceptWebSocket(s); s.accept(); });
  t("elevenTags", () => { const [, s] = pair(); ctx.acceptWebSocket(s, Array.from({ length: 11 }, (_, i) => "t" + i)); });
  t("longTag", () => { const [, s] = pair(); ctx.acceptWebSocket(s, ["x".repeat(257)]); });
  t("tagsOfPlain", () => { const [, s] = pair(); ctx.getTags(s); });
  t("bigAttachment", () => ws.serializeAttachment("x".repeat(20000)));
  t("cloneError", () => ws.serializeAttachment(() => 1));
  t("pairTooBig", () => new WebSocketRequestResponsePair("x".repeat(2049), "y"));
  t("timeoutTooBig", () => ctx.setHibernatableWebSocketEventTimeout(604800001));
  ctx.setHibernatableWebSocketEventTimeout(5000);
  out.timeout = ctx.getHibernatableWebSocketEventTimeout();
  ctx.setHibernatableWebSocketEventTimeout();
  out.timeoutUnset = ctx.getHibernatableWebSocketEventTimeout();
  return out;
}
export default {
  fetch(req, env) { return env.ROOM.get(env.ROOM.idFromName("lobby")).fetch(req); },
};`;

let dir, srv;
before(async () => {
  dir = makeProject({
    "wrangler.toml": 'name = "hib"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n' +
      '[[durable_objects.bindings]]\nname = "ROOM"\nclass_name = "Room"\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Room"]\n',
    "src/index.js": worker,
  });
  srv = await startDev(dir, ["--threads", "2"]);
});
after(async () => {
  const r = await srv.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 0);
});

test("handlers, tags, getWebSockets, attachments, auto-response, close and error", async () => {
  const a = await connect(srv.port, "/?name=ann");
  const b = await connect(srv.port, "/?name=bob");
  const c = await connect(srv.port, "/?name=cy");
  a.send("who");
  assert.deepEqual(JSON.parse(await a.message()), ["ann", "bob", "cy"]);
  b.send("tags");
  assert.deepEqual(JSON.parse(await b.message()), ["bob", "room"]);
  a.send("hello");
  for (const x of [a, b, c]) assert.equal(await x.message(), "ann: hello");
  c.send("to:bob");
  assert.equal(await b.message(), "private from cy");
  a.send("calls");
  assert.equal(await a.message(), "5 false", "webSocketMessage ran; listeners never did");

  a.send("auto");
  assert.equal(await a.message(), "auto ping! pong!");
  b.send("stamp");
  assert.equal(await b.message(), "null");
  b.send("ping!");
  assert.equal(await b.message(), "pong!");
  b.send("stamp");
  assert.equal(await b.message(), "true");
  a.send("calls");
  assert.equal(await a.message(), "9 false", "the auto-response did not call webSocketMessage");

  c.close(4000, "bye");
  assert.equal((await c.closed()).code, 4000);
  for (const x of [a, b]) assert.equal(await x.message(), "cy left 4000 true");
  b.raw(frame(OP.TEXT, "x", { mask: false }));
  assert.equal((await b.closed()).code, 1002);
  assert.equal(await a.message(), "error true");
  assert.equal(await a.message(), "bob left 1002 false");
  a.send("who");
  assert.deepEqual(JSON.parse(await a.message()), ["ann"]);
  a.destroy();
  b.destroy();
  c.destroy();
});

test("argument errors (HIB-2, HIB-3, HIB-6, HIB-11, HIB-14, HIB-15)", async () => {
  const a = await connect(srv.port, "/?name=err");
  a.send("errors");
  const j = JSON.parse(await a.message());
  assert.equal(j.acceptAfterAccept, "Error: Cannot call `acceptWebSocket()` if the WebSocket was already accepted via `accept()`");
  assert.equal(j.acceptAfterHibernate, "TypeError: Can't accept() WebSocket after enabling hibernation.");
  assert.equal(j.elevenTags, "Error: a Hibernatable WebSocket cannot have more than 10 tags");
  assert.match(j.longTag, /^Error: .*256/);
  assert.equal(j.tagsOfPlain, "Error: only hibernatable websockets can have tags.");
  assert.match(j.bigAttachment, /^Error: A WebSocket 'attachment' cannot be larger than 16384 bytes. 'attachment' was \d+ bytes.$/);
  assert.match(j.cloneError, /^DataCloneError: /);
  assert.match(j.pairTooBig, /^RangeError: Request cannot be larger than 2048 bytes/);
  assert.equal(j.timeoutTooBig, "Error: Event timeout should not exceed 604800000 ms.");
  assert.equal(j.timeout, 5000);
  assert.equal(j.timeoutUnset, null);
  a.destroy();
});

test("eviction while hibernatable sockets stay open (HIB-17, HIB-18): rebuilt on the next message, attachments and tags intact", async () => {
  const d = makeProject({
    "wrangler.toml": 'name = "hib2"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n' +
      '[[durable_objects.bindings]]\nname = "ROOM"\nclass_name = "Room"\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Room"]\n',
    "src/index.js": `
import { DurableObject } from "cloudflare:workers";
let built = 0;
export class Room extends DurableObject {
  constructor(ctx, env) { super(ctx, env); built++; this.mark = Math.random(); }
  fetch(req) {
    const name = new URL(req.url).searchParams.get("name");
    const [client, server] = Object.values(new WebSocketPair());
    if (name === "std") { // a standard socket: keeps the object in memory (WS-22)
      server.accept();
      server.addEventListener("message", () => server.send(String(built) + " " + this.mark));
      return new Response(null, { status: 101, webSocket: client });
    }
    this.ctx.acceptWebSocket(server, ["t-" + name]);
    server.serializeAttachment({ name });
    return new Response(null, { status: 101, webSocket: client });
  }
  webSocketMessage(ws, msg) {
    if (msg === "auto-on") { this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("hb", "ok")); ws.send("on"); return; }
    const all = this.ctx.getWebSockets().map((w) => w.deserializeAttachment().name + ":" + this.ctx.getTags(w).join(","));
    ws.send(JSON.stringify({ built, all, me: ws.deserializeAttachment().name }));
    for (const w of this.ctx.getWebSockets()) if (w !== ws) w.send("poke from " + ws.deserializeAttachment().name);
  }
}
export default { fetch(req, env) { return env.ROOM.get(env.ROOM.idFromName("one")).fetch(req); } };`,
  });
  const s = await startDev(d, ["--idle-timeout-ms", "200"]);
  try {
    const a = await connect(s.port, "/?name=a");
    const b = await connect(s.port, "/?name=b");
    a.send("auto-on");
    assert.equal(await a.message(), "on");
    a.send("x");
    assert.deepEqual(JSON.parse(await a.message()), { built: 1, all: ["a:t-a", "b:t-b"], me: "a" });
    assert.equal(await b.message(), "poke from a");
    // Wait until the instance has left memory: the next message builds a new one.
    let r;
    for (let i = 0; i < 60; i++) {
      await new Promise((res) => setTimeout(res, 250));
      b.send("hb"); // the auto-response never wakes the object
      assert.equal(await b.message(), "ok");
      b.send("y");
      r = JSON.parse(await b.message());
      await a.message(); // the poke
      if (r.built > 1) break;
    }
    assert.ok(r.built > 1, "the object was evicted and rebuilt while its sockets stayed open");
    assert.deepEqual(r.all, ["a:t-a", "b:t-b"]);
    assert.equal(r.me, "b");
    a.destroy();
    b.destroy();
    // A standard socket keeps its instance: same instance after many idle periods.
    const c = await connect(s.port, "/?name=std");
    c.send("?");
    const first = await c.message();
    await new Promise((res) => setTimeout(res, 1500));
    c.send("?");
    assert.equal(await c.message(), first);
    c.destroy();
  } finally {
    assert.equal((await s.stop()).code, 0);
    fs.rmSync(d, { recursive: true, force: true });
  }
});
