// The engine under hostile or careless Worker code (issue 8 items 5, 6, 14, 27 and
// the Date fidelity item): deep values are a RangeError and never take the process
// down, a backtracking regex stops at the CPU limit, eval and new Function are
// refused at request time, stacks name the line, Date prints its zone as workerd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";

const toml = `name = "t"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`;

const nested = (depth) => "[".repeat(depth) + "]".repeat(depth);

test("deep JSON and deep values are a RangeError, and the process keeps serving", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "index.js": `
      const deep = (n) => { let o = []; for (let i = 0; i < n; i++) o = [o]; return o; };
      const name = (f) => { try { f(); return "no error"; } catch (e) { return e.name + ": " + e.message; } };
      export default {
        async fetch(req) {
          const p = new URL(req.url).pathname;
          if (p === "/echo") return Response.json(await req.json());
          if (p === "/caught") {
            const v = deep(100000);
            return Response.json({
              stringify: name(() => JSON.stringify(v)),
              parse: name(() => JSON.parse("[".repeat(1000000))),
              clone: name(() => structuredClone(v)),
              recursion: name(() => { const r = () => r() + 1; r(); }),
            });
          }
          if (p === "/console") {
            console.dir(deep(100000), { depth: null });
            console.log(deep(100000));
            console.log("console done");
            return new Response("logged");
          }
          return new Response("ok");
        },
      };`,
  });
  const srv = await startDev(dir);
  try {
    // The request: 30,000 levels posted and echoed with Response.json.
    const r = await fetch(srv.url + "/echo", { method: "POST", body: nested(30000) });
    assert.equal(r.status, 500);
    await srv.waitForLog(/RangeError: Maximum call stack size exceeded/);
    // A depth that fits is echoed unchanged.
    const ok = await fetch(srv.url + "/echo", { method: "POST", body: nested(1000) });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), nested(1000));

    const c = await (await fetch(srv.url + "/caught")).json();
    assert.equal(c.stringify, "RangeError: Maximum call stack size exceeded");
    assert.equal(c.parse, "RangeError: Maximum call stack size exceeded");
    assert.match(c.clone, /^RangeError: structured clone: value nested more than \d+ levels deep/);
    assert.equal(c.recursion, "RangeError: Maximum call stack size exceeded");

    const l = await fetch(srv.url + "/console");
    assert.equal(await l.text(), "logged");
    await srv.waitForLog(/console done/);

    assert.equal(await (await fetch(srv.url + "/")).text(), "ok", "still serving");
    assert.equal(srv.proc.exitCode, null);
    assert.equal(srv.proc.signalCode, null);
  } finally { await srv.stop(); }
});

test("a backtracking regex stops at the CPU limit and the shard serves the next request", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "index.js": `export default {
      fetch(req) {
        const p = new URL(req.url).pathname;
        if (p === "/regex") return new Response(String(/(a+)+$/.test("a".repeat(30) + "b")));
        // patch 0016: a v-flag class with strings is an alternation, as exposed
        if (p === "/regex-v") return new Response(String(/^(?:[\\q{a|aa|}])+$/v.test("a".repeat(30) + "b")));
        if (p === "/caught") {
          try { /(a+)+$/.exec("a".repeat(30) + "b"); } catch (e) { return new Response("caught " + e); }
          return new Response("finished");
        }
        return new Response("ok");
      } };`,
  });
  const srv = await startDev(dir, ["--cpu-ms", "300"]);
  try {
    for (const path of ["/regex", "/regex-v", "/caught"]) {
      // Unpatched, this match runs for about a minute; the limit stops it.
      const r = await fetch(srv.url + path, { signal: AbortSignal.timeout(30000) });
      assert.equal(r.status, 503, path);
      await r.text();
    }
    await srv.waitForLog(/GET \/regex: the handler ran past the CPU limit of 300 ms and was aborted/);
    assert.equal(await (await fetch(srv.url + "/")).text(), "ok");
  } finally { await srv.stop(); }
});

test("eval and new Function: allowed at startup, EvalError at request time", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "index.js": `
      const atStartup = eval("6 * 7") + new Function("return 1")();
      const attempt = (f) => { try { f(); return "allowed"; } catch (e) { return e.name + ": " + e.message; } };
      export default {
        fetch() {
          return Response.json({
            atStartup,
            eval: attempt(() => eval("1 + 1")),
            indirect: attempt(() => (0, eval)("1 + 1")),
            newFunction: attempt(() => new Function("return 1")),
            Function: attempt(() => Function("return this")),
            async: attempt(() => (async () => {}).constructor("await 1")),
            generator: attempt(() => (function* () {}).constructor("yield 1")),
            timer: attempt(() => setTimeout("globalThis.x = 1", 0)),
            evalNumber: eval(7),
            emptyFunction: typeof new Function(),
          });
        } };`,
  });
  const srv = await startDev(dir);
  try {
    const got = await (await fetch(srv.url + "/")).json();
    const refused = "EvalError: Code generation from strings disallowed for this context";
    assert.equal(got.atStartup, 43);
    for (const k of ["eval", "indirect", "newFunction", "Function", "async", "generator"])
      assert.equal(got[k], refused, k);
    assert.match(got.timer, /^TypeError: setTimeout: parameter 1 is not of type 'Function'/);
    assert.equal(got.evalNumber, 7);
    assert.equal(got.emptyFunction, "function");
  } finally { await srv.stop(); }
});

test("uncaught errors are logged with line numbers, one-line functions included", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "index.js": [
      `const helper = () => { throw new TypeError("from helper"); };`,
      `export default {`,
      `  fetch(req) {`,
      `    if (new URL(req.url).pathname === "/helper") helper();`,
      `    throw new Error("from fetch");`,
      `  },`,
      `};`,
    ].join("\n"),
  });
  const srv = await startDev(dir);
  try {
    assert.equal((await fetch(srv.url + "/")).status, 500);
    await srv.waitForLog(/Error: from fetch\n\s+at fetch \(\S*index\.js:5\)/);
    assert.equal((await fetch(srv.url + "/helper")).status, 500);
    await srv.waitForLog(/TypeError: from helper\n\s+at helper \(\S*index\.js:1\)\n\s+at fetch \(\S*index\.js:4\)/);
  } finally { await srv.stop(); }
});

test("a Worker whose handler is written on one line gets the line in its stack", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "index.js": `export default { fetch() { throw new Error("one line"); } };\n`,
  });
  const srv = await startDev(dir);
  try {
    assert.equal((await fetch(srv.url + "/")).status, 500);
    await srv.waitForLog(/Error: one line\n\s+at fetch \(\S*index\.js:1\)/);
  } finally { await srv.stop(); }
});

test("Date is UTC whatever TZ says, and toString names the zone as workerd does", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "index.js": `export default { fetch() {
      const d = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
      return Response.json({ s: d.toString(), t: d.toTimeString(), h: d.getHours(), o: d.getTimezoneOffset(),
                             e: String(new Date(0)) });
    } };`,
  });
  const srv = await startDev(dir, [], { env: { TZ: "Asia/Tokyo" } });
  try {
    const got = await (await fetch(srv.url + "/")).json();
    assert.deepEqual(got, {
      s: "Fri Jan 02 2026 03:04:05 GMT+0000 (Coordinated Universal Time)",
      t: "03:04:05 GMT+0000 (Coordinated Universal Time)",
      h: 3,
      o: 0,
      e: "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)",
    });
  } finally { await srv.stop(); }
});

test("long and many-segment URLs parse without recursion limits", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "index.js": `export default { fetch() {
      const dots = new URL("http://x/" + "a/".repeat(50000) + "../".repeat(50000) + "end");
      const q = new URLSearchParams("k=v&".repeat(50000));
      const nested = new URL("http://x/?" + "[".repeat(100000));
      return Response.json({ dots: dots.href, params: [...q].length, search: nested.search.length });
    } };`,
  });
  const srv = await startDev(dir);
  try {
    const got = await (await fetch(srv.url + "/")).json();
    assert.deepEqual(got, { dots: "http://x/end", params: 50000, search: 100001 });
  } finally { await srv.stop(); }
});
