// Cluster mode, the control plane (spec cluster.md CL-3, CL-8, CL-15): two
// `durable serve --cluster` nodes on one throw-away PostgreSQL. A Worker deployed
// through ONE node's REST API is served by both (same namespace ids), tokens made
// on one node work on the other, GET /cluster and `durable cluster status` show
// both nodes, and `durable cluster drain` hands a node's objects over.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { bin } from "../lib.mjs";
import { startPostgres } from "./pg.mjs";
import { makeData, startServe, call, form, COUNTER, waitServes } from "../serve/serve_lib.mjs";

const SECRET = "e2e-shared-secret-91ab";
let pg, nodes = [];

async function startNode(id) {
  const { data, token } = makeData();
  const srv = await startServe(data, ["--cluster", pg.url, "--cluster-secret", SECRET,
    "--node-id", id, "--heartbeat-ms", "200", "--node-timeout-ms", "1500"], { timeoutMs: 30000 });
  return { id, data, token, srv };
}

before(async () => {
  pg = await startPostgres();
  nodes.push(await startNode("s1"));
  nodes.push(await startNode("s2"));
});
after(async () => {
  await Promise.all(nodes.map((n) => n.srv.stop()));
  await pg?.stop();
});

const META = {
  main_module: "worker.mjs", compatibility_date: "2025-01-01",
  bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" },
    { type: "plain_text", name: "PREFIX", text: "v1:" }],
  migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
};

test("a deploy through one node is served by every node, with the same namespaces (CL-15)", async () => {
  const [a, b] = nodes;
  const r = await call(a.srv, a.token, "PUT", "/client/v4/accounts/:acct/workers/scripts/app",
    form(META, { "worker.mjs": ["application/javascript+module", COUNTER] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // b was never deployed to: it serves within a heartbeat or so.
  assert.equal(await waitServes(b.srv, "/?name=x", (t) => t.startsWith("200")), "200 v1:1");
  assert.equal(await waitServes(a.srv, "/?name=x", (t) => t.startsWith("200")), "200 v1:2");
  const nsA = await call(a.srv, a.token, "GET", "/client/v4/accounts/:acct/workers/durable_objects/namespaces");
  const nsB = await call(b.srv, b.token, "GET", "/client/v4/accounts/:acct/workers/durable_objects/namespaces");
  assert.equal(nsA.body.result.length, 1);
  assert.deepEqual(nsB.body.result.map((n) => n.id), nsA.body.result.map((n) => n.id));
  // a's token works on b (tokens are shared), and a redeploy through b reaches a.
  const meta2 = { ...META, bindings: [META.bindings[0], { type: "plain_text", name: "PREFIX", text: "v2:" }] };
  delete meta2.migrations;
  const r2 = await call(b.srv, a.token, "PUT", "/client/v4/accounts/:acct/workers/scripts/app",
    form(meta2, { "worker.mjs": ["application/javascript+module", COUNTER] }));
  assert.equal(r2.status, 200, JSON.stringify(r2.body));
  assert.match(await waitServes(a.srv, "/?name=x", (t) => t.includes("v2:")), /^200 v2:\d+$/);
});

test("GET /cluster and `durable cluster status` show both nodes (CL-3)", async () => {
  const [a, b] = nodes;
  const r = await call(b.srv, b.token, "GET", "/client/v4/cluster");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.success, true);
  assert.equal(r.body.result.this_node, "s2");
  const ids = r.body.result.nodes.map((n) => n.id).sort();
  assert.deepEqual(ids, ["s1", "s2"]);
  for (const n of r.body.result.nodes) assert.equal(n.state, "alive");
  const env = { ...process.env, DURABLE_SERVER: a.srv.api, DURABLE_API_TOKEN: a.token, NO_COLOR: "1" };
  const s = spawnSync(bin, ["cluster", "status"], { env, encoding: "utf8", timeout: 20000 });
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /^s1 .* alive .*\(answered\)$/m);
  assert.match(s.stdout, /^s2 .* alive /m);
  const j = spawnSync(bin, ["cluster", "status", "--json"], { env, encoding: "utf8", timeout: 20000 });
  assert.equal(JSON.parse(j.stdout).this_node, "s1");
});

test("`durable cluster drain` hands a node's objects over (CL-8); an unknown node is a 404", async () => {
  const [a, b] = nodes;
  for (let i = 0; i < 5; i++) await waitServes(b.srv, `/?name=d${i}`, (t) => t.startsWith("200"));
  const env = { ...process.env, DURABLE_SERVER: a.srv.api, DURABLE_API_TOKEN: a.token, NO_COLOR: "1" };
  const d = spawnSync(bin, ["cluster", "drain", "s2"], { env, encoding: "utf8", timeout: 90000 });
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /s2 drained/);
  const st = await call(a.srv, a.token, "GET", "/client/v4/cluster");
  const s2 = st.body.result.nodes.find((n) => n.id === "s2");
  assert.equal(s2.objects, 0);
  const u = await call(a.srv, a.token, "POST", "/client/v4/cluster/drain", JSON.stringify({ node: "nope" }),
    { "content-type": "application/json" });
  assert.equal(u.status, 404, JSON.stringify(u.body));
  assert.equal(u.body.errors[0].code, 10502);
  const bad = await call(a.srv, a.token, "POST", "/client/v4/cluster/drain", JSON.stringify({ node: 5 }),
    { "content-type": "application/json" });
  assert.equal(bad.status, 400);
});
