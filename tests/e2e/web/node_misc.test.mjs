// node:timers, node:timers/promises, node:querystring, node:punycode, node:module,
// node:stream/consumers, and the import-only stubs Cloudflare provides (node:net,
// node:tls, node:child_process, node:worker_threads, node:vm…), under nodejs_compat
// (issue 10; docs/nodejs.md). Expected values are what Node itself answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeCases } from "./node_cases.mjs";

const cases = {
  timers: `
    const t = await import("node:timers");
    const tp = await import("node:timers/promises");
    const r = {};
    r.order = await new Promise((res) => {
      const seen = [];
      const h = t.setTimeout((a) => seen.push("timeout:" + a), 1, "x");
      r.timeoutObject = [typeof h, typeof h.ref, h.hasRef(), h.unref().hasRef(), typeof +h];
      const cleared = t.setTimeout(() => seen.push("cleared"), 1);
      t.clearTimeout(cleared);
      t.setImmediate((a) => seen.push("immediate:" + a), "y");
      let n = 0;
      const iv = t.setInterval(() => { seen.push("interval"); if (++n === 2) { t.clearInterval(iv); setTimeout(() => res(seen), 5); } }, 2);
    });
    r.promise = await tp.setTimeout(1, "value");
    r.immediate = await tp.setImmediate("now");
    const ac = new AbortController();
    const p = tp.setTimeout(10000, "late", { signal: ac.signal });
    ac.abort();
    r.aborted = await p.then(() => "resolved", (e) => [e.name, e.code]);
    const got = [];
    for await (const v of tp.setInterval(1, "tick")) { got.push(v); if (got.length === 3) break; }
    r.interval = got;
    await tp.scheduler.wait(1);
    r.same = t.promises === t.default.promises && typeof t.default.setTimeout;
    try { t.setTimeout("code", 1); r.badCb = "no error"; } catch (e) { r.badCb = e.code; }
    return r;`,
  querystring: `
    const qs = (await import("node:querystring")).default;
    const { parse } = await import("querystring");
    return {
      parse: { ...qs.parse("a=1&b=x+y&a=2&c&d=%E2%82%AC&e=%zz") },
      proto: Object.getPrototypeOf(parse("a=1")),
      stringify: qs.stringify({ a: [1, 2], b: "x y!", c: true, d: null, e: {}, f: "€" }),
      escape: qs.escape("a b&é"),
      unescape: qs.unescape("%41%zz"),
      seps: { ...qs.parse("a:1;b:2", ";", ":") },
      aliases: qs.decode === qs.parse && qs.encode === qs.stringify,
      maxKeys: Object.keys(qs.parse("a=1&b=2&c=3", null, null, { maxKeys: 2 })),
    };`,
  punycode: `
    const p = (await import("node:punycode")).default;
    return [p.encode("mañana"), p.decode("maana-pta"), p.toASCII("mañana.com"), p.toUnicode("xn--maana-pta.com"),
            p.toASCII("☃-⌘.com"), p.toUnicode("xn----dqo34k.com"), p.encode("ü"), p.ucs2.decode("a😀"),
            p.toASCII("bücher@例え.テスト"), p.ucs2.encode([97, 128512]),
            (() => { try { p.decode("\\u00ff-"); return "no error"; } catch (e) { return e.name; } })()];`,
  module: `
    const m = await import("node:module");
    const require = m.createRequire(import.meta.url);
    const r = {};
    r.buffer = require("node:buffer").Buffer === Buffer && require("buffer").Buffer === Buffer;
    r.path = require("path").join("/a", "b");
    r.isBuiltin = [m.isBuiltin("node:zlib"), m.isBuiltin("fs-extra"), m.builtinModules.includes("events")];
    try { require("left-pad"); r.missing = "no error"; } catch (e) { r.missing = e.code; }
    const c = await import("node:stream/consumers");
    const { Readable } = await import("node:stream");
    r.text = await c.text(Readable.from(["a", "b"]));
    r.json = await c.json(new Response('{"x":1}').body);
    r.web = (await import("node:stream/web")).ReadableStream === ReadableStream;
    return r;`,
  stubs: `
    const names = ["net", "tls", "child_process", "cluster", "dgram", "dns", "dns/promises", "worker_threads", "vm",
      "inspector", "readline", "repl", "tty", "v8", "trace_events", "wasi", "domain", "http2", "perf_hooks"];
    const r = { types: {} };
    for (const n of names) r.types[n] = typeof (await import("node:" + n)).default;
    const grab = (f) => { try { f(); return "no error"; } catch (e) { return [e.code, e.message]; } };
    const cp = await import("node:child_process");
    const net = await import("node:net");
    const wt = await import("node:worker_threads");
    const vm = await import("node:vm");
    r.exec = grab(() => cp.execSync("id"));
    r.spawn = grab(() => cp.default.spawn("sh"));
    r.connect = grab(() => net.connect(80, "example.com"));
    r.socket = grab(() => new net.Socket());
    r.isIP = [net.isIP("1.2.3.4"), net.isIP("::1"), net.isIP("256.1.1.1"), net.isIPv6("fe80::1%eth0"), net.isIP("x")];
    r.worker = [wt.isMainThread, wt.parentPort, grab(() => new wt.Worker("./w.js"))[0]];
    r.vm = grab(() => vm.runInNewContext("1+1"));
    r.tty = (await import("node:tty")).isatty(1);
    r.tlsConnect = grab(() => (await_tls).connect(443));
    return r;`,
};
// tls is imported at the top of the Worker (a static import of a stub works too)
cases.stubs = cases.stubs.replace("(await_tls)", "tlsStatic");

const { run } = nodeCases(cases, { top: `import tlsStatic from "node:tls";` });

test("node:timers and node:timers/promises", async () => {
  const out = await run("timers");
  assert.deepEqual(out.timeoutObject, ["object", "function", true, false, "number"]);
  assert.ok(out.order.includes("timeout:x") && out.order.includes("immediate:y"), JSON.stringify(out.order));
  assert.ok(!out.order.includes("cleared"));
  assert.equal(out.order.filter((s) => s === "interval").length, 2);
  assert.equal(out.promise, "value");
  assert.equal(out.immediate, "now");
  assert.deepEqual(out.aborted, ["AbortError", "ABORT_ERR"]);
  assert.deepEqual(out.interval, ["tick", "tick", "tick"]);
  assert.equal(out.same, "function");
  assert.equal(out.badCb, "ERR_INVALID_ARG_TYPE");
});

test("node:querystring parses, stringifies and escapes as Node does", async () => {
  assert.deepEqual(await run("querystring"), {
    parse: { a: ["1", "2"], b: "x y", c: "", d: "€", e: "%zz" },
    proto: null,
    stringify: "a=1&a=2&b=x%20y!&c=true&d=&e=&f=%E2%82%AC",
    escape: "a%20b%26%C3%A9",
    unescape: "A%zz",
    seps: { a: "1", b: "2" },
    aliases: true,
    maxKeys: ["a", "b"],
  });
});

test("node:punycode encodes and decodes labels and domains (RFC 3492)", async () => {
  assert.deepEqual(await run("punycode"), ["maana-pta", "mañana", "xn--maana-pta.com", "mañana.com",
    "xn----dqo34k.com", "☃-⌘.com", "tda", [97, 128512], "bücher@xn--r8jz45g.xn--zckzah", "a😀", "RangeError"]);
});

test("node:module createRequire loads built-ins; node:stream/consumers and node:stream/web", async () => {
  assert.deepEqual(await run("module"), {
    buffer: true, path: "/a/b", isBuiltin: [true, false, true], missing: "MODULE_NOT_FOUND",
    text: "ab", json: { x: 1 }, web: true,
  });
});

test("Cloudflare's import-only stubs load; their functions throw ERR_METHOD_NOT_IMPLEMENTED", async () => {
  const out = await run("stubs");
  for (const n of ["net", "tls", "child_process", "cluster", "dgram", "dns", "dns/promises", "worker_threads", "vm",
    "inspector", "readline", "repl", "tty", "v8", "trace_events", "wasi", "domain", "http2", "perf_hooks"])
    assert.equal(out.types[n], "object", n);
  assert.deepEqual(out.exec, ["ERR_METHOD_NOT_IMPLEMENTED", "The child_process.execSync method is not implemented"]);
  assert.deepEqual(out.spawn, ["ERR_METHOD_NOT_IMPLEMENTED", "The child_process.spawn method is not implemented"]);
  assert.deepEqual(out.connect, ["ERR_METHOD_NOT_IMPLEMENTED", "The net.connect method is not implemented"]);
  assert.deepEqual(out.socket, ["ERR_METHOD_NOT_IMPLEMENTED", "The net.Socket method is not implemented"]);
  assert.deepEqual(out.isIP, [4, 6, 0, true, 0]);
  assert.deepEqual(out.worker, [true, null, "ERR_METHOD_NOT_IMPLEMENTED"]);
  assert.deepEqual(out.vm, ["ERR_METHOD_NOT_IMPLEMENTED", "The vm.runInNewContext method is not implemented"]);
  assert.equal(out.tty, false);
  assert.deepEqual(out.tlsConnect, ["ERR_METHOD_NOT_IMPLEMENTED", "The tls.connect method is not implemented"]);
});
