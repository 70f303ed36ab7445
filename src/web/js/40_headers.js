// Headers (spec WEB-3): case-insensitive names, values combined with ", " on get,
// iteration in lower-case sorted order, set-cookie kept apart.
(() => {
  "use strict";
  const N = globalThis.__durable;
  // QuickJS shares an object layout (shape) among objects that got the same
  // properties in the same order, but only while some object still has it: the
  // Requests and Responses of one request are gone before the next comes, so each
  // request would build every shape of the chain again (a malloc and a hash insert
  // per property). One object per prefix of `keys`, kept for the life of the
  // context, keeps the chain alive. Used for the per-request objects only.
  const pinned = [];
  N.pinShapes = (proto, keys) => {
    for (let n = 0; n <= keys.length; n++) {
      const o = Object.create(proto);
      for (let i = 0; i < n; i++) o[keys[i]] = undefined;
      pinned.push(o);
    }
  };
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const BAD_VALUE = /[\0\r\n]/;
  const trimRe = /^[\t\n\r ]+|[\t\n\r ]+$/g;
  const isWs = (c) => c === 32 || c === 9 || c === 10 || c === 13;
  // The regex only when an end is whitespace (rare): it is the costly part.
  const trim = (v) => (v.length > 0 && (isWs(v.charCodeAt(0)) || isWs(v.charCodeAt(v.length - 1))) ? v.replace(trimRe, "") : v);
  // The list is flat: [name, value, name, value, …], names lower-case, in insertion
  // order; the guard (immutable) is set only on frozen headers.
  const kList = Symbol("list"), kGuard = Symbol("guard");
  // Web IDL ByteString: ToString, which throws a TypeError for a Symbol (String()
  // would send "Symbol(x)"); workerd throws too.
  const toStr = (v, api) => {
    if (typeof v === "symbol") throw new TypeError(`Headers.${api}: Cannot convert a Symbol value to a string.`);
    return `${v}`;
  };
  // Valid names seen before, with their lower-case form: a Map hit instead of the
  // token regex and toLowerCase on every call (Workers use a handful of names).
  // Names longer than 64 characters are checked every time.
  const names = new Map();
  const checkName = (name, api) => {
    name = toStr(name, api);
    const known = names.get(name);
    if (known !== undefined) return known;
    if (!TOKEN.test(name)) throw new TypeError(`Headers.${api}: Invalid header name "${name}"`);
    const lower = name.toLowerCase();
    if (name.length <= 64) {   // bounded: at most 512 short names are kept
      if (names.size >= 512) names.clear();
      names.set(name, lower);
    }
    return lower;
  };
  const checkValue = (value, api, name) => {
    value = trim(toStr(value, api));
    if (value.length > 0 && BAD_VALUE.test(value)) throw new TypeError(`Headers.${api}: Invalid header value for "${name}"`);
    return value;
  };
  const guard = (h) => { if (h[kGuard] === true) throw new TypeError("Can't modify immutable headers."); };
  const wrap = (list) => {
    const h = Object.create(Headers.prototype);
    h[kList] = list;
    return h;
  };

  class Headers {
    constructor(init) {
      if (init === undefined || init === null) { this[kList] = []; return; }
      if (typeof init !== "object" && typeof init !== "function")
        throw new TypeError("Failed to construct 'Headers': The provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'.");
      if (init instanceof Headers) { this[kList] = init[kList].slice(); return; }
      this[kList] = [];
      if (typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const p = typeof pair === "string" ? null : [...pair];
          if (!p || p.length !== 2) throw new TypeError("Failed to construct 'Headers': Invalid value: each header pair must have exactly 2 items (name and value).");
          this.append(p[0], p[1]);
        }
      } else {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      }
    }
    append(name, value) {
      if (arguments.length < 2) throw new TypeError(`Headers.append: 2 arguments required, but only ${arguments.length} present.`);
      const n = checkName(name, "append");
      const v = checkValue(value, "append", n);
      guard(this);
      this[kList].push(n, v);
    }
    set(name, value) {
      if (arguments.length < 2) throw new TypeError(`Headers.set: 2 arguments required, but only ${arguments.length} present.`);
      const n = checkName(name, "set");
      const v = checkValue(value, "set", n);
      guard(this);
      const l = this[kList];
      let i = 0;
      while (i < l.length && l[i] !== n) i += 2;
      if (i >= l.length) { l.push(n, v); return; }
      l[i + 1] = v;
      for (let j = l.length - 2; j > i; j -= 2) if (l[j] === n) l.splice(j, 2);
    }
    delete(name) {
      const n = checkName(name, "delete");
      guard(this);
      const l = this[kList], out = [];
      for (let i = 0; i < l.length; i += 2) if (l[i] !== n) out.push(l[i], l[i + 1]);
      this[kList] = out;
    }
    get(name) {
      const n = checkName(name, "get");
      const l = this[kList];
      let out = null;
      for (let i = 0; i < l.length; i += 2) if (l[i] === n) out = out === null ? l[i + 1] : out + ", " + l[i + 1];
      return out;
    }
    has(name) {
      const n = checkName(name, "has");
      const l = this[kList];
      for (let i = 0; i < l.length; i += 2) if (l[i] === n) return true;
      return false;
    }
    getSetCookie() {
      const l = this[kList], out = [];
      for (let i = 0; i < l.length; i += 2) if (l[i] === "set-cookie") out.push(l[i + 1]);
      return out;
    }
    getAll(name) {
      const n = checkName(name, "getAll");
      if (n !== "set-cookie") throw new TypeError("getAll() can only be used with the header name \"Set-Cookie\".");
      return this.getSetCookie();
    }
    *entries() {
      const l = this[kList], seen = new Set();
      for (let i = 0; i < l.length; i += 2) seen.add(l[i]);
      for (const n of [...seen].sort()) {
        if (n === "set-cookie") { for (const v of this.getSetCookie()) yield [n, v]; }
        else yield [n, this.get(n)];
      }
    }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    forEach(fn, thisArg) {
      if (typeof fn !== "function") throw new TypeError("Headers.forEach: parameter 1 is not of type 'Function'.");
      for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
    }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return "Headers"; }
  }
  globalThis.Headers = Headers;
  N.pinShapes(Headers.prototype, [kList]);
  // Internal helpers shared with body/request/response (not visible to user code).
  // headersFromFlat takes the array (names lower-cased in place): callers hand over
  // a fresh one. headersWrap takes one whose names are lower-case already (the
  // incoming request's, made by web_request_new).
  N.headersFromFlat = (flat) => {
    for (let i = 0; i < flat.length; i += 2) flat[i] = `${flat[i]}`.toLowerCase();
    return wrap(flat);
  };
  N.headersWrap = wrap;
  // A Headers holding just a content-type (a Response or Request whose headers
  // were first read after the constructor: the body's type, set aside then).
  N.headersOfType = (ctype) => wrap(ctype === null ? [] : ["content-type", ctype]);
  N.headersFlat = (h) => h[kList].slice();
  // The list itself, for C to read at once (web_response_parts_get): not kept.
  N.headersList = (h) => h[kList];
  N.headersFreeze = (h) => { h[kGuard] = true; return h; };
})();
