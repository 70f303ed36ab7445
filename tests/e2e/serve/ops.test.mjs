// `durable serve` for operators (issue 12): /metrics in Prometheus' text format,
// structured logs (JSON when stderr is not a terminal), secrets through the REST
// API, `wrangler tail`'s WebSocket and `whoami`'s calls. docs/api.md.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { makeProject, startDev } from "../lib.mjs";
import { connect } from "../ws/wsclient.mjs";
import { makeData, startServe, call, form, COUNTER, waitServes } from "./serve_lib.mjs";

let srv, token;
const S = "/client/v4/accounts/:acct/workers/scripts";

// The Counter Worker, plus: /log logs, /boom throws, /env shows env.SEC, /long
// logs a line longer than a log line may be.
const SRC = COUNTER.replace("async fetch(req, env) {", `async fetch(req, env) {
    const p = new URL(req.url).pathname;
    if (p === "/log") { console.log("hello from", p); console.warn("careful"); return new Response("logged"); }
    if (p === "/boom") throw new TypeError("boom went the worker");
    if (p === "/env") return new Response(JSON.stringify({ SEC: env.SEC ?? null, OTHER: env.OTHER ?? null }));
    if (p === "/long") { console.log('"q"\\\\ é€😀'.repeat(3000)); return new Response("long"); }`);
const META = {
  main_module: "worker.mjs", compatibility_date: "2025-01-01",
  bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" },
    { type: "plain_text", name: "OTHER", text: "plain" }],
  migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
};

before(async () => {
  let data;
  ({ data, token } = makeData());
  srv = await startServe(data);
  const r = await call(srv, token, "PUT", S + "/ops", form(META, { "worker.mjs": ["application/javascript+module", SRC] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitServes(srv, "/?name=warm", (t) => t.startsWith("200"));
});
after(async () => { await srv?.stop(); });

/** Parses the exposition format strictly enough to catch a malformed line:
 *  { families: {name: {help, type}}, samples: [{name, labels, value}] }. */
function parseMetrics(text) {
  assert.ok(text.endsWith("\n"), "the exposition ends with a newline");
  const families = {}, samples = [];
  for (const line of text.slice(0, -1).split("\n")) {
    let m;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line))) {
      (families[m[1]] ??= {}).help = m[2];
    } else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      (families[m[1]] ??= {}).type = m[2];
    } else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(line))) {
      const labels = {};
      if (m[3] !== undefined) {
        const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
        let at = 0, lm;
        while (at < m[3].length && (lm = re.exec(m[3]))) {
          labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
          at = re.lastIndex;
        }
        assert.equal(at, m[3].length, `bad labels in: ${line}`);
      }
      samples.push({ name: m[1], labels, value: Number(m[4]) });
    } else {
      assert.fail(`not an exposition line: ${JSON.stringify(line)}`);
    }
  }
  for (const s of samples) {
    const fam = families[s.name] ?? families[s.name.replace(/_(bucket|sum|count)$/, "")];
    assert.ok(fam && fam.help && fam.type, `${s.name} has HELP and TYPE lines`);
  }
  return { families, samples };
}

async function scrape() {
  const r = await call(srv, token, "GET", "/metrics");
  assert.equal(r.status, 200, String(r.body));
  assert.match(r.headers.get("content-type"), /^text\/plain; version=0\.0\.4/);
  return parseMetrics(r.body);
}

const value = (m, name, labels = {}) => m.samples
  .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  .reduce((a, s) => a + s.value, 0);

/** Resolves the parsed JSON log lines once `pred` holds for one of them. */
async function logLine(pred, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const lines = srv.logs().split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const hit = lines.find(pred);
    if (hit) return hit;
    if (Date.now() > end) assert.fail(`no such log line in:\n${srv.logs()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("/metrics: needs the token, is valid exposition text, and its values move", async () => {
  assert.equal((await call(srv, null, "GET", "/metrics")).status, 400);
  assert.equal((await call(srv, "durable_nope", "GET", "/metrics")).status, 403);
  assert.equal((await call(srv, token, "POST", "/metrics")).status, 405);
  const a = await scrape();
  for (const [name, type] of [["durable_requests_total", "counter"], ["durable_objects_live", "gauge"],
    ["durable_object_evictions_total", "counter"], ["durable_storage_commits_total", "counter"],
    ["durable_storage_commit_seconds", "histogram"], ["durable_websockets_open", "gauge"],
    ["durable_request_cpu_seconds", "histogram"]])
    assert.equal(a.families[name]?.type, type, name);
  for (let i = 0; i < 3; i++) assert.equal((await fetch(srv.url + "/?name=m")).status, 200);
  assert.equal((await fetch(srv.url + "/boom")).status, 500);
  const b = await scrape();
  assert.equal(value(b, "durable_requests_total", { worker: "ops", status: "200" }) -
    value(a, "durable_requests_total", { worker: "ops", status: "200" }), 3);
  assert.equal(value(b, "durable_requests_total", { worker: "ops", status: "500" }) -
    value(a, "durable_requests_total", { worker: "ops", status: "500" }), 1);
  assert.equal(value(b, "durable_request_cpu_seconds_count") - value(a, "durable_request_cpu_seconds_count"), 4);
  assert.ok(value(b, "durable_request_cpu_seconds_sum") > value(a, "durable_request_cpu_seconds_sum"));
  assert.equal(value(b, "durable_request_cpu_seconds_bucket", { le: "+Inf" }), value(b, "durable_request_cpu_seconds_count"));
  // Every put of the Counter commits once.
  assert.equal(value(b, "durable_storage_commits_total") - value(a, "durable_storage_commits_total"), 3);
  assert.equal(value(b, "durable_storage_commit_seconds_count") - value(a, "durable_storage_commit_seconds_count"), 3);
  assert.ok(value(b, "durable_objects_live") >= 2, "objects 'warm' and 'm' are in memory");
  // Buckets are cumulative.
  const buckets = b.samples.filter((s) => s.name === "durable_storage_commit_seconds_bucket").map((s) => s.value);
  assert.deepEqual(buckets, [...buckets].sort((x, y) => x - y));
});

test("/metrics: an idle object's eviction is counted and leaves the live gauge", async () => {
  const { data, token: t2 } = makeData();
  const s2 = await startServe(data, ["--idle-timeout-ms", "200"]);
  try {
    const r = await call(s2, t2, "PUT", S + "/evict", form(META, { "worker.mjs": ["application/javascript+module", SRC] }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitServes(s2, "/?name=e", (t) => t === "200 1");
    const get = async () => parseMetrics((await call(s2, t2, "GET", "/metrics")).body);
    const end = Date.now() + 10000;
    let m;
    while (value(m = await get(), "durable_object_evictions_total") < 1) {
      assert.ok(Date.now() < end, "no eviction counted");
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(value(m, "durable_objects_live"), 0);
    assert.equal(await (await fetch(s2.url + "/?name=e")).text(), "2");   // built again, data kept
  } finally { await s2.stop(); }
});

test("/metrics: open WebSockets are counted while open", async () => {
  const before = value(await scrape(), "durable_websockets_open");
  const t = await call(srv, token, "POST", S + "/ops/tails", "{}");
  const u = new URL(t.body.result.url);
  const ws = await connect(Number(u.port), u.pathname, { headers: { "Sec-WebSocket-Protocol": "trace-v1" } });
  assert.equal(value(await scrape(), "durable_websockets_open"), before + 1);
  ws.close?.(1000);
  ws.sock.destroy();
  const end = Date.now() + 5000;
  while (value(await scrape(), "durable_websockets_open") !== before) {
    assert.ok(Date.now() < end, "the gauge went back down");
    await new Promise((r) => setTimeout(r, 20));
  }
  // The tail outlives its socket until DELETE (wrangler closes the socket first).
  const del = await call(srv, token, "DELETE", S + `/ops/tails/${t.body.result.id}`);
  assert.equal(del.status, 200, JSON.stringify(del.body));
});

test("logs: one JSON line per request and per uncaught exception (stderr is not a terminal)", async () => {
  await fetch(srv.url + "/?name=logged");
  const l = await logLine((j) => j.path === "/?name=logged" && j.status === 200);
  assert.equal(l.level, "info");
  assert.equal(l.method, "GET");
  assert.equal(l.worker, "ops");
  assert.equal(typeof l.duration_ms, "number");
  assert.equal(typeof l.cpu_ms, "number");
  assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.match(l.msg, /GET \/\?name=logged 200/);
  await fetch(srv.url + "/boom");
  const e = await logLine((j) => j.level === "error" && j.path === "/boom");
  assert.equal(e.worker, "ops");
  assert.match(e.msg, /Uncaught TypeError: boom went the worker\n\s+at /, "message and stack");
});

test("logs: a console line longer than a log line is cut inside the JSON string and marked", async () => {
  assert.equal(await (await fetch(srv.url + "/long")).text(), "long");
  const l = await logLine((j) => j.truncated === true);
  assert.equal(l.level, "info");
  assert.ok(l.msg.startsWith('"q"\\ é€😀'), l.msg.slice(0, 40));
  assert.ok(l.msg.endsWith("..."));
  assert.ok(!l.msg.includes("\ufffd"), "no character was split");
  for (const line of srv.logs().split("\n").filter(Boolean)) JSON.parse(line);   // every line is JSON
});

test("logs: durable dev writes JSON lines too, and text with DURABLE_LOG_FORMAT=text", async () => {
  const dir = makeProject({
    "wrangler.toml": 'name = "devlog"\nmain = "index.js"\ncompatibility_date = "2025-01-01"\n',
    "index.js": "export default { fetch() { return new Response('ok'); } };\n",
  });
  for (const fmt of ["json", "text"]) {
    const dev = await startDev(dir, [], { env: fmt === "text" ? { DURABLE_LOG_FORMAT: "text" } : {} });
    try {
      await (await fetch(dev.url + "/x")).text();
      await dev.waitForLog(/GET \/x 200/);
      const line = dev.logs().split("\n").find((s) => s.includes("GET /x 200"));
      if (fmt === "json") {
        const j = JSON.parse(line);
        assert.equal(j.worker, "devlog");
        assert.equal(j.status, 200);
        assert.equal(j.path, "/x");
      } else {
        assert.match(line, /^GET \/x 200 \(\d+\.\d ms, cpu \d+\.\d ms\)$/);
      }
    } finally { await dev.stop(); }
  }
});

test("secrets: put, list without values, seen in env by the next request, deleted", async () => {
  const put = await call(srv, token, "PUT", S + "/ops/secrets",
    JSON.stringify({ name: "SEC", text: "s3cr3t value", type: "secret_text" }), { "content-type": "application/json" });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual(put.body.result, { name: "SEC", type: "secret_text" });
  await waitServes(srv, "/env", (t) => t === '200 {"SEC":"s3cr3t value","OTHER":"plain"}');
  const list = await call(srv, token, "GET", S + "/ops/secrets");
  assert.deepEqual(list.body.result, [{ name: "SEC", type: "secret_text" }]);
  const one = await call(srv, token, "GET", S + "/ops/secrets/SEC");
  assert.deepEqual(one.body.result, { name: "SEC", type: "secret_text" });
  // A secret change is a new version; no answer of the API carries the value.
  const versions = await call(srv, token, "GET", S + "/ops/versions");
  const v = await call(srv, token, "GET", S + `/ops/versions/${versions.body.result.items[0].id}`);
  for (const r of [put, list, one, versions, v, await call(srv, token, "GET", S)])
    assert.ok(!JSON.stringify(r.body).includes("s3cr3t"), "the value leaked");
  // Replacing it, then deleting it.
  await call(srv, token, "PUT", S + "/ops/secrets", JSON.stringify({ name: "SEC", text: "two", type: "secret_text" }));
  await waitServes(srv, "/env", (t) => t === '200 {"SEC":"two","OTHER":"plain"}');
  assert.equal((await call(srv, token, "GET", S + "/ops/secrets")).body.result.length, 1);
  const del = await call(srv, token, "DELETE", S + "/ops/secrets/SEC");
  assert.equal(del.status, 200, JSON.stringify(del.body));
  await waitServes(srv, "/env", (t) => t === '200 {"SEC":null,"OTHER":"plain"}');
  assert.deepEqual((await call(srv, token, "GET", S + "/ops/secrets")).body.result, []);
  // The objects kept their data through the new versions.
  assert.match(await waitServes(srv, "/?name=m", (t) => t.startsWith("200")), /^200 4$/);
});

test("secrets: an upload with keep_bindings keeps them (wrangler deploy), one without drops them", async () => {
  await call(srv, token, "PUT", S + "/ops/secrets", JSON.stringify({ name: "SEC", text: "kept", type: "secret_text" }));
  await waitServes(srv, "/env", (t) => t === '200 {"SEC":"kept","OTHER":"plain"}');
  const meta = { main_module: "worker.mjs", compatibility_date: "2025-01-01",
    bindings: META.bindings, keep_bindings: ["secret_text", "secret_key"] };
  let r = await call(srv, token, "PUT", S + "/ops", form(meta, { "worker.mjs": ["application/javascript+module", SRC + "\n// v2\n"] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(await waitServes(srv, "/env", (t) => t.startsWith("200")), '200 {"SEC":"kept","OTHER":"plain"}');
  // A binding of the upload wins over a kept one of the same name.
  const own = { ...meta, bindings: [...META.bindings, { type: "secret_text", name: "SEC", text: "own" }] };
  r = await call(srv, token, "PUT", S + "/ops", form(own, { "worker.mjs": ["application/javascript+module", SRC] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitServes(srv, "/env", (t) => t === '200 {"SEC":"own","OTHER":"plain"}');
  delete meta.keep_bindings;
  r = await call(srv, token, "PUT", S + "/ops", form(meta, { "worker.mjs": ["application/javascript+module", SRC] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitServes(srv, "/env", (t) => t === '200 {"SEC":null,"OTHER":"plain"}');
});

test("secrets: bad input gets 4xx with the envelope", async () => {
  const bad = async (method, p, body, status, code) => {
    const r = await call(srv, token, method, S + p, body);
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.success, false);
    assert.equal(r.body.errors[0].code, code, JSON.stringify(r.body));
  };
  await bad("PUT", "/ops/secrets", JSON.stringify({ text: "x" }), 400, 10001);
  await bad("PUT", "/ops/secrets", JSON.stringify({ name: "A", text: 5 }), 400, 10001);
  await bad("PUT", "/ops/secrets", JSON.stringify({ name: "A", text: "x", type: "secret_key" }), 400, 10021);
  await bad("PUT", "/ops/secrets", JSON.stringify({ name: "A", text: "x".repeat(5121) }), 400, 10001);
  await bad("PUT", "/ops/secrets", "{not json", 400, 10001);
  await bad("PUT", "/ops/secrets", JSON.stringify({ name: "OTHER", text: "x" }), 400, 10053);
  await bad("PUT", "/nope/secrets", JSON.stringify({ name: "A", text: "x" }), 404, 10007);
  await bad("DELETE", "/ops/secrets/NOPE", undefined, 404, 10056);
  await bad("POST", "/ops/secrets", "{}", 405, 10000);
  assert.equal((await call(srv, null, "GET", S + "/ops/secrets")).status, 400);
});

test("tail: POST tails gives a trace-v1 WebSocket that streams each request; DELETE ends it", async () => {
  const t = await call(srv, token, "POST", S + "/ops/tails", '{"filters":[]}', { "content-type": "text/plain;charset=UTF-8" });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  const { id, url, expires_at } = t.body.result;
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.ok(Date.parse(expires_at) > Date.now());
  const u = new URL(url);
  assert.equal(u.protocol, "ws:");
  const ws = await connect(Number(u.port), u.pathname, { headers: { "Sec-WebSocket-Protocol": "trace-v1" } });
  assert.match(ws.head, /^sec-websocket-protocol: trace-v1\r?$/im);
  assert.match(ws.head, /^connection: upgrade\r?$/im);   // Node's http client insists
  // wrangler's first frame, {"debug":false}, comes unmasked: taken (and ignored), not a
  // protocol error; then a ping, answered.
  ws.sock.write(Buffer.concat([Buffer.from([0x81, 15]), Buffer.from('{"debug":false}')]));
  ws.sock.write(Buffer.from([0x89, 0x84, 1, 2, 3, 4, 0x71, 0x6b, 0x6d, 0x63]));   // ping "ping", masked
  const pong = await ws.next();
  assert.deepEqual([pong.type, String(pong.data)], ["pong", "ping"]);
  await fetch(srv.url + "/log?x=1", { headers: { "x-test": "yes", authorization: "Bearer hidden" } });
  const ev = JSON.parse(await ws.message());
  assert.equal(ev.outcome, "ok");
  assert.equal(ev.scriptName, "ops");
  assert.deepEqual(ev.exceptions, []);
  assert.deepEqual(ev.logs.map((l) => [l.level, l.message]), [["log", ["hello from /log"]], ["warn", ["careful"]]]);
  assert.equal(typeof ev.eventTimestamp, "number");
  assert.equal(ev.event.request.method, "GET");
  assert.equal(ev.event.request.url, srv.url + "/log?x=1");
  assert.equal(ev.event.request.headers["x-test"], "yes");
  assert.equal(ev.event.request.headers.authorization, "REDACTED");
  assert.equal(ev.event.response.status, 200);
  await fetch(srv.url + "/boom");
  const ex = JSON.parse(await ws.message());
  assert.equal(ex.outcome, "exception");
  assert.equal(ex.exceptions[0].name, "TypeError");
  assert.equal(ex.exceptions[0].message, "boom went the worker");
  assert.equal(ex.event.response.status, 500);
  // Unknown ids, wrong methods, no WebSocket.
  assert.equal((await fetch(srv.api + "/tail/" + "0".repeat(32))).status, 404);
  assert.equal((await fetch(srv.api + u.pathname)).status, 400);
  assert.equal((await call(srv, token, "GET", S + "/ops/tails")).status, 405);
  assert.equal((await call(srv, token, "POST", S + "/nope/tails", "{}")).status, 404);
  const del = await call(srv, token, "DELETE", S + `/ops/tails/${id}`);
  assert.equal(del.status, 200, JSON.stringify(del.body));
  const end = await ws.next();
  assert.ok(end.type === "close" || end.type === "end", JSON.stringify(end));
  assert.equal((await call(srv, token, "DELETE", S + `/ops/tails/${id}`)).status, 404);
});

test("whoami: tokens/verify, user, accounts, memberships", async () => {
  const v = await call(srv, token, "GET", "/client/v4/user/tokens/verify");
  assert.equal(v.body.result.status, "active");
  assert.equal((await call(srv, token, "GET", "/client/v4/user")).body.success, true);
  const a = await call(srv, token, "GET", "/client/v4/accounts?page=1");
  assert.deepEqual(a.body.result.map((x) => x.id), [srv.account]);
  const m = await call(srv, token, "GET", "/client/v4/memberships?page=1");
  assert.equal(m.body.result[0].account.id, srv.account);
  assert.equal((await call(srv, null, "GET", "/client/v4/user")).status, 400);
  assert.equal((await call(srv, "durable_nope", "GET", "/client/v4/accounts")).status, 403);
});
