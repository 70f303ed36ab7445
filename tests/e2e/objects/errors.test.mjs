// Errors thrown by an RPC method, as the caller sees them (spec objects.md RPC-14,
// RPC-15, ERR-1, ERR-2): standard constructors keep their class, other classes
// arrive as a plain Error whose message names the class, non-Errors as an Error
// with String(value); remote === true; no remote stack, no own properties.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";

const wrangler = `name = "errors"
main = "index.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "THROWER"
class_name = "Thrower"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Thrower"]
`;

const worker = `
import { DurableObject } from "cloudflare:workers";
class MyError extends Error {}
class NamedError extends Error { constructor(m) { super(m); this.name = "NamedError"; this.code = 7; } }
class MyTypeError extends TypeError {}
const make = {
  Error: () => new Error("m-Error"),
  TypeError: () => new TypeError("m-TypeError"),
  RangeError: () => new RangeError("m-RangeError"),
  ReferenceError: () => new ReferenceError("m-ReferenceError"),
  SyntaxError: () => new SyntaxError("m-SyntaxError"),
  EvalError: () => new EvalError("m-EvalError"),
  URIError: () => new URIError("m-URIError"),
  DOMException: () => new DOMException("m-dom", "NotFoundError"),
  MyError: () => new MyError("custom message"),
  NamedError: () => new NamedError("named message"),
  MyTypeError: () => new MyTypeError("sub of TypeError"),
  AggregateError: () => new AggregateError([new Error("a")], "agg message"),
  withProps: () => { const e = new Error("with props", { cause: new Error("c") }); e.code = 42; e.custom = "x"; return e; },
  string: () => "just a string",
  number: () => 42,
  object: () => ({ name: "TypeError", message: "looks like one" }),
  undef: () => undefined,
};
export class Thrower extends DurableObject {
  throwDeepInsideTheObject(kind) { throw make[kind](); }
  async throwAsync(kind) { await null; throw make[kind](); }
  ok() { return "still serving"; }
}
export default {
  async fetch(req, env) {
    const kinds = Object.keys(make);
    const s = env.THROWER.getByName("t");
    const out = {};
    for (const k of kinds) {
      for (const m of ["throwDeepInsideTheObject", "throwAsync"]) {
        try { await s[m](k); out[k + "/" + m] = "no error"; }
        catch (e) {
          out[k + "/" + m] = {
            isError: e instanceof Error, ctor: e.constructor.name, name: e.name, message: e.message,
            remote: e.remote, reset: "durableObjectReset" in e, overloaded: "overloaded" in e,
            code: "code" in e, custom: "custom" in e, cause: "cause" in e,
            remoteStack: String(e.stack).includes("throwDeepInsideTheObject"),
          };
        }
      }
    }
    out.after = await s.ok();
    return Response.json(out);
  },
};
`;

let srv, j;
before(async () => {
  srv = await startDev(makeProject({ "wrangler.toml": wrangler, "index.js": worker }));
  const r = await fetch(srv.url + "/");
  const text = await r.text();
  assert.equal(r.status, 200, text + "\n" + srv.logs());
  j = JSON.parse(text);
});
after(async () => { assert.equal((await srv.stop()).code, 0); });

const each = (kind, f) => {
  for (const m of ["throwDeepInsideTheObject", "throwAsync"]) f(j[kind + "/" + m], `${kind} via ${m}`);
};
const common = (e, what) => {
  assert.equal(e.isError, true, what);
  assert.equal(e.remote, true, what);
  assert.equal(e.reset, false, what);
  assert.equal(e.overloaded, false, what);
  assert.equal(e.remoteStack, false, `${what}: the remote stack is not kept`);
};

test("RPC-14: standard constructors keep their class and message, remote === true", () => {
  for (const c of ["Error", "TypeError", "RangeError", "ReferenceError", "SyntaxError", "EvalError", "URIError"]) {
    each(c, (e, what) => {
      common(e, what);
      assert.equal(e.ctor, c, what);
      assert.equal(e.name, c, what);
      assert.equal(e.message, "m-" + c, what);
    });
  }
});

test("RPC-14: a DOMException keeps its name", () => {
  each("DOMException", (e, what) => {
    common(e, what);
    assert.equal(e.ctor, "DOMException", what);
    assert.equal(e.name, "NotFoundError", what);
    assert.equal(e.message, "m-dom", what);
  });
});

test("RPC-14: class MyError extends Error arrives as Error('MyError: custom message')", () => {
  each("MyError", (e, what) => {
    common(e, what);
    assert.equal(e.ctor, "Error", what);
    assert.equal(e.name, "Error", what);
    assert.equal(e.message, "MyError: custom message", what);
  });
});

test("RPC-14: other classes (named subclass, subclass of TypeError, AggregateError) arrive as plain Error with the class name", () => {
  const want = { NamedError: "NamedError: named message", MyTypeError: "MyTypeError: sub of TypeError", AggregateError: "AggregateError: agg message" };
  for (const [k, msg] of Object.entries(want)) {
    each(k, (e, what) => {
      common(e, what);
      assert.equal(e.ctor, "Error", what);
      assert.equal(e.message, msg, what);
      assert.equal(e.code, false, `${what}: own properties are not carried`);
    });
  }
});

test("RPC-14: cause, code and custom properties are not carried", () => {
  each("withProps", (e, what) => {
    common(e, what);
    assert.equal(e.ctor, "Error", what);
    assert.equal(e.message, "with props", what);
    assert.equal(e.code, false, what);
    assert.equal(e.custom, false, what);
    assert.equal(e.cause, false, what);
  });
});

test("RPC-15: a thrown non-Error arrives as Error(String(value)), remote === true", () => {
  const want = { string: "just a string", number: "42", object: "[object Object]", undef: "undefined" };
  for (const [k, msg] of Object.entries(want)) {
    each(k, (e, what) => {
      common(e, what);
      assert.equal(e.ctor, "Error", what);
      assert.equal(e.message, msg, what);
    });
  }
});

test("errors thrown by methods leave the object serving (LIFE-7)", () => {
  assert.equal(j.after, "still serving");
});
