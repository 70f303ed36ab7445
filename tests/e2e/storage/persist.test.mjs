// Storage that outlives the process: restarts (SIGTERM) and crashes (SIGKILL) with
// --persist-to, alarms (set/get/delete, firing, retry, surviving a restart), and the
// migrations that move or delete stored data (spec storage.md KV-23, GATE-6, section 5;
// config.md MIG-4, MIG-6).
//
// Every wait has a deadline; alarms are only required to fire "eventually" (15 s).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startDev, runDevExpectFailure, makeProject } from "../lib.mjs";

const persistDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "durable-persist-"));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const wrangler = `name = "storage-persist"
main = "index.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "Store"
class_name = "Store"

[[durable_objects.bindings]]
name = "KvStore"
class_name = "KvStore"

[[durable_objects.bindings]]
name = "NoAlarm"
class_name = "NoAlarm"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Store", "NoAlarm"]
new_classes = ["KvStore"]
`;

const worker = String.raw`
import { DurableObject } from "cloudflare:workers";
const errText = (e) => (e && e.name !== undefined ? e.name + ": " + e.message : "thrown: " + String(e));
async function attempt(f) { try { const v = await f(); return v === undefined ? "ok" : { ok: v }; } catch (e) { return errText(e); } }

class Base extends DurableObject {
  async write(label) {
    const s = this.ctx.storage;
    await s.put("label", label);
    await s.put({ a: 1, nested: { m: new Map([["k", [1, 2]]]) }, date: new Date(86400000) });
    await s.put("big", "x".repeat(100000));
    await s.delete("a");
    await s.put("b", 2);
    return "written";
  }
  async read() {
    const s = this.ctx.storage;
    const all = await s.list();
    const nested = all.get("nested");
    return {
      keys: [...all.keys()],
      label: all.get("label"),
      b: all.get("b"),
      nestedOk: nested && nested.m instanceof Map && JSON.stringify(nested.m.get("k")) === "[1,2]",
      dateOk: all.get("date") instanceof Date && all.get("date").getTime() === 86400000,
      bigLength: (all.get("big") ?? "").length,
    };
  }
  async put(key, value) { await this.ctx.storage.put(key, value); return "ok"; }
  async get(key) { const v = await this.ctx.storage.get(key); return v === undefined ? "<undefined>" : v; }
  idHex() { return this.ctx.id.toString(); }
  // ---- alarms ----
  async alarmApi() {
    const s = this.ctx.storage, out = {};
    out.initial = await s.getAlarm();
    const t1 = Date.now() + 3600000;
    out.setNumber = await attempt(() => s.setAlarm(t1));
    out.afterNumber = (await s.getAlarm()) === t1;
    out.isInteger = Number.isInteger(await s.getAlarm());
    const t2 = Date.now() + 7200000;
    out.setDate = await attempt(() => s.setAlarm(new Date(t2)));
    out.afterDate = (await s.getAlarm()) === t2;
    out.getOptions = (await s.getAlarm({ allowConcurrency: true })) === t2;
    out.setOptions = await attempt(() => s.setAlarm(t2 + 1, { allowUnconfirmed: true, allowConcurrency: true }));
    out.replaced = (await s.getAlarm()) === t2 + 1;
    out.zero = await attempt(() => s.setAlarm(0));
    out.negative = await attempt(() => s.setAlarm(-1000));
    out.dateZero = await attempt(() => s.setAlarm(new Date(0)));
    out.invalidDate = await attempt(() => s.setAlarm(new Date(NaN)));
    out.unchanged = (await s.getAlarm()) === t2 + 1;
    out.delete = await attempt(() => s.deleteAlarm());
    out.afterDelete = await s.getAlarm();
    out.deleteNone = await attempt(() => s.deleteAlarm({ allowUnconfirmed: true }));
    out.afterDeleteNone = await s.getAlarm();
    return out;
  }
  async arm(label, delayMs, mode = "ok") {
    const s = this.ctx.storage;
    await s.put({ label, mode, attempts: [] });
    await s.setAlarm(Date.now() + delayMs);
    return await s.getAlarm();
  }
  async alarmState() {
    const s = this.ctx.storage;
    return { attempts: (await s.get("attempts")) ?? [], alarm: await s.getAlarm() };
  }
  async alarm(info) {
    const s = this.ctx.storage;
    const during = await s.getAlarm();
    const attempts = (await s.get("attempts")) ?? [];
    attempts.push({ retryCount: info && info.retryCount, isRetry: info && info.isRetry, during });
    await s.put("attempts", attempts);
    const label = await s.get("label");
    console.log("ALARM-FIRED " + label + " attempt " + attempts.length + " " + JSON.stringify(info));
    if ((await s.get("mode")) === "fail-once" && attempts.length === 1) throw new Error("alarm failed on purpose");
  }
}
export class Store extends Base {
  async writeSql(rows) {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)");
    for (const r of rows) sql.exec("INSERT INTO t (v) VALUES (?)", r);
    this.ctx.storage.kv.put("synckv", rows.length);
    return "ok";
  }
  readSql() {
    const sql = this.ctx.storage.sql;
    let rows = [];
    try { rows = sql.exec("SELECT v FROM t ORDER BY id").toArray().map((r) => r.v); } catch (e) { rows = errText(e); }
    return { rows, synckv: this.ctx.storage.kv.get("synckv") ?? "<undefined>" };
  }
}
export class KvStore extends Base {}
export class NoAlarm extends DurableObject {
  async tryAlarm() { return attempt(() => this.ctx.storage.setAlarm(Date.now() + 1000)); }
}

export default {
  async fetch(req, env) {
    const { cls, name, method, args = [] } = await req.json();
    try { return Response.json(await env[cls].getByName(name)[method](...args)); }
    catch (e) { return Response.json({ error: errText(e) }, { status: 500 }); }
  },
};
`;

function project() { return makeProject({ "wrangler.toml": wrangler, "index.js": worker }); }
async function rpc(srv, cls, name, method, ...args) {
  const r = await fetch(srv.url + "/", { method: "POST", body: JSON.stringify({ cls, name, method, args }) });
  const text = await r.text();
  assert.equal(r.status, 200, `${cls}(${name}).${method}: HTTP ${r.status} ${text}\n${srv.logs().slice(-3000)}`);
  return JSON.parse(text);
}
/** Polls `f` until `ok(value)` or `ms` pass; returns the last value. */
async function until(f, ok, ms = 15000) {
  const end = Date.now() + ms;
  let v;
  for (;;) {
    v = await f();
    if (ok(v) || Date.now() > end) return v;
    await sleep(200);
  }
}

// storage.kv shares the KV table (SQL-17): the Store object also lists "synckv".
const expectedRead = (label, extra = []) => ({
  keys: ["b", "big", "date", "label", "nested", ...extra], label, b: 2, nestedOk: true, dateOk: true, bigLength: 100000,
});

test("KV-23 KV and SQL data written before a clean stop (SIGTERM) are there after a restart", async () => {
  const dir = project(), persist = persistDir();
  let srv = await startDev(dir, ["--persist-to", persist]);
  let alarmAt;
  try {
    assert.equal(await rpc(srv, "Store", "p", "write", "sql-backed"), "written");
    assert.equal(await rpc(srv, "KvStore", "p", "write", "kv-backed"), "written");
    assert.equal(await rpc(srv, "Store", "p", "writeSql", ["one", "two", "three"]), "ok");
    alarmAt = await rpc(srv, "Store", "far", "arm", "far", 3600000);
    assert.deepEqual(await rpc(srv, "Store", "p", "read"), expectedRead("sql-backed", ["synckv"]), "readable before the restart");
  } finally { assert.equal((await srv.stop()).code, 0); }

  srv = await startDev(dir, ["--persist-to", persist]);
  try {
    assert.deepEqual(await rpc(srv, "Store", "p", "read"), expectedRead("sql-backed", ["synckv"]));
    assert.deepEqual(await rpc(srv, "KvStore", "p", "read"), expectedRead("kv-backed"));
    assert.deepEqual(await rpc(srv, "Store", "p", "readSql"), { rows: ["one", "two", "three"], synckv: 3 });
    assert.equal((await rpc(srv, "Store", "far", "alarmState")).alarm, alarmAt, "the alarm time is stored too");
    assert.deepEqual((await rpc(srv, "Store", "other", "read")).keys, [], "another object is still empty");
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("GATE-6 a write acknowledged before SIGKILL survives the crash", async () => {
  const dir = project(), persist = persistDir();
  let srv = await startDev(dir, ["--persist-to", persist]);
  try {
    assert.equal(await rpc(srv, "Store", "crash", "write", "before-crash"), "written");
    assert.equal(await rpc(srv, "KvStore", "crash", "write", "before-crash-kv"), "written");
    assert.equal(await rpc(srv, "Store", "crash", "writeSql", ["r1", "r2"]), "ok");
    assert.equal(await rpc(srv, "Store", "crash", "put", "last", { n: 42 }), "ok");
  } finally {
    srv.proc.kill("SIGKILL");
    await srv.exited;
  }
  srv = await startDev(dir, ["--persist-to", persist]);
  try {
    const sqlRead = await rpc(srv, "Store", "crash", "read");
    assert.deepEqual(sqlRead.keys, ["b", "big", "date", "label", "last", "nested", "synckv"]);
    assert.equal(sqlRead.label, "before-crash");
    assert.deepEqual(await rpc(srv, "KvStore", "crash", "read"), expectedRead("before-crash-kv"));
    assert.deepEqual(await rpc(srv, "Store", "crash", "readSql"), { rows: ["r1", "r2"], synckv: 2 });
    assert.deepEqual(await rpc(srv, "Store", "crash", "get", "last"), { n: 42 });
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("ALARM-1..5 getAlarm/setAlarm/deleteAlarm, exact errors, and no alarm() handler", async () => {
  const srv = await startDev(project(), ["--persist-to", persistDir()]);
  try {
    for (const cls of ["Store", "KvStore"]) {
      const j = await rpc(srv, cls, "api", "alarmApi");
      const ALARM_TIME = "TypeError: setAlarm() cannot be called with an alarm time <= 0";
      assert.deepEqual(j, {
        initial: null,
        setNumber: "ok", afterNumber: true, isInteger: true,
        setDate: "ok", afterDate: true, getOptions: true,
        setOptions: "ok", replaced: true,
        zero: ALARM_TIME, negative: ALARM_TIME, dateZero: ALARM_TIME, invalidDate: ALARM_TIME,
        unchanged: true,
        delete: "ok", afterDelete: null,
        deleteNone: "ok", afterDeleteNone: null,
      }, cls);
    }
    assert.equal(await rpc(srv, "NoAlarm", "x", "tryAlarm"),
      "TypeError: Your Durable Object class must have an alarm() handler in order to call setAlarm()");
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("ALARM-6 ALARM-7 an alarm fires with {retryCount: 0, isRetry: false}; getAlarm() is null from its start", async () => {
  const srv = await startDev(project(), ["--persist-to", persistDir()]);
  try {
    for (const cls of ["Store", "KvStore"]) {
      const label = "fire-" + cls;
      const at = await rpc(srv, cls, label, "arm", label, 300);
      assert.equal(typeof at, "number");
      await srv.waitForLog(new RegExp("ALARM-FIRED " + label + " attempt 1"), 15000);
      const st = await until(() => rpc(srv, cls, label, "alarmState"), (s) => s.attempts.length >= 1 && s.alarm === null);
      assert.deepEqual(st.attempts, [{ retryCount: 0, isRetry: false, during: null }], cls);
      assert.equal(st.alarm, null, "cleared after the handler succeeded");
    }
    // A time in the past (> 0) is accepted and runs as soon as possible (ALARM-3).
    const st = await rpc(srv, "Store", "past", "arm", "past", -60000);
    assert.equal(typeof st, "number");
    await srv.waitForLog(/ALARM-FIRED past attempt 1/, 15000);
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("ALARM-8 a throwing alarm handler is retried with retryCount 1", async () => {
  const srv = await startDev(project(), ["--persist-to", persistDir()]);
  try {
    await rpc(srv, "Store", "retry", "arm", "retry", 100, "fail-once");
    await srv.waitForLog(/ALARM-FIRED retry attempt 1/, 15000);
    await srv.waitForLog(/ALARM-FIRED retry attempt 2/, 15000);
    const st = await until(() => rpc(srv, "Store", "retry", "alarmState"), (s) => s.attempts.length >= 2 && s.alarm === null);
    assert.deepEqual(st.attempts.slice(0, 2).map(({ retryCount, isRetry }) => ({ retryCount, isRetry })),
      [{ retryCount: 0, isRetry: false }, { retryCount: 1, isRetry: true }]);
    assert.equal(st.attempts.length, 2, "no further attempt after the retry succeeded");
    assert.equal(st.alarm, null);
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("ALARM-6 an alarm set before a restart fires after it, without any request to the object", async () => {
  const dir = project(), persist = persistDir();
  let srv = await startDev(dir, ["--persist-to", persist]);
  try {
    await rpc(srv, "Store", "restart", "arm", "restart-alarm", 4000);
  } finally { assert.equal((await srv.stop()).code, 0); }
  assert.doesNotMatch(srv.logs() + srv.stdout(), /ALARM-FIRED restart-alarm/, "the first server must not have run it (it stopped early)");
  srv = await startDev(dir, ["--persist-to", persist]);
  try {
    await srv.waitForLog(/ALARM-FIRED restart-alarm attempt 1 .*"retryCount":0/, 15000);
    const st = await until(() => rpc(srv, "Store", "restart", "alarmState"), (s) => s.attempts.length >= 1 && s.alarm === null);
    assert.equal(st.attempts.length, 1);
    assert.equal(st.alarm, null);
  } finally { assert.equal((await srv.stop()).code, 0); }
});

// ---- migrations ----

const migWorker = String.raw`
import { DurableObject } from "cloudflare:workers";
class Base extends DurableObject {
  async put(k, v) { await this.ctx.storage.put(k, v); this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (v)"); this.ctx.storage.sql.exec("INSERT INTO t VALUES (?)", v); return "ok"; }
  async get(k) {
    const v = await this.ctx.storage.get(k);
    let rows;
    try { rows = this.ctx.storage.sql.exec("SELECT v FROM t").toArray().map((r) => r.v); } catch (e) { rows = []; }
    return { v: v === undefined ? "<undefined>" : v, rows, id: this.ctx.id.toString(), cls: this.constructor.name };
  }
}
export class Old extends Base {}
export class New extends Base {}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    if (!env.THING) return new Response("no binding");
    const stub = env.THING.getByName(u.searchParams.get("name"));
    return Response.json(u.pathname === "/put" ? await stub.put("k", u.searchParams.get("v")) : await stub.get("k"));
  },
};
`;
const head = `name = "storage-migrate"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\n`;
const binding = (cls) => `[[durable_objects.bindings]]\nname = "THING"\nclass_name = "${cls}"\n`;
const mig = {
  v1: `[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Old"]\n`,
  v2: `[[migrations]]\ntag = "v2"\nrenamed_classes = [{ from = "Old", to = "New" }]\n`,
  v3: `[[migrations]]\ntag = "v3"\ndeleted_classes = ["New"]\n`,
  v4: `[[migrations]]\ntag = "v4"\nnew_sqlite_classes = ["New"]\n`,
};

test("MIG-4 MIG-6 renamed_classes keeps the data under the new name; deleted_classes removes it", async () => {
  const dir = makeProject({ "wrangler.toml": head + binding("Old") + mig.v1, "index.js": migWorker });
  const persist = persistDir();
  const toml = (text) => fs.writeFileSync(path.join(dir, "wrangler.toml"), text);
  const j = async (srv, p) => { const r = await fetch(srv.url + p); const t = await r.text(); assert.equal(r.status, 200, t); return JSON.parse(t); };

  let srv = await startDev(dir, ["--persist-to", persist]);
  let oldId;
  try {
    assert.equal(await j(srv, "/put?name=a&v=kept"), "ok");
    const got = await j(srv, "/get?name=a");
    assert.deepEqual([got.v, got.rows, got.cls], ["kept", ["kept"], "Old"]);
    oldId = got.id;
  } finally { assert.equal((await srv.stop()).code, 0); }

  toml(head + binding("New") + mig.v1 + mig.v2);
  srv = await startDev(dir, ["--persist-to", persist]);
  try {
    const got = await j(srv, "/get?name=a");
    assert.deepEqual([got.v, got.rows, got.cls], ["kept", ["kept"], "New"], "KV and SQL data now belong to New");
    assert.equal(got.id, oldId, "idFromName gives the same id after the rename");
  } finally { assert.equal((await srv.stop()).code, 0); }

  // Deleting a class that a binding still names is refused and changes nothing (MIG-6).
  toml(head + binding("New") + mig.v1 + mig.v2 + mig.v3);
  const refused = await runDevExpectFailure(dir, ["--persist-to", persist]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Cannot apply --delete-class migration to class '?New'? without also removing the binding that references it/);

  toml(head + mig.v1 + mig.v2 + mig.v3);
  srv = await startDev(dir, ["--persist-to", persist]);
  try {
    assert.equal(await (await fetch(srv.url + "/get?name=a")).text(), "no binding");
  } finally { assert.equal((await srv.stop()).code, 0); }

  toml(head + binding("New") + mig.v1 + mig.v2 + mig.v3 + mig.v4);
  srv = await startDev(dir, ["--persist-to", persist]);
  try {
    const got = await j(srv, "/get?name=a");
    assert.deepEqual([got.v, got.rows], ["<undefined>", []], "the deleted class's data is gone; the re-created class starts empty");
  } finally { assert.equal((await srv.stop()).code, 0); }
});
