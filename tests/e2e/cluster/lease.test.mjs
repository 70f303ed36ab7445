// Cluster mode, the owner's side of a lease (issue 11; spec cluster.md CL-7, CL-17,
// UNIQ-3; docs/cluster.md "Leases"). A read does not commit, so the fenced commit
// cannot catch a stale instance that answers one: only the lease check (per event
// at the object's shard, per storage access in the instance) stops a node whose
// lease ran out from answering from what it holds.
//
// The test-only hook of DURABLE_TEST_HOOKS=1 used here: while <data>/durable-test-hold
// exists, the node's cluster thread waits at the top of its loop (no heartbeat, no
// lease watch, no claim), as a thread stuck in PostgreSQL would. So nothing tells the
// shards that the lease is gone except the lease's own clock.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPostgres } from "./pg.mjs";
import { startCluster, op, waitOk, stopAll, sleep, holdClusterThread } from "./cluster_lib.mjs";
import { call } from "../serve/serve_lib.mjs";

process.env.DURABLE_TEST_HOOKS = "1";   // the nodes inherit it

let pg;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

test("CL-7: an owner paused past its lease and resumed, its cluster thread stuck, answers no read from its stale instance", async () => {
  const nodes = await startCluster(pg, 2, { prefix: "ls" });
  const [a, b] = nodes;
  let release = () => {};
  try {
    assert.deepEqual((await op(a, "op=inc&name=p")).body, { ok: 1 });   // a owns it
    const tokenA = (await op(a, "op=inst&name=p")).body.ok;
    assert.equal(typeof tokenA, "string");

    // a's cluster thread stops (no heartbeat, no lease watch), then a pauses.
    release = await holdClusterThread(a);
    process.kill(a.srv.proc.pid, "SIGSTOP");
    // b takes the object once a's heartbeat is node-timeout old, and writes. (b asks
    // only then: a call b sent earlier would be forwarded to a and wait in its socket,
    // and a would run it on resuming — a write, caught by the fenced commit, whose
    // pending commit would hold back every answer of that instance.)
    const dead = Date.now() + 30000;
    for (;;) {
      const st = await call(b.srv, b.token, "GET", "/client/v4/cluster");
      if (st.status === 200 && st.body.result.nodes.find((n) => n.id === a.id)?.state === "dead") break;
      assert.ok(Date.now() < dead, `node ${a.id} was never seen dead: ${JSON.stringify(st.body)}`);
      await sleep(100);
    }
    assert.equal((await waitOk(b, "op=inc&name=p", 30000)).ok, 2);
    const tokenB = (await op(b, "op=inst&name=p")).body.ok;
    assert.notEqual(tokenB, tokenA);
    process.kill(a.srv.proc.pid, "SIGCONT");

    // a resumes with its instance in memory (n = 1 in its file) and its cluster
    // thread still held: its lease ran out by its own clock, and that is all that
    // stops it. A read there must not be answered by that instance.
    const inst = op(a, "op=inst&name=p", { timeoutMs: 60000 });
    await sleep(1000);
    const count = op(a, "op=count&name=p", { timeoutMs: 60000 });
    await sleep(500);
    release();   // the cluster thread goes on: a claims anew, finds b, forwards
    const [rc, ri] = await Promise.all([count, inst]);
    process.stderr.write(`# reads on the resumed node: ${JSON.stringify(rc)} ${JSON.stringify(ri)}\n`);
    assert.ok(!(rc.status === 200 && rc.body.ok === 1), `a stale read from the resumed node: ${JSON.stringify(rc)}`);
    if (rc.status === 200) assert.equal(rc.body.ok, 2);
    assert.ok(!(ri.status === 200 && ri.body.ok === tokenA), "the resumed node's old instance answered: two live instances");
    if (ri.status === 200) assert.equal(ri.body.ok, tokenB);
    assert.match(a.srv.logs(), /lease lost/);

    // a serves again through the owner b.
    assert.equal((await waitOk(a, "op=count&name=p", 20000)).ok, 2);
    assert.equal((await waitOk(a, "op=inst&name=p", 20000)).ok, tokenB);
    assert.equal((await waitOk(a, "op=inc&name=p", 20000)).ok, 3);
  } finally {
    release();
    await stopAll(nodes);
  }
});
