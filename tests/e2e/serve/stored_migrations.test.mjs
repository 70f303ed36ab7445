// A version stored without deploy that carries migrations (spec api.md API-43):
// stored (its migrations tried against the current state, then undone), and
// applied atomically when that version goes live through POST
// /scripts/{name}/deployments, with old_tag checked then; a failing one changes
// nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { makeData, startServe, call, form, COUNTER, waitServes } from "./serve_lib.mjs";

const A = "/client/v4/accounts/:acct";
const S = `${A}/workers/scripts`;
const W = `${A}/workers/workers`;
const NS = `${A}/workers/durable_objects/namespaces`;
const json = (b) => [JSON.stringify(b), { "content-type": "application/json" }];
const b64 = (t) => Buffer.from(t).toString("base64");
const version = (src, extra = {}) => ({
  main_module: "index.mjs", compatibility_date: "2025-01-01",
  modules: [{ name: "index.mjs", content_type: "application/javascript+module", content_base64: b64(src) }],
  ...extra,
});
// COUNTER with its class named cls, answering with prefix p, plus exports.
const counter = (cls, p, more = "") => COUNTER.replace("export class Counter", `export class ${cls}`)
  .replace('(env.PREFIX || "")', JSON.stringify(p)) + more;
const bind = (cls) => [{ type: "durable_object_namespace", name: "COUNTER", class_name: cls }];

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
  assert.equal(r.body.errors[0].code, code, ctx);
  return r.body.errors[0].message;
}

const tag = async () => (await call(srv, token, "GET", S)).body.result.find((s) => s.id === "sm")?.migration_tag;
const classes = async () => (await call(srv, token, "GET", NS)).body.result
  .filter((n) => n.script === "sm").map((n) => n.class).sort();
const deploy = (id) => call(srv, token, "POST", `${S}/sm/deployments`,
  ...json({ strategy: "percentage", versions: [{ version_id: id, percentage: 100 }] }));
const upload = async (v, deployNow = false) => {
  const r = await call(srv, token, "POST", `${W}/sm/versions${deployNow ? "?deploy=true" : ""}`, ...json(v));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.result;
};

test("a stored version's migrations apply when it is deployed, with old_tag checked then", async () => {
  assert.equal((await call(srv, token, "POST", W, ...json({ name: "sm" }))).status, 200);
  await upload(version(counter("Counter", "one="), {
    bindings: bind("Counter"), migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
  }), true);
  await waitServes(srv, "/?name=k", (t) => t === "200 one=1");

  // Stored with a rename: nothing changes until it is deployed.
  const v2 = await upload(version(counter("Counter2", "two="), {
    bindings: bind("Counter2"),
    migrations: { old_tag: "v1", new_tag: "v2", renamed_classes: [{ from: "Counter", to: "Counter2" }] },
  }));
  assert.equal(v2.number, 2);
  assert.equal(await tag(), "v1");
  assert.deepEqual(await classes(), ["Counter"]);
  assert.equal(await (await fetch(srv.url + "/?name=k")).text(), "one=2");

  // Deployed: renamed, tagged, and the object's data kept.
  let d = await deploy(v2.id);
  assert.equal(d.status, 200, JSON.stringify(d.body));
  const after = await waitServes(srv, "/?name=k", (t) => t.startsWith("200 two="));
  assert.ok(Number(after.slice("200 two=".length)) >= 3, after);   // counted on from 2
  assert.equal(await tag(), "v2");
  assert.deepEqual(await classes(), ["Counter2"]);

  // Two stored versions made from tag v2: the first deployed moves the tag on, so
  // the second's old_tag no longer holds when it is deployed: 10079, nothing changes.
  const extra = "\nexport class Extra {}\nexport class Other {}\n";
  const v3 = await upload(version(counter("Counter2", "three=", extra), {
    bindings: bind("Counter2"), migrations: { old_tag: "v2", new_tag: "v3", new_classes: ["Extra"] },
  }));
  const v4 = await upload(version(counter("Counter2", "four=", extra), {
    bindings: bind("Counter2"), migrations: { old_tag: "v2", new_tag: "v3b", new_classes: ["Other"] },
  }));
  d = await deploy(v3.id);
  assert.equal(d.status, 200, JSON.stringify(d.body));
  await waitServes(srv, "/?name=k", (t) => t.startsWith("200 three="));
  assert.equal(await tag(), "v3");
  assert.deepEqual(await classes(), ["Counter2", "Extra"]);
  const msg = assertError(await deploy(v4.id), 400, 10079, "stale old_tag at deploy");
  assert.match(msg, /'v2'/);
  assert.match(msg, /'v3'/);
  assert.equal(await tag(), "v3");
  assert.deepEqual(await classes(), ["Counter2", "Extra"]);
  assert.match(await (await fetch(srv.url + "/?name=k")).text(), /^three=/);

  // v3 deployed again: its migrations were applied once and are not again.
  assert.equal((await deploy(v3.id)).status, 200);
  assert.equal(await tag(), "v3");
  assert.deepEqual(await classes(), ["Counter2", "Extra"]);
  assert.match(await (await fetch(srv.url + "/?name=k")).text(), /^three=/);
});

test("a stored version whose migrations cannot apply now is refused at upload", async () => {
  const extra = "\nexport class Extra {}\n";
  const src = counter("Counter2", "x=", extra);
  const cases = [
    [{ old_tag: "v1", new_tag: "v9", new_classes: ["Y"] }, 10079],
    [{ new_tag: "v9", deleted_classes: ["Ghost"] }, 10061],
    [{ new_tag: "v9", new_classes: ["NotExported"] }, 10061],
    [{ new_tag: "v9", steps: "nope" }, 10021],
  ];
  for (const [migrations, code] of cases) {
    const r = await call(srv, token, "POST", `${W}/sm/versions`, ...json(version(src, { bindings: bind("Counter2"), migrations })));
    assertError(r, 400, code, JSON.stringify(migrations));
  }
  // A binding to a class only the stored version's migration creates is fine.
  const ok = await upload(version(counter("Counter2", "y=", extra + "export class Fresh {}\n"), {
    bindings: [...bind("Counter2"), { type: "durable_object_namespace", name: "F", class_name: "Fresh" }],
    migrations: { old_tag: "v3", new_tag: "v4", new_classes: ["Fresh"] },
  }));
  assert.deepEqual(await classes(), ["Counter2", "Extra"]);
  assert.equal((await deploy(ok.id)).status, 200);
  assert.deepEqual(await classes(), ["Counter2", "Extra", "Fresh"]);
  assert.equal(await tag(), "v4");
});
