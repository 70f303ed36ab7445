// node:http and node:https clients on fetch() (nodejs_compat, from compatibility
// date 2025-08-15 or the enable_nodejs_http_modules flag, as on Cloudflare;
// docs/nodejs.md): request() and get() return a ClientRequest (a Writable: the
// body is collected, then sent with fetch when end() is called) whose 'response'
// is an IncomingMessage (a Readable over the response body). Servers
// (createServer) throw ERR_METHOD_NOT_IMPLEMENTED.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const notImplemented = (name) => Object.assign(new Error(`The ${name} method is not implemented`), { code: "ERR_METHOD_NOT_IMPLEMENTED" });
  const STATUS_CODES = {
    100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints", 200: "OK", 201: "Created",
    202: "Accepted", 203: "Non-Authoritative Information", 204: "No Content", 205: "Reset Content", 206: "Partial Content",
    207: "Multi-Status", 208: "Already Reported", 226: "IM Used", 300: "Multiple Choices", 301: "Moved Permanently",
    302: "Found", 303: "See Other", 304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
    409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed", 413: "Payload Too Large",
    414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable", 417: "Expectation Failed",
    418: "I'm a Teapot", 421: "Misdirected Request", 422: "Unprocessable Entity", 423: "Locked", 424: "Failed Dependency",
    425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons", 500: "Internal Server Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
    505: "HTTP Version Not Supported", 506: "Variant Also Negotiates", 507: "Insufficient Storage", 508: "Loop Detected",
    509: "Bandwidth Limit Exceeded", 510: "Not Extended", 511: "Network Authentication Required",
  };
  const METHODS = ["ACL", "BIND", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET", "HEAD", "LINK", "LOCK", "M-SEARCH",
    "MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL", "MOVE", "NOTIFY", "OPTIONS", "PATCH", "POST", "PROPFIND", "PROPPATCH",
    "PURGE", "PUT", "QUERY", "REBIND", "REPORT", "SEARCH", "SOURCE", "SUBSCRIBE", "TRACE", "UNBIND", "UNLINK", "UNLOCK",
    "UNSUBSCRIBE"];
  const tokenRe = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
  const validateHeaderName = (name) => {
    if (typeof name !== "string" || !tokenRe.test(name))
      throw Object.assign(new TypeError(`Header name must be a valid HTTP token ["${name}"]`), { code: "ERR_INVALID_HTTP_TOKEN" });
  };
  const validateHeaderValue = (name, value) => {
    if (value === undefined) throw Object.assign(new TypeError(`Invalid value "undefined" for header "${name}"`), { code: "ERR_HTTP_INVALID_HEADER_VALUE" });
    if (/[^\t\x20-\x7e\x80-\xff]/.test(String(value))) throw Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), { code: "ERR_INVALID_CHAR" });
  };

  class Agent {
    constructor(opts = {}) { this.options = { ...opts }; this.keepAlive = !!opts.keepAlive; this.maxSockets = opts.maxSockets ?? Infinity; this.requests = {}; this.sockets = {}; this.freeSockets = {}; }
    destroy() {}
  }

  function makeModule(defaultProtocol) {
    const { Buffer } = N.nodeModule("buffer");
    const { Readable, Writable } = N.nodeModule("stream");

    class IncomingMessage extends Readable {
      constructor(res) {
        super();
        this.statusCode = res.status;
        this.statusMessage = res.statusText || STATUS_CODES[res.status] || "";
        this.httpVersion = "1.1"; this.httpVersionMajor = 1; this.httpVersionMinor = 1;
        this.headers = {}; this.rawHeaders = []; this.trailers = {}; this.rawTrailers = [];
        this.complete = false; this.url = res.url; this.method = null; this.aborted = false;
        for (const [k, v] of res.headers) {
          this.rawHeaders.push(k, v);
          if (k === "set-cookie") (this.headers[k] ??= []).push(v);
          else this.headers[k] = k in this.headers ? `${this.headers[k]}, ${v}` : v;
        }
        if (res.headers.getSetCookie) {
          const sc = res.headers.getSetCookie();
          if (sc.length) this.headers["set-cookie"] = sc;
        }
        this._reader = res.body ? res.body.getReader() : null;
      }
      _read() {
        if (!this._reader) { this.complete = true; this.push(null); return; }
        this._reader.read().then(({ value, done }) => {
          if (done) { this.complete = true; this.push(null); return; }
          this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        }, (e) => this.destroy(e));
      }
      setTimeout(ms, cb) { if (cb) this.once("timeout", cb); return this; }
    }

    class ClientRequest extends Writable {
      constructor(input, options, cb) {
        super();
        if (typeof input === "string" || input instanceof URL) {
          const u = new URL(input);
          if (typeof options === "function") { cb = options; options = {}; }
          options = { protocol: u.protocol, hostname: u.hostname, port: u.port, path: u.pathname + u.search,
            auth: u.username ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined, ...(options || {}) };
        } else {
          cb = typeof options === "function" ? options : cb;
          options = { ...(input || {}) };
        }
        const protocol = options.protocol || defaultProtocol;
        if (protocol !== defaultProtocol)
          throw Object.assign(new TypeError(`Protocol "${protocol}" not supported. Expected "${defaultProtocol}"`), { code: "ERR_INVALID_PROTOCOL" });
        const host = options.hostname || (options.host || "localhost").replace(/:\d+$/, "");
        const port = options.port ? `:${options.port}` : "";
        this.method = (options.method || "GET").toUpperCase();
        if (!tokenRe.test(this.method)) throw Object.assign(new TypeError(`Method must be a valid HTTP token ["${options.method}"]`), { code: "ERR_INVALID_HTTP_TOKEN" });
        this.path = options.path || "/";
        if (/[\u0000-\u0020]/.test(this.path)) throw Object.assign(new TypeError("Request path contains unescaped characters"), { code: "ERR_UNESCAPED_CHARACTERS" });
        this.host = host; this.protocol = protocol;
        this._url = `${protocol}//${host.includes(":") ? `[${host}]` : host}${port}${this.path}`;
        this._headers = new Map();
        const h = options.headers || {};
        if (Array.isArray(h)) for (let i = 0; i + 1 < h.length; i += 2) this.setHeader(h[i], h[i + 1]);
        else for (const k of Object.keys(h)) if (h[k] !== undefined) this.setHeader(k, h[k]);
        if (options.auth && !this._headers.has("authorization")) this.setHeader("Authorization", `Basic ${btoa(options.auth)}`);
        this._body = [];
        this._ac = new AbortController();
        this.aborted = false; this.finished = false; this.headersSent = false; this.reusedSocket = false;
        this._signal = options.signal;
        if (options.timeout) this.setTimeout(options.timeout);
        if (cb) this.once("response", cb);
      }
      setHeader(name, value) {
        if (this.headersSent) throw Object.assign(new Error("Cannot set headers after they are sent to the client"), { code: "ERR_HTTP_HEADERS_SENT" });
        validateHeaderName(name);
        validateHeaderValue(name, value);
        this._headers.set(name.toLowerCase(), [name, value]);
        return this;
      }
      getHeader(name) { return this._headers.get(`${name}`.toLowerCase())?.[1]; }
      getHeaders() { const o = Object.create(null); for (const [k, [, v]] of this._headers) o[k] = v; return o; }
      getHeaderNames() { return [...this._headers.keys()]; }
      hasHeader(name) { return this._headers.has(`${name}`.toLowerCase()); }
      removeHeader(name) { this._headers.delete(`${name}`.toLowerCase()); }
      flushHeaders() {}
      setNoDelay() {}
      setSocketKeepAlive() {}
      setTimeout(ms, cb) {
        if (cb) this.once("timeout", cb);
        clearTimeout(this._timer);
        if (ms > 0) this._timer = setTimeout(() => this.emit("timeout"), ms);
        return this;
      }
      _write(chunk, enc, cb) { this._body.push(typeof chunk === "string" ? Buffer.from(chunk, enc) : Buffer.from(chunk)); cb(); }
      _final(cb) {
        this.finished = true;
        this.headersSent = true;
        const headers = new Headers();
        for (const [, [name, value]] of this._headers)
          for (const v of Array.isArray(value) ? value : [value]) headers.append(name, String(v));
        const hasBody = this._body.length > 0 && this.method !== "GET" && this.method !== "HEAD";
        if (this._signal) {
          if (this._signal.aborted) this.abort();
          else this._signal.addEventListener("abort", () => this.abort(), { once: true });
        }
        const signal = this._ac.signal;
        fetch(this._url, { method: this.method, headers, body: hasBody ? Buffer.concat(this._body) : undefined, redirect: "manual", signal })
          .then((res) => {
            clearTimeout(this._timer);
            const msg = new IncomingMessage(res);
            msg.req = this;
            this.res = msg;
            if (this.listenerCount("response") === 0) msg.resume();
            this.emit("response", msg);
          }, (e) => {
            clearTimeout(this._timer);
            const err = this.aborted ? Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })
              : Object.assign(new Error(e && e.message || String(e)), { code: (e && e.code) || "ECONNREFUSED", cause: e });
            this.emit("error", err);
            this.emit("close");
          });
        cb();
      }
      abort() { if (!this.aborted) { this.aborted = true; this._ac.abort(); this.emit("abort"); } }
      destroy(err) { this.abort(); if (err) queueMicrotask(() => this.emit("error", err)); this.destroyed = true; return this; }
    }

    const request = (input, options, cb) => new ClientRequest(input, options, cb);
    const get = (input, options, cb) => { const r = request(input, options, cb); r.end(); return r; };
    const globalAgent = new Agent();
    const m = {
      request, get, ClientRequest, IncomingMessage, Agent, globalAgent, METHODS, STATUS_CODES,
      validateHeaderName, validateHeaderValue, maxHeaderSize: 16384,
      createServer() { throw notImplemented("http.createServer"); },
      Server: class Server { constructor() { throw notImplemented("http.Server"); } },
      ServerResponse: class ServerResponse { constructor() { throw notImplemented("http.ServerResponse"); } },
      OutgoingMessage: Writable,
      setMaxIdleHTTPParsers() {},
    };
    const def = Object.assign(Object.create(null), m);
    m.default = def;
    return m;
  }
  N.nodeModules.http = () => makeModule("http:");
  N.nodeModules.https = () => makeModule("https:");
  N.nodeModules._http_agent = () => ({ Agent, globalAgent: new Agent() });
  N.nodeGated.push([["http", "https", "_http_agent"], "2025-08-15", "enable_nodejs_http_modules", "disable_nodejs_http_modules"]);
})();
