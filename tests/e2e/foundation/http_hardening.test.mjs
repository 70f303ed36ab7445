// Hostile and odd HTTP/1.1 on the wire (issue 8, items 1, 10, 14 and the fidelity
// notes): Host checks and request.url, header-name whitespace, obs-fold, versions,
// chunk-size overflow, the body size unit and deadline, statusText as the reason
// phrase, Symbol header values. Raw sockets send the exact bytes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { startDev, makeProject, raw, parseResponses, bin } from "../lib.mjs";

let srv;
before(async () => {
  const dir = makeProject({
    "wrangler.toml": `name = "hardening"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`,
    "index.js": `export default { async fetch(req) {
      const u = new URL(req.url);
      if (u.pathname === "/echo") {
        const body = await req.arrayBuffer();
        return new Response(req.method + " " + body.byteLength);
      }
      if (u.pathname === "/status") return new Response("gone", { status: 404, statusText: "Not Here" });
      if (u.pathname === "/status-latin1") return new Response("x", { status: 200, statusText: "Caf\\u00e9 ok" });
      if (u.pathname === "/status-bad") {
        const out = {};
        for (const [k, st] of [["crlf", "a\\r\\nX-Injected: 1"], ["nul", "a\\u0000b"], ["wide", "\\u20ac"], ["symbol", Symbol("s")]]) {
          try { new Response("x", { status: 200, statusText: st }); out[k] = "no error"; }
          catch (e) { out[k] = e.constructor.name; }
        }
        return Response.json(out);
      }
      if (u.pathname === "/symbol") {
        const out = {};
        const tries = {
          ctor: () => new Headers({ a: Symbol("h") }),
          pairs: () => new Headers([["a", Symbol("h")]]),
          set: () => new Headers().set("a", Symbol()),
          append: () => new Headers().append("a", Symbol("h")),
          name: () => new Headers().set(Symbol("n"), "v"),
          response: () => new Response("x", { headers: { a: Symbol("h") } }),
          request: () => new Request("http://x/", { headers: { a: Symbol("h") } }),
        };
        for (const [k, f] of Object.entries(tries)) {
          try { f(); out[k] = "no error"; } catch (e) { out[k] = e.constructor.name; }
        }
        return Response.json(out);
      }
      if (u.pathname === "/symbol-sent") return new Response("x", { headers: { a: Symbol("h") } });
      return Response.json({ url: req.url, host: req.headers.get("host"), headers: [...req.headers] });
    } };`,
  });
  srv = await startDev(dir, ["--max-body-mb", "1", "--body-timeout-ms", "1500"]);
});
after(async () => { assert.equal((await srv.stop()).code, 0); });

const first = async (wire, opts) => {
  const { text, closed } = await raw(srv.port, wire, opts);
  return { ...parseResponses(text)[0], text, closed };
};

const assertJsonError = (r, status, re) => {
  assert.match(r.text, new RegExp(`^HTTP/1\\.1 ${status} `), r.text);
  assert.equal(r.headers["content-type"], "application/json");
  const body = JSON.parse(r.body);
  assert.equal(typeof body.error, "string");
  if (re) assert.match(body.error, re);
  assert.equal(r.closed, true, "the connection closes after the error");
};

test("HTTP/1.1 without exactly one valid Host: 400 with a JSON error", async () => {
  const cases = {
    missing: "GET /url HTTP/1.1\r\n\r\n",
    empty: "GET /url HTTP/1.1\r\nHost:\r\n\r\n",
    path: "GET /url HTTP/1.1\r\nHost: evil.com/fake?\r\n\r\n",
    userinfo: "GET /url HTTP/1.1\r\nHost: a@b\r\n\r\n",
    two: "GET /url HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
    port: "GET /url HTTP/1.1\r\nHost: a:99999\r\n\r\n",
    ipv6: "GET /url HTTP/1.1\r\nHost: [::1\r\n\r\n",
  };
  for (const [name, wire] of Object.entries(cases)) {
    const r = await first(wire);
    assert.match(r.text, /^HTTP\/1\.1 400 /, `${name}: ${r.text}`);
    assertJsonError(r, 400, /Host/);
  }
});

test("a valid Host makes request.url; HTTP/1.0 without Host gets the listen address", async () => {
  let r = await first("GET /url?q=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nConnection: close\r\n\r\n");
  assert.equal(JSON.parse(r.body).url, "http://example.com:8080/url?q=1");
  r = await first("GET /url HTTP/1.1\r\nHost: [::1]:9\r\nConnection: close\r\n\r\n");
  assert.equal(JSON.parse(r.body).url, "http://[::1]:9/url");
  r = await first("GET /url HTTP/1.0\r\n\r\n");
  const j = JSON.parse(r.body);
  assert.equal(j.url, `http://127.0.0.1:${srv.port}/url`);
  assert.equal(j.host, null);
});

test("an xn-- Host label must be valid Punycode, so that new URL(request.url) works", async () => {
  let r = await first("GET /url HTTP/1.1\r\nHost: xn--bcher-kva.example\r\nConnection: close\r\n\r\n");
  assert.equal(JSON.parse(r.body).url, "http://xn--bcher-kva.example/url");
  for (const host of ["xn--a", "XN--.example", "a.xn--zz-"]) {
    r = await first(`GET /url HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    assertJsonError(r, 400, /Punycode/);
  }
});

test("absolute-form target: its authority wins, Host is still required", async () => {
  let r = await first("GET http://other.example/y?z HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.equal(JSON.parse(r.body).url, "http://other.example/y?z");
  assert.equal(JSON.parse(r.body).host, "t");
  r = await first("GET http://other.example/y HTTP/1.1\r\n\r\n");
  assertJsonError(r, 400, /Host/);
  r = await first("GET http://u:p@other.example/y HTTP/1.1\r\nHost: t\r\n\r\n");
  assertJsonError(r, 400);
});

test("whitespace before the colon is refused, not honoured as Content-Length (RFC 9112 §5.1)", async () => {
  // Were "Content-Length : 35" honoured, the 35 bytes would be taken as the body of
  // /echo; read as a second request they would be a smuggled one.
  const smuggled = "GET /url HTTP/1.1\r\nHost: smuggled\r\n\r\n";
  const r = await first(`POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length : ${smuggled.length}\r\n\r\n${smuggled}`);
  assertJsonError(r, 400, /whitespace/);
  assert.doesNotMatch(r.text, /smuggled|POST \d/);
});

test("a space or control character in a field name, or a leading-whitespace header line: 400", async () => {
  const cases = [
    "GET /url HTTP/1.1\r\nHost: t\r\nFoo Bar: x\r\n\r\n",
    "GET /url HTTP/1.1\r\nHost: t\r\nFoo\x01Bar: x\r\n\r\n",
    "GET /url HTTP/1.1\r\n Host: t\r\n\r\n",
    "GET /url HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n folded\r\n\r\n",
  ];
  for (const wire of cases) assertJsonError(await first(wire), 400);
});

test("HTTP/9.9: 505", async () => {
  assertJsonError(await first("GET /url HTTP/9.9\r\nHost: t\r\n\r\n"), 505, /HTTP\/9\.9/);
});

test("a chunk size past 64 bits is named as such, not as content-length", async () => {
  const r = await first("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n");
  assertJsonError(r, 400, /chunk size/);
  assert.doesNotMatch(r.body, /content-length/i);
});

test("--max-body-mb counts MiB: 1,048,576 bytes pass, one more is 413", async () => {
  const ok = await fetch(srv.url + "/echo", { method: "POST", body: new Uint8Array(1048576) });
  assert.equal(await ok.text(), "POST 1048576");
  const big = await first(`POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n`);
  assertJsonError(big, 413);
  const help = spawnSync(bin, ["dev", "--help"], { encoding: "utf8" });
  assert.match(help.stdout, /--max-body-mb N[^\n]*MiB/);
  assert.match(help.stdout, /--body-timeout-ms N/);
});

test("a body trickled one byte at a time is cut off at the body deadline: 408", async () => {
  const head = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n";
  // A byte every 200 ms never stalls the connection, so only the total deadline
  // (--body-timeout-ms 1500) can end it; 40 bytes take 8 s.
  const r = await first([head, ...Array(40).fill("x")], { gapMs: 200, ms: 15000 });
  assertJsonError(r, 408, /not received within 1500 ms/);
});

test("a custom statusText is the reason phrase on the wire", async () => {
  let r = await first("GET /status HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.match(r.text, /^HTTP\/1\.1 404 Not Here\r\n/);
  assert.equal(r.body, "gone");
  r = await first("GET /status-latin1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.match(r.text, /^HTTP\/1\.1 200 Caf\xe9 ok\r\n/, "obs-text goes out as one byte (latin1)");
  r = await first("GET /url HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
  const bad = await (await fetch(srv.url + "/status-bad")).json();
  assert.deepEqual(bad, { crlf: "TypeError", nul: "TypeError", wide: "TypeError", symbol: "TypeError" });
});

test("a Symbol header value throws TypeError instead of being sent as 'Symbol(h)'", async () => {
  const out = await (await fetch(srv.url + "/symbol")).json();
  for (const [k, v] of Object.entries(out)) assert.equal(v, "TypeError", k);
  const r = await first("GET /symbol-sent HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.match(r.text, /^HTTP\/1\.1 500 /);
  assert.doesNotMatch(r.text, /Symbol\(h\)/);
});
