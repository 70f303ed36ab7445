// Request, Response and Headers as a Worker sees them (spec WEB-1, WEB-2, WEB-3):
// the attributes are prototype accessors as in workerd (no own properties), a
// Response's body content-type shows however late its headers are first read and
// reaches the wire when they never are, clones and the static constructors keep
// their fields, the incoming Request's headers are lower-case and readable, and
// new URL() of the same string twice gives equal, independent URL objects.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startDev, makeProject } from "../lib.mjs";

let srv;
before(async () => {
  const dir = makeProject({
    "wrangler.toml": `name = "reqres"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`,
    "index.js": `
const err = (e) => ({ name: e?.name, message: e?.message ?? String(e) });
const desc = (proto, k) => {
  const d = Object.getOwnPropertyDescriptor(proto, k);
  return d ? { get: typeof d.get, set: typeof d.set } : null;
};
const cases = {
  async shape(req) {
    const r = new Response("x");
    const rq = new Request("https://a.example/p", { method: "POST", body: "b", redirect: "manual", cf: { c: 1 } });
    const attrs = ["url", "redirected", "type", "webSocket", "cf", "status", "statusText", "ok", "headers", "body", "bodyUsed"];
    return {
      responseKeys: Object.keys(r), responseOwn: Reflect.ownKeys(r).filter((k) => typeof k === "string"),
      requestKeys: Object.keys(rq), incomingKeys: Object.keys(req),
      responseDescs: Object.fromEntries(attrs.map((k) => [k, desc(Response.prototype, k)])),
      requestDescs: Object.fromEntries(["url", "method", "headers", "redirect", "signal", "cf"].map((k) => [k, desc(Request.prototype, k)])),
      json: JSON.stringify(r),
      values: { url: r.url, redirected: r.redirected, type: r.type, webSocket: r.webSocket, cf: r.cf, status: r.status, statusText: r.statusText, ok: r.ok },
      request: { redirect: rq.redirect, cf: rq.cf, signalIsSignal: rq.signal instanceof AbortSignal, ct: rq.headers.get("content-type") },
      incoming: { redirect: req.redirect, method: req.method, hasSignal: req.signal !== undefined && req.signal !== null },
    };
  },
  async assignReadonly() {
    const r = new Response("x");
    try { r.url = "https://x.example/"; return "no error"; } catch (e) { return { ...err(e), url: r.url }; }
  },
  async lateHeaders() {
    const r = new Response("hello");
    const r2 = new Response(new Uint8Array([1, 2]));
    const r3 = new Response("t", { headers: { "content-type": "text/html", "x-a": "1" } });
    const r4 = new Response(new URLSearchParams("a=1"));
    const r5 = new Response(null);
    const h = r.headers;
    return {
      ct: h.get("content-type"), same: r.headers === h, entries: [...h],
      bytes: [...r2.headers], given: [...r3.headers], form: r4.headers.get("content-type"), none: [...r5.headers],
      text: await r.text(),
    };
  },
  async mutateLate() {
    const r = new Response("hi");
    r.headers.set("content-type", "application/x-custom");
    r.headers.append("X-Extra", " v ");
    return r;
  },
  async noHeadersRead() { return new Response("plain body"); },
  async bytesNoHeaders() { return new Response(new Uint8Array([104, 105])); },
  async clones() {
    const r = new Response("c", { status: 201, statusText: "Made", headers: { "x-k": "v" } });
    const c = r.clone();
    c.headers.set("x-k", "changed");
    const plain = new Response("p");
    const pc = plain.clone();
    const rq = new Request("https://a.example/", { method: "PUT", body: "rb", redirect: "error" });
    const rqc = rq.clone();
    return {
      orig: r.headers.get("x-k"), clone: c.headers.get("x-k"), status: c.status, statusText: c.statusText, ct: c.headers.get("content-type"),
      texts: [await r.text(), await c.text()], plain: [pc.headers.get("content-type"), await pc.text(), await plain.text()],
      cloneKeys: Object.keys(c), rq: { redirect: rqc.redirect, method: rqc.method, text: await rqc.text(), keys: Object.keys(rqc) },
      wrapped: new Request(rq, { headers: { "x-y": "1" } }).redirect,
    };
  },
  async statics() {
    const j = Response.json({ a: 1 }, { status: 202, headers: { "x-j": "1" } });
    const rd = Response.redirect("https://b.example/x", 301);
    const e = Response.error();
    let frozen;
    try { rd.headers.set("x", "1"); frozen = "no error"; } catch (x) { frozen = err(x).name; }
    let frozenErr;
    try { e.headers.set("x", "1"); frozenErr = "no error"; } catch (x) { frozenErr = err(x).name; }
    return {
      json: { status: j.status, ct: j.headers.get("content-type"), xj: j.headers.get("x-j"), body: await j.json() },
      redirect: { status: rd.status, location: rd.headers.get("location"), frozen, keys: Object.keys(rd) },
      error: { status: e.status, type: e.type, frozenErr, ok: e.ok, keys: Object.keys(e) },
    };
  },
  async headers(req) {
    const h = req.headers;
    const l = new Headers([["B", "2"], ["a", "1"], ["set-cookie", "x=1"], ["Set-Cookie", "y=2"], ["a", "3"]]);
    l.set("b", "two");
    l.delete("missing");
    let bad;
    try { l.append("bad name", "v"); bad = "no error"; } catch (e) { bad = err(e).name; }
    let badValue;
    try { l.append("x", "a\\nb"); badValue = "no error"; } catch (e) { badValue = err(e).name; }
    const t = new Headers({ "X-T": "  \\t spaced \\t " });
    return {
      custom: h.get("x-Custom-Header"), same: req.headers === h, names: [...h.keys()].filter((k) => k.startsWith("x-")),
      list: [...l], cookies: l.getSetCookie(), get: l.get("A"), has: [l.has("b"), l.has("zz")], bad, badValue,
      trimmed: t.get("x-t"), copy: [...new Headers(l)].length,
    };
  },
  async url() {
    const s = "https://u.example:8443/p?q=1#h";
    const a = new URL(s), b = new URL(s);
    b.pathname = "/changed";
    b.searchParams.set("q", "2");
    const c = new URL(s);
    return { a: a.href, b: b.href, c: c.href, port: c.port, same: a === c, params: c.searchParams.get("q") };
  },
};
export default { async fetch(req) {
  const u = new URL(req.url);
  const f = cases[u.pathname.slice(1)];
  if (!f) return new Response("no such case", { status: 404 });
  try {
    const v = await f(req);
    return v instanceof Response ? v : Response.json(v);
  } catch (e) { return Response.json({ thrown: err(e) }, { status: 500 }); }
} };
`,
  });
  srv = await startDev(dir);
});
after(async () => { if (srv) assert.equal((await srv.stop()).code, 0); });

const j = async (name, init) => { const r = await fetch(`${srv.url}/${name}`, init); const v = await r.json(); assert.equal(r.status, 200, JSON.stringify(v)); return v; };
// The raw head (node's http keeps the names as they came).
const head = (name) => new Promise((resolve, reject) => {
  http.get(`${srv.url}/${name}`, (res) => {
    let body = "";
    res.setEncoding("latin1");
    res.on("data", (c) => { body += c; });
    res.on("end", () => resolve({ status: res.statusCode, headers: res.rawHeaders, body }));
  }).on("error", reject);
});

test("Request and Response have no own properties: their attributes are prototype getters (as workerd)", async () => {
  const v = await j("shape");
  assert.deepEqual(v.responseKeys, []);
  assert.deepEqual(v.responseOwn, []);
  assert.deepEqual(v.requestKeys, []);
  assert.deepEqual(v.incomingKeys, []);
  for (const [k, d] of Object.entries(v.responseDescs)) assert.deepEqual(d, { get: "function", set: "undefined" }, `Response ${k}`);
  for (const [k, d] of Object.entries(v.requestDescs)) assert.deepEqual(d, { get: "function", set: "undefined" }, `Request ${k}`);
  assert.equal(v.json, "{}");
  assert.deepEqual(v.values, { url: "", redirected: false, type: "default", webSocket: null, status: 200, statusText: "", ok: true });
  assert.deepEqual(v.request, { redirect: "manual", cf: { c: 1 }, signalIsSignal: true, ct: "text/plain;charset=UTF-8" });
  assert.deepEqual(v.incoming, { redirect: "manual", method: "GET", hasSignal: false });
});

test("assigning a Response attribute throws (read-only accessor) and leaves it unchanged", async () => {
  const v = await j("assignReadonly");
  assert.equal(v.name, "TypeError");
  assert.equal(v.url, "");
});

test("a Response's body content-type shows when its headers are first read after construction", async () => {
  const v = await j("lateHeaders");
  assert.equal(v.ct, "text/plain;charset=UTF-8");
  assert.equal(v.same, true);
  assert.deepEqual(v.entries, [["content-type", "text/plain;charset=UTF-8"]]);
  assert.deepEqual(v.bytes, []);
  assert.deepEqual(v.given, [["content-type", "text/html"], ["x-a", "1"]]);
  assert.equal(v.form, "application/x-www-form-urlencoded;charset=UTF-8");
  assert.deepEqual(v.none, []);
  assert.equal(v.text, "hello");
});

test("on the wire: the body's content-type when headers were never read, and the changed one when they were", async () => {
  const a = await head("noHeadersRead");
  assert.equal(a.status, 200);
  assert.equal(a.body, "plain body");
  const names = a.headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  assert.equal(names.filter((n) => n === "content-type").length, 1);
  assert.equal(a.headers[a.headers.findIndex((n) => n.toLowerCase() === "content-type") + 1], "text/plain;charset=UTF-8");
  const b = await head("bytesNoHeaders");
  assert.equal(b.body, "hi");
  assert.equal(b.headers.some((n, i) => i % 2 === 0 && n.toLowerCase() === "content-type"), false);
  const c = await head("mutateLate");
  const get = (n) => c.headers[c.headers.findIndex((x, i) => i % 2 === 0 && x.toLowerCase() === n) + 1];
  assert.equal(get("content-type"), "application/x-custom");
  assert.equal(get("x-extra"), "v");
  assert.equal(c.body, "hi");
});

test("clone() of a Response and a Request keeps status, headers (copied), body and options", async () => {
  const v = await j("clones");
  assert.equal(v.orig, "v");
  assert.equal(v.clone, "changed");
  assert.equal(v.status, 201);
  assert.equal(v.statusText, "Made");
  assert.equal(v.ct, "text/plain;charset=UTF-8");
  assert.deepEqual(v.texts, ["c", "c"]);
  assert.deepEqual(v.plain, ["text/plain;charset=UTF-8", "p", "p"]);
  assert.deepEqual(v.cloneKeys, []);
  assert.deepEqual(v.rq, { redirect: "error", method: "PUT", text: "rb", keys: [] });
  assert.equal(v.wrapped, "error");
});

test("Response.json, Response.redirect (immutable headers) and Response.error", async () => {
  const v = await j("statics");
  assert.deepEqual(v.json, { status: 202, ct: "application/json", xj: "1", body: { a: 1 } });
  assert.deepEqual(v.redirect, { status: 301, location: "https://b.example/x", frozen: "TypeError", keys: [] });
  assert.deepEqual(v.error, { status: 0, type: "error", frozenErr: "TypeError", ok: false, keys: [] });
});

test("headers: the incoming request's are lower-case and readable; Headers operations and checks", async () => {
  const v = await j("headers", { headers: { "X-Custom-Header": "Value 1" } });
  assert.equal(v.custom, "Value 1");
  assert.equal(v.same, true);
  assert.deepEqual(v.names, ["x-custom-header"]);
  assert.deepEqual(v.list, [["a", "1, 3"], ["b", "two"], ["set-cookie", "x=1"], ["set-cookie", "y=2"]]);
  assert.deepEqual(v.cookies, ["x=1", "y=2"]);
  assert.equal(v.get, "1, 3");
  assert.deepEqual(v.has, [true, false]);
  assert.equal(v.bad, "TypeError");
  assert.equal(v.badValue, "TypeError");
  assert.equal(v.trimmed, "spaced");
  assert.equal(v.copy, 4);
});

test("new URL() of the same string twice: equal, independent objects", async () => {
  const v = await j("url");
  assert.equal(v.a, "https://u.example:8443/p?q=1#h");
  assert.equal(v.b, "https://u.example:8443/changed?q=2#h");
  assert.equal(v.c, "https://u.example:8443/p?q=1#h");
  assert.equal(v.port, "8443");
  assert.equal(v.same, false);
  assert.equal(v.params, "1");
});
