// Helpers for the node-level cluster tests (issue 11; spec cluster.md CL-16..CL-19):
// a throw-away PostgreSQL (pg.mjs), several `durable serve --cluster` nodes on it,
// each with its own data folder and ports, the same Worker deployed to each, and
// HTTP calls that never throw (a dropped connection is an answer too).
import fs from "node:fs";
import path from "node:path";
import { makeData, startServe, call, form } from "../serve/serve_lib.mjs";

export const SECRET = "e2e-cluster-secret-3f1c";

/** The Worker every cluster test deploys. The object keeps an in-memory counter
 * (`hit`), a random token per instance (`inst`), a stored register (`put`/`get`), a stored counter (`inc`) and the order
 * in which calls reached it (`seq`). /?op=…&name=… drives it. */
export const WORKER = `
import { DurableObject } from "cloudflare:workers";
export class Obj extends DurableObject {
  constructor(ctx, env) { super(ctx, env); this.mem = 0; this.log = []; this.token = crypto.randomUUID(); }
  hit() { return ++this.mem; }
  inst() { return this.token; }
  async put(v) { await this.ctx.storage.put("v", v); return v; }
  async get() { return (await this.ctx.storage.get("v")) ?? null; }
  async count() { return (await this.ctx.storage.get("n")) ?? 0; }
  async inc() { const n = ((await this.ctx.storage.get("n")) ?? 0) + 1; await this.ctx.storage.put("n", n); return n; }
  async arm(ms) { await this.ctx.storage.setAlarm(Date.now() + ms); return true; }
  async alarm() { await this.ctx.storage.put("fired", ((await this.ctx.storage.get("fired")) ?? 0) + 1); }
  async fired() { return (await this.ctx.storage.get("fired")) ?? 0; }
  seq(i) { this.log.push(i); return this.log.length; }
  order() { return this.log; }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const op = u.searchParams.get("op"), name = u.searchParams.get("name") || "a";
    const stub = env.OBJ.get(env.OBJ.idFromName(name));
    try {
      let r;
      if (op === "hit") r = await stub.hit();
      else if (op === "inst") r = await stub.inst();
      else if (op === "put") r = await stub.put(u.searchParams.get("v"));
      else if (op === "get") r = await stub.get();
      else if (op === "inc") r = await stub.inc();
      else if (op === "count") r = await stub.count();
      else if (op === "arm") r = await stub.arm(Number(u.searchParams.get("ms")));
      else if (op === "fired") r = await stub.fired();
      else if (op === "order") {
        const n = Number(u.searchParams.get("n"));
        const ps = [];
        for (let i = 0; i < n; i++) ps.push(stub.seq(i));
        await Promise.all(ps);
        r = await stub.order();
      } else return new Response("unknown op", { status: 400 });
      return Response.json({ ok: r });
    } catch (e) {
      return Response.json({ error: String(e && e.message), reset: !!(e && e.durableObjectReset),
        retryable: !!(e && e.retryable) }, { status: 500 });
    }
  },
};
`;

/** Starts n nodes on pg (ids n1…), deploys `worker` (default WORKER, class Obj bound
 * as OBJ) once; resolves the nodes. Their database is `cl_${prefix}`. */
export async function startCluster(pg, n, { heartbeatMs = 200, nodeTimeoutMs = 1500, extra = [], prefix = "n", worker = WORKER } = {}) {
  // Each cluster gets a database of its own on the one PostgreSQL: nodes, objects,
  // log and deployments of one test never meet another's.
  const db = `cl_${prefix}`;
  await pg.psql(`CREATE DATABASE ${db}`);
  const url = pg.url.replace(/\/[^/?]*(\?|$)/, `/${db}$1`);
  const nodes = [];
  try {
    return await startNodes(nodes, url, n, { heartbeatMs, nodeTimeoutMs, extra, prefix, worker });
  } catch (e) {
    // the nodes started so far would keep the test process from ending
    await stopAll(nodes).catch(() => {});
    throw e;
  }
}

async function startNodes(nodes, url, n, { heartbeatMs, nodeTimeoutMs, extra, prefix, worker }) {
  for (let i = 0; i < n; i++) {
    const { data, token } = makeData();
    const srv = await startServe(data, ["--cluster", url, "--cluster-secret", SECRET,
      "--node-id", `${prefix}${i + 1}`, "--heartbeat-ms", String(heartbeatMs),
      "--node-timeout-ms", String(nodeTimeoutMs), ...extra], { timeoutMs: 30000 });
    nodes.push({ id: `${prefix}${i + 1}`, data, token, srv });
  }
  const meta = {
    main_module: "worker.mjs",
    compatibility_date: "2025-01-01",
    bindings: [{ type: "durable_object_namespace", name: "OBJ", class_name: "Obj" }],
    migrations: { new_tag: "v1", new_sqlite_classes: ["Obj"] },
  };
  // Deployed once, on the first node: deployments are shared through PostgreSQL
  // (CL-15) and reach the others within a heartbeat.
  const r = await call(nodes[0].srv, nodes[0].token, "PUT", "/client/v4/accounts/:acct/workers/scripts/cl",
    form(meta, { "worker.mjs": ["application/javascript+module", worker] }));
  if (r.status !== 200) throw new Error(`deploy on ${nodes[0].id}: ${r.status} ${JSON.stringify(r.body)}`);
  for (const nd of nodes) await waitOk(nd, "op=get&name=__ready", 20000);
  return nodes;
}

/** One request to a node: resolves { status, body } or { status: 0, error }. */
export async function op(node, query, { timeoutMs = 20000 } = {}) {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const r = await fetch(`${node.srv.url}/?${query}`, { signal: ac.signal });
    const text = await r.text();
    let body = text;
    try { body = JSON.parse(text); } catch { /* raw */ }
    return { status: r.status, body };
  } catch (e) {
    return { status: 0, error: String(e) };
  } finally {
    clearTimeout(t);
  }
}

/** Retries query on node until it answers 200, for at most ms; resolves the body. */
export async function waitOk(node, query, ms) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await op(node, query, { timeoutMs: Math.max(1000, Math.min(5000, end - Date.now())) });
    if (last.status === 200) return last.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${node.id} ?${query} did not answer 200 within ${ms} ms; last: ${JSON.stringify(last)}\n${node.srv.logs().slice(-3000)}`);
}

export async function stopAll(nodes) {
  await Promise.all(nodes.map(async (nd) => {
    try { process.kill(nd.srv.proc.pid, "SIGCONT"); } catch { /* gone */ }
    await nd.srv.stop();
  }));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Test hook (the node runs with DURABLE_TEST_HOOKS=1): holds node's cluster thread
 * (no heartbeat, lease watch, claim or commit) through DATA/durable-test-hold, and
 * resolves once the node logged that it holds; resolves the function that lets it go. */
export async function holdClusterThread(node) {
  const file = path.join(node.data, "durable-test-hold");
  const re = /durable-test-hold exists; the cluster thread holds/g;
  const before = (node.srv.logs().match(re) || []).length;
  fs.writeFileSync(file, "");
  const end = Date.now() + 10000;
  while ((node.srv.logs().match(re) || []).length <= before) {
    if (Date.now() > end) throw new Error(`${node.id}: the cluster thread did not hold\n${node.srv.logs().slice(-2000)}`);
    await sleep(20);
  }
  return () => fs.rmSync(file, { force: true });
}
