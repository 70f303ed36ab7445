// WeakRef and FinalizationRegistry (ES2021), which QuickJS 2021-03-27 lacks.
// Compiled into the binary as bytecode and run first in every context.
//
// Limitation, allowed by the standard (when an object is collected is up to the
// implementation): a WeakRef holds its target strongly, so deref() returns it for
// as long as the WeakRef itself is alive and never returns undefined; a
// FinalizationRegistry's cleanup callback is never called. A registry keeps
// neither targets nor held values (only a count per unregister token, the token
// held weakly), so registering leaks nothing; a WeakRef keeps its target alive as
// long as the WeakRef is reachable. Everything else follows the standard:
// `new` is required, the argument checks throw TypeError, unregister(token)
// removes the cells registered with the token and says whether there were any.
(() => {
  "use strict";
  if (typeof globalThis.WeakRef === "function" && typeof globalThis.FinalizationRegistry === "function") return;
  const define = (obj, name, value) => {
    if (!Object.prototype.hasOwnProperty.call(obj, name))
      Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  };
  const tag = (proto, name) =>
    Object.defineProperty(proto, Symbol.toStringTag, { value: name, configurable: true });
  // CanBeHeldWeakly: an object, or a symbol not in the global registry.
  const canBeHeldWeakly = (v) =>
    (typeof v === "object" && v !== null) || typeof v === "function" ||
    (typeof v === "symbol" && Symbol.keyFor(v) === undefined);

  const targets = new WeakMap(); // WeakRef -> target
  class WeakRef {
    constructor(target) {
      if (!canBeHeldWeakly(target)) throw new TypeError("WeakRef: target must be an object or a non-registered symbol");
      targets.set(this, target);
    }
    deref() {
      if (!targets.has(this)) throw new TypeError("WeakRef.prototype.deref called on an object that is not a WeakRef");
      return targets.get(this);
    }
  }
  tag(WeakRef.prototype, "WeakRef");

  // FinalizationRegistry -> { cleanup, objects: WeakMap(token -> count), symbols: Map(token -> count) }
  const registries = new WeakMap();
  const state = (r, what) => {
    const s = registries.get(r);
    if (!s) throw new TypeError(`FinalizationRegistry.prototype.${what} called on an object that is not a FinalizationRegistry`);
    return s;
  };
  class FinalizationRegistry {
    constructor(cleanupCallback) {
      if (typeof cleanupCallback !== "function") throw new TypeError("FinalizationRegistry: cleanup callback must be callable");
      registries.set(this, { cleanup: cleanupCallback, objects: new WeakMap(), symbols: new Map() });
    }
    register(target, heldValue, unregisterToken) {
      const s = state(this, "register");
      if (!canBeHeldWeakly(target)) throw new TypeError("FinalizationRegistry.prototype.register: target must be an object or a non-registered symbol");
      if (Object.is(target, heldValue)) throw new TypeError("FinalizationRegistry.prototype.register: target and held value must not be the same");
      if (unregisterToken !== undefined) {
        if (!canBeHeldWeakly(unregisterToken)) throw new TypeError("FinalizationRegistry.prototype.register: unregister token must be an object or a non-registered symbol");
        const m = typeof unregisterToken === "symbol" ? s.symbols : s.objects;
        m.set(unregisterToken, (m.get(unregisterToken) || 0) + 1);
      }
      return undefined;
    }
    unregister(unregisterToken) {
      const s = state(this, "unregister");
      if (!canBeHeldWeakly(unregisterToken)) throw new TypeError("FinalizationRegistry.prototype.unregister: unregister token must be an object or a non-registered symbol");
      const m = typeof unregisterToken === "symbol" ? s.symbols : s.objects;
      return m.delete(unregisterToken);
    }
  }
  tag(FinalizationRegistry.prototype, "FinalizationRegistry");

  define(globalThis, "WeakRef", WeakRef);
  define(globalThis, "FinalizationRegistry", FinalizationRegistry);
})();
