// Request (spec WEB-1).
(() => {
  "use strict";
  const N = globalThis.__durable;
  const { kBody, kUsed, kStream } = N.bodyKeys;
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const NORMAL = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];
  const FORBIDDEN = ["CONNECT", "TRACE", "TRACK"];
  const kUrl = Symbol("url"), kMethod = Symbol("method"), kHeaders = Symbol("headers"), kInit = Symbol("init");

  const normMethod = (m) => {
    m = String(m);
    if (!TOKEN.test(m)) throw new TypeError(`Failed to construct 'Request': '${m}' is not a valid HTTP method.`);
    const up = m.toUpperCase();
    if (FORBIDDEN.includes(up)) throw new TypeError(`Failed to construct 'Request': '${m}' HTTP method is unsupported.`);
    return NORMAL.includes(up) ? up : m;
  };

  class Request {
    constructor(input, init = {}) {
      if (arguments.length < 1) throw new TypeError("Failed to construct 'Request': 1 argument required, but only 0 present.");
      if (init === null || typeof init !== "object") init = {};
      let base = null;
      if (input instanceof Request) base = input;
      let url;
      if (base) url = base[kUrl];
      else {
        const s = String(input);
        try { url = new URL(s).href; } catch { throw new TypeError(`Failed to construct 'Request': Invalid URL "${s}"`); }
      }
      this[kUrl] = url;
      this[kMethod] = init.method !== undefined ? normMethod(init.method) : base ? base[kMethod] : "GET";
      this[kHeaders] = new Headers(init.headers !== undefined ? init.headers : base ? base.headers : undefined);
      this.redirect = init.redirect ?? base?.redirect ?? "follow";
      if (!["follow", "manual", "error"].includes(this.redirect))
        throw new TypeError(`Failed to construct 'Request': The provided value '${this.redirect}' is not a valid enum value of type RequestRedirect.`);
      this.signal = init.signal ?? base?.signal ?? (typeof AbortController === "function" ? new AbortController().signal : null);
      this.cf = init.cf ?? base?.cf;
      let body = null, ctype = null;
      if (init.body !== undefined && init.body !== null) [body, ctype] = N.extractBody(init.body);
      else if (base && init.body === undefined) {
        body = N.bodyTee(base);
        if (base[kBody] !== null) base[kUsed] = base[kStream] === null && !(base[kBody] instanceof ReadableStream) ? base[kUsed] : base[kUsed];
      }
      if (body !== null && (this[kMethod] === "GET" || this[kMethod] === "HEAD"))
        throw new TypeError("Request with a GET or HEAD method cannot have a body.");
      if (ctype && !this[kHeaders].has("content-type")) this[kHeaders].append("content-type", ctype);
      this[kBody] = body;
      this[kUsed] = false;
      this[kStream] = null;
    }
    get url() { return this[kUrl]; }
    get method() { return this[kMethod]; }
    get headers() { return this[kHeaders]; }
    get keepalive() { return false; }
    get integrity() { return ""; }
    get destination() { return ""; }
    get mode() { return "cors"; }
    get credentials() { return "same-origin"; }
    get cache() { return "default"; }
    clone() {
      if (this[kUsed]) throw new TypeError("Failed to execute 'clone' on 'Request': Request body is already used");
      const r = Object.create(Request.prototype);
      r[kUrl] = this[kUrl];
      r[kMethod] = this[kMethod];
      r[kHeaders] = new Headers(this[kHeaders]);
      r.redirect = this.redirect;
      r.signal = this.signal;
      r.cf = this.cf;
      r[kBody] = N.bodyTee(this);
      r[kUsed] = false;
      r[kStream] = null;
      return r;
    }
    get [Symbol.toStringTag]() { return "Request"; }
  }
  N.bodyMixin(Request);
  globalThis.Request = Request;

  // The hot path for incoming requests (web_request_new): headers come from our own
  // parser and need no validation; the URL was built by us.
  N.makeIncomingRequest = (method, url, flat, body) => {
    const r = Object.create(Request.prototype);
    r[kUrl] = url;
    r[kMethod] = method;
    r[kHeaders] = N.headersFromFlat(flat);
    r.redirect = "manual";
    r.signal = undefined;
    r.cf = undefined;
    r[kBody] = body instanceof ArrayBuffer ? new Uint8Array(body) : body;
    r[kUsed] = false;
    r[kStream] = null;
    return r;
  };
  N.requestHead = (r) => [r[kMethod], r[kUrl], N.headersFlat(r[kHeaders])];
})();
