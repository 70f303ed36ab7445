// `durable serve`: tokens, the REST API's envelope and errors, uploads with
// migrations and bindings, atomic deploys, pagination, and serving what was
// deployed (issue 12, first slice; spec api.md).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import net from "node:net";
import http from "node:http";
import { bin } from "../lib.mjs";
import { makeData, startServe, serveExpectFailure, call, form, COUNTER, waitServes } from "./serve_lib.mjs";

let srv, token, data;

before(async () => {
  ({ data, token } = makeData());
  srv = await startServe(data);
});
after(async () => { await srv?.stop(); });

const S = "/client/v4/accounts/:acct/workers/scripts";
const NS = "/client/v4/accounts/:acct/workers/durable_objects/namespaces";

function assertError(r, status, code) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.success, false);
  assert.equal(r.body.result, null);
  assert.deepEqual(r.body.messages, []);
  assert.equal(r.body.errors[0].code, code, JSON.stringify(r.body));
  assert.equal(typeof r.body.errors[0].message, "string");
}

test("nothing deployed: the Workers listener answers 503 with a JSON error", async () => {
  const { data: d2, token: t2 } = makeData();
  const s2 = await startServe(d2);
  try {
    const r = await fetch(s2.url + "/");
    assert.equal(r.status, 503);
    assert.match((await r.json()).error, /no Worker is deployed/);
    const l = await call(s2, t2, "GET", S);
    assert.equal(l.status, 200);
    assert.deepEqual(l.body, { success: true, errors: [], messages: [], result: [] });
  } finally { await s2.stop(); }
});

test("tokens: missing, malformed, wrong, revoked; account checked; nothing touched", async () => {
  assertError(await call(srv, null, "GET", S), 400, 6003);
  const r = await call(srv, null, "GET", S, undefined, { authorization: "Basic abc" });
  assertError(r, 400, 6003);
  assert.equal(r.body.errors[0].error_chain[0].code, 6111);
  assertError(await call(srv, token.slice(0, -1) + (token.endsWith("0") ? "1" : "0"), "GET", S), 403, 10000);
  assertError(await call(srv, "durable_nope", "GET", S), 403, 10000);
  // A PUT with a bad token changes nothing.
  const f = form({ main_module: "w.mjs" }, { "w.mjs": ["application/javascript+module", "export default {fetch(){return new Response('x')}}"] });
  assertError(await call(srv, "bad", "PUT", S + "/sneaky", f), 403, 10000);
  assertError(await call(srv, token, "GET", S + "/sneaky"), 404, 10007);
  // Account ids: another account 403, a malformed one 400 7003.
  const other = "0".repeat(32) === srv.account ? "1".repeat(32) : "0".repeat(32);
  assertError(await call(srv, token, "GET", S.replace(":acct", other)), 403, 10000);
  assertError(await call(srv, token, "GET", S.replace(":acct", "xyz")), 400, 7003);
  // Revoked.
  const t2 = execFileSync(bin, ["token", "create", "--name", "short", "--data", data], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  assert.equal((await call(srv, t2, "GET", S)).status, 200);
  const list = execFileSync(bin, ["token", "list", "--data", data], { encoding: "utf8" });
  const id = /^([0-9a-f]{16})\s+short\b/m.exec(list)[1];
  execFileSync(bin, ["token", "revoke", id, "--data", data]);
  assertError(await call(srv, t2, "GET", S), 403, 10000);
  assert.match(execFileSync(bin, ["token", "list", "--data", data], { encoding: "utf8" }), /short.*\(revoked\)/);
});

test("routing errors: 404 7000, 405, with and without /client/v4", async () => {
  assertError(await call(srv, token, "GET", "/client/v4/nothing/here"), 404, 7000);
  assertError(await call(srv, token, "GET", "/client/v4/accounts/:acct/workers/unknown"), 404, 7000);
  assertError(await call(srv, token, "POST", S), 405, 10000);
  assertError(await call(srv, token, "PATCH", S + "/x"), 405, 10000);
  assertError(await call(srv, token, "DELETE", NS), 405, 10000);
  const r = await call(srv, token, "GET", "/accounts/:acct/workers/scripts");
  assert.equal(r.status, 200);
  assert.equal(r.body.success, true);
});

test("the curl flow: upload a Durable Object Worker with migrations and bindings, call it", async () => {
  const meta = {
    main_module: "worker.mjs",
    compatibility_date: "2025-01-01",
    bindings: [
      { type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" },
      { type: "plain_text", name: "PREFIX", text: "n=" },
    ],
    migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
  };
  const r = await call(srv, token, "PUT", S + "/counter", form(meta, { "worker.mjs": ["application/javascript+module", COUNTER] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.success, true);
  assert.equal(r.body.result.id, "counter");
  assert.equal(r.body.result.migration_tag, "v1");
  assert.equal(r.body.result.has_modules, true);
  assert.equal(r.body.result.compatibility_date, "2025-01-01");
  assert.match(r.body.result.created_on, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  await waitServes(srv, "/?name=flow", (t) => t === "200 n=1");
  assert.equal(await (await fetch(srv.url + "/?name=flow")).text(), "n=2");
  // The script list carries the migration tag (wrangler reads it).
  const l = await call(srv, token, "GET", S);
  assert.equal(l.body.result.find((s) => s.id === "counter").migration_tag, "v1");
  // GET of a script: the main module's source, raw.
  const g = await fetch(srv.api + S.replace(":acct", srv.account) + "/counter", { headers: { authorization: `Bearer ${token}` } });
  assert.equal(g.status, 200);
  assert.equal(g.headers.get("content-type"), "application/javascript");
  assert.equal(await g.text(), COUNTER);
  // services/{name}: what wrangler asks first.
  const sv = await call(srv, token, "GET", "/client/v4/accounts/:acct/workers/services/counter");
  assert.equal(sv.body.result.default_environment.script.migration_tag, "v1");
  assertError(await call(srv, token, "GET", "/client/v4/accounts/:acct/workers/services/nope"), 404, 10090);
  // The namespace the migration made, and its objects.
  const ns = await call(srv, token, "GET", NS);
  const mine = ns.body.result.find((n) => n.script === "counter");
  assert.deepEqual({ ...mine, id: undefined }, { id: undefined, name: "counter_Counter", script: "counter", class: "Counter", use_sqlite: true });
  const objs = await call(srv, token, "GET", `${NS}/${mine.id}/objects`);
  assert.equal(objs.status, 200);
  assert.equal(objs.body.result.length, 1);
  assert.match(objs.body.result[0].id, /^[0-9a-f]{64}$/);
  assert.equal(objs.body.result[0].hasStoredData, true);
  assert.equal(objs.body.result_info.count, 1);
  assert.ok(!objs.body.result_info.cursor);
  assertError(await call(srv, token, "GET", `${NS}/${"f".repeat(32)}/objects`), 404, 10064);
  assertError(await call(srv, token, "GET", `${NS}/nothex/objects`), 400, 7003);
});

test("atomic deploys: a refused upload changes nothing and the old version keeps serving", async () => {
  const before = (await call(srv, token, "GET", S)).body.result.find((s) => s.id === "counter");
  const bad = [
    // migration precondition
    [{ main_module: "worker.mjs", migrations: { old_tag: "v0", new_tag: "v2", steps: [{ new_classes: ["X"] }] } }, 10079],
    // a rename of a class that has no namespace
    [{ main_module: "worker.mjs", migrations: { old_tag: "v1", new_tag: "v2", steps: [{ renamed_classes: [{ from: "Nope", to: "Counter2" }] }] } }, 10061],
    // a class created twice
    [{ main_module: "worker.mjs", migrations: { new_tag: "v2", new_classes: ["Counter"] } }, 10061],
    // a binding to a class no migration made
    [{ main_module: "worker.mjs", bindings: [{ type: "durable_object_namespace", name: "X", class_name: "Ghost" }] }, 10061],
  ];
  for (const [meta, code] of bad) {
    const src = COUNTER.replace('(env.PREFIX || "")', '"BROKEN"');
    const r = await call(srv, token, "PUT", S + "/counter", form(meta, { "worker.mjs": ["application/javascript+module", src] }));
    assertError(r, 400, code);
    assert.equal(typeof r.body.errors[0].message, "string");
  }
  const after = (await call(srv, token, "GET", S)).body.result.find((s) => s.id === "counter");
  assert.deepEqual(after, before);
  assert.match(await (await fetch(srv.url + "/?name=atomic")).text(), /^n=1$/);
  const ns = await call(srv, token, "GET", NS);
  assert.deepEqual(ns.body.result.filter((n) => n.script === "counter").map((n) => n.class), ["Counter"]);
});

test("objects: limit and cursor page through every object once", async () => {
  for (let i = 0; i < 13; i++)
    assert.equal((await fetch(srv.url + `/?name=page${i}`)).status, 200);
  const ns = (await call(srv, token, "GET", NS)).body.result.find((n) => n.script === "counter");
  const seen = [];
  let cursor = "", pages = 0;
  do {
    const r = await call(srv, token, "GET", `${NS}/${ns.id}/objects?limit=10${cursor ? "&cursor=" + cursor : ""}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.result.length <= 10);
    assert.equal(r.body.result_info.count, r.body.result.length);
    seen.push(...r.body.result.map((o) => o.id));
    cursor = r.body.result_info.cursor;
    assert.equal(cursor || undefined, r.body.result_info.cursors.after);
    pages++;
  } while (cursor);
  assert.equal(pages, 2);
  assert.ok(seen.length >= 15);   // flow, atomic, page0..12
  assert.deepEqual(seen, [...seen].sort());
  assert.equal(new Set(seen).size, seen.length);
  // limit below 10 is clamped (API-20), a bad limit or cursor refused.
  const small = await call(srv, token, "GET", `${NS}/${ns.id}/objects?limit=1`);
  assert.equal(small.body.result.length, 10);
  assertError(await call(srv, token, "GET", `${NS}/${ns.id}/objects?limit=abc`), 400, 10001);
  assertError(await call(srv, token, "GET", `${NS}/${ns.id}/objects?cursor=zzz`), 400, 10001);
});

test("a redeploy with renamed_classes keeps the objects' data (steps form, old_tag)", async () => {
  const src = COUNTER.replace("export class Counter", "export class Counter2");
  const meta = {
    main_module: "worker.mjs",
    bindings: [
      { type: "durable_object_namespace", name: "COUNTER", class_name: "Counter2" },
      { type: "plain_text", name: "PREFIX", text: "m=" },
    ],
    migrations: { old_tag: "v1", new_tag: "v2", steps: [{ renamed_classes: [{ from: "Counter", to: "Counter2" }] }] },
  };
  const r = await call(srv, token, "PUT", S + "/counter", form(meta, { "worker.mjs": ["application/javascript+module", src] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.result.migration_tag, "v2");
  await waitServes(srv, "/?name=renamepoll", (x) => x.startsWith("200 m="));
  // "flow" counted to 2 under the old class; the renamed class sees the same storage.
  assert.equal(await (await fetch(srv.url + "/?name=flow")).text(), "m=3");
  const ns = (await call(srv, token, "GET", NS)).body.result.filter((n) => n.script === "counter");
  assert.deepEqual(ns.map((n) => [n.name, n.class]), [["counter_Counter", "Counter2"]]);
});

test("the Workers and Versions API: create a Worker, upload versions as JSON, list them", async () => {
  const W = "/client/v4/accounts/:acct/workers/workers";
  const json = (b) => [JSON.stringify(b), { "content-type": "application/json" }];
  const c = await call(srv, token, "POST", W, ...json({ name: "sdk-counter" }));
  assert.equal(c.status, 200, JSON.stringify(c.body));
  assert.match(c.body.result.id, /^[0-9a-f]{32}$/);
  assert.equal(c.body.result.name, "sdk-counter");
  assertError(await call(srv, token, "POST", W, ...json({ name: "sdk-counter" })), 400, 10065);
  assertError(await call(srv, token, "POST", W, ...json({ name: "Bad Name" })), 400, 10021);
  // Not in the script list until it has a version.
  assert.ok(!(await call(srv, token, "GET", S)).body.result.some((s) => s.id === "sdk-counter"));
  const b64 = (t) => Buffer.from(t).toString("base64");
  const version = (src, extra = {}) => ({
    main_module: "index.mjs", compatibility_date: "2025-01-01",
    modules: [{ name: "index.mjs", content_type: "application/javascript+module", content_base64: b64(src) }],
    ...extra,
  });
  const v1 = await call(srv, token, "POST", `${W}/${c.body.result.id}/versions`, ...json(version(COUNTER, {
    bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" }, { type: "plain_text", name: "PREFIX", text: "sdk=" }],
    migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
  })));
  assert.equal(v1.status, 200, JSON.stringify(v1.body));
  assert.equal(v1.body.result.number, 1);
  assert.match(v1.body.result.id, /^[0-9a-f-]{36}$/);
  assert.equal(v1.body.result.main_module, "index.mjs");
  assert.deepEqual(v1.body.result.bindings.map((b) => b.name), ["COUNTER", "PREFIX"]);
  // The first version goes live by itself (API-43).
  await waitServes(srv, "/?name=sdk", (t) => t === "200 sdk=1");
  // A stored version (deploy absent) does not serve; one with deploy=true does.
  const v2 = await call(srv, token, "POST", `${W}/sdk-counter/versions`, ...json(version(COUNTER.replace('(env.PREFIX || "")', '"two="'), {
    bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" }],
  })));
  assert.equal(v2.status, 200, JSON.stringify(v2.body));
  assert.equal(v2.body.result.number, 2);
  assert.equal(await (await fetch(srv.url + "/?name=sdk")).text(), "sdk=2");
  const v3 = await call(srv, token, "POST", `${W}/sdk-counter/versions?deploy=true`, ...json(version(COUNTER.replace('(env.PREFIX || "")', '"three="'), {
    bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" }],
  })));
  assert.equal(v3.body.result.number, 3);
  await waitServes(srv, "/?name=sdk", (t) => t.startsWith("200 three="));
  const list = await call(srv, token, "GET", `${W}/sdk-counter/versions`);
  assert.deepEqual(list.body.result.map((v) => v.number), [3, 2, 1]);
  assert.equal(list.body.result_info.total_count, 3);
  const one = await call(srv, token, "GET", `${W}/sdk-counter/versions/${v2.body.result.id}`);
  assert.equal(one.body.result.number, 2);
  assertError(await call(srv, token, "GET", `${W}/sdk-counter/versions/nope`), 404, 10007);
  const w = await call(srv, token, "GET", `${W}/${c.body.result.id}`);
  assert.equal(w.body.result.name, "sdk-counter");
  const ws = await call(srv, token, "GET", W);
  assert.ok(ws.body.result.some((x) => x.name === "sdk-counter"));
  assert.equal(ws.body.result_info.page, 1);
  // Errors: unknown Worker, bad base64, a stored version's migrations that cannot apply.
  assertError(await call(srv, token, "POST", `${W}/nosuch/versions`, ...json(version("x"))), 404, 10007);
  assertError(await call(srv, token, "GET", `${W}/${"0".repeat(32)}`), 404, 10007);
  const badB64 = version("x");
  badB64.modules[0].content_base64 = "!!!";
  assertError(await call(srv, token, "POST", `${W}/sdk-counter/versions`, ...json(badB64)), 400, 10021);
  // A stored version's migrations are tried at upload: a new class it does not export.
  assertError(await call(srv, token, "POST", `${W}/sdk-counter/versions`, ...json(version(COUNTER, { migrations: { new_tag: "v2", new_classes: ["X"] } }))), 400, 10061);
  assertError(await call(srv, token, "PUT", `${W}/sdk-counter`), 405, 10000);
  // Leave the Worker served before this test as it was: delete this one.
  assert.equal((await call(srv, token, "DELETE", S + "/sdk-counter?force=true")).status, 200);
});

test("wrangler's redeploy path: versions upload (multipart), deployments, and the calls around it", async () => {
  const D = S + "/counter/deployments";
  // The previous test deleted the Worker it made: counter is served again.
  await waitServes(srv, "/?name=wr", (t) => t.startsWith("200 m="));
  const before = await call(srv, token, "GET", D);
  assert.equal(before.status, 200);
  const oldId = before.body.result.deployments[0].versions[0].version_id;
  assert.equal(before.body.result.deployments[0].versions[0].percentage, 100);
  const meta = {
    main_module: "worker.mjs",
    bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter2" }, { type: "plain_text", name: "PREFIX", text: "w=" }],
    compatibility_date: "2025-01-01", compatibility_flags: [], keep_bindings: ["secret_text"],
  };
  const src = COUNTER.replace("export class Counter", "export class Counter2");
  const v = await call(srv, token, "POST", S + "/counter/versions?bindings_inherit=strict", form(meta, { "worker.mjs": ["application/javascript+module", src] }));
  assert.equal(v.status, 200, JSON.stringify(v.body));
  assert.match(v.body.result.id, /^[0-9a-f-]{36}$/);
  assert.equal(v.body.result.resources.script.etag, v.body.result.id);
  // Stored, not live yet.
  assert.match(await (await fetch(srv.url + "/?name=wr")).text(), /^m=/);
  const post = (b) => call(srv, token, "POST", D, JSON.stringify(b), { "content-type": "application/json" });
  assertError(await post({ strategy: "percentage", versions: [{ version_id: v.body.result.id, percentage: 50 }, { version_id: oldId, percentage: 50 }] }), 400, 10021);
  assertError(await post({ strategy: "percentage", versions: [{ version_id: "nope", percentage: 100 }] }), 404, 10007);
  const d = await post({ strategy: "percentage", versions: [{ version_id: v.body.result.id, percentage: 100 }], annotations: {} });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  await waitServes(srv, "/?name=wr", (t) => t.startsWith("200 w="));
  assert.equal((await call(srv, token, "GET", D)).body.result.deployments[0].versions[0].version_id, v.body.result.id);
  // Back to the version before, by id.
  assert.equal((await post({ strategy: "percentage", versions: [{ version_id: oldId, percentage: 100 }] })).status, 200);
  await waitServes(srv, "/?name=wr", (t) => t.startsWith("200 m="));
  // versions list / view and deployments list read versions in this shape.
  const vv = await call(srv, token, "GET", `${S}/counter/versions/${v.body.result.id}`);
  assert.equal(vv.status, 200, JSON.stringify(vv.body));
  assert.equal(vv.body.result.id, v.body.result.id);
  assert.match(vv.body.result.metadata.created_on, /Z$/);
  assert.equal(vv.body.result.resources.script_runtime.compatibility_date, "2025-01-01");
  assert.deepEqual(vv.body.result.resources.bindings.map((b) => b.name), ["COUNTER", "PREFIX"]);
  const vl = await call(srv, token, "GET", `${S}/counter/versions?deployable=true`);
  assert.equal(vl.body.result.items[0].id, v.body.result.id);
  assert.ok(vl.body.result.items.some((x) => x.id === oldId));
  assertError(await call(srv, token, "GET", `${S}/counter/versions/nope`), 404, 10007);
  assert.equal(typeof (await call(srv, token, "GET", D)).body.result.deployments[0].created_on, "string");
  // The small answers wrangler needs.
  assert.deepEqual((await call(srv, token, "GET", S + "/counter/secrets")).body.result, []);
  assert.equal((await call(srv, token, "GET", S + "/counter/settings")).status, 200);
  assert.equal((await call(srv, token, "PATCH", S + "/counter/script-settings", "{}", { "content-type": "application/json" })).status, 200);
  assert.deepEqual((await call(srv, token, "POST", S + "/counter/subdomain", '{"enabled":true}', { "content-type": "application/json" })).body.result, { enabled: false, previews_enabled: false });
  assert.equal((await call(srv, token, "GET", "/client/v4/accounts/:acct/workers/subdomain")).body.result.subdomain, "durable");
  assertError(await call(srv, token, "GET", S + "/nosuch/deployments"), 404, 10007);
  assertError(await call(srv, token, "GET", S + "/nosuch/secrets"), 404, 10007);
  assertError(await call(srv, token, "DELETE", D), 405, 10000);
  // What `wrangler delete` reads first: objects and arrays, never 404s.
  assert.deepEqual((await call(srv, token, "GET", S + "/counter/references")).body.result, {});
  assert.deepEqual((await call(srv, token, "GET", "/client/v4/accounts/:acct/workers/tails/by-consumer/counter")).body.result, []);
  assert.deepEqual((await call(srv, token, "GET", "/client/v4/accounts/:acct/containers/applications")).body.result, []);
  assert.deepEqual((await call(srv, token, "GET", "/client/v4/accounts/:acct/storage/kv/namespaces?per_page=100&page=1")).body.result, []);
  assertError(await call(srv, token, "DELETE", "/client/v4/accounts/:acct/workers/services/counter?force=false"), 400, 10066);
});

test("multipart and metadata errors: 400 10021 naming the problem", async () => {
  const mod = { "w.mjs": ["application/javascript+module", "export default {}"] };
  const cases = [
    [form({ main_module: "missing.mjs" }, mod), /missing\.mjs/],
    [form({ main_module: "w.mjs", body_part: "w.mjs" }, mod), /exactly one/],
    [form({}, mod), /exactly one/],
    [form({ main_module: "w.mjs" }, { "w.mjs": ["image/png", "x"] }), /image\/png/],
    [form({ main_module: "w.mjs" }, { "w.mjs": ["application/javascript", "x"] }), /ES module/],
    [form({ main_module: "w.mjs", bindings: [{ type: "kv_namespace", name: "K" }] }, mod), /kv_namespace/],
    [form({ main_module: "w.mjs", bindings: [{ type: "plain_text", name: "A", text: "1" }, { type: "plain_text", name: "A", text: "2" }] }, mod), /twice/],
    [form({ main_module: "w.mjs", compatibility_flags: "x" }, mod), /compatibility_flags/],
    [form({ main_module: "../w.mjs" }, { "../w.mjs": ["application/javascript+module", "x"] }), /relative path/],
  ];
  for (const [f, re] of cases) {
    const r = await call(srv, token, "PUT", S + "/bad", f);
    assertError(r, 400, 10021);
    assert.match(r.body.errors[0].message, re);
  }
  // No metadata part; metadata that is not JSON; not multipart at all; a torn body.
  const noMeta = new FormData();
  noMeta.append("w.mjs", new Blob(["x"], { type: "application/javascript+module" }), "w.mjs");
  let r = await call(srv, token, "PUT", S + "/bad", noMeta);
  assertError(r, 400, 10021);
  assert.match(r.body.errors[0].message, /metadata/);
  const notJson = new FormData();
  notJson.append("metadata", "{nope");
  r = await call(srv, token, "PUT", S + "/bad", notJson);
  assertError(r, 400, 10021);
  r = await call(srv, token, "PUT", S + "/bad", "{}", { "content-type": "application/json" });
  assertError(r, 400, 10021);
  assert.match(r.body.errors[0].message, /multipart/);
  r = await call(srv, token, "PUT", S + "/bad", "--B\r\nContent-Disposition: form-data; name=metadata\r\n\r\n{}",
    { "content-type": "multipart/form-data; boundary=B" });
  assertError(r, 400, 10021);
  assert.match(r.body.errors[0].message, /closing boundary/);
  r = await call(srv, token, "PUT", S + "/Bad Name", form({ main_module: "w.mjs" }, mod));
  assertError(r, 400, 10021);
  assertError(await call(srv, token, "GET", S + "/bad"), 404, 10007);
});

test("an upload over 10 MiB gets 413 with the envelope", async () => {
  const big = "x".repeat(10 * 1024 * 1024 + 1);
  const r = await call(srv, token, "PUT", S + "/big", form({ main_module: "w.mjs" }, { "w.mjs": ["application/javascript+module", big] }));
  assertError(r, 413, 10021);
});

test("namespaces: the beta POST form, pagination edges, bad values refused", async () => {
  const mod = { "w.mjs": ["application/javascript+module", "export default {fetch(){return new Response('p')}}"] };
  assert.equal((await call(srv, token, "PUT", S + "/pager", form({ main_module: "w.mjs" }, mod))).status, 200);
  const post = (b) => call(srv, token, "POST", NS, JSON.stringify(b), { "content-type": "application/json" });
  for (let i = 0; i < 24; i++) {
    const r = await post({ name: `pager-ns-${i}`, script: "pager", class: `C${i}` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.result.use_sqlite, false);
    assert.match(r.body.result.id, /^[0-9a-f]{32}$/);
  }
  assertError(await post({ name: "pager-ns-0", script: "pager", class: "Other" }), 400, 10065);
  assertError(await post({ name: "dup", script: "pager", class: "C0" }), 400, 10065);
  assertError(await post({ name: "x", script: "nosuch", class: "C" }), 400, 10007);
  assertError(await post({ name: "x", script: "pager" }), 400, 10001);
  assertError(await call(srv, token, "POST", NS, "{not json", { "content-type": "application/json" }), 400, 10001);
  // 24 + 1 (counter) = 25 namespaces in all.
  const p1 = await call(srv, token, "GET", NS);
  assert.equal(p1.body.result.length, 20);
  assert.deepEqual(p1.body.result_info, { page: 1, per_page: 20, count: 20, total_count: 25, total_pages: 2 });
  const p2 = await call(srv, token, "GET", NS + "?page=2");
  assert.equal(p2.body.result.length, 5);
  const p3 = await call(srv, token, "GET", NS + "?page=3");
  assert.equal(p3.status, 200);
  assert.deepEqual(p3.body.result, []);
  const all = await call(srv, token, "GET", NS + "?per_page=100");
  assert.equal(all.body.result.length, 25);
  assert.equal(new Set([...p1.body.result, ...p2.body.result].map((n) => n.id)).size, 25);
  const one = await call(srv, token, "GET", NS + "?per_page=1&page=25");
  assert.equal(one.body.result.length, 1);
  // A per_page over 100 is clamped (spec API-10; `wrangler delete` asks for 1000).
  const clamped = await call(srv, token, "GET", NS + "?per_page=1000");
  assert.equal(clamped.status, 200);
  assert.equal(clamped.body.result_info.per_page, 100);
  assert.equal(clamped.body.result.length, 25);
  for (const q of ["per_page=0", "per_page=-5", "per_page=x", "page=0", "page=-1", "page=", "page=1.5"]) {
    const r = await call(srv, token, "GET", NS + "?" + q);
    assertError(r, 400, 10001);
    assert.match(r.body.errors[0].message, /whole number/);
  }
});

test("a namespace made by POST is bound by namespace_id", async () => {
  const w = `export class Box { constructor(s) { this.s = s; } async fetch() { return new Response("box"); } }
export default { fetch(req, env) { return env.B.get(env.B.idFromName("x")).fetch(req); } };`;
  const mod = { "b.mjs": ["application/javascript+module", w] };
  assert.equal((await call(srv, token, "PUT", S + "/boxes", form({ main_module: "b.mjs" }, mod))).status, 200);
  const ns = await call(srv, token, "POST", NS, JSON.stringify({ name: "boxes-ns", script: "boxes", class: "Box" }), { "content-type": "application/json" });
  assert.equal(ns.status, 200);
  const r = await call(srv, token, "PUT", S + "/boxes", form({ main_module: "b.mjs", bindings: [{ type: "durable_object_namespace", name: "B", namespace_id: ns.body.result.id }] }, mod));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitServes(srv, "/", (t) => t === "200 box");
});

test("delete: refused while objects hold data unless force=true; then 404 10007", async () => {
  assert.equal((await call(srv, token, "DELETE", S + "/pager")).status, 200);
  assertError(await call(srv, token, "DELETE", S + "/pager"), 404, 10007);
  assertError(await call(srv, token, "GET", S + "/pager"), 404, 10007);
  let ns = await call(srv, token, "GET", NS + "?per_page=100");
  assert.equal(ns.body.result.filter((n) => n.script === "pager").length, 0);
  // counter's objects hold data: kept without force.
  const r = await call(srv, token, "DELETE", S + "/counter");
  assertError(r, 400, 10066);
  assert.match(r.body.errors[0].message, /counter_Counter/);
  assert.ok((await call(srv, token, "GET", S)).body.result.some((s) => s.id === "counter"));
  // With force, the objects' data goes too: a namespace made again later is empty.
  const meta = { main_module: "w.mjs", bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" }], migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] } };
  const up = () => call(srv, token, "PUT", S + "/gone", form(meta, { "w.mjs": ["application/javascript+module", COUNTER] }));
  assert.equal((await up()).status, 200);
  await waitServes(srv, "/?name=g", (t) => t === "200 1");
  const objects = async () => {
    ns = await call(srv, token, "GET", NS + "?per_page=100");
    const id = ns.body.result.find((n) => n.script === "gone").id;
    return (await call(srv, token, "GET", `${NS}/${id}/objects`)).body.result;
  };
  assert.equal((await objects()).length, 1);
  assertError(await call(srv, token, "DELETE", S + "/gone"), 400, 10066);
  assert.equal((await call(srv, token, "DELETE", S + "/gone?force=true")).status, 200);
  assert.equal((await up()).status, 200);
  assert.deepEqual(await objects(), []);
  assert.equal((await call(srv, token, "DELETE", S + "/gone")).status, 200);
});

test("serve refuses a busy port and a data folder another process holds", async () => {
  const { data: d2 } = makeData();
  // The folder `srv` holds.
  let r = await serveExpectFailure(data, ["--port", "0", "--api-port", "0"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /lock|another|in use/i);
  // A port someone listens on.
  const blocker = net.createServer();
  await new Promise((res) => blocker.listen(0, "127.0.0.1", res));
  const port = blocker.address().port;
  try {
    r = await serveExpectFailure(d2, ["--port", String(port), "--api-port", "0"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${port}.*in use|in use.*${port}`));
    r = await serveExpectFailure(d2, ["--port", "0", "--api-port", String(port)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /in use/);
  } finally { blocker.close(); }
  r = await serveExpectFailure(d2, ["--durability", "sometimes"]);
  assert.equal(r.code, 2);
  r = await serveExpectFailure(d2, ["--port", "0", "--api-port", "0", "--nope"]);
  assert.equal(r.code, 2);
});

test("after a crash (SIGKILL) and a restart it serves the same deployment", async () => {
  srv.proc.kill("SIGKILL");
  await srv.exited;
  srv = await startServe(data);
  await waitServes(srv, "/", (t) => t === "200 box");
  const l = await call(srv, token, "GET", S);
  assert.deepEqual(l.body.result.map((s) => s.id).sort(), ["boxes", "counter"]);
  // --worker picks the script; the counter's object kept its count (2, then 3).
  srv.proc.kill("SIGKILL");
  await srv.exited;
  srv = await startServe(data, ["--worker", "counter"]);
  assert.equal(await (await fetch(srv.url + "/?name=flow")).text(), "m=4");
});

// Cloudflare's service-worker upload names the script by its form field
// (`-F "script=@worker.js;type=application/javascript"` with body_part "script"),
// whatever the file is called; the field's bindings are globals in the script.
test("a service-worker script uploaded as curl sends it (body_part names the field, not the filename) serves", async () => {
  const f = new FormData();
  f.append("metadata", new Blob([JSON.stringify({ body_part: "script",
    bindings: [{ type: "plain_text", name: "GREETING", text: "hi" }] })], { type: "application/json" }), "blob");
  f.append("script", new Blob(["addEventListener('fetch', (e) => e.respondWith(new Response('sw ' + GREETING)));"],
    { type: "application/javascript" }), "worker-file.js");
  const r = await call(srv, token, "PUT", S + "/swfield", f);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.result.has_modules, false);
  // Host's first label names the script (fetch() cannot set Host: node's http can).
  const get = () => new Promise((resolve, reject) => {
    const u = new URL(srv.url);
    http.get({ host: u.hostname, port: u.port, path: "/", headers: { host: "swfield.localhost" } }, (res) => {
      let b = ""; res.on("data", (d) => { b += d; }); res.on("end", () => resolve(`${res.statusCode} ${b}`));
    }).on("error", reject);
  });
  let last = "";
  for (let i = 0; i < 300 && last !== "200 sw hi"; i++) {
    last = await get();
    if (last !== "200 sw hi") await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(last, "200 sw hi");
});
