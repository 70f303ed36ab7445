// Outbound fetch() from a Worker (spec WEB-4, WRK-33, WRK-34) against an HTTP server
// of the test's own on 127.0.0.1: methods, headers and bodies both ways, the three
// redirect modes, AbortSignal, network errors, schemes other than http(s), the
// connection limit, and a large body streamed through without being held whole.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import { startDev, makeProject, bin } from "../lib.mjs";

const BIG = 50 * 1024 * 1024;
let up, upUrl, srv;
let active = 0, maxActive = 0, slowClosed = 0;

before(async () => {
  up = http.createServer(async (req, res) => {
    const u = new URL(req.url, "http://x");
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    if (u.pathname === "/hello") {
      res.writeHead(201, "Made It", { "x-up": "yes", "content-type": "text/plain" });
      return res.end("hello from upstream");
    }
    if (u.pathname === "/echo") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ method: req.method, headers: req.headers, body: body.toString("latin1") }));
    }
    const m = /^\/r\/(\d+)$/.exec(u.pathname);
    if (m) {
      const n = Number(m[1]);
      if (n === 0) return res.end("landed");
      res.writeHead(302, { location: `/r/${n - 1}` });
      return res.end("moving");
    }
    if (u.pathname === "/to-file") { res.writeHead(302, { location: "file:///etc/passwd" }); return res.end(); }
    if (u.pathname === "/slow") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first;");
      req.socket.on("close", () => { slowClosed++; });
      return; // never ends: the Worker aborts
    }
    if (u.pathname === "/hang") return; // no head at all
    if (u.pathname === "/held") {
      active++; maxActive = Math.max(maxActive, active);
      setTimeout(() => { active--; res.end("ok"); }, 80);
      return;
    }
    if (u.pathname === "/big") {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(BIG) });
      const block = Buffer.alloc(64 * 1024, 97);
      let sent = 0;
      const pump = () => {
        while (sent < BIG) {
          sent += block.length;
          if (!res.write(block)) { res.once("drain", pump); return; }
        }
        res.end();
      };
      return pump();
    }
    res.writeHead(404);
    res.end("nope");
  });
  await new Promise((r) => up.listen(0, "127.0.0.1", r));
  upUrl = `http://127.0.0.1:${up.address().port}`;
  const dir = makeProject({
    "wrangler.toml": `name = "fetch"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n[vars]\nUP = "${upUrl}"\n`,
    "index.js": `
const err = (e) => ({ name: e?.name, message: e?.message, ctor: e?.constructor?.name });
let topLevel = "pending";
fetch("http://127.0.0.1:1/").then(() => { topLevel = "resolved"; }, (e) => { topLevel = e.message; });
export default { async fetch(req, env) {
  const u = new URL(req.url);
  const UP = env.UP;
  const out = (v) => Response.json(v);
  switch (u.pathname) {
    case "/get": {
      const r = await fetch(UP + "/hello");
      return out({ status: r.status, statusText: r.statusText, xup: r.headers.get("x-up"), ok: r.ok, url: r.url, redirected: r.redirected, text: await r.text() });
    }
    case "/post": {
      const kind = u.searchParams.get("kind");
      const body = kind === "bytes" ? new Uint8Array([0, 1, 2, 255])
        : kind === "stream" ? new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("str")); c.enqueue(new TextEncoder().encode("eam")); c.close(); } })
        : kind === "request" ? undefined : "a string body";
      const r = kind === "request"
        ? await fetch(new Request(UP + "/echo", { method: "PUT", body: "from a Request", headers: { "x-r": "1" } }))
        : await fetch(UP + "/echo", { method: "POST", body, headers: { "x-a": "b", "content-type": "text/x-test" } });
      return out(await r.json());
    }
    case "/incoming": {
      const r = await fetch(UP + "/echo", { method: "POST", body: req.body });
      return out(await r.json());
    }
    case "/redirect": {
      const mode = u.searchParams.get("mode");
      try {
        const r = await fetch(UP + "/r/" + (u.searchParams.get("n") ?? "3"), { redirect: mode });
        return out({ status: r.status, location: r.headers.get("location"), redirected: r.redirected, url: r.url, text: await r.text() });
      } catch (e) { return out({ error: err(e) }); }
    }
    case "/error": {
      try { await fetch(u.searchParams.get("url").replace("UP", UP)); return out({}); }
      catch (e) { return out({ error: err(e) }); }
    }
    case "/abort-mid": {
      const ac = new AbortController();
      const r = await fetch(UP + "/slow", { signal: ac.signal });
      const reader = r.body.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      ac.abort();
      try { await reader.read(); return out({ first }); }
      catch (e) { return out({ first, error: err(e) }); }
    }
    case "/abort-head": {
      try { await fetch(UP + "/hang", { signal: AbortSignal.timeout(100) }); return out({}); }
      catch (e) { return out({ error: err(e) }); }
    }
    case "/parallel": {
      const rs = await Promise.all(Array.from({ length: 10 }, () => fetch(UP + "/held").then((r) => r.text())));
      return out({ rs });
    }
    case "/many": {
      let n = 0;
      try { for (;;) { const r = await fetch(UP + "/hello"); await r.arrayBuffer(); n++; if (n > 1100) break; } return out({ n }); }
      catch (e) { return out({ n, error: err(e) }); }
    }
    case "/big": return fetch(UP + "/big");
    case "/toplevel": return out({ topLevel });
    case "/big-piped": {
      const r = await fetch(UP + "/big");
      const { readable, writable } = new TransformStream();
      r.body.pipeTo(writable);
      return new Response(readable);
    }
  }
  return new Response("?", { status: 404 });
} };`,
  });
  srv = await startDev(dir);
});
after(async () => {
  if (srv) assert.equal((await srv.stop()).code, 0);
  up.closeAllConnections?.();
  await new Promise((r) => up.close(r));
});

const j = async (path, init) => { const r = await fetch(srv.url + path, init); assert.equal(r.status, 200, path); return r.json(); };

test("GET: status, statusText, headers and body of the upstream response", async () => {
  const r = await j("/get");
  assert.deepEqual(r, { status: 201, statusText: "Made It", xup: "yes", ok: true, url: upUrl + "/hello", redirected: false, text: "hello from upstream" });
});

test("POST with a string, bytes, a stream, and a Request: method, headers and body arrive", async () => {
  const s = await j("/post");
  assert.equal(s.method, "POST");
  assert.equal(s.body, "a string body");
  assert.equal(s.headers["x-a"], "b");
  assert.equal(s.headers["content-type"], "text/x-test");
  assert.equal(s.headers["content-length"], "13");
  assert.equal(s.headers.expect, undefined);
  assert.equal((await j("/post?kind=bytes")).body, "\x00\x01\x02\xff");
  assert.equal((await j("/post?kind=stream")).body, "stream");
  const r = await j("/post?kind=request");
  assert.equal(r.method, "PUT");
  assert.equal(r.body, "from a Request");
  assert.equal(r.headers["x-r"], "1");
});

test("the incoming request's body passed on as a stream", async () => {
  const r = await j("/incoming", { method: "POST", body: "client data" });
  assert.equal(r.body, "client data");
});

test("redirects: follow, manual, error, and more than 20", async () => {
  const f = await j("/redirect?mode=follow");
  assert.deepEqual(f, { status: 200, location: null, redirected: true, url: upUrl + "/r/0", text: "landed" });
  const m = await j("/redirect?mode=manual");
  assert.equal(m.status, 302);
  assert.equal(m.location, "/r/2");
  assert.equal(m.redirected, false);
  const e = await j("/redirect?mode=error");
  assert.equal(e.error.name, "TypeError");
  assert.match(e.error.message, /^fetch failed: .*redirect mode is "error"/);
  const many = await j("/redirect?mode=follow&n=25");
  assert.equal(many.error.name, "TypeError");
  assert.match(many.error.message, /more than 20 redirects/);
  const twenty = await j("/redirect?mode=follow&n=20");
  assert.equal(twenty.text, "landed");
});

test("network errors reject with a TypeError that says what failed", async () => {
  const r = await j("/error?url=" + encodeURIComponent("http://127.0.0.1:1/"));
  assert.equal(r.error.name, "TypeError");
  assert.equal(r.error.message, "fetch failed: connection refused to 127.0.0.1:1");
});

test("only http and https: file:// and a redirect to file:// are refused", async () => {
  const f = await j("/error?url=" + encodeURIComponent("file:///etc/passwd"));
  assert.equal(f.error.name, "TypeError");
  assert.match(f.error.message, /scheme is not http or https/);
  const g = await j("/error?url=" + encodeURIComponent("gopher://127.0.0.1:1/"));
  assert.equal(g.error.name, "TypeError");
  const red = await j("/error?url=" + encodeURIComponent("UP/to-file"));
  assert.equal(red.error.name, "TypeError");
  assert.match(red.error.message, /^fetch failed: .*not http or https/);
});

test("AbortSignal: before the head the promise rejects; mid-body the stream errors and the connection closes", async () => {
  const h = await j("/abort-head");
  assert.equal(h.error.name, "TimeoutError");
  const before = slowClosed;
  const m = await j("/abort-mid");
  assert.equal(m.first, "first;");
  assert.equal(m.error.name, "AbortError");
  const deadline = Date.now() + 5000;
  while (slowClosed === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(slowClosed, before + 1, "the upstream connection was closed");
});

test("at most 6 connections at once per request; the rest wait, none fail", async () => {
  maxActive = 0;
  const r = await j("/parallel");
  assert.deepEqual(r.rs, Array(10).fill("ok"));
  assert.ok(maxActive <= 6, `max simultaneous upstream requests ${maxActive}`);
  assert.ok(maxActive >= 2);
});

test("the 1001st subrequest of one request fails with Too many subrequests.", async () => {
  const r = await j("/many");
  assert.equal(r.n, 1000);
  assert.deepEqual(r.error, { name: "Error", message: "Too many subrequests.", ctor: "Error" });
});

test("fetch() at the top level of the module is refused (WRK-7)", async () => {
  const r = await j("/toplevel");
  assert.match(r.topLevel, /^Disallowed operation called within global scope/);
});

// AddressSanitizer keeps freed memory in quarantine (256 MB), so RSS says nothing
// there; the body must still arrive whole.
const sanitized = /\/asan\//.test(bin) || process.env.ASAN_OPTIONS !== undefined;
const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))[1]);

for (const path of ["/big", "/big-piped"]) {
  test(`a 50 MB response streams through the Worker (${path}) without the server holding it`, async () => {
    const base = rssKb(srv.proc.pid);
    let peak = base, total = 0;
    const r = await fetch(srv.url + path);
    assert.equal(r.status, 200);
    for await (const c of r.body) {
      total += c.length;
      peak = Math.max(peak, rssKb(srv.proc.pid));
    }
    assert.equal(total, BIG);
    const grewMb = (peak - base) / 1024;
    console.log(`# ${path}: RSS grew by ${grewMb.toFixed(1)} MB for a 50 MB body`);
    if (!sanitized) assert.ok(grewMb < 25, `RSS grew by ${grewMb.toFixed(1)} MB for a 50 MB body`);
  });
}
