// Outbound WebSockets (spec websockets.md WS-11, WS-15): a Worker as the client of
// a WebSocket server of the test's own (upstream.mjs) through new WebSocket(url)
// and through fetch with Upgrade: websocket; a Worker relaying between a client
// and the upstream; the upstream refusing (non-101, bad accept) or closing with a
// code; bufferedAmount toward a peer that does not read; the WebSocket global;
// wss:// to a TLS upstream whose certificate durable trusts (SSL_CERT_FILE), and
// the failures of one it does not trust or whose name does not match.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { execFileSync } from "node:child_process";
import { makeProject, startDev } from "../lib.mjs";
import { connect } from "./wsclient.mjs";
import { startUpstream } from "./upstream.mjs";

const worker = `
const collect = (ws, n) => new Promise((resolve) => {
  const events = [];
  ws.addEventListener("open", () => events.push("open:" + ws.readyState));
  ws.addEventListener("message", (e) => {
    events.push(typeof e.data === "string" ? "text:" + e.data : "bin:" + [...new Uint8Array(e.data)].join(","));
    if (--n === 0) ws.close(1000, "bye");
  });
  ws.addEventListener("error", (e) => events.push("error:" + e.message));
  ws.addEventListener("close", (e) => { events.push("close:" + e.code + ":" + e.reason + ":" + e.wasClean); resolve(events); });
});
export default {
  async fetch(req) {
    const url = new URL(req.url);
    const up = "ws://127.0.0.1:" + url.searchParams.get("up");
    switch (url.pathname) {
      case "/new": {
        const ws = new WebSocket(up + "/echo?x=1");
        const first = { state: ws.readyState, url: ws.url, buffered: ws.bufferedAmount };
        ws.addEventListener("open", () => { ws.send("hello"); ws.send(new Uint8Array([1, 2, 3])); });
        const events = await collect(ws, 2);
        return Response.json({ first, events, state: ws.readyState });
      }
      case "/fetch": {
        const r = await fetch(up.replace("ws:", "http:") + "/echo", { headers: { Upgrade: "websocket", "X-Test": "yes" } });
        const ws = r.webSocket;
        ws.accept();
        const done = collect(ws, 2);
        ws.send("headers");
        ws.send("two");
        const events = await done;
        return Response.json({ status: r.status, hasWs: ws instanceof WebSocket, events });
      }
      case "/refused": {
        const events = await collect(new WebSocket(up + "/refuse"), 1);
        const r = await fetch(up.replace("ws:", "http:") + "/refuse", { headers: { Upgrade: "websocket" } });
        const bad = await collect(new WebSocket(up + "/badaccept"), 1);
        let fetchBad;
        try { await fetch(up.replace("ws:", "http:") + "/badaccept", { headers: { Upgrade: "websocket" } }); fetchBad = "resolved"; }
        catch (e) { fetchBad = e.name + ": " + e.message; }
        let nobody;
        try { await fetch("http://127.0.0.1:1/", { headers: { Upgrade: "websocket" } }); nobody = "resolved"; }
        catch (e) { nobody = e.name + ": " + e.message; }
        return Response.json({ events, status: r.status, ws: r.webSocket, body: await r.text(), why: r.headers.get("x-why"), bad, fetchBad, nobody });
      }
      case "/closecode": {
        const ws = new WebSocket(up + "/echo");
        const events = [];
        ws.onopen = () => ws.send("close:4001:going away");
        ws.onerror = (e) => events.push("error");
        const code = await new Promise((resolve) => { ws.onclose = (e) => resolve([e.code, e.reason, e.wasClean, ws.readyState]); });
        return Response.json({ code, events });
      }
      case "/big": {
        const events = await collect(new WebSocket(up + "/big"), 1);
        return Response.json({ events });
      }
      case "/abort": {
        const ctl = new AbortController();
        setTimeout(() => ctl.abort(new Error("gave up")), 100);
        try {
          await fetch("http://127.0.0.1:" + url.searchParams.get("mute") + "/", { headers: { Upgrade: "websocket" }, signal: ctl.signal });
          return Response.json({ result: "resolved" });
        } catch (e) { return Response.json({ result: e.message }); }
      }
      case "/buffered": {
        const ws = new WebSocket(up + "/stall");
        await new Promise((resolve) => ws.onopen = resolve);
        const before = ws.bufferedAmount;
        const chunk = new Uint8Array(1 << 20);
        for (let i = 0; i < 15; i++) ws.send(chunk);
        const after = ws.bufferedAmount;
        ws.close();
        return Response.json({ before, after });
      }
      case "/proto": {
        const ws = new WebSocket(up + "/proto", ["chat.v2", "chat.v1"]);
        await new Promise((resolve) => ws.onopen = resolve);
        const p = ws.protocol;
        ws.close();
        return Response.json({ protocol: p });
      }
      case "/wss": {
        const target = "wss://" + url.searchParams.get("host") + ":" + url.searchParams.get("port") + "/echo";
        const ws = new WebSocket(target);
        ws.onopen = () => ws.send("secure");
        const events = await collect(ws, 1);
        let viaFetch;
        try {
          const r = await fetch(target.replace("wss:", "https:"), { headers: { Upgrade: "websocket" } });
          r.webSocket.accept();
          const done = collect(r.webSocket, 1);
          r.webSocket.send("fetched");
          viaFetch = [r.status, ...(await done)];
        } catch (e) { viaFetch = e.name + ": " + e.message; }
        return Response.json({ events, viaFetch });
      }
      case "/checks": {
        const out = {};
        const t = (name, f) => { try { out[name] = f(); } catch (e) { out[name] = e.name + ": " + e.message; } };
        t("ftp", () => new WebSocket("ftp://example.com/"));
        t("fragment", () => new WebSocket(up + "/echo#x"));
        t("badProto", () => new WebSocket(up + "/echo", "a b"));
        t("sendConnecting", () => new WebSocket(up + "/echo").send("x"));
        const ws = new WebSocket(up + "/echo");
        out.closeConnecting = await collect((ws.close(), ws), 0);
        out.constants = [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED,
                         WebSocket.prototype.CLOSED, ws.OPEN];
        return Response.json(out);
      }
      case "/proxy": {
        if (req.headers.get("upgrade") !== "websocket") return new Response("expected websocket", { status: 426 });
        const [client, server] = Object.values(new WebSocketPair());
        server.accept();
        const upstream = new WebSocket(up + "/echo");
        const early = [];
        upstream.onopen = () => { for (const m of early.splice(0)) upstream.send(m); };
        upstream.onmessage = (e) => server.send(e.data);
        upstream.onclose = (e) => server.close(e.code, e.reason);
        server.onmessage = (e) => upstream.readyState === WebSocket.OPEN ? upstream.send(e.data) : early.push(e.data);
        server.onclose = (e) => upstream.close(e.code === 1005 ? 1000 : e.code, e.reason);
        return new Response(null, { status: 101, webSocket: client });
      }
    }
    return new Response("not found", { status: 404 });
  },
};
`;

// A self-signed certificate for 127.0.0.1 (the openssl command line tool).
const makeCert = (dir, name) => {
  const key = path.join(dir, name + ".key"), cert = path.join(dir, name + ".pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert), certPath: cert };
};

let dev, up, tlsUp, badUp, mute, base;
before(async () => {
  up = await startUpstream();
  mute = net.createServer(() => {}); // accepts, never answers
  await new Promise((r) => mute.listen(0, "127.0.0.1", r));
  const certs = fs.mkdtempSync(path.join(os.tmpdir(), "wsout-certs-"));
  const trusted = makeCert(certs, "trusted"), other = makeCert(certs, "other");
  tlsUp = await startUpstream({ key: trusted.key, cert: trusted.cert });
  badUp = await startUpstream({ key: other.key, cert: other.cert });
  const dir = makeProject({ "wrangler.toml": `name = "wsout"\nmain = "index.js"\ncompatibility_date = "2025-01-01"\n`, "index.js": worker });
  dev = await startDev(dir, [], { env: { SSL_CERT_FILE: trusted.certPath } });
  base = (p) => `${dev.url}${p}${p.includes("?") ? "&" : "?"}up=${up.port}`;
});
after(async () => { await dev?.stop(); await up?.close(); await tlsUp?.close(); await badUp?.close(); mute?.close(); });

const get = async (p) => {
  const r = await fetch(base(p));
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text);
};

test("new WebSocket(url): open, text and binary echo, close handshake; frames are masked", async () => {
  const j = await get("/new");
  assert.deepEqual(j.first, { state: 0, url: `ws://127.0.0.1:${up.port}/echo?x=1`, buffered: 0 });
  assert.deepEqual(j.events, ["open:1", "text:hello", "bin:1,2,3", "close:1000::true"]);
  assert.equal(j.state, 3);
  const frames = up.seen.filter((f) => f.path === "/echo");
  assert.ok(frames.length >= 3);
  assert.ok(frames.every((f) => f.masked), "a client must mask every frame (RFC 6455 5.1)");
});

test("fetch with Upgrade: websocket resolves to a 101 whose webSocket is accept()ed; headers pass through", async () => {
  const j = await get("/fetch");
  assert.equal(j.status, 101);
  assert.equal(j.hasWs, true);
  const headers = JSON.parse(j.events[0].slice(5));
  assert.equal(headers["x-test"], "yes");
  assert.equal(headers["sec-websocket-version"], "13");
  assert.deepEqual(j.events.slice(1), ["text:two", "close:1000::true"]);
});

test("a server that does not switch: error + close 1006 for new WebSocket, the plain response for fetch", async () => {
  const j = await get("/refused");
  assert.equal(j.events.length, 2);
  assert.match(j.events[0], /^error:WebSocket connection to ws:\/\/127\.0\.0\.1:\d+\/refuse failed: the server answered 403 instead of 101$/);
  assert.equal(j.events[1], "close:1006::false");
  assert.equal(j.status, 403);
  assert.equal(j.ws, null);
  assert.equal(j.body, "no upgrade here");
  assert.equal(j.why, "test");
  assert.match(j.bad[0], /^error:.*Sec-WebSocket-Accept/);
  assert.equal(j.bad[1], "close:1006::false");
  assert.match(j.fetchBad, /^TypeError: fetch failed: .*Sec-WebSocket-Accept/);
  assert.match(j.nobody, /^TypeError: fetch failed: connection refused to 127\.0\.0\.1:1/);
});

test("the upstream closing with a code: close event with its code and reason, clean", async () => {
  const j = await get("/closecode");
  assert.deepEqual(j.code, [4001, "going away", true, 3]);
  assert.deepEqual(j.events, []);
});

test("limits as for server sockets: a message over 32 MiB from the server closes with 1009", async () => {
  const j = await get("/big");
  assert.deepEqual(j.events, ["open:1", "error:WebSocket message too big: more than 32 MiB (closed with 1009)", "close:1009::false"]);
});

test("an AbortSignal stops an upgrade fetch that has no answer yet", async () => {
  assert.deepEqual(await get(`/abort?mute=${mute.address().port}`), { result: "gave up" });
});

test("bufferedAmount counts what a peer that does not read has not taken", async () => {
  const j = await get("/buffered");
  assert.equal(j.before, 0);
  assert.ok(j.after > 0 && j.after <= 15 * (1 << 20) + 15 * 14, `bufferedAmount ${j.after}`);
});

test("subprotocols are offered and the chosen one is readable", async () => {
  assert.deepEqual(await get("/proto"), { protocol: "chat.v2" });
});

test("the WebSocket global: bad URLs, send while connecting, close while connecting, constants", async () => {
  const j = await get("/checks");
  assert.match(j.ftp, /^SyntaxError: .*scheme must be either 'ws' or 'wss'/);
  assert.match(j.fragment, /^SyntaxError: .*fragment/);
  assert.match(j.badProto, /^SyntaxError: .*subprotocol/);
  assert.match(j.sendConnecting, /^InvalidStateError: .*CONNECTING/);
  assert.deepEqual(j.closeConnecting, ["error:WebSocket was closed before the connection was established", "close:1006::false"]);
  assert.deepEqual(j.constants, [0, 1, 2, 3, 3, 1]);
});

test("a Worker relays between a client and an upstream WebSocket", async () => {
  const c = await connect(dev.port, `/proxy?up=${up.port}`);
  c.send("one");
  assert.equal(await c.message(), "one");
  c.send(Buffer.from([7, 8, 9]));
  assert.deepEqual([...await c.message()], [7, 8, 9]);
  c.send("close:4002:upstream done");
  const ev = await c.closed();
  assert.deepEqual({ type: ev.type, code: ev.code, reason: ev.reason }, { type: "close", code: 4002, reason: "upstream done" });
});

test("wss:// to a server whose certificate is trusted: echo through new WebSocket and fetch(https, Upgrade)", async () => {
  const j = await get(`/wss?host=127.0.0.1&port=${tlsUp.port}`);
  assert.deepEqual(j.events, ["open:1", "text:secure", "close:1000::true"]);
  assert.deepEqual(j.viaFetch, [101, "text:fetched", "close:1000::true"]);
  assert.ok(tlsUp.seen.some((f) => f.masked && f.op === 1));
});

test("wss:// fails for an untrusted certificate and for a name the certificate does not carry", async () => {
  const bad = await get(`/wss?host=127.0.0.1&port=${badUp.port}`);
  assert.match(bad.events[0], /^error:WebSocket connection to wss:.* failed: the TLS handshake with 127\.0\.0\.1:\d+ failed: the certificate was not accepted \(self-signed certificate\)$/);
  assert.equal(bad.events[1], "close:1006::false");
  assert.match(bad.viaFetch, /^TypeError: fetch failed: the TLS handshake .*self-signed certificate/);
  const name = await get(`/wss?host=localhost&port=${tlsUp.port}`);
  assert.match(name.events[0], /^error:.*the certificate was not accepted \(hostname mismatch\)/);
  assert.equal(badUp.seen.length, 0);
});
