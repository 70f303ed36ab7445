// Language features added to QuickJS 2021-03-27 by our patches (patches/quickjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDev, runDevExpectFailure, makeProject } from "../lib.mjs";

const toml = `name = "t"\nmain = "src/index.js"\ncompatibility_date = "2026-01-01"\n`;

test("class static blocks: run in order with static fields, this is the class, the class name is bound", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "src/index.js": `
      var __name = (t, v) => Object.defineProperty(t, "name", { value: v, configurable: true });
      const log = [];
      class A {
        static a = (log.push("field a"), 1);
        static { log.push("block 1 " + this.a); this.b = this.a + 1; }
        static c = (log.push("field c"), 3);
        static { __name(this, "Renamed"); log.push("block 2 " + typeof A); }
        static { let x = 5; const f = () => this.c + x; this.d = f(); log.push(A.name); }
        static self = A;
      }
      class B extends A { static { this.e = typeof super.a; } }
      const C = class { static { this.anon = true; } };
      class Empty { static {} }
      export default { fetch() {
        return Response.json({ log, a: A.a, b: A.b, d: A.d, name: A.name, self: A.self === A, e: B.e, anon: C.anon,
          empty: typeof Empty });
      } };`,
  });
  const srv = await startDev(dir);
  try {
    assert.deepEqual(await (await fetch(srv.url + "/")).json(), {
      log: ["field a", "block 1 1", "field c", "block 2 function", "Renamed"],
      a: 1, b: 2, d: 8, name: "Renamed", self: true, e: "number", anon: true, empty: "function",
    });
  } finally { await srv.stop(); }
});

test("class static blocks: return and arguments are syntax errors", async () => {
  for (const body of ["return 1;", "arguments;"]) {
    const dir = makeProject({
      "wrangler.toml": toml,
      "src/index.js": `class X { static { ${body} } }\nexport default { fetch() { return new Response("x"); } };`,
    });
    const r = await runDevExpectFailure(dir);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /SyntaxError/, body);
  }
});

test("#x in obj: brand checks for private fields, methods, accessors and statics", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "src/index.js": `
      class A {
        #f = 1; #m() {} get #g() { return 1; } set #s(v) {} static #sf = 2; static #sm() {}
        static has(o) { return [#f in o, #m in o, #g in o, #s in o, #sf in o, #sm in o]; }
        static viaArrow(o) { return (() => #f in o)(); }
        static precedence(o) { return #f in o === true; }
      }
      class B extends A { #b; static hasB(o) { return #b in o; } }
      let typeError = "";
      try { A.has(1); } catch (e) { typeError = e.constructor.name; }
      export default { fetch() {
        return Response.json({
          instance: A.has(new A()), plain: A.has({}), klass: A.has(A),
          proxy: A.has(new Proxy(new A(), {})), arrow: A.viaArrow(new B()),
          subclass: [B.hasB(new A()), B.hasB(new B())], precedence: A.precedence(new A()), typeError,
        });
      } };`,
  });
  const srv = await startDev(dir);
  try {
    assert.deepEqual(await (await fetch(srv.url + "/")).json(), {
      instance: [true, true, true, true, false, false],
      plain: [false, false, false, false, false, false],
      klass: [false, false, false, false, true, true],
      proxy: [false, false, false, false, false, false],
      arrow: true, subclass: [false, true], precedence: true, typeError: "TypeError",
    });
  } finally { await srv.stop(); }
});

test("#x in obj: an undeclared private name or '#x' alone is a SyntaxError", async () => {
  for (const body of ["m(o) { return #nope in o; }", "#x; m(o) { return #x; }", "#x; m(o) { return !#x in o; }"]) {
    const dir = makeProject({
      "wrangler.toml": toml,
      "src/index.js": `class X { ${body} }\nexport default { fetch() { return new Response("x"); } };`,
    });
    const r = await runDevExpectFailure(dir);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /SyntaxError/, body);
  }
});

test("WeakRef and FinalizationRegistry: deref, register/unregister and their TypeErrors", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "src/index.js": `
      const kind = (f) => { try { f(); return "ok"; } catch (e) { return e.constructor.name; } };
      export default { fetch() {
        const o = {}, w = new WeakRef(o), tok = {}, r = new FinalizationRegistry(() => {});
        class Sub extends WeakRef {}
        return Response.json({
          deref: w.deref() === o, sub: new Sub(o).deref() === o, tags: [String(w), String(r)],
          enumerable: Object.keys(globalThis).filter((k) => k === "WeakRef" || k === "FinalizationRegistry"),
          weakRefErrors: [kind(() => WeakRef(o)), kind(() => new WeakRef(1)), kind(() => new WeakRef(Symbol.for("r"))),
            kind(() => WeakRef.prototype.deref.call({})), kind(() => new WeakRef(Symbol("s")))],
          registryErrors: [kind(() => new FinalizationRegistry()), kind(() => r.register(1, 2)), kind(() => r.register(o, o)),
            kind(() => r.register(o, 1, "token")), kind(() => r.unregister(5)), kind(() => r.register.call({}, o, 1))],
          results: [r.register(o, 1), r.register(o, 2, tok), r.register({}, 3, tok), r.unregister(tok), r.unregister(tok), r.unregister({})],
        });
      } };`,
  });
  const srv = await startDev(dir);
  try {
    assert.deepEqual(await (await fetch(srv.url + "/")).json(), {
      deref: true, sub: true, tags: ["[object WeakRef]", "[object FinalizationRegistry]"], enumerable: [],
      weakRefErrors: ["TypeError", "TypeError", "TypeError", "TypeError", "ok"],
      registryErrors: ["TypeError", "TypeError", "TypeError", "TypeError", "TypeError", "TypeError"],
      results: [null, null, null, true, false, false],
    });
  } finally { await srv.stop(); }
});

// WeakRef and FinalizationRegistry (patch 0014) collect: enough garbage makes
// QuickJS's GC run during the second request; the registry's callback runs as a
// job after it, so the third request sees it.
test("WeakRef and FinalizationRegistry: a collected target, deref() undefined and the callback", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "src/index.js": `
      let w, kept; const calls = []; const r = new FinalizationRegistry((held) => calls.push(held));
      export default { fetch(req) {
        const step = new URL(req.url).pathname;
        if (step === "/make") {
          const o = { big: new Array(1000).fill(1) }; o.self = o;
          kept = { name: "kept" };
          w = [new WeakRef(o), new WeakRef(kept)];
          r.register(o, "held-o"); r.register(kept, "held-kept");
          return Response.json({ alive: w[0].deref() === o });
        }
        if (step === "/churn") {
          for (let i = 0; i < 200000; i++) { const g = { i }; g.self = g; }
          return Response.json({ collected: w[0].deref() === undefined, kept: w[1].deref()?.name ?? null });
        }
        return Response.json({ calls });
      } };`,
  });
  const srv = await startDev(dir);
  try {
    assert.deepEqual(await (await fetch(srv.url + "/make")).json(), { alive: true });
    assert.deepEqual(await (await fetch(srv.url + "/churn")).json(), { collected: true, kept: "kept" });
    assert.deepEqual(await (await fetch(srv.url + "/calls")).json(), { calls: ["held-o"] });
  } finally { await srv.stop(); }
});

test("RegExp d flag: hasIndices, flags and match.indices with groups", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "src/index.js": `
      export default { fetch() {
        const m = /a(?<z>z)?(b)(?<c>c)/d.exec("xxabc");
        const plain = /b/d.exec("ab");
        let badFlags = "";
        try { new RegExp("a", "dd"); } catch (e) { badFlags = e.constructor.name; }
        return Response.json({
          indices: m.indices, groups: m.indices.groups, zIsUndefined: "z" in m.indices.groups && m.indices.groups.z === undefined,
          plainGroups: plain.indices.groups === undefined, withoutFlag: /b/.exec("ab").indices === undefined,
          flags: /x/ygsmid.flags, ctorFlags: new RegExp("a", "gd").flags, hasIndices: [/x/d.hasIndices, /x/.hasIndices],
          matchAll: [..."a1b2".matchAll(/\\d/dg)].map((x) => x.indices[0]),
          unicode: /é(.)/du.exec("xé😀").indices, badFlags,
        });
      } };`,
  });
  const srv = await startDev(dir);
  try {
    assert.deepEqual(await (await fetch(srv.url + "/")).json(), {
      indices: [[2, 5], null, [3, 4], [4, 5]], groups: { c: [4, 5] }, zIsUndefined: true,
      plainGroups: true, withoutFlag: true,
      flags: "dgimsy", ctorFlags: "dg", hasIndices: [true, false],
      matchAll: [[1, 2], [3, 4]], unicode: [[1, 4], [2, 4]], badFlags: "SyntaxError",
    });
  } finally { await srv.stop(); }
});

// RegExp v flag (patches 0013 and 0016): set operations on classes, strings in
// \q{...}, case folding before complement; what stays unsupported throws a
// SyntaxError with its own message. Expected answers are Node 20's (V8).
test("RegExp v flag: difference, intersection, nested classes, \\q, flags and its SyntaxErrors", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "src/index.js": String.raw`
      const err = (f) => { try { f(); return "ok"; } catch (e) { return e.constructor.name + ": " + e.message; } };
      export default { fetch() {
        return Response.json({
          consonants: "hello world".replace(/[[a-z]--[aeiou]]/gv, "_"),
          asciiLetters: [/[\p{L}&&\p{ASCII}]/v.test("e"), /[\p{L}&&\p{ASCII}]/v.test("é")],
          nested: [/^[^[a-c][x-z]]$/v.test("d"), /^[^[a-c][x-z]]$/v.test("y"), /[\d--[0-4]]/v.test("3"), /[\d--[0-4]]/v.test("7")],
          q: [/^[\q{a|b}x]$/v.test("b"), /^[\q{a|b}x]$/v.test("c")],
          strings: ["zabcx".match(/[\q{abc|d}x]/v)[0], "abc".match(/[\q{a|ab|abc}]/v)[0], "abcd".replace(/[[\q{ab|cd}]--\q{ab}]/gv, "_"),
            "xAB".match(/[\q{ab}]/iv)[0], /(?<=[\q{ab|c}])x/v.exec("abx").index, "ab".match(/[\q{}]/v).index,
            "\u{1F1EB}\u{1F1F7}!".replace(/[\q{\u{1F1EB}\u{1F1F7}|\u{1F1E9}\u{1F1EA}}]/gv, "flag")],
          folded: [/[^k]/iv.test("K"), /\P{Ll}/iv.test("a"), /[^\P{Ll}]/iv.test("A"), /\p{Lu}/iv.test("a"), /[\W]/iv.test("S"), /[^\W]/iv.test("\u017f")],
          escapes: [/[\-\&]/v.test("&"), /[[a-z]&&[^aeiou]]/iv.test("B")],
          astral: "😀a".match(/./gv).length, emoji: /[\p{Emoji}--\p{ASCII}]/v.test("😀"),
          named: /(?<x>[[a-z]--[b]])/v.exec("b a").groups.x,
          flags: [/x/v.flags, /x/dgimsvy.flags, new RegExp("a", "gv").flags, String(/[a]/v)],
          unicodeSets: [/x/v.unicodeSets, /x/v.unicode, /x/u.unicodeSets],
          errors: [err(() => new RegExp("x", "uv")), err(() => new RegExp("x", "vv")),
            err(() => new RegExp("[\\p{RGI_Emoji}]", "v")), err(() => new RegExp("[^\\q{abc}]", "v")),
            err(() => new RegExp("[^[^\\q{}]]", "v")), err(() => new RegExp("[".repeat(100000), "v")),
            err(() => new RegExp("[a-z--b]", "v")), err(() => new RegExp("[(]", "v")), err(() => new RegExp("[a&&&b]", "v"))],
        });
      } };`,
  });
  const srv = await startDev(dir);
  try {
    assert.deepEqual(await (await fetch(srv.url + "/")).json(), {
      consonants: "_e__o _o___",
      asciiLetters: [true, false],
      nested: [true, false, false, true],
      q: [true, false],
      strings: ["abc", "abc", "ab_", "AB", 2, 0, "flag!"],
      folded: [false, false, true, true, false, true],
      escapes: [true, true],
      astral: 2, emoji: true,
      named: "a",
      flags: ["v", "dgimsvy", "gv", "/[a]/v"],
      unicodeSets: [true, false, false],
      errors: ["SyntaxError: invalid regular expression flags", "SyntaxError: invalid regular expression flags",
        "SyntaxError: unsupported property of strings \\p{RGI_Emoji} (RegExp v flag)",
        "SyntaxError: negated character class may contain strings",
        "SyntaxError: negated character class may contain strings",
        "SyntaxError: stack overflow",
        "SyntaxError: mixed set operations in character class need nested brackets (RegExp v flag)",
        "SyntaxError: invalid character '(' in character class (RegExp v flag)",
        "SyntaxError: invalid character sequence '&&&' in character class (RegExp v flag)"],
    });
  } finally { await srv.stop(); }
});

// RegExp i classes (patch 0018): a class is case folded for every character,
// not only a-z, before [^...] complements it. Expected answers are Node 20's (V8).
test("RegExp i classes: Unicode ranges, \\p{Lu}, complements, Kelvin sign and long s", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "src/index.js": String.raw`
      export default { fetch() {
        return Response.json({
          iu: [/[A-Z]/iu.test("a"), /[\u00c0]/iu.test("\u00e0"), /\p{Lu}/iu.test("a"), /[\u0410-\u042F]/iu.test("\u044f"),
            /[a-z]/iu.test("\u212a"), /\u212a/iu.test("k"), /[^A-Z]/iu.test("a"), /[^\p{Lu}]/iu.test("a"), /\P{Lu}/iu.test("A"),
            /[s]/iu.test("\u017f"), /\W/iu.test("\u017f"), /[^\W]/iu.test("\u212a")],
          i: [/[A-Z]/i.test("a"), /[\u00e0]/i.test("\u00c0"), /[\u0430-\u044f]/i.test("\u042f"), /[a-z]/i.test("\u212a"), /[^\u00e0]/i.test("\u00c0")],
          replaced: "\u041f\u0440\u0438\u0432\u0435\u0442 World".replace(/[\u0430-\u044f]+/giu, "_"),
        });
      } };`,
  });
  const srv = await startDev(dir);
  try {
    assert.deepEqual(await (await fetch(srv.url + "/")).json(), {
      iu: [true, true, true, true, true, true, false, false, true, true, false, true],
      i: [true, true, true, false, false],
      replaced: "_ World",
    });
  } finally { await srv.stop(); }
});

// Top-level await (patch 0012): the load waits for the main module's evaluation
// before it reads `export default` and the Durable Object classes.
test("top-level await: awaited values, await import(), importers wait, a Durable Object class after an await", async () => {
  const dir = makeProject({
    "wrangler.toml": toml + `[[durable_objects.bindings]]\nname = "C"\nclass_name = "Counter"\n` +
      `[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Counter"]\n`,
    "src/log.js": `export const log = [];`,
    "src/config.js": `
      import { log } from "./log.js";
      log.push("config start");
      export const config = await new Promise((r) => Promise.resolve().then(() => r({ greeting: "hi" })));
      log.push("config end");`,
    "src/other.js": `import { log } from "./log.js"; log.push("other"); export const z = await Promise.resolve(3);`,
    "src/index.js": `
      import { log } from "./log.js";
      import { config } from "./config.js";
      log.push("main " + config.greeting);
      const x = await Promise.resolve(1);
      const other = await import("./other.js");
      for await (const v of [Promise.resolve("for await")]) log.push(v);
      export class Counter {
        constructor(state) { this.state = state; }
        fetch() { return new Response(String(x + other.z)); }
      }
      export default { async fetch(req, env) {
        if (new URL(req.url).pathname === "/do") return env.C.get(env.C.idFromName("a")).fetch(req);
        return Response.json({ x, z: other.z, log });
      } };`,
  });
  const srv = await startDev(dir);
  try {
    assert.deepEqual(await (await fetch(srv.url + "/")).json(), {
      x: 1, z: 3, log: ["config start", "config end", "main hi", "other", "for await"],
    });
    assert.equal(await (await fetch(srv.url + "/do")).text(), "4");
  } finally { await srv.stop(); }
});

test("top-level await: a rejection fails the load with its error, as a throw does", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "src/bad.js": `await null;\nthrow new RangeError("config is missing");`,
    "src/index.js": `import "./bad.js";\nexport default { fetch() { return new Response("x"); } };`,
  });
  const r = await runDevExpectFailure(dir);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /src\/index\.js failed to load:\nRangeError: config is missing\n\s+at .*src\/bad\.js:2/);
});

test("top-level await: an await nothing settles (a promise never resolved, a timer) fails the load, naming the module", async () => {
  for (const body of ["await new Promise(() => {});", "await new Promise((r) => setTimeout(r, 10));"]) {
    const dir = makeProject({
      "wrangler.toml": toml,
      "src/stuck.js": body,
      "src/index.js": `import "./stuck.js";\nexport default { fetch() { return new Response("x"); } };`,
    });
    const r = await runDevExpectFailure(dir);
    assert.notEqual(r.code, 0, body);
    assert.match(r.stderr, /src\/index\.js failed to load:\nTypeError: top-level await did not settle: \S*src\/stuck\.js waits for a promise that nothing will resolve/, body);
  }
});

test("top-level await: await in a function that is not async stays a SyntaxError", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "src/index.js": `function f() { await 1; }\nexport default { fetch() { return new Response("x"); } };`,
  });
  const r = await runDevExpectFailure(dir);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /SyntaxError: unexpected 'await' keyword/);
});

test("top-level await: the CPU limit applies to the code after an await", async () => {
  const dir = makeProject({
    "wrangler.toml": toml,
    "src/index.js": `await null;\nfor (;;) {}\nexport default { fetch() { return new Response("x"); } };`,
  });
  const r = await runDevExpectFailure(dir, ["--cpu-ms", "200"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /src\/index\.js failed to load:\nInternalError: interrupted/);
});
