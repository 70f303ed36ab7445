// ES2025 built-ins that QuickJS 2021-03-27 lacks: Iterator helpers
// (`map.values().filter(…).toArray()`), the Set methods (`a.union(b)` …) and
// Promise.try. Their semantics are plain library code, so they are written here
// rather than patched into the engine. Installed only when missing, non-enumerable.
(() => {
  "use strict";
  const define = (obj, name, value) => {
    if (!Object.prototype.hasOwnProperty.call(obj, name))
      Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  };
  const isObject = (v) => (typeof v === "object" && v !== null) || typeof v === "function";
  const call = Function.prototype.call.bind(Function.prototype.call);

  // ---- Iterator helpers ----

  const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));

  // The iterator record of `obj` when it is an iterator itself (GetIteratorDirect).
  const direct = (obj, method) => {
    if (!isObject(obj)) throw new TypeError(`Iterator.prototype.${method} called on a non-object`);
    return { iterator: obj, next: obj.next, done: false };
  };
  const step = (rec) => {
    const r = call(rec.next, rec.iterator);
    if (!isObject(r)) throw new TypeError(`iterator result ${String(r)} is not an object`);
    if (r.done) { rec.done = true; return null; }
    return r;
  };
  const close = (rec) => {
    const ret = rec.iterator.return;
    if (ret !== undefined && ret !== null) {
      const r = call(ret, rec.iterator);
      if (!isObject(r)) throw new TypeError("iterator return() result is not an object");
    }
  };
  const closeAfter = (rec, err) => {
    try { close(rec); } catch { /* the first error wins */ }
    throw err;
  };
  const needCallable = (fn, method) => {
    if (typeof fn !== "function") throw new TypeError(`Iterator.prototype.${method}: ${String(fn)} is not a function`);
  };
  const toCount = (v, method) => {
    const n = Number(v);
    if (Number.isNaN(n)) throw new RangeError(`Iterator.prototype.${method}: ${String(v)} is not a number`);
    const k = n === Infinity ? Infinity : Math.trunc(n);
    if (k < 0) throw new RangeError(`Iterator.prototype.${method}: ${String(v)} must be 0 or more`);
    return k;
  };

  // A helper is driven by `pull(rec)`, which returns the next result or null
  // when done; `return()` before the end closes the underlying iterator.
  const helperState = new WeakMap();
  const IteratorHelperPrototype = Object.create(IteratorPrototype);
  define(IteratorHelperPrototype, "next", function next() {
    const st = helperState.get(this);
    if (!st) throw new TypeError("next() called on an object that is not an Iterator Helper");
    if (st.running) throw new TypeError("Iterator Helper is already running");
    if (st.finished) return { value: undefined, done: true };
    st.running = true;
    try {
      const v = st.pull();
      if (v === null) { st.finished = true; return { value: undefined, done: true }; }
      return { value: v.value, done: false };
    } catch (e) {
      st.finished = true;
      throw e;
    } finally {
      st.running = false;
    }
  });
  define(IteratorHelperPrototype, "return", function return_() {
    const st = helperState.get(this);
    if (!st) throw new TypeError("return() called on an object that is not an Iterator Helper");
    if (st.running) throw new TypeError("Iterator Helper is already running");
    if (!st.finished) {
      st.finished = true;
      if (st.inner) { const inner = st.inner; st.inner = null; close(inner); }
      close(st.rec);
    }
    return { value: undefined, done: true };
  });
  Object.defineProperty(IteratorHelperPrototype, Symbol.toStringTag, { value: "Iterator Helper", configurable: true });
  const helper = (rec, makePull) => {
    const h = Object.create(IteratorHelperPrototype);
    const st = { rec, finished: false, running: false, inner: null, pull: null };
    st.pull = makePull(st);
    helperState.set(h, st);
    return h;
  };

  // Iterator: an abstract constructor, as in ES2025.
  function Iterator() {
    if (new.target === undefined || new.target === Iterator)
      throw new TypeError("Iterator is an abstract class and cannot be constructed directly");
  }
  Object.defineProperty(Iterator, "prototype", { value: IteratorPrototype, writable: false });
  define(IteratorPrototype, "constructor", Iterator);
  if (!Object.prototype.hasOwnProperty.call(IteratorPrototype, Symbol.toStringTag))
    Object.defineProperty(IteratorPrototype, Symbol.toStringTag, { value: "Iterator", writable: true, configurable: true });

  const WrapPrototype = Object.create(IteratorPrototype);
  const wrapped = new WeakMap();
  define(WrapPrototype, "next", function next() {
    const rec = wrapped.get(this);
    return call(rec.next, rec.iterator);
  });
  define(WrapPrototype, "return", function return_() {
    const rec = wrapped.get(this);
    const ret = rec.iterator.return;
    if (ret === undefined || ret === null) return { value: undefined, done: true };
    return call(ret, rec.iterator);
  });
  define(Iterator, "from", function from(obj) {
    let rec;
    if (typeof obj === "string") {
      const it = obj[Symbol.iterator]();
      rec = { iterator: it, next: it.next, done: false };
    } else {
      if (!isObject(obj)) throw new TypeError(`Iterator.from: ${String(obj)} is not an object or a string`);
      const m = obj[Symbol.iterator];
      if (m === undefined || m === null) {
        rec = { iterator: obj, next: obj.next, done: false };
      } else {
        if (typeof m !== "function") throw new TypeError("Iterator.from: [Symbol.iterator] is not a function");
        const it = call(m, obj);
        if (!isObject(it)) throw new TypeError("Iterator.from: [Symbol.iterator]() did not return an object");
        rec = { iterator: it, next: it.next, done: false };
      }
    }
    if (rec.iterator instanceof Iterator) return rec.iterator;
    const w = Object.create(WrapPrototype);
    wrapped.set(w, rec);
    return w;
  });

  const P = IteratorPrototype;
  define(P, "map", function map(fn) {
    const rec = direct(this, "map");
    needCallable(fn, "map");
    let i = 0;
    return helper(rec, () => () => {
      const r = step(rec);
      if (!r) return null;
      try { return { value: fn(r.value, i++) }; } catch (e) { closeAfter(rec, e); }
    });
  });
  define(P, "filter", function filter(fn) {
    const rec = direct(this, "filter");
    needCallable(fn, "filter");
    let i = 0;
    return helper(rec, () => () => {
      for (;;) {
        const r = step(rec);
        if (!r) return null;
        let keep;
        try { keep = fn(r.value, i++); } catch (e) { closeAfter(rec, e); }
        if (keep) return { value: r.value };
      }
    });
  });
  define(P, "take", function take(limit) {
    const rec = direct(this, "take");
    let left;
    try { left = toCount(limit, "take"); } catch (e) { closeAfter(rec, e); }
    return helper(rec, () => () => {
      if (left === 0) { close(rec); return null; }
      if (left !== Infinity) left--;
      const r = step(rec);
      return r ? { value: r.value } : null;
    });
  });
  define(P, "drop", function drop(limit) {
    const rec = direct(this, "drop");
    let skip;
    try { skip = toCount(limit, "drop"); } catch (e) { closeAfter(rec, e); }
    return helper(rec, () => () => {
      while (skip > 0) {
        if (skip !== Infinity) skip--;
        if (!step(rec)) return null;
      }
      const r = step(rec);
      return r ? { value: r.value } : null;
    });
  });
  define(P, "flatMap", function flatMap(fn) {
    const rec = direct(this, "flatMap");
    needCallable(fn, "flatMap");
    let i = 0;
    return helper(rec, (st) => () => {
      for (;;) {
        if (st.inner) {
          let r;
          try { r = step(st.inner); } catch (e) { st.inner = null; closeAfter(rec, e); }
          if (r) return { value: r.value };
          st.inner = null;
          continue;
        }
        const r = step(rec);
        if (!r) return null;
        try {
          const mapped = fn(r.value, i++);
          if (!isObject(mapped) && typeof mapped !== "string")
            throw new TypeError("Iterator.prototype.flatMap: the mapper must return an iterable or an iterator");
          if (typeof mapped === "string")
            throw new TypeError("Iterator.prototype.flatMap: the mapper returned a string, which is not flattened");
          const m = mapped[Symbol.iterator];
          const it = m === undefined || m === null ? mapped : call(m, mapped);
          if (!isObject(it)) throw new TypeError("Iterator.prototype.flatMap: [Symbol.iterator]() did not return an object");
          st.inner = { iterator: it, next: it.next, done: false };
        } catch (e) { closeAfter(rec, e); }
      }
    });
  });
  define(P, "reduce", function reduce(fn, ...init) {
    const rec = direct(this, "reduce");
    needCallable(fn, "reduce");
    let acc, i = 0;
    if (init.length) acc = init[0];
    else {
      const r = step(rec);
      if (!r) throw new TypeError("Iterator.prototype.reduce of an empty iterator with no initial value");
      acc = r.value;
      i = 1;
    }
    for (let r; (r = step(rec));) {
      try { acc = fn(acc, r.value, i++); } catch (e) { closeAfter(rec, e); }
    }
    return acc;
  });
  define(P, "toArray", function toArray() {
    const rec = direct(this, "toArray");
    const out = [];
    for (let r; (r = step(rec));) out.push(r.value);
    return out;
  });
  define(P, "forEach", function forEach(fn) {
    const rec = direct(this, "forEach");
    needCallable(fn, "forEach");
    let i = 0;
    for (let r; (r = step(rec));) {
      try { fn(r.value, i++); } catch (e) { closeAfter(rec, e); }
    }
  });
  const search = (name, onHit, onMiss) => function (fn) {
    const rec = direct(this, name);
    needCallable(fn, name);
    let i = 0;
    for (let r; (r = step(rec));) {
      let hit;
      try { hit = fn(r.value, i++); } catch (e) { closeAfter(rec, e); }
      const res = onHit(hit, r.value);
      if (res !== undefined) { close(rec); return res.v; }
    }
    return onMiss;
  };
  define(P, "some", search("some", (hit) => (hit ? { v: true } : undefined), false));
  define(P, "every", search("every", (hit) => (hit ? undefined : { v: false }), true));
  define(P, "find", search("find", (hit, v) => (hit ? { v } : undefined), undefined));
  for (const n of ["some", "every", "find"]) Object.defineProperty(P[n], "name", { value: n });

  if (typeof globalThis.Iterator !== "function")
    Object.defineProperty(globalThis, "Iterator", { value: Iterator, writable: true, configurable: true, enumerable: false });

  // ---- Set methods (ES2025) ----

  // GetSetRecord: `other` is any set-like object with size, has() and keys().
  const setRecord = (other, method) => {
    if (!isObject(other)) throw new TypeError(`Set.prototype.${method}: the argument must be set-like (an object)`);
    const rawSize = Number(other.size);
    if (Number.isNaN(rawSize)) throw new TypeError(`Set.prototype.${method}: the argument's size is not a number`);
    const size = Math.trunc(rawSize);
    if (size < 0) throw new RangeError(`Set.prototype.${method}: the argument's size is negative`);
    const has = other.has, keys = other.keys;
    if (typeof has !== "function") throw new TypeError(`Set.prototype.${method}: the argument's has is not a function`);
    if (typeof keys !== "function") throw new TypeError(`Set.prototype.${method}: the argument's keys is not a function`);
    return {
      size,
      has: (v) => Boolean(call(has, other, v)),
      keys: () => {
        const it = call(keys, other);
        if (!isObject(it)) throw new TypeError(`Set.prototype.${method}: the argument's keys() did not return an object`);
        return { iterator: it, next: it.next, done: false };
      },
    };
  };
  const thisSet = (s, method) => {
    try { Set.prototype.has.call(s, undefined); } catch {
      throw new TypeError(`Set.prototype.${method} called on an object that is not a Set`);
    }
    return s;
  };
  const sp = Set.prototype;
  define(sp, "union", function union(other) {
    const s = thisSet(this, "union"), o = setRecord(other, "union");
    const out = new Set(s);
    const rec = o.keys();
    for (let r; (r = step(rec));) out.add(r.value === 0 ? 0 : r.value);
    return out;
  });
  define(sp, "intersection", function intersection(other) {
    const s = thisSet(this, "intersection"), o = setRecord(other, "intersection");
    const out = new Set();
    if (s.size <= o.size) {
      for (const v of [...s]) if (o.has(v)) out.add(v);
    } else {
      const rec = o.keys();
      for (let r; (r = step(rec));) if (s.has(r.value)) out.add(r.value === 0 ? 0 : r.value);
    }
    return out;
  });
  define(sp, "difference", function difference(other) {
    const s = thisSet(this, "difference"), o = setRecord(other, "difference");
    const out = new Set(s);
    if (s.size <= o.size) {
      for (const v of [...s]) if (o.has(v)) out.delete(v);
    } else {
      const rec = o.keys();
      for (let r; (r = step(rec));) out.delete(r.value);
    }
    return out;
  });
  define(sp, "symmetricDifference", function symmetricDifference(other) {
    const s = thisSet(this, "symmetricDifference"), o = setRecord(other, "symmetricDifference");
    const out = new Set(s);
    const rec = o.keys();
    for (let r; (r = step(rec));) {
      const v = r.value === 0 ? 0 : r.value;
      if (s.has(v)) out.delete(v); else out.add(v);
    }
    return out;
  });
  define(sp, "isSubsetOf", function isSubsetOf(other) {
    const s = thisSet(this, "isSubsetOf"), o = setRecord(other, "isSubsetOf");
    if (s.size > o.size) return false;
    for (const v of [...s]) if (!o.has(v)) return false;
    return true;
  });
  define(sp, "isSupersetOf", function isSupersetOf(other) {
    const s = thisSet(this, "isSupersetOf"), o = setRecord(other, "isSupersetOf");
    if (s.size < o.size) return false;
    const rec = o.keys();
    for (let r; (r = step(rec));) if (!s.has(r.value)) { close(rec); return false; }
    return true;
  });
  define(sp, "isDisjointFrom", function isDisjointFrom(other) {
    const s = thisSet(this, "isDisjointFrom"), o = setRecord(other, "isDisjointFrom");
    if (s.size <= o.size) {
      for (const v of [...s]) if (o.has(v)) return false;
    } else {
      const rec = o.keys();
      for (let r; (r = step(rec));) if (s.has(r.value)) { close(rec); return false; }
    }
    return true;
  });

  // ---- Promise.try ----
  define(Promise, "try", function try_(fn, ...args) {
    return new this((resolve) => resolve(fn(...args)));
  });
})();
