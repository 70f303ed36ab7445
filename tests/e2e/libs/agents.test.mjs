// Cloudflare's Agents SDK (`agents` on npm, pinned) bundled with esbuild by this
// test as wrangler bundles it with nodejs_compat (Node's built-in modules left to
// the runtime): the smallest Agent with state, spoken to by WebSocket clients. It
// needs node:async_hooks, node:os, node:diagnostics_channel, path,
// cloudflare:email and the `exports` of cloudflare:workers (docs/nodejs.md).
// Without the flag durable refuses the first node: import with a clear error.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { makeProject, runDevExpectFailure, startDev } from "../lib.mjs";
import { connect } from "../ws/wsclient.mjs";
import { npmInstall, bundle, pinned } from "./npm.mjs";

const AGENTS_VERSION = pinned("agents", "agents");
let modules;

before(() => {
  // Its required peers (zod, @modelcontextprotocol/client) come with it.
  modules = npmInstall("agents");
});

const AGENT = `
import { Agent, routeAgentRequest } from "agents";
export class Counter extends Agent {
  initialState = { count: 0 };
  onMessage(connection, message) {
    if (message === "inc") this.setState({ count: this.state.count + 1 });
  }
}
export default {
  async fetch(request, env) {
    return (await routeAgentRequest(request, env)) ?? new Response("Not found", { status: 404 });
  },
};
`;

function project() {
  return makeProject({
    "wrangler.jsonc": JSON.stringify({
      name: "agent", main: "dist/worker.js", compatibility_date: "2026-11-01",
      compatibility_flags: ["nodejs_compat"],
      durable_objects: { bindings: [{ name: "Counter", class_name: "Counter" }] },
      migrations: [{ tag: "v1", new_sqlite_classes: ["Counter"] }],
    }),
    "src/index.js": AGENT,
  });
}

test(`agents ${AGENTS_VERSION}: the smallest Agent runs with nodejs_compat; its state crosses a WebSocket`, async () => {
  const dir = project();
  let srv;
  try {
    // As wrangler bundles with nodejs_compat: Node's built-in modules are left to the runtime.
    const r = await bundle(path.join(dir, "src", "index.js"), modules, path.join(dir, "dist", "worker.js"),
      { external: ["node:*", ...builtinModules] });
    assert.deepEqual(r.errors, []);
    srv = await startDev(dir, ["--persist-to", path.join(dir, ".durable")], { timeoutMs: 60000 });
    await talkToCounter(srv);
  } finally {
    if (srv) assert.equal((await srv.stop()).code, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test(`agents ${AGENTS_VERSION}: without nodejs_compat durable names the missing flag`, async () => {
  const dir = project();
  try {
    const cfgPath = path.join(dir, "wrangler.jsonc");
    const cfg = JSON.parse(fs.readFileSync(cfgPath, "utf8"));
    cfg.compatibility_flags = [];
    fs.writeFileSync(cfgPath, JSON.stringify(cfg));
    const r = await bundle(path.join(dir, "src", "index.js"), modules, path.join(dir, "dist", "worker.js"),
      { external: ["node:*", ...builtinModules] });
    assert.deepEqual(r.errors, []);
    const { code, stderr } = await runDevExpectFailure(dir, ["--persist-to", path.join(dir, ".durable")], 60000);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /dist\/worker\.js failed to load:\nTypeError: No such module "node:[a-z_]+": Node\.js modules need the nodejs_compat compatibility flag \(imported from dist\/worker\.js\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Identity and state on connect, a state change broadcast to two clients.
async function talkToCounter(srv) {
  const json = async (c) => JSON.parse(await c.message(10000));
  const a = await connect(srv.port, "/agents/counter/one", { ms: 10000 });
  assert.deepEqual(await json(a), { type: "cf_agent_identity", name: "one", agent: "counter", stateFollows: true });
  assert.deepEqual(await json(a), { type: "cf_agent_state", state: { count: 0 } });
  assert.equal((await json(a)).type, "cf_agent_mcp_servers");
  const b = await connect(srv.port, "/agents/counter/one", { ms: 10000 });
  for (let i = 0; i < 3; i++) await json(b);
  a.send("inc");
  for (const c of [a, b]) assert.deepEqual(await json(c), { type: "cf_agent_state", state: { count: 1 } });
  a.close(1000, "bye");
  b.close(1000, "bye");
  assert.equal((await a.closed()).code, 1000);
  assert.equal((await b.closed()).code, 1000);
  assert.equal((await fetch(srv.url + "/elsewhere")).status, 404);
}
