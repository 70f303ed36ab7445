// Headers (spec WEB-3): case-insensitive names, values combined with ", " on get,
// iteration in lower-case sorted order, set-cookie kept apart.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const BAD_VALUE = /[\0\r\n]/;
  const trim = (v) => v.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  const kList = Symbol("list"), kGuard = Symbol("guard");
  // Web IDL ByteString: ToString, which throws a TypeError for a Symbol (String()
  // would send "Symbol(x)"); workerd throws too.
  const toStr = (v, api) => {
    if (typeof v === "symbol") throw new TypeError(`Headers.${api}: Cannot convert a Symbol value to a string.`);
    return `${v}`;
  };
  const checkName = (name, api) => {
    name = toStr(name, api);
    if (!TOKEN.test(name)) throw new TypeError(`Headers.${api}: Invalid header name "${name}"`);
    return name.toLowerCase();
  };
  const checkValue = (value, api, name) => {
    value = trim(toStr(value, api));
    if (BAD_VALUE.test(value)) throw new TypeError(`Headers.${api}: Invalid header value for "${name}"`);
    return value;
  };
  const guard = (h) => { if (h[kGuard]) throw new TypeError("Can't modify immutable headers."); };

  class Headers {
    constructor(init) {
      this[kList] = [];
      this[kGuard] = false;
      if (init === undefined || init === null) return;
      if (typeof init !== "object" && typeof init !== "function")
        throw new TypeError("Failed to construct 'Headers': The provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'.");
      if (init instanceof Headers) {
        for (const [k, v] of init[kList]) this[kList].push([k, v]);
      } else if (typeof init[Symbol.iterator] === "function") {
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
      this[kList].push([n, v]);
    }
    set(name, value) {
      if (arguments.length < 2) throw new TypeError(`Headers.set: 2 arguments required, but only ${arguments.length} present.`);
      const n = checkName(name, "set");
      const v = checkValue(value, "set", n);
      guard(this);
      const l = this[kList];
      const i = l.findIndex((e) => e[0] === n);
      if (i < 0) { l.push([n, v]); return; }
      l[i] = [n, v];
      for (let j = l.length - 1; j > i; j--) if (l[j][0] === n) l.splice(j, 1);
    }
    delete(name) {
      const n = checkName(name, "delete");
      guard(this);
      this[kList] = this[kList].filter((e) => e[0] !== n);
    }
    get(name) {
      const n = checkName(name, "get");
      let out = null;
      for (const [k, v] of this[kList]) if (k === n) out = out === null ? v : out + ", " + v;
      return out;
    }
    has(name) {
      const n = checkName(name, "has");
      return this[kList].some((e) => e[0] === n);
    }
    getSetCookie() { return this[kList].filter((e) => e[0] === "set-cookie").map((e) => e[1]); }
    getAll(name) {
      const n = checkName(name, "getAll");
      if (n !== "set-cookie") throw new TypeError("getAll() can only be used with the header name \"Set-Cookie\".");
      return this.getSetCookie();
    }
    *entries() {
      const names = [...new Set(this[kList].map((e) => e[0]))].sort();
      for (const n of names) {
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
  // Internal helpers shared with body/request/response (not visible to user code).
  N.headersFromFlat = (flat) => {
    const h = new Headers();
    const l = h[kList];
    for (let i = 0; i < flat.length; i += 2) l.push([flat[i].toLowerCase(), flat[i + 1]]);
    return h;
  };
  N.headersFlat = (h) => {
    const out = [];
    for (const [k, v] of h[kList]) out.push(k, v);
    return out;
  };
  N.headersFreeze = (h) => { h[kGuard] = true; return h; };
})();
