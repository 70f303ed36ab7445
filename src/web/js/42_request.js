// Request (spec WEB-1).
(() => {
  "use strict";
  const N = globalThis.__durable;
  const { kBody, kUsed, kStream } = N.bodyKeys;
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const NORMAL = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];
  const FORBIDDEN = ["CONNECT", "TRACE", "TRACK"];
  // Internal slots. kHeaders is the Headers, or, until .headers is first read, a
  // flat [name, value, …] array with lower-case names (an incoming request's, as
  // web_request_new made it). redirect, signal and cf are prototype getters as in
  // workerd (not own properties); an incoming request has none of the three slots
  // (redirect "manual", no signal, no cf).
  const kUrl = Symbol("url"), kMethod = Symbol("method"), kHeaders = Symbol("headers");
  const kRedirect = Symbol("redirect"), kSignal = Symbol("signal"), kCf = Symbol("cf");
  const headersOf = (r) => {
    const h = r[kHeaders];
    if (!Array.isArray(h)) return h;
    return (r[kHeaders] = N.headersWrap(h));
  };

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
      const method = init.method !== undefined ? normMethod(init.method) : base ? base[kMethod] : "GET";
      const headers = new Headers(init.headers !== undefined ? init.headers : base ? base.headers : undefined);
      const redirect = init.redirect ?? base?.redirect ?? "follow";
      if (redirect !== "follow" && redirect !== "manual" && redirect !== "error")
        throw new TypeError(`Failed to construct 'Request': The provided value '${redirect}' is not a valid enum value of type RequestRedirect.`);
      const signal = init.signal ?? base?.signal ?? (typeof AbortController === "function" ? new AbortController().signal : null);
      const cf = init.cf ?? base?.cf;
      let body = null, ctype = null;
      if (init.body !== undefined && init.body !== null) {
        const x = N.extractBody(init.body);
        body = x[0];
        ctype = x[1];
      } else if (base && init.body === undefined) {
        body = N.bodyTee(base);
      }
      if (body !== null && (method === "GET" || method === "HEAD"))
        throw new TypeError("Request with a GET or HEAD method cannot have a body.");
      if (ctype && !headers.has("content-type")) headers.append("content-type", ctype);
      // The slots in one order (see N.pinShapes): the incoming ones first.
      this[kUrl] = url;
      this[kMethod] = method;
      this[kHeaders] = headers;
      this[kBody] = body;
      this[kUsed] = false;
      this[kStream] = null;
      this[kRedirect] = redirect;
      this[kSignal] = signal;
      this[kCf] = cf;
    }
    get url() { return this[kUrl]; }
    get method() { return this[kMethod]; }
    get headers() { return headersOf(this); }
    get redirect() { return this[kRedirect] ?? "manual"; }
    get signal() { return this[kSignal]; }
    get cf() { return this[kCf]; }
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
      r[kHeaders] = new Headers(headersOf(this));
      r[kBody] = N.bodyTee(this);
      r[kUsed] = false;
      r[kStream] = null;
      r[kRedirect] = this.redirect;
      r[kSignal] = this[kSignal];
      r[kCf] = this[kCf];
      return r;
    }
    get [Symbol.toStringTag]() { return "Request"; }
  }
  N.bodyMixin(Request);
  N.pinShapes(Request.prototype, [kUrl, kMethod, kHeaders, kBody, kUsed, kStream, kRedirect, kSignal, kCf]);
  globalThis.Request = Request;

  // The hot path for incoming requests (web_request_new): headers come from our own
  // parser and need no validation; the URL was built by us.
  // web_request_new passes the header names (lower-case) and values as arguments:
  // the rest parameter is the list, made in one allocation.
  const RequestProto = Request.prototype;
  N.makeIncomingRequest = (method, url, body, ...flat) => {
    const r = Object.create(RequestProto);
    r[kUrl] = url;
    r[kMethod] = method;
    r[kHeaders] = flat;
    r[kBody] = body;
    r[kUsed] = false;
    r[kStream] = null;
    return r;
  };
  // A request that came to a Durable Object (objects/js/50_objects.js).
  N.makeRequestFromWire = (method, url, flat, body) => {
    const r = Object.create(Request.prototype);
    r[kUrl] = url;
    r[kMethod] = method;
    r[kHeaders] = N.headersFromFlat(flat);
    r[kBody] = body instanceof ArrayBuffer ? new Uint8Array(body) : body;
    r[kUsed] = false;
    r[kStream] = null;
    return r;
  };
  N.requestHead = (r) => { const h = r[kHeaders]; return [r[kMethod], r[kUrl], Array.isArray(h) ? h.slice() : N.headersFlat(h)]; };
})();
