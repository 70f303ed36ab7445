// node:http / node:https clients under nodejs_compat (issue 10; docs/nodejs.md):
// request() and get() on fetch(), against a server of the test's own on
// 127.0.0.1, from compatibility date 2025-08-15 as on Cloudflare.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { makeProject, startDev, runDevExpectFailure } from "../lib.mjs";

let up, upUrl, srv;
before(async () => {
  up = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      if (req.url === "/missing") { res.writeHead(404, { "content-type": "text/plain" }); res.end("nope"); return; }
      res.setHeader("set-cookie", ["a=1", "b=2"]);
      res.setHeader("x-echo-method", req.method);
      res.end(JSON.stringify({ method: req.method, url: req.url, body, auth: req.headers.authorization ?? null, x: req.headers["x-test"] ?? null }));
    });
  });
  await new Promise((r) => up.listen(0, "127.0.0.1", r));
  upUrl = `http://127.0.0.1:${up.address().port}`;
  const dir = makeProject({
    "wrangler.toml": `name = "h"\nmain = "src/index.js"\ncompatibility_date = "2025-08-15"\ncompatibility_flags = ["nodejs_compat"]\n`,
    "src/index.js": `import http from "node:http"; import https from "node:https";
      const collect = (res) => new Promise((ok, bad) => { let s = ""; res.setEncoding("utf8"); res.on("data", (c) => s += c); res.on("end", () => ok(s)); res.on("error", bad); });
      export default { async fetch(req) {
        const up = new URL(req.url).searchParams.get("up");
        const r = {};
        r.get = await new Promise((ok, bad) => http.get(up + "/path?q=1", async (res) => {
          ok({ status: res.statusCode, message: res.statusMessage, cookies: res.headers["set-cookie"], method: res.headers["x-echo-method"], body: JSON.parse(await collect(res)) });
        }).on("error", bad));
        r.post = await new Promise((ok, bad) => {
          const u = new URL(up);
          const q = http.request({ hostname: u.hostname, port: u.port, path: "/submit", method: "POST", auth: "user:pw", headers: { "X-Test": "yes" } }, async (res) => ok(JSON.parse(await collect(res))));
          q.on("error", bad);
          q.write("part1,");
          q.end("part2");
        });
        r.notFound = await new Promise((ok) => http.get(up + "/missing", async (res) => ok([res.statusCode, res.statusMessage, await collect(res)])));
        r.refused = await new Promise((ok) => http.get("http://127.0.0.1:1/", () => ok("response")).on("error", (e) => ok(typeof e.message)));
        try { http.request("https://example.com/"); r.proto = "no error"; } catch (e) { r.proto = e.code; }
        try { http.createServer(); r.server = "no error"; } catch (e) { r.server = e.code; }
        r.consts = [http.STATUS_CODES[418], http.METHODS.includes("PATCH"), typeof https.request, typeof new http.Agent().destroy];
        try { http.validateHeaderName("bad header"); r.badHeader = "no error"; } catch (e) { r.badHeader = e.code; }
        return Response.json(r);
      } };`,
  });
  srv = await startDev(dir);
});
after(async () => { await srv?.stop(); await new Promise((r) => up.close(r)); });

test("node:http: get and request (POST body, auth, headers) through fetch; errors and constants", async () => {
  const r = await (await fetch(`${srv.url}/?up=${encodeURIComponent(upUrl)}`)).json();
  assert.deepEqual(r, {
    get: { status: 200, message: "OK", cookies: ["a=1", "b=2"], method: "GET",
      body: { method: "GET", url: "/path?q=1", body: "", auth: null, x: null } },
    post: { method: "POST", url: "/submit", body: "part1,part2", auth: "Basic " + Buffer.from("user:pw").toString("base64"), x: "yes" },
    notFound: [404, "Not Found", "nope"],
    refused: "string",
    proto: "ERR_INVALID_PROTOCOL",
    server: "ERR_METHOD_NOT_IMPLEMENTED",
    consts: ["I'm a Teapot", true, "function", "function"],
    badHeader: "ERR_INVALID_HTTP_TOKEN",
  });
});

test("node:http needs compatibility date 2025-08-15 (or enable_nodejs_http_modules)", async () => {
  const old = makeProject({
    "wrangler.toml": `name = "h"\nmain = "src/index.js"\ncompatibility_date = "2025-08-14"\ncompatibility_flags = ["nodejs_compat"]\n`,
    "src/index.js": `import http from "node:http"; export default { fetch() { return new Response(String(http)); } };`,
  });
  const r = await runDevExpectFailure(old);
  assert.match(r.stderr, /No such module "node:http": durable does not provide this Node\.js module/);
});
