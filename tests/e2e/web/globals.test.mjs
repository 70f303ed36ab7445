// The globals of issue 10's web part: CompressionStream / DecompressionStream
// (zlib, interop with node's zlib here), TextEncoderStream / TextDecoderStream,
// URLPattern, caches (the argument checks; what it stores is tests/e2e/web/cache.test.mjs),
// and the small ones (navigator.userAgent, scheduler.wait, ...).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { startDev, makeProject } from "../lib.mjs";

let srv;
before(async () => {
  const dir = makeProject({
    "wrangler.toml": `name = "globals"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`,
    "index.js": `
const te = new TextEncoder(), td = new TextDecoder();
const err = (e) => ({ name: e?.name, message: e?.message ?? String(e) });
const collect = async (readable) => new Uint8Array(await new Response(readable).arrayBuffer());
const through = (bytes, ts) => collect(new Blob([bytes]).stream().pipeThrough(ts));
const chunked = (chunks) => new ReadableStream({ start(c) { for (const x of chunks) c.enqueue(x); c.close(); } });
const cases = {
  async roundTrip() {
    const text = "hello compression ".repeat(1000);
    const out = {};
    for (const f of ["gzip", "deflate", "deflate-raw"]) {
      const z = await through(te.encode(text), new CompressionStream(f));
      const back = td.decode(await through(z, new DecompressionStream(f)));
      out[f] = { smaller: z.length < text.length, same: back === text };
    }
    out.isTransform = new CompressionStream("gzip") instanceof TransformStream;
    out.tag = Object.prototype.toString.call(new DecompressionStream("deflate"));
    return out;
  },
  async badFormat() {
    try { new CompressionStream("brotli"); return "no error"; } catch (e) { return err(e); }
  },
  async corrupt() {
    const bad = te.encode("this is not gzip at all");
    try { await through(bad, new DecompressionStream("gzip")); return "no error"; } catch (e) { return err(e); }
  },
  async truncated() {
    const z = await through(te.encode("x".repeat(5000)), new CompressionStream("gzip"));
    try { await through(z.slice(0, z.length - 4), new DecompressionStream("gzip")); return "no error"; } catch (e) { return err(e); }
  },
  async bomb() {
    // 64 MiB of zeros compresses to ~64 KiB; read it back chunk by chunk.
    const zeros = new Uint8Array(1 << 20);
    let n = 0;
    const src = new ReadableStream({ pull(c) { if (n++ < 64) c.enqueue(zeros); else c.close(); } });
    const z = await collect(src.pipeThrough(new CompressionStream("deflate")));
    const r = new Blob([z]).stream().pipeThrough(new DecompressionStream("deflate")).getReader();
    let total = 0, biggest = 0;
    for (;;) { const { value, done } = await r.read(); if (done) break; total += value.length; biggest = Math.max(biggest, value.length); }
    return { total, biggestChunkAtMost64k: biggest <= 65536 };
  },
  async stringChunk() {
    const cs = new CompressionStream("gzip");
    const w = cs.writable.getWriter();
    cs.readable.getReader().read().catch(() => {});
    return await w.write("a string").then(() => "no error", (e) => err(e));
  },
  async encoderStream() {
    // "😀" split between its two UTF-16 halves, and "é" whole.
    const s = chunked(["a\\ud83d", "\\ude00b", "é", "\\ud800"]);
    const bytes = await collect(s.pipeThrough(new TextEncoderStream()));
    return { bytes: Array.from(bytes), encoding: new TextEncoderStream().encoding };
  },
  async decoderStream() {
    const euro = [0xe2, 0x82, 0xac];
    const s = chunked([new Uint8Array([0xef, 0xbb]), new Uint8Array([0xbf, 0x41, euro[0]]), new Uint8Array([euro[1]]), new Uint8Array([euro[2], 0x42])]);
    const parts = [];
    for await (const x of s.pipeThrough(new TextDecoderStream())) parts.push(x);
    const keepBom = [];
    for await (const x of chunked([new Uint8Array([0xef, 0xbb, 0xbf, 0x43])]).pipeThrough(new TextDecoderStream("utf-8", { ignoreBOM: true }))) keepBom.push(x);
    let fatal;
    try {
      for await (const x of chunked([new Uint8Array([0x41, 0xe2, 0x82])]).pipeThrough(new TextDecoderStream("utf-8", { fatal: true }))) {}
      fatal = "no error";
    } catch (e) { fatal = err(e).name; }
    const lenient = [];
    for await (const x of chunked([new Uint8Array([0x41, 0xff])]).pipeThrough(new TextDecoderStream())) lenient.push(x);
    const d = new TextDecoderStream("utf-8", { fatal: true });
    return { text: parts.join(""), keepBom: keepBom.join("").codePointAt(0), fatal, lenient: lenient.join(""),
      props: [d.encoding, d.fatal, d.ignoreBOM] };
  },
  urlPattern() {
    const p = new URLPattern({ pathname: "/users/:id" });
    const m = p.exec("https://example.com/users/42?x=1");
    const s = new URLPattern("https://example.com/books/:id(\\\\d+)/*");
    const base = new URLPattern("/api/:version/*", "https://example.com");
    const ci = new URLPattern({ pathname: "/Case" }, { ignoreCase: true });
    const opt = new URLPattern({ pathname: "/files/:name?" });
    const rep = new URLPattern({ pathname: "/a/:rest+" });
    const grp = new URLPattern({ pathname: "/(foo|bar)/x" });
    const host = new URLPattern({ hostname: "{:sub.}?example.com" });
    return {
      test: [p.test("https://example.com/users/42"), p.test("https://example.com/users/42/more"), p.test("https://example.com/users/")],
      groups: m.pathname.groups, input: m.pathname.input, search: m.search.input,
      regexp: [s.test("https://example.com/books/12/x/y"), s.test("https://example.com/books/ab/x")],
      regexpGroups: s.exec("https://example.com/books/12/x/y").pathname.groups,
      base: [base.test("https://example.com/api/v1/things"), base.test("https://other.com/api/v1/things")],
      baseGroups: base.exec("https://example.com/api/v1/things").pathname.groups,
      ignoreCase: [ci.test("https://x.dev/CASE"), new URLPattern({ pathname: "/Case" }).test("https://x.dev/CASE")],
      optional: [opt.test({ pathname: "/files" }), opt.test({ pathname: "/files/a" })],
      oneOrMore: [rep.test({ pathname: "/a/b/c" }), rep.test({ pathname: "/a" })],
      group: [grp.test({ pathname: "/foo/x" }), grp.test({ pathname: "/baz/x" })],
      host: [host.test({ hostname: "example.com" }), host.test({ hostname: "api.example.com" }), host.exec({ hostname: "api.example.com" }).hostname.groups],
      noMatch: p.exec("https://example.com/other"),
      props: [p.protocol, p.hostname, p.pathname, s.pathname, p.hasRegExpGroups, s.hasRegExpGroups],
      wild: new URLPattern({ pathname: "/static/*" }).exec({ pathname: "/static/a/b.css" }).pathname.groups,
      encoded: new URLPattern({ pathname: "/caf%C3%A9/:x" }).test("https://e.com/café/1"),
    };
  },
  urlPatternErrors() {
    const out = [];
    for (const a of [[{ pathname: "/(" }], ["/relative"], [{ pathname: "/:id" }, { ignoreCase: "x", bad: 1 }]]) {
      try { new URLPattern(...a); out.push("ok"); } catch (e) { out.push(e.name); }
    }
    out.push(new URLPattern({ pathname: "/x" }).exec());
    return out;
  },
  async caches() {
    const c = caches.default, named = await caches.open("mine");
    const url = "https://example.com/thing";
    const put = await c.put(url, new Response("body", { headers: { "cache-control": "max-age=60" } }));
    const out = { put: put ?? null, match: (await c.match(url))?.status ?? null, namedMatch: (await named.match(new Request(url))) ?? null, del: await c.delete(url),
      sameDefault: caches.default === c, isCache: c instanceof Cache };
    const rej = async (f) => { try { await f(); return "no error"; } catch (e) { return e.name; } };
    out.postPut = await rej(() => c.put(new Request(url, { method: "POST" }), new Response("x")));
    out.partial = await rej(() => c.put(url, new Response("x", { status: 206 })));
    out.varyStar = await rej(() => c.put(url, new Response("x", { headers: { vary: "*" } })));
    out.badUrl = await rej(() => c.put("not a url", new Response("x")));
    out.noArgs = await rej(() => c.match());
    out.openNoName = await rej(() => caches.open());
    return out;
  },
  async misc() {
    class Ev extends EventTarget { fire() { this.dispatchEvent(new Event("x")); } }
    let heard = 0;
    const e = new Ev(); e.addEventListener("x", () => heard++); e.fire();
    const h = new Headers(); h.append("set-cookie", "a=1"); h.append("set-cookie", "b=2");
    // scheduler.wait resolves (with undefined) after its delay: a shorter wait started
    // later still resolves first (an order, not a measured time: no timing assertion)
    const order = [];
    const waits = await Promise.all([scheduler.wait(30).then((v) => { order.push(30); return v; }),
                                     scheduler.wait(1).then((v) => { order.push(1); return v; })]);
    return {
      ua: navigator.userAgent, waited: order.join() === "1,30" && waits.every((v) => v === undefined), heard,
      clone: structuredClone({ a: [1, { b: new Map([[1, 2]]) }] }).a[1].b.get(1),
      types: [typeof reportError, typeof AbortSignal.timeout, typeof AbortSignal.any], reported: (reportError(new Error("reported-here")), 1),
      json: await Response.json({ ok: 1 }).json(), cookies: h.getSetCookie(),
      anyAborted: AbortSignal.any([AbortSignal.abort("r")]).aborted,
    };
  },
};
export default { async fetch(req) {
  const u = new URL(req.url);
  if (u.pathname === "/gzip") return new Response(req.body.pipeThrough(new CompressionStream("gzip")));
  if (u.pathname === "/inflate") return new Response(req.body.pipeThrough(new DecompressionStream(u.searchParams.get("f"))));
  const f = cases[u.pathname.slice(1)];
  if (!f) return new Response("no such case", { status: 404 });
  try { return Response.json(await f()); } catch (e) { return Response.json({ thrown: err(e) }, { status: 500 }); }
} };
`,
  });
  srv = await startDev(dir);
});
after(async () => { if (srv) assert.equal((await srv.stop()).code, 0); });

const j = async (name) => { const r = await fetch(`${srv.url}/${name}`); const v = await r.json(); assert.equal(r.status, 200, JSON.stringify(v)); return v; };

test("CompressionStream / DecompressionStream round trip each format", async () => {
  const v = await j("roundTrip");
  for (const f of ["gzip", "deflate", "deflate-raw"]) assert.deepEqual(v[f], { smaller: true, same: true }, f);
  assert.equal(v.isTransform, true);
  assert.equal(v.tag, "[object DecompressionStream]");
});

test("compression: bad format, corrupt and truncated input, string chunks are TypeErrors", async () => {
  for (const c of ["badFormat", "corrupt", "truncated", "stringChunk"]) assert.equal((await j(c)).name, "TypeError", c);
});

test("decompression is streamed in bounded chunks (64 MiB of zeros)", async () => {
  assert.deepEqual(await j("bomb"), { total: 64 << 20, biggestChunkAtMost64k: true });
});

test("interop with node's zlib both ways", async () => {
  const text = "interop ".repeat(5000) + "é😀";
  const r = await fetch(`${srv.url}/gzip`, { method: "POST", body: text });
  assert.equal(zlib.gunzipSync(Buffer.from(await r.arrayBuffer())).toString(), text);
  for (const [f, z] of [["gzip", zlib.gzipSync], ["deflate", zlib.deflateSync], ["deflate-raw", zlib.deflateRawSync]]) {
    const back = await fetch(`${srv.url}/inflate?f=${f}`, { method: "POST", body: z(Buffer.from(text)) });
    assert.equal(await back.text(), text, f);
  }
});

test("TextEncoderStream joins split surrogate pairs", async () => {
  const v = await j("encoderStream");
  assert.deepEqual(v.bytes, [0x61, 0xf0, 0x9f, 0x98, 0x80, 0x62, 0xc3, 0xa9, 0xef, 0xbf, 0xbd]);
  assert.equal(v.encoding, "utf-8");
});

test("TextDecoderStream: split sequences, BOM, fatal", async () => {
  const v = await j("decoderStream");
  assert.equal(v.text, "A€B");
  assert.equal(v.keepBom, 0xfeff);
  assert.equal(v.fatal, "TypeError");
  assert.equal(v.lenient, "A\ufffd");
  assert.deepEqual(v.props, ["utf-8", true, false]);
});

test("URLPattern: the cases routers and Cloudflare's docs use", async () => {
  const v = await j("urlPattern");
  assert.deepEqual(v.test, [true, false, false]);
  assert.deepEqual(v.groups, { id: "42" });
  assert.equal(v.input, "/users/42");
  assert.equal(v.search, "x=1");
  assert.deepEqual(v.regexp, [true, false]);
  assert.deepEqual(v.regexpGroups, { id: "12", 0: "x/y" });
  assert.deepEqual(v.base, [true, false]);
  assert.deepEqual(v.baseGroups, { version: "v1", 0: "things" });
  assert.deepEqual(v.ignoreCase, [true, false]);
  assert.deepEqual(v.optional, [true, true]);
  assert.deepEqual(v.oneOrMore, [true, false]);
  assert.deepEqual(v.group, [true, false]);
  assert.deepEqual(v.host, [true, true, { sub: "api" }]);
  assert.equal(v.noMatch, null);
  assert.deepEqual(v.props, ["*", "*", "/users/:id", "/books/:id(\\d+)/*", false, true]);
  assert.deepEqual(v.wild, { 0: "a/b.css" });
  assert.equal(v.encoded, true);
});

test("URLPattern: bad patterns and arguments are TypeErrors", async () => {
  assert.deepEqual(await j("urlPatternErrors"), ["TypeError", "TypeError", "ok", null]);
});

test("caches: default and open() store and are checked as Cloudflare checks", async () => {
  const v = await j("caches");
  assert.deepEqual(v, {
    put: null, match: 200, namedMatch: null, del: true, sameDefault: true, isCache: true,
    postPut: "TypeError", partial: "TypeError", varyStar: "TypeError", badUrl: "TypeError",
    noArgs: "TypeError", openNoName: "TypeError",
  });
});

test("small globals: navigator.userAgent, scheduler.wait, structuredClone, EventTarget subclass, ...", async () => {
  assert.deepEqual(await j("misc"), {
    ua: "Cloudflare-Workers", waited: true, heard: 1, clone: 2,
    types: ["function", "function", "function"], json: { ok: 1 }, cookies: ["a=1", "b=2"], anyAborted: true, reported: 1,
  });
  await srv.waitForLog(/Uncaught .*reported-here/);
});
