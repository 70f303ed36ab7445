// The CLI tools of issue 12 against a real `durable serve`: `durable deploy`,
// `durable namespaces list`, `durable objects list|export|import` (docs/api.md,
// docs/export.md). Success and errors: no server, bad token, unknown namespace,
// malformed import (nothing changed), import over data without --replace, an
// object in use. Export → wipe → import → export compares byte for byte, and the
// Worker serves the same values afterwards.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { bin } from "../lib.mjs";
import { makeData, startServe, call, waitServes } from "./serve_lib.mjs";

let srv, token, data, proj;

const WORKER = `
import { DurableObject } from "cloudflare:workers";
import { greet } from "./lib/greet.js";
import words from "./words.txt";
export class Store extends DurableObject {
  async alarm() {}
  async fetch(req) {
    const op = new URL(req.url).searchParams.get("op");
    const s = this.ctx.storage;
    if (op === "fill") {
      await s.put("a", { x: 1, y: [1, 2], d: new Date(5), m: new Map([[1, "x"]]) });
      await s.put("b", new Uint8Array([0, 255, 7]));
      s.sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, i INTEGER, r REAL, s TEXT, b BLOB, n)");
      s.sql.exec("CREATE TABLE w (k TEXT PRIMARY KEY, v) WITHOUT ROWID");
      s.sql.exec("CREATE TABLE plain (v)");
      s.sql.exec("CREATE INDEX t_i ON t(i)");
      s.sql.exec("CREATE VIEW tv AS SELECT id, s FROM t");
      s.sql.exec("CREATE TRIGGER trg AFTER INSERT ON plain BEGIN INSERT INTO w VALUES ('trig' || new.v, 1); END");
      s.sql.exec("INSERT INTO t (i, r, s, b, n) VALUES (9007199254740993, 0.1, ?, x'00ff10', NULL)", "héllo\\u0000x");
      s.sql.exec("INSERT INTO t (i, r, s, b, n) VALUES (-9223372036854775808, 1e-300, '', x'', 1e308)");
      s.sql.exec("INSERT INTO t (i, r) VALUES (9223372036854775807, 2.5)");
      s.sql.exec("DELETE FROM t WHERE id = 3");
      s.sql.exec("INSERT INTO w VALUES ('k1', 3.5), ('k2', CAST(x'ff00' AS TEXT))");
      s.sql.exec("INSERT INTO plain VALUES (1), (2)");
      s.sql.exec("DELETE FROM plain WHERE v = 1");
      await s.setAlarm(Date.now() + 3600 * 1000);
      return new Response("filled");
    }
    if (op === "wipe") { await s.deleteAll(); await s.deleteAlarm(); return new Response("wiped"); }
    if (op === "touch") { await s.put("touched", 1); return new Response("ok"); }
    let rows;
    try {
      rows = s.sql.exec("SELECT id, CAST(i AS TEXT) AS i, r, s, hex(b) AS b, n FROM t ORDER BY id").toArray();
    } catch (e) { rows = String(e); }
    const a = await s.get("a");
    const b = await s.get("b");
    const alarm = await s.getAlarm();
    return Response.json({ a: a && { ...a, d: a.d.getTime(), m: [...a.m] }, b: b && Array.from(b), rows,
      alarm: alarm !== null, seq: s.sql.exec("SELECT seq FROM sqlite_sequence").toArray() });
  }
}
${Array.from({ length: 104 }, (_, i) => `export class Extra${i} {}`).join("\n")}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const id = env.STORE.idFromName(u.searchParams.get("name") || "one");
    if (u.pathname === "/id") return new Response(id.toString());
    return env.STORE.get(id).fetch(req);
  },
};
`;

const TOML = `name = "tools"
main = "src/index.js"
compatibility_date = "2024-05-01"
[vars]
GREETING = "hi"
[[durable_objects.bindings]]
name = "STORE"
class_name = "Store"
[[migrations]]
tag = "v1"
new_sqlite_classes = ["Store"]
`;

function writeProject(dir, files) {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
}

/** Runs the CLI; resolves { code, stdout (Buffer as text), stderr }. */
function run(args, { env = {}, input, cwd = proj, noDefaults = false } = {}) {
  return new Promise((resolve, reject) => {
    const base = { ...process.env, NO_COLOR: "1" };
    delete base.DURABLE_SERVER; delete base.DURABLE_API_TOKEN; delete base.DURABLE_ACCOUNT_ID;
    const e = noDefaults ? { ...base, ...env }
      : { ...base, DURABLE_SERVER: srv.api, DURABLE_API_TOKEN: token, ...env };
    const p = spawn(bin, args, { cwd, env: e, stdio: ["pipe", "pipe", "pipe"] });
    const out = [], err = [];
    p.stdout.on("data", (d) => out.push(d));
    p.stderr.on("data", (d) => err.push(d));
    const t = setTimeout(() => { p.kill("SIGKILL"); reject(new Error(`durable ${args.join(" ")} hung`)); }, 120000);
    p.on("exit", (code) => {
      clearTimeout(t);
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), raw: Buffer.concat(out),
        stderr: Buffer.concat(err).toString("utf8") });
    });
    p.stdin.on("error", () => { /* the command may exit before reading stdin */ });
    p.stdin.end(input ?? "");
  });
}

before(async () => {
  ({ data, token } = makeData());
  srv = await startServe(data);
  proj = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tools-"));
  writeProject(proj, {
    "wrangler.toml": TOML,
    "src/index.js": WORKER,
    "src/lib/greet.js": "export const greet = (n) => `hello ${n}`;\n",
    "src/words.txt": "some words\n",
  });
});
after(async () => { await srv?.stop(); });

const SCRIPTS = "/client/v4/accounts/:acct/workers/scripts";

test("deploy: no server, no token, unreachable server, bad token: clear errors, nothing uploaded", async () => {
  let r = await run(["deploy"], { noDefaults: true });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no server: give --server URL or set DURABLE_SERVER/);
  r = await run(["deploy", "--server", srv.api], { noDefaults: true });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no token/);
  // A port nothing listens on (the server's own Workers port is taken; use a closed one).
  r = await run(["deploy", "--server", "http://127.0.0.1:1", "--token", token], { noDefaults: true });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot reach http:\/\/127\.0\.0\.1:1\/client\/v4/);
  r = await run(["deploy"], { env: { DURABLE_API_TOKEN: "durable_" + "0".repeat(64) } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error 10000: Authentication error.*\(HTTP 403\)/);
  r = await run(["deploy", "--account", "f".repeat(32)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error 10000: .*not valid for account f{32}/);
  const l = await call(srv, token, "GET", SCRIPTS);
  assert.deepEqual(l.body.result, []);
});

test("deploy: a module that does not parse, a bare import or one leaving the project is refused before upload", async () => {
  const bad = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tools-bad-"));
  writeProject(bad, { "wrangler.toml": TOML, "src/index.js": "import './x.js';\nexport default {};\n",
    "src/x.js": "export const = 1;\n" });
  let r = await run(["deploy"], { cwd: bad });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /src\/x\.js does not parse: SyntaxError/);
  writeProject(bad, { "src/index.js": "import 'lodash';\nexport default {};\n" });
  r = await run(["deploy"], { cwd: bad });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /imports "lodash": only relative imports .* needs a bundler/);
  writeProject(bad, { "src/index.js": "import '../../../etc/passwd.js';\nexport default {};\n" });
  r = await run(["deploy"], { cwd: bad });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /outside the project folder/);
  r = await run(["deploy", "--config", path.join(bad, "nope.toml")]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nope\.toml/);
  const l = await call(srv, token, "GET", SCRIPTS);
  assert.deepEqual(l.body.result, []);
});

let objectId;

test("deploy: uploads the modules it imports, applies the migration, prints what changed; a second deploy has nothing to migrate", async () => {
  // No DURABLE_ACCOUNT_ID: the account comes from GET /accounts.
  const r = await run(["deploy"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Uploaded tools \(3 modules/);
  assert.match(r.stdout, /src\/index\.js \(application\/javascript\+module\)/);
  assert.match(r.stdout, /src\/lib\/greet\.js \(application\/javascript\+module\)/);
  assert.match(r.stdout, /src\/words\.txt \(text\/plain\)/);
  assert.match(r.stdout, /Deployed tools: version [0-9a-f-]{36}/);
  assert.match(r.stdout, /v1: created class Store \(SQLite storage\)/);
  assert.match(r.stdout, /env\.STORE \(Durable Object namespace: Store\)/);
  assert.match(r.stdout, /env\.GREETING \(var\): hi/);
  assert.match(r.stdout, /[0-9a-f]{32}  tools_Store \(class Store\)/);
  const l = await call(srv, token, "GET", SCRIPTS);
  assert.equal(l.body.result[0].id, "tools");
  assert.equal(l.body.result[0].migration_tag, "v1");
  await waitServes(srv, "/id", (t) => /^200 [0-9a-f]{64}$/.test(t));
  objectId = (await (await fetch(srv.url + "/id")).text());
  const v1 = /version ([0-9a-f-]{36})/.exec(r.stdout)[1];
  const r2 = await run(["deploy"]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /No migrations to apply \(the server is at tag v1\)/);
  assert.notEqual(/version ([0-9a-f-]{36})/.exec(r2.stdout)[1], v1);
  await waitServes(srv, "/id", (t) => t === `200 ${objectId}`);
});

test("namespaces list: every namespace, over more than one page; errors", async () => {
  // 104 more namespaces through the beta-era API (more than one page of 100).
  for (let i = 0; i < 104; i++) {
    const c = await call(srv, token, "POST", "/client/v4/accounts/:acct/workers/durable_objects/namespaces",
      JSON.stringify({ name: `extra_${i}`, script: "tools", class: `Extra${i}` }),
      { "content-type": "application/json" });
    assert.equal(c.status, 200, JSON.stringify(c.body));
  }
  let r = await run(["namespaces", "list"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ID\s+NAME\s+SCRIPT\s+CLASS\s+STORAGE/);
  assert.match(r.stdout, /[0-9a-f]{32}\s+tools_Store\s+tools\s+Store\s+sqlite/);
  r = await run(["namespaces", "list", "--json"]);
  const items = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(items.length, 105);
  assert.equal(new Set(items.map((n) => n.id)).size, 105);
  r = await run(["namespaces", "list"], { env: { DURABLE_API_TOKEN: "nope" } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error 10000/);
  r = await run(["namespaces", "frob"]);
  assert.equal(r.code, 2);
  await waitServes(srv, "/id", (t) => t === `200 ${objectId}`, 60000);
});

test("objects list: pages through every object (by name or id); unknown namespace", async () => {
  for (let i = 0; i < 23; i++)
    assert.equal(await (await fetch(`${srv.url}/?op=touch&name=o${i}`)).text(), "ok");
  let r = await run(["objects", "list", "tools_Store", "--limit", "10"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 23);
  assert.ok(lines.every((l) => /^[0-9a-f]{64}  has data$/.test(l)), r.stdout);
  assert.deepEqual([...lines].sort(), lines);
  const nsId = JSON.parse((await run(["namespaces", "list", "--json"])).stdout.split("\n")[0]).id;
  r = await run(["objects", "list", nsId, "--json"]);
  assert.equal(r.stdout.trim().split("\n").length, 23);
  assert.equal(JSON.parse(r.stdout.split("\n")[0]).hasStoredData, true);
  r = await run(["objects", "list", "no_such_namespace"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no namespace has the id or name 'no_such_namespace'/);
  r = await run(["objects", "list", "0".repeat(32)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error 10064: namespace 0{32} not found \(HTTP 404\)/);
  r = await run(["objects", "list"]);
  assert.equal(r.code, 2);
});

test("objects export/import: export, wipe, import, export again byte-identical; the Worker serves the same values", async () => {
  assert.equal(await (await fetch(srv.url + "/?op=fill")).text(), "filled");
  const before = await (await fetch(srv.url + "/")).json();
  assert.equal(before.alarm, true);
  assert.equal(before.rows[0].i, "9007199254740993");
  // The object is in use (its instance holds the database): export waits for it.
  let r = await run(["objects", "export", "tools_Store", objectId, "--wait", "0"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error 10067: object [0-9a-f]{64} is in use/);
  const exp1 = await run(["objects", "export", "tools_Store", objectId]);
  assert.equal(exp1.code, 0, exp1.stderr);
  const doc = JSON.parse(exp1.stdout);
  assert.equal(doc.format, "durable-object-export");
  assert.equal(doc.id, objectId);
  assert.equal(typeof doc.alarm, "number");
  assert.deepEqual(doc.kv.map((p) => p[0]), ["a", "b"]);
  const t = doc.sql.tables.find((x) => x.name === "t");
  assert.deepEqual(t.rows[0].slice(0, 5), [1, { integer: "9007199254740993" }, 0.10000000000000001,
    "héllo\u0000x", { blob: "AP8Q" }]);
  assert.deepEqual(t.rows[1].slice(1, 6), [{ integer: "-9223372036854775808" }, 1e-300, "", { blob: "" }, 1e308]);
  assert.deepEqual(doc.sql.sequences, [["t", 3]]);
  const w = doc.sql.tables.find((x) => x.name === "w");
  assert.deepEqual(w.rows[1], ["k2", { text_base64: "/wA=" }]);
  assert.deepEqual(doc.sql.tables.find((x) => x.name === "plain").rows, [[2, 2]]);
  assert.deepEqual(doc.sql.schema.map((s) => `${s.type}:${s.name}`),
    ["table:plain", "table:t", "table:w", "index:t_i", "view:tv", "trigger:trg"]);
  // Wipe through the Worker, then put it back.
  assert.equal(await (await fetch(srv.url + "/?op=wipe")).text(), "wiped");
  r = await run(["objects", "import", "tools_Store", objectId], { input: exp1.raw });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Imported into object [0-9a-f]{64}: 2 KV pairs, 3 SQL tables \(7 rows\), alarm at \d+/);
  const exp2 = await run(["objects", "export", "tools_Store", objectId]);
  assert.equal(exp2.code, 0, exp2.stderr);
  assert.ok(exp2.raw.equals(exp1.raw), "the second export differs from the first");
  // The trigger did not fire for restored rows (w has exactly its rows).
  // Import over data: refused without --replace, nothing changed.
  r = await run(["objects", "import", "tools_Store", objectId], { input: exp1.raw });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error 10068: object [0-9a-f]{64} already has stored data; nothing was changed/);
  // Malformed files: clear errors, nothing changed.
  const bad = [
    ["not json", /error 10001: the import is not valid JSON/],
    [JSON.stringify({ ...doc, format: "other" }), /error 10001: malformed import .*"format" must be "durable-object-export"/],
    [JSON.stringify({ ...doc, kv: [["k", { blob: "not base64!" }]] }), /error 10001: .*"blob" must be canonical base64/],
    [JSON.stringify({ ...doc, sql: { ...doc.sql, tables: [{ name: "t", columns: ["id"], rowid: false, rows: [[1, 2]] }] } }), /error 10001: .*a row of 't' has 1 values/],
    [JSON.stringify({ ...doc, sql: { schema: [{ type: "table", name: "x", sql: "CREATE TABLE x (a); DROP TABLE y" }], sequences: [], tables: [] } }), /error 10001: .*one CREATE statement/],
    [JSON.stringify({ ...doc, sql: { schema: [{ type: "table", name: "x", sql: "CREATE TABLE x AS SELECT load_extension('/tmp/x.so') AS a" }], sequences: [], tables: [] } }), /error 10001: .*not authorized/],
    ["", /nothing on stdin/],
  ];
  for (const [input, re] of bad) {
    r = await run(["objects", "import", "tools_Store", objectId, "--replace"], { input });
    assert.equal(r.code, 1, input.slice(0, 80));
    assert.match(r.stderr, re);
  }
  const exp3 = await run(["objects", "export", "tools_Store", objectId]);
  assert.ok(exp3.raw.equals(exp1.raw), "a refused import changed the object");
  // --replace over existing data.
  r = await run(["objects", "import", "tools_Store", objectId, "--replace"], { input: exp1.raw });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\(its data replaced\)/);
  const exp4 = await run(["objects", "export", "tools_Store", objectId]);
  assert.ok(exp4.raw.equals(exp1.raw));
  // The Worker sees what it stored (the shards restarted on the imported data).
  const afterImport = JSON.parse((await waitServes(srv, "/", (x) => x.startsWith("200 {"))).slice(4));
  assert.deepEqual(afterImport, before);
});

test("objects export/import: into another object, ids of another namespace, unknown namespace", async () => {
  const other = (await (await fetch(srv.url + "/id?name=fresh")).text());
  const exp = await run(["objects", "export", "tools_Store", objectId]);
  assert.equal(exp.code, 0, exp.stderr);
  let r = await run(["objects", "import", "tools_Store", other], { input: exp.raw });
  assert.equal(r.code, 0, r.stderr);
  const exp2 = JSON.parse((await run(["objects", "export", "tools_Store", other])).stdout);
  const exp1 = JSON.parse(exp.stdout);
  assert.equal(exp2.id, other);
  assert.deepEqual({ ...exp2, id: null }, { ...exp1, id: null });
  r = await run(["objects", "export", "extra_0", objectId]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is not an id of namespace [0-9a-f]{32} \(extra_0\)/);
  r = await run(["objects", "export", "nope", objectId]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no namespace has the id or name 'nope'/);
  r = await run(["objects", "export", "tools_Store", "xyz"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /'xyz' is not an object id/);
  r = await run(["objects", "export", "tools_Store", objectId], { env: { DURABLE_SERVER: "http://127.0.0.1:1" } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot reach/);
  r = await run(["objects", "import", "tools_Store", objectId, "--replace"],
    { input: exp.raw, env: { DURABLE_API_TOKEN: "durable_" + "1".repeat(64) } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error 10000/);
});

test("GET /accounts lists this server's account; it needs a token", async () => {
  const r = await call(srv, token, "GET", "/client/v4/accounts");
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.result.map((a) => a.id), [srv.account]);
  const n = await call(srv, null, "GET", "/client/v4/accounts");
  assert.equal(n.status, 400);
  assert.equal(n.body.errors[0].code, 6003);
});

test("objects import into a KV-backed namespace: KV pairs and the alarm, no SQL tables", async () => {
  const kv = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tools-kv-"));
  writeProject(kv, {
    "wrangler.json": JSON.stringify({
      name: "kvtools", main: "index.mjs", compatibility_date: "2024-05-01",
      durable_objects: { bindings: [{ name: "KV", class_name: "Kv" }] },
      migrations: [{ tag: "k1", new_classes: ["Kv"] }],
    }),
    "index.mjs": `export class Kv {
  constructor(state) { this.state = state; }
  async fetch() { return Response.json({ a: await this.state.storage.get("a") }); }
}
export default {
  async fetch(req, env) {
    const id = env.KV.idFromName("k");
    if (new URL(req.url).pathname === "/kvid") return new Response(id.toString());
    return env.KV.get(id).fetch(req);
  },
};
`,
  });
  const d = await run(["deploy"], { cwd: kv });
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /k1: created class Kv \(KV storage\)/);
  const kvId = (await waitServes(srv, "/kvid", (t) => /^200 [0-9a-f]{64}$/.test(t))).slice(4);
  const sqlDoc = (await run(["objects", "export", "tools_Store", objectId])).raw;
  let r = await run(["objects", "import", "kvtools_Kv", kvId], { input: sqlDoc });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error 10001: .*keeps its objects in KV storage, which has no SQL tables/);
  const doc = JSON.parse(sqlDoc.toString("utf8"));
  const kvOnly = JSON.stringify({ ...doc, alarm: null, sql: { schema: [], sequences: [], tables: [] } });
  r = await run(["objects", "import", "kvtools_Kv", kvId], { input: kvOnly });
  assert.equal(r.code, 0, r.stderr);
  const back = JSON.parse((await run(["objects", "export", "kvtools_Kv", kvId])).stdout);
  assert.deepEqual(back.kv, doc.kv);
  const served = await waitServes(srv, "/", (t) => t.startsWith("200 {"));
  assert.deepEqual(JSON.parse(served.slice(4)).a.y, [1, 2]);
});

test("deploy: a service-worker script goes up as one script part; a minified module (export at the end of its line) as a module", async () => {
  const sw = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tools-sw-"));
  writeProject(sw, {
    "wrangler.toml": 'name = "swtools"\nmain = "sw.js"\ncompatibility_date = "2024-05-01"\n',
    "sw.js": "addEventListener('fetch', (e) => e.respondWith(new Response('sw')));\n",
  });
  let r = await run(["deploy"], { cwd: sw });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Uploaded swtools \(1 module, \d+ bytes\):\n  sw\.js \(application\/javascript\)\n/);
  const src = await call(srv, token, "GET", SCRIPTS + "/swtools");
  assert.equal(src.body, "addEventListener('fetch', (e) => e.respondWith(new Response('sw')));\n");
  const min = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tools-min-"));
  writeProject(min, {
    "wrangler.toml": 'name = "mintools"\nmain = "m.js"\ncompatibility_date = "2024-05-01"\n',
    "m.js": "const a={fetch(){return new Response('min'+b)}};import{x as b}from'./x.js';export{a as default}\n",
    "x.js": "export const x = 1;\n",
  });
  r = await run(["deploy"], { cwd: min });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /m\.js \(application\/javascript\+module\)\n  x\.js \(application\/javascript\+module\)/);
  await waitServes(srv, "/", (t) => t === "200 min1");
});
