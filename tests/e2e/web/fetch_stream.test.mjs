// Outbound fetch() (spec WEB-4): a ReadableStream request body streamed to the
// server without being held whole (chunked, or with the caller's Content-Length),
// its errors, AbortSignal mid-upload, a redirect that would need the body again;
// and response bodies decoded from gzip, deflate and br as workerd does, or passed
// on as received with encodeResponseBody: "manual". Against an HTTP server of the
// test's own on 127.0.0.1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import zlib from "node:zlib";
import { startDev, makeProject, bin } from "../lib.mjs";

const UPLOAD = 100 * 1024 * 1024;
const TEXT = "decoded text ".repeat(2000);
let up, upUrl, srv;
const uploads = {};   // path → { bytes, te, cl, aborted }

before(async () => {
  up = http.createServer(async (req, res) => {
    const u = new URL(req.url, "http://x");
    if (u.pathname === "/sink" || u.pathname === "/sink-slow") {
      const rec = (uploads[u.searchParams.get("id")] = { bytes: 0, te: req.headers["transfer-encoding"] ?? null, cl: req.headers["content-length"] ?? null, aborted: false, done: false });
      req.socket.on("close", () => { if (!rec.done) rec.aborted = true; });
      req.on("data", (c) => { rec.bytes += c.length; });
      if (u.pathname === "/sink-slow") return;   // never answers
      req.on("end", () => { rec.done = true; res.end(JSON.stringify({ bytes: rec.bytes, te: rec.te, cl: rec.cl })); });
      return;
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    if (u.pathname === "/redir") {
      res.writeHead(Number(u.searchParams.get("code")), { location: u.searchParams.get("to").replace("PORT", String(up.address().port)) });
      return res.end("moving");
    }
    if (u.pathname === "/echo") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ method: req.method, body: Buffer.concat(chunks).toString(), ct: req.headers["content-type"] ?? null, auth: req.headers.authorization ?? null }));
    }
    if (u.pathname === "/307") { res.writeHead(307, { location: "/sink?id=after-307" }); return res.end(); }
    const enc = u.searchParams.get("enc");
    if (u.pathname === "/coded") {
      const body = enc === "gzip" ? zlib.gzipSync(TEXT) : enc === "deflate" ? zlib.deflateSync(TEXT) : enc === "br" ? zlib.brotliCompressSync(TEXT) : Buffer.from(TEXT);
      res.writeHead(200, { "content-type": "text/plain", "content-encoding": enc, "content-length": String(body.length), "x-accept-encoding": req.headers["accept-encoding"] ?? "" });
      return res.end(body);
    }
    if (u.pathname === "/bad-coding") {
      res.writeHead(200, { "content-encoding": "gzip" });
      return res.end("this is not gzip");
    }
    res.writeHead(404);
    res.end("nope");
  });
  await new Promise((r) => up.listen(0, "127.0.0.1", r));
  upUrl = `http://127.0.0.1:${up.address().port}`;
  const dir = makeProject({
    "wrangler.toml": `name = "fetchstream"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n[vars]\nUP = "${upUrl}"\n`,
    "index.js": `
const err = (e) => ({ name: e?.name, message: e?.message, ctor: e?.constructor?.name });
const gen = (total, chunk, onCancel) => {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= total) { c.close(); return; }
      const n = Math.min(chunk, total - sent);
      c.enqueue(new Uint8Array(n).fill(120));
      sent += n;
    },
    cancel(why) { onCancel?.(why); },
  });
};
let cancelled = null;
export default { async fetch(req, env) {
  const u = new URL(req.url);
  const UP = env.UP;
  const out = (v) => Response.json(v);
  const id = u.searchParams.get("id");
  try {
    switch (u.pathname) {
      case "/upload": {
        const n = Number(u.searchParams.get("n"));
        const headers = u.searchParams.has("cl") ? { "content-length": u.searchParams.get("cl") } : {};
        const r = await fetch(UP + "/sink?id=" + id, { method: u.searchParams.get("method") ?? "POST", body: gen(n, 65536), headers });
        return out(await r.json());
      }
      case "/upload-error": {
        let i = 0;
        const body = new ReadableStream({ pull(c) { if (++i > 3) c.error(new RangeError("the source broke")); else c.enqueue(new Uint8Array(1000)); } });
        await fetch(UP + "/sink?id=" + id, { method: "POST", body });
        return out({});
      }
      case "/upload-string-chunk": {
        const body = new ReadableStream({ start(c) { c.enqueue("not bytes"); c.close(); } });
        await fetch(UP + "/sink?id=" + id, { method: "POST", body });
        return out({});
      }
      case "/upload-abort": {
        cancelled = null;
        // An endless body, a chunk every 5 ms: the abort comes mid-upload.
        const body = new ReadableStream({
          async pull(c) { await new Promise((r) => setTimeout(r, 5)); c.enqueue(new Uint8Array(4096)); },
          cancel(w) { cancelled = String(w?.name ?? w); },
        });
        await fetch(UP + "/sink-slow?id=" + id, { method: "POST", body, signal: AbortSignal.timeout(300) });
        return out({});
      }
      case "/cancelled": return out({ cancelled });
      case "/upload-307": {
        await fetch(UP + "/307", { method: "POST", body: gen(1000, 100) });
        return out({});
      }
      case "/coded": {
        const init = {};
        if (u.searchParams.has("manual")) init.encodeResponseBody = "manual";
        if (u.searchParams.has("ae")) init.headers = { "accept-encoding": u.searchParams.get("ae") };
        const r = await fetch(UP + "/coded?enc=" + u.searchParams.get("enc"), init);
        const bytes = new Uint8Array(await r.arrayBuffer());
        return out({ ce: r.headers.get("content-encoding"), cl: r.headers.get("content-length"), ae: r.headers.get("x-accept-encoding"),
          length: bytes.length, text: new TextDecoder().decode(bytes), first: [bytes[0], bytes[1]] });
      }
      case "/redirect-method": {
        const method = u.searchParams.get("method");
        const body = u.searchParams.has("stream") ? gen(300000, 65536) : method === "GET" || method === "HEAD" ? null : "payload";
        const to = u.searchParams.has("cross") ? "http://localhost:PORT/echo" : "/echo";
        const r = await fetch(UP + "/redir?code=" + u.searchParams.get("code") + "&to=" + encodeURIComponent(to),
          { method, body, headers: { authorization: "Bearer secret", "content-type": "text/x-test" } });
        return out({ ...(await r.json()), redirected: r.redirected, url: r.url });
      }
      case "/proxy": return fetch(UP + "/coded?enc=gzip");
      case "/bad-coding": { const r = await fetch(UP + "/bad-coding"); return out({ text: await r.text() }); }
      case "/bad-option": { await fetch(UP + "/coded?enc=gzip", { encodeResponseBody: "zip" }); return out({}); }
    }
  } catch (e) { return out({ error: err(e) }); }
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

const j = async (path) => { const r = await fetch(srv.url + path); assert.equal(r.status, 200, path); return r.json(); };
const sanitized = /\/asan\//.test(bin) || process.env.ASAN_OPTIONS !== undefined;
const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))[1]);

test("a 100 MB ReadableStream request body is streamed to the server chunked, in bounded memory", async () => {
  const base = rssKb(srv.proc.pid);
  let peak = base;
  const timer = setInterval(() => { peak = Math.max(peak, rssKb(srv.proc.pid)); }, 20);
  let r;
  try { r = await j(`/upload?id=big&n=${UPLOAD}`); } finally { clearInterval(timer); }
  assert.deepEqual(r, { bytes: UPLOAD, te: "chunked", cl: null });
  const grewMb = (peak - base) / 1024;
  console.log(`# upload: RSS grew by ${grewMb.toFixed(1)} MB for a 100 MB body`);
  if (!sanitized) assert.ok(grewMb < 40, `RSS grew by ${grewMb.toFixed(1)} MB for a 100 MB request body`);
});

test("a streamed body with the caller's Content-Length goes with that length, other methods too; a wrong length is a TypeError", async () => {
  assert.deepEqual(await j("/upload?id=cl&n=200000&cl=200000&method=PUT"), { bytes: 200000, te: null, cl: "200000" });
  const short = await j("/upload?id=short&n=1000&cl=5000");
  assert.equal(short.error?.name, "TypeError");
  assert.match(short.error.message, /^fetch failed: .*Content-Length/);
  const long = await j("/upload?id=long&n=200000&cl=1000");
  assert.equal(long.error?.name, "TypeError");
  assert.match(long.error.message, /more bytes than its Content-Length header declared \(1000\)/);
});

test("a request body stream that errors rejects the fetch with its error; a chunk that is not bytes is a TypeError", async () => {
  const r = await j("/upload-error?id=err");
  assert.deepEqual(r.error, { name: "RangeError", message: "the source broke", ctor: "RangeError" });
  const s = await j("/upload-string-chunk?id=str");
  assert.equal(s.error?.name, "TypeError");
  assert.match(s.error.message, /not an ArrayBuffer or ArrayBufferView/);
  await new Promise((res) => setTimeout(res, 200));
  assert.notEqual(uploads.err?.done, true, "the server must not take the broken body for a whole one");
});

test("AbortSignal mid-upload rejects with its reason, cancels the body stream and closes the connection", async () => {
  const r = await j("/upload-abort?id=abort");
  assert.equal(r.error?.name, "TimeoutError");
  assert.equal((await j("/cancelled")).cancelled, "TimeoutError");
  for (let i = 0; i < 100 && !uploads.abort?.aborted; i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(uploads.abort?.aborted, true, "the upstream connection was closed");
  assert.ok(uploads.abort.bytes > 0, "the body was being sent when the signal fired");
});

test("a 307 redirect of a streamed body fails with a TypeError that says why", async () => {
  const r = await j("/upload-307");
  assert.equal(r.error?.name, "TypeError");
  assert.match(r.error.message, /^fetch failed: a redirect \(307\) asks to send the request body again/);
});

test("gzip, deflate and br responses are decoded; the head then has no Content-Encoding or Content-Length", async () => {
  for (const enc of ["gzip", "deflate", "br"]) {
    const r = await j(`/coded?enc=${enc}`);
    assert.equal(r.text, TEXT, enc);
    assert.equal(r.ce, null, enc);
    assert.equal(r.cl, null, enc);
    assert.equal(r.ae, "gzip, deflate, br", "Accept-Encoding is sent when the Worker set none");
  }
  const own = await j(`/coded?enc=gzip&ae=gzip`);
  assert.equal(own.ae, "gzip", "the Worker's own Accept-Encoding goes as it is");
  assert.equal(own.text, TEXT);
});

test("encodeResponseBody: \"manual\" hands over the bytes as received, with their headers", async () => {
  const r = await j(`/coded?enc=gzip&manual=1`);
  assert.equal(r.ce, "gzip");
  assert.deepEqual(r.first, [0x1f, 0x8b]);
  assert.equal(r.length, zlib.gzipSync(TEXT).length);
  assert.equal(Number(r.cl), r.length);
  const bad = await j("/bad-option");
  assert.equal(bad.error?.name, "TypeError");
  assert.match(bad.error.message, /encodeResponseBody must be "automatic" or "manual"/);
});

test("a gzip response passed straight through reaches the client decoded and consistent", async () => {
  const r = await fetch(srv.url + "/proxy", { headers: { "accept-encoding": "identity" } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-encoding"), null);
  assert.equal(await r.text(), TEXT);
});

test("a body that is not what its Content-Encoding says fails with a TypeError", async () => {
  const r = await j("/bad-coding");
  assert.equal(r.error?.name, "TypeError");
  assert.match(r.error.message, /^fetch failed: /);
});

test("redirects change the method as the standard says, keep the body when they keep it, and keep Authorization to the same origin only", async () => {
  const cases = [
    ["POST", 301, "GET", ""], ["POST", 302, "GET", ""], ["POST", 303, "GET", ""], ["PUT", 303, "GET", ""], ["DELETE", 303, "GET", ""],
    ["PUT", 301, "PUT", "payload"], ["PATCH", 302, "PATCH", "payload"], ["POST", 307, "POST", "payload"], ["PUT", 308, "PUT", "payload"],
  ];
  for (const [method, code, want, body] of cases) {
    const r = await j(`/redirect-method?method=${method}&code=${code}`);
    assert.equal(r.method, want, `${method} ${code}`);
    assert.equal(r.body, body, `${method} ${code}`);
    assert.equal(r.ct, want === "GET" ? null : "text/x-test", `${method} ${code}: the body's headers go with the body`);
    assert.equal(r.auth, "Bearer secret", `${method} ${code}: same origin`);
    assert.equal(r.redirected, true);
  }
  const cross = await j(`/redirect-method?method=GET&code=302&cross=1`);
  assert.equal(cross.method, "GET");
  assert.equal(cross.auth, null, "Authorization does not go to another origin");
  assert.match(cross.url, /^http:\/\/localhost:\d+\/echo$/);
  const streamed = await j(`/redirect-method?method=POST&code=303&stream=1`);
  assert.deepEqual([streamed.method, streamed.body], ["GET", ""], "a streamed body is dropped with the method");
});
