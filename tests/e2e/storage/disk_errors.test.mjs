// A full database reaches the Worker as a storage error, not a bad argument, and
// the object stays consistent (issue 8 item 24; spec limits.md LIM-7, storage.md
// KV-25, objects.md GATE-8).
//
// The disk is filled for real by SQLite: with DURABLE_TEST_HOOKS=1, the variable
// DURABLE_TEST_MAX_PAGES caps every object database at that many pages, and SQLite
// itself answers SQLITE_FULL when a write needs more.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";

const wrangler = `name = "storage-disk-errors"
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

class Base extends DurableObject {
  // One put per call (each its own turn and commit), until the database is full.
  async putOne(i) {
    try { await this.ctx.storage.put("v" + i, "z".repeat(20000)); return "ok"; }
    catch (e) { return errText(e); }
  }
  // Many puts in one turn: the turn's writes commit together or not at all.
  async fillOneTurn() {
    const s = this.ctx.storage, ps = [];
    ps.push(s.put("turn-start", 1));
    for (let i = 0; i < 40; i++) ps.push(s.put("t" + i, "z".repeat(20000)));
    const r = await Promise.allSettled(ps);
    const failed = r.filter((x) => x.status === "rejected");
    return { ok: r.length - failed.length, failed: failed.length, first: failed[0] && errText(failed[0].reason) };
  }
  async state() {
    const m = await this.ctx.storage.list();
    return { keys: m.size, turnStart: m.has("turn-start"), t: [...m.keys()].filter((k) => /^t\d/.test(k)).length };
  }
  async del(k) { return this.ctx.storage.delete(k); }
  sqlTable() { this.ctx.storage.sql.exec("CREATE TABLE b (x BLOB)"); return "ok"; }
  sqlFill() {
    const sql = this.ctx.storage.sql;
    try { for (let i = 0; i < 100; i++) sql.exec("INSERT INTO b VALUES (zeroblob(20000))"); return "no error"; }
    catch (e) { return errText(e); }
  }
  sqlCount() { return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM b").one().n; }
}
export class Store extends Base {}
export class KvStore extends Base {}

export default {
  async fetch(req, env) {
    const { cls, name, method, args = [] } = await req.json();
    try { return Response.json(await env[cls].getByName(name)[method](...args)); }
    catch (e) { return Response.json({ error: errText(e) }, { status: 500 }); }
  },
};
`;

const env = { DURABLE_TEST_HOOKS: "1", DURABLE_TEST_MAX_PAGES: "40" };
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

test("item 24: a full database is an Error saying so (not a TypeError/RangeError); what was stored stays", async () => {
  const srv = await startDev(project(), [], { env });
  try {
    for (const cls of ["KvStore", "Store"]) {
      let stored = 0, last;
      for (let i = 0; i < 100; i++) {
        last = await rpc(srv, cls, "full", "putOne", i);
        if (last !== "ok") break;
        stored++;
      }
      assert.ok(stored > 0 && stored < 100, `${cls}: some puts fit, then the database was full (${stored})`);
      assert.equal(last, "Error: database or disk is full: SQLITE_FULL", cls);
      assert.deepEqual(await rpc(srv, cls, "full", "state"), { keys: stored, turnStart: false, t: 0 }, `${cls}: every acknowledged put is there, the failed one is not`);
      // The object serves on: freeing room makes the next put succeed.
      assert.equal(await rpc(srv, cls, "full", "del", "v0"), true);
      assert.equal(await rpc(srv, cls, "full", "putOne", 1000), "ok");
    }
    assert.match(srv.logs(), /storage: database or disk is full: SQLITE_FULL/, "the operator sees it in the log");
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("item 24: a turn whose writes do not fit commits all of them or none (the object is reset)", async () => {
  const srv = await startDev(project(), [], { env });
  try {
    for (const cls of ["KvStore", "Store"]) {
      const r = await call(srv, cls, "turn", "fillOneTurn");
      const st = await rpc(srv, cls, "turn", "state");
      if (r.status === 200) {
        // SQLite kept the transaction: the writes that succeeded commit together.
        assert.ok(r.body.failed > 0, JSON.stringify(r.body));
        assert.equal(r.body.first, "Error: database or disk is full: SQLITE_FULL");
        assert.deepEqual(st, { keys: r.body.ok, turnStart: true, t: r.body.ok - 1 }, cls);
      } else {
        // The failure took the transaction with it: nothing of the turn is stored
        // and the caller hears of the reset.
        assert.match(r.body.error, /database or disk is full: SQLITE_FULL/);
        assert.deepEqual(st, { keys: 0, turnStart: false, t: 0 }, cls);
      }
    }
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("item 24: SQL that fills the database in one turn stores nothing of that turn; the object is reset and serves on", async () => {
  const srv = await startDev(project(), [], { env });
  try {
    assert.equal(await rpc(srv, "Store", "sql", "sqlTable"), "ok");
    // The Worker caught SQLite's error, but SQLite rolled back the turn's earlier
    // inserts with it: the object is reset and its caller told why (LIM-7, GATE-8).
    const r = await call(srv, "Store", "sql", "sqlFill");
    assert.equal(r.status, 500);
    assert.match(r.body.error, /^Error: .*database or disk is full: SQLITE_FULL/);
    assert.equal(await rpc(srv, "Store", "sql", "sqlCount"), 0, "nothing of the failed turn, the table from before");
    assert.match(srv.logs(), /storage commit failed, the object was reset: database or disk is full: SQLITE_FULL/);
  } finally { assert.equal((await srv.stop()).code, 0); }
});
