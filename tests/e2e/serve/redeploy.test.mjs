// Redeploy without a gap (issue 12): a deploy swaps the new version into the
// running shards. Under continuous requests, three deploys fail no request;
// every answer comes from one version whole (Worker and object code of the same
// deploy); the object's count goes 1, 2, 3, … with no gap and no repeat (storage
// kept, never two instances of the id at once); after the last swap only the
// new version answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeData, startServe, call, form } from "./serve_lib.mjs";

const S = "/client/v4/accounts/:acct/workers/scripts";

/** Waits until the server's log has shown `re` n times. */
async function waitForLog(srv, re, n, ms = 15000) {
  const end = Date.now() + ms;
  const g = new RegExp(re.source, "g");
  while ((srv.logs().match(g) || []).length < n) {
    if (Date.now() > end) throw new Error(`${re} x${n} not seen:\n${srv.logs()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const src = (v) => `
export class Counter {
  constructor(state) { this.state = state; }
  async fetch(req) {
    const n = ((await this.state.storage.get("n")) || 0) + 1;
    await this.state.storage.put("n", n);
    return new Response("obj ${v}:" + n);
  }
}
export default {
  async fetch(req, env) {
    const r = await env.C.get(env.C.idFromName("shared")).fetch(req);
    return new Response("${v} " + (await r.text()));
  },
};
`;

async function deploy(srv, token, v, first) {
  const meta = {
    main_module: "w.mjs",
    bindings: [{ type: "durable_object_namespace", name: "C", class_name: "Counter" }],
    ...(first ? { migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] } } : {}),
  };
  const r = await call(srv, token, "PUT", `${S}/app`,
    form(meta, { "w.mjs": ["application/javascript+module", src(v)] }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

test("three deploys under continuous requests: no failure, no gap, one instance", async () => {
  const { data, token } = makeData();
  const srv = await startServe(data, ["--threads", "2"]);
  try {
    await deploy(srv, token, "v1", true);
    await waitForLog(srv, /every shard serves the new version/, 1);
    const answers = [], failures = [];
    let seen = new Set();
    const client = async (until) => {
      while (Date.now() < until) {
        try {
          const r = await fetch(srv.url + "/");
          const t = await r.text();
          if (r.status !== 200) failures.push(`${r.status} ${t}`);
          else { answers.push(t); seen.add(t.split(" ")[0]); }
        } catch (e) { failures.push(String(e)); }
      }
    };
    const until = Date.now() + 3000;
    const clients = [client(until), client(until)];
    for (const v of ["v2", "v3", "v4"]) {
      await new Promise((r) => setTimeout(r, 400));
      await deploy(srv, token, v, false);
      const end = Date.now() + 15000;
      while (!seen.has(v) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(clients);
    assert.deepEqual(failures, [], srv.logs());
    assert.ok(answers.length > 10, `only ${answers.length} answers`);
    // Each answer is one version whole: its Worker code and its object code.
    for (const a of answers) assert.match(a, /^(v[1-4]) obj \1:\d+$/);
    // One count per request, none lost or repeated: the object's storage went
    // through every swap, and no two instances of the id ever ran at once.
    const counts = answers.map((a) => Number(a.split(":")[1])).sort((x, y) => x - y);
    assert.deepEqual(counts, counts.map((_, i) => i + 1));
    // After the last swap has reached every shard, only the new version answers.
    await waitForLog(srv, /every shard serves the new version/, 4);
    for (let i = 0; i < 10; i++) {
      const r = await fetch(srv.url + "/");
      assert.equal(r.status, 200);
      assert.match(await r.text(), /^v4 obj v4:\d+$/);
    }
    assert.doesNotMatch(srv.logs(), /restarting the shards/);
  } finally { await srv.stop(); }
});
