// Cloudflare's Agents SDK (`agents` on npm, pinned) bundled with esbuild by this
// test: the smallest Agent with state, spoken to by a WebSocket client. It does not
// load on durable yet: the SDK imports Node.js modules (node:os, node:async_hooks,
// node:diagnostics_channel, path), which need the nodejs_compat flag, and durable
// has no Node.js compatibility (another issue). The bundle is built as wrangler
// builds it with nodejs_compat (Node's built-in modules left to the runtime), so the
// first test asserts today's clear failure at load: `durable dev` exits 1 naming the
// first missing module, no crash. ONCE nodejs_compat EXISTS that test should
// instead start the Agent and assert what the second test asserts (identity,
// state, a state change broadcast to every client) without any stand-ins.
//
// The second test shows how far the rest gets: with small stand-ins for exactly
// what is missing (the four Node.js modules, "cloudflare:email", and the `exports`
// binding of "cloudflare:workers"), bundled in by this test and not offered to
// users, the Agent runs on durable: it sends its identity and state on connect and
// a state change reaches two clients.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { makeProject, runDevExpectFailure, startDev } from "../lib.mjs";
import { connect } from "../ws/wsclient.mjs";
import { npmInstall, bundle } from "./npm.mjs";

const AGENTS_VERSION = "0.32.0";
let modules;

before(() => {
  // Its required peers (zod, @modelcontextprotocol/client) come with it.
  modules = npmInstall(`agents-${AGENTS_VERSION}`, [`agents@${AGENTS_VERSION}`]);
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

test(`agents ${AGENTS_VERSION}: the smallest Agent does not load yet; durable names the missing Node.js module`, async () => {
  const dir = project();
  try {
    const r = await bundle(path.join(dir, "src", "index.js"), modules, path.join(dir, "dist", "worker.js"),
      { external: ["node:*", ...builtinModules] });
    assert.deepEqual(r.errors, []);
    const { code, stderr } = await runDevExpectFailure(dir, ["--persist-to", path.join(dir, ".durable")], 60000);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /dist\/worker\.js failed to load:\nTypeError: No such module "node:os": Node\.js modules need the nodejs_compat flag, which durable does not support yet \(imported from dist\/worker\.js\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Stand-ins for what durable lacks (test-only; just enough for this Agent).
const STANDINS = {
  "os.js": `export const EOL = "\\n"; export default { EOL };`,
  "async_hooks.js": `export class AsyncLocalStorage {
  #store;
  getStore() { return this.#store; }
  run(store, fn, ...args) { const prev = this.#store; this.#store = store; try { return fn(...args); } finally { this.#store = prev; } }
  exit(fn, ...args) { return this.run(undefined, fn, ...args); }
  enterWith(store) { this.#store = store; }
  disable() { this.#store = undefined; }
  static bind(fn) { return fn; }
  static snapshot() { return (fn, ...args) => fn(...args); }
}
export default { AsyncLocalStorage };`,
  "diagnostics_channel.js": `export function channel(name) { return { name, hasSubscribers: false, publish() {}, subscribe() {}, unsubscribe() {} }; }
export default { channel };`,
  "path.js": `export function extname(p) { const m = /\\.[^./]*$/.exec(p); return m ? m[0] : ""; }
export default { extname };`,
  "email.js": `export class EmailMessage { constructor(from, to, raw) { this.from = from; this.to = to; this.raw = raw; } }`,
  "workers.js": `export * from "durable-real:cloudflare-workers";
export const exports = {};`,
};

test(`agents ${AGENTS_VERSION}: with stand-ins for the missing modules the Agent's state crosses a WebSocket`, async () => {
  const dir = project();
  const shims = path.join(dir, "standins");
  fs.mkdirSync(shims);
  for (const [name, text] of Object.entries(STANDINS)) fs.writeFileSync(path.join(shims, name), text);
  // "cloudflare:workers" gets `exports` added; the stand-in itself imports the real one.
  const workers = {
    name: "workers-exports", setup(b) {
      b.onResolve({ filter: /^cloudflare:workers$/ }, () => ({ path: path.join(shims, "workers.js") }));
      b.onResolve({ filter: /^durable-real:cloudflare-workers$/ }, () => ({ path: "cloudflare:workers", external: true }));
    },
  };
  const s = (f) => path.join(shims, f);
  let srv;
  try {
    const r = await bundle(path.join(dir, "src", "index.js"), modules, path.join(dir, "dist", "worker.js"), {
      plugins: [workers],
      alias: { "node:os": s("os.js"), "node:async_hooks": s("async_hooks.js"), "node:diagnostics_channel": s("diagnostics_channel.js"),
               path: s("path.js"), "cloudflare:email": s("email.js") },
    });
    assert.deepEqual(r.errors, []);
    srv = await startDev(dir, ["--persist-to", path.join(dir, ".durable")], { timeoutMs: 60000 });
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
  } finally {
    if (srv) assert.equal((await srv.stop()).code, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
