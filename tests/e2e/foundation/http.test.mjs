// HTTP/1.1 on the wire: keep-alive, pipelining, bodies, HEAD, Expect, limits.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject, raw, parseResponses } from "../lib.mjs";

let srv;
before(async () => {
  const dir = makeProject({
    "wrangler.toml": `name = "http"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`,
    "index.js": `export default { async fetch(req) {
      const u = new URL(req.url);
      if (u.pathname === "/echo") {
        const body = await req.text();
        return new Response(req.method + " " + body.length + " " + body.slice(0, 20), { headers: { "x-len": String(body.length) } });
      }
      if (u.pathname === "/headers") return Response.json(Object.fromEntries(req.headers));
      return new Response("path=" + u.pathname + u.search);
    } };`,
  });
  srv = await startDev(dir, ["--header-timeout-ms", "500", "--max-body-mb", "1"]);
});
after(async () => { assert.equal((await srv.stop()).code, 0); });

const get = (p, extra = "") => `GET ${p} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

test("keep-alive: several requests on one connection", async () => {
  const { text } = await raw(srv.port, [get("/a"), get("/b")], { untilRe: /path=\/b/, gapMs: 50 });
  const rs = parseResponses(text);
  assert.deepEqual(rs.map((r) => r.body), ["path=/a", "path=/b"]);
});

test("pipelining: responses come back in request order", async () => {
  const { text } = await raw(srv.port, get("/1") + get("/2?x=1") + get("/3"), { untilRe: /path=\/3/ });
  assert.deepEqual(parseResponses(text).map((r) => r.body), ["path=/1", "path=/2?x=1", "path=/3"]);
});

test("Content-Length and chunked request bodies arrive whole", async () => {
  const cl = await raw(srv.port, `POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world`, { untilRe: /hello world/ });
  assert.equal(parseResponses(cl.text)[0].body, "POST 11 hello world");
  const ch = await raw(srv.port, [`POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`, `6\r\n world\r\n0\r\n\r\n`], { untilRe: /hello world/, gapMs: 30 });
  assert.equal(parseResponses(ch.text)[0].body, "POST 11 hello world");
});

test("HEAD keeps Content-Length and sends no body", async () => {
  const { text } = await raw(srv.port, `HEAD /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  assert.match(text, /^HTTP\/1\.1 200/);
  assert.match(text, /content-length: 7\r\n/i);
  assert.ok(text.endsWith("\r\n\r\n"), "no body after the head");
});

test("Expect: 100-continue is answered before the body is sent", async () => {
  const { text } = await raw(srv.port, [`POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n`, `abc`], { untilRe: /POST 3 abc/, gapMs: 100 });
  assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
});

test("Connection: close closes after the response", async () => {
  const { text, closed } = await raw(srv.port, get("/c", "Connection: close\r\n"));
  assert.equal(closed, true);
  assert.equal(parseResponses(text)[0].body, "path=/c");
});

test("headers over 64 KiB: 431 with a JSON error", async () => {
  const big = "x-big: " + "a".repeat(70 * 1024) + "\r\n";
  const { text, closed } = await raw(srv.port, get("/", big));
  assert.match(text, /^HTTP\/1\.1 431/);
  assert.match(text, /"error"/);
  assert.equal(closed, true);
});

test("a head just under 64 KiB is accepted", async () => {
  const ok = "x-big: " + "a".repeat(60 * 1024) + "\r\n";
  const { text } = await raw(srv.port, get("/", ok + "Connection: close\r\n"));
  assert.match(text, /^HTTP\/1\.1 200/);
});

test("a body over the maximum: 413", async () => {
  const { text } = await raw(srv.port, `POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n` + "a".repeat(1000));
  assert.match(text, /^HTTP\/1\.1 413/);
  assert.match(text, /"error"/);
});

test("a malformed request: 400 and the connection closes", async () => {
  const { text, closed } = await raw(srv.port, "GARBAGE\r\n\r\n");
  assert.match(text, /^HTTP\/1\.1 400/);
  assert.equal(closed, true);
});

test("a client that sends its head too slowly is timed out", async () => {
  const { text, closed } = await raw(srv.port, "GET / HTTP/1.1\r\nHost: t\r\n", { ms: 5000 });
  assert.equal(closed, true);
  assert.match(text, /^HTTP\/1\.1 408/);
});

test("request headers reach the Worker", async () => {
  const r = await fetch(srv.url + "/headers", { headers: { "X-Custom": "v1" } });
  const h = await r.json();
  assert.equal(h["x-custom"], "v1");
  assert.ok(h.host.startsWith("127.0.0.1:"));
});
