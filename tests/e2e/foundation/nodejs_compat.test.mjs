// The nodejs_compat compatibility flag (issue 10; docs/nodejs.md): node:* modules
// resolve with it and are refused without it; AsyncLocalStorage follows await,
// then, timers and queueMicrotask (QuickJS patch 0009).
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProject, startDev, runDevExpectFailure, WALK_FOR_ARRAY_BUFFERS } from "../lib.mjs";
import { makeData, startServe, call, form, waitServes } from "../serve/serve_lib.mjs";

const toml = (flags = `["nodejs_compat"]`) =>
  `name = "node"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\n` +
  `compatibility_flags = ${flags}\n[vars]\nGREETING = "hi"\nNUM = 3\n`;

// Runs `body` (the inside of an async function returning a JSON-able value) in a
// Worker with nodejs_compat and returns what it returned.
async function run(imports, body, flags) {
  const dir = makeProject({
    "wrangler.toml": toml(flags),
    "src/index.js": `${imports}
      export default { async fetch(req, env, ctx) {
        try {
          const out = await (async () => { ${body} })();
          return Response.json({ ok: out });
        } catch (e) { return Response.json({ err: String(e && e.stack || e) }); }
      } };`,
  });
  const srv = await startDev(dir);
  try {
    const r = await (await fetch(srv.url + "/")).json();
    if (r.err) throw new Error("in the Worker: " + r.err);
    return r.ok;
  } finally { await srv.stop(); }
}

test("without the flag node:* imports are refused with a clear error", async () => {
  const dir = makeProject({ "wrangler.toml": toml(`[]`),
    "src/index.js": `import { Buffer } from "node:buffer"; export default { fetch() { return new Response(String(Buffer)); } };` });
  const r = await runDevExpectFailure(dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No such module "node:buffer": Node\.js modules need the nodejs_compat compatibility flag/);
});

test("with the flag an unprovided node module names itself", async () => {
  const dir = makeProject({ "wrangler.toml": toml(),
    "src/index.js": `import sqlite from "node:sqlite"; export default { fetch() { return new Response(String(sqlite)); } };` });
  const r = await runDevExpectFailure(dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No such module "node:sqlite": durable does not provide this Node\.js module/);
});

test("AsyncLocalStorage: run/getStore through await, then, timers, queueMicrotask", async () => {
  const out = await run(`import { AsyncLocalStorage } from "node:async_hooks";
    const als = new AsyncLocalStorage();
    const other = new AsyncLocalStorage();
    const tick = () => new Promise((r) => setTimeout(r, 1));`, `
    const seen = {};
    seen.outside = als.getStore() ?? null;
    const results = await Promise.all(["a", "b"].map((id) => als.run({ id }, async () => {
      const s = [];
      s.push(als.getStore().id);
      await null;
      s.push(als.getStore().id);
      await tick();
      s.push(als.getStore().id);
      await Promise.resolve(1).then(() => s.push("then:" + als.getStore().id));
      await new Promise((r) => setTimeout(() => { s.push("timer:" + als.getStore().id); r(); }, 2));
      await new Promise((r) => queueMicrotask(() => { s.push("micro:" + als.getStore().id); r(); }));
      s.push(als.exit(() => String(als.getStore())));
      s.push(other.run(7, () => als.getStore().id + other.getStore()));
      s.push(String(other.getStore()));
      return s;
    })));
    seen.results = results;
    seen.after = als.getStore() ?? null;
    const snap = als.run("S", () => AsyncLocalStorage.snapshot());
    seen.snapshot = snap(() => als.getStore());
    const bound = als.run("B", () => AsyncLocalStorage.bind(() => als.getStore()));
    seen.bound = bound();
    try { als.enterWith(1); seen.enterWith = "no error"; } catch (e) { seen.enterWith = /not implemented/.test(e.message); }
    seen.nested = await als.run(1, async () => { await als.run(2, async () => { await tick(); }); return als.getStore(); });
    return seen;`);
  const want = (id) => [id, id, id, "then:" + id, "timer:" + id, "micro:" + id, "undefined", id + "7", "undefined"];
  assert.deepEqual(out, {
    outside: null, results: [want("a"), want("b")], after: null,
    snapshot: "S", bound: "B", enterWith: true, nested: 1,
  });
});

test("AsyncLocalStorage: a store does not leak into the next request", async () => {
  const dir = makeProject({ "wrangler.toml": toml(),
    "src/index.js": `import { AsyncLocalStorage } from "node:async_hooks";
      const als = new AsyncLocalStorage(); let n = 0;
      export default { async fetch() {
        const before = als.getStore() ?? null;
        return als.run(++n, async () => { await null; return Response.json({ before, in: als.getStore() }); });
      } };` });
  const srv = await startDev(dir);
  try {
    assert.deepEqual(await (await fetch(srv.url + "/")).json(), { before: null, in: 1 });
    assert.deepEqual(await (await fetch(srv.url + "/")).json(), { before: null, in: 2 });
  } finally { await srv.stop(); }
});

test("node:buffer: Buffer encodings, read/write, compare, search; the Buffer global", async () => {
  const out = await run(`import { Buffer as B } from "node:buffer"; import bufferDefault from "buffer";`, `
    const b = B.from("héllo wörld");
    const r = {};
    r.same = B === globalThis.Buffer && B === bufferDefault.Buffer;
    r.len = [b.length, B.byteLength("héllo wörld"), B.byteLength("aGk=", "base64")];
    r.hex = B.from("00ff10", "hex").toString("hex");
    r.b64 = B.from("hello?>").toString("base64");
    r.b64url = B.from("hello?>").toString("base64url");
    r.fromB64 = B.from("aGVsbG8/Pg==", "base64").toString() + B.from("aGVsbG8_Pg", "base64url").toString();
    r.latin1 = B.from("é", "latin1").toString("hex") + B.from([0xe9]).toString("latin1");
    r.ascii = B.from([0xc8, 0x41]).toString("ascii");
    r.utf16 = B.from("hi", "utf16le").toString("hex");
    const w = B.alloc(16);
    w.writeUInt32BE(0xdeadbeef, 0); w.writeInt16LE(-2, 4); w.writeDoubleLE(1.5, 8);
    r.rw = [w.readUInt32BE(0).toString(16), w.readInt16LE(4), w.readDoubleLE(8), w.readUint8(0), w.readBigUInt64LE(8).toString()];
    try { w.readUInt32LE(14); r.oob = "no error"; } catch (e) { r.oob = e.code; }
    r.slice = [b.slice(0, 1) instanceof B, b.subarray(1, 3).toString("hex")];
    r.cmp = [B.from("a").equals(B.from("a")), B.compare(B.from("a"), B.from("b")), B.from("b").compare(B.from("a"))];
    r.idx = [b.indexOf("wö"), b.includes("xyz"), b.indexOf(0x6f), b.lastIndexOf("l")];
    r.concat = B.concat([B.from("ab"), B.from("cd")]).toString();
    r.json = JSON.stringify(B.from([1, 2]));
    r.fill = B.alloc(5, "ab").toString();
    r.isBuffer = [B.isBuffer(b), B.isBuffer(new Uint8Array(1))];
    r.write = (() => { const x = B.alloc(4); const n = x.write("héllo"); return [n, x.toString("hex")]; })();
    try { B.from("x", "nope"); } catch (e) { r.badEnc = e.message; }
    return r;`);
  assert.deepEqual(out, {
    same: true, len: [13, 13, 2], hex: "00ff10", b64: "aGVsbG8/Pg==", b64url: "aGVsbG8_Pg",
    fromB64: "hello?>hello?>", latin1: "e9é", ascii: "HA", utf16: "68006900",
    rw: ["deadbeef", -2, 1.5, 0xde, "4609434218613702656"], oob: "ERR_OUT_OF_RANGE",
    slice: [true, "c3a9"], cmp: [true, -1, 1], idx: [7, false, 5, 11],
    concat: "abcd", json: '{"type":"Buffer","data":[1,2]}', fill: "ababa",
    isBuffer: [true, false], write: [4, "68c3a96c"], badEnc: "Unknown encoding: nope",
  });
});

test("without the flag there is no Buffer or process global", async () => {
  const out = await run("", `return [typeof Buffer, typeof process];`, `[]`);
  assert.deepEqual(out, ["undefined", "undefined"]);
});

test("node:events: EventEmitter, once, on", async () => {
  const out = await run(`import EventEmitter, { once, on } from "node:events"; import { EventEmitter as E2 } from "events";`, `
    const r = { same: EventEmitter === E2 };
    class My extends EventEmitter {}
    const e = new My();
    const got = [];
    const l = (x) => got.push("on:" + x);
    e.on("x", l);
    e.once("x", (x) => got.push("once:" + x));
    e.prependListener("x", (x) => got.push("first:" + x));
    r.emitted = [e.emit("x", 1), e.emit("x", 2), e.emit("nothing")];
    e.off("x", l);
    e.emit("x", 3);
    r.got = got;
    r.counts = [e.listenerCount("x"), e.eventNames()];
    try { e.emit("error", new Error("boom")); } catch (err) { r.unhandled = err.message; }
    setTimeout(() => e.emit("ready", "a", "b"), 1);
    r.once = await once(e, "ready");
    setTimeout(() => { e.emit("tick", 1); e.emit("tick", 2); }, 1);
    const seen = [];
    for await (const [v] of on(e, "tick")) { seen.push(v); if (v === 2) break; }
    r.on = [seen, e.listenerCount("tick")];
    return r;`);
  assert.deepEqual(out, {
    same: true, emitted: [true, true, false],
    got: ["first:1", "on:1", "once:1", "first:2", "on:2", "first:3"],
    counts: [1, ["x"]], unhandled: "boom", once: ["a", "b"], on: [[1, 2], 0],
  });
});

test("node:util, node:path, node:url, node:string_decoder, node:os", async () => {
  const out = await run(`import util from "node:util"; import { promisify, inherits, types, format, inspect } from "node:util";
    import path from "node:path"; import { fileURLToPath, pathToFileURL, URL as U } from "node:url";
    import { StringDecoder } from "node:string_decoder"; import os from "node:os";`, `
    const r = {};
    const cbFn = (a, b, cb) => setTimeout(() => (a < 0 ? cb(new Error("neg")) : cb(null, a + b)), 1);
    r.promisify = await promisify(cbFn)(1, 2);
    r.promisifyErr = await promisify(cbFn)(-1, 0).catch((e) => e.message);
    function A() {} function Bc() {}
    inherits(A, Bc);
    r.inherits = [new A() instanceof Bc, A.super_ === Bc];
    r.types = [types.isPromise(Promise.resolve()), types.isUint8Array(new Uint8Array()), types.isUint8Array([]), types.isDate(new Date()), types.isRegExp(/x/)];
    r.format = format("%s=%d %j", "a", 42, { b: 1 });
    r.inspect = inspect({ a: [1, "x"] });
    r.util = [util.isDeepStrictEqual({ a: [1] }, { a: [1] }), util.isDeepStrictEqual([1], ["1"]), typeof util.TextEncoder];
    r.path = [path.join("/a/b", "../c", "./d.txt"), path.resolve("/x", "y", "..", "z"), path.dirname("/a/b/c"), path.basename("/a/b.txt", ".txt"),
      path.extname("x.tar.gz"), path.normalize("a//b/../c/"), path.relative("/a/b/c", "/a/d"), path.isAbsolute("a"), path.sep, path.parse("/home/u/f.txt")];
    r.url = [fileURLToPath("file:///tmp/a%20b.txt"), pathToFileURL("/tmp/a b.txt").href, new U("https://x.test/p?q=1").searchParams.get("q")];
    const d = new StringDecoder("utf8");
    const euro = new Uint8Array([0xe2, 0x82, 0xac]);
    r.decoder = [d.write(euro.subarray(0, 1)), d.write(euro.subarray(1)), d.end()];
    r.os = [os.EOL, os.platform(), typeof os.cpus()];
    r.process = [typeof process.nextTick, process.env.GREETING, process.env.NUM, typeof process.version, process.platform];
    r.tick = await new Promise((res) => process.nextTick((a) => res(a), "ticked"));
    return r;`);
  assert.deepEqual(out, {
    promisify: 3, promisifyErr: "neg", inherits: [true, true], types: [true, true, false, true, true],
    format: 'a=42 {"b":1}', inspect: out.inspect, util: [true, false, "function"],
    path: ["/a/c/d.txt", "/x/z", "/a/b", "b", ".gz", "a/c/", "../../d", false, "/",
      { root: "/", dir: "/home/u", base: "f.txt", ext: ".txt", name: "f" }],
    url: ["/tmp/a b.txt", "file:///tmp/a%20b.txt", "1"],
    decoder: ["", "€", ""], os: ["\n", "linux", "object"],
    process: ["function", "hi", null, "string", "linux"], tick: "ticked",
  });
  assert.match(out.inspect, /a: \[ 1, ['"]x['"] \]/);
});

test("node:assert and node:assert/strict", async () => {
  const out = await run(`import assert from "node:assert"; import strict from "node:assert/strict"; import { deepStrictEqual, AssertionError } from "assert";`, `
    const r = [];
    const t = (f) => { try { f(); r.push("ok"); } catch (e) { r.push(e instanceof AssertionError ? "AE:" + e.code : "other:" + e.message); } };
    t(() => assert.ok(1)); t(() => assert(0));
    t(() => assert.equal(1, "1")); t(() => strict.equal(1, "1"));
    t(() => assert.strictEqual(NaN, NaN));
    t(() => deepStrictEqual({ a: [1, { b: 2 }], m: new Map([[1, 2]]) }, { a: [1, { b: 2 }], m: new Map([[1, 2]]) }));
    t(() => deepStrictEqual({ a: 1 }, { a: "1" }));
    t(() => assert.deepEqual({ a: 1 }, { a: "1" }));
    t(() => assert.throws(() => { throw new TypeError("bad x"); }, TypeError));
    t(() => assert.throws(() => { throw new TypeError("bad x"); }, /bad/));
    t(() => assert.throws(() => { throw new TypeError("bad x"); }, { name: "TypeError", message: "bad x" }));
    t(() => assert.throws(() => {}));
    t(() => assert.throws(() => { throw new Error("e"); }, RangeError));
    await assert.rejects(Promise.reject(new Error("r")), /r/); r.push("rejects ok");
    await assert.rejects(Promise.resolve(1)).catch((e) => r.push("rejects:" + e.code));
    t(() => strict.deepEqual([1], [1]));
    t(() => assert.fail("custom"));
    return r;`);
  assert.deepEqual(out, ["ok", "AE:ERR_ASSERTION", "ok", "AE:ERR_ASSERTION", "ok", "ok", "AE:ERR_ASSERTION", "ok",
    "ok", "ok", "ok", "AE:ERR_ASSERTION", "AE:ERR_ASSERTION", "rejects ok", "rejects:ERR_ASSERTION", "ok", "AE:ERR_ASSERTION"]);
});

test("node:diagnostics_channel: channel, subscribe, hasSubscribers, tracingChannel", async () => {
  const out = await run(`import dc from "node:diagnostics_channel"; import { AsyncLocalStorage } from "node:async_hooks";`, `
    const r = {};
    const ch = dc.channel("my");
    r.before = [ch.hasSubscribers, dc.hasSubscribers("my")];
    const got = [];
    const fn = (m, name) => got.push([m, name]);
    dc.subscribe("my", fn);
    ch.publish(1);
    r.after = dc.hasSubscribers("my");
    dc.unsubscribe("my", fn);
    ch.publish(2);
    r.got = got;
    const tc = dc.tracingChannel("op");
    const ev = [];
    tc.subscribe({ start: () => ev.push("start"), end: () => ev.push("end"), asyncStart: () => ev.push("asyncStart"), asyncEnd: () => ev.push("asyncEnd"), error: () => ev.push("error") });
    r.sync = tc.traceSync(() => 5, {});
    r.async = await tc.tracePromise(async () => 6, {});
    r.ev = ev.slice();
    const als = new AsyncLocalStorage();
    tc.start.bindStore(als, (ctx) => ctx.id);
    r.store = tc.traceSync(() => als.getStore(), { id: "S" });
    return r;`);
  assert.deepEqual(out, { before: [false, false], after: true, got: [[1, "my"]], sync: 5, async: 6,
    ev: ["start", "end", "start", "end", "asyncStart", "asyncEnd"], store: "S" });
});

test("cloudflare:email and the exports of cloudflare:workers load", async () => {
  const out = await run(`import { EmailMessage } from "cloudflare:email"; import { exports, env, WorkflowEntrypoint } from "cloudflare:workers";`, `
    const m = new EmailMessage("a@x.test", "b@x.test", "raw");
    return [m.from, m.to, typeof exports, env.GREETING, typeof WorkflowEntrypoint];`);
  assert.deepEqual(out, ["a@x.test", "b@x.test", "object", "hi", "function"]);
});

test("node:crypto: hashes and HMAC (known answers), random, timingSafeEqual, pbkdf2", async () => {
  const out = await run(`import crypto, { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";`, `
    const r = {};
    r.sha256 = createHash("sha256").update("ab").update("c").digest("hex");
    r.md5 = createHash("md5").update("abc").digest("hex");
    r.sha1b64 = createHash("sha1").update(Buffer.from("abc")).digest("base64");
    // RFC 4231 test case 2
    r.hmac = createHmac("sha256", "Jefe").update("what do ya want ").update("for nothing?").digest("hex");
    r.digestBuf = createHash("sha512").update("").digest().length;
    const rb = randomBytes(70000);
    r.random = [rb.length, Buffer.isBuffer(rb), rb.some((b) => b !== 0)];
    r.uuid = /^[0-9a-f-]{36}$/.test(crypto.randomUUID());
    r.tse = [timingSafeEqual(Buffer.from("abc"), Buffer.from("abc")), timingSafeEqual(Buffer.from("abc"), Buffer.from("abd"))];
    try { timingSafeEqual(Buffer.from("a"), Buffer.from("ab")); } catch (e) { r.tseLen = e.code; }
    try { createHash("whirlpool"); } catch (e) { r.badHash = e.code; }
    // RFC 6070 test case 2
    r.pbkdf2 = crypto.pbkdf2Sync("password", "salt", 2, 20, "sha1").toString("hex");
    const n = crypto.randomInt(5, 10);
    r.randomInt = n >= 5 && n < 10;
    return r;`);
  assert.deepEqual(out, {
    sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    md5: "900150983cd24fb0d6963f7d28e17f72",
    sha1b64: "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=",
    hmac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    digestBuf: 64, random: [70000, true, true], uuid: true, tse: [true, false],
    tseLen: "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH", badHash: "ERR_CRYPTO_INVALID_DIGEST",
    pbkdf2: "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957", randomInt: true,
  });
});

// Hostile Worker code: the native state behind a Hash (an OpenSSL digest context)
// is not reachable as bytes (it was an ArrayBuffer over a C struct with pointers,
// on the object as _h), and a forged handle is refused with a TypeError.
test("node:crypto: a Hash offers no bytes of its native state, and a forged handle is a TypeError", async () => {
  const out = await run(`import { createHash } from "node:crypto";`, `
    ${WALK_FOR_ARRAY_BUFFERS}
    const h = createHash("sha256").update("a");
    walk(h, "hash", 3);
    const forged = [];
    for (const k of Reflect.ownKeys(h)) {
      const g = createHash("sha256");
      if (typeof g[k] !== "object" || g[k] === null) continue;
      g[k] = new ArrayBuffer(64);
      try { g.update("x"); g.digest("hex"); forged.push(String(k) + ": accepted"); }
      catch (e) { forged.push(String(k) + ": " + e.name); }
    }
    return { found, forged, still: h.digest("hex") };`);
  assert.deepEqual(out.found, []);
  assert.ok(out.forged.length > 0, "the Hash holds its handle in some property");
  for (const f of out.forged) assert.match(f, /: TypeError$/);
  assert.equal(out.still, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
});

test("node:stream: Readable, Writable, Transform, PassThrough, pipe, pipeline", async () => {
  const out = await run(`import { Readable, Writable, Transform, PassThrough, pipeline } from "node:stream";
    import { pipeline as pp } from "node:stream/promises";`, `
    const r = {};
    const got = [];
    const src = Readable.from(["a", "b", "c"]);
    const upper = new Transform({ transform(chunk, enc, cb) { cb(null, String(chunk).toUpperCase()); } });
    const sink = new Writable({ write(chunk, enc, cb) { got.push(String(chunk)); cb(); } });
    await new Promise((res, rej) => pipeline(src, upper, new PassThrough(), sink, (e) => (e ? rej(e) : res())));
    r.pipeline = got;
    const items = [];
    for await (const x of Readable.from([1, 2, 3])) items.push(x);
    r.iter = items;
    const pushed = new Readable({ read() {} });
    const data = [];
    pushed.on("data", (c) => data.push(c.toString()));
    const ended = new Promise((res) => pushed.on("end", res));
    pushed.push("x"); pushed.push("y"); pushed.push(null);
    await ended;
    r.push = data;
    class Count extends Transform {
      constructor() { super(); this.n = 0; }
      _transform(c, e, cb) { this.n += c.length; cb(); }
      _flush(cb) { cb(null, String(this.n)); }
    }
    const outp = [];
    await pp(Readable.from([Buffer.from("abc"), Buffer.from("de")], { objectMode: false }), new Count(),
      new Writable({ write(c, e, cb) { outp.push(String(c)); cb(); } }));
    r.flush = outp;
    return r;`);
  assert.deepEqual(out, { pipeline: ["A", "B", "C"], iter: [1, 2, 3], push: ["x", "y"], flush: ["5"] });
});

test("durable serve: compatibility_flags in the upload's metadata turn nodejs_compat on", async () => {
  const { data, token } = makeData();
  const srv = await startServe(data);
  try {
    const S = "/client/v4/accounts/:acct/workers/scripts/nodeapp";
    const mod = { "w.mjs": ["application/javascript+module", `import { Buffer } from "node:buffer";
      export default { fetch() { return new Response(Buffer.from("served").toString("base64")); } };`] };
    const refused = await call(srv, token, "PUT", S, form({ main_module: "w.mjs", compatibility_date: "2026-11-01" }, mod));
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.errors[0].code, 10021);
    assert.match(refused.body.errors[0].message, /nodejs_compat/);
    const ok = await call(srv, token, "PUT", S, form({ main_module: "w.mjs", compatibility_date: "2026-11-01",
      compatibility_flags: ["nodejs_compat"] }, mod));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await waitServes(srv, "/", (t) => t === "200 c2VydmVk");
  } finally { await srv.stop(); }
});

test("AsyncLocalStorage: a run() cut short by the CPU limit leaves no store for the next request", async () => {
  const dir = makeProject({ "wrangler.toml": toml(),
    "src/index.js": `import { AsyncLocalStorage } from "node:async_hooks";
      const als = new AsyncLocalStorage();
      export default { fetch(req) {
        if (new URL(req.url).pathname === "/spin") return als.run("stuck", () => { for (;;) {} });
        return Response.json({ store: als.getStore() ?? null });
      } };` });
  const srv = await startDev(dir, ["--cpu-ms", "200"]);
  try {
    assert.equal((await fetch(srv.url + "/spin")).status, 503);
    assert.deepEqual(await (await fetch(srv.url + "/")).json(), { store: null });
  } finally { await srv.stop(); }
});
