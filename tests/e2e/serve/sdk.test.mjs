// The official `cloudflare` SDK (npm, pinned, installed from its lockfile into
// build/npm/ by tests/e2e/libs/npm.mjs) against `durable serve`: the Workers API
// as its documentation shows it deploys a working Counter; namespaces and objects page to the end; a script is
// uploaded with scripts.update (which sends flattened metadata under a wrong
// Content-Type, cloudflare-typescript #2799); lists iterate.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { npmInstall } from "../libs/npm.mjs";
import { makeData, startServe, waitServes } from "./serve_lib.mjs";

let Cloudflare, srv, token, data;

before(async () => {
  const entry = path.join(npmInstall("cloudflare"), "cloudflare", "index.mjs");
  Cloudflare = (await import(pathToFileURL(entry).href)).default;
  ({ data, token } = makeData());
  srv = await startServe(data);
});
after(async () => { await srv?.stop(); });

const COUNTER = `export class Counter {
  constructor(state) { this.state = state; }
  async fetch() {
    let n = (await this.state.storage.get("n")) || 0;
    await this.state.storage.put("n", ++n);
    return new Response(String(n));
  }
}
export default {
  fetch(req, env) {
    const name = new URL(req.url).searchParams.get("name") || "a";
    return env.COUNTER.get(env.COUNTER.idFromName(name)).fetch(req);
  },
};`;

test("cloudflare SDK: Workers API deploys a Counter; namespaces, objects, scripts page through", async () => {
  const client = new Cloudflare({ apiToken: token, baseURL: `${srv.api}/client/v4`, maxRetries: 0 });
  const account_id = srv.account;
  const worker = await client.workers.beta.workers.create({ account_id, name: "sdk-counter" });
  assert.match(worker.id, /^[0-9a-f]{32}$/);
  const version = await client.workers.beta.workers.versions.create(worker.id, {
    account_id, deploy: true, main_module: "index.mjs", compatibility_date: "2025-01-01",
    bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" }],
    migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
    modules: [{ name: "index.mjs", content_type: "application/javascript+module",
      content_base64: Buffer.from(COUNTER).toString("base64") }],
  });
  assert.equal(version.number, 1);
  await waitServes(srv, "/?name=sdk", (t) => t === "200 1");
  for (let i = 0; i < 12; i++)
    assert.equal((await fetch(`${srv.url}/?name=o${i}`)).status, 200);
  const namespaces = [];
  for await (const ns of client.durableObjects.namespaces.list({ account_id })) namespaces.push(ns);
  assert.deepEqual(namespaces.map((n) => [n.name, n.class, n.use_sqlite]), [["sdk-counter_Counter", "Counter", true]]);
  const ids = [];
  for await (const o of client.durableObjects.namespaces.objects.list(namespaces[0].id, { account_id, limit: 10 }))
    ids.push(o.id);
  assert.equal(ids.length, 13);
  assert.equal(new Set(ids).size, 13);
  const script = await client.workers.scripts.update("uploaded", {
    account_id, metadata: { main_module: "w.mjs", compatibility_date: "2025-01-01" },
    files: [new File(["export default { fetch() { return new Response('uploaded') } }"], "w.mjs",
      { type: "application/javascript+module" })],
  });
  assert.equal(script.id, "uploaded");
  await waitServes(srv, "/", (t) => t === "200 uploaded");
  const names = [];
  for await (const s of client.workers.scripts.list({ account_id })) names.push(s.id);
  assert.deepEqual(names.sort(), ["sdk-counter", "uploaded"]);
  const versions = [];
  for await (const v of client.workers.beta.workers.versions.list(worker.id, { account_id })) versions.push(v.number);
  assert.deepEqual(versions, [1]);
  // An SDK error is an APIError with the status and our error code.
  await assert.rejects(client.workers.beta.workers.get("nosuch", { account_id }),
    (e) => e.status === 404 && /10007/.test(e.message));
});
