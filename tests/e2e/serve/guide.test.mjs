// The curl flow of Cloudflare's "Using Durable Objects" guide (the original beta
// API), run with the real `curl` binary against `durable serve`: upload the class's
// script as multipart with metadata (`curl -F`), create a namespace with
// name/script/class, upload a calling Worker whose metadata binds the namespace by
// `namespace_id`, and call that Worker through the Workers listener (the first DNS
// label of Host names the script).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { makeProject } from "../lib.mjs";
import { makeData, startServe } from "./serve_lib.mjs";

let srv, token, data;
before(async () => {
  ({ data, token } = makeData());
  srv = await startServe(data);
});
after(async () => { await srv?.stop(); });

/** Runs curl; resolves { code, out } (out: the body; -w appends the status). */
function curl(args, cwd) {
  return new Promise((resolve) => {
    execFile("curl", ["-sS", "-w", "\n%{http_code}", ...args], { cwd, timeout: 30000 },
      (err, stdout, stderr) => resolve({ code: err ? err.code ?? 1 : 0, out: stdout, err: stderr }));
  });
}
const parse = (r) => {
  const i = r.out.lastIndexOf("\n");
  return { status: Number(r.out.slice(i + 1)), body: JSON.parse(r.out.slice(0, i)) };
};

const COUNTER = `export class Counter {
  constructor(state, env) { this.state = state; }
  async fetch(request) {
    let value = (await this.state.storage.get("value")) || 0;
    const url = new URL(request.url);
    if (url.pathname === "/increment") value++;
    else if (url.pathname === "/decrement") value--;
    await this.state.storage.put("value", value);
    return new Response(String(value));
  }
}
export default { fetch() { return new Response("the counter script"); } };
`;
const CALLER = `export default {
  async fetch(request, env) {
    const name = new URL(request.url).searchParams.get("name") || "default";
    const stub = env.EXAMPLE_CLASS.get(env.EXAMPLE_CLASS.idFromName(name));
    const r = await stub.fetch(request);
    return new Response("count: " + (await r.text()));
  },
};
`;

test("the guide's curl flow: script, namespace, bound caller, a call", async () => {
  const proj = makeProject({
    "counter.mjs": COUNTER,
    "caller.mjs": CALLER,
    "metadata.json": JSON.stringify({ main_module: "counter.mjs" }),
  });
  const base = `${srv.api}/client/v4/accounts/${srv.account}/workers`;
  const auth = ["-H", `Authorization: Bearer ${token}`];

  // 1. The script with the class, as multipart: metadata and the module.
  let r = await curl(["-X", "PUT", `${base}/scripts/example-script`, ...auth,
    "-F", "metadata=@metadata.json;type=application/json",
    "-F", "script=@counter.mjs;type=application/javascript+module"], proj);
  assert.equal(r.code, 0, r.err);
  let p = parse(r);
  assert.equal(p.status, 200, r.out);
  assert.equal(p.body.success, true);
  assert.equal(p.body.result.id, "example-script");

  // 2. The namespace: name, script, class.
  r = await curl(["-X", "POST", `${base}/durable_objects/namespaces`, ...auth,
    "-H", "Content-Type: application/json",
    "--data", JSON.stringify({ name: "example-class", script: "example-script", class: "Counter" })], proj);
  p = parse(r);
  assert.equal(p.status, 200, r.out);
  const ns = p.body.result;
  assert.match(ns.id, /^[0-9a-f]{32}$/);
  assert.equal(ns.name, "example-class");
  assert.equal(ns.script, "example-script");
  assert.equal(ns.class, "Counter");

  // 3. The calling Worker, bound to the namespace by its id.
  fs.writeFileSync(path.join(proj, "caller.json"), JSON.stringify({
    main_module: "caller.mjs",
    bindings: [{ type: "durable_object_namespace", name: "EXAMPLE_CLASS", namespace_id: ns.id }],
  }));
  r = await curl(["-X", "PUT", `${base}/scripts/example-caller`, ...auth,
    "-F", "metadata=@caller.json;type=application/json",
    "-F", "script=@caller.mjs;type=application/javascript+module"], proj);
  p = parse(r);
  assert.equal(p.status, 200, r.out);
  assert.equal(p.body.success, true);

  // 4. Call it: Host names the script. The object runs example-script's class.
  const call = (pathq) => curl(["-H", "Host: example-caller.localhost", `${srv.url}${pathq}`], proj);
  const end = Date.now() + 15000;
  let text = "";
  while (Date.now() < end) {
    text = (await call("/increment?name=a")).out;
    if (text.startsWith("count: ")) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(text, "count: 1\n200", srv.logs());
  assert.equal((await call("/increment?name=a")).out, "count: 2\n200");
  assert.equal((await call("/decrement?name=a")).out, "count: 1\n200");
  assert.equal((await call("/increment?name=b")).out, "count: 1\n200");
  // The class's own script is served under its own name.
  r = await curl(["-H", "Host: example-script.localhost", `${srv.url}/`], proj);
  assert.equal(r.out, "the counter script\n200");

  // The namespace lists both objects, with data.
  r = await curl([`${base}/durable_objects/namespaces/${ns.id}/objects`, ...auth], proj);
  p = parse(r);
  assert.equal(p.status, 200, r.out);
  assert.equal(p.body.result.length, 2);
  assert.ok(p.body.result.every((o) => o.hasStoredData === true));
});
