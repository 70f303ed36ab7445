// Every error of docs/api.md's table answered with Cloudflare's envelope, on the
// routes the other tests reach less (the Workers API, versions, deployments,
// services, export), and the pagination edges: pages past the end, per_page and
// limit out of range, and paging through a namespace's objects to the end with
// both `cursor` and `cursors.after` (issue 12, "every error envelope").
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { makeData, startServe, call, form, COUNTER, waitServes } from "./serve_lib.mjs";

let srv, token, data;
before(async () => {
  ({ data, token } = makeData());
  srv = await startServe(data, ["--worker", "counter"]);   // other Workers come later
});
after(async () => { await srv?.stop(); });

const A = "/client/v4/accounts/:acct";
const S = `${A}/workers/scripts`;
const W = `${A}/workers/workers`;
const NS = `${A}/workers/durable_objects/namespaces`;
const json = (b) => [typeof b === "string" ? b : JSON.stringify(b), { "content-type": "application/json" }];
const mjs = (src) => ({ "w.mjs": ["application/javascript+module", src] });
const HELLO = "export default { fetch() { return new Response('hi'); } };";

function assertEnvelope(r, status, code, what) {
  const ctx = `${what}: ${r.status} ${JSON.stringify(r.body)}`;
  assert.equal(r.status, status, ctx);
  assert.match(r.headers.get("content-type") || "", /^application\/json/, ctx);
  assert.equal(typeof r.body, "object", ctx);
  assert.equal(r.body.success, false, ctx);
  assert.equal(r.body.result, null, ctx);
  assert.deepEqual(r.body.messages, [], ctx);
  assert.ok(Array.isArray(r.body.errors) && r.body.errors.length >= 1, ctx);
  assert.equal(r.body.errors[0].code, code, ctx);
  assert.equal(typeof r.body.errors[0].message, "string", ctx);
  assert.ok(r.body.errors[0].message.length > 0, ctx);
}

let nsId;   // the namespace of "counter"

test("setup: a Durable Object Worker with a migration", async () => {
  const meta = {
    main_module: "w.mjs", compatibility_date: "2025-01-01",
    bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" }],
    migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
  };
  const r = await call(srv, token, "PUT", S + "/counter", form(meta, mjs(COUNTER)));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitServes(srv, "/?name=o0", (t) => t === "200 1");
  nsId = (await call(srv, token, "GET", NS)).body.result.find((n) => n.script === "counter").id;
});

test("every error code of the table, with the whole envelope", async () => {
  const big = "x".repeat(10 * 1024 * 1024 + 1);
  const other = "0".repeat(32) === srv.account ? "1".repeat(32) : "0".repeat(32);
  const cases = [
    // [what, token, method, path, body, headers, status, code]
    ["no token on the Workers API", null, "GET", W, undefined, {}, 400, 6003],
    ["no token on /metrics", null, "GET", "/metrics", undefined, {}, 400, 6003],
    ["a wrong token on a version upload", "durable_" + "0".repeat(64), "POST", S + "/counter/versions", form({ main_module: "w.mjs" }, mjs(HELLO)), {}, 403, 10000],
    ["another account's id", token, "GET", `/client/v4/accounts/${other}/workers/workers`, undefined, {}, 403, 10000],
    ["a malformed account id", token, "GET", "/client/v4/accounts/nothex/workers/workers", undefined, {}, 400, 7003],
    ["a malformed namespace id (export)", token, "GET", `${NS}/nothex/objects/${"a".repeat(64)}/export`, undefined, {}, 400, 7003],
    ["a malformed object id (export)", token, "GET", `${NS}/${"a".repeat(32)}/objects/zz/export`, undefined, {}, 400, 7003],
    ["an unknown path under workers", token, "GET", `${A}/workers/scripts/counter/nothing`, undefined, {}, 404, 7000],
    ["an unknown path, no token", null, "GET", "/client/v4/zones", undefined, {}, 404, 7000],
    ["405: DELETE /workers", token, "DELETE", W, undefined, {}, 405, 10000],
    ["405: PUT /workers/{id}/versions", token, "PUT", `${W}/counter/versions`, undefined, {}, 405, 10000],
    ["405: POST /services/{name}", token, "POST", `${A}/workers/services/counter`, undefined, {}, 405, 10000],
    ["405: PUT on a namespace's objects", token, "PUT", `${NS}/${"a".repeat(32)}/objects`, undefined, {}, 405, 10000],
    ["405: POST /metrics", token, "POST", "/metrics", undefined, {}, 405, 10000],
    ["405: PUT /scripts/{name}/versions/{id}", token, "PUT", `${S}/counter/versions/x`, undefined, {}, 405, 10000],
    ["limit not a number", token, "GET", `${NS}/:ns/objects?limit=abc`, undefined, {}, 400, 10001],
    ["limit 0", token, "GET", `${NS}/:ns/objects?limit=0`, undefined, {}, 400, 10001],
    ["a cursor this server never returned", token, "GET", `${NS}/:ns/objects?cursor=zz`, undefined, {}, 400, 10001],
    ["/workers page=abc", token, "GET", `${W}?page=abc`, undefined, {}, 400, 10001],
    ["/workers per_page=0", token, "GET", `${W}?per_page=0`, undefined, {}, 400, 10001],
    ["versions per_page=abc", token, "GET", `${W}/counter/versions?per_page=abc`, undefined, {}, 400, 10001],
    ["deployments: a body that is not JSON", token, "POST", S + "/counter/deployments", ...json("{nope"), 400, 10001],
    ["POST /workers: a body that is not JSON", token, "POST", W, ...json("[1,"), 400, 10001],
    ["version upload, not multipart", token, "POST", S + "/counter/versions", ...json("{}"), 400, 10021],
    ["version upload, no main module", token, "POST", S + "/counter/versions", form({ main_module: "x.mjs" }, mjs(HELLO)), {}, 400, 10021],
    ["versions.create without modules", token, "POST", `${W}/counter/versions`, ...json({ main_module: "w.mjs" }), 400, 10021],
    ["versions.create, a module that does not parse", token, "POST", `${W}/counter/versions`, ...json({ main_module: "w.mjs", modules: [{ name: "w.mjs", content_type: "application/javascript+module", content_base64: Buffer.from("export default {").toString("base64") }] }), 400, 10021],
    ["POST /workers, a bad name", token, "POST", W, ...json({ name: "Not A Name" }), 400, 10021],
    ["deployments: two versions", token, "POST", S + "/counter/deployments", ...json({ strategy: "percentage", versions: [{ version_id: "a", percentage: 50 }, { version_id: "b", percentage: 50 }] }), 400, 10021],
    ["a version upload over 10 MiB", token, "POST", S + "/counter/versions", form({ main_module: "w.mjs" }, mjs(big)), {}, 413, 10021],
    ["old_tag not the current tag (wrangler's form)", token, "PUT", S + "/counter", form({ main_module: "w.mjs", migrations: { old_tag: "v7", new_tag: "v8", steps: [{ new_classes: ["B"] }] } }, mjs(COUNTER)), {}, 400, 10079],
    ["a deleted class that has no namespace", token, "PUT", S + "/counter", form({ main_module: "w.mjs", migrations: { old_tag: "v1", new_tag: "v2", steps: [{ deleted_classes: ["Ghost"] }] } }, mjs(COUNTER)), {}, 400, 10061],
    ["a new class the module does not export", token, "PUT", S + "/counter", form({ main_module: "w.mjs", migrations: { old_tag: "v1", new_tag: "v2", new_classes: ["Missing"] } }, mjs(COUNTER)), {}, 400, 10061],
    ["POST /workers, a name taken", token, "POST", W, ...json({ name: "counter" }), 400, 10065],
    ["a namespace name taken", token, "POST", NS, ...json({ name: "counter_Counter", script: "counter", class: "Other" }), 400, 10065],
    ["delete, objects hold data (services)", token, "DELETE", `${A}/workers/services/counter?force=false`, undefined, {}, 400, 10066],
    ["delete, objects hold data (scripts)", token, "DELETE", S + "/counter", undefined, {}, 400, 10066],
    ["GET /workers/{unknown}", token, "GET", `${W}/nosuch`, undefined, {}, 404, 10007],
    ["GET /workers/{unknown id}/versions", token, "GET", `${W}/${"e".repeat(32)}/versions`, undefined, {}, 404, 10007],
    ["GET /workers/{id}/versions/{unknown}", token, "GET", `${W}/counter/versions/nope`, undefined, {}, 404, 10007],
    ["a version upload to an unknown script", token, "POST", S + "/nosuch/versions", form({ main_module: "w.mjs" }, mjs(HELLO)), {}, 404, 10007],
    ["deployments of an unknown script (POST)", token, "POST", S + "/nosuch/deployments", ...json({}), 404, 10007],
    ["settings of an unknown script", token, "GET", S + "/nosuch/settings", undefined, {}, 404, 10007],
    ["DELETE of an unknown script", token, "DELETE", S + "/nosuch", undefined, {}, 404, 10007],
    ["GET /services/{unknown}", token, "GET", `${A}/workers/services/nosuch`, undefined, {}, 404, 10090],
    ["DELETE /services/{unknown}", token, "DELETE", `${A}/workers/services/nosuch?force=false`, undefined, {}, 404, 10090],
    ["objects of an unknown namespace", token, "GET", `${NS}/${"f".repeat(32)}/objects?limit=10`, undefined, {}, 404, 10064],
    ["export from an unknown namespace", token, "GET", `${NS}/${"f".repeat(32)}/objects/${"a".repeat(64)}/export`, undefined, {}, 404, 10064],
  ];
  for (const [what, tok, method, p, body, headers, status, code] of cases) {
    const r = await call(srv, tok, method, p.replace(":ns", nsId), body, headers);
    assertEnvelope(r, status, code, what);
  }
  // None of it changed what is served.
  assert.equal(await (await fetch(srv.url + "/?name=o0")).text(), "2");
  const l = await call(srv, token, "GET", S);
  assert.deepEqual(l.body.result.map((s) => [s.id, s.migration_tag]), [["counter", "v1"]]);
});

test("page-style lists: past the end is [], per_page 0/abc refused, over 100 read as 100", async () => {
  // Three Workers in all (counter and two more), one version each.
  for (const name of ["pa", "pb"])
    assert.equal((await call(srv, token, "PUT", `${S}/${name}`, form({ main_module: "w.mjs" }, mjs(HELLO)))).status, 200);
  const lists = [W, NS, `${W}/counter/versions`];
  for (const p of lists) {
    const first = await call(srv, token, "GET", `${p}?per_page=1`);
    assert.equal(first.status, 200, p);
    assert.equal(first.body.result.length, 1, p);
    const total = first.body.result_info.total_count;
    assert.equal(first.body.result_info.total_pages, total, p);
    const last = await call(srv, token, "GET", `${p}?per_page=1&page=${total}`);
    assert.equal(last.body.result.length, 1, p);
    for (const page of [total + 1, 1000]) {
      const past = await call(srv, token, "GET", `${p}?per_page=1&page=${page}`);
      assert.equal(past.status, 200, p);
      assert.equal(past.body.success, true, p);
      assert.deepEqual(past.body.result, [], p);
      assert.equal(past.body.result_info.count, 0, p);
      assert.equal(past.body.result_info.total_count, total, p);
    }
    for (const q of ["per_page=0", "per_page=abc", "per_page=-1", "per_page=", "page=0", "page=abc"]) {
      const r = await call(srv, token, "GET", `${p}?${q}`);
      assertEnvelope(r, 400, 10001, `${p}?${q}`);
      assert.match(r.body.errors[0].message, /whole number/);
    }
    // Spec API-10: a per_page over 100 is clamped (wrangler delete asks for 1000).
    const over = await call(srv, token, "GET", `${p}?per_page=101`);
    assert.equal(over.status, 200, p);
    assert.equal(over.body.result_info.per_page, 100, p);
  }
  assert.equal((await call(srv, token, "GET", W)).body.result.length, 3);
});

/** Pages through the namespace's objects; returns the pages' results. */
async function pageObjects(limit) {
  const pages = [];
  let cursor = "";
  for (;;) {
    const r = await call(srv, token, "GET", `${NS}/${nsId}/objects?limit=${limit}${cursor ? "&cursor=" + cursor : ""}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.success, true);
    const info = r.body.result_info;
    assert.equal(info.count, r.body.result.length);
    pages.push(r.body.result);
    assert.ok(pages.length < 20, "paging ends");
    if (!info.cursor) {
      // The last page: neither cursor leads on.
      assert.equal(info.cursor, "");
      assert.ok(!info.cursors?.after, JSON.stringify(info));
      return pages;
    }
    // Both shapes, the same value: wrangler reads `cursor`, the SDK `cursors.after`.
    assert.match(info.cursor, /^[0-9a-f]{64}$/);
    assert.equal(info.cursors.after, info.cursor);
    assert.equal(info.cursor, r.body.result.at(-1).id);
    cursor = info.cursor;
  }
}

test("objects: cursor paging to the end, with both cursor and cursors.after", async () => {
  // 20 objects in all: exactly two pages of 10, the second ends the listing.
  for (let i = 1; i < 20; i++)
    assert.equal(await (await fetch(srv.url + `/?name=o${i}`)).text(), "1");
  let pages = await pageObjects(10);
  assert.deepEqual(pages.map((p) => p.length), [10, 10]);
  let ids = pages.flat().map((o) => o.id);
  assert.equal(new Set(ids).size, 20);
  assert.deepEqual(ids, [...ids].sort());
  assert.ok(pages.flat().every((o) => o.hasStoredData === true));
  // 25: 10, 10, 5.
  for (let i = 20; i < 25; i++)
    assert.equal(await (await fetch(srv.url + `/?name=o${i}`)).text(), "1");
  pages = await pageObjects(10);
  assert.deepEqual(pages.map((p) => p.length), [10, 10, 5]);
  ids = pages.flat().map((o) => o.id);
  assert.equal(new Set(ids).size, 25);
  // A limit under 10 is read as 10 (API-20); one over 10,000 as 10,000.
  assert.deepEqual((await pageObjects(1)).map((p) => p.length), [10, 10, 5]);
  assert.deepEqual((await pageObjects(20000)).map((p) => p.length), [25]);
  // A cursor past the last id: an empty last page.
  const r = await call(srv, token, "GET", `${NS}/${nsId}/objects?cursor=${"f".repeat(64)}`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.result, []);
  assert.equal(r.body.result_info.cursor, "");
  assert.ok(!r.body.result_info.cursors?.after);
});
