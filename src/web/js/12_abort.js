// AbortController and AbortSignal (spec: workers.md WEB-15; WHATWG DOM "Aborting
// ongoing activities").
//
// For the rest of the platform (fetch, EventTarget's `signal` option) this file
// registers on the native object:
//   N.isAbortSignal(x)            brand check
//   N.abortSignalOnAbort(s, fn)   runs fn() when s aborts, before the 'abort'
//                                 event is fired (the standard's "abort algorithms")
//   N.abortSignalAbort(s, reason) aborts s (reason undefined: AbortError)
// AbortSignal.timeout() uses globalThis.setTimeout as it is at call time; the timer
// is the caller's (it keeps the event alive until it fires, as on Workers).
(() => {
  "use strict";
  const N = globalThis.__durable;

  const defineGlobal = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  const tag = (cls, name) =>
    Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: name, configurable: true });
  const kCreate = Symbol("create");

  const signals = new WeakMap();
  const signalState = (s, member) => {
    const st = signals.get(s);
    if (!st) throw new TypeError(`Failed to execute '${member}' on 'AbortSignal': Illegal invocation`);
    return st;
  };
  const report = (e) => {
    try {
      N.reportError?.(e);
    } catch {
      // never throw out of abort
    }
  };

  const defaultReason = () => new DOMException("This operation was aborted", "AbortError");

  // The standard's "signal abort": mark this signal and its dependents first, then
  // run algorithms and fire 'abort' on each, so listeners see consistent state.
  const signalAbort = (signal, reason) => {
    const st = signals.get(signal);
    if (st.aborted) return;
    if (reason === undefined) reason = defaultReason();
    st.aborted = true;
    st.reason = reason;
    const toFire = [signal];
    for (const dep of st.dependents) {
      const ds = signals.get(dep);
      if (ds.aborted) continue;
      ds.aborted = true;
      ds.reason = reason;
      toFire.push(dep);
    }
    st.dependents.clear();
    for (const s of toFire) {
      const ss = signals.get(s);
      const algorithms = ss.algorithms;
      ss.algorithms = [];
      for (const fn of algorithms) {
        try {
          fn();
        } catch (e) {
          report(e);
        }
      }
      N.dispatchTrusted(s, new Event("abort"));
    }
  };

  class AbortSignal extends EventTarget {
    constructor(key = undefined) {
      if (key !== kCreate) throw new TypeError("Failed to construct 'AbortSignal': Illegal constructor");
      super();
      signals.set(this, {
        aborted: false,
        reason: undefined,
        algorithms: [],
        dependents: new Set(),
        onabort: null,
        handlerAdded: false,
        sources: null,   // a Set for signals made by AbortSignal.any()
      });
    }
    get aborted() { return signalState(this, "aborted").aborted; }
    get reason() { return signalState(this, "reason").reason; }
    throwIfAborted() {
      const st = signalState(this, "throwIfAborted");
      if (st.aborted) throw st.reason;
    }
    get onabort() { return signalState(this, "onabort").onabort; }
    set onabort(v) {
      const st = signalState(this, "onabort");
      st.onabort = typeof v === "function" || (v !== null && typeof v === "object") ? v : null;
      // An event handler is one listener, added when it is first set (HTML).
      if (st.onabort && !st.handlerAdded) {
        st.handlerAdded = true;
        const self = this;
        this.addEventListener("abort", function (e) {
          const h = st.onabort;
          if (typeof h === "function") h.call(self, e);
        });
      }
    }

    static abort(reason = undefined) {
      const s = new AbortSignal(kCreate);
      const st = signals.get(s);
      st.aborted = true;
      st.reason = reason === undefined ? defaultReason() : reason;
      return s;
    }

    static timeout(milliseconds) {
      if (arguments.length < 1)
        throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': 1 argument required, but only 0 present.");
      // WebIDL [EnforceRange] unsigned long long
      const ms = typeof milliseconds === "bigint" ? NaN : Number(milliseconds);
      if (!Number.isFinite(ms) || Math.trunc(ms) < 0 || Math.trunc(ms) > Number.MAX_SAFE_INTEGER)
        throw new TypeError(`Failed to execute 'timeout' on 'AbortSignal': Value is outside the 'unsigned long long' value range.`);
      const s = new AbortSignal(kCreate);
      const setTimeout = globalThis.setTimeout;
      if (typeof setTimeout !== "function")
        throw new TypeError("AbortSignal.timeout: timers are not available in this context");
      setTimeout(() => {
        signalAbort(s, new DOMException("The operation was aborted due to timeout", "TimeoutError"));
      }, Math.trunc(ms));
      return s;
    }

    static any(signals_) {
      if (arguments.length < 1)
        throw new TypeError("Failed to execute 'any' on 'AbortSignal': 1 argument required, but only 0 present.");
      if (signals_ === null || (typeof signals_ !== "object" && typeof signals_ !== "function") ||
          typeof signals_[Symbol.iterator] !== "function")
        throw new TypeError("Failed to execute 'any' on 'AbortSignal': The provided value cannot be converted to a sequence.");
      const list = [];
      for (const s of signals_) {
        if (!signals.has(s))
          throw new TypeError("Failed to execute 'any' on 'AbortSignal': Failed to convert value to 'AbortSignal'.");
        list.push(s);
      }
      const out = new AbortSignal(kCreate);
      const os = signals.get(out);
      for (const s of list) {
        const st = signals.get(s);
        if (st.aborted) {
          os.aborted = true;
          os.reason = st.reason;
          return out;
        }
      }
      // A dependent signal follows the sources of its sources (never a chain), so
      // aborting a source reaches every signal built from it in one step.
      os.sources = new Set();
      for (const s of list) {
        const st = signals.get(s);
        for (const src of st.sources || [s]) os.sources.add(src);
      }
      for (const src of os.sources) signals.get(src).dependents.add(out);
      return out;
    }
  }
  tag(AbortSignal, "AbortSignal");
  defineGlobal("AbortSignal", AbortSignal);

  const controllers = new WeakMap();
  class AbortController {
    constructor() {
      controllers.set(this, new AbortSignal(kCreate));
    }
    get signal() {
      const s = controllers.get(this);
      if (!s) throw new TypeError("Failed to execute 'signal' on 'AbortController': Illegal invocation");
      return s;
    }
    abort(reason = undefined) {
      const s = controllers.get(this);
      if (!s) throw new TypeError("Failed to execute 'abort' on 'AbortController': Illegal invocation");
      signalAbort(s, reason);
    }
  }
  tag(AbortController, "AbortController");
  defineGlobal("AbortController", AbortController);

  N.isAbortSignal = (x) => signals.has(x);
  N.abortSignalOnAbort = (s, fn) => {
    const st = signals.get(s);
    if (!st) throw new TypeError("not an AbortSignal");
    if (st.aborted) return;
    st.algorithms.push(fn);
  };
  N.abortSignalAbort = (s, reason) => {
    if (!signals.has(s)) throw new TypeError("not an AbortSignal");
    signalAbort(s, reason);
  };
  N.newAbortSignal = () => new AbortSignal(kCreate);
})();
