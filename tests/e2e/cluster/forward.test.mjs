// Cluster mode, calls forwarded to an owner that stops answering (issue 11; spec
// cluster.md CL-5, CL-17; docs/cluster.md "What a client sees when something
// fails"). A paused node keeps its TCP connections open, so no drop tells the
// caller's node anything: liveness probes on the internal connection bound the
// wait. A call forwarded to a paused owner fails with an error that names the node
// and is marked `retryable`; once the owner is back, or another node took the
// object, calls work again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPostgres } from "./pg.mjs";
import { startCluster, op, waitOk, stopAll } from "./cluster_lib.mjs";

let pg;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

test("a call forwarded to a paused owner fails with a retryable error naming the node; calls work again after", async () => {
  const nodes = await startCluster(pg, 2, { prefix: "fw" });
  const [a, b] = nodes;
  try {
    assert.deepEqual((await op(a, "op=inc&name=f")).body, { ok: 1 });   // a owns it
    assert.deepEqual((await op(b, "op=inc&name=f")).body, { ok: 2 });   // b forwards to a
    process.kill(a.srv.proc.pid, "SIGSTOP");
    // b forwards the call to a, which cannot answer; the client's own bound (60 s)
    // is far above the node timeout (1.5 s): the error comes from b's probes.
    const r = await op(b, "op=inc&name=f", { timeoutMs: 60000 });
    process.stderr.write(`# call to the paused owner: ${JSON.stringify(r)}\n`);
    assert.equal(r.status, 500, `expected an error: ${JSON.stringify(r)}`);
    assert.match(r.body.error, /^Durable Object call forwarded to node fw1 did not answer within 1500 ms/);
    assert.equal(r.body.retryable, true);
    assert.match(b.srv.logs(), /connection to node fw1 at .* closed: the node did not answer for \d+ ms/);
    process.kill(a.srv.proc.pid, "SIGCONT");

    // Things recover: through either node, one sequence of increments. (The call
    // that failed may or may not have run on a after it resumed.)
    const n = (await waitOk(b, "op=count&name=f", 30000)).ok;
    assert.ok(n === 2 || n === 3, `count ${n} after 2 acknowledged increments and one failed`);
    assert.equal((await waitOk(b, "op=inc&name=f", 30000)).ok, n + 1);
    assert.equal((await waitOk(a, "op=inc&name=f", 30000)).ok, n + 2);
    assert.equal((await waitOk(b, "op=inc&name=f", 30000)).ok, n + 3);
  } finally {
    await stopAll(nodes);
  }
});
