// The Cache API over <persist-to>/cache.sqlite (web/cache.c, web/js/39_cache.js;
// docs/web.md "Cache API"): put/match/delete, the Cache-Control rules, expiry,
// Range and conditional matches, caches.open isolation, the bounds, sharing
// between shards and persistence across a restart of `durable dev`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { startDev, makeProject, runDevExpectFailure } from "../lib.mjs";
import { makeData, startServe, call as api, form } from "../serve/serve_lib.mjs";

const worker = `
export default { async fetch(req) {
  const u = new URL(req.url), q = u.searchParams;
  const cache = q.has("cache") ? await caches.open(q.get("cache")) : caches.default;
  const key = "https://example.com/" + (q.get("key") ?? "k");
  const opts = q.has("ignoreMethod") ? { ignoreMethod: true } : undefined;
  try {
    switch (u.pathname) {
      case "/put": {
        const size = Number(q.get("size") ?? -1);
        const body = size >= 0 ? new Uint8Array(size).fill(97) : (q.get("body") ?? "hello");
        const res = new Response(body, { status: Number(q.get("status") ?? 200), headers: JSON.parse(q.get("h") ?? "{}") });
        const r = await cache.put(q.get("method") ? new Request(key, { method: q.get("method") }) : key, res);
        return Response.json({ put: r === undefined ? "undefined" : r, used: res.bodyUsed });
      }
      case "/putstream": {
        const te = new TextEncoder(), parts = JSON.parse(q.get("parts"));
        const body = new ReadableStream({ start(c) { for (const p of parts) c.enqueue(p === 1 ? "a string" : te.encode(p)); c.close(); } });
        await cache.put(key, new Response(body, { headers: { "cache-control": "max-age=600" } }));
        return Response.json({ put: "undefined" });
      }
      case "/match": {
        const r = await cache.match(new Request(key, { method: q.get("method") ?? "GET", headers: JSON.parse(q.get("rh") ?? "{}") }), opts);
        if (r === undefined) return Response.json({ miss: true });
        return Response.json({ status: r.status, headers: Object.fromEntries(r.headers), body: await r.text() });
      }
      case "/delete":
        return Response.json({ deleted: await cache.delete(new Request(key, { method: q.get("method") ?? "GET" }), opts) });
    }
    return new Response("no such route", { status: 404 });
  } catch (e) {
    return Response.json({ thrown: { name: e.name, message: e.message } });
  }
} };
`;

const project = () => makeProject({
  "wrangler.toml": `name = "cachetest"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`,
  "index.js": worker,
});

const call = async (srv, route, params = {}) => {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) qs.set(k, typeof v === "string" ? v : JSON.stringify(v));
  const r = await fetch(`${srv.url}/${route}?${qs}`);
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
};

let dir, persist, srv;
before(async () => {
  dir = project();
  persist = fs.mkdtempSync(path.join(os.tmpdir(), "durable-cache-"));
  srv = await startDev(dir, ["--persist-to", persist]);
});
after(async () => { if (srv) assert.equal((await srv.stop()).code, 0); });

test("put, match and delete: the stored response comes back with cf-cache-status: HIT", async () => {
  const h = { "cache-control": "max-age=600", "content-type": "text/x-mine", "x-extra": "1" };
  assert.deepEqual(await call(srv, "put", { key: "basic", body: "stored body", h, status: "200" }),
    { put: "undefined", used: true });
  const m = await call(srv, "match", { key: "basic" });
  assert.equal(m.status, 200);
  assert.equal(m.body, "stored body");
  assert.equal(m.headers["cf-cache-status"], "HIT");
  assert.equal(m.headers["content-type"], "text/x-mine");
  assert.equal(m.headers["x-extra"], "1");
  assert.ok(fs.statSync(path.join(persist, "cache.sqlite")).isFile());
  // A second put replaces the entry.
  await call(srv, "put", { key: "basic", body: "second", h });
  assert.equal((await call(srv, "match", { key: "basic" })).body, "second");
  assert.deepEqual(await call(srv, "delete", { key: "basic" }), { deleted: true });
  assert.deepEqual(await call(srv, "match", { key: "basic" }), { miss: true });
  assert.deepEqual(await call(srv, "delete", { key: "basic" }), { deleted: false });
});

test("put reads a streamed body whole; a chunk that is not bytes is a TypeError", async () => {
  await call(srv, "putstream", { key: "st", parts: ["one ", "two ", "three"] });
  assert.equal((await call(srv, "match", { key: "st" })).body, "one two three");
  const r = await call(srv, "putstream", { key: "st2", parts: ["one", 1] });
  assert.equal(r.thrown.name, "TypeError");
  assert.match(r.thrown.message, /not bytes/);
  assert.deepEqual(await call(srv, "match", { key: "st2" }), { miss: true });
});

test("put of a non-GET request is a TypeError; match and delete of one miss unless ignoreMethod", async () => {
  assert.deepEqual(await call(srv, "put", { key: "m", method: "POST", h: { "cache-control": "max-age=60" } }),
    { thrown: { name: "TypeError", message: "Cannot cache response to non-GET request." } });
  await call(srv, "put", { key: "m", body: "got", h: { "cache-control": "max-age=600" } });
  assert.deepEqual(await call(srv, "match", { key: "m", method: "POST" }), { miss: true });
  assert.equal((await call(srv, "match", { key: "m", method: "POST", ignoreMethod: "1" })).body, "got");
  assert.deepEqual(await call(srv, "delete", { key: "m", method: "POST" }), { deleted: false });
  assert.deepEqual(await call(srv, "delete", { key: "m", method: "POST", ignoreMethod: "1" }), { deleted: true });
});

test("what Cache-Control, Set-Cookie, Expires and the status say is not stored, is not", async () => {
  const notStored = [
    { "cache-control": "no-store" },
    { "cache-control": "public, no-store, max-age=600" },
    { "cache-control": "private, max-age=600" },
    { "cache-control": "no-cache" },
    { "cache-control": "max-age=0" },
    { "cache-control": "max-age=soon" },
    { "cache-control": "max-age=600", "set-cookie": "a=1" },
    { expires: "Thu, 01 Jan 1970 00:00:00 GMT" },
    { expires: "not a date" },
  ];
  for (const [i, h] of notStored.entries()) {
    assert.deepEqual(await call(srv, "put", { key: `ns${i}`, h }), { put: "undefined", used: true }, JSON.stringify(h));
    assert.deepEqual(await call(srv, "match", { key: `ns${i}` }), { miss: true }, JSON.stringify(h));
  }
  // A status Cloudflare does not cache by default, without a TTL of its own.
  await call(srv, "put", { key: "s500", status: "500" });
  assert.deepEqual(await call(srv, "match", { key: "s500" }), { miss: true });
  // ... and with one it is kept; a 200 without any header gets the default TTL.
  await call(srv, "put", { key: "s500b", status: "500", h: { "cache-control": "s-maxage=600" } });
  assert.equal((await call(srv, "match", { key: "s500b" })).status, 500);
  await call(srv, "put", { key: "plain", body: "p" });
  assert.equal((await call(srv, "match", { key: "plain" })).body, "p");
  await call(srv, "put", { key: "exp", h: { expires: new Date(Date.now() + 3600e3).toUTCString() } });
  assert.equal((await call(srv, "match", { key: "exp" })).status, 200);
  // private=Set-Cookie: stored, without the cookie.
  await call(srv, "put", { key: "ck", h: { "cache-control": 'max-age=600, private="Set-Cookie"', "set-cookie": "a=1", "x-k": "v" } });
  const m = await call(srv, "match", { key: "ck" });
  assert.equal(m.headers["x-k"], "v");
  assert.equal(m.headers["set-cookie"], undefined);
});

test("an entry expires: max-age=1 is a hit at once and a miss once the second has passed", async () => {
  await call(srv, "put", { key: "ttl", body: "short", h: { "cache-control": "max-age=1" } });
  assert.equal((await call(srv, "match", { key: "ttl" })).body, "short");
  // Wait for the expiry (a behaviour check with a generous deadline, not a timing assertion).
  const deadline = Date.now() + 15000;
  let m;
  do {
    await new Promise((r) => setTimeout(r, 250));
    m = await call(srv, "match", { key: "ttl" });
  } while (!m.miss && Date.now() < deadline);
  assert.deepEqual(m, { miss: true });
  assert.deepEqual(await call(srv, "delete", { key: "ttl" }), { deleted: false });
});

test("caches.open(name) caches are apart from each other and from caches.default", async () => {
  const h = { "cache-control": "max-age=600" };
  await call(srv, "put", { key: "iso", cache: "one", body: "in one", h });
  assert.equal((await call(srv, "match", { key: "iso", cache: "one" })).body, "in one");
  assert.deepEqual(await call(srv, "match", { key: "iso", cache: "two" }), { miss: true });
  assert.deepEqual(await call(srv, "match", { key: "iso" }), { miss: true });
  await call(srv, "put", { key: "iso", body: "in default", h });
  assert.equal((await call(srv, "match", { key: "iso", cache: "one" })).body, "in one");
  assert.equal((await call(srv, "match", { key: "iso" })).body, "in default");
});

test("Range gives a 206 (416 past the end); If-None-Match and If-Modified-Since give a 304", async () => {
  const lm = "Wed, 21 Oct 2015 07:28:00 GMT";
  await call(srv, "put", { key: "r", body: "0123456789", h: { "cache-control": "max-age=600", etag: '"v1"', "last-modified": lm } });
  let m = await call(srv, "match", { key: "r", rh: { range: "bytes=2-4" } });
  assert.equal(m.status, 206);
  assert.equal(m.body, "234");
  assert.equal(m.headers["content-range"], "bytes 2-4/10");
  m = await call(srv, "match", { key: "r", rh: { range: "bytes=-3" } });
  assert.deepEqual([m.status, m.body, m.headers["content-range"]], [206, "789", "bytes 7-9/10"]);
  m = await call(srv, "match", { key: "r", rh: { range: "bytes=8-" } });
  assert.deepEqual([m.status, m.body], [206, "89"]);
  m = await call(srv, "match", { key: "r", rh: { range: "bytes=20-30" } });
  assert.deepEqual([m.status, m.headers["content-range"]], [416, "bytes */10"]);
  m = await call(srv, "match", { key: "r", rh: { range: "bytes=0-1,4-5" } });
  assert.deepEqual([m.status, m.body], [200, "0123456789"]);
  m = await call(srv, "match", { key: "r", rh: { "if-none-match": 'W/"v1"' } });
  assert.deepEqual([m.status, m.body, m.headers.etag], [304, "", '"v1"']);
  m = await call(srv, "match", { key: "r", rh: { "if-none-match": '"v2"' } });
  assert.equal(m.status, 200);
  m = await call(srv, "match", { key: "r", rh: { "if-modified-since": lm } });
  assert.equal(m.status, 304);
  m = await call(srv, "match", { key: "r", rh: { "if-modified-since": "Tue, 20 Oct 2015 07:28:00 GMT" } });
  assert.equal(m.status, 200);
});

test("the cache outlives a restart of durable dev (same --persist-to)", async () => {
  const d = project();
  const p = fs.mkdtempSync(path.join(os.tmpdir(), "durable-cache-"));
  let s = await startDev(d, ["--persist-to", p]);
  try {
    await call(s, "put", { key: "kept", body: "survives", h: { "cache-control": "max-age=600" } });
    await call(s, "put", { key: "kept", cache: "named", body: "named survives", h: { "cache-control": "max-age=600" } });
  } finally { assert.equal((await s.stop()).code, 0); }
  s = await startDev(d, ["--persist-to", p]);
  try {
    assert.equal((await call(s, "match", { key: "kept" })).body, "survives");
    assert.equal((await call(s, "match", { key: "kept", cache: "named" })).body, "named survives");
  } finally { assert.equal((await s.stop()).code, 0); }
});

test("shards share the store: a put on one is a hit on every other", async () => {
  const p = fs.mkdtempSync(path.join(os.tmpdir(), "durable-cache-"));
  // --threads comes after startDev's own --threads 1 and wins.
  const s = await startDev(project(), ["--persist-to", p, "--threads", "3"]);
  try {
    await call(s, "put", { key: "shared", body: "everywhere", h: { "cache-control": "max-age=600" } });
    const all = await Promise.all(Array.from({ length: 24 }, () => call(s, "match", { key: "shared" })));
    for (const m of all) assert.equal(m.body, "everywhere");
  } finally { assert.equal((await s.stop()).code, 0); }
});

test("bounds: a body past --cache-object-mb is a RangeError; past --cache-mb the oldest entries go", async () => {
  const p = fs.mkdtempSync(path.join(os.tmpdir(), "durable-cache-"));
  const s = await startDev(project(), ["--persist-to", p, "--cache-object-mb", "1", "--cache-mb", "1"]);
  try {
    const h = { "cache-control": "max-age=600" };
    const big = await call(s, "put", { key: "big", size: String(1048577), h });
    assert.equal(big.thrown.name, "RangeError");
    assert.match(big.thrown.message, /larger than 1048576 bytes.*--cache-object-mb/);
    assert.deepEqual(await call(s, "match", { key: "big" }), { miss: true });
    for (const k of ["e1", "e2", "e3"]) await call(s, "put", { key: k, size: String(400 * 1024), h });
    assert.deepEqual(await call(s, "match", { key: "e1" }), { miss: true });
    assert.equal((await call(s, "match", { key: "e3" })).body.length, 400 * 1024);
    assert.equal((await call(s, "match", { key: "e2" })).body.length, 400 * 1024);
    // Exactly the bound is stored (and evicts what no longer fits beside it).
    await call(s, "put", { key: "exact", size: String(1048576), h });
    assert.equal((await call(s, "match", { key: "exact" })).body.length, 1048576);
  } finally { assert.equal((await s.stop()).code, 0); }
});

test("a cache.sqlite that is not a cache database: the calls reject naming the file, the Worker keeps serving", async () => {
  const p = fs.mkdtempSync(path.join(os.tmpdir(), "durable-cache-"));
  fs.writeFileSync(path.join(p, "cache.sqlite"), "this is not a database, ".repeat(200));
  const s = await startDev(project(), ["--persist-to", p]);
  try {
    for (const route of ["put", "match", "delete"]) {
      const r = await call(s, route, { key: "x", h: { "cache-control": "max-age=60" } });
      assert.equal(r.thrown?.name, "InternalError", JSON.stringify(r));
      assert.ok(r.thrown.message.includes(path.join(p, "cache.sqlite")), r.thrown.message);
    }
    assert.equal((await fetch(`${s.url}/nothing`)).status, 404);
  } finally { assert.equal((await s.stop()).code, 0); }
});

test("--cache-mb and --cache-object-mb take whole MiB within their range", async () => {
  const d = project();
  for (const [args, re] of [
    [["--cache-mb", "0"], /--cache-mb expects at least 1/],
    [["--cache-object-mb", "0"], /--cache-object-mb expects at least 1/],
    [["--cache-object-mb", "513"], /--cache-object-mb expects a whole number between 0 and 512/],
    [["--cache-mb", "lots"], /--cache-mb expects a whole number/],
  ]) {
    const r = await runDevExpectFailure(d, args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
  }
});

test("durable serve: each script has its own caches, in <data>/cache.sqlite", async () => {
  const { data, token } = makeData();
  const srv = await startServe(data);
  // The first label of Host names the script (node's fetch cannot set Host).
  const get = (name, route, params) => new Promise((resolve, reject) => {
    const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    const u = new URL(srv.url);
    const req = http.request({ host: u.hostname, port: u.port, path: `/${route}?${qs}`,
      headers: { host: `${name}.example.com` }, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    req.end();
  });
  try {
    // Each script answers /whoami with its name: until beta's deploy is swapped in,
    // a Host naming beta is served by the default script (alpha), whose cache the
    // test must not mistake for beta's.
    for (const name of ["alpha", "beta"]) {
      const src = worker.replace("switch (u.pathname) {", `switch (u.pathname) {\n      case "/whoami": return new Response("${name}");`);
      const r = await api(srv, token, "PUT", `/client/v4/accounts/:acct/workers/scripts/${name}`,
        form({ main_module: "w.mjs" }, { "w.mjs": ["application/javascript+module", src] }));
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    const deadline = Date.now() + 15000;
    let r;
    do { r = await get("beta", "whoami", {}); } while (r.body !== "beta" && Date.now() < deadline);
    assert.equal(r.body, "beta");
    assert.equal((await get("alpha", "whoami", {})).body, "alpha");
    assert.equal((await get("alpha", "put", { key: "s", body: "alpha's", h: { "cache-control": "max-age=600" } })).status, 200);
    assert.equal(JSON.parse((await get("alpha", "match", { key: "s" })).body).body, "alpha's");
    assert.deepEqual(JSON.parse((await get("beta", "match", { key: "s" })).body), { miss: true });
    assert.ok(fs.statSync(path.join(data, "cache.sqlite")).isFile());
  } finally { assert.equal((await srv.stop()).code, 0); }
});
