// Upload-time checks of `durable serve` (issue 12; spec api.md API-35, API-8,
// config.md MIG-10b): before a deploy commits, its modules are loaded once in a
// throw-away runtime. A module that does not parse or throws at load is refused
// with 400 10021 naming the module, a Durable Object class the main module does
// not export with 400 10061 naming the class; nothing changes and the previous
// version keeps serving. Top-level code that never ends is stopped by the CPU
// bound and the API keeps answering.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { makeData, startServe, call, form, COUNTER, waitServes } from "./serve_lib.mjs";

const S = "/client/v4/accounts/:acct/workers/scripts";
const NS = "/client/v4/accounts/:acct/workers/durable_objects/namespaces";
const MOD = "application/javascript+module";
const META = {
  main_module: "w.mjs",
  bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" }],
};

let srv, token;
before(async () => {
  let data;
  ({ data, token } = makeData());
  srv = await startServe(data);
  const r = await call(srv, token, "PUT", `${S}/app`, form(
    { ...META, migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] } },
    { "w.mjs": [MOD, COUNTER] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitServes(srv, "/?name=a", (t) => t === "200 1");
});
after(async () => { await srv?.stop(); });

function refused(r, code, re) {
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.success, false);
  assert.equal(r.body.errors[0].code, code, JSON.stringify(r.body));
  assert.match(r.body.errors[0].message, re);
  assert.doesNotMatch(r.body.errors[0].message, /\.check-/, "no temporary path in the message");
}

async function unchanged() {
  const list = await call(srv, token, "GET", S);
  assert.equal(list.body.result.length, 1);
  assert.equal(list.body.result[0].migration_tag, "v1");
  const ns = await call(srv, token, "GET", NS);
  assert.deepEqual(ns.body.result.map((n) => n.class), ["Counter"]);
  // Still the first version, with its data.
  const r = await fetch(srv.url + "/?name=a");
  assert.equal(r.status, 200);
  assert.match(await r.text(), /^\d+$/);
}

test("a main module that does not parse: 400 10021 naming it; nothing changes", async () => {
  const r = await call(srv, token, "PUT", `${S}/app`, form(META,
    { "w.mjs": [MOD, COUNTER + "\nexport const broken = ;\n"] }));
  refused(r, 10021, /w\.mjs.*SyntaxError|SyntaxError[\s\S]*w\.mjs/);
  await unchanged();
});

test("an imported module that does not parse: the message names that module", async () => {
  const r = await call(srv, token, "PUT", `${S}/app`, form(META, {
    "w.mjs": [MOD, `import { x } from "./lib.mjs";\n${COUNTER}`],
    "lib.mjs": [MOD, "export const x = {;\n"],
  }));
  refused(r, 10021, /lib\.mjs/);
  await unchanged();
});

test("top-level code that throws: 400 10021 with the error", async () => {
  const r = await call(srv, token, "PUT", `${S}/app`, form(META,
    { "w.mjs": [MOD, `${COUNTER}\nthrow new Error("boom at load");\n`] }));
  refused(r, 10021, /boom at load/);
  await unchanged();
});

test("a migration naming a class the module does not export: 400 10061; no namespace made", async () => {
  const r = await call(srv, token, "PUT", `${S}/app`, form(
    { ...META, migrations: { old_tag: "v1", new_tag: "v2", new_sqlite_classes: ["Room"] } },
    { "w.mjs": [MOD, COUNTER] }));
  refused(r, 10061, /class Room that is not exported/);
  await unchanged();
});

test("a new version that drops an exported class still bound: 400 10061", async () => {
  const src = `export default { fetch() { return new Response("no class"); } };`;
  const r = await call(srv, token, "PUT", `${S}/app`, form(META, { "w.mjs": [MOD, src] }));
  refused(r, 10061, /class Counter that is not exported/);
  await unchanged();
});

test("top-level code that never ends is stopped; the API keeps answering", async () => {
  const r = await call(srv, token, "PUT", `${S}/app`, form(META,
    { "w.mjs": [MOD, `${COUNTER}\nfor (;;) {}\n`] }));
  refused(r, 10021, /ran past the 1000 ms of CPU/);
  await unchanged();
});

test("the versions API is checked the same way", async () => {
  const r = await call(srv, token, "POST", "/client/v4/accounts/:acct/workers/workers/app/versions?deploy=true",
    JSON.stringify({
      main_module: "w.mjs",
      bindings: META.bindings,
      modules: [{ name: "w.mjs", content_type: MOD,
        content_base64: Buffer.from("export default {").toString("base64") }],
    }), { "content-type": "application/json" });
  refused(r, 10021, /w\.mjs/);
  await unchanged();
});

test("a valid upload still goes through, and a service-worker script is compiled too", async () => {
  const bad = await call(srv, token, "PUT", `${S}/sw`, form({ body_part: "s.js" },
    { "s.js": ["application/javascript", "addEventListener('fetch', (e) => {"] }));
  refused(bad, 10021, /s\.js/);
  const ok = await call(srv, token, "PUT", `${S}/sw`, form({ body_part: "s.js" },
    { "s.js": ["application/javascript",
      "addEventListener('fetch', (e) => e.respondWith(new Response('sw')));"] }));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const r = await call(srv, token, "PUT", `${S}/app`, form(META,
    { "w.mjs": [MOD, COUNTER.replace("(env.PREFIX || \"\")", "\"v2:\"")] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
});
