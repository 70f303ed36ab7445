// Transactions (transaction, transactionSync, sync), the SQL API and storage.kv of
// SQLite-backed objects, SQL limits, and the gates as storage makes them visible
// (spec storage.md sections 3, 4; objects.md section 10; limits.md LIM-40..47).
//
// POST /run {cls, name, s, arg} runs scenario `s` in object `name` of class `cls`
// (Sql: new_sqlite_classes, Kv: new_classes) by RPC and answers its JSON result.
// GET /count?cls=…&name=… forwards to the object's fetch(), a read-modify-write counter.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";

const wrangler = `name = "storage-txn-sql"
main = "index.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "Sql"
class_name = "Sql"

[[durable_objects.bindings]]
name = "Kv"
class_name = "Kv"

[[durable_objects.bindings]]
name = "Init"
class_name = "Init"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Sql", "Init"]
new_classes = ["Kv"]
`;

const worker = String.raw`
import { DurableObject } from "cloudflare:workers";

const errText = (e) => (e && e.name !== undefined ? e.name + ": " + e.message : "thrown: " + String(e));
async function attempt(f) { try { await f(); return "ok"; } catch (e) { return errText(e); } }
function syncAttempt(f) { try { f(); return "ok"; } catch (e) { return errText(e); } }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const keysOf = (m) => [...m.keys()];
const show = (v) => (v === undefined ? "<undefined>" : v instanceof Map ? { map: [...v.entries()] } : v);
const hex = (ab) => [...new Uint8Array(ab)].map((b) => b.toString(16).padStart(2, "0")).join("");

const scenarios = {
  // TXN-1, TXN-2, TXN-3: result, methods of txn, read-your-writes, atomic commit.
  async txnBasic(s) {
    const out = {};
    out.result = await s.transaction(async (txn) => {
      out.methods = ["get", "put", "delete", "list", "getAlarm", "setAlarm", "deleteAlarm", "rollback"].map((m) => m + ":" + typeof txn[m]);
      await txn.put("a", 1);
      await txn.put({ b: 2, c: 3 });
      const seen = { a: await txn.get("a"), many: show(await txn.get(["c", "a"])), list: keysOf(await txn.list({ prefix: "" })) };
      seen.deleted = await txn.delete(["b", "zz"]);
      seen.deletedOne = await txn.delete("c");
      seen.after = keysOf(await txn.list());
      return Promise.resolve(seen);
    });
    out.committed = show(await s.list());
    out.plain = await s.transaction(() => 7);
    return out;
  },
  // TXN-4, TXN-7 (SQLite: ctx.storage inside the closure is part of the transaction).
  async txnThrow(s) {
    this.mem = (this.mem ?? 0) + 1;
    await s.put("keep", "before");
    const err = new RangeError("closure failed");
    err.extra = 1;
    let caught;
    try {
      await s.transaction(async (txn) => {
        await txn.put("keep", "changed");
        await txn.put("new", 1);
        await txn.delete("keep2");
        throw err;
      });
    } catch (e) { caught = e; }
    let rejected;
    try { await s.transaction(async (txn) => { await txn.put("r", 1); await sleep(1); return Promise.reject(new TypeError("async reject")); }); }
    catch (e) { rejected = errText(e); }
    return {
      same: caught === err, caught: errText(caught), rejected,
      data: show(await s.list()),
      mem: this.mem,
    };
  },
  async txnThrowDirect(s) {
    await s.put("keep", "before");
    s.sql.exec("CREATE TABLE IF NOT EXISTS t (x)");
    let caught;
    try {
      await s.transaction(async () => {
        await s.put("keep", "changed");
        s.sql.exec("INSERT INTO t VALUES (1)");
        s.kv.put("synckey", 1);
        throw new Error("direct");
      });
    } catch (e) { caught = errText(e); }
    return { caught, keep: await s.get("keep"), rows: s.sql.exec("SELECT count(*) AS n FROM t").one().n, synckey: show(s.kv.get("synckey")) };
  },
  // TXN-5: rollback().
  async txnRollback(s) {
    const out = {};
    out.result = await s.transaction(async (txn) => {
      await txn.put("x", 1);
      out.rollbackReturns = show(txn.rollback());
      out.kept = "closure keeps running";
      out.put = await attempt(() => txn.put("y", 2));
      out.get = await attempt(() => txn.get("x"));
      out.delete = await attempt(() => txn.delete("x"));
      out.list = await attempt(() => txn.list());
      return "returned";
    });
    out.data = show(await s.list());
    return out;
  },
  // KV-20, TXN-2: deleteAll inside a transaction.
  async txnDeleteAll(s) {
    await s.put("k", 1);
    const out = {};
    try {
      await s.transaction(async (txn) => {
        out.onTxn = await attempt(() => txn.deleteAll());
        out.onStorage = await attempt(() => s.deleteAll());
        await txn.put("k2", 2);
      });
      out.outcome = "committed";
    } catch (e) { out.outcome = errText(e); }
    out.data = show(await s.list());
    return out;
  },
  // TXN-3: no other event is delivered while the closure runs, even across a timer.
  async txnSlow(s) {
    (this.log ??= []).push("txn-start");
    await s.transaction(async (txn) => {
      await txn.put("x", "in");
      await sleep(200);
      await txn.put("x", "done");
      this.log.push("txn-end");
    });
    return "ok";
  },
  async readX(s) { (this.log ??= []).push("read"); return { x: await s.get("x"), log: this.log }; },
  // TXN-8: nested transactions on SQLite.
  async txnNested(s) {
    const out = {};
    out.result = await s.transaction(async (txn) => {
      await txn.put("a", 1);
      try {
        await s.transaction(async (inner) => { await inner.put("b", 2); throw new Error("inner"); });
      } catch (e) { out.inner = errText(e); }
      out.innerOk = await s.transaction(async (inner) => { await inner.put("c", 3); return "inner ok"; });
      return "outer";
    });
    out.data = show(await s.list());
    return out;
  },
  // ALARM-14: a setAlarm in a rolled-back transaction has no effect.
  async txnAlarm(s) {
    const out = {};
    await s.transaction(async (txn) => {
      await txn.setAlarm(Date.now() + 3600000);
      out.inside = typeof (await txn.getAlarm());
      txn.rollback();
    });
    out.after = await s.getAlarm();
    try { await s.transaction(async (txn) => { await txn.setAlarm(Date.now() + 3600000); throw new Error("x"); }); } catch {}
    out.afterThrow = await s.getAlarm();
    return out;
  },
  // TXN-9: transactionSync.
  txnSync(s) {
    const sql = s.sql;
    sql.exec("CREATE TABLE t (x INTEGER)");
    const out = {};
    out.result = s.transactionSync(() => { sql.exec("INSERT INTO t VALUES (1)"); s.kv.put("a", 1); return { r: 1 }; });
    const err = new Error("sync fail");
    try {
      s.transactionSync(() => { sql.exec("INSERT INTO t VALUES (2)"); s.kv.put("b", 2); s.kv.delete("a"); throw err; });
      out.thrown = "no error";
    } catch (e) { out.thrown = e === err ? "same error" : errText(e); }
    out.nested = s.transactionSync(() => {
      sql.exec("INSERT INTO t VALUES (3)");
      try { s.transactionSync(() => { sql.exec("INSERT INTO t VALUES (4)"); throw new Error("inner"); }); } catch {}
      s.transactionSync(() => sql.exec("INSERT INTO t VALUES (5)"));
      return "outer";
    });
    out.rows = sql.exec("SELECT x FROM t ORDER BY x").toArray().map((r) => r.x);
    out.kv = [show(s.kv.get("a")), show(s.kv.get("b"))];
    return out;
  },
  // TXN-11, GATE-9.
  async sync(s) {
    const out = {};
    out.empty = show(await s.sync());
    s.put("a", 1);
    s.put("b", 2, { allowUnconfirmed: true });
    out.pending = show(await s.sync());
    out.data = show(await s.get(["a", "b"]));
    await s.delete("a", { allowUnconfirmed: true });
    out.afterDelete = show(await s.sync());
    return out;
  },
  // ---- SQL ----
  sqlBasics(s) {
    const sql = s.sql, out = {};
    const c = sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
    out.ddlColumns = c.columnNames;
    sql.exec("INSERT INTO t (name) VALUES ('never read')");              // SQL-1: runs without reading
    out.count = sql.exec("SELECT count(*) AS n FROM t").one().n;
    // SQL-2: several statements, bindings for the last, cursor of the last.
    const multi = sql.exec("INSERT INTO t (name) VALUES ('x'); INSERT INTO t (name) VALUES ('y');  SELECT name FROM t WHERE name = ? ;  ", "y");
    out.multi = multi.toArray();
    out.total = sql.exec("SELECT count(*) AS n FROM t;").one().n;
    // SQL-13: rowsWritten right after exec.
    const ins = sql.exec("INSERT INTO t (name) VALUES (?), (?), (?)", "a", "b", "c");
    out.rowsWritten = ins.rowsWritten;
    // SQL-12: columnNames before reading.
    const sel = sql.exec("SELECT id, name AS label FROM t ORDER BY id");
    out.columnNames = sel.columnNames;
    out.rowsReadStart = sel.rowsRead;
    // SQL-8: iterator protocol.
    const first = sel.next();
    out.first = first;
    out.rowsReadAfterOne = sel.rowsRead;
    out.rest = [];
    for (const row of sel) out.rest.push(row.label);
    out.done = sel.next();
    out.doneHasValue = "value" in out.done ? show(out.done.value) : "absent";
    out.rowsReadEnd = sel.rowsRead;
    out.iterable = typeof sel[Symbol.iterator];
    // Column order and duplicate names.
    out.order = Object.keys(sql.exec("SELECT 1 AS z, 2 AS a, 3 AS m").one());
    out.dup = sql.exec("SELECT 1 AS a, 2 AS a").one();
    out.dupRaw = sql.exec("SELECT 1 AS a, 2 AS a").raw().toArray();
    // SQL-9: toArray exhausts.
    const all = sql.exec("SELECT name FROM t ORDER BY id");
    out.toArray1 = all.toArray().length;
    out.toArray2 = all.toArray().length;
    // SQL-7.
    const empty = sql.exec("");
    out.empty = [empty.toArray(), empty.columnNames];
    // SQL-3: a query that is not a string is converted to one, as in workerd.
    out.nonString = syncAttempt(() => sql.exec(42));
    out.nonString2 = sql.exec({ toString: () => "SELECT 7 AS seven" }).one().seven;
    out.noQuery = syncAttempt(() => sql.exec());
    return out;
  },
  sqlFullScan(s) {
    const sql = s.sql;
    sql.exec("CREATE TABLE r (x)");
    const w = sql.exec("INSERT INTO r VALUES (1), (2), (3)");
    const c = sql.exec("SELECT * FROM r");
    const start = c.rowsRead;
    c.next();
    const mid = c.rowsRead;
    c.toArray();
    return { written: w.rowsWritten, read: w.rowsRead, start, mid, end: c.rowsRead, endAgain: c.rowsRead };
  },
  // SQL-10, SQL-11.
  sqlCursor(s) {
    const sql = s.sql, out = {};
    sql.exec("CREATE TABLE t (x INTEGER)");
    sql.exec("INSERT INTO t VALUES (1), (2), (3), (4)");
    out.one = sql.exec("SELECT x FROM t WHERE x = 2").one();
    out.none = syncAttempt(() => sql.exec("SELECT x FROM t WHERE x = 99").one());
    out.many = syncAttempt(() => sql.exec("SELECT x FROM t").one());
    const c = sql.exec("SELECT x, x * 10 AS y FROM t ORDER BY x");
    out.objFirst = c.next().value;
    const raw = c.raw();
    out.rawMethods = [typeof raw.next, typeof raw.toArray, typeof raw[Symbol.iterator]];
    out.rawSecond = raw.next().value;
    out.objThird = c.next().value;
    out.rawRest = raw.toArray();
    out.objRest = c.toArray();
    const c2 = sql.exec("SELECT x FROM t ORDER BY x DESC");
    out.rawIter = [];
    for (const r of c2.raw()) out.rawIter.push(r);
    return out;
  },
  // SQL-3, SQL-4: bindings and column types.
  sqlTypes(s) {
    const sql = s.sql, out = {};
    const t = (v) => { const r = sql.exec("SELECT typeof(?1) AS t, ?1 AS v", v).one(); return [r.t, r.v instanceof ArrayBuffer ? "blob:" + hex(r.v) : r.v]; };
    out.text = t("h\u00e9llo");
    out.int = t(42);
    out.negInt = t(-7);
    out.bigInt = t(2 ** 52);
    out.real = t(1.5);
    out.nul = t(null);
    out.undef = t(undefined);
    out.arrayBuffer = t(new Uint8Array([1, 2, 255]).buffer);
    out.view = t(new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4));
    out.dataView = t(new DataView(new Uint8Array([7, 8, 9]).buffer, 1, 2));
    out.positional = sql.exec("SELECT ?2 AS b, ?1 AS a, ? AS c", "one", "two", "three").one();
    out.object = t({});
    out.array = t([1, 2]);
    out.bool = t(true);
    out.bigint = t(12345678901234567890n);
    out.symbol = syncAttempt(() => sql.exec("SELECT ?", Symbol("s")));
    sql.exec("CREATE TABLE aff (i INTEGER, s TEXT)");
    sql.exec("INSERT INTO aff VALUES (?, ?)", 42, 42);
    out.affinity = sql.exec("SELECT typeof(i) AS ti, i, typeof(s) AS ts, s FROM aff").one();
    out.tooFew = syncAttempt(() => sql.exec("SELECT ?, ?", 1));
    out.tooMany = syncAttempt(() => sql.exec("SELECT ?", 1, 2));
    sql.exec("CREATE TABLE v (i INTEGER, r REAL, s TEXT, b BLOB, n)");
    sql.exec("INSERT INTO v VALUES (5, 2.25, 'str', x'00ff', NULL)");
    const row = sql.exec("SELECT * FROM v").one();
    out.columns = Object.entries(row).map(([k, v]) => [k, v instanceof ArrayBuffer ? "ArrayBuffer:" + hex(v) : v === null ? "null" : typeof v + ":" + v]);
    return out;
  },
  // SQL-5: errors carry SQLite's message; a failed statement changes nothing.
  sqlErrors(s) {
    const sql = s.sql, out = {};
    out.syntax = syncAttempt(() => sql.exec("SELEC 1"));
    out.noTable = syncAttempt(() => sql.exec("SELECT * FROM foo"));
    sql.exec("CREATE TABLE u (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    sql.exec("INSERT INTO u VALUES (1, 'one')");
    out.unique = syncAttempt(() => sql.exec("INSERT INTO u VALUES (2, 'two'), (3, 'three'), (1, 'dup')"));
    out.notNull = syncAttempt(() => sql.exec("INSERT INTO u VALUES (4, NULL)"));
    out.rows = sql.exec("SELECT k FROM u ORDER BY k").toArray().map((r) => r.k);
    out.usable = sql.exec("SELECT 1 AS one").one().one;
    return out;
  },
  // SQL-16.
  sqlSize(s) {
    const sql = s.sql;
    const before = sql.databaseSize;
    sql.exec("CREATE TABLE big (b BLOB)");
    for (let i = 0; i < 20; i++) sql.exec("INSERT INTO big VALUES (?)", new Uint8Array(50000));
    return { type: typeof before, before, after: sql.databaseSize };
  },
  // SQL-17: storage.kv shares the data of the async KV API.
  async syncKv(s) {
    const kv = s.kv, out = {};
    out.put = show(kv.put("b", { v: 2 }));
    kv.put("a", 1);
    kv.put("c", new Map([[1, 2]]));
    await s.put("d", "async");
    out.getSync = [kv.get("a"), kv.get("b"), kv.get("c") instanceof Map, kv.get("d"), show(kv.get("zz"))];
    out.getAsync = [await s.get("a"), await s.get("b")];
    out.deletePresent = kv.delete("a");
    out.deleteAbsent = kv.delete("a");
    out.asyncSeesDelete = show(await s.get("a"));
    out.list = [...kv.list()].map(([k]) => k);
    out.listPairs = [...kv.list({ prefix: "b" })];
    out.listOpts = [...kv.list({ start: "b", end: "d" })].map(([k]) => k);
    out.listRev = [...kv.list({ reverse: true, limit: 2 })].map(([k]) => k);
    out.listAfter = [...kv.list({ startAfter: "b" })].map(([k]) => k);
    out.listErr = syncAttempt(() => [...kv.list({ start: "a", startAfter: "b" })]);
    return out;
  },
  // SQL-18..21: refused SQL.
  sqlRefused(s) {
    const sql = s.sql;
    sql.exec("CREATE TABLE t (x INTEGER)");
    const tries = {};
    const q = (name, text) => { tries[name] = syncAttempt(() => sql.exec(text).toArray()); };
    for (const t of ["BEGIN", "BEGIN TRANSACTION", "COMMIT", "END", "ROLLBACK", "SAVEPOINT sp", "RELEASE sp", "ROLLBACK TO sp"]) q("txn: " + t, t);
    q("cf: select", "SELECT * FROM _cf_KV");
    q("cf: select case", "SELECT * FROM _CF_kv");
    q("cf: metadata", "SELECT * FROM _cf_METADATA");
    q("cf: insert", "INSERT INTO _cf_KV VALUES ('k', x'00')");
    q("cf: delete", "DELETE FROM _cf_KV");
    q("cf: drop", "DROP TABLE _cf_KV");
    q("cf: create", "CREATE TABLE _cf_mine (x)");
    q("cf: create case", "CREATE TABLE _Cf_Mine (x)");
    q("cf: rename to", "ALTER TABLE t RENAME TO _cf_t");
    q("cf: alter", "ALTER TABLE _cf_KV ADD COLUMN y");
    q("cf: index", "CREATE INDEX _cf_i ON t (x)");
    q("cf: index on", "CREATE INDEX i2 ON _cf_KV (value)");
    q("cf: view", "CREATE VIEW _cf_v AS SELECT 1");
    q("cf: trigger", "CREATE TRIGGER _cf_tr AFTER INSERT ON t BEGIN SELECT 1; END");
    q("attach", "ATTACH DATABASE ':memory:' AS other");
    q("detach", "DETACH DATABASE other");
    q("vacuum", "VACUUM");
    q("pragma journal_mode", "PRAGMA journal_mode");
    q("pragma journal_mode set", "PRAGMA journal_mode = DELETE");
    q("pragma writable_schema", "PRAGMA writable_schema = ON");
    q("pragma page_size set", "PRAGMA page_size = 8192");
    const allowed = {};
    const a = (name, text) => { allowed[name] = syncAttempt(() => sql.exec(text).toArray()); };
    a("data_version", "PRAGMA data_version");
    a("page_size", "PRAGMA page_size");
    a("table_info", "PRAGMA table_info(t)");
    a("table_xinfo", "PRAGMA table_xinfo(t)");
    a("table_list", "PRAGMA table_list");
    a("index_list", "PRAGMA index_list(t)");
    a("foreign_key_list", "PRAGMA foreign_key_list(t)");
    a("foreign_key_check", "PRAGMA foreign_key_check");
    a("quick_check", "PRAGMA quick_check");
    a("optimize", "PRAGMA optimize");
    a("foreign_keys", "PRAGMA foreign_keys = ON");
    a("case_sensitive_like", "PRAGMA case_sensitive_like = true");
    a("recursive_triggers", "PRAGMA recursive_triggers = OFF");
    a("defer_foreign_keys", "PRAGMA defer_foreign_keys = 1");
    a("json", "SELECT json_extract('{\"a\":[1,2]}', '$.a[1]') AS v");
    a("window", "SELECT x, sum(x) OVER (ORDER BY x) AS s FROM t");
    a("fts5", "CREATE VIRTUAL TABLE docs USING fts5(body)");
    const info = sql.exec("PRAGMA table_info(t)").toArray().map((r) => r.name);
    const tables = sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'docs%' ORDER BY name").toArray().map((r) => r.name);
    return { tries, allowed, info, tables };
  },
  // SQL-23, LIM-40..47.
  sqlLimits(s) {
    const sql = s.sql, out = {};
    const cols = (n) => Array.from({ length: n }, (_, i) => "c" + i).join(", ");
    out.cols100 = syncAttempt(() => sql.exec("CREATE TABLE w100 (" + cols(100) + ")"));
    out.cols101 = syncAttempt(() => sql.exec("CREATE TABLE w101 (" + cols(101) + ")"));
    const params = (n) => "SELECT " + Array(n).fill("?").join(", ");
    out.params100 = syncAttempt(() => sql.exec(params(100), ...Array(100).fill(1)));
    out.params101 = syncAttempt(() => sql.exec(params(101), ...Array(101).fill(1)));
    out.stmtOk = syncAttempt(() => sql.exec("SELECT '" + "x".repeat(90000) + "'"));
    out.stmtLong = syncAttempt(() => sql.exec("SELECT '" + "x".repeat(100001) + "'"));
    out.like50 = syncAttempt(() => sql.exec("SELECT 'a' LIKE ?", "%".repeat(50)).toArray());
    out.like51 = syncAttempt(() => sql.exec("SELECT 'a' LIKE ?", "%".repeat(51)).toArray());
    out.compound5 = syncAttempt(() => sql.exec(Array(5).fill("SELECT 1").join(" UNION ALL ")).toArray());
    out.compound6 = syncAttempt(() => sql.exec(Array(6).fill("SELECT 1").join(" UNION ALL ")).toArray());
    out.depth = syncAttempt(() => sql.exec("SELECT " + Array(150).fill("1").join(" + ")).toArray());
    sql.exec("CREATE TABLE blobs (b)");
    out.string2MB = syncAttempt(() => sql.exec("INSERT INTO blobs VALUES (?)", "x".repeat(2000000)));
    out.blob2MB = syncAttempt(() => sql.exec("INSERT INTO blobs VALUES (?)", new Uint8Array(2000000)));
    out.tooBig = syncAttempt(() => sql.exec("INSERT INTO blobs VALUES (?)", new Uint8Array(5 * 1024 * 1024)));
    out.stored = sql.exec("SELECT count(*) AS n, sum(length(b)) AS total FROM blobs").one();
    return out;
  },
  async allowUnconfirmed(s) {
    await s.put("a", 1, { allowUnconfirmed: true });
    await s.delete("gone", { allowUnconfirmed: true });
    await s.put({ b: 2 }, { allowUnconfirmed: true });
    return { data: show(await s.get(["a", "b"])) };
  },
};

class Base extends DurableObject {
  async run(name, arg) {
    const f = scenarios[name];
    if (!f) return { error: "no scenario " + name };
    try { return await f.call(this, this.ctx.storage, arg); } catch (e) { return { error: errText(e), stack: String(e && e.stack) }; }
  }
  async alarm() {}
  // GATE-1/2: the read-modify-write of objects.md 10.4 (1).
  async fetch() {
    const n = (await this.ctx.storage.get("n")) ?? 0;
    await this.ctx.storage.put("n", n + 1);
    return new Response(String(n + 1));
  }
}
export class Sql extends Base {}
export class Kv extends Base {}

// LIFE-10: state loaded in the constructor under blockConcurrencyWhile.
export class Init extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.ready = false;
    ctx.blockConcurrencyWhile(async () => {
      const v = await ctx.storage.get("value");
      await sleep(50);
      this.value = v ?? 0;
      this.ready = true;
    });
  }
  read() { return { ready: this.ready, value: this.value }; }
  async bump() { this.value++; await this.ctx.storage.put("value", this.value); return this.value; }
  async restart() { await this.ctx.storage.sync(); this.ctx.abort("restart requested"); }
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === "/count") return env[url.searchParams.get("cls")].getByName(url.searchParams.get("name")).fetch(req);
    if (url.pathname === "/value") {
      const stub = env[url.searchParams.get("cls")].getByName(url.searchParams.get("name"));
      return Response.json(await stub.run("getN"));
    }
    if (url.pathname === "/txnIsolation") {
      const stub = env.Sql.getByName(url.searchParams.get("name"));
      const a = stub.run("txnSlow");
      const b = stub.run("readX");
      return Response.json({ a: await a, b: await b });
    }
    if (url.pathname.startsWith("/init/")) {
      const stub = env.Init.getByName(url.searchParams.get("name"));
      const op = url.pathname.slice(6);
      try { return Response.json(await stub[op]()); } catch (e) { return Response.json({ error: errText(e) }); }
    }
    const { cls, name, s, arg } = await req.json();
    return Response.json(await env[cls].getByName(name).run(s, arg));
  },
};
scenarios.getN = async (s) => ({ n: await s.get("n") });
`;

let srv;
before(async () => {
  srv = await startDev(makeProject({ "wrangler.toml": wrangler, "index.js": worker }), ["--threads", "2"]);
});
after(async () => { assert.equal((await srv.stop()).code, 0); });

let seq = 0;
async function run(cls, s, { name, arg } = {}) {
  const r = await fetch(srv.url + "/run", { method: "POST", body: JSON.stringify({ cls, s, name: name ?? `${s}-${seq++}`, arg }) });
  const text = await r.text();
  assert.equal(r.status, 200, `${cls}.${s}: HTTP ${r.status} ${text}\n${srv.logs().slice(-3000)}`);
  const j = JSON.parse(text);
  if (j && j.error !== undefined) assert.fail(`${cls}.${s} threw: ${j.error}\n${j.stack ?? ""}`);
  return j;
}
const get = async (path) => {
  const r = await fetch(srv.url + path);
  const text = await r.text();
  assert.equal(r.status, 200, `${path}: HTTP ${r.status} ${text}`);
  return JSON.parse(text);
};
const DELETE_ALL_IN_TXN = "Error: Cannot call deleteAll() within a transaction";

for (const cls of ["Sql", "Kv"]) {
  test(`TXN-1 TXN-2 TXN-3 transaction(): result, txn methods, own writes visible, commit (${cls})`, async () => {
    const j = await run(cls, "txnBasic");
    assert.deepEqual(j.methods, ["get", "put", "delete", "list", "getAlarm", "setAlarm", "deleteAlarm", "rollback"].map((m) => m + ":function"));
    assert.deepEqual(j.result, { a: 1, many: { map: [["a", 1], ["c", 3]] }, list: ["a", "b", "c"], deleted: 1, deletedOne: true, after: ["a"] });
    assert.deepEqual(j.committed, { map: [["a", 1]] });
    assert.equal(j.plain, 7, "a synchronous closure's value is the result too");
  });

  test(`TXN-4 a throwing closure discards its writes, rejects with the same error, does not reset (${cls})`, async () => {
    const name = "throw-" + cls;
    const j = await run(cls, "txnThrow", { name });
    assert.equal(j.same, true, "the very error object thrown by the closure");
    assert.equal(j.caught, "RangeError: closure failed");
    assert.equal(j.rejected, "TypeError: async reject");
    assert.deepEqual(j.data, { map: [["keep", "before"]] });
    const again = await run(cls, "txnThrow", { name });
    assert.equal(again.mem, 2, "in-memory state survived: the object was not reset");
  });

  test(`TXN-5 rollback(): closure continues, later ops throw, result returned, nothing stored (${cls})`, async () => {
    const j = await run(cls, "txnRollback");
    assert.equal(j.result, "returned");
    assert.equal(j.rollbackReturns, "<undefined>");
    assert.equal(j.kept, "closure keeps running");
    assert.equal(j.put, "Error: Cannot put on rolled back transaction");
    assert.equal(j.get, "Error: Cannot get on rolled back transaction");
    assert.equal(j.delete, "Error: Cannot delete on rolled back transaction");
    assert.equal(j.list, "Error: Cannot list on rolled back transaction");
    assert.deepEqual(j.data, { map: [] });
  });

  test(`KV-20 TXN-2 deleteAll() inside a transaction throws, on txn and on ctx.storage (${cls})`, async () => {
    const j = await run(cls, "txnDeleteAll");
    assert.equal(j.onTxn, DELETE_ALL_IN_TXN);
    assert.equal(j.onStorage, DELETE_ALL_IN_TXN);
    assert.equal(j.outcome, "committed", "the caught error does not spoil the transaction");
    assert.deepEqual(j.data, { map: [["k", 1], ["k2", 2]] });
  });

  test(`ALARM-14 setAlarm inside a rolled-back or failed transaction has no effect (${cls})`, async () => {
    const j = await run(cls, "txnAlarm");
    assert.equal(j.inside, "number", "the transaction sees its own alarm");
    assert.equal(j.after, null);
    assert.equal(j.afterThrow, null);
  });

  test(`TXN-11 GATE-9 sync() resolves once writes (incl. allowUnconfirmed) are durable (${cls})`, async () => {
    const j = await run(cls, "sync");
    assert.deepEqual(j, { empty: "<undefined>", pending: "<undefined>", data: { map: [["a", 1], ["b", 2]] }, afterDelete: "<undefined>" });
  });

  test(`KV-13 GATE-9 allowUnconfirmed is accepted on put/delete and the response still arrives (${cls})`, async () => {
    const j = await run(cls, "allowUnconfirmed");
    assert.deepEqual(j.data, { map: [["a", 1], ["b", 2]] });
  });

  test(`GATE-1 GATE-2 200 concurrent get-then-put increments lose nothing (${cls})`, async () => {
    const name = "gate-" + cls;
    const N = 200;
    const rs = await Promise.all(Array.from({ length: N }, () =>
      fetch(`${srv.url}/count?cls=${cls}&name=${name}`).then(async (r) => [r.status, await r.text()])));
    const bad = rs.filter(([st]) => st !== 200);
    assert.deepEqual(bad, [], "every request succeeded");
    const seen = rs.map(([, t]) => Number(t)).sort((a, b) => a - b);
    assert.deepEqual(seen, Array.from({ length: N }, (_, i) => i + 1), "each request saw a distinct value");
    assert.deepEqual(await get(`/value?cls=${cls}&name=${name}`), { n: N });
  });
}

test("TXN-3 no other event reaches the object while a transaction runs, even across a timer", async () => {
  const j = await get("/txnIsolation?name=iso");
  assert.equal(j.a, "ok");
  assert.equal(j.b.x, "done", "the read queued behind the transaction saw only its committed result");
  assert.deepEqual(j.b.log, ["txn-start", "txn-end", "read"]);
});

test("TXN-7 SQLite backend: ctx.storage, sql and kv calls inside the closure belong to the transaction", async () => {
  const j = await run("Sql", "txnThrowDirect");
  assert.deepEqual(j, { caught: "Error: direct", keep: "before", rows: 0, synckey: "<undefined>" });
});

test("TXN-8 nested transaction() on SQLite: an inner failure rolls back only the inner part", async () => {
  const j = await run("Sql", "txnNested");
  assert.equal(j.inner, "Error: inner");
  assert.equal(j.innerOk, "inner ok");
  assert.equal(j.result, "outer");
  assert.deepEqual(j.data, { map: [["a", 1], ["c", 3]] });
});

test("TXN-9 transactionSync: returns fn's value, rolls back SQL and kv on throw and rethrows, nests", async () => {
  const j = await run("Sql", "txnSync");
  assert.deepEqual(j.result, { r: 1 });
  assert.equal(j.thrown, "same error");
  assert.equal(j.nested, "outer");
  assert.deepEqual(j.rows, [1, 3, 5]);
  assert.deepEqual(j.kv, [1, "<undefined>"], "kv writes of the failed transactionSync were rolled back");
});

test("LIFE-10 blockConcurrencyWhile in the constructor: no call sees uninitialised state, also after a restart", async () => {
  const name = "init-" + Date.now();
  const first = await Promise.all(Array.from({ length: 20 }, () => get(`/init/read?name=${name}`)));
  for (const r of first) assert.deepEqual(r, { ready: true, value: 0 });
  assert.equal(await get(`/init/bump?name=${name}`), 1);
  assert.equal(await get(`/init/bump?name=${name}`), 2);
  const restarted = await get(`/init/restart?name=${name}`);
  assert.ok(restarted.error, "ctx.abort() fails the call that made it");
  const second = await Promise.all(Array.from({ length: 20 }, () => get(`/init/read?name=${name}`)));
  for (const r of second) assert.deepEqual(r, { ready: true, value: 2 }, "the new instance loaded the stored value before any call ran");
});

// ---- SQL ----

test("SQL-1 SQL-2 SQL-7 SQL-8 SQL-9 SQL-12 SQL-13 exec, statements, cursor protocol, columnNames, counters", async () => {
  const j = await run("Sql", "sqlBasics");
  assert.deepEqual(j.ddlColumns, [], "no result columns for DDL");
  assert.equal(j.count, 1, "an INSERT takes effect without reading its cursor");
  assert.deepEqual(j.multi, [{ name: "y" }], "bindings apply to the last statement; its cursor is returned");
  assert.equal(j.total, 3);
  assert.equal(j.rowsWritten, 3);
  assert.deepEqual(j.columnNames, ["id", "label"]);
  assert.deepEqual(j.first, { done: false, value: { id: 1, label: "never read" } });
  assert.deepEqual(j.rest, ["x", "y", "a", "b", "c"]);
  assert.equal(j.done.done, true);
  assert.equal(j.doneHasValue === "<undefined>" || j.doneHasValue === "absent", true, `done value: ${JSON.stringify(j.doneHasValue)}`);
  assert.ok(j.rowsReadStart <= j.rowsReadAfterOne && j.rowsReadAfterOne <= j.rowsReadEnd, `rowsRead grows: ${j.rowsReadStart}, ${j.rowsReadAfterOne}, ${j.rowsReadEnd}`);
  assert.ok(j.rowsReadEnd >= 6, `rowsRead after reading 6 rows: ${j.rowsReadEnd}`);
  assert.equal(j.iterable, "function");
  assert.deepEqual(j.order, ["z", "a", "m"], "row objects keep column order");
  assert.deepEqual(j.dup, { a: 2 }, "a duplicate column name keeps the later value");
  assert.deepEqual(j.dupRaw, [[1, 2]]);
  assert.equal(j.toArray1, 6);
  assert.equal(j.toArray2, 0, "toArray() exhausts the cursor");
  assert.deepEqual(j.empty, [[], []], 'exec("") is an empty cursor');
  assert.match(j.nonString, /^Error: near "42": syntax error/);
  assert.equal(j.nonString2, 7);
  assert.match(j.noQuery, /^TypeError: /);
});

test("SQL-13 rowsRead/rowsWritten of a full scan", async () => {
  const j = await run("Sql", "sqlFullScan");
  assert.equal(j.written, 3);
  assert.ok(j.start <= j.mid && j.mid <= j.end, JSON.stringify(j));
  assert.ok(j.end >= 3, JSON.stringify(j));
  assert.equal(j.end, j.endAgain, "final once exhausted");
});

test("SQL-10 one() and SQL-11 raw() share the cursor", async () => {
  const j = await run("Sql", "sqlCursor");
  assert.deepEqual(j.one, { x: 2 });
  assert.equal(j.none, "Error: Expected exactly one result from SQL query, but got no results.");
  assert.equal(j.many, "Error: Expected exactly one result from SQL query, but got multiple results.");
  assert.deepEqual(j.objFirst, { x: 1, y: 10 });
  assert.deepEqual(j.rawMethods, ["function", "function", "function"]);
  assert.deepEqual(j.rawSecond, [2, 20]);
  assert.deepEqual(j.objThird, { x: 3, y: 30 });
  assert.deepEqual(j.rawRest, [[4, 40]]);
  assert.deepEqual(j.objRest, [], "rows taken by raw() are not returned again");
  assert.deepEqual(j.rawIter, [[4], [3], [2], [1]]);
});

test("SQL-3 SQL-4 binding types and column value types", async () => {
  const j = await run("Sql", "sqlTypes");
  assert.deepEqual(j.text, ["text", "h\u00e9llo"]);
  // SQL-3: a number binds as REAL, integral or not (workerd binds a double).
  assert.deepEqual(j.int, ["real", 42]);
  assert.deepEqual(j.negInt, ["real", -7]);
  assert.deepEqual(j.bigInt, ["real", 2 ** 52]);
  assert.deepEqual(j.real, ["real", 1.5]);
  assert.deepEqual(j.nul, ["null", null]);
  assert.deepEqual(j.undef, ["null", null]);
  assert.deepEqual(j.arrayBuffer, ["blob", "blob:0102ff"]);
  assert.deepEqual(j.view, ["blob", "blob:010203"], "only the view's bytes");
  assert.deepEqual(j.dataView, ["blob", "blob:0809"]);
  assert.deepEqual(j.positional, { b: "two", a: "one", c: "three" });
  // SQL-3: other values bind as the TEXT of their string conversion.
  assert.deepEqual(j.object, ["text", "[object Object]"]);
  assert.deepEqual(j.array, ["text", "1,2"]);
  assert.deepEqual(j.bool, ["text", "true"]);
  assert.deepEqual(j.bigint, ["text", "12345678901234567890"]);
  assert.match(j.symbol, /^TypeError: /);
  assert.deepEqual(j.affinity, { ti: "integer", i: 42, ts: "text", s: "42.0" }, "column affinity decides what is stored");
  assert.match(j.tooFew, /^Error: /);
  assert.match(j.tooMany, /^Error: /);
  assert.deepEqual(j.columns, [["i", "number:5"], ["r", "number:2.25"], ["s", "string:str"], ["b", "ArrayBuffer:00ff"], ["n", "null"]]);
});

test("SQL-5 SQL errors are Errors with SQLite's message; a failed statement changes nothing", async () => {
  const j = await run("Sql", "sqlErrors");
  assert.match(j.syntax, /^Error: .*syntax error/);
  assert.match(j.noTable, /^Error: .*no such table: foo/);
  assert.match(j.unique, /^Error: .*UNIQUE constraint failed: u\.k/);
  assert.match(j.notNull, /^Error: .*NOT NULL constraint failed: u\.v/);
  assert.deepEqual(j.rows, [1], "the multi-row INSERT that failed on its last row inserted nothing");
  assert.equal(j.usable, 1);
});

test("SQL-16 databaseSize is a number that grows with data", async () => {
  const j = await run("Sql", "sqlSize");
  assert.equal(j.type, "number");
  assert.ok(j.before >= 0);
  assert.ok(j.after >= j.before + 900000, JSON.stringify(j));
});

test("SQL-17 storage.kv: synchronous get/put/delete/list over the same data as the async API", async () => {
  const j = await run("Sql", "syncKv");
  assert.equal(j.put, "<undefined>");
  assert.deepEqual(j.getSync, [1, { v: 2 }, true, "async", "<undefined>"]);
  assert.deepEqual(j.getAsync, [1, { v: 2 }]);
  assert.equal(j.deletePresent, true);
  assert.equal(j.deleteAbsent, false);
  assert.equal(j.asyncSeesDelete, "<undefined>");
  assert.deepEqual(j.list, ["b", "c", "d"]);
  assert.deepEqual(j.listPairs, [["b", { v: 2 }]]);
  assert.deepEqual(j.listOpts, ["b", "c"]);
  assert.deepEqual(j.listRev, ["d", "c"]);
  assert.deepEqual(j.listAfter, ["c", "d"]);
  assert.equal(j.listErr, "TypeError: list() cannot be called with both start and startAfter values.");
});

test("SQL-18 SQL-19 SQL-20 SQL-21 transaction control, _cf_ names, ATTACH, VACUUM and most PRAGMAs are refused", async () => {
  const j = await run("Sql", "sqlRefused");
  for (const [name, r] of Object.entries(j.tries)) {
    assert.match(r, /^Error: /, `${name} must be refused: ${r}`);
    if (name.startsWith("txn: ")) assert.match(r, /transaction(Sync)?\(\)/, `${name} tells the user what to use: ${r}`);
    if (name.startsWith("cf: ")) assert.match(r, /not authorized/i, `${name}: ${r}`);
  }
  for (const [name, r] of Object.entries(j.allowed)) assert.equal(r, "ok", `${name} is allowed`);
  assert.deepEqual(j.info, ["x"]);
  assert.deepEqual(j.tables, ["t"], "nothing named _cf_ was created and t was not renamed");
});

test("SQL-23 LIM-40..46 SQLite limits: columns, parameters, statement length, LIKE pattern, compound SELECT, depth, 2 MB values", async () => {
  const j = await run("Sql", "sqlLimits");
  assert.equal(j.cols100, "ok");
  assert.match(j.cols101, /^Error: .*too many columns/);
  assert.equal(j.params100, "ok");
  assert.match(j.params101, /^Error: .*too many SQL variables/);
  assert.equal(j.stmtOk, "ok");
  assert.match(j.stmtLong, /^Error: /);
  assert.equal(j.like50, "ok");
  assert.match(j.like51, /^Error: .*LIKE or GLOB pattern too complex/);
  assert.equal(j.compound5, "ok");
  assert.match(j.compound6, /^Error: /);
  assert.match(j.depth, /^Error: /);
  assert.equal(j.string2MB, "ok");
  assert.equal(j.blob2MB, "ok");
  assert.match(j.tooBig, /^Error: .*string or blob too big/i);
  assert.deepEqual(j.stored, { n: 2, total: 4000000 });
});
