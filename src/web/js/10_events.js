// DOMException, Event, CustomEvent, EventTarget, plus the small globals that hang
// off the event model: performance, navigator, queueMicrotask.
// spec: workers.md WEB-13 (queueMicrotask), WEB-16, WEB-19, WEB-20; WHATWG DOM, WebIDL.
//
// There is no DOM tree in a Worker, so dispatch has a single target: capture
// listeners run first, then the others, all in the AT_TARGET phase (as the DOM
// standard orders listeners at the target). An exception thrown by a listener is
// reported (console.error, like an uncaught error) and the next listener still runs.
// Internal state lives in WeakMaps keyed by the public object, so user code cannot
// reach it and a wrong receiver gets "Illegal invocation".
(() => {
  "use strict";
  const N = globalThis.__durable;

  const defineGlobal = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  const tag = (cls, name) =>
    Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: name, configurable: true });
  const illegal = (iface, member) =>
    new TypeError(`Failed to execute '${member}' on '${iface}': Illegal invocation`);
  const needArgs = (iface, member, n, got) => {
    if (got < n) {
      const what = member === null ? `construct '${iface}'` : `execute '${member}' on '${iface}'`;
      throw new TypeError(`Failed to ${what}: ${n} argument${n > 1 ? "s" : ""} required, but only ${got} present.`);
    }
  };
  // WebIDL DOMString conversion: like String(), but a Symbol is a TypeError.
  const toDOMString = (v) => `${v}`;

  // Errors from listeners and microtasks: 15_console.js installs N.reportError.
  const report = (e) => {
    try {
      if (typeof N.reportError === "function") return N.reportError(e);
      N.consoleWrite?.("error", "Uncaught " + (e && e.stack ? `${e}\n${e.stack}` : String(e)));
    } catch {
      // Reporting must never throw into the dispatcher.
    }
  };

  // ---- DOMException ----

  const codes = {
    IndexSizeError: 1, DOMStringSizeError: 2, HierarchyRequestError: 3, WrongDocumentError: 4,
    InvalidCharacterError: 5, NoDataAllowedError: 6, NoModificationAllowedError: 7,
    NotFoundError: 8, NotSupportedError: 9, InUseAttributeError: 10, InvalidStateError: 11,
    SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15,
    ValidationError: 16, TypeMismatchError: 17, SecurityError: 18, NetworkError: 19,
    AbortError: 20, URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23,
    InvalidNodeTypeError: 24, DataCloneError: 25,
  };
  const constants = [
    "INDEX_SIZE_ERR", "DOMSTRING_SIZE_ERR", "HIERARCHY_REQUEST_ERR", "WRONG_DOCUMENT_ERR",
    "INVALID_CHARACTER_ERR", "NO_DATA_ALLOWED_ERR", "NO_MODIFICATION_ALLOWED_ERR", "NOT_FOUND_ERR",
    "NOT_SUPPORTED_ERR", "INUSE_ATTRIBUTE_ERR", "INVALID_STATE_ERR", "SYNTAX_ERR",
    "INVALID_MODIFICATION_ERR", "NAMESPACE_ERR", "INVALID_ACCESS_ERR", "VALIDATION_ERR",
    "TYPE_MISMATCH_ERR", "SECURITY_ERR", "NETWORK_ERR", "ABORT_ERR", "URL_MISMATCH_ERR",
    "QUOTA_EXCEEDED_ERR", "TIMEOUT_ERR", "INVALID_NODE_TYPE_ERR", "DATA_CLONE_ERR",
  ];
  const domNames = new WeakMap();

  // Extends Error so that instances are real Error objects: they carry a stack,
  // `instanceof Error` holds, and the runtime's exception logger prints them.
  class DOMException extends Error {
    constructor(message = "", options = "Error") {
      message = toDOMString(message);
      let name = "Error";
      let cause;
      let hasCause = false;
      if (options !== null && typeof options === "object") {
        if (options.name !== undefined) name = toDOMString(options.name);
        if ("cause" in options) {
          hasCause = true;
          cause = options.cause;
        }
      } else if (options !== undefined) {
        name = toDOMString(options);
      }
      super(message);
      domNames.set(this, name);
      if (hasCause)
        Object.defineProperty(this, "cause", { value: cause, writable: true, configurable: true, enumerable: false });
    }
    get name() {
      const n = domNames.get(this);
      if (n === undefined) throw illegal("DOMException", "name");
      return n;
    }
    get code() {
      const n = domNames.get(this);
      if (n === undefined) throw illegal("DOMException", "code");
      return Object.prototype.hasOwnProperty.call(codes, n) ? codes[n] : 0;
    }
  }
  constants.forEach((c, i) => {
    const d = { value: i + 1, writable: false, enumerable: true, configurable: false };
    Object.defineProperty(DOMException, c, d);
    Object.defineProperty(DOMException.prototype, c, d);
  });
  tag(DOMException, "DOMException");
  defineGlobal("DOMException", DOMException);

  // ---- clock (events.c): performance.now(), Event.timeStamp ----

  const monotonicMs = N.monotonicMs;
  const origin = N.monotonicOriginMs;
  const now = () => monotonicMs() - origin;

  // ---- Event ----

  const NONE = 0, CAPTURING_PHASE = 1, AT_TARGET = 2, BUBBLING_PHASE = 3;
  const events = new WeakMap();
  const eventState = (e, member) => {
    const s = events.get(e);
    if (!s) throw illegal("Event", member);
    return s;
  };
  const dictionary = (iface, v, dictName) => {
    if (v === undefined || v === null) return {};
    if (typeof v !== "object" && typeof v !== "function")
      throw new TypeError(`Failed to construct '${iface}': The provided value is not of type '${dictName}'.`);
    return v;
  };

  class Event {
    constructor(type, eventInitDict = undefined) {
      needArgs(new.target?.name || "Event", null, 1, arguments.length);
      const init = dictionary(new.target?.name || "Event", eventInitDict, "EventInit");
      events.set(this, {
        type: toDOMString(type),
        bubbles: !!init.bubbles,
        cancelable: !!init.cancelable,
        composed: !!init.composed,
        canceled: false,
        stop: false,
        stopImmediate: false,
        inPassive: false,
        dispatching: false,
        trusted: false,
        target: null,
        currentTarget: null,
        phase: NONE,
        timeStamp: now(),
      });
    }
    get type() { return eventState(this, "type").type; }
    get bubbles() { return eventState(this, "bubbles").bubbles; }
    get cancelable() { return eventState(this, "cancelable").cancelable; }
    get composed() { return eventState(this, "composed").composed; }
    get defaultPrevented() { return eventState(this, "defaultPrevented").canceled; }
    get target() { return eventState(this, "target").target; }
    get srcElement() { return eventState(this, "srcElement").target; }
    get currentTarget() { return eventState(this, "currentTarget").currentTarget; }
    get eventPhase() { return eventState(this, "eventPhase").phase; }
    get timeStamp() { return eventState(this, "timeStamp").timeStamp; }
    get isTrusted() { return eventState(this, "isTrusted").trusted; }
    get returnValue() { return !eventState(this, "returnValue").canceled; }
    set returnValue(v) {
      const s = eventState(this, "returnValue");
      if (!v && s.cancelable && !s.inPassive) s.canceled = true;
    }
    get cancelBubble() { return eventState(this, "cancelBubble").stop; }
    set cancelBubble(v) {
      const s = eventState(this, "cancelBubble");
      if (v) s.stop = true;
    }
    composedPath() {
      const s = eventState(this, "composedPath");
      return s.dispatching && s.currentTarget ? [s.currentTarget] : [];
    }
    stopPropagation() { eventState(this, "stopPropagation").stop = true; }
    stopImmediatePropagation() {
      const s = eventState(this, "stopImmediatePropagation");
      s.stop = true;
      s.stopImmediate = true;
    }
    preventDefault() {
      const s = eventState(this, "preventDefault");
      if (s.cancelable && !s.inPassive) s.canceled = true;
    }
  }
  for (const [k, v] of [["NONE", NONE], ["CAPTURING_PHASE", CAPTURING_PHASE], ["AT_TARGET", AT_TARGET], ["BUBBLING_PHASE", BUBBLING_PHASE]]) {
    const d = { value: v, writable: false, enumerable: true, configurable: false };
    Object.defineProperty(Event, k, d);
    Object.defineProperty(Event.prototype, k, d);
  }
  tag(Event, "Event");
  defineGlobal("Event", Event);

  const details = new WeakMap();
  class CustomEvent extends Event {
    constructor(type, eventInitDict = undefined) {
      needArgs("CustomEvent", null, 1, arguments.length);
      super(type, eventInitDict);
      const init = dictionary("CustomEvent", eventInitDict, "CustomEventInit");
      details.set(this, init.detail === undefined ? null : init.detail);
    }
    get detail() {
      if (!details.has(this)) throw illegal("CustomEvent", "detail");
      return details.get(this);
    }
  }
  tag(CustomEvent, "CustomEvent");
  defineGlobal("CustomEvent", CustomEvent);

  // ---- EventTarget ----

  const targets = new WeakMap();
  const targetState = (t, member) => {
    const s = targets.get(t);
    if (!s) throw illegal("EventTarget", member);
    return s;
  };
  const flattenCapture = (options) =>
    options !== null && typeof options === "object" ? !!options.capture : !!options;
  const isCallback = (cb) => typeof cb === "function" || (cb !== null && typeof cb === "object");

  const removeListener = (s, type, l) => {
    const list = s.listeners.get(type);
    if (!list) return;
    const i = list.indexOf(l);
    if (i >= 0) list.splice(i, 1);
    l.removed = true;
    if (list.length === 0) s.listeners.delete(type);
  };

  class EventTarget {
    constructor() {
      targets.set(this, { listeners: new Map() });
    }
    addEventListener(type, callback, options = undefined) {
      const s = targetState(this, "addEventListener");
      needArgs("EventTarget", "addEventListener", 2, arguments.length);
      type = toDOMString(type);
      let capture = false, once = false, passive = false, signal;
      if (options !== null && typeof options === "object") {
        capture = !!options.capture;
        once = !!options.once;
        passive = !!options.passive;
        signal = options.signal;
        if (signal !== undefined && !(N.isAbortSignal && N.isAbortSignal(signal)))
          throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': member signal is not of type 'AbortSignal'.");
      } else {
        capture = !!options;
      }
      if (callback === null || callback === undefined) return;
      if (!isCallback(callback))
        throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': The callback provided as parameter 2 is not an object.");
      if (signal && signal.aborted) return;
      let list = s.listeners.get(type);
      if (!list) s.listeners.set(type, (list = []));
      if (list.some((l) => l.callback === callback && l.capture === capture)) return;
      const l = { callback, capture, once, passive, removed: false };
      list.push(l);
      if (signal) N.abortSignalOnAbort(signal, () => removeListener(s, type, l));
    }
    removeEventListener(type, callback, options = undefined) {
      const s = targetState(this, "removeEventListener");
      needArgs("EventTarget", "removeEventListener", 2, arguments.length);
      type = toDOMString(type);
      const capture = flattenCapture(options);
      const list = s.listeners.get(type);
      if (!list) return;
      const l = list.find((x) => x.callback === callback && x.capture === capture);
      if (l) removeListener(s, type, l);
    }
    dispatchEvent(event) {
      targetState(this, "dispatchEvent");
      needArgs("EventTarget", "dispatchEvent", 1, arguments.length);
      if (!events.has(event))
        throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
      return dispatch(this, event, false);
    }
  }
  tag(EventTarget, "EventTarget");
  defineGlobal("EventTarget", EventTarget);

  const invoke = (target, ts, e, s, capturePhase) => {
    const list = ts.listeners.get(s.type);
    if (!list) return;
    // Listeners added during dispatch do not run; removed ones are skipped.
    for (const l of list.slice()) {
      if (l.removed || l.capture !== capturePhase) continue;
      if (l.once) removeListener(ts, s.type, l);
      s.inPassive = l.passive;
      try {
        const cb = l.callback;
        if (typeof cb === "function") {
          cb.call(target, e);
        } else {
          const handleEvent = cb.handleEvent;
          if (typeof handleEvent !== "function")
            throw new TypeError("The 'handleEvent' property of an event listener is not a function.");
          handleEvent.call(cb, e);
        }
      } catch (err) {
        report(err);
      }
      s.inPassive = false;
      if (s.stopImmediate) return;
    }
  };

  // Dispatches `e` at `target`; `trusted` marks events the platform fires itself.
  const dispatch = (target, e, trusted) => {
    const s = events.get(e);
    if (s.dispatching)
      throw new DOMException("Failed to execute 'dispatchEvent' on 'EventTarget': The event is already being dispatched.", "InvalidStateError");
    const ts = targets.get(target);
    s.trusted = trusted;
    s.dispatching = true;
    s.target = target;
    s.currentTarget = target;
    s.phase = AT_TARGET;
    try {
      invoke(target, ts, e, s, true);
      if (!s.stop) invoke(target, ts, e, s, false);
    } finally {
      s.dispatching = false;
      s.phase = NONE;
      s.currentTarget = null;
      s.stop = false;
      s.stopImmediate = false;
    }
    return !s.canceled;
  };
  N.dispatchTrusted = (target, e) => dispatch(target, e, true);
  N.isEvent = (e) => events.has(e);

  // ---- performance, navigator ----

  const kCreate = Symbol("create");   // the only way past the illegal constructors

  class Performance {
    constructor(key) {
      if (key !== kCreate) throw new TypeError("Illegal constructor");
    }
    now() { return now(); }
    get timeOrigin() { return N.timeOriginMs; }
    toJSON() { return { timeOrigin: N.timeOriginMs }; }
  }
  tag(Performance, "Performance");
  defineGlobal("Performance", Performance);
  defineGlobal("performance", new Performance(kCreate));

  class Navigator {
    constructor(key) {
      if (key !== kCreate) throw new TypeError("Illegal constructor");
    }
    get userAgent() { return "Cloudflare-Workers"; }
    get hardwareConcurrency() { return 1; }
  }
  tag(Navigator, "Navigator");
  defineGlobal("Navigator", Navigator);
  defineGlobal("navigator", new Navigator(kCreate));

  // ---- scheduler (Cloudflare's scheduler.wait) ----

  class Scheduler {
    constructor(key) {
      if (key !== kCreate) throw new TypeError("Illegal constructor");
    }
    // A promise that resolves after `delay` ms; an AbortSignal rejects it early.
    wait(delay, options) {
      const ms = Number(delay);
      const signal = options === undefined || options === null ? undefined : options.signal;
      return new Promise((resolve, reject) => {
        if (signal && signal.aborted) { reject(signal.reason); return; }
        let onAbort;
        const t = setTimeout(() => {
          if (signal) signal.removeEventListener("abort", onAbort);
          resolve();
        }, Number.isFinite(ms) && ms > 0 ? ms : 0);
        if (signal) {
          onAbort = () => { clearTimeout(t); reject(signal.reason); };
          signal.addEventListener("abort", onAbort, { once: true });
        }
      });
    }
  }
  tag(Scheduler, "Scheduler");
  defineGlobal("scheduler", new Scheduler(kCreate));

  // ---- queueMicrotask ----

  // Captured so user code replacing Promise or its methods cannot break it.
  const resolved = Promise.resolve();
  const then = Promise.prototype.then;
  defineGlobal("queueMicrotask", function queueMicrotask(callback) {
    needArgs("WorkerGlobalScope", "queueMicrotask", 1, arguments.length);
    if (typeof callback !== "function")
      throw new TypeError("Failed to execute 'queueMicrotask' on 'WorkerGlobalScope': The callback provided as parameter 1 is not a function.");
    then.call(resolved, () => {
      try {
        callback();
      } catch (e) {
        report(e);
      }
    });
  });
})();
