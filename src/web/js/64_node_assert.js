// node:assert and node:assert/strict (nodejs_compat; docs/nodejs.md).
(() => {
  "use strict";
  const N = globalThis.__durable;
  const show = (v) => { try { return N.inspect(v); } catch { return String(v); } };

  class AssertionError extends Error {
    constructor(o = {}) {
      super(o.message !== undefined ? String(o.message)
        : `${show(o.actual)} ${o.operator || "=="} ${show(o.expected)}`);
      this.name = "AssertionError";
      this.code = "ERR_ASSERTION";
      this.actual = o.actual;
      this.expected = o.expected;
      this.operator = o.operator;
      this.generatedMessage = o.message === undefined;
    }
  }
  const fail = (actual, expected, message, operator, dflt) => {
    if (message instanceof Error) throw message;
    throw new AssertionError({ actual, expected, operator, message: message !== undefined ? message : dflt });
  };
  const deep = (a, b, strict) => N.nodeDeepEqual(a, b, strict);

  // Does `err` match what throws()/rejects() expect?
  function matches(err, expected, message, fnName) {
    if (expected === undefined) return;
    if (typeof expected === "function") {
      if (expected.prototype !== undefined && err instanceof expected) return;
      if (Error.isPrototypeOf(expected) || expected === Error) fail(err, expected, message, fnName, `The error is expected to be an instance of "${expected.name}". Received "${err && err.name}"`);
      if (expected.call({}, err) === true) return;
      fail(err, expected, message, fnName, `The ${fnName}() validation function is expected to return "true"`);
    }
    if (expected instanceof RegExp) {
      if (expected.test(String(err))) return;
      fail(err, expected, message, fnName, `The input did not match the regular expression ${expected}. Input: ${show(String(err))}`);
    }
    if (typeof expected === "object" && expected !== null) {
      for (const k of Object.keys(expected)) {
        const want = expected[k], got = err == null ? undefined : err[k];
        if (want instanceof RegExp && typeof got === "string" ? !want.test(got) : !deep(got, want, true))
          fail(err, expected, message, fnName, `Expected values to be strictly deep-equal: property "${k}": ${show(got)} !== ${show(want)}`);
      }
      return;
    }
  }
  const NO = Symbol("no exception");

  function makeAssert(strict) {
    const assert = (v, message) => ok(v, message);
    function ok(v, message) {
      if (!v) fail(v, true, message, "==", arguments.length === 0 ? "No value argument passed to `assert.ok()`" : "The expression evaluated to a falsy value:\n\n  assert.ok(" + show(v) + ")\n");
    }
    const equal = strict ? (a, b, m) => { if (!Object.is(a, b)) fail(a, b, m, "strictEqual", `Expected values to be strictly equal:\n\n${show(a)} !== ${show(b)}\n`); }
      : (a, b, m) => { if (!(a == b || (a !== a && b !== b))) fail(a, b, m, "=="); };
    const notEqual = strict ? (a, b, m) => { if (Object.is(a, b)) fail(a, b, m, "notStrictEqual", `Expected "actual" to be strictly unequal to: ${show(b)}`); }
      : (a, b, m) => { if (a == b || (a !== a && b !== b)) fail(a, b, m, "!="); };
    const deepEqual = (a, b, m) => { if (!deep(a, b, strict)) fail(a, b, m, strict ? "deepStrictEqual" : "deepEqual", `Expected values to be ${strict ? "strictly " : "loosely "}deep-equal:\n\n${show(a)}\n\nshould equal\n\n${show(b)}`); };
    const notDeepEqual = (a, b, m) => { if (deep(a, b, strict)) fail(a, b, m, strict ? "notDeepStrictEqual" : "notDeepEqual"); };
    Object.assign(assert, {
      ok, equal, notEqual, deepEqual, notDeepEqual,
      strictEqual: (a, b, m) => { if (!Object.is(a, b)) fail(a, b, m, "strictEqual", `Expected values to be strictly equal:\n\n${show(a)} !== ${show(b)}\n`); },
      notStrictEqual: (a, b, m) => { if (Object.is(a, b)) fail(a, b, m, "notStrictEqual", `Expected "actual" to be strictly unequal to: ${show(b)}`); },
      deepStrictEqual: (a, b, m) => { if (!deep(a, b, true)) fail(a, b, m, "deepStrictEqual", `Expected values to be strictly deep-equal:\n\n${show(a)}\n\nshould equal\n\n${show(b)}`); },
      notDeepStrictEqual: (a, b, m) => { if (deep(a, b, true)) fail(a, b, m, "notDeepStrictEqual"); },
      fail: (m = "Failed") => { if (m instanceof Error) throw m; throw new AssertionError({ message: m, operator: "fail" }); },
      throws(fn, expected, message) {
        if (typeof expected === "string") { message = expected; expected = undefined; }
        let err = NO;
        try { fn(); } catch (e) { err = e; }
        if (err === NO) fail(undefined, expected, message, "throws", "Missing expected exception" + (message ? `: ${message}` : "."));
        matches(err, expected, message, "throws");
      },
      doesNotThrow(fn, expected, message) {
        try { fn(); } catch (e) { fail(e, expected, typeof expected === "string" ? expected : message, "doesNotThrow", `Got unwanted exception.\nActual message: "${e && e.message}"`); }
      },
      async rejects(p, expected, message) {
        if (typeof expected === "string") { message = expected; expected = undefined; }
        let err = NO;
        try { await (typeof p === "function" ? p() : p); } catch (e) { err = e; }
        if (err === NO) fail(undefined, expected, message, "rejects", "Missing expected rejection" + (message ? `: ${message}` : "."));
        matches(err, expected, message, "rejects");
      },
      async doesNotReject(p, expected, message) {
        try { await (typeof p === "function" ? p() : p); } catch (e) { fail(e, expected, typeof expected === "string" ? expected : message, "doesNotReject", `Got unwanted rejection.\nActual message: "${e && e.message}"`); }
      },
      match: (s, re, m) => { if (!re.test(s)) fail(s, re, m, "match", `The input did not match the regular expression ${re}. Input:\n\n${show(s)}\n`); },
      doesNotMatch: (s, re, m) => { if (re.test(s)) fail(s, re, m, "doesNotMatch", `The input was expected to not match the regular expression ${re}. Input:\n\n${show(s)}\n`); },
      ifError: (v) => { if (v !== null && v !== undefined) throw v instanceof Error ? v : new AssertionError({ message: "ifError got unwanted exception: " + show(v), actual: v, operator: "ifError" }); },
      AssertionError,
    });
    return assert;
  }
  const assert = makeAssert(false);
  const strict = makeAssert(true);
  assert.strict = strict;
  strict.strict = strict;
  const mod = (a) => () => { const m = Object.assign(Object.create(null), a); m.default = a; return m; };
  N.nodeModules.assert = mod(assert);
  N.nodeModules["assert/strict"] = mod(strict);
})();
