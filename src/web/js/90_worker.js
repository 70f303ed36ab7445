// The Worker side of a request: ExecutionContext, FetchEvent and
// addEventListener (service-worker format), the classes of "cloudflare:workers",
// and the dispatcher that C calls for each request (worker/worker.c).
// spec: workers.md WRK-1..4, WRK-20..22, CTX-1..3
(() => {
  "use strict";
  const N = globalThis.__durable;
  const logError = (what, e) => {
    const text = e instanceof Error && typeof e.stack === "string" ? `${e.name}: ${e.message}\n${e.stack}` : String(e);
    N.logError(`${what}: ${text}`);
  };

  const kId = Symbol("requestId"), kEvent = Symbol("event");
  class ExecutionContext {
    constructor(id, ev) {
      this[kId] = id;
      this[kEvent] = ev;
      this.props = {};
    }
    // The request's event stays open (its timers alive, its CPU counted) until
    // every waitUntil promise has settled (WRK-30, CTX-1).
    waitUntil(promise) {
      if (arguments.length < 1)
        throw new TypeError("Failed to execute 'waitUntil' on 'ExecutionContext': 1 argument required, but only 0 present.");
      const ev = this[kEvent];
      N.eventHold(ev, 1);
      Promise.resolve(promise).then(undefined, (e) => logError("Uncaught (in waitUntil promise)", e))
        .finally(() => N.eventHold(ev, -1));
    }
    passThroughOnException() {
      // No origin is configured, so a later exception still gives a 500 (CTX-2).
    }
  }
  Object.defineProperty(ExecutionContext.prototype, Symbol.toStringTag, { value: "ExecutionContext" });
  N.pinShapes(ExecutionContext.prototype, [kId, kEvent, "props"]);

  // ---- cloudflare:workers ----
  class DurableObject {
    constructor(ctx, env) {
      this.ctx = ctx;
      this.env = env;
    }
  }
  class WorkerEntrypoint {
    constructor(ctx, env) {
      this.ctx = ctx;
      this.env = env;
    }
  }
  class RpcTarget {}
  class WorkflowEntrypoint {
    constructor(ctx, env) {
      this.ctx = ctx;
      this.env = env;
    }
  }
  N.cloudflareWorkers = { DurableObject, WorkerEntrypoint, RpcTarget, WorkflowEntrypoint, env: undefined };

  // ---- service-worker format ----
  const listeners = { fetch: [], scheduled: [] };
  const BaseEvent = typeof globalThis.Event === "function" ? globalThis.Event : class { constructor(type) { this.type = type; } };
  const kResponse = Symbol("response");
  const kDispatching = Symbol("dispatching");
  class FetchEvent extends BaseEvent {
    constructor(type, init) {
      super(type);
      this.request = init?.request;
      this[kResponse] = undefined;
      this[kDispatching] = false;
      this._ctx = init?._ctx;
    }
    respondWith(r) {
      if (!this[kDispatching])
        throw new Error("FetchEvent.respondWith() must be called synchronously while the event is dispatched.");
      if (this[kResponse] !== undefined)
        throw new Error("FetchEvent.respondWith() has already been called; it can be called only once.");
      this[kResponse] = Promise.resolve(r);
    }
    waitUntil(p) { this._ctx.waitUntil(p); }
    passThroughOnException() { this._ctx.passThroughOnException(); }
  }
  globalThis.FetchEvent = FetchEvent;
  globalThis.ExecutionContext = ExecutionContext;
  const addEventListener = function addEventListener(type, fn) {
    if (typeof fn !== "function" && !(fn && typeof fn.handleEvent === "function"))
      throw new TypeError("addEventListener: the listener must be a function or an object with handleEvent()");
    const list = listeners[type];
    if (!list) return; // other event types are accepted and never fire
    if (!list.includes(fn)) list.push(fn);
  };
  const removeEventListener = function removeEventListener(type, fn) {
    const list = listeners[type];
    if (!list) return;
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  };
  globalThis.addEventListener = addEventListener;
  globalThis.removeEventListener = removeEventListener;
  N.swListenerCount = () => listeners.fetch.length;

  // ---- dispatch (called from C for each request) ----
  // N.mode: 1 = module (N.handler = default export), 2 = service worker.
  const noFetch = () => new Error("Handler does not export a fetch() function.");
  const callModule = (request, ctx) => {
    const h = N.handler;
    if (typeof h === "function" && h.prototype instanceof WorkerEntrypoint) {
      const inst = new h(ctx, N.env);
      if (typeof inst.fetch !== "function") throw noFetch();
      return inst.fetch(request);
    }
    if (h === null || h === undefined || typeof h.fetch !== "function") throw noFetch();
    return h.fetch(request, N.env, ctx);
  };
  const callServiceWorker = (request, ctx) => {
    if (listeners.fetch.length === 0) throw noFetch();
    const ev = new FetchEvent("fetch", { request, _ctx: ctx });
    ev[kDispatching] = true;
    try {
      for (const fn of listeners.fetch) {
        if (typeof fn === "function") fn.call(globalThis, ev); else fn.handleEvent(ev);
      }
    } finally {
      ev[kDispatching] = false;
    }
    if (ev[kResponse] === undefined)
      throw new Error("No fetch listener called respondWith(), and durable has no origin to pass the request to.");
    return ev[kResponse];
  };
  const done = N.fetchDone, failed = N.fetchFailed;
  N.dispatchFetch = (id, request, ev) => {
    if (N.requestScope) return N.requestScope(() => dispatch(id, request, ev));
    return dispatch(id, request, ev);
  };
  const dispatch = (id, request, ev) => {
    const ctx = new ExecutionContext(id, ev);
    let r;
    try {
      r = N.mode === 1 ? callModule(request, ctx) : callServiceWorker(request, ctx);
    } catch (e) {
      failed(id, e);
      return;
    }
    if (r !== null && typeof r === "object" && typeof r.then === "function")
      r.then((v) => done(id, v), (e) => failed(id, e));
    else
      done(id, r);
  };
  // A Response whose body is a stream: worker.c has sent the head; each chunk goes
  // to the client as it comes. While more than HIGH bytes wait for the client the
  // stream is not read (so a fast source behind a slow client is paused, not
  // buffered), checking again every millisecond until the queue is under LOW.
  const HIGH = 1 << 20, LOW = 256 << 10;
  const notBytes = () => new TypeError("This ReadableStream did not return bytes.");
  N.streamBody = (id, stream) => {
    const reader = stream.getReader();
    const fail = (e) => { N.bodyEnd(id, e); reader.cancel(e).catch(() => {}); };
    const drain = () => new Promise((resolve) => {
      const check = () => { const q = N.bodyQueued(id); if (q < 0 || q < LOW) resolve(); else setTimeout(check, 1); };
      setTimeout(check, 1);
    });
    const step = () => {
      reader.read().then(({ value, done }) => {
        if (done) { N.bodyEnd(id); return; }
        if (!(value instanceof Uint8Array || value instanceof ArrayBuffer || ArrayBuffer.isView(value))) { fail(notBytes()); return; }
        const q = N.bodyChunk(id, value);
        if (q < 0) { N.bodyEnd(id); reader.cancel(new Error("The client went away.")).catch(() => {}); return; }
        if (q > HIGH) drain().then(step); else step();
      }, fail);
    };
    step();
  };
})();
