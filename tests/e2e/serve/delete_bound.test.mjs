// DELETE of a script whose Durable Object namespace another deployed script binds
// (spec api.md API-38): refused with 400 10066 naming the binders, by
// namespace_id or by script_name + class_name, unless ?force=true; with force the
// binders keep serving without that binding, and later deploys still go through.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { makeData, startServe, call, form } from "./serve_lib.mjs";

const A = "/client/v4/accounts/:acct";
const S = `${A}/workers/scripts`;
const NS = `${A}/workers/durable_objects/namespaces`;
const MOD = "application/javascript+module";

/** GET srv.url + p with Host set: { status, body }. */
function get(srv, p, host) {
  const u = new URL(srv.url + p);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search,
      headers: { host }, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function waitFor(srv, host, pred, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await get(srv, "/", host).catch((e) => ({ status: 0, body: String(e) }));
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`host ${host}: last answer ${JSON.stringify(last)}\n${srv.logs()}`);
}

// Answers whether env.R is bound. No Worker here calls an object (a host not yet
// deployed reaches the default script): the owner's namespace holds no data, so
// only the bindings keep it.
const OWNER = `export class Counter {}
export default { fetch() { return new Response("owner"); } };`;
const USER = (who) => `export default { fetch(req, env) {
  return new Response("${who} " + (env.R ? "bound" : "(no binding)")); } };`;

async function put(srv, token, name, meta, src) {
  const r = await call(srv, token, "PUT", `${S}/${name}`, form({ main_module: "w.mjs", ...meta },
    { "w.mjs": [MOD, src] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

function assert10066(r, what) {
  const ctx = `${what}: ${r.status} ${JSON.stringify(r.body)}`;
  assert.equal(r.status, 400, ctx);
  assert.equal(r.body.success, false, ctx);
  assert.equal(r.body.errors[0].code, 10066, ctx);
  return r.body.errors[0].message;
}

test("delete of a script whose namespace another script binds: 10066 unless force=true", async () => {
  const { data, token } = makeData();
  const srv = await startServe(data);
  try {
    await put(srv, token, "owner", {
      bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" }],
      migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
    }, OWNER);
    const ns = (await call(srv, token, "GET", NS)).body.result.find((n) => n.script === "owner");
    await put(srv, token, "byid", {
      bindings: [{ type: "durable_object_namespace", name: "R", namespace_id: ns.id }],
    }, USER("byid"));
    await put(srv, token, "byname", {
      bindings: [{ type: "durable_object_namespace", name: "R", class_name: "Counter",
        script_name: "owner" }],
    }, USER("byname"));
    await waitFor(srv, "byid.example", (r) => r.body === "byid bound");
    await waitFor(srv, "byname.example", (r) => r.body === "byname bound");

    // Both binders are named, on both delete routes; nothing is deleted.
    let msg = assert10066(await call(srv, token, "DELETE", `${S}/owner`), "scripts");
    assert.match(msg, /owner_Counter/);
    assert.match(msg, /'byid' \(binding 'R'/);
    assert.match(msg, /'byname' \(binding 'R'/);
    assert.match(msg, /force=true/);
    assert10066(await call(srv, token, "DELETE", `${A}/workers/services/owner?force=false`), "services");
    assert.ok((await call(srv, token, "GET", S)).body.result.some((s) => s.id === "owner"));
    assert.ok((await call(srv, token, "GET", NS)).body.result.some((n) => n.id === ns.id));

    // A binder deployed without the binding no longer counts.
    await put(srv, token, "byname", {}, USER("byname"));
    msg = assert10066(await call(srv, token, "DELETE", `${S}/owner`), "one binder left");
    assert.doesNotMatch(msg, /byname/);
    assert.match(msg, /'byid'/);

    // force=true deletes it anyway: the binder serves on without the binding,
    // and a later deploy still goes through.
    const d = await call(srv, token, "DELETE", `${S}/owner?force=true`);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.ok(!(await call(srv, token, "GET", NS)).body.result.some((n) => n.id === ns.id));
    await waitFor(srv, "byid.example", (r) => r.body === "byid (no binding)");
    await put(srv, token, "later", {}, USER("later"));
    await waitFor(srv, "later.example", (r) => r.body === "later (no binding)");
    assert.equal((await get(srv, "/", "byid.example")).body, "byid (no binding)");

    // A script nobody binds is deleted without force (its namespace holds no data).
    await put(srv, token, "solo", {
      bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" }],
      migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
    }, OWNER);
    assert.equal((await call(srv, token, "DELETE", `${S}/solo`)).status, 200);
  } finally { await srv.stop(); }
});
