// Cluster mode, faults that signals cannot provoke (issue 11; spec cluster.md CL-6,
// CL-9, CL-5; docs/cluster.md "Fault injection (tests)"), injected through the
// test-only hooks of DURABLE_TEST_HOOKS=1:
//   - a PostgreSQL commit that fails after the epoch check: a commit that wrote the
//     KV key "__durable_fail_pg_commit__" runs its fenced statement inside BEGIN,
//     then the transaction is made to fail, so nothing is committed;
//   - a forward connection that drops mid-call: a forwarded call whose arguments
//     hold "__durable_drop_connection__" runs on the owner, which then closes the
//     incoming connection instead of replying;
//   - <data>/durable-test-hold: while it exists the node's cluster thread waits, so
//     the commits queued meanwhile meet in one batch when it goes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPostgres } from "./pg.mjs";
import { startCluster, op, waitOk, stopAll, sleep, holdClusterThread } from "./cluster_lib.mjs";

process.env.DURABLE_TEST_HOOKS = "1";   // the nodes inherit it

const WORKER = `
import { DurableObject } from "cloudflare:workers";
export class Obj extends DurableObject {
  async put(v) { await this.ctx.storage.put("v", v); return v; }
  async get() { return (await this.ctx.storage.get("v")) ?? null; }
  async failPut(v) { await this.ctx.storage.put({ v, __durable_fail_pg_commit__: 1 }); return v; }
  async marker() { return (await this.ctx.storage.get("__durable_fail_pg_commit__")) ?? null; }
  async inc(tag) { const n = ((await this.ctx.storage.get("n")) ?? 0) + 1; await this.ctx.storage.put("n", n); return n; }
  async count() { return (await this.ctx.storage.get("n")) ?? 0; }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const op = u.searchParams.get("op"), name = u.searchParams.get("name") || "a";
    const id = env.OBJ.idFromName(name);
    const stub = env.OBJ.get(id);
    try {
      let r;
      if (op === "id") r = id.toString();
      else if (op === "put") r = await stub.put(u.searchParams.get("v"));
      else if (op === "failput") r = await stub.failPut(u.searchParams.get("v"));
      else if (op === "get") r = await stub.get();
      else if (op === "marker") r = await stub.marker();
      else if (op === "inc") r = await stub.inc("");
      else if (op === "dropinc") r = await stub.inc("__durable_drop_connection__");
      else if (op === "count") r = await stub.count();
      else return new Response("unknown op", { status: 400 });
      return Response.json({ ok: r });
    } catch (e) {
      return Response.json({ error: String(e && e.message), reset: !!(e && e.durableObjectReset) }, { status: 500 });
    }
  },
};
`;

let pg;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

/** The object's log rows in PostgreSQL (its key ends with its 64-hex id). */
async function logRows(db, hex) {
  return Number((await pg.psql(`SELECT count(*) FROM log WHERE key LIKE '%/${hex}'`, { db })).trim());
}

test("a PostgreSQL commit that fails after the epoch check: not acknowledged, not in the log, the object comes back without it", async () => {
  const nodes = await startCluster(pg, 2, { prefix: "fa", worker: WORKER });
  const db = "cl_fa";
  try {
    const [a, b] = nodes;
    const hex = (await waitOk(a, "op=id&name=f", 10000)).ok;
    assert.deepEqual((await op(a, "op=put&name=f&v=1")).body, { ok: "1" });   // a owns it
    const rows = await logRows(db, hex);
    assert.ok(rows >= 1, `no log row for an acknowledged write (${rows})`);

    // Other objects of node a written all the while: some may share the failing
    // batch (one transaction); its objects are then committed one by one, so none
    // of them fails with it. A write that was acknowledged is kept.
    let stop = false;
    const others = Array.from({ length: 16 }, () => ({ ok: 0, reset: 0, unknown: 0 }));
    const errors = [];
    const writer = async (i) => {
      while (!stop) {
        const r = await op(a, `op=inc&name=o${i}`);
        if (r.status === 200) {
          others[i].ok++;
          assert.equal(r.body.ok, others[i].ok, `o${i}: acknowledged ${r.body.ok} after ${others[i].ok - 1} acknowledged increments`);
        } else if (r.status === 500 && r.body.reset) {
          others[i].reset++;
          errors.push(r.body.error);
        } else others[i].unknown++;
      }
    };
    const writers = others.map((_, i) => writer(i));
    await sleep(300);

    const r = await op(a, "op=failput&name=f&v=2");
    assert.equal(r.status, 500, `the failed commit was acknowledged: ${JSON.stringify(r)}`);
    assert.equal(r.body.reset, true, JSON.stringify(r.body));
    assert.match(r.body.error, /could not be written to PostgreSQL/);
    assert.match(a.srv.logs(), /injected by DURABLE_TEST_HOOKS/);
    await sleep(300);
    stop = true;
    await Promise.all(writers);

    // PostgreSQL holds nothing of it, and the object, rebuilt from PostgreSQL on
    // its next call (through either node), has the state before it.
    assert.equal(await logRows(db, hex), rows, "the failed commit left a log row");
    assert.equal((await waitOk(a, "op=get&name=f", 10000)).ok, "1");
    assert.equal((await waitOk(b, "op=get&name=f", 10000)).ok, "1");
    assert.equal((await waitOk(a, "op=marker&name=f", 10000)).ok, null);
    // And it takes writes again.
    assert.deepEqual((await op(b, "op=put&name=f&v=3")).body, { ok: "3" });
    assert.equal((await waitOk(a, "op=get&name=f", 10000)).ok, "3");
    assert.equal(await logRows(db, hex), rows + 1);

    for (let i = 0; i < others.length; i++) {
      const n = (await waitOk(nodes[(i + 1) % 2], `op=count&name=o${i}`, 10000)).ok;
      const o = others[i];
      assert.ok(o.ok > 0, `o${i}: no write was acknowledged`);
      assert.ok(n >= o.ok && n <= o.ok + o.unknown,
        `o${i}: ${n} increments stored, ${o.ok} acknowledged, ${o.reset} failed, ${o.unknown} unknown`);
    }
    // None of them failed because of the injected failure (a slow machine may
    // still lose a lease now and then: that error says so, and is not this one).
    const failedWith = errors.filter((m) => /PostgreSQL refused the commit/.test(m));
    process.stderr.write(`# other objects' failed writes: ${errors.length}, with the injected batch: ${failedWith.length}\n`);
    process.stderr.write(`# ${JSON.stringify([...new Set(errors)])}\n`);
    assert.deepEqual(failedWith, [], "writes of other objects failed with the injected batch");
  } finally {
    await stopAll(nodes);
  }
});

test("a forward connection that drops mid-call: the caller gets an error at once, the write is made once, later calls work", async () => {
  const nodes = await startCluster(pg, 2, { prefix: "fb", worker: WORKER });
  try {
    const [a, b] = nodes;
    assert.deepEqual((await op(a, "op=inc&name=d")).body, { ok: 1 });   // a owns it
    assert.deepEqual((await op(b, "op=inc&name=d")).body, { ok: 2 });   // forwarded a→… fine
    // b forwards the call to a; a runs it (and commits), then closes the
    // connection instead of answering.
    const r = await op(b, "op=dropinc&name=d", { timeoutMs: 30000 });
    assert.equal(r.status, 500, `expected an error for the dropped call: ${JSON.stringify(r)}`);
    process.stderr.write(`# dropped call: ${JSON.stringify(r.body)}\n`);
    assert.match(r.body.error, /the connection to node fb1, which owns the object, dropped before it answered; retry/);
    assert.match(a.srv.logs(), /closed by a test hook \(DURABLE_TEST_HOOKS\)/);
    // The write made before the drop is there once: the call was not run again,
    // and no success was reported for it.
    assert.equal((await waitOk(b, "op=count&name=d", 10000)).ok, 3);
    assert.equal((await waitOk(a, "op=count&name=d", 10000)).ok, 3);
    // b dials again: forwarded calls work as before.
    for (let i = 4; i <= 6; i++) assert.deepEqual((await op(b, "op=inc&name=d")).body, { ok: i });
    assert.equal((await waitOk(a, "op=count&name=d", 10000)).ok, 6);
  } finally {
    await stopAll(nodes);
  }
});

test("a failing batch is split: only the object whose commit failed gets the error, the others of its batch commit", async () => {
  // A node timeout far above the hold below: the lease stays good all along.
  const nodes = await startCluster(pg, 2, { prefix: "fc", worker: WORKER, nodeTimeoutMs: 8000 });
  const [a, b] = nodes;
  let release = () => {};
  try {
    const N = 8;
    assert.deepEqual((await op(a, "op=put&name=g&v=1")).body, { ok: "1" });   // a owns them all
    for (let i = 0; i < N; i++) assert.deepEqual((await op(a, `op=inc&name=k${i}`)).body, { ok: 1 });
    // a's cluster thread waits while the failing write and N other writes queue:
    // when it goes on, they ride one batch (one transaction), which fails.
    release = await holdClusterThread(a);
    const failing = op(a, "op=failput&name=g&v=2", { timeoutMs: 60000 });
    const incs = Array.from({ length: N }, (_, i) => op(a, `op=inc&name=k${i}`, { timeoutMs: 60000 }));
    await sleep(500);
    release();
    const r = await failing;
    assert.equal(r.status, 500, `the failed commit was acknowledged: ${JSON.stringify(r)}`);
    assert.equal(r.body.reset, true);
    assert.match(r.body.error, /could not be written to PostgreSQL/);
    const rs = await Promise.all(incs);
    for (let i = 0; i < N; i++) assert.deepEqual(rs[i].body, { ok: 2 }, `k${i} shared the failing batch and failed: ${JSON.stringify(rs[i])}`);
    assert.match(a.srv.logs(), /a commit batch of \d+ commits \(\d+ objects\) failed; its objects are committed one by one/);
    // PostgreSQL has each acknowledged write, and not the failed one.
    assert.equal((await waitOk(b, "op=get&name=g", 10000)).ok, "1");
    for (let i = 0; i < N; i++) assert.equal((await waitOk(b, `op=count&name=k${i}`, 10000)).ok, 2);
  } finally {
    release();
    await stopAll(nodes);
  }
});
