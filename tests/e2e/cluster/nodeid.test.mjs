// Cluster mode, two processes with one node id (issue 11; spec cluster.md CL-1, CL-4;
// docs/cluster.md "What a client sees when something fails"). Each process start
// writes a random incarnation into its node's row (schema version 2): a second
// process whose node id is held by a live process (its heartbeat moves) refuses to
// start; a process that finds its row taken over by another incarnation (it was
// paused while a new one started) fences itself; a restart after kill -9 waits for
// the dead process's heartbeat to lapse instead of failing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPostgres } from "./pg.mjs";
import { startCluster, op, waitOk, stopAll, sleep, SECRET } from "./cluster_lib.mjs";
import { makeData, startServe, serveExpectFailure } from "../serve/serve_lib.mjs";

let pg;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

const clusterArgs = (db, id) => ["--cluster", pg.url.replace(/\/[^/?]*(\?|$)/, `/${db}$1`),
  "--cluster-secret", SECRET, "--node-id", id, "--heartbeat-ms", "200", "--node-timeout-ms", "1500"];

test("a second process with a node id a live process holds is refused; a paused one that lost its id fences itself; a restart after kill -9 waits", async () => {
  const nodes = await startCluster(pg, 1, { prefix: "nid" });
  const [a] = nodes;
  const more = [];
  try {
    assert.deepEqual((await op(a, "op=inc&name=x")).body, { ok: 1 });

    // 1. The same id while nid1 runs: refused, non-zero exit, a clear message.
    const d2 = makeData();
    const r = await serveExpectFailure(d2.data, ["--port", "0", "--api-port", "0", ...clusterArgs("cl_nid", "nid1")]);
    process.stderr.write(`# second process: exit ${r.code}: ${r.stderr.trim().split("\n").pop()}\n`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /another durable process is running as node 'nid1' \(its heartbeat in PostgreSQL keeps moving; incarnation [0-9a-f]{32}\): refusing to start a second one/);
    assert.deepEqual((await op(a, "op=inc&name=x")).body, { ok: 2 });   // nid1 untouched

    // 2. nid1 paused past its timeout: a new process takes the id (its heartbeat
    // does not move, so it waits for it to lapse, then starts).
    process.kill(a.srv.proc.pid, "SIGSTOP");
    const d3 = makeData();
    const b = { id: "nid1'", ...d3, srv: await startServe(d3.data, clusterArgs("cl_nid", "nid1"), { timeoutMs: 30000 }) };
    more.push(b);
    assert.match(b.srv.logs(), /node nid1 is alive in PostgreSQL .* Waiting for its heartbeat to lapse/);
    assert.equal((await waitOk(b, "op=inc&name=x", 30000)).ok, 3);
    // The old process resumes: it sees another incarnation in its row and stops
    // serving objects for good (its calls fail; nothing of it is served).
    process.kill(a.srv.proc.pid, "SIGCONT");
    const end = Date.now() + 20000;
    while (!/another process now runs as node nid1/.test(a.srv.logs()) && Date.now() < end) await sleep(50);
    assert.match(a.srv.logs(), /another process now runs as node nid1 \(incarnation [0-9a-f]{32}; this one is [0-9a-f]{32}\): this process stops serving Durable Objects for good/);
    const ra = await op(a, "op=inc&name=x");
    assert.equal(ra.status, 500, JSON.stringify(ra));
    assert.match(ra.body.error, /another process runs with this node's id; this one is fenced/);
    const ry = await op(a, "op=inc&name=y");
    assert.equal(ry.status, 500, JSON.stringify(ry));
    // The new process goes on, with every acknowledged write.
    assert.equal((await waitOk(b, "op=inc&name=x", 10000)).ok, 4);
    await a.srv.stop();   // its clean stop leaves the new process's rows alone
    assert.equal((await waitOk(b, "op=inc&name=x", 10000)).ok, 5);

    // 3. kill -9 and start again at once with the same id: it waits for the dead
    // process's heartbeat to lapse, then serves (no refusal).
    process.kill(b.srv.proc.pid, "SIGKILL");
    const d4 = makeData();
    const c = { id: "nid1''", ...d4, srv: await startServe(d4.data, clusterArgs("cl_nid", "nid1"), { timeoutMs: 30000 }) };
    more.push(c);
    assert.match(c.srv.logs(), /Waiting for its heartbeat to lapse/);
    assert.equal((await waitOk(c, "op=inc&name=x", 30000)).ok, 6);
  } finally {
    await stopAll([...nodes, ...more]);
  }
});
