// ES2022+ built-ins that QuickJS 2021-03-27 lacks and real Worker code uses.
// Compiled into the binary as bytecode and run first in every context.
// Each addition is non-enumerable, like the built-ins it imitates, and is only
// installed when missing.
(() => {
  "use strict";
  const define = (obj, name, value) => {
    if (!Object.prototype.hasOwnProperty.call(obj, name))
      Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  };
  const toIntegerOrInfinity = (v) => {
    const n = Number(v);
    if (Number.isNaN(n) || n === 0) return 0;
    if (!Number.isFinite(n)) return n;
    return Math.trunc(n);
  };
  const relIndex = (len, i) => {
    const k = toIntegerOrInfinity(i);
    return k >= 0 ? k : len + k;
  };

  define(Object, "hasOwn", function hasOwn(obj, key) {
    if (obj === null || obj === undefined) throw new TypeError("Cannot convert undefined or null to object");
    return Object.prototype.hasOwnProperty.call(Object(obj), key);
  });

  const groupInto = (items, fn, add) => {
    if (typeof fn !== "function") throw new TypeError("callback is not a function");
    let i = 0;
    for (const item of items) add(fn(item, i++), item);
  };
  define(Object, "groupBy", function groupBy(items, fn) {
    const out = Object.create(null);
    groupInto(items, fn, (k, v) => {
      k = typeof k === "symbol" ? k : String(k);
      (out[k] ||= []).push(v);
    });
    return out;
  });
  define(Map, "groupBy", function groupBy(items, fn) {
    const out = new Map();
    groupInto(items, fn, (k, v) => {
      if (k === 0) k = 0; // -0 becomes +0
      const list = out.get(k);
      if (list) list.push(v); else out.set(k, [v]);
    });
    return out;
  });

  const TypedArray = Object.getPrototypeOf(Uint8Array);
  const addIndexed = (proto, isTyped) => {
    define(proto, "at", function at(i) {
      const len = this.length >>> 0;
      const k = relIndex(len, i);
      return k < 0 || k >= len ? undefined : this[k];
    });
    define(proto, "findLast", function findLast(fn, thisArg) {
      if (typeof fn !== "function") throw new TypeError(`${fn} is not a function`);
      for (let i = (this.length >>> 0) - 1; i >= 0; i--) if (fn.call(thisArg, this[i], i, this)) return this[i];
      return undefined;
    });
    define(proto, "findLastIndex", function findLastIndex(fn, thisArg) {
      if (typeof fn !== "function") throw new TypeError(`${fn} is not a function`);
      for (let i = (this.length >>> 0) - 1; i >= 0; i--) if (fn.call(thisArg, this[i], i, this)) return i;
      return -1;
    });
    const copy = isTyped ? (a) => new a.constructor(a) : (a) => Array.prototype.slice.call(a);
    define(proto, "toReversed", function toReversed() { return copy(this).reverse(); });
    define(proto, "toSorted", function toSorted(cmp) {
      if (cmp !== undefined && typeof cmp !== "function")
        throw new TypeError("The comparison function must be either a function or undefined");
      return copy(this).sort(cmp);
    });
    define(proto, "with", function with_(i, value) {
      const len = this.length >>> 0;
      const k = relIndex(len, i);
      if (k < 0 || k >= len) throw new RangeError("Invalid index : " + i);
      const out = copy(this);
      out[k] = value;
      return out;
    });
  };
  addIndexed(Array.prototype, false);
  addIndexed(TypedArray.prototype, true);
  define(Array.prototype, "toSpliced", function toSpliced(...args) {
    const out = Array.prototype.slice.call(this);
    out.splice(...args);
    return out;
  });
  define(String.prototype, "at", function at(i) {
    const s = String(this);
    const k = relIndex(s.length, i);
    return k < 0 || k >= s.length ? undefined : s[k];
  });
  define(String.prototype, "isWellFormed", function isWellFormed() {
    return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(String(this));
  });
  define(String.prototype, "toWellFormed", function toWellFormed() {
    return String(this).replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
  });
  define(Promise, "withResolvers", function withResolvers() {
    let resolve, reject;
    const promise = new this((a, b) => { resolve = a; reject = b; });
    return { promise, resolve, reject };
  });
  define(Array, "fromAsync", async function fromAsync(items, fn, thisArg) {
    const out = [];
    let i = 0;
    if (items[Symbol.asyncIterator]) {
      for await (const v of items) out.push(fn ? await fn.call(thisArg, v, i++) : v);
    } else {
      for (const v of items) out.push(fn ? await fn.call(thisArg, await v, i++) : await v);
    }
    return out;
  });

  // Error `cause` (ES2022). The replacement constructors share the original
  // prototypes, so errors the engine throws itself are still `instanceof Error`.
  // The wrapper adds two frames to every stack ("construct (native)" and itself);
  // drop them so stacks start where the user's code created the error.
  const tidyStack = (e) => {
    const s = e.stack;
    if (typeof s !== "string") return;
    const lines = s.split("\n");
    let i = 0;
    while (i < lines.length && (lines[i].includes("at construct (native)") || lines[i].includes("js/prelude/00_es2022.js"))) i++;
    if (i) Object.defineProperty(e, "stack", { value: lines.slice(i).join("\n"), writable: true, configurable: true, enumerable: false });
  };
  const wrapError = (Orig, isAggregate) => {
    const Wrapped = isAggregate
      ? function AggregateError(errors, message, options) {
          const e = Reflect.construct(Orig, message === undefined ? [errors] : [errors, message], new.target || Wrapped);
          tidyStack(e);
          if (options !== null && typeof options === "object" && "cause" in options)
            Object.defineProperty(e, "cause", { value: options.cause, writable: true, configurable: true, enumerable: false });
          return e;
        }
      : function Error(message, options) {
          const e = Reflect.construct(Orig, message === undefined ? [] : [message], new.target || Wrapped);
          tidyStack(e);
          if (options !== null && typeof options === "object" && "cause" in options)
            Object.defineProperty(e, "cause", { value: options.cause, writable: true, configurable: true, enumerable: false });
          return e;
        };
    Object.defineProperty(Wrapped, "name", { value: Orig.name });
    Object.defineProperty(Wrapped, "length", { value: Orig.length });
    Object.defineProperty(Wrapped, "prototype", { value: Orig.prototype, writable: false });
    Object.defineProperty(Orig.prototype, "constructor", { value: Wrapped, writable: true, configurable: true, enumerable: false });
    return Wrapped;
  };
  const NewError = wrapError(Error, false);
  define(NewError, "captureStackTrace", function captureStackTrace(obj) {
    if (obj === null || typeof obj !== "object") throw new TypeError("Invalid argument");
    const s = new Error().stack;
    Object.defineProperty(obj, "stack", { value: s.split("\n").slice(2).join("\n"), writable: true, configurable: true });
  });
  define(NewError, "stackTraceLimit", 10);
  const errorNames = ["EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError", "InternalError"];
  const replaced = { Error: NewError };
  for (const n of errorNames) {
    if (typeof globalThis[n] !== "function") continue;
    const W = wrapError(globalThis[n], false);
    Object.setPrototypeOf(W, NewError);
    replaced[n] = W;
  }
  if (typeof AggregateError === "function") {
    const W = wrapError(AggregateError, true);
    Object.setPrototypeOf(W, NewError);
    replaced.AggregateError = W;
  }
  for (const [n, W] of Object.entries(replaced))
    Object.defineProperty(globalThis, n, { value: W, writable: true, configurable: true, enumerable: false });
})();
