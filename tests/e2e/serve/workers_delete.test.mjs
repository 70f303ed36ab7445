// DELETE of a Worker and of a version through the Workers API (spec api.md API-40,
// API-44): a Worker by id or name, with DELETE /scripts/{name}'s refusals (10066
// while its objects hold data or another live script binds its namespace, unless
// force=true); a stored version, never the live one; unknown ones 404 10007. A
// Worker made again under a deleted one's name serves its own code, and a deleted
// version's number is not given out again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { makeData, startServe, call, form, COUNTER } from "./serve_lib.mjs";

const A = "/client/v4/accounts/:acct";
const S = `${A}/workers/scripts`;
const W = `${A}/workers/workers`;
const json = (b) => [JSON.stringify(b), { "content-type": "application/json" }];
const b64 = (t) => Buffer.from(t).toString("base64");
const HELLO = (s) => `export default { fetch() { return new Response(${JSON.stringify(s)}); } };`;
const version = (src, extra = {}) => ({
  main_module: "index.mjs", compatibility_date: "2025-01-01",
  modules: [{ name: "index.mjs", content_type: "application/javascript+module", content_base64: b64(src) }],
  ...extra,
});

let srv, token;
before(async () => {
  const d = makeData();
  token = d.token;
  srv = await startServe(d.data);
});
after(async () => { await srv?.stop(); });

function assertError(r, status, code, what) {
  const ctx = `${what}: ${r.status} ${JSON.stringify(r.body)}`;
  assert.equal(r.status, status, ctx);
  assert.equal(r.body.success, false, ctx);
  assert.equal(r.body.result, null, ctx);
  assert.equal(r.body.errors[0].code, code, ctx);
  return r.body.errors[0].message;
}

/** GET / of the Workers listener with Host: <name>.example, until pred holds. */
async function serves(name, pred, ms = 15000) {
  const end = Date.now() + ms;
  let last = "";
  while (Date.now() < end) {
    try {
      const r = await fetch(srv.url + "/?name=x", { headers: { host: `${name}.example` } });
      last = `${r.status} ${await r.text()}`;
      if (pred(last)) return last;
    } catch (e) { last = String(e); }
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`${name}: last answer ${last}\n${srv.logs()}`);
}

async function createWorker(name) {
  const c = await call(srv, token, "POST", W, ...json({ name }));
  assert.equal(c.status, 200, JSON.stringify(c.body));
  return c.body.result.id;
}

test("DELETE /workers/{id}: by id or name; unknown 404 10007; made again, it serves its new code", async () => {
  const id = await createWorker("gone");
  // An empty Worker (no version yet) is deleted by its id.
  const d = await call(srv, token, "DELETE", `${W}/${id}`);
  assert.equal(d.status, 200, JSON.stringify(d.body));
  assert.equal(d.body.success, true);
  assert.equal(d.body.result, null);
  assertError(await call(srv, token, "GET", `${W}/${id}`), 404, 10007, "GET after delete");
  assertError(await call(srv, token, "DELETE", `${W}/${id}`), 404, 10007, "DELETE again");
  assertError(await call(srv, token, "DELETE", `${W}/nosuch`), 404, 10007, "unknown name");
  assertError(await call(srv, token, "DELETE", `${W}/${"0".repeat(32)}`), 404, 10007, "unknown id");
  assertError(await call(srv, token, "PUT", `${W}/${id}`), 405, 10000, "PUT");

  // A Worker with a live version, deleted by name, then made again: the new one
  // serves its own version 1, not the deleted one's modules.
  await createWorker("again");
  let v = await call(srv, token, "POST", `${W}/again/versions`, ...json(version(HELLO("first"))));
  assert.equal(v.status, 200, JSON.stringify(v.body));
  await serves("again", (t) => t === "200 first");
  assert.equal((await call(srv, token, "DELETE", `${W}/again`)).status, 200);
  assert.ok(!(await call(srv, token, "GET", S)).body.result.some((s) => s.id === "again"));
  await createWorker("again");
  v = await call(srv, token, "POST", `${W}/again/versions`, ...json(version(HELLO("second"))));
  assert.equal(v.body.result.number, 1);
  await serves("again", (t) => t === "200 second");
});

test("DELETE /workers/{id}: 10066 while its objects hold data or another Worker binds it, unless force=true", async () => {
  const id = await createWorker("owner");
  const v = await call(srv, token, "POST", `${W}/${id}/versions`, ...json(version(COUNTER, {
    bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" }],
    migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
  })));
  assert.equal(v.status, 200, JSON.stringify(v.body));
  await serves("owner", (t) => t === "200 1");   // an object now holds data
  let msg = assertError(await call(srv, token, "DELETE", `${W}/${id}`), 400, 10066, "data");
  assert.match(msg, /owner_Counter/);
  assertError(await call(srv, token, "DELETE", `${W}/owner?force=false`), 400, 10066, "data, force=false");
  assert.equal((await call(srv, token, "GET", `${W}/owner`)).status, 200);
  assert.equal(await serves("owner", (t) => t.startsWith("200 ")), "200 2");

  // Bound by another live Worker (no data in the namespace of this one).
  await createWorker("owner2");
  assert.equal((await call(srv, token, "POST", `${W}/owner2/versions`, ...json(version(COUNTER, {
    bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" }],
    migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
  })))).status, 200);
  await createWorker("binder");
  assert.equal((await call(srv, token, "POST", `${W}/binder/versions`, ...json(version(HELLO("b"), {
    bindings: [{ type: "durable_object_namespace", name: "R", class_name: "Counter", script_name: "owner2" }],
  })))).status, 200);
  msg = assertError(await call(srv, token, "DELETE", `${W}/owner2`), 400, 10066, "bound");
  assert.match(msg, /'binder' \(binding 'R'/);

  // force=true deletes both anyway.
  for (const name of ["owner", "owner2"]) {
    const d = await call(srv, token, "DELETE", `${W}/${name}?force=true`);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assertError(await call(srv, token, "GET", `${W}/${name}`), 404, 10007, `${name} gone`);
  }
  const ns = (await call(srv, token, "GET", `${A}/workers/durable_objects/namespaces`)).body.result;
  assert.ok(!ns.some((n) => n.script === "owner" || n.script === "owner2"), JSON.stringify(ns));
});

test("DELETE …/versions/{id}: a stored version goes, the live one is refused, numbers are not reused", async () => {
  await createWorker("vers");
  const up = async (s, deploy) => {
    const r = await call(srv, token, "POST", `${W}/vers/versions${deploy ? "?deploy=true" : ""}`, ...json(version(HELLO(s))));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.result;
  };
  const v1 = await up("one");
  const v2 = await up("two");         // stored, not live
  const v3 = await up("three");       // stored, not live
  await serves("vers", (t) => t === "200 one");
  const V = `${W}/vers/versions`;

  let msg = assertError(await call(srv, token, "DELETE", `${V}/${v1.id}`), 400, 10021, "the live one");
  assert.match(msg, /live/);
  assertError(await call(srv, token, "DELETE", `${V}/nope`), 404, 10007, "unknown version");
  assertError(await call(srv, token, "DELETE", `${W}/nosuch/versions/${v1.id}`), 404, 10007, "unknown Worker");
  assertError(await call(srv, token, "PUT", `${V}/${v2.id}`), 405, 10000, "PUT");

  // The newest stored version goes: a new upload does not get its number back.
  let d = await call(srv, token, "DELETE", `${V}/${v3.id}`);
  assert.equal(d.status, 200, JSON.stringify(d.body));
  assert.equal(d.body.success, true);
  assert.equal(d.body.result, null);
  assertError(await call(srv, token, "GET", `${V}/${v3.id}`), 404, 10007, "GET after delete");
  assertError(await call(srv, token, "DELETE", `${V}/${v3.id}`), 404, 10007, "DELETE again");
  assert.deepEqual((await call(srv, token, "GET", V)).body.result.map((v) => v.number), [2, 1]);
  const v4 = await up("four", true);
  assert.equal(v4.number, 4);
  await serves("vers", (t) => t === "200 four");

  // Once v4 is live, v1 may go; deploying the deleted v3 is refused.
  d = await call(srv, token, "DELETE", `${V}/${v1.id}`);
  assert.equal(d.status, 200, JSON.stringify(d.body));
  const dep = await call(srv, token, "POST", `${S}/vers/deployments`,
    ...json({ strategy: "percentage", versions: [{ version_id: v3.id, percentage: 100 }] }));
  assertError(dep, 404, 10007, "deploying a deleted version");
  // v2 is still there and can go live.
  const ok = await call(srv, token, "POST", `${S}/vers/deployments`,
    ...json({ strategy: "percentage", versions: [{ version_id: v2.id, percentage: 100 }] }));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  await serves("vers", (t) => t === "200 two");
  assert.deepEqual((await call(srv, token, "GET", V)).body.result.map((v) => v.number), [4, 2]);
});
