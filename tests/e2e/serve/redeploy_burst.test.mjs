// Deploys back to back (issue 12): five versions uploaded one right after the
// other, without waiting for any swap, while clients keep asking for objects that
// do not exist yet. Every request answers 200, whole from one version (Worker and
// object code of the same deploy), and none waits for an old version's grace
// period: a version that was swapped in and out again before its objects started
// on a shard still starts them there once the versions before it have closed, so
// its in-flight requests finish instead of getting the 10 s close's 503.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeData, startServe, call, form, waitServes } from "./serve_lib.mjs";

const S = "/client/v4/accounts/:acct/workers/scripts";

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
    const name = new URL(req.url).searchParams.get("name");
    const r = await env.C.get(env.C.idFromName(name)).fetch(req);
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

for (const threads of ["1", "2"]) {
  test(`five deploys back to back (${threads} shard(s)), new objects asked for meanwhile: all 200, none waits out a close`, async () => {
    const { data, token } = makeData();
    const srv = await startServe(data, ["--threads", threads]);
    try {
      await deploy(srv, token, "v1", true);
      await waitServes(srv, "/?name=warm", (t) => t === "200 v1 obj v1:1");
      const answers = [], failures = [];
      let stop = false, next = 0;
      const client = async (c) => {
        while (!stop) {
          const name = `c${c}-${next++}`;
          try {
            // Generous: a request that waited out the old version's 10 s close fails here.
            const r = await fetch(srv.url + `/?name=${name}`, { signal: AbortSignal.timeout(8000) });
            const t = await r.text();
            if (r.status !== 200) failures.push(`${name}: ${r.status} ${t}`);
            else answers.push(t);
          } catch (e) { failures.push(`${name}: ${e}`); }
        }
      };
      const clients = [0, 1, 2, 3].map(client);
      for (const v of ["v2", "v3", "v4", "v5", "v6"]) await deploy(srv, token, v, false);
      await waitServes(srv, "/?name=last", (t) => /^200 v6 /.test(t));
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await Promise.all(clients);
      assert.deepEqual(failures, [], srv.logs());
      assert.ok(answers.length > 0);
      // Each answer is one version whole, and each object was new.
      for (const a of answers) assert.match(a, /^(v[1-6]) obj \1:1$/);
      assert.doesNotMatch(srv.logs(), /still had requests in flight/);
    } finally { await srv.stop(); }
  });
}
