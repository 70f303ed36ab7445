// URL and URLSearchParams (WHATWG URL Standard) over the C parser of
// web/url_parse.c, reached through the natives of web/url.c.
// spec: workers.md WEB-5
//
// A URL keeps one array of its serialized attributes, as urlParse returns it:
//   [href, protocol, username, password, host, hostname, port, pathname, search, hash]
// so getters are array reads and construction is one native call. Setters hand the
// href to C with the attribute to change and take the new array. searchParams is
// made on first use (most Workers never touch it) and then stays the same object;
// the two stay linked both ways through the friend functions below.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const nParse = N.urlParse;
  const nCanParse = N.urlCanParse;
  const nSet = N.urlSet;
  const formParse = N.formParse;
  const formSerialize = N.formSerialize;

  // Indices into the attribute array, and the part numbers of urlSet (url_part).
  const HREF = 0, PROTOCOL = 1, USERNAME = 2, PASSWORD = 3, HOST = 4, HOSTNAME = 5,
    PORT = 6, PATHNAME = 7, SEARCH = 8, HASH = 9;
  const SET_PROTOCOL = 0, SET_USERNAME = 1, SET_PASSWORD = 2, SET_HOST = 3,
    SET_HOSTNAME = 4, SET_PORT = 5, SET_PATHNAME = 6, SET_SEARCH = 7, SET_HASH = 8;

  // USVString conversion: ToString (throws on Symbols); lone surrogates become
  // U+FFFD in C.
  const usv = (v) => `${v}`;
  const clip = (s) => (s.length > 200 ? s.slice(0, 200) + "…" : s);
  const need = (what, n, args) => {
    if (args.length < n)
      throw new TypeError(`${what}: ${n} argument${n > 1 ? "s" : ""} required, but only ${args.length} present.`);
  };
  const invalid = (input, base) => {
    const e = new TypeError(`Invalid URL: ${clip(input)}` +
      (base === undefined ? "" : ` (base: ${clip(base)})`));
    e.code = "ERR_INVALID_URL";
    e.input = input;
    if (base !== undefined) e.base = base;
    return e;
  };

  // Friends: set inside the class bodies (static field initializers may touch
  // private names), used across the two classes.
  let listOf;          // (params) => flat [name, value, …]
  let setList;         // (params, flat) => void
  let linkedParams;    // (url, queryWithoutQuestionMark) => URLSearchParams
  let urlSetQuery;     // (url, serializedQuery) => void
  const kInternal = Symbol("URL.internal");
  let lastInput = null, lastC = null;

  class URLSearchParams {
    #list = [];
    #url = null;

    constructor(init = undefined) {
      if (init === undefined || init === kInternal) return;
      if (init !== null && (typeof init === "object" || typeof init === "function")) {
        if (init instanceof URLSearchParams) {
          this.#list = init.#list.slice();
          return;
        }
        const iter = init[Symbol.iterator];
        if (iter !== undefined && iter !== null) {
          if (typeof iter !== "function")
            throw new TypeError("Failed to construct 'URLSearchParams': The provided value is not iterable.");
          const list = [];
          for (const pair of { [Symbol.iterator]: () => iter.call(init) }) {
            if (pair === null || (typeof pair !== "object" && typeof pair !== "function"))
              throw new TypeError("Failed to construct 'URLSearchParams': Each query pair must be an iterable [name, value] tuple.");
            const items = [...pair];
            if (items.length !== 2)
              throw new TypeError("Failed to construct 'URLSearchParams': Sequence initializer must only contain pair elements.");
            list.push(usv(items[0]), usv(items[1]));
          }
          this.#list = list;
          return;
        }
        const list = [];
        for (const key of Reflect.ownKeys(init)) {
          const desc = Reflect.getOwnPropertyDescriptor(init, key);
          if (desc === undefined || !desc.enumerable) continue;
          if (typeof key === "symbol")
            throw new TypeError("Failed to construct 'URLSearchParams': a record key cannot be a Symbol.");
          list.push(usv(key), usv(init[key]));
        }
        this.#list = list;
        return;
      }
      let s = usv(init);
      if (s.charCodeAt(0) === 0x3f) s = s.slice(1);
      if (s !== "") this.#list = formParse(s);
    }

    #update() {
      if (this.#url !== null) urlSetQuery(this.#url, formSerialize(this.#list));
    }

    get size() {
      return this.#list.length >>> 1;
    }

    append(name, value) {
      need("Failed to execute 'append' on 'URLSearchParams'", 2, arguments);
      this.#list.push(usv(name), usv(value));
      this.#update();
    }

    delete(name, value = undefined) {
      need("Failed to execute 'delete' on 'URLSearchParams'", 1, arguments);
      name = usv(name);
      const hasValue = value !== undefined;
      if (hasValue) value = usv(value);
      const l = this.#list, out = [];
      for (let i = 0; i < l.length; i += 2)
        if (l[i] !== name || (hasValue && l[i + 1] !== value)) out.push(l[i], l[i + 1]);
      this.#list = out;
      this.#update();
    }

    get(name) {
      need("Failed to execute 'get' on 'URLSearchParams'", 1, arguments);
      name = usv(name);
      const l = this.#list;
      for (let i = 0; i < l.length; i += 2) if (l[i] === name) return l[i + 1];
      return null;
    }

    getAll(name) {
      need("Failed to execute 'getAll' on 'URLSearchParams'", 1, arguments);
      name = usv(name);
      const l = this.#list, out = [];
      for (let i = 0; i < l.length; i += 2) if (l[i] === name) out.push(l[i + 1]);
      return out;
    }

    has(name, value = undefined) {
      need("Failed to execute 'has' on 'URLSearchParams'", 1, arguments);
      name = usv(name);
      const hasValue = value !== undefined;
      if (hasValue) value = usv(value);
      const l = this.#list;
      for (let i = 0; i < l.length; i += 2)
        if (l[i] === name && (!hasValue || l[i + 1] === value)) return true;
      return false;
    }

    set(name, value) {
      need("Failed to execute 'set' on 'URLSearchParams'", 2, arguments);
      name = usv(name);
      value = usv(value);
      const l = this.#list, out = [];
      let found = false;
      for (let i = 0; i < l.length; i += 2) {
        if (l[i] !== name) out.push(l[i], l[i + 1]);
        else if (!found) {
          out.push(name, value);
          found = true;
        }
      }
      if (!found) out.push(name, value);
      this.#list = out;
      this.#update();
    }

    sort() {
      // Stable by UTF-16 code units (JS string order); the index breaks ties so
      // the result does not depend on the engine's sort being stable.
      const l = this.#list, n = l.length >>> 1, idx = new Array(n);
      for (let i = 0; i < n; i++) idx[i] = i;
      idx.sort((a, b) => {
        const x = l[2 * a], y = l[2 * b];
        return x < y ? -1 : x > y ? 1 : a - b;
      });
      const out = new Array(l.length);
      for (let i = 0; i < n; i++) {
        out[2 * i] = l[2 * idx[i]];
        out[2 * i + 1] = l[2 * idx[i] + 1];
      }
      this.#list = out;
      this.#update();
    }

    forEach(callback, thisArg = undefined) {
      need("Failed to execute 'forEach' on 'URLSearchParams'", 1, arguments);
      if (typeof callback !== "function")
        throw new TypeError("Failed to execute 'forEach' on 'URLSearchParams': The callback provided as parameter 1 is not a function.");
      for (let i = 0; i < this.#list.length; i += 2)
        callback.call(thisArg, this.#list[i + 1], this.#list[i], this);
    }

    entries() {
      this.#list;   // brand check
      return new ParamsIterator(this, 0);
    }
    keys() {
      this.#list;
      return new ParamsIterator(this, 1);
    }
    values() {
      this.#list;
      return new ParamsIterator(this, 2);
    }

    toString() {
      return formSerialize(this.#list);
    }

    static #friends = (
      listOf = (p) => p.#list,
      setList = (p, l) => { p.#list = l; },
      linkedParams = (u, q) => {
        const p = new URLSearchParams(kInternal);
        p.#url = u;
        if (q !== "") p.#list = formParse(q);
        return p;
      },
      0);
  }

  const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
  class ParamsIterator {
    #params;
    #kind;
    #index = 0;
    constructor(params, kind) {
      this.#params = params;
      this.#kind = kind;
    }
    next() {
      const l = listOf(this.#params), i = this.#index;
      if (i >= l.length) return { value: undefined, done: true };
      this.#index = i + 2;
      const k = this.#kind;
      return { value: k === 0 ? [l[i], l[i + 1]] : k === 1 ? l[i] : l[i + 1], done: false };
    }
  }
  Object.setPrototypeOf(ParamsIterator.prototype, IteratorPrototype);
  delete ParamsIterator.prototype.constructor;
  Object.defineProperty(ParamsIterator.prototype, Symbol.toStringTag,
    { value: "URLSearchParams Iterator", configurable: true });

  class URL {
    #c;
    #params = null;

    constructor(url, base = undefined) {
      if (url === kInternal) {   // URL.parse: already parsed
        this.#c = base;
        return;
      }
      need("Failed to construct 'URL'", 1, arguments);
      const s = usv(url);
      let c;
      if (base === undefined) {
        // The last input without a base and its attribute array (never changed in
        // place): `new URL(request.url)`, often more than once per request, parses
        // each URL once. Parsing is a pure function of the input.
        if (s === lastInput) c = lastC;
        else if ((c = nParse(s)) !== null) {
          lastInput = s;
          lastC = c;
        }
      } else {
        base = usv(base);
        c = nParse(s, base);
      }
      if (c === null) throw invalid(s, base);
      this.#c = c;
    }

    static canParse(url, base = undefined) {
      need("Failed to execute 'canParse' on 'URL'", 1, arguments);
      return base === undefined ? nCanParse(usv(url)) : nCanParse(usv(url), usv(base));
    }

    static parse(url, base = undefined) {
      need("Failed to execute 'parse' on 'URL'", 1, arguments);
      const c = base === undefined ? nParse(usv(url)) : nParse(usv(url), usv(base));
      return c === null ? null : new URL(kInternal, c);
    }

    #set(part, value) {
      this.#c = nSet(this.#c[HREF], part, usv(value));
    }

    get href() { return this.#c[HREF]; }
    set href(v) {
      const s = usv(v);
      const c = nParse(s);
      if (c === null) throw invalid(s, undefined);
      this.#c = c;
      if (this.#params !== null) setList(this.#params, c[SEARCH] === "" ? [] : formParse(c[SEARCH].slice(1)));
    }

    get origin() {
      const c = this.#c, p = c[PROTOCOL];
      switch (p) {
        case "http:": case "https:": case "ws:": case "wss:": case "ftp:":
          return `${p}//${c[HOST]}`;
        case "blob:": {
          const inner = nParse(c[PATHNAME]);
          if (inner !== null && (inner[PROTOCOL] === "http:" || inner[PROTOCOL] === "https:"))
            return `${inner[PROTOCOL]}//${inner[HOST]}`;
          return "null";
        }
        default:
          return "null";
      }
    }

    get protocol() { return this.#c[PROTOCOL]; }
    set protocol(v) { this.#set(SET_PROTOCOL, v); }
    get username() { return this.#c[USERNAME]; }
    set username(v) { this.#set(SET_USERNAME, v); }
    get password() { return this.#c[PASSWORD]; }
    set password(v) { this.#set(SET_PASSWORD, v); }
    get host() { return this.#c[HOST]; }
    set host(v) { this.#set(SET_HOST, v); }
    get hostname() { return this.#c[HOSTNAME]; }
    set hostname(v) { this.#set(SET_HOSTNAME, v); }
    get port() { return this.#c[PORT]; }
    set port(v) { this.#set(SET_PORT, v); }
    get pathname() { return this.#c[PATHNAME]; }
    set pathname(v) { this.#set(SET_PATHNAME, v); }
    get search() { return this.#c[SEARCH]; }
    set search(v) {
      const s = usv(v);
      this.#c = nSet(this.#c[HREF], SET_SEARCH, s);
      if (this.#params !== null) {
        const q = s.charCodeAt(0) === 0x3f ? s.slice(1) : s;
        setList(this.#params, q === "" ? [] : formParse(q));
      }
    }
    get searchParams() {
      if (this.#params === null) this.#params = linkedParams(this, this.#c[SEARCH].slice(1));
      return this.#params;
    }
    get hash() { return this.#c[HASH]; }
    set hash(v) { this.#set(SET_HASH, v); }

    toString() { return this.#c[HREF]; }
    toJSON() { return this.#c[HREF]; }

    static #friends = (
      urlSetQuery = (u, q) => { u.#c = nSet(u.#c[HREF], SET_SEARCH, q); },
      0);
  }

  // Web IDL: attributes and operations are enumerable; the classes carry their tags.
  const enumerable = (o) => {
    for (const k of Reflect.ownKeys(o)) {
      if (k === "constructor" || k === "prototype" || k === "length" || k === "name") continue;
      const d = Reflect.getOwnPropertyDescriptor(o, k);
      d.enumerable = true;
      Object.defineProperty(o, k, d);
    }
  };
  enumerable(URL.prototype);
  enumerable(URL);
  enumerable(URLSearchParams.prototype);
  Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, {
    value: URLSearchParams.prototype.entries, writable: true, configurable: true,
  });
  Object.defineProperty(URL.prototype, Symbol.toStringTag, { value: "URL", configurable: true });
  Object.defineProperty(URLSearchParams.prototype, Symbol.toStringTag,
    { value: "URLSearchParams", configurable: true });

  for (const [name, value] of [["URL", URL], ["URLSearchParams", URLSearchParams]])
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
})();
