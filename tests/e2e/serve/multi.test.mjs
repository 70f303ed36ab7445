// `durable serve` with several Workers: routing by the first label of Host, the
// default for other hosts (--worker NAME, else the script deployed last), and a
// binding to another script's Durable Object class (script_name), whose objects
// run that script's code (issue 12; spec config.md CFG-10/CFG-11, api.md API-33).
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { makeData, startServe, call, form } from "./serve_lib.mjs";

const S = "/client/v4/accounts/:acct/workers/scripts";
const MOD = "application/javascript+module";

/** GET srv.url + p with Host set: { status, body }. */
export function get(srv, p, host) {
  const u = new URL(srv.url + p);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search,
      headers: host ? { host } : {}, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function waitFor(srv, p, host, pred, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await get(srv, p, host).catch((e) => ({ status: 0, body: String(e) }));
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`host ${host} ${p}: last answer ${JSON.stringify(last)}\n${srv.logs()}`);
}

// alpha owns the Counter class; beta has no class of its own and binds alpha's.
const ALPHA = `
export class Counter {
  constructor(state) { this.state = state; }
  async fetch(req) {
    const n = ((await this.state.storage.get("n")) || 0) + 1;
    await this.state.storage.put("n", n);
    return new Response("alpha-code:" + n);
  }
}
export default {
  async fetch(req, env) {
    const name = new URL(req.url).searchParams.get("name") || "a";
    const r = await env.C.get(env.C.idFromName(name)).fetch(req);
    return new Response("alpha " + (await r.text()));
  },
};
`;
const BETA = `
export default {
  async fetch(req, env) {
    const name = new URL(req.url).searchParams.get("name") || "a";
    if (!env.REMOTE) return new Response("beta (no binding)");
    const r = await env.REMOTE.get(env.REMOTE.idFromName(name)).fetch(req);
    return new Response("beta " + (await r.text()));
  },
};
`;

async function deploy(srv, token, name, meta, src) {
  const r = await call(srv, token, "PUT", `${S}/${name}`,
    form({ main_module: "w.mjs", ...meta }, { "w.mjs": [MOD, src] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

test("several Workers by Host; a binding reaches another script's objects", async () => {
  const { data, token } = makeData();
  const srv = await startServe(data, ["--threads", "2"]);
  try {
    await deploy(srv, token, "alpha", {
      bindings: [{ type: "durable_object_namespace", name: "C", class_name: "Counter" }],
      migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
    }, ALPHA);
    await deploy(srv, token, "beta", {
      bindings: [{ type: "durable_object_namespace", name: "REMOTE", class_name: "Counter",
        script_name: "alpha" }],
    }, BETA);
    // Both are served at once, each under its own host name.
    await waitFor(srv, "/?name=x", "beta.example.com", (r) => r.body.startsWith("beta "));
    const a1 = await get(srv, "/?name=x", "alpha.example.com");
    assert.equal(a1.status, 200, a1.body);
    assert.match(a1.body, /^alpha alpha-code:\d+$/);
    // The same object through either script: one instance, alpha's code, one count.
    const n1 = Number(a1.body.split(":")[1]);
    const b1 = await get(srv, "/?name=x", "BETA.localhost:8787");
    assert.equal(b1.body, `beta alpha-code:${n1 + 1}`);
    const a2 = await get(srv, "/?name=x", "alpha.workers.dev");
    assert.equal(a2.body, `alpha alpha-code:${n1 + 2}`);
    // Other hosts go to the script deployed last (beta).
    const other = await get(srv, "/?name=y", "127.0.0.1");
    assert.equal(other.body, "beta alpha-code:1");
    // The listing reaches the object that beta's call made.
    const ns = await call(srv, token, "GET", "/client/v4/accounts/:acct/workers/durable_objects/namespaces");
    assert.equal(ns.body.result.length, 1);
    assert.equal(ns.body.result[0].script, "alpha");
  } finally { await srv.stop(); }
  // --worker picks the default; a host that names no script then goes there.
  const s2 = await startServe(data, ["--worker", "alpha"]);
  try {
    const r = await get(s2, "/?name=x", "127.0.0.1");
    assert.match(r.body, /^alpha alpha-code:\d+$/, "restarted: still served, data kept");
    assert.equal((await get(s2, "/?name=x", "beta.example")).body.startsWith("beta alpha-code:"), true);
  } finally { await s2.stop(); }
  // --worker naming a script that is not deployed: other hosts get 404 saying so,
  // the deployed scripts still answer under their names.
  const s3 = await startServe(data, ["--worker", "gamma"]);
  try {
    const r = await get(s3, "/", "127.0.0.1");
    assert.equal(r.status, 404);
    assert.match(JSON.parse(r.body).error, /host '127\.0\.0\.1'.*--worker gamma, is not deployed/);
    assert.equal((await get(s3, "/", "alpha.example")).status, 200);
  } finally { await s3.stop(); }
});

test("a binding to a script that is gone leaves env without it; the Worker still serves", async () => {
  const { data, token } = makeData();
  const srv = await startServe(data);
  try {
    await deploy(srv, token, "alpha", {
      bindings: [{ type: "durable_object_namespace", name: "C", class_name: "Counter" }],
      migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
    }, ALPHA);
    await deploy(srv, token, "beta", {
      bindings: [{ type: "durable_object_namespace", name: "REMOTE", class_name: "Counter",
        script_name: "alpha" }],
    }, BETA);
    await waitFor(srv, "/", "beta.example", (r) => r.body.startsWith("beta alpha-code"));
    const d = await call(srv, token, "DELETE", `${S}/alpha?force=true`);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    await waitFor(srv, "/", "beta.example", (r) => r.body === "beta (no binding)");
    // alpha is gone: its host now falls to the default (beta, the only one left).
    assert.equal((await get(srv, "/", "alpha.example")).body, "beta (no binding)");
  } finally { await srv.stop(); }
});

test("an unknown host with no default gets 404 with a JSON body", async () => {
  const { data, token } = makeData();
  const srv = await startServe(data, ["--worker", "nosuch"]);
  try {
    await deploy(srv, token, "beta", {}, BETA);
    await waitFor(srv, "/", "beta.example", (r) => r.status === 200);
    const r = await get(srv, "/", "other.example");
    assert.equal(r.status, 404);
    assert.match(JSON.parse(r.body).error, /no Worker is deployed for host 'other\.example'/);
  } finally { await srv.stop(); }
});
