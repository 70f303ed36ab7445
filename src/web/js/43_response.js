// Response (spec WEB-2) and the hot path that turns one into wire parts.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const { kBody, kUsed, kStream } = N.bodyKeys;
  // Internal slots. kHeaders is the Headers, or, until .headers is first read, the
  // body's content type (a string) or null: most Responses are sent without their
  // headers ever being read, so none is built (responseParts reads the slot).
  // kExtra holds the rarely set attributes ({webSocket, url, redirected, type, cf}),
  // absent for a plain Response; they are prototype getters as in workerd, not own
  // properties.
  const kStatus = Symbol("status"), kStatusText = Symbol("statusText"), kHeaders = Symbol("headers");
  const kExtra = Symbol("extra");
  const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;
  const TEXT = "text/plain;charset=UTF-8";
  const nullBodyStatus = (s) => s === 101 || s === 204 || s === 205 || s === 304;
  // Web IDL ByteString conversion: ToString, which throws for a Symbol (String()
  // would turn it into "Symbol(x)").
  const byteString = (v, what) => {
    if (typeof v === "symbol") throw new TypeError(`Failed to construct 'Response': Cannot convert a Symbol value to a string (${what}).`);
    return `${v}`;
  };
  const headersOf = (r) => {
    const h = r[kHeaders];
    if (h !== null && typeof h === "object") return h;
    return (r[kHeaders] = N.headersOfType(h));
  };
  const flatOf = (h) => (h === null ? [] : typeof h === "string" ? ["content-type", h] : N.headersList(h));

  class Response {
    constructor(body = null, init = undefined) {
      const hasInit = init !== undefined && init !== null && typeof init === "object";
      let status = 200, statusText = "", ws = null, headers = null;
      if (hasInit) {
        status = init.status === undefined ? 200 : Number(init.status);
        ws = init.webSocket ?? null;
        if (ws !== null && status !== 101) // spec WS-4
          throw new RangeError("Responses with a WebSocket must have status code 101.");
        if (status === 101 && ws === null)
          throw new RangeError("Responses may only be constructed with status codes in the range 200 to 599, inclusive.");
        if (ws !== null && !N.isWebSocket(ws))
          throw new TypeError("Failed to construct 'Response': webSocket must be a WebSocket.");
        if (!Number.isInteger(status) || ((status < 200 || status > 599) && status !== 101))
          throw new RangeError(`Failed to construct 'Response': The status provided (${init.status}) is outside the range [200, 599].`);
        statusText = init.statusText === undefined ? "" : byteString(init.statusText, "statusText");
        if (statusText !== "" && !REASON.test(statusText)) throw new TypeError("Failed to construct 'Response': Invalid statusText.");
        const hi = init.headers;
        if (hi !== undefined) headers = new Headers(hi);
      }
      let src = null, ctype = null;
      if (body !== null && body !== undefined) {
        if (nullBodyStatus(status)) throw new TypeError(`Response with null body status (${status}) cannot have a body.`);
        if (typeof body === "string") { src = body; ctype = TEXT; }
        else { const x = N.extractBody(body); src = x[0]; ctype = x[1]; }
      }
      if (ctype !== null) {
        if (headers === null) headers = ctype;
        else if (!headers.has("content-type")) headers.append("content-type", ctype);
      }
      this[kStatus] = status;
      this[kStatusText] = statusText;
      this[kHeaders] = headers;
      this[kBody] = src;
      this[kUsed] = false;
      this[kStream] = null;
      const cf = hasInit ? init.cf : undefined;
      if (ws !== null || cf !== undefined) this[kExtra] = { webSocket: ws, url: "", redirected: false, type: "default", cf };
    }
    get status() { return this[kStatus]; }
    get statusText() { return this[kStatusText]; }
    get ok() { return this[kStatus] >= 200 && this[kStatus] < 300; }
    get headers() { return headersOf(this); }
    get webSocket() { return this[kExtra]?.webSocket ?? null; }
    get url() { return this[kExtra]?.url ?? ""; }
    get redirected() { return this[kExtra]?.redirected ?? false; }
    get type() { return this[kExtra]?.type ?? "default"; }
    get cf() { return this[kExtra]?.cf; }
    clone() {
      if (this[kUsed]) throw new TypeError("Failed to execute 'clone' on 'Response': Response body is already used");
      if (this.webSocket) throw new TypeError("Cannot clone a response to a WebSocket handshake.");
      const r = Object.create(Response.prototype);
      r[kStatus] = this[kStatus];
      r[kStatusText] = this[kStatusText];
      const h = this[kHeaders];
      r[kHeaders] = h !== null && typeof h === "object" ? new Headers(h) : h;
      r[kBody] = N.bodyTee(this);
      r[kUsed] = false;
      r[kStream] = null;
      const x = this[kExtra];
      if (x !== undefined) r[kExtra] = { webSocket: null, url: x.url, redirected: x.redirected, type: x.type, cf: x.cf };
      return r;
    }
    static json(data, init = {}) {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError("Response.json: the value cannot be converted to JSON.");
      const headers = new Headers(init?.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(text, { ...init, headers });
    }
    static redirect(url, status = 302) {
      if (![301, 302, 303, 307, 308].includes(status))
        throw new RangeError(`Failed to execute 'redirect' on 'Response': Invalid status code ${status}`);
      let href;
      try { href = new URL(String(url)).href; } catch { throw new TypeError(`Failed to execute 'redirect' on 'Response': Invalid URL "${url}"`); }
      const r = new Response(null, { status, headers: { location: href } });
      N.headersFreeze(headersOf(r));
      return r;
    }
    static error() {
      const r = new Response(null, { status: 200 });
      r[kStatus] = 0;
      r[kExtra] = { webSocket: null, url: "", redirected: false, type: "error", cf: undefined };
      N.headersFreeze(headersOf(r));
      return r;
    }
    get [Symbol.toStringTag]() { return "Response"; }
  }
  N.bodyMixin(Response);
  N.pinShapes(Response.prototype, [kStatus, kStatusText, kHeaders, kBody, kUsed, kStream]);
  globalThis.Response = Response;

  const describe = (v) => {
    if (v === undefined) return "undefined";
    if (v === null) return "null";
    if (typeof v === "string") return "a string";
    if (typeof v !== "object") return `a ${typeof v}`;
    const c = Object.getPrototypeOf(v)?.constructor?.name;
    return c && c !== "Object" ? `an instance of ${c}` : "a plain object";
  };
  // The hot path for responses that come back from a Durable Object: the parts were
  // validated by the Response the object made.
  N.makeResponse = (status, statusText, flat, body, url, redirected, ws) => {
    const r = Object.create(Response.prototype);
    r[kStatus] = status;
    r[kStatusText] = statusText;
    r[kHeaders] = N.headersFromFlat(flat);
    r[kBody] = body instanceof ArrayBuffer ? new Uint8Array(body) : body;
    r[kUsed] = false;
    r[kStream] = null;
    if (url !== undefined || ws !== undefined)
      r[kExtra] = { webSocket: ws ?? null, url: url ?? "", redirected: redirected === true, type: "default", cf: undefined };
    return r;
  };
  // For sending a Request or Response to an object: [status-or-method, …, body]
  // where body is what the message can carry without reading a stream (null, a
  // string or bytes), or undefined when the body must be read first.
  N.bodyPeek = (r) => {
    if (r[kUsed]) return undefined;
    if (r[kStream] !== null) return undefined;
    const b = r[kBody];
    if (b === null) return null;
    if (typeof b === "string" || b instanceof Uint8Array) { r[kUsed] = true; return b; }
    return undefined;
  };
  N.responseHead = (r) => [r[kStatus], r[kStatusText], flatOf(r[kHeaders]).slice()];
  // web_response_parts_get: [status, flatHeaders, body, statusText] where body is
  // null, a string, a Uint8Array or a ReadableStream, and a non-empty statusText is
  // sent as the reason phrase; or a string saying what v was instead.
  N.responseParts = (v) => {
    if (!(v instanceof Response)) return `the handler returned ${describe(v)}, not a Response`;
    if (v[kStatus] === 0) return [500, [], null];
    let body = null;
    if (v[kStream] || v[kBody] instanceof ReadableStream) {
      if (v[kUsed]) throw new TypeError("The Response body has already been used.");
      v[kUsed] = true;
      body = v[kStream] || v[kBody];
      if (body.locked) throw new TypeError("The Response body stream is locked to a reader.");
    } else if (v[kBody] !== null) {
      if (v[kUsed]) throw new TypeError("The Response body has already been used.");
      v[kUsed] = true;
      body = v[kBody];
    }
    return [v[kStatus], flatOf(v[kHeaders]), body, v[kStatusText]];
  };
})();
