// transferred_classes (issue 12; spec config.md MIG-5, MIG-10d, api.md API-34):
// a class's namespace moves from one deployed script to another with its ids and
// data; the objects then run the new owner's code. Inconsistent transfers are
// refused with 400 10061 naming the problem, and nothing changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeData, startServe, call, form, waitServes } from "./serve_lib.mjs";

const S = "/client/v4/accounts/:acct/workers/scripts";
const NS = "/client/v4/accounts/:acct/workers/durable_objects/namespaces";
const MOD = "application/javascript+module";

const counter = (cls, label, binding) => `
export class ${cls} {
  constructor(state) { this.state = state; }
  async fetch(req) {
    const n = ((await this.state.storage.get("n")) || 0) + 1;
    await this.state.storage.put("n", n);
    return new Response("${label}:" + n);
  }
}
export default {
  async fetch(req, env) {
    if (!env.${binding}) return new Response("no binding");
    const r = await env.${binding}.get(env.${binding}.idFromName("x")).fetch(req);
    return new Response(await r.text());
  },
};
`;

const put = (srv, token, name, meta, src) => call(srv, token, "PUT", `${S}/${name}`,
  form({ main_module: "w.mjs", ...meta }, { "w.mjs": [MOD, src] }));

function refused(r, re) {
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.errors[0].code, 10061, JSON.stringify(r.body));
  assert.match(r.body.errors[0].message, re);
}

test("transferred_classes moves a namespace with its data; inconsistent ones are refused", async () => {
  const { data, token } = makeData();
  let srv = await startServe(data);
  let count = 2;   // src's count when it loses its binding (see below)
  try {
    let r = await put(srv, token, "src", {
      bindings: [{ type: "durable_object_namespace", name: "C", class_name: "Counter" }],
      migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
    }, counter("Counter", "src", "C"));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitServes(srv, "/", (t) => t === "200 src:1");
    assert.equal(await (await fetch(srv.url + "/")).text(), "src:2");
    const before = (await call(srv, token, "GET", NS)).body.result;
    assert.equal(before.length, 1);

    const transfer = { new_tag: "t1", transferred_classes: [{ from: "Counter", from_script: "src", to: "Tally" }] };
    const dstMeta = {
      bindings: [{ type: "durable_object_namespace", name: "T", class_name: "Tally" }],
      migrations: transfer,
    };
    // src still binds the class: the move would leave that binding empty.
    refused(await put(srv, token, "dst", dstMeta, counter("Tally", "dst", "T")),
      /script 'src' binds it \(binding 'C'\)/);
    // Other inconsistencies.
    refused(await put(srv, token, "dst", { migrations: { transferred_classes: [{ from: "Nope", from_script: "src", to: "Tally" }] } },
      counter("Tally", "dst", "T")), /class 'Nope' of script 'src' to 'Tally': that script has no namespace for it/);
    refused(await put(srv, token, "src", { migrations: { old_tag: "v1", transferred_classes: [{ from: "Counter", from_script: "src", to: "Other" }] } },
      counter("Counter", "src", "C")), /to itself: use renamed_classes/);
    assert.equal((await call(srv, token, "GET", S)).body.result.length, 1, "dst was not made");

    // src without the binding; then the move goes through.
    r = await put(srv, token, "src", {}, counter("Counter", "src", "C"));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // A deploy's answer comes before every shard has swapped: until then the old
    // src (with its binding) still serves, and a request there counts.
    await waitServes(srv, "/", (t) => {
      const m = /^200 src:(\d+)$/.exec(t);
      if (m) count = Number(m[1]);
      return t === "200 no binding";
    });
    r = await put(srv, token, "dst", dstMeta, counter("Tally", "dst", "T"));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // dst's code, the same object (idFromName gives the same id), its count kept.
    const got = await waitServes(srv, "/", (t) => t.startsWith("200 dst:"));
    assert.equal(got, `200 dst:${count + 1}`);
    const after = (await call(srv, token, "GET", NS)).body.result;
    assert.equal(after.length, 1);
    assert.equal(after[0].id, before[0].id);
    assert.equal(after[0].script, "dst");
    assert.equal(after[0].class, "Tally");
    const objs = await call(srv, token, "GET", `${NS}/${after[0].id}/objects`);
    assert.equal(objs.body.result.length, 1);
    assert.equal(objs.body.result[0].hasStoredData, true);

    // The class name is free again in src, but its old identity is not: refused.
    refused(await put(srv, token, "src", { migrations: { new_sqlite_classes: ["Counter"] } },
      counter("Counter", "src", "C")), /was transferred to script 'dst'/);
    // dst cannot take the same class twice.
    refused(await put(srv, token, "dst", { migrations: transfer }, counter("Tally", "dst", "T")),
      /has no namespace for it/);
  } finally { await srv.stop(); }
  // After a restart the moved namespace is still dst's, with its data.
  srv = await startServe(data);
  try {
    assert.equal(await waitServes(srv, "/", (t) => t.startsWith("200 dst:")), `200 dst:${count + 2}`);
  } finally { await srv.stop(); }
});
