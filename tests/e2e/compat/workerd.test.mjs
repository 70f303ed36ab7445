// The compatibility suite (issue 10): small apps built from pinned npm packages
// (hono, zod, jose, agents) bundled by esbuild, each run at once by `durable dev` and by
// workerd (Cloudflare's runtime, @cloudflare/workerd-linux-64 from the npm registry,
// pinned by the lockfile bench/setup uses too), installed from their lockfiles into build/npm/. The
// same list of requests goes to both; the answers must be equal request by request:
// status, the selected headers and the body (for agents: the WebSocket messages
// each client receives, in order).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { builtinModules } from "node:module";
import { pathToFileURL } from "node:url";
import { makeProject, startDev } from "../lib.mjs";
import { npmInstall, bundle, pinned } from "../libs/npm.mjs";
import { connect } from "../ws/wsclient.mjs";

const AGENTS_VERSION = pinned("agents", "agents");
const COMPAT_DATE = "2026-11-01";
const HEADERS = ["content-type", "location", "x-app", "x-request-id", "allow"];

const HONO_APP = `
import { Hono } from "hono";
const app = new Hono();
app.use("*", async (c, next) => { await next(); c.header("x-app", "hono-compat"); });
app.use("/api/*", async (c, next) => {
  if (c.req.header("authorization") === "Bearer no") return c.json({ error: "forbidden" }, 403);
  await next();
});
app.get("/", (c) => c.text("hello from hono"));
app.get("/api/users/:id", (c) => c.json({ id: c.req.param("id"), fields: c.req.queries("f") ?? [] }));
app.get("/api/posts/:post/comments/:n{[0-9]+}", (c) => c.json({ post: c.req.param("post"), n: Number(c.req.param("n")) }));
app.post("/api/echo", async (c) => {
  // JSON.parse's message is the engine's own (V8's differs from QuickJS's): not compared.
  const body = await c.req.json().catch(() => null);
  if (body === null) return c.json({ error: "bad JSON" }, 400);
  return c.json({ got: body, type: c.req.header("content-type") }, 201, { "x-request-id": "r-" + Object.keys(body).length });
});
app.get("/files/*", (c) => c.text("file:" + c.req.path.slice(7)));
app.get("/old", (c) => c.redirect("/new", 301));
app.get("/html", (c) => c.html("<h1>hi</h1>"));
app.get("/boom", () => { throw new Error("boom"); });
app.onError((e, c) => c.json({ error: e.message }, 500));
app.notFound((c) => c.json({ error: "not found", path: c.req.path }, 404));
export default app;
`;

const ZOD_APP = `
import { z } from "zod";
const User = z.object({
  name: z.string().min(2).max(20),
  email: z.email(),
  age: z.number().int().nonnegative().optional(),
  tags: z.array(z.enum(["a", "b", "c"])).max(3).default([]),
}).strict();
export default {
  async fetch(req) {
    if (req.method !== "POST") return new Response("POST a user", { status: 405, headers: { allow: "POST" } });
    let body;
    try { body = await req.json(); } catch { return Response.json({ error: "invalid JSON" }, { status: 400 }); }
    const r = User.safeParse(body);
    if (!r.success) return Response.json({ error: "invalid", issues: r.error.issues, flat: z.flattenError(r.error) }, { status: 422 });
    return Response.json({ ok: true, user: r.data });
  },
};
`;

const joseApp = (jwks) => `
import * as jose from "jose";
const JWKS = jose.createLocalJWKSet(${JSON.stringify(jwks)});
export default {
  async fetch(req) {
    const auth = req.headers.get("authorization") || "";
    if (!auth.startsWith("Bearer ")) return Response.json({ ok: false, code: "NO_TOKEN" }, { status: 401 });
    try {
      const { payload, protectedHeader } = await jose.jwtVerify(auth.slice(7), JWKS, { issuer: "idp", audience: "app" });
      return Response.json({ ok: true, sub: payload.sub, alg: protectedHeader.alg, kid: protectedHeader.kid });
    } catch (e) {
      return Response.json({ ok: false, code: e.code || e.name }, { status: 401 });
    }
  },
};
`;

let modules, agentsModules, workerdBin, jose;
const servers = {};

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Runs workerd on `dir`/config.capnp, listening on a free loopback port; resolves
 *  once it accepts connections (at most 30 s), or rejects with its stderr. */
async function startWorkerd(dir) {
  const port = await freePort();
  const proc = spawn(workerdBin, ["serve", "config.capnp", "--socket-addr", `http=127.0.0.1:${port}`],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let logs = "";
  proc.stdout.on("data", (d) => { logs += d; });
  proc.stderr.on("data", (d) => { logs += d; });
  const exited = new Promise((r) => proc.once("exit", (code, sig) => r({ code, sig })));
  const deadline = Date.now() + 30000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`workerd exited (${proc.exitCode ?? proc.signalCode}):\n${logs}`);
    const ok = await new Promise((r) => {
      const c = net.connect(port, "127.0.0.1", () => { c.destroy(); r(true); });
      c.once("error", () => r(false));
    });
    if (ok) break;
    if (Date.now() > deadline) { proc.kill("SIGKILL"); throw new Error(`workerd did not listen within 30 s:\n${logs}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`, port, logs: () => logs,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 10000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Bundles `source` into a project both runtimes serve; starts both. `agent`: the
 *  agents app's settings (nodejs_compat, one SQLite-backed Durable Object class). */
async function startBoth(name, source, { agent = null } = {}) {
  const wrangler = `name = "${name}"\nmain = "index.js"\ncompatibility_date = "${COMPAT_DATE}"\n` + (agent ?
    `compatibility_flags = ["nodejs_compat"]\n[[durable_objects.bindings]]\nname = "${agent}"\nclass_name = "${agent}"\n` +
    `[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["${agent}"]\n` : "");
  const doConfig = agent ? `
  compatibilityFlags = ["nodejs_compat"],
  bindings = [ (name = "${agent}", durableObjectNamespace = "${agent}") ],
  durableObjectNamespaces = [ (className = "${agent}", uniqueKey = "compat-${agent}", enableSql = true) ],
  durableObjectStorage = (localDisk = "do-disk"),` : "";
  const dir = makeProject({
    "wrangler.toml": wrangler,
    "src.js": source,
    // workerd alone has no "cloudflare-internal:email" behind cloudflare:email (wrangler's
    // miniflare supplies it), so agents' one import of it is served by this stub, the
    // same in both bundles.
    "do-disk/.keep": "",
    "email-stub.js": "export class EmailMessage { constructor(from, to, raw) { Object.assign(this, { from, to, raw }); } }\n",
    "config.capnp": `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w)${agent ? `, (name = "do-disk", disk = (path = "do-disk", writable = true))` : ""} ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "index.js") ],
  compatibilityDate = "${COMPAT_DATE}",${doConfig}
);
`,
  });
  // With nodejs_compat, as wrangler does: Node's built-in modules are left to the runtime.
  const r = await bundle(path.join(dir, "src.js"), agent ? agentsModules : modules, path.join(dir, "index.js"),
    agent ? { external: ["node:*", ...builtinModules], alias: { "cloudflare:email": "./email-stub.js" } } : {});
  assert.deepEqual(r.errors, []);
  const [durable, workerd] = await Promise.all([startDev(dir, [], { timeoutMs: 60000 }), startWorkerd(dir)]);
  servers[name] = { durable, workerd, dir };
  return servers[name];
}

async function answer(base, req) {
  const res = await fetch(base + req.path, {
    method: req.method || "GET", headers: req.headers || {}, body: req.body, redirect: "manual",
    signal: AbortSignal.timeout(15000),
  });
  const headers = {};
  for (const h of HEADERS) if (res.headers.has(h)) headers[h] = res.headers.get(h);
  return { status: res.status, headers, body: await res.text() };
}

/** Sends each request to both runtimes in turn; asserts the answers are equal. */
async function compare(name, requests) {
  const { durable, workerd } = servers[name];
  for (const req of requests) {
    const label = `${req.method || "GET"} ${req.path} ${req.label || ""}`;
    const want = await answer(workerd.url, req);
    const got = await answer(durable.url, req);
    assert.deepEqual(got, want, `${name}: ${label}: durable differs from workerd\ndurable logs:\n${durable.logs()}`);
    if (req.status) assert.equal(want.status, req.status, `${name}: ${label}: workerd answered ${want.status}`);
  }
}

before(async () => {
  modules = npmInstall("compat");
  agentsModules = npmInstall("agents");
  const wd = npmInstall("workerd");
  workerdBin = path.join(wd, "@cloudflare", "workerd-linux-64", "bin", "workerd");
  assert.ok(fs.existsSync(workerdBin), `no workerd binary at ${workerdBin}`);
  jose = await import(pathToFileURL(path.join(modules, "jose", "dist", "webapi", "index.js")).href);
}, { timeout: 600000 });

after(async () => {
  for (const { durable, workerd, dir } of Object.values(servers)) {
    await Promise.all([durable.stop(), workerd.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("hono: routes, params, JSON, middleware header, redirect, errors and 404 answer as on workerd", async () => {
  await startBoth("hono", HONO_APP);
  await compare("hono", [
    { path: "/", status: 200 },
    { path: "/api/users/42", status: 200 },
    { path: "/api/users/%C3%A9t%C3%A9?f=a&f=b", status: 200 },
    { path: "/api/posts/intro/comments/7", status: 200 },
    { path: "/api/posts/intro/comments/seven", status: 404 },
    { path: "/api/echo", method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ a: 1, b: [true, null] }), status: 201 },
    { path: "/api/echo", method: "POST", headers: { "content-type": "application/json" }, body: "{not json", status: 400, label: "(bad JSON)" },
    { path: "/api/users/1", headers: { authorization: "Bearer no" }, status: 403 },
    { path: "/files/a/b/c.txt", status: 200 },
    { path: "/old", status: 301 },
    { path: "/html", status: 200 },
    { path: "/boom", status: 500 },
    { path: "/nowhere", status: 404 },
    { path: "/", method: "DELETE", status: 404 },
  ]);
});

test("zod: valid and invalid bodies give the same JSON as on workerd", async () => {
  await startBoth("zod", ZOD_APP);
  const post = (body, status, label) => ({ path: "/users", method: "POST", headers: { "content-type": "application/json" }, body, status, label });
  await compare("zod", [
    post(JSON.stringify({ name: "Ada", email: "ada@example.com", age: 36, tags: ["a", "c"] }), 200, "valid"),
    post(JSON.stringify({ name: "Bo", email: "bo@example.com" }), 200, "defaults"),
    post(JSON.stringify({ name: "A", email: "nope", age: -1.5 }), 422, "three issues"),
    post(JSON.stringify({ name: "Ada", email: "ada@example.com", tags: ["a", "z", "b", "c"] }), 422, "enum and max"),
    post(JSON.stringify({ name: "Ada", email: "ada@example.com", extra: 1 }), 422, "strict"),
    post(JSON.stringify([1, 2]), 422, "not an object"),
    post("{", 400, "bad JSON"),
    { path: "/users", status: 405 },
  ]);
});

test("jose: RS256, ES256 and EdDSA tokens verified against a JWK set as on workerd", async () => {
  const keys = {}, jwks = { keys: [] };
  for (const alg of ["RS256", "ES256", "EdDSA"]) {
    keys[alg] = await jose.generateKeyPair(alg, { extractable: true });
    jwks.keys.push({ ...(await jose.exportJWK(keys[alg].publicKey)), kid: `k-${alg}`, alg, use: "sig" });
  }
  await startBoth("jose", joseApp(jwks));
  const sign = async (alg, { key = keys[alg].privateKey, kid = `k-${alg}`, exp = "10m", iss = "idp", sub = `user-${alg}` } = {}) =>
    new jose.SignJWT({ sub }).setProtectedHeader({ alg, kid }).setIssuedAt().setIssuer(iss).setAudience("app")
      .setExpirationTime(exp).sign(key);
  const bearer = (token, status, label) => ({ path: "/me", headers: { authorization: `Bearer ${token}` }, status, label });
  const requests = [{ path: "/me", status: 401, label: "no token" }];
  for (const alg of ["RS256", "ES256", "EdDSA"]) {
    const other = await jose.generateKeyPair(alg);
    const good = await sign(alg);
    const [h, , s] = good.split(".");
    const forged = Buffer.from(JSON.stringify({ sub: "admin", iss: "idp", aud: "app", exp: 4102444800 })).toString("base64url");
    requests.push(
      bearer(good, 200, `${alg} valid`),
      bearer(await sign(alg, { exp: Math.floor(Date.now() / 1000) - 120 }), 401, `${alg} expired`),
      bearer(await sign(alg, { key: other.privateKey }), 401, `${alg} wrong key`),
      bearer(await sign(alg, { kid: "k-unknown" }), 401, `${alg} unknown kid`),
      bearer(`${h}.${forged}.${s}`, 401, `${alg} tampered payload`),
      bearer(good.slice(0, -4) + (good.endsWith("AAAA") ? "BBBB" : "AAAA"), 401, `${alg} tampered signature`),
      bearer(await sign(alg, { iss: "evil" }), 401, `${alg} wrong issuer`),
    );
  }
  requests.push(bearer("not.a.jwt", 401, "garbage"));
  await compare("jose", requests);
});

const AGENT_APP = `
import { Agent, routeAgentRequest } from "agents";
export class Counter extends Agent {
  initialState = { count: 0 };
  onMessage(connection, message) {
    if (message === "inc") this.setState({ count: this.state.count + 1 });
    else if (message === "state") connection.send(JSON.stringify({ echo: this.state }));
  }
}
export default {
  async fetch(request, env) {
    return (await routeAgentRequest(request, env)) ?? new Response("Not found", { status: 404 });
  },
};
`;

/** One conversation with the Counter agent over WebSockets; the transcript of
 *  what each of the two clients received, in order, and two HTTP answers. */
async function agentTranscript(srv) {
  const log = [];
  const next = async (who, c) => log.push([who, JSON.parse(await c.message(10000))]);
  const a = await connect(srv.port, "/agents/counter/one", { ms: 10000 });
  for (let i = 0; i < 3; i++) await next("a", a);
  const b = await connect(srv.port, "/agents/counter/one", { ms: 10000 });
  for (let i = 0; i < 3; i++) await next("b", b);
  a.send("inc");
  await next("a", a);
  await next("b", b);
  b.send("inc");
  await next("a", a);
  await next("b", b);
  a.send("state");
  await next("a", a);
  a.close(1000, "bye");
  b.close(1000, "bye");
  log.push(["a closed", (await a.closed()).code], ["b closed", (await b.closed()).code]);
  for (const p of ["/elsewhere", "/agents/nosuch/x"]) log.push([p, await answer(srv.url, { path: p })]);
  return log;
}

test(`agents ${AGENTS_VERSION}: an Agent's WebSocket conversation matches workerd's`, async () => {
  const { durable, workerd } = await startBoth("agent", AGENT_APP, { agent: "Counter" });
  const talk = (srv, name) => agentTranscript(srv).catch((e) => { throw new Error(`${name}: ${e.message}\nlogs:\n${srv.logs()}`); });
  const want = await talk(workerd, "workerd");
  const got = await talk(durable, "durable");
  assert.deepEqual(got, want, `durable differs from workerd\ndurable logs:\n${durable.logs()}`);
  assert.deepEqual(want.find(([, m]) => m.echo), ["a", { echo: { count: 2 } }]);
});
