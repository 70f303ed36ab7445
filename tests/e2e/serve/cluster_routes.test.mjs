// GET /cluster, POST /cluster/drain and `durable cluster status|drain` on a server
// that is not in cluster mode (docs/cluster.md "Status and drain"): the token is
// required, the answer is a 404 envelope saying how to start a cluster, wrong
// methods and paths are refused, and the CLI prints the API's error and fails.
// The cluster-mode answers are in tests/e2e/cluster/status.test.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { bin } from "../lib.mjs";
import { makeData, startServe, call } from "./serve_lib.mjs";

let srv, token;

before(async () => {
  let data;
  ({ data, token } = makeData());
  srv = await startServe(data);
});
after(async () => { await srv?.stop(); });

test("GET /cluster needs the token", async () => {
  const r = await call(srv, null, "GET", "/client/v4/cluster");
  assert.equal(r.status, 400);
  assert.equal(r.body.success, false);
  const r2 = await call(srv, "durable_" + "0".repeat(64), "GET", "/client/v4/cluster");
  assert.equal(r2.status, 403);
});

test("not in cluster mode: 404 with code 10500 and how to start one", async () => {
  const r = await call(srv, token, "GET", "/client/v4/cluster");
  assert.equal(r.status, 404);
  assert.equal(r.body.success, false);
  assert.equal(r.body.errors[0].code, 10500);
  assert.match(r.body.errors[0].message, /not in cluster mode.*--cluster/);
  const d = await call(srv, token, "POST", "/client/v4/cluster/drain", JSON.stringify({ node: "n1" }),
    { "content-type": "application/json" });
  assert.equal(d.status, 404);
  assert.equal(d.body.errors[0].code, 10500);
});

test("wrong method or path", async () => {
  assert.equal((await call(srv, token, "POST", "/client/v4/cluster", "{}")).status, 405);
  assert.equal((await call(srv, token, "GET", "/client/v4/cluster/drain")).status, 405);
  const r = await call(srv, token, "GET", "/client/v4/cluster/nodes");
  assert.equal(r.status, 404);
  assert.equal(r.body.errors[0].code, 7000);
});

test("durable cluster status / drain print the server's error and fail", () => {
  const env = { ...process.env, DURABLE_SERVER: srv.api, DURABLE_API_TOKEN: token, NO_COLOR: "1" };
  const s = spawnSync(bin, ["cluster", "status"], { env, encoding: "utf8", timeout: 20000 });
  assert.equal(s.status, 1, s.stderr);
  assert.match(s.stderr, /10500.*not in cluster mode/);
  const d = spawnSync(bin, ["cluster", "drain", "n1"], { env, encoding: "utf8", timeout: 20000 });
  assert.equal(d.status, 1, d.stderr);
  assert.match(d.stderr, /10500/);
  const bad = spawnSync(bin, ["cluster", "drain", "no such node"], { env, encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /not a node id/);
  const none = spawnSync(bin, ["cluster", "drain"], { env, encoding: "utf8" });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /expects NODE/);
  const help = spawnSync(bin, ["cluster", "--help"], { env, encoding: "utf8" });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /durable cluster status/);
});
