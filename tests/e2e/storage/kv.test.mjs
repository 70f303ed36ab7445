// The KV storage API of ctx.storage: get/put/delete (single and batch), deleteAll,
// list and its options, value serialization, limits and errors on both backends
// (spec storage.md sections 0, 1, 2; limits.md LIM-1..6).
//
// The test Worker has two object classes with the same code: `Sql` (created by
// new_sqlite_classes) and `Kv` (created by new_classes). POST /run with
// {cls, name, s, arg} runs scenario `s` inside object `name` of class `cls` by RPC and
// answers its JSON-safe result. A scenario that throws answers
// {error: "Name: message"}; scenarios that expect errors catch them one by one with
// `attempt()` so the test can compare exact messages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";

const wrangler = `name = "storage-kv"
main = "index.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "Sql"
class_name = "Sql"

[[durable_objects.bindings]]
name = "Kv"
class_name = "Kv"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Sql"]
new_classes = ["Kv"]
`;

// String.raw: the escapes below (\uFFFF, \0, ...) reach the Worker's source as
// escapes, so lone surrogates survive being written to disk.
const worker = String.raw`
import { DurableObject } from "cloudflare:workers";

const errText = (e) => (e && e.name !== undefined ? e.name + ": " + e.message : "thrown: " + String(e));
// Runs f; "ok" (or {ok: shown value}) on success, "Name: message" on any throw or rejection.
async function attempt(f, keep) {
  try { const v = await f(); return keep ? { ok: show(v) } : "ok"; } catch (e) { return errText(e); }
}
// A JSON-safe description of a value read from storage.
function show(v) {
  if (v === undefined) return "<undefined>";
  if (v instanceof Map) return { map: [...v.entries()].map(([k, x]) => [k, show(x)]) };
  if (typeof v === "bigint") return "<bigint " + v + ">";
  if (typeof v === "number" && !Number.isFinite(v)) return "<" + v + ">";
  if (Array.isArray(v)) return v.map(show);
  return v;
}
const keysOf = (m) => [...m.keys()];

// Each SER-1 case: [name, () => value, (copy) => true | "what is wrong"].
const TYPED = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
  "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];
function serCases() {
  const cases = [
    ["null", () => null, (r) => r === null],
    ["true", () => true, (r) => r === true],
    ["false", () => false, (r) => r === false],
    ["zero", () => 0, (r) => Object.is(r, 0)],
    ["minus zero", () => -0, (r) => Object.is(r, -0)],
    ["NaN", () => NaN, (r) => typeof r === "number" && Number.isNaN(r)],
    ["Infinity", () => Infinity, (r) => r === Infinity],
    ["-Infinity", () => -Infinity, (r) => r === -Infinity],
    ["double", () => 1.5e-300, (r) => r === 1.5e-300],
    ["max safe integer", () => Number.MAX_SAFE_INTEGER, (r) => r === Number.MAX_SAFE_INTEGER],
    ["BigInt big", () => 2n ** 100n + 7n, (r) => r === 2n ** 100n + 7n],
    ["BigInt negative", () => -5n, (r) => r === -5n],
    ["empty string", () => "", (r) => r === ""],
    ["unicode string", () => "h\u00e9llo \u{1F30D} \u4e16\u754c \0 end", (r) => r === "h\u00e9llo \u{1F30D} \u4e16\u754c \0 end"],
    ["lone surrogates", () => "a\uD800b\uDFFFc", (r) => r === "a\uD800b\uDFFFc"],
    ["Date", () => new Date(1234567890123), (r) => r instanceof Date && r.getTime() === 1234567890123],
    ["RegExp", () => /a+[b-z]\/x/gimsuy, (r) => r instanceof RegExp && r.source === "a+[b-z]\\/x" && r.flags === "gimsuy" || "got " + String(r) + " flags " + (r && r.flags)],
    ["Map order", () => new Map([["z", 1], ["a", 2], [3, "three"], [null, { n: 1 }]]),
      (r) => r instanceof Map && JSON.stringify([...r]) === JSON.stringify([["z", 1], ["a", 2], [3, "three"], [null, { n: 1 }]]) || "got " + JSON.stringify(r instanceof Map ? [...r] : r)],
    ["Set order", () => new Set(["z", 1, "a", -2]),
      (r) => r instanceof Set && JSON.stringify([...r]) === JSON.stringify(["z", 1, "a", -2]) || "got " + JSON.stringify(r instanceof Set ? [...r] : r)],
    ["ArrayBuffer", () => new Uint8Array([0, 1, 2, 255]).buffer,
      (r) => r instanceof ArrayBuffer && r.byteLength === 4 && new Uint8Array(r).join() === "0,1,2,255"],
    ["empty ArrayBuffer", () => new ArrayBuffer(0), (r) => r instanceof ArrayBuffer && r.byteLength === 0],
    ["DataView with offset", () => { const b = new ArrayBuffer(16); const d = new DataView(b, 4, 8); d.setUint32(0, 0xdeadbeef); return d; },
      (r) => r instanceof DataView && r.byteOffset === 4 && r.byteLength === 8 && r.buffer.byteLength === 16 && r.getUint32(0) === 0xdeadbeef
        || "got " + (r && r.constructor && r.constructor.name) + " offset " + (r && r.byteOffset) + " length " + (r && r.byteLength)],
    ["views sharing one buffer", () => { const b = new ArrayBuffer(8); new Uint8Array(b).set([1, 2, 3, 4, 5, 6, 7, 8]); return { a: new Uint8Array(b, 0, 4), c: new Uint16Array(b, 4, 2) }; },
      (r) => r.a.buffer === r.c.buffer && r.a.join() === "1,2,3,4" && r.c.byteOffset === 4 && r.c.length === 2],
    ["boxed Boolean", () => new Boolean(false), (r) => typeof r === "object" && r instanceof Boolean && r.valueOf() === false],
    ["boxed Number", () => new Number(-0), (r) => typeof r === "object" && r instanceof Number && Object.is(r.valueOf(), -0)],
    ["boxed String", () => new String("s\u00e9"), (r) => typeof r === "object" && r instanceof String && r.valueOf() === "s\u00e9"],
    ["boxed BigInt", () => Object(12n), (r) => typeof r === "object" && r instanceof BigInt && r.valueOf() === 12n],
    ["plain object", () => ({ a: 1, b: { c: [1, "two", { d: null }] }, "": "empty key", "k\0": 0 }),
      (r) => JSON.stringify(r) === JSON.stringify({ a: 1, b: { c: [1, "two", { d: null }] }, "": "empty key", "k\0": 0 }) || "got " + JSON.stringify(r)],
    ["array with holes and extra properties", () => { const a = [1, , 3]; a.length = 5; a.extra = "x"; return a; },
      (r) => Array.isArray(r) && r.length === 5 && !(1 in r) && r[0] === 1 && r[2] === 3 && !(4 in r) && r.extra === "x"
        || "got " + JSON.stringify(r) + " length " + (r && r.length) + " has1 " + (r && 1 in r)],
    ["cycle", () => { const o = { name: "o", list: [] }; o.self = o; o.list.push(o); return o; },
      (r) => r.self === r && r.list[0] === r && r.name === "o"],
    ["shared references", () => { const x = { v: 1 }; return { a: x, b: x, arr: [x, x] }; },
      (r) => r.a === r.b && r.arr[0] === r.a && r.arr[1] === r.a && r.a.v === 1],
    ["cyclic Map", () => { const m = new Map(); m.set("me", m); return m; }, (r) => r instanceof Map && r.get("me") === r],
    ["undefined nested", () => ({ u: undefined, arr: [undefined, 1] }),
      (r) => "u" in r && r.u === undefined && r.arr.length === 2 && 0 in r.arr && r.arr[0] === undefined],
  ];
  for (const T of TYPED) {
    const big = T.startsWith("Big");
    cases.push([T + " with byte offset", () => {
      const C = globalThis[T]; const buf = new ArrayBuffer(64);
      const v = new C(buf, 8, 3); v[0] = big ? 1n : 1; v[1] = big ? 2n : 2; v[2] = big ? 3n : 3; return v;
    }, (r) => (r && r.constructor && r.constructor.name === T && r.byteOffset === 8 && r.length === 3 && r.buffer.byteLength === 64 &&
      Array.from(r, (x) => String(x)).join() === "1,2,3")
      || "got " + (r && r.constructor && r.constructor.name) + " offset " + (r && r.byteOffset) + " length " + (r && r.length) + " buffer " + (r && r.buffer && r.buffer.byteLength)]);
  }
  for (const E of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
    cases.push([E.name, () => new E("msg of " + E.name),
      (r) => r instanceof E && r.name === E.name && r.message === "msg of " + E.name || "got " + (r && r.name) + " " + (r && r.message)]);
  }
  return cases;
}

const scenarios = {
  // KV-6, KV-10, KV-15: single-key forms.
  async basic(s) {
    const out = {};
    out.absent = show(await s.get("a"));
    out.putResult = show(await s.put("a", { x: 1 }));
    out.got = await s.get("a");
    out.delPresent = await s.delete("a");
    out.delAbsent = await s.delete("a");
    out.afterDelete = show(await s.get("a"));
    await s.put("b", 1);
    await s.put("b", 2);
    out.overwritten = await s.get("b");
    out.options = show(await s.get("b", { allowConcurrency: true, noCache: true, bogus: 1 }));
    await s.put("c", 3, { allowUnconfirmed: true, noCache: true, allowConcurrency: true });
    out.afterOptionPut = await s.get("c");
    out.delOptions = await s.delete("c", { allowUnconfirmed: true, noCache: true });
    return out;
  },
  // KV-1: String() conversion; any string is a key.
  async keys(s) {
    await s.put(42, "num");
    await s.put("", "empty");
    await s.put("a\0b", "nul");
    await s.put("a", "plain a");
    await s.put("null", "null key");
    await s.put("obj", "object key");
    return {
      byString: await s.get("42"), byNumber: await s.get(42),
      empty: await s.get(""), nul: await s.get("a\0b"), a: await s.get("a"),
      nullKey: await s.get(null), objKey: await s.get({ toString() { return "obj"; } }),
      deleteObj: await s.delete({ toString() { return "obj"; } }),
      listed: keysOf(await s.list()),
      deleteNum: await s.delete(42),
    };
  },
  // KV-7, KV-10, KV-16, SER-4 (batch forms).
  async batch(s) {
    const out = {};
    out.putResult = show(await s.put({ c: 3, a: 1, b: 2, skip: undefined, e: { nested: true } }));
    const m = await s.get(["e", "zz", "a", "c", "a", "missing"]);
    out.isMap = m instanceof Map;
    out.entries = show(m);
    out.skipped = show(await s.get("skip"));
    const empty = await s.get([]);
    out.empty = [empty instanceof Map, empty.size];
    out.deleted = await s.delete(["a", "a", "nope", "b"]);
    out.deletedNone = await s.delete([]);
    out.left = keysOf(await s.list());
    out.putOptions = show(await s.put({ f: 6 }, { allowUnconfirmed: true }));
    out.f = await s.get("f");
    return out;
  },
  // KV-11, SER-4: wrong call forms.
  async callForms(s) {
    return {
      entriesWithString: await attempt(() => s.put({ a: 1 }, "x")),
      entriesWithNumber: await attempt(() => s.put({ a: 1 }, 5)),
      written: show(await s.get("a")),
      undefinedValue: await attempt(() => s.put("k", undefined)),
      missingValue: await attempt(() => s.put("k")),
      k: show(await s.get("k")),
    };
  },
  // KV-2, KV-5: key size.
  async keySize(s) {
    const big = "k".repeat(2049), wide = "\u00e9".repeat(1025), max = "m".repeat(2048);
    return {
      max: await attempt(() => s.put(max, 1)),
      maxRead: await s.get(max),
      wideMax: await attempt(() => s.put("\u00e9".repeat(1024), 2)),
      put: await attempt(() => s.put(big, 1)),
      putWide: await attempt(() => s.put(wide, 1)),
      get: await attempt(() => s.get(big)),
      delete: await attempt(() => s.delete(big)),
      getMany: await attempt(() => s.get(["a", big])),
      putMany: await attempt(() => s.put({ a: 1, [big]: 2 })),
      deleteMany: await attempt(() => s.delete(["a", big])),
      batchWroteNothing: show(await s.get("a")),
      keys: keysOf(await s.list()).map((k) => k.length),
    };
  },
  // KV-3, KV-5, LIM-2: value size on the KV backend.
  async valueSizeKv(s) {
    return {
      string: await attempt(() => s.put("s", "x".repeat(131072))),
      stringBack: (await s.get("s")).length,
      buffer: await attempt(() => s.put("b", new ArrayBuffer(131072))),
      bufferBack: (await s.get("b")).byteLength,
      tooBig: await attempt(() => s.put("t", "x".repeat(131072 + 1000))),
      tooBigBuffer: await attempt(() => s.put("t", new ArrayBuffer(200000))),
      tooBigBatch: await attempt(() => s.put({ small: 1, t: "y".repeat(300000) })),
      nothing: [show(await s.get("t")), show(await s.get("small"))],
    };
  },
  // KV-4, LIM-3: the SQLite backend allows key + value up to 2 MB.
  async valueSizeSql(s) {
    const longKey = "k".repeat(10000);
    return {
      bigKey: await attempt(() => s.put(longKey, 1)),
      bigKeyBack: await s.get(longKey),
      value: await attempt(() => s.put("v", "x".repeat(1990000))),
      valueBack: (await s.get("v")).length,
      buffer: await attempt(() => s.put("b", new ArrayBuffer(1500000))),
      bufferBack: (await s.get("b")).byteLength,
      tooBig: await attempt(() => s.put("t", "x".repeat(5 * 1024 * 1024))),
      tooBigBatch: await attempt(() => s.put({ small: 1, t: new ArrayBuffer(5 * 1024 * 1024) })),
      nothing: [show(await s.get("t")), show(await s.get("small"))],
    };
  },
  // KV-8, KV-12, KV-16, LIM-4, LIM-5.
  async counts(s) {
    const names = (n, p = "k") => Array.from({ length: n }, (_, i) => p + String(i).padStart(4, "0"));
    const entries = Object.fromEntries(names(128).map((k, i) => [k, i]));
    const out = {};
    out.put128 = await attempt(() => s.put(entries));
    out.get128 = await attempt(async () => (await s.get(names(128))).size, true);
    out.get129 = await attempt(async () => (await s.get(names(129))).size, true);
    out.get500 = await attempt(async () => (await s.get(names(500))).size, true);
    out.delete128 = await attempt(() => s.delete(names(128)), true);
    return out;
  },
  // KV-18 (both backends), KV-22.
  async deleteAll(s) {
    await s.put({ a: 1, b: 2, c: 3 });
    const r = show(await s.deleteAll());
    const out = { result: r, after: keysOf(await s.list()), a: show(await s.get("a")) };
    await s.put("again", 1);
    out.writable = keysOf(await s.list());
    return out;
  },
  async deleteAllSql(s) {
    s.sql.exec("CREATE TABLE t (x INTEGER)");
    s.sql.exec("CREATE INDEX t_x ON t (x)");
    s.sql.exec("INSERT INTO t VALUES (1), (2)");
    await s.put("k", 1);
    await s.deleteAll();
    return {
      kv: keysOf(await s.list()),
      tables: s.sql.exec("SELECT name FROM sqlite_master WHERE name NOT LIKE '_cf%' AND name NOT LIKE 'sqlite%'").toArray(),
    };
  },
  // KV-22, LIST-9: read-your-writes without awaiting the writes.
  async readYourWrites(s) {
    s.put("a", 1);
    s.put({ b: 2, c: 3 });
    const a = await s.get("a");
    s.delete("b");
    const listed = keysOf(await s.list());
    s.put("a", 10);
    const many = show(await s.get(["a", "b", "c"]));
    return { a, listed, many };
  },
  // SER-1: every case in one object; each result is true or a description of the difference.
  async ser(s) {
    const out = {};
    for (const [name, make, check] of serCases()) {
      const key = "ser:" + name;
      try {
        await s.put(key, make());
        const r = await s.get(key);
        const ok = check(r);
        out[name] = ok === true ? true : (ok || "check failed");
      } catch (e) { out[name] = errText(e); }
    }
    // The same values in one batch read back through list().
    const cases = serCases();
    await s.deleteAll();
    await s.put(Object.fromEntries(cases.map(([n, make]) => [n, make()])));
    const all = await s.list();
    for (const [name, , check] of cases) {
      const ok = all.has(name) ? check(all.get(name)) : "missing from list()";
      if (ok !== true) out["list " + name] = ok || "check failed";
    }
    return out;
  },
  // SER-2: a class instance becomes a plain object.
  async classInstance(s) {
    class Point { #hidden = 1; constructor() { this.x = 1; this.y = { z: 2 }; } get sum() { return this.x; } m() { return 1; } }
    await s.put("p", new Point());
    const r = await s.get("p");
    return { proto: Object.getPrototypeOf(r) === Object.prototype, ctor: r.constructor === Object, keys: Object.keys(r), x: r.x, y: r.y, m: typeof r.m, sum: show(r.sum) };
  },
  // SER-3: what cannot be stored.
  async notCloneable(s) {
    const cases = {
      function: () => () => 1,
      symbol: () => Symbol("s"),
      nestedFunction: () => ({ a: 1, f() { return 1; } }),
      weakMap: () => new WeakMap(),
      weakSet: () => new WeakSet(),
      promise: () => Promise.resolve(1),
      objectId: () => this.ctx.id,
      request: () => new Request("http://x/"),
      response: () => new Response("x"),
      stream: () => new ReadableStream(),
    };
    const out = {};
    for (const [name, make] of Object.entries(cases)) {
      let e = null;
      try { await s.put(name, make()); } catch (err) { e = err; }
      out[name] = e ? [e.name, e instanceof DOMException, show(await s.get(name))] : "no error";
    }
    out.batch = await attempt(() => s.put({ ok1: 1, bad: () => 1 }));
    out.batchWrote = show(await s.get("ok1"));
    return out;
  },
  // SER-5: fresh copies on get and put.
  async copies(s) {
    const o = { n: 1, list: [1] };
    await s.put("o", o);
    o.n = 2; o.list.push(2);
    const r1 = await s.get("o");
    r1.n = 99; r1.list.push(99);
    const r2 = await s.get("o");
    const p = { n: 1 };
    s.put("p", p);          // not awaited: the value is still copied at call time
    p.n = 2;
    const fromList = (await s.list()).get("o");
    fromList.n = 7;
    return { r2, distinct: r1 !== r2, p: await s.get("p"), afterListMutation: (await s.get("o")).n };
  },
  // BACK-2 on a KV-backed class.
  async back2(s) {
    let sql, kv;
    try { const x = s.sql; sql = x === undefined ? "undefined" : await attempt(() => x.exec("SELECT 1")); } catch (e) { sql = errText(e); }
    try { const x = s.kv; kv = x === undefined ? "undefined" : await attempt(() => x.get("a")); } catch (e) { kv = errText(e); }
    const sync = await attempt(() => s.transactionSync(() => 1));
    return { sql, kv, sync };
  },
  async fill(s, entries) { await s.deleteAll(); await s.put(entries); return keysOf(await s.list()); },
  async list(s, opts) {
    try { const m = await s.list(opts); return { isMap: m instanceof Map, entries: show(m) }; } catch (e) { return { error: errText(e) }; }
  },
  // The paging idiom of section 2.
  async paging(s) {
    await s.deleteAll();
    const all = {};
    for (let i = 0; i < 250; i++) all["p" + String(i).padStart(3, "0")] = i;
    await s.put(Object.fromEntries(Object.entries(all).slice(0, 125)));
    await s.put(Object.fromEntries(Object.entries(all).slice(125)));
    const seen = [], sizes = [];
    let last;
    for (;;) {
      const m = await s.list(last === undefined ? { limit: 100 } : { startAfter: last, limit: 100 });
      sizes.push(m.size);
      for (const k of m.keys()) seen.push(k);
      if (m.size < 100) break;
      last = [...m.keys()].pop();
    }
    return { sizes, inOrder: seen.join() === Object.keys(all).join(), count: seen.length };
  },
};

class Base extends DurableObject {
  async run(name, arg) {
    const f = scenarios[name];
    if (!f) return { error: "no scenario " + name };
    try { return await f.call(this, this.ctx.storage, arg); } catch (e) { return { error: errText(e), stack: String(e && e.stack) }; }
  }
}
export class Sql extends Base {}
export class Kv extends Base {}

export default {
  async fetch(req, env) {
    const { cls, name, s, arg } = await req.json();
    return Response.json(await env[cls].getByName(name).run(s, arg));
  },
};
`;

let srv;
before(async () => {
  srv = await startDev(makeProject({ "wrangler.toml": wrangler, "index.js": worker }));
});
after(async () => { assert.equal((await srv.stop()).code, 0); });

let seq = 0;
/** Runs scenario `s` in a fresh object (or the object `name`) of class `cls`. */
async function run(cls, s, { name, arg } = {}) {
  const r = await fetch(srv.url + "/run", { method: "POST", body: JSON.stringify({ cls, s, name: name ?? `${s}-${seq++}`, arg }) });
  const text = await r.text();
  assert.equal(r.status, 200, `${cls}.${s}: HTTP ${r.status} ${text}\n${srv.logs().slice(-3000)}`);
  const j = JSON.parse(text);
  if (j && j.error !== undefined && s !== "list") assert.fail(`${cls}.${s} threw: ${j.error}\n${j.stack ?? ""}`);
  return j;
}
const both = ["Sql", "Kv"];

const keyErr = (n) => `RangeError: Keys cannot be larger than 2048 bytes. A key of size ${n} was provided.`;

for (const cls of both) {
  test(`KV-6 KV-10 KV-15 get/put/delete of one key; KV-9 KV-13 options are accepted (${cls})`, async () => {
    const j = await run(cls, "basic");
    assert.equal(j.absent, "<undefined>", "get() of an absent key is undefined");
    assert.equal(j.putResult, "<undefined>", "put() resolves to undefined");
    assert.deepEqual(j.got, { x: 1 });
    assert.equal(j.delPresent, true);
    assert.equal(j.delAbsent, false);
    assert.equal(j.afterDelete, "<undefined>");
    assert.equal(j.overwritten, 2);
    assert.equal(j.options, 2, "allowConcurrency/noCache/unknown options change nothing");
    assert.equal(j.afterOptionPut, 3);
    assert.equal(j.delOptions, true);
  });

  test(`KV-1 keys are converted with String(); "" and "\\0" are ordinary keys (${cls})`, async () => {
    const j = await run(cls, "keys");
    assert.equal(j.byString, "num");
    assert.equal(j.byNumber, "num");
    assert.equal(j.empty, "empty");
    assert.equal(j.nul, "nul");
    assert.equal(j.a, "plain a", '"a\\0b" and "a" are different keys');
    assert.equal(j.nullKey, "null key");
    assert.equal(j.objKey, "object key");
    assert.deepEqual(j.listed, ["", "42", "a", "a\0b", "null"], "listed after the delete of \"obj\"");
    assert.equal(j.deleteObj, true, "delete() converts its key with String() too");
    assert.equal(j.deleteNum, true);
  });

  test(`KV-7 get(keys) returns a Map in key order; KV-10 put(entries); KV-16 delete(keys) counts; SER-4 undefined entries skipped (${cls})`, async () => {
    const j = await run(cls, "batch");
    assert.equal(j.putResult, "<undefined>");
    assert.equal(j.isMap, true);
    assert.deepEqual(j.entries, { map: [["a", 1], ["c", 3], ["e", { nested: true }]] }, "only existing keys, ascending, duplicates once");
    assert.equal(j.skipped, "<undefined>", "an entry whose value is undefined is skipped");
    assert.deepEqual(j.empty, [true, 0], "get([]) is an empty Map");
    assert.equal(j.deleted, 2, "duplicates counted once, absent keys not counted");
    assert.equal(j.deletedNone, 0);
    assert.deepEqual(j.left, ["c", "e"]);
    assert.equal(j.putOptions, "<undefined>");
    assert.equal(j.f, 6, "put(entries, options) is the second call form");
  });

  test(`KV-11 put(entries, notOptions) is a TypeError; SER-4 put(key, undefined) is TypeError("put() called with undefined value.") (${cls})`, async () => {
    const j = await run(cls, "callForms");
    assert.match(j.entriesWithString, /^TypeError: /);
    assert.match(j.entriesWithNumber, /^TypeError: /);
    assert.equal(j.written, "<undefined>", "nothing written by a rejected call");
    assert.equal(j.undefinedValue, "TypeError: put() called with undefined value.");
    assert.equal(j.missingValue, "TypeError: put() called with undefined value.");
    assert.equal(j.k, "<undefined>");
  });

  test(`KV-22 LIST-9 reads see unawaited writes and deletions (${cls})`, async () => {
    const j = await run(cls, "readYourWrites");
    assert.equal(j.a, 1);
    assert.deepEqual(j.listed, ["a", "c"]);
    assert.deepEqual(j.many, { map: [["a", 10], ["c", 3]] });
  });

  test(`KV-18 deleteAll() removes every key and storage stays usable (${cls})`, async () => {
    const j = await run(cls, "deleteAll");
    assert.deepEqual(j, { result: "<undefined>", after: [], a: "<undefined>", writable: ["again"] });
  });

  test(`SER-1 values round-trip through put/get and list with type and content intact (${cls})`, async () => {
    const j = await run(cls, "ser");
    const bad = Object.entries(j).filter(([, v]) => v !== true);
    assert.deepEqual(bad, [], "cases that did not round-trip: " + JSON.stringify(bad, null, 1));
    assert.ok(Object.keys(j).length >= 40, "all cases ran: " + Object.keys(j).length);
  });

  test(`SER-2 a class instance is stored as a plain object (${cls})`, async () => {
    const j = await run(cls, "classInstance");
    assert.deepEqual(j, { proto: true, ctor: true, keys: ["x", "y"], x: 1, y: { z: 2 }, m: "undefined", sum: "<undefined>" });
  });

  test(`SER-3 functions, symbols, host objects: DataCloneError DOMException, nothing written (${cls})`, async () => {
    const j = await run(cls, "notCloneable");
    for (const name of ["function", "symbol", "nestedFunction", "weakMap", "weakSet", "promise", "objectId", "request", "response", "stream"]) {
      assert.deepEqual(j[name], ["DataCloneError", true, "<undefined>"], `${name}: ${JSON.stringify(j[name])}`);
    }
    assert.match(j.batch, /^DataCloneError: /);
    assert.equal(j.batchWrote, "<undefined>", "a batch with one uncloneable value writes nothing");
  });

  test(`SER-5 get() returns fresh copies; put() copies at call time (${cls})`, async () => {
    const j = await run(cls, "copies");
    assert.deepEqual(j.r2, { n: 1, list: [1] });
    assert.equal(j.distinct, true);
    assert.deepEqual(j.p, { n: 1 });
    assert.equal(j.afterListMutation, 1);
  });

  test(`KV-2 LIM-1 a 2048-byte key is fine (${cls})`, async () => {
    const j = await run(cls, "keySize");
    assert.equal(j.max, "ok");
    assert.equal(j.maxRead, 1);
    assert.equal(j.wideMax, "ok", "1024 × é is 2048 UTF-8 bytes");
    if (cls === "Sql") {
      assert.equal(j.put, "ok", "SQLite backend: no 2048-byte key limit (KV-4)");
      assert.equal(j.get, "ok");
      assert.equal(j.delete, "ok");
    }
  });

  test(`LIST-1 LIST-3 LIST-6 paging with startAfter/limit visits every key once, in order (${cls})`, async () => {
    const j = await run(cls, "paging");
    assert.deepEqual(j, { sizes: [100, 100, 50], inOrder: true, count: 250 });
  });
}

test("KV-2 LIM-1 KV-5 KV backend: oversized keys throw the exact RangeError for every form, and a batch writes nothing", async () => {
  const j = await run("Kv", "keySize");
  assert.equal(j.put, keyErr(2049));
  assert.equal(j.putWide, keyErr(2050), "size is measured in UTF-8 bytes");
  assert.equal(j.get, keyErr(2049));
  assert.equal(j.delete, keyErr(2049));
  assert.equal(j.getMany, keyErr(2049));
  assert.equal(j.putMany, keyErr(2049));
  assert.equal(j.deleteMany, keyErr(2049));
  assert.equal(j.batchWroteNothing, "<undefined>");
  assert.deepEqual(j.keys.sort((a, b) => a - b), [1024, 2048], "only the two valid keys were stored");
});

test("KV-3 LIM-2 KV-5 KV backend: 131072-byte values accepted, larger ones get the exact RangeError, nothing written", async () => {
  const j = await run("Kv", "valueSizeKv");
  assert.equal(j.string, "ok", "a 131072-character ASCII string is accepted");
  assert.equal(j.stringBack, 131072);
  assert.equal(j.buffer, "ok", "a 131072-byte ArrayBuffer is accepted");
  assert.equal(j.bufferBack, 131072);
  for (const k of ["tooBig", "tooBigBuffer", "tooBigBatch"]) {
    const m = /^RangeError: Values cannot be larger than 131072 bytes\. A value of size (\d+) was provided\.$/.exec(j[k]);
    assert.ok(m, `${k}: ${j[k]}`);
    assert.ok(Number(m[1]) > 131072, `${k}: reported size ${m[1]}`);
  }
  assert.deepEqual(j.nothing, ["<undefined>", "<undefined>"]);
});

test("KV-4 LIM-3 KV-5 SQLite backend: key + value up to 2 MB accepted, far beyond is an Error, nothing written", async () => {
  const j = await run("Sql", "valueSizeSql");
  assert.equal(j.bigKey, "ok", "no 2048-byte key limit on SQLite");
  assert.equal(j.bigKeyBack, 1);
  assert.equal(j.value, "ok");
  assert.equal(j.valueBack, 1990000);
  assert.equal(j.buffer, "ok");
  assert.equal(j.bufferBack, 1500000);
  assert.match(j.tooBig, /^Error: .*string or blob too big/i);
  assert.match(j.tooBigBatch, /^Error: .*string or blob too big/i);
  assert.deepEqual(j.nothing, ["<undefined>", "<undefined>"]);
});

test("KV-8 LIM-4 KV backend: get() of 129 keys is a RangeError; 128 keys fine; KV-12 KV-16 batches of 128", async () => {
  const j = await run("Kv", "counts");
  assert.equal(j.put128, "ok");
  assert.deepEqual(j.get128, { ok: 128 });
  assert.equal(j.get129, "RangeError: Maximum number of key value pairs is 128. 129 pairs were provided.");
  assert.equal(j.get500, "RangeError: Maximum number of key value pairs is 128. 500 pairs were provided.");
  assert.deepEqual(j.delete128, { ok: 128 });
});

test("KV-8 SQLite backend: get() has no 128-key limit", async () => {
  const j = await run("Sql", "counts");
  assert.equal(j.put128, "ok");
  assert.deepEqual(j.get128, { ok: 128 });
  assert.deepEqual(j.get129, { ok: 128 }, "129 keys asked, 128 exist");
  assert.deepEqual(j.get500, { ok: 128 });
  assert.deepEqual(j.delete128, { ok: 128 });
});

test("KV-18 SQLite backend: deleteAll() also drops user tables and indexes", async () => {
  const j = await run("Sql", "deleteAllSql");
  assert.deepEqual(j, { kv: [], tables: [] });
});

test("BACK-1 BACK-2 KV-backed class: sql, kv and transactionSync are refused with the documented errors", async () => {
  const j = await run("Kv", "back2");
  assert.match(j.sql, /^Error: /, `sql: ${j.sql}`);
  assert.match(j.sql, /SQL/);
  assert.match(j.sql, /new_sqlite_classes/);
  assert.match(j.kv, /^Error: /, `kv: ${j.kv}`);
  assert.match(j.kv, /new_sqlite_classes/);
  assert.equal(j.sync, "Error: Durable Object is not backed by SQL.");
});

// ---- list() ----

// Keys chosen so that UTF-8 byte order differs from JS string order (LIST-2):
// U+E000 and U+FFFF are 3 UTF-8 bytes (EE.., EF..), U+10000 is 4 (F0..), but in UTF-16
// U+10000 is D800 DC00, which JS sorts before U+E000.
const LIST_KEYS = ["", "a", "a\0", "ab", "abc", "abd", "ac", "b", "ba", "c", "z", "\u00e9", "\uE000", "\uFFFF", "\u{10000}", "\u{10FFFF}"];
const listObj = "list-keys";
async function list(cls, opts) {
  const j = await run(cls, "list", { name: listObj, arg: opts });
  if (j.error) return j.error;
  assert.equal(j.isMap, true);
  return j.entries.map.map(([k]) => k);
}

for (const cls of both) {
  test(`LIST-1 LIST-2 list() returns a Map in UTF-8 byte order: "\\uFFFF" < "\\u{10000}" (${cls})`, async () => {
    const shuffled = [...LIST_KEYS].reverse();
    const stored = await run(cls, "fill", { name: listObj, arg: Object.fromEntries(shuffled.map((k, i) => [k, i])) });
    assert.deepEqual(stored, LIST_KEYS, "list() after fill");
    assert.deepEqual(await list(cls, undefined), LIST_KEYS);
    assert.deepEqual(await list(cls, {}), LIST_KEYS);
    const j = await run(cls, "list", { name: listObj, arg: { start: "abc", limit: 2 } });
    assert.deepEqual(j.entries, { map: [["abc", LIST_KEYS.length - 1 - LIST_KEYS.indexOf("abc")], ["abd", LIST_KEYS.length - 1 - LIST_KEYS.indexOf("abd")]] }, "values come with the keys");
    const jsOrder = [...LIST_KEYS].sort();
    assert.notDeepEqual(jsOrder, LIST_KEYS, "the fixture really distinguishes byte order from JS order");
    assert.deepEqual(await list(cls, { start: "\uFFFF" }), ["\uFFFF", "\u{10000}", "\u{10FFFF}"]);
    assert.deepEqual(await list(cls, { end: "\u{10000}", start: "\uE000" }), ["\uE000", "\uFFFF"]);
  });

  test(`LIST-3 start (inclusive), startAfter (exclusive), end (exclusive), limit (${cls})`, async () => {
    assert.deepEqual(await list(cls, { start: "ab", end: "b" }), ["ab", "abc", "abd", "ac"]);
    assert.deepEqual(await list(cls, { startAfter: "ab", end: "b" }), ["abc", "abd", "ac"]);
    assert.deepEqual(await list(cls, { start: "ab", end: "ba" }), ["ab", "abc", "abd", "ac", "b"]);
    assert.deepEqual(await list(cls, { start: "aa", end: "ab" }), [], "no key in [aa, ab)");
    assert.deepEqual(await list(cls, { end: "a\0" }), ["", "a"]);
    assert.deepEqual(await list(cls, { startAfter: "" , limit: 2 }), ["a", "a\0"]);
    assert.deepEqual(await list(cls, { start: "", limit: 2 }), ["", "a"]);
    assert.deepEqual(await list(cls, { limit: 3 }), ["", "a", "a\0"]);
    assert.deepEqual(await list(cls, { limit: 1000 }), LIST_KEYS, "no upper bound on limit (LIST-5)");
    assert.deepEqual(await list(cls, { start: "b", allowConcurrency: true, noCache: true }), LIST_KEYS.slice(LIST_KEYS.indexOf("b")));
  });

  test(`LIST-6 reverse keeps the bounds' meaning; reverse + limit gives the largest keys, largest first (${cls})`, async () => {
    assert.deepEqual(await list(cls, { reverse: true }), [...LIST_KEYS].reverse());
    assert.deepEqual(await list(cls, { reverse: true, limit: 2 }), ["\u{10FFFF}", "\u{10000}"]);
    assert.deepEqual(await list(cls, { reverse: true, start: "ab", end: "b" }), ["ac", "abd", "abc", "ab"]);
    assert.deepEqual(await list(cls, { reverse: true, startAfter: "ab", end: "b" }), ["ac", "abd", "abc"]);
    assert.deepEqual(await list(cls, { reverse: true, start: "a", end: "b", limit: 2 }), ["ac", "abd"]);
    assert.deepEqual(await list(cls, { reverse: false, limit: 2 }), ["", "a"]);
  });

  test(`LIST-7 prefix intersects with [start, end); prefix "" means none (${cls})`, async () => {
    assert.deepEqual(await list(cls, { prefix: "ab" }), ["ab", "abc", "abd"]);
    assert.deepEqual(await list(cls, { prefix: "a" }), ["a", "a\0", "ab", "abc", "abd", "ac"]);
    assert.deepEqual(await list(cls, { prefix: "ab", start: "abc" }), ["abc", "abd"]);
    assert.deepEqual(await list(cls, { prefix: "ab", startAfter: "abc" }), ["abd"]);
    assert.deepEqual(await list(cls, { prefix: "ab", end: "abd" }), ["ab", "abc"]);
    assert.deepEqual(await list(cls, { prefix: "a", start: "0", end: "zz" }), ["a", "a\0", "ab", "abc", "abd", "ac"]);
    assert.deepEqual(await list(cls, { prefix: "ab", start: "b" }), [], "no overlap");
    assert.deepEqual(await list(cls, { prefix: "ab", end: "a" }), [], "no overlap");
    assert.deepEqual(await list(cls, { prefix: "a", reverse: true, limit: 2 }), ["ac", "abd"]);
    assert.deepEqual(await list(cls, { prefix: "" }), LIST_KEYS);
    assert.deepEqual(await list(cls, { prefix: "\uFFFF" }), ["\uFFFF"]);
    assert.deepEqual(await list(cls, { prefix: "zz" }), []);
  });

  test(`LIST-8 end <= start gives an empty Map, not an error (${cls})`, async () => {
    assert.deepEqual(await list(cls, { start: "b", end: "b" }), []);
    assert.deepEqual(await list(cls, { start: "c", end: "b" }), []);
    assert.deepEqual(await list(cls, { startAfter: "b", end: "b" }), []);
    assert.deepEqual(await list(cls, { start: "c", end: "b", reverse: true }), []);
  });

  test(`LIST-4 LIST-5 start with startAfter, and limit <= 0, are TypeErrors with the exact messages (${cls})`, async () => {
    assert.equal(await list(cls, { start: "a", startAfter: "b" }), "TypeError: list() cannot be called with both start and startAfter values.");
    assert.equal(await list(cls, { limit: 0 }), "TypeError: List limit must be positive.");
    assert.equal(await list(cls, { limit: -1 }), "TypeError: List limit must be positive.");
  });
}
