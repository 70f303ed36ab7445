// `wrangler tail`'s filters (POST scripts/:n/tails with {"filters": [...]}, sent as
// text/plain): sampling_rate, outcome, method, header {key, query?}, client_ip
// (with "self"), query (text in console lines and exceptions). Every filter must
// pass; inside one, any listed value. Unknown or malformed filters: 400 10001.
// docs/api.md, "wrangler tail".
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../ws/wsclient.mjs";
import { makeData, startServe, call, form, waitServes } from "./serve_lib.mjs";

const S = "/client/v4/accounts/:acct/workers/scripts";
const SRC = `export default { async fetch(req) {
  const p = new URL(req.url).pathname;
  if (p === "/log") { console.log("a needle in /log"); return new Response("l"); }
  if (p === "/boom") throw new TypeError("boom, another needle");
  return new Response("p");
} };`;

let srv, token;
before(async () => {
  let data;
  ({ data, token } = makeData());
  srv = await startServe(data);
  const r = await call(srv, token, "PUT", S + "/tf", form({ main_module: "w.mjs" },
    { "w.mjs": ["application/javascript+module", SRC] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitServes(srv, "/", (t) => t === "200 p");
});
after(async () => { await srv?.stop(); });

/** POST tails with body (wrangler's content type): the response. */
const postTail = (body) => call(srv, token, "POST", S + "/tf/tails", body,
  { "content-type": "text/plain;charset=UTF-8" });

async function openTail(filters) {
  const t = await postTail(JSON.stringify({ filters }));
  assert.equal(t.status, 200, `${JSON.stringify(filters)}: ${JSON.stringify(t.body)}`);
  const u = new URL(t.body.result.url);
  const ws = await connect(Number(u.port), u.pathname, { headers: { "Sec-WebSocket-Protocol": "trace-v1" } });
  return { id: t.body.result.id, ws, filters };
}

/** The k= of each event's URL, in order. */
const keyOf = (ev) => new URL(ev.event.request.url).searchParams.get("k");

test("each filter lets through exactly the events it names; filters combine with AND", async () => {
  const cases = [
    [[], "abcdz"],
    [[{ outcome: ["exception"] }], "c"],
    [[{ outcome: ["ok", "canceled"] }, { method: ["post"] }], "b"],
    [[{ method: ["GET", "PUT"] }], "acdz"],
    [[{ header: { key: "X-Flag" } }], "bd"],
    [[{ header: { key: "x-flag", query: "on" } }], "b"],
    [[{ query: "needle" }], "ac"],
    [[{ query: "no such text" }], ""],
    [[{ client_ip: ["self"] }], "abcdz"],
    [[{ client_ip: ["10.9.9.9"] }], ""],
    [[{ client_ip: ["10.9.9.9", "127.0.0.1"] }], "abcdz"],
    [[{ sampling_rate: 1 }], "abcdz"],
    [[{ client_ip: ["self"] }, { outcome: ["exception", "exceededCpu", "exceededMemory", "unknown"] }], "c"],
  ];
  const tails = [];
  for (const [filters] of cases) tails.push(await openTail(filters));
  const go = (k, path, init = {}) => fetch(`${srv.url}${path}?k=${k}`, init).then((r) => r.text());
  await go("a", "/log");
  await go("b", "/plain", { method: "POST", headers: { "x-flag": "on" } });
  await go("c", "/boom");
  await go("d", "/plain", { headers: { "X-Flag": "off" } });
  await go("z", "/plain");
  // The unfiltered tail saw z: every earlier event went to every tail before it.
  const seen = [];
  for (;;) {
    const k = keyOf(JSON.parse(await tails[0].ws.message()));
    seen.push(k);
    if (k === "z") break;
  }
  assert.equal(seen.join(""), "abcdz");
  // Deleting a tail closes its socket after the events it was sent.
  for (let i = 1; i < tails.length; i++) {
    const t = tails[i];
    assert.equal((await call(srv, token, "DELETE", `${S}/tf/tails/${t.id}`)).status, 200);
    const got = [];
    for (;;) {
      const ev = await t.ws.next();
      if (ev.type === "close" || ev.type === "end") break;
      if (ev.type === "text") got.push(keyOf(JSON.parse(ev.data)));
    }
    assert.equal(got.join(""), cases[i][1], `filters ${JSON.stringify(t.filters)}`);
  }
  assert.equal((await call(srv, token, "DELETE", `${S}/tf/tails/${tails[0].id}`)).status, 200);
});

test("malformed filters are refused with 400 10001 and a message naming the problem", async () => {
  const bad = [
    ["{nope", /not valid JSON/],
    ['"filters"', /JSON object/],
    ['{"filters": {}}', /array/],
    ['{"filters": [{"bogus": 1}]}', /'bogus' is not a tail filter/],
    ['{"filters": [{"scriptVersion": "x"}]}', /scriptVersion .* is not supported/],
    ['{"filters": [{"method": ["GET"], "outcome": ["ok"]}]}', /one key/],
    ['{"filters": [5]}', /one key/],
    ['{"filters": [{"sampling_rate": 0}]}', /sampling_rate must be a number above 0/],
    ['{"filters": [{"sampling_rate": 1.5}]}', /sampling_rate/],
    ['{"filters": [{"sampling_rate": "0.5"}]}', /sampling_rate/],
    ['{"filters": [{"outcome": "ok"}]}', /outcome must be an array of strings/],
    ['{"filters": [{"method": [1]}]}', /method must be an array of strings/],
    ['{"filters": [{"client_ip": "self"}]}', /client_ip must be an array/],
    ['{"filters": [{"header": {}}]}', /header must be \{key, query\?\}/],
    ['{"filters": [{"header": {"key": "a", "query": 1}}]}', /header must be/],
    ['{"filters": [{"header": {"key": "a", "value": "b"}}]}', /header must be/],
    ['{"filters": [{"query": ["x"]}]}', /query must be a string/],
  ];
  for (const [body, re] of bad) {
    const r = await postTail(body);
    const ctx = `${body}: ${r.status} ${JSON.stringify(r.body)}`;
    assert.equal(r.status, 400, ctx);
    assert.equal(r.body.success, false, ctx);
    assert.equal(r.body.errors[0].code, 10001, ctx);
    assert.match(r.body.errors[0].message, re, ctx);
  }
  // No body, or no filters key, is a tail without filters.
  for (const body of [undefined, "{}"]) {
    const r = await postTail(body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await call(srv, token, "DELETE", `${S}/tf/tails/${r.body.result.id}`)).status, 200);
  }
});
