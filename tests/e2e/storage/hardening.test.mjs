// Storage under hostile input and damaged files (issue 8): what durable reads from
// disk that it did not write is a clear error naming the file — a refusal to start
// for durable.sqlite, a failed call for an object's database while the server keeps
// serving — never a crash; user SQL stops at the CPU limit and cannot reach what a
// Worker has no business with; value-size and batch limits say what they enforce;
// ctx.id.name survives an alarm after a restart.
//
// Spec: storage.md KV-3, KV-8, KV-12, KV-16, SQL-22, SQL-23, ALARM-6; objects.md
// ID-13; limits.md LIM-2, LIM-4, LIM-5, LIM-13.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { startDev, runDevExpectFailure, makeProject } from "../lib.mjs";

const persistDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "durable-hard-"));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const wrangler = `name = "storage-hardening"
main = "index.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "Store"
class_name = "Store"

[[durable_objects.bindings]]
name = "KvStore"
class_name = "KvStore"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Store"]
new_classes = ["KvStore"]
`;

const worker = String.raw`
import { DurableObject } from "cloudflare:workers";
const errText = (e) => (e && e.name !== undefined ? e.name + ": " + e.message : "thrown: " + String(e));
async function attempt(f) { try { const v = await f(); return v === undefined ? "ok" : { ok: v }; } catch (e) { return errText(e); } }

class Base extends DurableObject {
  async put(key, value) { await this.ctx.storage.put(key, value); return "ok"; }
  async get(key) { const v = await this.ctx.storage.get(key); return v === undefined ? "<undefined>" : v; }
  async fill(n) { for (let i = 0; i < n; i++) await this.ctx.storage.put("big" + i, "y".repeat(1500000)); return "ok"; }
  async count() { return (await this.ctx.storage.list()).size; }
  async getAlarm() { return this.ctx.storage.getAlarm(); }
  sql(q, ...b) {
    try { return { rows: this.ctx.storage.sql.exec(q, ...b).raw().toArray() }; }
    catch (e) { return errText(e); }
  }
  // KV-3 / LIM-2: what the value limit counts and says.
  async valueSizes() {
    const s = this.ctx.storage, out = {};
    out.str131072 = await attempt(() => s.put("a", "x".repeat(131072)));
    out.str131073 = await attempt(() => s.put("a", "x".repeat(131073)));
    out.str131100 = await attempt(() => s.put("a", "x".repeat(131100)));
    out.ab131072 = await attempt(() => s.put("a", new ArrayBuffer(131072)));
    out.ab131073 = await attempt(() => s.put("a", new ArrayBuffer(131073)));
    out.u8131072 = await attempt(() => s.put("a", new Uint8Array(131072)));
    out.u8131073 = await attempt(() => s.put("a", new Uint8Array(131073)));
    out.obj = await attempt(() => s.put("a", { v: "x".repeat(131070) }));
    out.batch = await attempt(() => s.put({ ok: 1, big: "x".repeat(131073) }));
    out.batchWroteNothing = (await s.get("ok")) === undefined;
    return out;
  }
  // KV-8, KV-12, KV-16 / LIM-4, LIM-5: counts.
  async batches() {
    const s = this.ctx.storage, out = {};
    const keys = Array.from({ length: 129 }, (_, i) => "k" + i);
    const entries = Object.fromEntries(keys.map((k) => [k, 1]));
    out.put129 = await attempt(() => s.put(entries));
    out.get128 = await attempt(async () => (await s.get(keys.slice(0, 128))).size);
    out.get129 = await attempt(() => s.get(keys));
    out.delete129 = await attempt(() => s.delete(keys));
    return out;
  }
  async arm(ms) { await this.ctx.storage.setAlarm(Date.now() + ms); return this.ctx.id.name ?? "<undefined>"; }
  async alarm(info) {
    await this.ctx.storage.put("alarmSaw", { name: this.ctx.id.name ?? "<undefined>", info: Object.keys(info) });
    console.log("ALARM-RAN " + (this.ctx.id.name ?? "<undefined>"));
  }
}
export class Store extends Base {}
export class KvStore extends Base {}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === "/ping") return new Response("pong");
    const { cls, name, method, args = [] } = await req.json();
    try { return Response.json(await env[cls].getByName(name)[method](...args)); }
    catch (e) { return Response.json({ error: errText(e) }, { status: 500 }); }
  },
};
`;

const project = () => makeProject({ "wrangler.toml": wrangler, "index.js": worker });

async function call(srv, cls, name, method, ...args) {
  const r = await fetch(srv.url + "/", { method: "POST", body: JSON.stringify({ cls, name, method, args }) });
  return { status: r.status, body: await r.json() };
}
async function rpc(srv, cls, name, method, ...args) {
  const { status, body } = await call(srv, cls, name, method, ...args);
  assert.equal(status, 200, `${cls}(${name}).${method}: ${JSON.stringify(body)}\n${srv.logs().slice(-2000)}`);
  return body;
}
async function pong(srv) {
  const r = await fetch(srv.url + "/ping", { signal: AbortSignal.timeout(10000) });
  assert.equal(await r.text(), "pong", "the server keeps serving");
}
/** The object databases under a persist folder. */
function objectFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".sqlite")) out.push(p);
    }
  };
  walk(path.join(dir, "objects"));
  return out;
}

// ---- durable.sqlite: refuse to start, name the file ----

async function preparedPersist() {
  const dir = project(), persist = persistDir();
  const srv = await startDev(dir, ["--persist-to", persist]);
  try { await rpc(srv, "Store", "a", "put", "k", 1); } finally { assert.equal((await srv.stop()).code, 0); }
  return { dir, persist, meta: path.join(persist, "durable.sqlite") };
}

async function refusesToStart(dir, persist, re) {
  const r = await runDevExpectFailure(dir, ["--persist-to", persist]);
  assert.notEqual(r.code, 0, "must not start");
  assert.equal(r.code !== null, true, "exits, not killed by a signal (the old loader crashed: SIGSEGV)");
  assert.match(r.stderr, new RegExp(path.join(persist, "durable.sqlite").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")), "the message names the file");
  assert.match(r.stderr, re);
  assert.doesNotMatch(r.stdout, /Ready on/);
}

// durable.sqlite is edited with the sqlite3 shell or Python's sqlite3 module,
// whichever this machine has (the tests that need one are skipped without).
const sqliteTool = (() => {
  for (const [cmd, args] of [["sqlite3", ["-version"]], ["python3", ["-c", "import sqlite3"]]])
    if (spawnSync(cmd, args, { stdio: "ignore" }).status === 0) return cmd;
  return null;
})();
const editMeta = (file, sql) => {
  const r = sqliteTool === "sqlite3"
    ? spawnSync("sqlite3", [file, sql], { encoding: "utf8" })
    : spawnSync("python3", ["-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()", file, sql], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
};
const noTool = !sqliteTool && "needs the sqlite3 shell or python3";

test("item 2: a secret of the wrong length in durable.sqlite is a refusal naming the file, not SIGSEGV", { skip: noTool }, async () => {
  const { dir, persist, meta } = await preparedPersist();
  editMeta(meta, "UPDATE meta SET value = x'00112233' WHERE key = 'id_secret'");
  await refusesToStart(dir, persist, /id secret .* is 4 bytes of blob/);
});

test("item 2: durable.sqlite with columns or values durable did not write is refused", { skip: noTool }, async () => {
  let { dir, persist, meta } = await preparedPersist();
  editMeta(meta, "INSERT INTO alarms (ns, id, time) VALUES ('x', 'not-hex', 'soon')");
  await refusesToStart(dir, persist, /row of table alarms hold values of the wrong type/);
  ({ dir, persist, meta } = await preparedPersist());
  editMeta(meta, "DROP TABLE alarms; CREATE TABLE alarms (a, b)");
  await refusesToStart(dir, persist, /table alarms has the columns \(a , b \)/);
});

test("item 2: durable.sqlite that is not a database, truncated, empty or a directory is refused", async () => {
  let { dir, persist, meta } = await preparedPersist();
  fs.writeFileSync(meta, Buffer.alloc(8192, 0x5a));
  await refusesToStart(dir, persist, /file is not a database/);

  ({ dir, persist, meta } = await preparedPersist());
  const whole = fs.readFileSync(meta);
  assert.ok(whole.length > 4096, "the file has more than one page");
  fs.writeFileSync(meta, whole.subarray(0, 4096));
  await refusesToStart(dir, persist, /damaged|malformed|not a database/);

  // Zero bytes: an empty database, so the id secret is gone while objects exist.
  ({ dir, persist, meta } = await preparedPersist());
  fs.writeFileSync(meta, "");
  await refusesToStart(dir, persist, /the id secret is missing, but .*objects holds objects/);

  ({ dir, persist, meta } = await preparedPersist());
  fs.rmSync(meta);
  fs.mkdirSync(meta);
  await refusesToStart(dir, persist, /is a directory/);
});

// ---- object databases: the call fails clearly, the server keeps serving ----

test("item 2: a damaged object database fails that object's calls with a clear error; others work", async () => {
  const dir = project(), persist = persistDir();
  let srv = await startDev(dir, ["--persist-to", persist]);
  try {
    for (const n of ["junk", "trunc", "dir", "empty", "fine"]) await rpc(srv, "Store", n, "put", "k", "v-" + n);
    // More than SQLite's checkpoint size, so most of it is in the database file
    // itself rather than in its write-ahead log.
    await rpc(srv, "Store", "trunc", "fill", 4);
    await rpc(srv, "KvStore", "kvjunk", "put", "k", "v");
  } finally { assert.equal((await srv.stop()).code, 0); }
  const files = objectFiles(persist);
  assert.equal(files.length, 6);
  // Each object's file, found by the value it holds (the bytes of "v-<name>" are
  // in the file or its WAL).
  const owner = (f) => {
    const bytes = Buffer.concat([fs.readFileSync(f), fs.existsSync(f + "-wal") ? fs.readFileSync(f + "-wal") : Buffer.alloc(0)]);
    for (const n of ["junk", "trunc", "dir", "empty", "fine"]) if (bytes.includes("v-" + n)) return n;
    return "kv";
  };
  const byName = Object.fromEntries(files.map((f) => [owner(f), f]));
  assert.deepEqual(Object.keys(byName).sort(), ["dir", "empty", "fine", "junk", "kv", "trunc"]);
  const wipe = (f) => { for (const x of [f, f + "-wal", f + "-shm"]) fs.rmSync(x, { force: true, recursive: true }); };
  wipe(byName.junk); fs.writeFileSync(byName.junk, Buffer.alloc(8192, 0x5a));
  wipe(byName.kv); fs.writeFileSync(byName.kv, Buffer.alloc(8192, 0x33));
  const full = fs.readFileSync(byName.trunc);
  assert.ok(full.length > 2000000, "the data was checkpointed into the file");
  wipe(byName.trunc); fs.writeFileSync(byName.trunc, full.subarray(0, full.length >> 1));
  wipe(byName.dir); fs.mkdirSync(byName.dir);
  wipe(byName.empty); fs.writeFileSync(byName.empty, "");

  srv = await startDev(dir, ["--persist-to", persist]);
  try {
    const junk = await call(srv, "Store", "junk", "get", "k");
    assert.equal(junk.status, 500);
    assert.match(junk.body.error, /^Error: the object's database .*\.sqlite is damaged: file is not a database: SQLITE_NOTADB/);
    const kv = await call(srv, "KvStore", "kvjunk", "get", "k");
    assert.match(kv.body.error, /^Error: the object's database .*\.sqlite is damaged/);
    const trunc = await call(srv, "Store", "trunc", "count");
    assert.match(trunc.body.error, /^Error: the object's database .*\.sqlite is damaged: database disk image is malformed: SQLITE_CORRUPT/);
    const d = await call(srv, "Store", "dir", "sql", "SELECT 1");
    assert.match(d.body.error ?? d.body, /^Error: cannot open the object's database .*\.sqlite: it is a directory/);
    // A zero-length file is SQLite's empty database: the object starts empty.
    assert.equal(await rpc(srv, "Store", "empty", "get", "k"), "<undefined>");
    assert.equal(await rpc(srv, "Store", "empty", "put", "k", 2), "ok");
    assert.equal(await rpc(srv, "Store", "fine", "get", "k"), "v-fine");
    await pong(srv);
    assert.match(srv.logs(), /storage: the object's database .*is damaged/, "the operator sees the file in the log");
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("item 2: values, alarms and hidden tables changed behind durable's back are clear errors", { skip: noTool }, async () => {
  const dir = project(), persist = persistDir();
  let srv = await startDev(dir, ["--persist-to", persist]);
  try {
    await rpc(srv, "KvStore", "tamper-value", "put", "k", "v-value");
    await rpc(srv, "KvStore", "tamper-alarm", "arm", 3600000);
    await rpc(srv, "KvStore", "tamper-alarm", "put", "k", "v-alarm");
    await rpc(srv, "KvStore", "tamper-table", "put", "k", "v-table");
  } finally { assert.equal((await srv.stop()).code, 0); }
  const files = objectFiles(persist);
  const owner = (f) => {
    const bytes = Buffer.concat([fs.readFileSync(f), fs.existsSync(f + "-wal") ? fs.readFileSync(f + "-wal") : Buffer.alloc(0)]);
    return ["value", "alarm", "table"].find((n) => bytes.includes("v-" + n));
  };
  const byName = Object.fromEntries(files.map((f) => [owner(f), f]));
  editMeta(byName.value, "UPDATE _cf_KV SET value = x'ff0102' WHERE key = 'k'");
  editMeta(byName.alarm, "UPDATE _cf_METADATA SET value = 'soon'");
  editMeta(byName.table, "DROP TABLE _cf_KV; CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, other BLOB)");
  srv = await startDev(dir, ["--persist-to", persist]);
  try {
    const v = await call(srv, "KvStore", "tamper-value", "get", "k");
    assert.match(v.body.error, /^Error: storage: the value stored under the key "k" cannot be read \(.*\): the object's database holds data durable did not write$/);
    const a = await call(srv, "KvStore", "tamper-alarm", "getAlarm");
    assert.match(a.body.error ?? "", /^Error: the object's database .*\.sqlite is damaged: its alarm time is not an integer$/);
    const t = await call(srv, "KvStore", "tamper-table", "get", "k");
    assert.match(t.body.error, /^Error: the object's database .*\.sqlite is damaged: no such column: value/);
    await pong(srv);
  } finally { assert.equal((await srv.stop()).code, 0); }
});

// ---- SQL: the CPU limit and the surface ----

test("item 6: an endless recursive CTE stops at the CPU limit with a clear error; the shard serves on", async () => {
  const srv = await startDev(project(), ["--cpu-ms", "300"]);
  try {
    // The Worker's request may fail too (the whole event is over its limit, LIM-13);
    // what matters is that the query stops, says why, and the shard is free again.
    const ask = (name, q) => fetch(srv.url + "/", { method: "POST", body: JSON.stringify({ cls: "Store", name, method: "sql", args: [q] }), signal: AbortSignal.timeout(10000) }).then((r) => r.text());
    await ask("cte", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c");
    await srv.waitForLog(/SQL query exceeded the CPU time limit of 300 ms and was interrupted: SQLITE_INTERRUPT/);
    await pong(srv);
    await ask("cte2", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 100000) SELECT count(*) FROM c a, c b, c d");
    await pong(srv);
    const blob = await rpc(srv, "Store", "blob", "sql", "SELECT length(zeroblob(1000000000))");
    assert.equal(blob, "Error: string or blob too big: SQLITE_TOOBIG");
    await pong(srv);
    assert.deepEqual(await rpc(srv, "Store", "after", "sql", "SELECT 41 + 1 AS x"), { rows: [[42]] });
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("item 12: SQL a Worker has no business with is refused with a clear error", async () => {
  const srv = await startDev(project());
  try {
    const refused = {
      "SELECT fts3_tokenizer('porter')": /fts3_tokenizer\(\) is not allowed/,
      "SELECT fts3_tokenizer('x', x'4141414141414141')": /fts3_tokenizer\(\) is not allowed/,
      "SELECT * FROM sqlite_stmt": /access to sqlite_stmt is not authorized/,
      "SELECT * FROM dbstat": /access to dbstat is not authorized/,
      "SELECT load_extension('/tmp/x.so')": /load_extension\(\) is not allowed/,
      "ATTACH 'x.db' AS x": /ATTACH and DETACH are not allowed/,
      "VACUUM INTO '/tmp/durable-hardening-vacuum.db'": /VACUUM is not allowed/,
      "PRAGMA journal_mode = DELETE": /PRAGMA is not allowed/,
      "PRAGMA synchronous = OFF": /PRAGMA is not allowed/,
      "PRAGMA writable_schema = 1": /PRAGMA is not allowed/,
      "SELECT readfile('/etc/passwd')": /no such function: readfile/,
      "SELECT writefile('/tmp/durable-x', 'x')": /no such function: writefile/,
      "UPDATE sqlite_master SET sql = ''": /may not be modified|not authorized/,
    };
    for (const [q, re] of Object.entries(refused)) {
      const r = await rpc(srv, "Store", "surface", "sql", q);
      assert.equal(typeof r, "string", `${q} must fail, got ${JSON.stringify(r)}`);
      assert.match(r, /^Error: /, q);
      assert.match(r, re, q);
    }
    assert.equal(fs.existsSync("/tmp/durable-hardening-vacuum.db"), false);
    // Module names compare without case (SQL-22).
    assert.deepEqual(await rpc(srv, "Store", "surface", "sql", "CREATE VIRTUAL TABLE f USING FTS5(body)"), { rows: [] });
    assert.deepEqual(await rpc(srv, "Store", "surface", "sql", "INSERT INTO f VALUES ('hello world')"), { rows: [] });
    assert.deepEqual(await rpc(srv, "Store", "surface", "sql", "SELECT count(*) FROM f WHERE f MATCH 'hello'"), { rows: [[1]] });
  } finally { assert.equal((await srv.stop()).code, 0); }
});

// ---- limits (item 11) ----

test("item 11: the value limit counts 131,072 bytes of content and says the number it counted", async () => {
  const srv = await startDev(project());
  try {
    const j = await rpc(srv, "KvStore", "sizes", "valueSizes");
    const over = (n) => `RangeError: Values cannot be larger than 131072 bytes. A value of size ${n} was provided.`;
    assert.equal(j.str131072, "ok");
    assert.equal(j.str131073, over(131073));
    assert.equal(j.str131100, over(131100), "no hidden slack: 131,100 bytes are refused");
    assert.equal(j.ab131072, "ok");
    assert.equal(j.ab131073, over(131073));
    assert.equal(j.u8131072, "ok");
    assert.equal(j.u8131073, over(131073));
    assert.match(j.obj, /^RangeError: Values cannot be larger than 131072 bytes\. A value of size (\d+) was provided\.$/);
    assert.ok(Number(/size (\d+)/.exec(j.obj)[1]) > 131072, "the size said is over the limit said");
    assert.equal(j.batch, over(131073));
    assert.equal(j.batchWroteNothing, true, "KV-5: nothing of the batch is written");
    // SQLite-backed: the 2 MB key + value limit, no 128 KiB one.
    const s = await rpc(srv, "Store", "sizes", "valueSizes");
    assert.equal(s.str131100, "ok");
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("item 11: get() of 129 keys is refused on KV-backed objects; put()/delete() of 129 are accepted (KV-12, KV-16)", async () => {
  const srv = await startDev(project());
  try {
    const kv = await rpc(srv, "KvStore", "b", "batches");
    assert.equal(kv.put129, "ok");
    assert.deepEqual(kv.get128, { ok: 128 });
    assert.equal(kv.get129, "RangeError: Maximum number of key value pairs is 128. 129 pairs were provided.");
    assert.deepEqual(kv.delete129, { ok: 129 });
    const sql = await rpc(srv, "Store", "b", "batches");
    assert.equal(typeof sql.get129, "object", "no count limit on SQLite-backed objects (KV-8)");
  } finally { assert.equal((await srv.stop()).code, 0); }
});

// ---- ctx.id.name after a restart (ID-13) ----

test("ID-13: an object woken by its alarm after a restart knows ctx.id.name", async () => {
  const dir = project(), persist = persistDir();
  let srv = await startDev(dir, ["--persist-to", persist]);
  try {
    assert.equal(await rpc(srv, "Store", "named-object", "arm", 2500), "named-object");
    assert.equal(await rpc(srv, "KvStore", "named-kv", "arm", 2500), "named-kv");
  } finally { assert.equal((await srv.stop()).code, 0); }
  srv = await startDev(dir, ["--persist-to", persist]);
  try {
    await srv.waitForLog(/ALARM-RAN named-object/, 15000);
    await srv.waitForLog(/ALARM-RAN named-kv/, 15000);
    await sleep(100);
    const saw = await rpc(srv, "Store", "named-object", "get", "alarmSaw");
    assert.deepEqual(saw, { name: "named-object", info: ["retryCount", "isRetry"] });
  } finally { assert.equal((await srv.stop()).code, 0); }
});
