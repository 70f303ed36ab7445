// What a user sees when their Worker goes wrong (spec WRK-4..7, WRK-30, WRK-31).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDev, runDevExpectFailure, makeProject } from "../lib.mjs";

const toml = (main = "index.js") => `name = "t"\nmain = "${main}"\ncompatibility_date = "2026-01-01"\n`;

test("an exception in the handler: 500 'Internal Server Error', logged with its stack", async () => {
  const dir = makeProject({
    "wrangler.toml": toml(),
    "index.js": `function deep() { throw new RangeError("boom at depth"); }
      export default { fetch(req) { if (new URL(req.url).pathname === "/ok") return new Response("ok"); deep(); } };`,
  });
  const srv = await startDev(dir);
  try {
    const r = await fetch(srv.url + "/x");
    assert.equal(r.status, 500);
    const body = await r.text();
    assert.equal(body, "Internal Server Error");
    assert.ok(!body.includes("boom"));
    await srv.waitForLog(/RangeError: boom at depth[\s\S]*deep/);
    assert.equal((await fetch(srv.url + "/ok")).status, 200, "still serving");
  } finally { await srv.stop(); }
});

test("a rejected promise and a non-Response value both give 500 with an explanation", async () => {
  const dir = makeProject({
    "wrangler.toml": toml(),
    "index.js": `export default { async fetch(req) {
        const p = new URL(req.url).pathname;
        if (p === "/reject") throw new TypeError("async failure");
        if (p === "/string") return "not a response";
        if (p === "/object") return { status: 200 };
        return undefined; } };`,
  });
  const srv = await startDev(dir);
  try {
    assert.equal((await fetch(srv.url + "/reject")).status, 500);
    await srv.waitForLog(/TypeError: async failure/);
    assert.equal((await fetch(srv.url + "/string")).status, 500);
    await srv.waitForLog(/string/);
    assert.equal((await fetch(srv.url + "/object")).status, 500);
    assert.equal((await fetch(srv.url + "/undef")).status, 500);
    await srv.waitForLog(/undefined/);
  } finally { await srv.stop(); }
});

test("no fetch handler: 500 and the Cloudflare message", async () => {
  const dir = makeProject({ "wrangler.toml": toml(), "index.js": `export default {};` });
  const srv = await startDev(dir);
  try {
    assert.equal((await fetch(srv.url + "/")).status, 500);
    await srv.waitForLog(/Handler does not export a fetch\(\) function/);
  } finally { await srv.stop(); }
});

test("a syntax error stops durable dev with file, line and message", async () => {
  const dir = makeProject({ "wrangler.toml": toml(), "index.js": `export default {\n  fetch() {\n    return new Response("x"\n  }\n};\n` });
  const { code, stderr } = await runDevExpectFailure(dir);
  assert.equal(code, 1);
  assert.match(stderr, /SyntaxError/);
  assert.match(stderr, /index\.js:\d+/);
});

test("an exception at module load stops durable dev with the error", async () => {
  const dir = makeProject({ "wrangler.toml": toml(), "index.js": `import "./lib.js";\nexport default { fetch() { return new Response("x"); } };`,
    "lib.js": `\nthrow new Error("failed while loading");\n` });
  const { code, stderr } = await runDevExpectFailure(dir);
  assert.equal(code, 1);
  assert.match(stderr, /Error: failed while loading/);
  assert.match(stderr, /lib\.js:2/);
});

test("a handler that never settles gets a 500 after the request timeout", async () => {
  const dir = makeProject({ "wrangler.toml": toml(), "index.js": `export default { fetch() { return new Promise(() => {}); } };` });
  const srv = await startDev(dir, ["--request-timeout-ms", "300"]);
  try {
    const r = await fetch(srv.url + "/");
    assert.equal(r.status, 500);
    await srv.waitForLog(/did not produce a response within 300 ms/);
  } finally { await srv.stop(); }
});

test("the CPU limit aborts a runaway handler (503) and the server keeps serving", async () => {
  const dir = makeProject({ "wrangler.toml": toml(), "index.js": `export default { async fetch(req) {
      if (new URL(req.url).pathname === "/spin") { for (;;) {} }
      return new Response("alive"); } };` });
  const srv = await startDev(dir, ["--cpu-ms", "200"]);
  try {
    assert.equal((await fetch(srv.url + "/spin")).status, 503);
    await srv.waitForLog(/CPU limit of 200 ms/);
    const r = await fetch(srv.url + "/");
    assert.equal(await r.text(), "alive");
  } finally { await srv.stop(); }
});

test("the memory limit fails the request (500) and the server keeps serving", async () => {
  const dir = makeProject({ "wrangler.toml": toml(), "index.js": `export default { fetch(req) {
      if (new URL(req.url).pathname === "/hog") { const a = []; for (;;) a.push(new Array(100000).fill(1)); }
      return new Response("alive"); } };` });
  const srv = await startDev(dir, ["--memory-mb", "32"]);
  try {
    assert.equal((await fetch(srv.url + "/hog")).status, 500);
    await srv.waitForLog(/out of memory/);
    assert.equal(await (await fetch(srv.url + "/")).text(), "alive");
  } finally { await srv.stop(); }
});

test("a missing config and a missing main are clear startup errors", async () => {
  const empty = makeProject({ "README": "nothing" });
  let r = await runDevExpectFailure(empty);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /wrangler\.(toml|json)/);
  const nomain = makeProject({ "wrangler.toml": toml("missing.js") });
  r = await runDevExpectFailure(nomain);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /missing\.js/);
});
