// WebSocket, WebSocketPair, MessageEvent, CloseEvent, ErrorEvent (spec
// websockets.md WS-1..14). The wire side is C (web/websocket.c over net/ws.c): when
// a Worker returns `new Response(null, {status: 101, webSocket: client})`, C calls
// N.wsTake(response) and from then on the client end's peer (the server end the
// Worker kept) sends through N.wsSend/N.wsClose, and C delivers what arrives with
// N.wsDeliver. Two ends that never touched the wire talk to each other in memory.
// An outbound socket opened by a Durable Object belongs to it (s.owner, from
// N.objWsOwner in objects/js/50_objects.js): its sends, closes and connection
// attempt are outputs of the object's gate (WS-16, GATE-6), and its events after
// `open` run as events of the object (GATE-1/2), never as events of their own.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const enc = new TextEncoder();

  class MessageEvent extends Event {
    constructor(type, init = {}) {
      super(type, init);
      this.data = init?.data ?? null;
    }
  }
  class CloseEvent extends Event {
    constructor(type, init = {}) {
      super(type, init);
      this.code = init?.code ?? 0;
      this.reason = init?.reason ?? "";
      this.wasClean = !!init?.wasClean;
    }
  }
  class ErrorEvent extends Event {
    constructor(type, init = {}) {
      super(type, init);
      this.message = init?.message ?? "";
      this.error = init?.error ?? null;
    }
  }

  const CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3;
  const kS = Symbol("ws");
  let making = false;

  const newState = (readyState) => ({
    readyState, accepted: false, closedByMe: false, used: false, peer: null, wire: null,
    queue: [], handlers: {}, url: null, protocol: "", binaryType: "arraybuffer", pending: null,
    owner: null,
  });
  // The URL of an outbound socket: ws: or wss: (http: and https: are taken as
  // them), no fragment (WHATWG WebSockets "establish a WebSocket connection").
  const wsUrl = (url) => {
    let u;
    try { u = new URL(String(url)); } catch {
      throw new DOMException(`Failed to construct 'WebSocket': The URL '${url}' is invalid.`, "SyntaxError");
    }
    if (u.protocol === "http:") u.protocol = "ws:";
    else if (u.protocol === "https:") u.protocol = "wss:";
    if (u.protocol !== "ws:" && u.protocol !== "wss:")
      throw new DOMException(`Failed to construct 'WebSocket': The URL's scheme must be either 'ws' or 'wss'. '${u.protocol.slice(0, -1)}' is not allowed.`, "SyntaxError");
    if (u.hash !== "" || String(url).includes("#"))
      throw new DOMException("Failed to construct 'WebSocket': The URL contains a fragment identifier ('#'). Fragment identifiers are not allowed in WebSocket URLs.", "SyntaxError");
    return u;
  };
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const protocolList = (p) => {
    if (p === undefined) return [];
    const list = typeof p === "string" ? [p] : Array.from(p, String);
    const seen = new Set();
    for (const t of list) {
      if (!TOKEN.test(t)) throw new DOMException(`Failed to construct 'WebSocket': The subprotocol '${t}' is invalid.`, "SyntaxError");
      if (seen.has(t)) throw new DOMException(`Failed to construct 'WebSocket': The subprotocol '${t}' is duplicated.`, "SyntaxError");
      seen.add(t);
    }
    return list;
  };
  // [host, port, path and query, Host header] for N.wsConnect (u: ws: or wss:).
  const wireTarget = (u) => {
    const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
    const tls = u.protocol === "wss:";
    return [host, u.port ? Number(u.port) : tls ? 443 : 80, (u.pathname || "/") + u.search, u.host];
  };
  const headerOf = (flat, name) => {
    for (let i = 0; i < flat.length; i += 2) if (flat[i].toLowerCase() === name) return flat[i + 1];
    return null;
  };

  const state = (ws) => {
    const s = ws?.[kS];
    if (!s) throw new TypeError("Illegal invocation: not a WebSocket");
    return s;
  };

  // Events before accept() wait in s.queue; accept() replays them in a microtask
  // (after the caller has added its listeners).
  const deliver = (ws, ev) => {
    const s = ws[kS];
    if (!s.accepted) { s.queue.push(ev); return; }
    fire(ws, ev);
  };
  const fire = (ws, ev) => {
    if (ev.type === "close") ws[kS].readyState = CLOSED;
    ws.dispatchEvent(ev);
  };
  // An output on the wire: through the owner's gate, in order, or at once.
  const output = (s, fn) => (s.owner !== null ? s.owner.out(fn) : fn());
  // The owning object was reset (or its socket could not wait for its gate): the
  // connection goes (1011, as for the object's accepted sockets, WS-22) and
  // nothing more reaches the object's listeners.
  const ownerGone = (s, why) => {
    if (s.pending !== null) N.wsCancel(s.pending);
    if (typeof s.wire === "number") N.wsClose(s.wire, 1011, why);
    s.pending = s.wire = null;
    s.readyState = CLOSED;
  };
  const takeOwner = (s) => { s.owner = N.objWsOwner?.((why) => ownerGone(s, why)) ?? null; };

  class WebSocket extends EventTarget {
    // new WebSocket(url, protocols?): an outbound socket (WS-15); the ends of a
    // WebSocketPair and the other internal ones are made with `making` set.
    constructor(url, protocols) {
      if (making) {
        super();
        this[kS] = newState(OPEN);
        return;
      }
      if (arguments.length < 1) throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
      const u = wsUrl(url);
      const offered = protocolList(protocols);
      super();
      const s = this[kS] = newState(CONNECTING);
      s.accepted = true; // events flow at once, as in a browser
      s.url = u.href;
      s.offered = offered;
      // The answer to the connection runs where it is delivered: in the event that
      // opened the socket (for an object, that event of the object: like the
      // answer of a fetch(), GATE-3, it is not held behind the object's other
      // events, so awaiting `open` inside blockConcurrencyWhile() works).
      s.onHandshake = (ok, status, statusText, flat, body, error) => {
        if (s.readyState !== CONNECTING) return;
        if (ok) {
          s.protocol = headerOf(flat, "sec-websocket-protocol") ?? "";
          if (s.protocol !== "" && !offered.includes(s.protocol)) {
            // RFC 6455 4.1: a subprotocol we did not ask for fails the connection.
            N.wsClose(s.pending, 1002, "");
            s.pending = null;
            fire(this, new ErrorEvent("error", { message: `WebSocket: the server chose the subprotocol ${JSON.stringify(s.protocol)}, which was not offered` }));
            return;
          }
          s.wire = s.pending;
          s.pending = null;
          s.readyState = OPEN;
          fire(this, new Event("open"));
          return;
        }
        s.pending = null;
        failed(this, `WebSocket connection to ${s.url} failed: ${error}`);
      };
      takeOwner(s);
      const hdrs = offered.length ? ["Sec-WebSocket-Protocol", offered.join(", ")] : [];
      const connect = () => { s.pending = N.wsConnect(this, ...wireTarget(u), hdrs, u.protocol === "wss:"); };
      if (s.owner === null) { connect(); return; }
      // GATE-6: opened after a write not yet committed, the connection is made once
      // the write is durable. Made now, an attempt that cannot even start throws
      // here; made later, it fails as a connection does (error, then close 1006).
      let now = true;
      try {
        output(s, () => {
          if (now) return connect();
          if (s.readyState !== CONNECTING || s.closedByMe) return;
          try { connect(); } catch (e) { failed(this, `WebSocket connection to ${s.url} failed: ${e.message}`); }
        });
      } catch (e) {
        s.owner.done();
        throw e;
      }
      now = false;
    }
    get readyState() { return state(this).readyState; }
    get url() { return state(this).url; }
    get protocol() { return state(this).protocol; }
    get extensions() { return ""; }
    // Bytes given to send() that the peer has not taken yet: those in the kernel's
    // send buffer are counted as taken. Past WS_SEND_QUEUE_BYTES_MAX (16 MiB) the
    // connection is dropped (docs/websockets.md).
    get bufferedAmount() {
      const s = state(this);
      return typeof s.wire === "number" ? N.wsBuffered(s.wire) : 0;
    }
    get binaryType() { return state(this).binaryType; }
    set binaryType(v) {
      if (v !== "arraybuffer" && v !== "blob") throw new SyntaxError(`WebSocket.binaryType must be "arraybuffer" or "blob", not ${JSON.stringify(v)}`);
      state(this).binaryType = v;
    }
    accept() {
      const s = state(this);
      if (s.hibernatable) throw new TypeError("Can't accept() WebSocket after enabling hibernation.");
      if (s.used) throw new TypeError("Can't accept() a WebSocket that was returned in a Response.");
      if (s.accepted) return;
      s.accepted = true;
      if (s.queue.length) {
        const q = s.queue.splice(0);
        queueMicrotask(() => { for (const ev of q) fire(this, ev); });
      }
    }
    send(data) {
      const s = state(this);
      if (arguments.length < 1) throw new TypeError("Failed to execute 'send' on 'WebSocket': 1 argument required, but only 0 present.");
      if (s.readyState === CONNECTING) throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", "InvalidStateError");
      if (!s.accepted)
        throw new TypeError("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.");
      if (s.closedByMe) throw new TypeError("Can't call WebSocket send() after close().");
      if (s.readyState === CLOSED) return; // the peer is gone (WS-9)
      let msg;
      if (typeof data === "string") msg = data;
      else if (data instanceof ArrayBuffer) msg = data.slice(0);
      else if (ArrayBuffer.isView(data)) msg = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
      else msg = String(data);
      if (s.wire !== null) {
        const wire = s.wire;
        if (typeof wire === "number") output(s, () => N.wsSend(wire, msg)); else wire.send(msg);
        return;
      }
      const p = s.peer;
      if (p && p[kS].readyState !== CLOSED) deliver(p, new MessageEvent("message", { data: msg }));
    }
    close(code, reason) {
      const s = state(this);
      if (code === undefined && reason !== undefined)
        throw new DOMException("If close() is called with a reason, it must also be given a code.", "InvalidAccessError");
      if (code !== undefined) {
        code = Number(code);
        if (!Number.isInteger(code) || code < 1000 || code > 4999 || [1004, 1005, 1006, 1015].includes(code))
          throw new DOMException(`The close code must be 1000 or in the range 1007..4999 and not 1015; ${code} is not allowed.`, "InvalidAccessError");
      }
      reason = reason === undefined ? "" : String(reason);
      if (enc.encode(reason).length > 123)
        throw new DOMException("The close reason may be at most 123 bytes of UTF-8.", "SyntaxError");
      if (s.closedByMe || s.readyState === CLOSED) return;
      s.closedByMe = true;
      if (s.readyState === CONNECTING) { // the attempt stops; error and close follow
        if (s.pending !== null) N.wsCancel(s.pending);   // null: its start waits for the gate
        s.pending = null;
        s.readyState = CLOSING;
        queueMicrotask(() => {
          fire(this, new ErrorEvent("error", { message: "WebSocket was closed before the connection was established" }));
          fire(this, new CloseEvent("close", { code: 1006, reason: "", wasClean: false }));
          s.owner?.done();
        });
        return;
      }
      s.readyState = CLOSING;
      if (s.wire !== null) {
        const wire = s.wire;
        if (typeof wire === "number") output(s, () => N.wsClose(wire, code ?? 0, reason)); else wire.close(code ?? 0, reason);
        return;
      }
      const p = s.peer;
      if (p && p[kS].readyState !== CLOSED)
        deliver(p, new CloseEvent("close", { code: code ?? 1005, reason, wasClean: true }));
    }
    // HIB-12..14: a structured-clone copy kept with the socket.
    serializeAttachment(value) {
      const s = state(this);
      const bytes = N.cloneWrite(value, 0, 0);
      if (bytes.byteLength > ATTACHMENT_BYTES_MAX)
        throw new Error(`A WebSocket 'attachment' cannot be larger than ${ATTACHMENT_BYTES_MAX} bytes. 'attachment' was ${bytes.byteLength} bytes.`);
      s.attachment = bytes;
    }
    deserializeAttachment() {
      const s = state(this);
      return s.attachment ? N.cloneRead(s.attachment) : null;
    }
    get [Symbol.toStringTag]() { return "WebSocket"; }
  }
  const ATTACHMENT_BYTES_MAX = 16384;
  // An outbound socket whose connection failed: error, then close 1006.
  const failed = (ws, msg) => {
    fire(ws, new ErrorEvent("error", { message: msg, error: new Error(msg) }));
    fire(ws, new CloseEvent("close", { code: 1006, reason: "", wasClean: false }));
    ws[kS].owner?.done();
  };
  for (const [k, v] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
    for (const t of [WebSocket, WebSocket.prototype]) {
      Object.defineProperty(t, k, { value: v, enumerable: true });
      Object.defineProperty(t, `READY_STATE_${k}`, { value: v, enumerable: true });
    }
  }
  // onmessage/onclose/onerror/onopen: one listener each, replaced on assignment.
  for (const type of ["message", "close", "error", "open"]) {
    Object.defineProperty(WebSocket.prototype, `on${type}`, {
      get() { return state(this).handlers[type]?.fn ?? null; },
      set(fn) {
        const h = state(this).handlers;
        if (h[type]) this.removeEventListener(type, h[type].listener);
        h[type] = null;
        if (typeof fn === "function") {
          const listener = (e) => fn.call(this, e);
          h[type] = { fn, listener };
          this.addEventListener(type, listener);
        }
      },
      configurable: true,
    });
  }

  class WebSocketPair {
    constructor() {
      making = true;
      let a, b;
      try { a = new WebSocket(); b = new WebSocket(); } finally { making = false; }
      a[kS].peer = b;
      b[kS].peer = a;
      Object.defineProperty(this, 0, { value: a, enumerable: true });
      Object.defineProperty(this, 1, { value: b, enumerable: true });
    }
    get [Symbol.toStringTag]() { return "WebSocketPair"; }
  }

  // ---- the wire (web/websocket.c) ----

  // The Worker returned a 101: check its client end and hand C the server end,
  // which C keeps (as the target of N.wsDeliver) and names with `wire`.
  // The client end of a 101: checked and marked used; returns the end C keeps.
  const takeClient = (ws) => {
    if (!(ws instanceof WebSocket)) throw new TypeError("A 101 Response needs a webSocket (the client end of a WebSocketPair).");
    const s = ws[kS];
    if (s.accepted) throw new TypeError("Can't return WebSocket in a Response after calling accept().");
    if (s.used) throw new TypeError("This WebSocket was already returned in another Response.");
    if (s.remote) { s.used = true; return ws; } // a Durable Object holds the server end
    if (!s.peer || s.peer[kS].wire !== null) throw new TypeError("This WebSocket's other end is already connected elsewhere.");
    s.used = true;
    return s.peer;
  };
  N.wsTake = (response) => takeClient(response?.webSocket);
  // What the server end sent before the upgrade waits in the client end's queue:
  // it goes out now, after the 101, in order.
  const sendEarly = (server, send, close) => {
    for (const ev of server[kS].peer[kS].queue.splice(0)) {
      if (ev.type === "message") send(ev.data);
      else if (ev.type === "close") close(ev.code === 1005 ? 0 : ev.code, ev.reason);
    }
  };
  N.wsBind = (server, wire) => {
    const s = server[kS];
    if (s.remote) { s.remote.bind(wire); return; }
    s.wire = wire;
    sendEarly(server, (m) => N.wsSend(wire, m), (c, r) => N.wsClose(wire, c, r));
  };
  // kind 0: a message (data a string or an ArrayBuffer); kind 1: the end (code,
  // reason, wasClean, and `error` text when the connection failed).
  N.wsDeliver = (ws, kind, data, code, reason, clean, error) => {
    const s = ws[kS];
    if (s.remote) { s.remote.deliver(kind, data, code, reason, clean, error); return; }
    if (s.owner !== null) {
      s.owner.deliver(() => {
        deliverNow(ws, kind, data, code, reason, clean, error);
        if (kind === 1) s.owner.done();
      });
      return;
    }
    deliverNow(ws, kind, data, code, reason, clean, error);
  };
  const deliverNow = (ws, kind, data, code, reason, clean, error) => {
    const s = ws[kS];
    if (kind === 0) {
      if (s.binaryType === "blob" && data instanceof ArrayBuffer) data = new Blob([data]);
      deliver(ws, new MessageEvent("message", { data }));
      return;
    }
    s.wire = null;
    if (s.readyState === CLOSED) return;
    if (error) deliver(ws, new ErrorEvent("error", { message: error, error: new Error(error) }));
    deliver(ws, new CloseEvent("close", { code, reason, wasClean: clean }));
    if (!s.accepted) s.readyState = CLOSED;
  };
  // The handshake of an outbound socket is over (web/websocket.c).
  N.wsHandshake = (ws, ok, status, statusText, flat, body, error) =>
    ws[kS].onHandshake(ok, status, statusText, flat, body, error);
  // fetch(url, {headers: {Upgrade: "websocket"}}) (WS-15, 45_fetch.js): resolves
  // to a 101 Response whose webSocket the Worker accept()s (events before that
  // wait), or to the server's plain answer when it did not switch.
  N.wsFetchUpgrade = (req) => new Promise((resolve, reject) => {
    const u = new URL(req.url);
    if (u.protocol === "http:") u.protocol = "ws:";
    else if (u.protocol === "https:") u.protocol = "wss:";
    if (u.protocol !== "ws:" && u.protocol !== "wss:") throw new TypeError(`fetch failed: the URL's scheme is not http or https: ${req.url}`);
    if (req.method !== "GET") throw new TypeError(`fetch failed: a WebSocket upgrade request must use GET, not ${req.method}`);
    making = true;
    let ws;
    try { ws = new WebSocket(); } finally { making = false; }
    const s = ws[kS];
    s.readyState = CONNECTING;
    // The answer is the continuation of the fetch (GATE-3), not an event of the
    // owner; only the socket's own events are.
    s.onHandshake = (ok, status, statusText, flat, body, error) => {
      if (!ok) s.owner?.done();
      if (ok) {
        s.wire = s.pending;
        s.pending = null;
        s.readyState = OPEN;
        s.protocol = headerOf(flat, "sec-websocket-protocol") ?? "";
        resolve(N.makeResponse(101, statusText, flat, null, req.url, false, ws));
      } else if (status) {
        resolve(N.makeResponse(status, statusText, flat, [204, 205, 304].includes(status) ? null : body, req.url, false));
      } else {
        reject(new TypeError(`fetch failed: ${error}`));
      }
    };
    const signal = req.signal;
    signal?.throwIfAborted?.();
    const flat = N.requestHead(req)[2];
    s.pending = N.wsConnect(ws, ...wireTarget(u), flat, u.protocol === "wss:");
    // fetch() waited for the gate already (45_fetch.js); the sends wait from here.
    takeOwner(s);
    // An abort before the answer stops the attempt; after it, it changes nothing.
    const onAbort = () => {
      if (s.pending === null || s.readyState !== CONNECTING) return;
      N.wsCancel(s.pending);
      s.pending = null;
      s.readyState = CLOSED;
      s.owner?.done();
      reject(signal.reason);
    };
    signal?.addEventListener?.("abort", onAbort, { once: true });
  });
  // ---- for Durable Objects (objects/js/50_objects.js) ----
  // The object side: the server end of the pair whose client end `response` returns;
  // its sends go to `wire` ({ send(msg), close(code, reason) }).
  N.wsTakeForObject = (response, wire) => {
    const server = takeClient(response.webSocket);
    server[kS].wire = wire;
    sendEarly(server, wire.send, wire.close);
    return server;
  };
  // The Worker side: a client end standing for a server end in an object;
  // remote = { bind(wireId), deliver(kind, data, code, reason, clean, error) }.
  N.wsRemoteClient = (remote) => {
    making = true;
    let ws;
    try { ws = new WebSocket(); } finally { making = false; }
    ws[kS].remote = remote;
    return ws;
  };
  N.isWebSocket = (v) => v instanceof WebSocket;
  // ---- the Hibernation API's side of a socket (50_objects.js) ----
  // ctx.acceptWebSocket(ws, tags): checks (HIB-2) and marks the server end; its
  // events then go to the object's handlers, never to listeners (HIB-1).
  N.wsHibernate = (ws, tags) => {
    if (!(ws instanceof WebSocket)) throw new TypeError("acceptWebSocket: the first argument must be a WebSocket");
    const s = ws[kS];
    if (s.hibernatable) return;
    if (s.accepted) throw new Error("Cannot call `acceptWebSocket()` if the WebSocket was already accepted via `accept()`");
    if (s.used || s.remote || (s.peer && s.peer[kS].accepted))
      throw new Error("acceptWebSocket: this WebSocket's other end was already accepted, or this end was returned in a Response");
    s.hibernatable = true;
    s.accepted = true;
    s.tags = tags;
  };
  N.wsIsHibernatable = (ws) => ws instanceof WebSocket && !!ws[kS].hibernatable;
  N.wsTags = (ws) => ws[kS].tags;
  N.wsMarkClosed = (ws) => { ws[kS].readyState = CLOSED; ws[kS].wire = null; };

  // HIB-15: ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(req, resp)).
  class WebSocketRequestResponsePair {
    #request; #response;
    constructor(request, response) {
      request = String(request);
      response = String(response);
      if (enc.encode(request).length > 2048) throw new RangeError("Request cannot be larger than 2048 bytes.");
      if (enc.encode(response).length > 2048) throw new RangeError("Response cannot be larger than 2048 bytes.");
      this.#request = request;
      this.#response = response;
    }
    get request() { return this.#request; }
    get response() { return this.#response; }
    getRequest() { return this.#request; }
    getResponse() { return this.#response; }
  }
  globalThis.WebSocketRequestResponsePair = WebSocketRequestResponsePair;
  globalThis.WebSocket = WebSocket;
  globalThis.WebSocketPair = WebSocketPair;
  globalThis.MessageEvent = MessageEvent;
  globalThis.CloseEvent = CloseEvent;
  globalThis.ErrorEvent = globalThis.ErrorEvent ?? ErrorEvent;
})();
