// Cluster mode, node level (issue 11; spec cluster.md CL-4..CL-7, CL-13, CL-16..CL-18):
// three `durable serve --cluster` nodes on one throw-away PostgreSQL, each with its
// own ports and data folder, the real binary. Every bound below is generous: the
// tests check that things happen, not how fast.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPostgres } from "./pg.mjs";
import { startCluster, op, waitOk, stopAll, sleep } from "./cluster_lib.mjs";
import { checkRegister } from "./linearizability.mjs";
import { call } from "../serve/serve_lib.mjs";
import { execFileSync } from "node:child_process";
import { bin } from "../lib.mjs";

let pg;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

test("one instance per id across nodes: an in-memory counter hit through all three counts 1, 2, 3, …", async () => {
  const nodes = await startCluster(pg, 3, { prefix: "a" });
  try {
    const seen = [];
    for (let i = 0; i < 30; i++) {
      const r = await op(nodes[i % 3], "op=hit&name=shared");
      assert.equal(r.status, 200, JSON.stringify(r));
      seen.push(r.body.ok);
    }
    assert.deepEqual(seen, Array.from({ length: 30 }, (_, i) => i + 1));
    // Stored state too: increments through every node, one sequence.
    for (let i = 0; i < 9; i++) {
      const r = await op(nodes[(i + 1) % 3], "op=inc&name=stored");
      assert.deepEqual(r.body, { ok: i + 1 });
    }
  } finally {
    await stopAll(nodes);
  }
});

test("a token made on one node reaches the others without restarting their objects (only a change to what is served reloads)", async () => {
  const nodes = await startCluster(pg, 2, { prefix: "tok" });
  try {
    assert.deepEqual((await op(nodes[0], "op=hit&name=keep")).body, { ok: 1 });
    // `durable token create` on node 2's data folder: node 2 publishes it, node 1
    // imports it at its next poll.
    const token = execFileSync(bin, ["token", "create", "--name", "later", "--data", nodes[1].data],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    const end = Date.now() + 20000;
    let r;
    do {
      await sleep(100);
      r = await call(nodes[0].srv, token, "GET", "/client/v4/accounts/:acct/workers/scripts");
    } while (r.status !== 200 && Date.now() < end);
    assert.equal(r.status, 200, "the token made on node 2 works on node 1");
    // The object on node 1 kept its in-memory state: no reload happened.
    assert.deepEqual((await op(nodes[0], "op=hit&name=keep")).body, { ok: 2 });
  } finally {
    await stopAll(nodes);
  }
});

test("E-order across nodes: calls through one stub on node 2 reach the object on node 1 in order (ORDER-1, CL-5)", async () => {
  const nodes = await startCluster(pg, 3, { prefix: "b" });
  try {
    await waitOk(nodes[0], "op=hit&name=ordered", 10000);    // node 1 claims it
    for (const nd of [nodes[1], nodes[2]]) {
      const before = (await waitOk(nd, "op=order&name=ordered&n=0", 10000)).ok.length;
      const r = await op(nd, "op=order&name=ordered&n=200");
      assert.equal(r.status, 200, JSON.stringify(r));
      assert.deepEqual(r.body.ok.slice(before), Array.from({ length: 200 }, (_, i) => i));
    }
    // One instance got them all (they were forwarded, not served by a copy).
    assert.equal((await waitOk(nodes[0], "op=order&name=ordered&n=0", 10000)).ok.length, 400);
  } finally {
    await stopAll(nodes);
  }
});

test("CL-16: kill -9 of the node that owns the objects loses no acknowledged write; they serve again", async () => {
  const nodes = await startCluster(pg, 3, { prefix: "c" });
  try {
    const N = 200;
    const acked = new Array(N).fill(null), inflight = new Array(N).fill(null);
    // Node 1 sees every object first, so it owns them all.
    for (let i = 0; i < N; i++) {
      const r = await op(nodes[0], `op=put&name=o${i}&v=0`);
      assert.equal(r.status, 200, JSON.stringify(r));
      acked[i] = "0";
    }
    // Writers through every node, one sequential writer per object.
    let stop = false;
    const writer = async (i) => {
      for (let k = 1; !stop; k++) {
        const v = String(k);
        inflight[i] = v;
        const r = await op(nodes[(i + k) % 3], `op=put&name=o${i}&v=${v}`, { timeoutMs: 5000 });
        if (r.status === 200 && r.body.ok === v) acked[i] = v;
        else if (nodes[0].killed) return;   // the kill came: this write may or may not have landed
        await sleep(5);
      }
    };
    const writers = Array.from({ length: N }, (_, i) => writer(i));
    await sleep(1500);
    process.kill(nodes[0].srv.proc.pid, "SIGKILL");
    nodes[0].killed = true;
    stop = true;
    await Promise.all(writers);
    assert.ok(acked.some((v) => v !== "0"), "no write was acknowledged before the kill");
    // Every object serves again through the survivors, with its last acknowledged
    // write (or the one in flight at the kill, which may have landed).
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      const body = await waitOk(nodes[1 + (i % 2)], `op=get&name=o${i}`, 30000);
      assert.ok(body.ok === acked[i] || body.ok === inflight[i],
        `object o${i}: read ${body.ok}, last acknowledged ${acked[i]}, in flight ${inflight[i]}`);
    }
    const took = Date.now() - t0;
    assert.ok(took < 60000, `the objects took ${took} ms to serve again`);
  } finally {
    await stopAll(nodes);
  }
});

test("CL-17: a paused owner resumed after a takeover serves nothing stale: its clients get errors or the new owner's answer", async () => {
  const nodes = await startCluster(pg, 3, { prefix: "d" });
  try {
    const [a, b, c] = nodes;
    assert.deepEqual((await op(a, "op=inc&name=p")).body, { ok: 1 });   // a owns it
    process.kill(a.srv.proc.pid, "SIGSTOP");
    // A read sent to a while it is paused waits in its socket.
    const pendingRead = op(a, "op=count&name=p", { timeoutMs: 60000 });
    // b takes over once a's lease is gone (node-timeout 1500 ms) and writes.
    assert.equal((await waitOk(b, "op=inc&name=p", 30000)).ok, 2);
    process.kill(a.srv.proc.pid, "SIGCONT");
    // a's instance still holds 1 in memory and in its file: it must not answer 1.
    const rr = await pendingRead;
    if (rr.status === 200) assert.equal(rr.body.ok, 2, `a stale read from the resumed node: ${JSON.stringify(rr)}`);
    // Nothing a wrote after the takeover is in the data, and a serves again
    // consistently once it claims or forwards anew.
    assert.equal((await waitOk(c, "op=count&name=p", 10000)).ok, 2);
    assert.equal((await waitOk(a, "op=inc&name=p", 20000)).ok, 3);
    assert.equal((await waitOk(b, "op=inc&name=p", 20000)).ok, 4);
  } finally {
    await stopAll(nodes);
  }
});

test("CL-18: PostgreSQL stopped and started under load: no acknowledged write lost, the nodes recover", async () => {
  const nodes = await startCluster(pg, 3, { prefix: "e" });
  try {
    const N = 30;
    const acked = new Array(N).fill(0), tried = new Array(N).fill(0);
    let stop = false;
    const writer = async (i) => {
      while (!stop) {
        tried[i]++;
        const r = await op(nodes[(i + tried[i]) % 3], `op=inc&name=q${i}`, { timeoutMs: 15000 });
        if (r.status === 200) {
          assert.ok(r.body.ok > acked[i], `q${i}: ${r.body.ok} after ${acked[i]} was acknowledged`);
          acked[i] = r.body.ok;
        }
        await sleep(10);
      }
    };
    const writers = Array.from({ length: N }, (_, i) => writer(i));
    await sleep(1000);
    await pg.halt();
    await sleep(2500);   // past the node timeout: every lease is lost
    await pg.start();
    await sleep(1000);
    // Recovered by themselves: every object takes writes again.
    for (let i = 0; i < N; i++) await waitOk(nodes[i % 3], `op=get&name=q${i}`, 30000);
    stop = true;
    await Promise.all(writers);
    for (let i = 0; i < N; i++) {
      const n = (await waitOk(nodes[(i + 1) % 3], `op=inc&name=q${i}`, 30000)).ok;
      assert.ok(n > acked[i], `q${i}: ${acked[i]} increments were acknowledged, the next is ${n}`);
    }
  } finally {
    await stopAll(nodes);
  }
});

test("CL-14: an alarm set on a node that dies fires on another node", async () => {
  const nodes = await startCluster(pg, 3, { prefix: "f" });
  try {
    assert.deepEqual((await op(nodes[0], "op=arm&name=al&ms=2500")).body, { ok: true });
    assert.deepEqual((await op(nodes[0], "op=fired&name=al")).body, { ok: 0 });
    process.kill(nodes[0].srv.proc.pid, "SIGKILL");
    await sleep(6000);   // past the alarm and the node timeout: the cluster hands it out
    const end = Date.now() + 30000;
    let fired = 0;
    while (Date.now() < end && fired < 1) {
      const r = await op(nodes[1], "op=fired&name=al", { timeoutMs: 5000 });
      if (r.status === 200) fired = r.body.ok;
      else await sleep(200);
      if (fired < 1) await sleep(200);
    }
    assert.equal(fired, 1, "the alarm did not fire after its node died");
  } finally {
    await stopAll(nodes);
  }
});

test("CL-19: a register read and written through every node, with a pause and a kill, stays linearizable", async () => {
  const nodes = await startCluster(pg, 3, { prefix: "g" });
  try {
    assert.equal((await waitOk(nodes[0], "op=get&name=reg", 10000)).ok, null);   // n1 owns it
    const history = [];
    const dead = new Set();
    let stop = false, next = 0;
    const client = async (c) => {
      for (let k = 0; !stop; k++) {
        const live = nodes.filter((nd) => !dead.has(nd));
        const nd = live[(c + k) % live.length];
        const write = Math.random() < 0.5;
        const value = `${c}.${k}`;
        const start = process.hrtime.bigint();
        const r = await op(nd, write ? `op=put&name=reg&v=${value}` : "op=get&name=reg", { timeoutMs: 4000 });
        const end = r.status === 200 ? process.hrtime.bigint() : null;   // an error: outcome unknown
        if (write) history.push({ client: c, type: "write", value, start, end });
        else history.push({ client: c, type: "read", start, end, result: end === null ? undefined : r.body.ok });
        next++;
        await sleep(10);
      }
    };
    const clients = Array.from({ length: 6 }, (_, c) => client(c));
    await sleep(1500);
    process.kill(nodes[0].srv.proc.pid, "SIGSTOP");     // the owner pauses past its lease
    await sleep(2500);
    process.kill(nodes[0].srv.proc.pid, "SIGCONT");
    await sleep(1500);
    process.kill(nodes[2].srv.proc.pid, "SIGKILL");     // and another node dies
    dead.add(nodes[2]);
    await sleep(2500);
    stop = true;
    await Promise.all(clients);
    const done = history.filter((o) => o.end !== null);
    assert.ok(done.filter((o) => o.type === "write").length > 10, "too few writes completed");
    assert.ok(done.filter((o) => o.type === "read").length > 10, "too few reads completed");
    const res = checkRegister(history, { initial: null });
    assert.ok(res.ok, `not linearizable (${history.length} operations): ${res.explanation}`);
  } finally {
    await stopAll(nodes);
  }
});

test("CL-11/CL-12: an object written past a snapshot is rebuilt from snapshot plus log on another node", async () => {
  const nodes = await startCluster(pg, 2, { prefix: "h" });
  try {
    for (let i = 1; i <= 150; i++) assert.deepEqual((await op(nodes[0], "op=inc&name=snap")).body, { ok: i });
    const st = await call(nodes[1].srv, nodes[1].token, "GET", "/client/v4/cluster");
    assert.equal(st.status, 200, JSON.stringify(st.body));
    assert.ok(st.body.result.snapshots >= 1, `no snapshot after 150 commits: ${JSON.stringify(st.body.result)}`);
    process.kill(nodes[0].srv.proc.pid, "SIGKILL");
    assert.equal((await waitOk(nodes[1], "op=count&name=snap", 30000)).ok, 150);
    assert.equal((await waitOk(nodes[1], "op=inc&name=snap", 10000)).ok, 151);
  } finally {
    await stopAll(nodes);
  }
});

test("CL-12 shortcut: an object that went idle is claimed back with its local file kept when nothing moved, and rebuilt when another node wrote it meanwhile", async () => {
  const nodes = await startCluster(pg, 2, { prefix: "sc", extra: ["--idle-timeout-ms", "300"] });
  const status = async (nd) => {
    const r = await call(nd.srv, nd.token, "GET", "/client/v4/cluster");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.result;
  };
  // Until the node's idle instances have let their objects go (PostgreSQL says so).
  const idle = async (nd) => {
    for (let i = 0; i < 300; i++) {
      if ((await status(nd)).nodes.find((n) => n.id === nd.id).objects === 0) return;
      await sleep(50);
    }
    assert.fail(`${nd.id} still owns objects`);
  };
  try {
    let v = 0;
    for (let i = 0; i < 3; i++) assert.deepEqual((await op(nodes[0], "op=inc&name=kept")).body, { ok: ++v });
    await idle(nodes[0]);
    const s0 = (await status(nodes[0])).stats.claim_shortcuts;
    assert.deepEqual((await op(nodes[0], "op=inc&name=kept")).body, { ok: ++v });
    assert.equal((await status(nodes[0])).stats.claim_shortcuts, s0 + 1, "the file was not kept");
    // n2 takes it and writes while n1 has let it go: n1's file is behind, rebuilt
    await idle(nodes[0]);
    assert.deepEqual((await op(nodes[1], "op=inc&name=kept")).body, { ok: ++v });
    await idle(nodes[1]);
    assert.deepEqual((await op(nodes[0], "op=inc&name=kept")).body, { ok: ++v });
    assert.equal((await status(nodes[0])).stats.claim_shortcuts, s0 + 1, "a stale file was kept");
    assert.deepEqual((await op(nodes[0], "op=count&name=kept")).body, { ok: v });
  } finally {
    await stopAll(nodes);
  }
});
