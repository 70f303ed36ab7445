// WebSockets answered by a Worker (spec websockets.md WS-1..14): the handshake,
// echo of text and binary, fragmentation, ping/pong, the close handshake and its
// codes, the 32 MiB message limit, malformed frames, and the bound on data queued
// for a client that never reads. The client is the suite's own (wsclient.mjs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { makeProject, startDev, raw } from "../lib.mjs";
import { connect, frame, closePayload, OP } from "./wsclient.mjs";

const worker = `
export default {
  async fetch(req, env, ctx) {
    const url = new URL(req.url);
    if (url.pathname === "/checks") return Response.json(checks());
    if (req.headers.get("upgrade") !== "websocket") return new Response("expected websocket", { status: 426 });
    if (url.pathname === "/plain") return new Response("no socket for you", { status: 403 });
    if (url.pathname === "/accepted") {
      const [client, server] = Object.values(new WebSocketPair());
      client.accept();
      return new Response(null, { status: 101, webSocket: client });
    }
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (e) => {
      const d = e.data;
      if (typeof d !== "string") { server.send(new Uint8Array(d).reverse()); return; }
      if (d.startsWith("close:")) { const [, code, reason] = d.split(":"); server.close(Number(code), reason); return; }
      if (d.startsWith("flood:")) {
        const chunk = "x".repeat(1 << 20);
        for (let i = 0; i < Number(d.slice(6)); i++) server.send(chunk);
        return;
      }
      if (d === "view") { server.send(new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4)); return; }
      if (d === "lastclose") { server.send(JSON.stringify(globalThis.lastClose ?? null)); return; }
      if (d === "lasterror") { server.send(JSON.stringify([globalThis.lastError ?? null, globalThis.lastClose?.code])); return; }
      if (d === "state") { server.send(String(server.readyState)); return; }
      server.send("echo " + d + " " + d.length);
    });
    server.onclose = (e) => { globalThis.lastClose = { code: e.code, reason: e.reason, wasClean: e.wasClean }; };
    server.onerror = (e) => { globalThis.lastError = e.message; };
    return new Response(null, { status: 101, webSocket: client, headers: { "x-extra": "yes" } });
  },
};
function checks() {
  const out = {};
  const t = (name, f) => { try { f(); out[name] = "no error"; } catch (e) { out[name] = e.name + ": " + e.message; } };
  const pair = () => Object.values(new WebSocketPair());
  out.constants = [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED, WebSocket.READY_STATE_OPEN];
  t("newWebSocket", () => new WebSocket("ftp://example.com"));
  t("status101NoWs", () => new Response(null, { status: 101 }));
  t("wsNot101", () => new Response(null, { status: 200, webSocket: pair()[0] }));
  t("sendBeforeAccept", () => pair()[1].send("x"));
  t("sendAfterClose", () => { const [, s] = pair(); s.accept(); s.close(); s.send("x"); });
  t("closeBadCode", () => { const [, s] = pair(); s.accept(); s.close(1005); });
  t("closeCode999", () => { const [, s] = pair(); s.accept(); s.close(999); });
  t("closeReasonNoCode", () => { const [, s] = pair(); s.accept(); s.close(undefined, "x"); });
  t("closeLongReason", () => { const [, s] = pair(); s.accept(); s.close(1000, "é".repeat(62)); });
  t("closeTwice", () => { const [, s] = pair(); s.accept(); s.close(1000, "a"); s.close(4000, "b"); });
  const [c, s] = pair();
  out.readyState = c.readyState;
  return out;
}
`;

let dir, srv;
before(async () => {
  dir = makeProject({
    "wrangler.toml": 'name = "ws"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n',
    "src/index.js": worker,
  });
  srv = await startDev(dir);
});
after(async () => {
  const r = await srv.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 0);
});

test("echo: text, binary, an ArrayBufferView window, readyState; the 101 carries the Response's headers", async () => {
  const ws = await connect(srv.port, "/echo");
  assert.match(ws.head, /^HTTP\/1\.1 101 Switching Protocols/);
  assert.match(ws.head, /\r\nupgrade: websocket/i);
  assert.match(ws.head, /\r\nx-extra: yes/i);
  ws.send("hello");
  assert.equal(await ws.message(), "echo hello 5");
  ws.send("héllo ☃");
  assert.equal(await ws.message(), "echo héllo ☃ 7");
  ws.send(Buffer.from([1, 2, 3]));
  assert.deepEqual([...(await ws.message())], [3, 2, 1]);
  ws.send("view");
  assert.deepEqual([...(await ws.message())], [1, 2, 3]);
  ws.send("state");
  assert.equal(await ws.message(), "1");
  ws.close(1000, "bye");
  const c = await ws.closed();
  assert.equal(c.type, "close");
  assert.equal(c.code, 1000);
  assert.equal((await ws.next()).type, "end", "the server closes the TCP connection after the handshake");
});

test("fragmented messages are put together; pings are answered with pongs and never reach the Worker", async () => {
  const ws = await connect(srv.port);
  ws.raw(Buffer.concat([frame(OP.TEXT, "ab", { fin: false }), frame(OP.PING, "p1"),
                        frame(OP.CONT, "cd", { fin: false }), frame(OP.CONT, "ef")]));
  const pong = await ws.next();
  assert.equal(pong.type, "pong");
  assert.equal(pong.data.toString(), "p1");
  assert.equal(await ws.message(), "echo abcdef 6");
  ws.destroy();
});

test("close codes: the server's close(code, reason) reaches the client; the client's Close is answered with its code", async () => {
  const a = await connect(srv.port);
  a.send("close:4001:done here");
  const c = await a.closed();
  assert.deepEqual([c.code, c.reason], [4001, "done here"]);
  a.close(4001);
  assert.equal((await a.next()).type, "end");

  const b = await connect(srv.port);
  b.close(4321, "client leaves");
  const c2 = await b.closed();
  assert.equal(c2.code, 4321, "the runtime answers the Close frame with the same code");
});

test("a client that never answers the server's Close frame is dropped (after 5 s)", async () => {
  const a = await connect(srv.port);
  a.send("close:4002:answer me");
  const c = await a.next();
  assert.deepEqual([c.type, c.code], ["close", 4002]);
  // No answer: the server drops the connection itself.
  assert.equal((await a.next(20000)).type, "end");
});

test("the Worker's close event has the client's code, reason and wasClean", async () => {
  const b = await connect(srv.port);
  b.close(4100, "why not");
  await b.closed();
  // The close event ran in the isolate; a new socket reads it back.
  const q = await connect(srv.port);
  q.send("lastclose");
  assert.deepEqual(JSON.parse(await q.message()), { code: 4100, reason: "why not", wasClean: true });
  q.destroy();
  // A Close frame without a code: 1005 (HIB-8's decision, RFC 6455 §7.1.5).
  const n = await connect(srv.port);
  n.close();
  assert.equal((await n.closed()).type, "close");
  const q2 = await connect(srv.port);
  q2.send("lastclose");
  assert.deepEqual(JSON.parse(await q2.message()), { code: 1005, reason: "", wasClean: true });
  q2.destroy();
  // A client that vanishes without a Close frame: 1006, not clean.
  const v = await connect(srv.port);
  v.send("state");
  await v.message();
  v.destroy();
  let last;
  for (let i = 0; i < 50; i++) {
    const p = await connect(srv.port);
    p.send("lastclose");
    last = JSON.parse(await p.message());
    p.destroy();
    if (last.code === 1006) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(last, { code: 1006, reason: "WebSocket disconnected without sending Close frame.", wasClean: false });
});

test("bad handshakes get 400 without reaching the Worker; a non-101 answer is plain HTTP", async () => {
  await assert.rejects(connect(srv.port, "/", { headers: { "Sec-WebSocket-Version": "8" } }),
    (e) => e.status === 400 && /Sec-WebSocket-Version must be 13/.test(e.body));
  await assert.rejects(connect(srv.port, "/", { key: "c2hvcnQ=" }),
    (e) => e.status === 400 && /Sec-WebSocket-Key/.test(e.body));
  await assert.rejects(connect(srv.port, "/", { headers: { Connection: "keep-alive" } }),
    (e) => e.status === 400 && /Connection/.test(e.body));
  await assert.rejects(connect(srv.port, "/plain"), (e) => e.status === 403 && e.body === "no socket for you");
  // Returning an end that was accept()ed is a TypeError: the client gets a 500.
  await assert.rejects(connect(srv.port, "/accepted"), (e) => e.status === 500);
  await srv.waitForLog(/Can't return WebSocket in a Response after calling accept\(\)/);
});

test("API errors: constructors, send and close validation (WS-4, WS-9, WS-10, WS-11)", async () => {
  const r = await fetch(srv.url + "/checks");
  const j = await r.json();
  assert.deepEqual(j.constants, [0, 1, 2, 3, 1]);
  assert.equal(j.readyState, 1);
  assert.match(j.newWebSocket, /^SyntaxError: .*scheme must be either 'ws' or 'wss'/);
  assert.equal(j.status101NoWs, "RangeError: Responses may only be constructed with status codes in the range 200 to 599, inclusive.");
  assert.equal(j.wsNot101, "RangeError: Responses with a WebSocket must have status code 101.");
  assert.equal(j.sendBeforeAccept, "TypeError: You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.");
  assert.equal(j.sendAfterClose, "TypeError: Can't call WebSocket send() after close().");
  assert.match(j.closeBadCode, /^InvalidAccessError: /);
  assert.match(j.closeCode999, /^InvalidAccessError: /);
  assert.match(j.closeReasonNoCode, /^InvalidAccessError: /);
  assert.match(j.closeLongReason, /^SyntaxError: .*123 bytes/);
  assert.equal(j.closeTwice, "no error");
});

test("a message over 32 MiB closes the connection with 1009", async () => {
  const ws = await connect(srv.port);
  // Announce 33 MiB in one frame and send the first 1 MiB: the length alone is enough.
  const len = 33 * 1024 * 1024;
  const head = Buffer.from([0x82, 0xff, 0, 0, 0, 0, (len >>> 24) & 255, (len >>> 16) & 255, 0, 0, 1, 2, 3, 4]);
  ws.raw(Buffer.concat([head, Buffer.alloc(1 << 20)]));
  const c = await ws.closed();
  assert.equal(c.code, 1009);
  ws.destroy();
  // The server is fine afterwards, and the Worker's end was told why (it was
  // told "protocol error", 1002, while the Close said 1009).
  const ok = await connect(srv.port);
  ok.send("still here");
  assert.equal(await ok.message(), "echo still here 10");
  ok.send("lasterror");
  assert.deepEqual(JSON.parse(await ok.message()), ["WebSocket message too big: more than 32 MiB (closed with 1009)", 1009]);
  ok.destroy();
});

test("malformed frames close the connection: unmasked (1002), unknown opcode (1002), invalid UTF-8 text (1007)", async () => {
  const a = await connect(srv.port);
  a.raw(frame(OP.TEXT, "hi", { mask: false }));
  assert.equal((await a.closed()).code, 1002);
  a.destroy();
  const b = await connect(srv.port);
  b.raw(frame(3, "hi"));
  assert.equal((await b.closed()).code, 1002);
  b.destroy();
  const c = await connect(srv.port);
  c.raw(frame(OP.TEXT, Buffer.from([0x68, 0xc3, 0x28])));
  assert.equal((await c.closed()).code, 1007);
  c.destroy();
  const d = await connect(srv.port);
  d.raw(frame(OP.CONT, "orphan"));
  assert.equal((await d.closed()).code, 1002);
  d.destroy();
});

test("a client that never reads: the server stops at 16 MiB queued and drops it; its memory stays bounded", async () => {
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${srv.proc.pid}/status`, "utf8"))[1]) * 1024;
  const ws = await connect(srv.port);
  ws.sock.pause(); // never read again
  const before = rss();
  ws.send("flood:200"); // 200 MiB if nothing stopped it
  await srv.waitForLog(/does not read: more than 16777216 bytes queued to it; connection dropped/, 20000);
  const grown = rss() - before;
  assert.ok(grown < 120 * 1024 * 1024, `server RSS grew by ${grown} bytes`);
  ws.destroy();
  const ok = await connect(srv.port);
  ok.send("after");
  assert.equal(await ok.message(), "echo after 5");
  ok.destroy();
});


test("many sockets at once (the socket table grows): each one still echoes and closes", async () => {
  const clients = [];
  for (let i = 0; i < 40; i++) clients.push(await connect(srv.port, "/echo"));
  for (const [i, c] of clients.entries()) c.send(`n${i}`);
  for (const [i, c] of clients.entries()) assert.equal(await c.message(), `echo n${i} ${String(i).length + 1}`);
  for (const c of clients) c.close(1000, "");
  for (const c of clients) assert.equal((await c.closed()).code, 1000);
});
