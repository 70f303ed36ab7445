// ctx.storage: DurableObjectStorage, the transaction object, the SQL API and
// storage.kv (spec: storage.md). The database work is in C (src/storage, natives
// N.st*); this file checks arguments, throws the spec's errors, serializes values
// with the structured-clone serializer, and tells the instance (50_objects.js)
// about writes so it can commit them at the end of the turn and hold the object's
// outputs until then (GATE-6..10).
//
// The instance interface used here (`host`): host.handle() → the store handle
// (opened lazily), host.wrote(unconfirmed), host.backend (1 KV, 2 SQLite),
// host.checkAlive(), host.txnDepth, host.hold(+1/-1) (input gate for
// transaction()), host.sync() → promise, host.alarmSet(ms|null), host.alarmGet(),
// host.hasAlarmHandler().
(() => {
  "use strict";
  const N = globalThis.__durable;
  const KV = 1, SQL = 2;
  const KEY_MAX = 2048, VALUE_MAX = 131072, BATCH_MAX = 128;
  const SQL_VALUE_MAX = 4 * 1024 * 1024;
  const CLONE_STORAGE = 2;   // JS_CLONE_STORAGE (src/js/clone.h): class instances become plain objects
  const kHost = Symbol("host");
  const kToken = Symbol("construct");

  // UTF-8 length of a JS string (lone surrogates count 3, as they are stored).
  const utf8Len = (s) => {
    let n = s.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) continue;
      if (c < 0x800) { n += 1; continue; }
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 2; i++; continue; }
      n += 2;
    }
    return n;
  };
  // Storage key order (LIST-2) is UTF-8 byte order, which is code point order.
  const cmpKeys = (a, b) => {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const x = a.codePointAt(i), y = b.codePointAt(i);
      if (x !== y) return x < y ? -1 : 1;
      if (x > 0xffff) i++;
    }
    return a.length - b.length;
  };

  const toKey = (host, k) => {
    const key = typeof k === "string" ? k : String(k);
    if (host.backend === KV && key.length > KEY_MAX / 3) {
      const n = utf8Len(key);
      if (n > KEY_MAX) throw new RangeError(`Keys cannot be larger than ${KEY_MAX} bytes. A key of size ${n} was provided.`);
    }
    return key;
  };
  // KV-3: the size of a value is its serialized size without the format's framing:
  // the version byte, and for a string, ArrayBuffer or typed array at the top the
  // tag and length prefixes (src/js/clone.c), so a string or ArrayBuffer of 131,072
  // bytes measures 131,072 — what the limit and its error say. (workerd counts V8's
  // encoding and allows 34 bytes of slack for its header; we count no header.)
  const varint = (u8, i) => {
    let n = 0, mul = 1;
    for (; i < u8.length; i++, mul *= 128) {
      n += (u8[i] & 0x7f) * mul;
      if (!(u8[i] & 0x80)) break;
    }
    return n;
  };
  const valueSize = (bytes) => {
    const u8 = new Uint8Array(bytes);
    if (u8[1] === 0x73 /* 's' */ || u8[1] === 0x42 /* 'B' */) return varint(u8, 2);
    if (u8[1] === 0x56 /* 'V' */ && u8[3] === 0x42 /* 'B' */) return varint(u8, 4);
    return u8.length - 1;
  };
  const encode = (host, v) => {
    const bytes = N.cloneWrite(v, CLONE_STORAGE, 64 * 1024 * 1024);
    if (host.backend === KV && bytes.byteLength > VALUE_MAX + 1) {
      const size = valueSize(bytes);
      if (size > VALUE_MAX)
        throw new RangeError(`Values cannot be larger than ${VALUE_MAX} bytes. A value of size ${size} was provided.`);
    }
    if (host.backend === SQL && bytes.byteLength > SQL_VALUE_MAX)
      throw new Error("string or blob too big: SQLITE_TOOBIG");
    return bytes;
  };
  // A stored value durable cannot read was not written by durable (the file was
  // changed by something else): an Error that says which key, never a crash.
  const decode = (ab, key) => {
    try {
      return N.cloneRead(ab);
    } catch (e) {
      throw new Error(`storage: the value stored under the key ${JSON.stringify(key)} cannot be read (${e?.message}): the object's database holds data durable did not write`);
    }
  };
  const checkOptions = (api, o) => {
    if (o !== undefined && o !== null && typeof o !== "object")
      throw new TypeError(`${api}: the options argument must be an object`);
    return o || {};
  };
  const keyList = (host, keys, api) => {
    const out = [];
    for (const k of keys) out.push(toKey(host, k));
    if (host.backend === KV && api === "get" && out.length > BATCH_MAX)
      throw new RangeError(`Maximum number of key value pairs is ${BATCH_MAX}. ${out.length} pairs were provided.`);
    return out;
  };
  const sortedUnique = (keys) => {
    keys.sort(cmpKeys);
    const out = [];
    for (const k of keys) if (out.length === 0 || out[out.length - 1] !== k) out.push(k);
    return out;
  };
  // A write-through cache of recently read and written values per object (KV keys
  // → serialized bytes, or null for "known absent"): a get() it can answer costs no
  // SQLite lookup. SQLite always has every write, so the cache only has to be
  // dropped when SQLite rolls back (transaction rollback, reset) or deleteAll runs.
  const CACHE_MAX_ENTRIES = 1024, CACHE_MAX_BYTES = 4 * 1024 * 1024;
  const cacheGet = (host, key) => host.kvCache?.get(key);
  const cacheSet = (host, key, ab, noCache) => {
    let c = host.kvCache;
    if (noCache) { if (c) { const old = c.get(key); if (old) host.kvCacheBytes -= old.byteLength; c.delete(key); } return; }
    if (!c) { c = host.kvCache = new Map(); host.kvCacheBytes = 0; }
    const old = c.get(key);
    if (old) host.kvCacheBytes -= old.byteLength;
    c.delete(key);   // re-insert: Map order is the recency order
    c.set(key, ab);
    if (ab) host.kvCacheBytes += ab.byteLength;
    while (c.size > CACHE_MAX_ENTRIES || host.kvCacheBytes > CACHE_MAX_BYTES) {
      const [k, v] = c.entries().next().value;
      if (v) host.kvCacheBytes -= v.byteLength;
      c.delete(k);
    }
  };
  N.storageCacheClear = (host) => { host.kvCache = undefined; host.kvCacheBytes = 0; };
  const readOne = (host, key, noCache) => {
    const hit = cacheGet(host, key);
    if (hit !== undefined) return hit === null ? undefined : decode(hit, key);
    const ab = N.stGet(host.handle(), key);
    if (!noCache) cacheSet(host, key, ab === undefined ? null : ab, false);
    return ab === undefined ? undefined : decode(ab, key);
  };

  // Runs f and turns a throw into a rejected promise (KV-5 allows either; async
  // callers see one behaviour).
  const promised = (f) => {
    try { return Promise.resolve(f()); } catch (e) { return Promise.reject(e); }
  };

  // ---- the operations, shared by storage and the transaction object ----
  const ops = {
    get(host, key, options) {
      checkOptions("get()", options);
      host.checkAlive();
      if (Array.isArray(key)) {
        const keys = sortedUnique(keyList(host, key, "get"));
        const m = new Map();
        if (keys.length === 0) return m;
        const flat = N.stGetMany(host.handle(), keys);
        for (let i = 0; i < flat.length; i += 2) m.set(flat[i], decode(flat[i + 1], flat[i]));
        return m;
      }
      return readOne(host, toKey(host, key), options?.noCache === true);
    },
    put(host, key, value, options, nargs) {
      if (key !== null && typeof key === "object" && !Array.isArray(key)) {
        // put(entries, options?) (KV-10, KV-11)
        if (nargs >= 2 && value !== undefined && (value === null || typeof value !== "object"))
          throw new TypeError("put() called with an object of entries as the first argument; the second argument must then be an options object. To store one value, call put(key, value, options).");
        checkOptions("put()", value);
        host.checkAlive();
        const pairs = [];
        for (const k of Object.keys(key)) {
          const v = key[k];
          if (v === undefined) continue;   // SER-4
          pairs.push([toKey(host, k), encode(host, v)]);
        }
        const h = host.handle();
        for (const [k, b] of pairs) { N.stPut(h, k, b); cacheSet(host, k, b, value?.noCache === true); }
        host.wrote(value && value.allowUnconfirmed === true);
        return;
      }
      if (nargs < 2 || value === undefined) throw new TypeError("put() called with undefined value.");
      checkOptions("put()", options);
      host.checkAlive();
      const k = toKey(host, key);
      const b = encode(host, value);
      N.stPut(host.handle(), k, b);
      cacheSet(host, k, b, options?.noCache === true);
      host.wrote(options && options.allowUnconfirmed === true);
    },
    delete(host, key, options) {
      checkOptions("delete()", options);
      host.checkAlive();
      if (Array.isArray(key)) {
        const keys = sortedUnique(keyList(host, key, "delete"));
        const h = host.handle();
        let n = 0;
        for (const k of keys) { if (N.stDelete(h, k)) n++; cacheSet(host, k, null, false); }
        host.wrote(options && options.allowUnconfirmed === true);
        return n;
      }
      const k = toKey(host, key);
      const r = N.stDelete(host.handle(), k);
      cacheSet(host, k, null, false);
      host.wrote(options && options.allowUnconfirmed === true);
      return r;
    },
    list(host, options) {
      const o = checkOptions("list()", options);
      host.checkAlive();
      if (o.start !== undefined && o.startAfter !== undefined)
        throw new TypeError("list() cannot be called with both start and startAfter values.");
      let limit = 0;
      if (o.limit !== undefined) {
        limit = Number(o.limit);
        if (!(limit > 0)) throw new TypeError("List limit must be positive.");
        limit = Math.floor(limit) || 1;
      }
      const lo = o.start !== undefined ? String(o.start) : o.startAfter !== undefined ? String(o.startAfter) : undefined;
      const hi = o.end !== undefined ? String(o.end) : undefined;
      const prefix = o.prefix !== undefined && o.prefix !== "" ? String(o.prefix) : undefined;
      const flat = N.stList(host.handle(), lo, o.startAfter === undefined, hi, prefix, o.reverse === true, limit);
      const m = new Map();
      for (let i = 0; i < flat.length; i += 2) m.set(flat[i], decode(flat[i + 1], flat[i]));
      return m;
    },
    getAlarm(host, options) {
      checkOptions("getAlarm()", options);
      host.checkAlive();
      return host.alarmGet();
    },
    setAlarm(host, time, options) {
      checkOptions("setAlarm()", options);
      host.checkAlive();
      let t;
      if (time instanceof Date) t = time.getTime();
      else if (typeof time === "number") t = time;
      else throw new TypeError("setAlarm() expects a Date or a number of milliseconds since the epoch");
      if (!(t > 0)) throw new TypeError("setAlarm() cannot be called with an alarm time <= 0");
      if (!host.hasAlarmHandler())
        throw new TypeError("Your Durable Object class must have an alarm() handler in order to call setAlarm()");
      host.alarmSet(Math.floor(t), options && options.allowUnconfirmed === true);
    },
    deleteAlarm(host, options) {
      checkOptions("deleteAlarm()", options);
      host.checkAlive();
      host.alarmSet(null, options && options.allowUnconfirmed === true);
    },
  };

  const runTransaction = async (host, closure) => {
    if (typeof closure !== "function") throw new TypeError("transaction() requires a function");
    host.checkAlive();
    host.hold(1);
    const h = host.handle();
    N.stTxn(h, 2);   // savepoint
    host.txnDepth++;
    const txn = new DurableObjectTransaction(kToken, host);
    let ok = false, result;
    try {
      result = await closure(txn);
      ok = true;
    } finally {
      host.txnDepth--;
      try {
        if (!host.isDead()) {
          if (ok && !txn[kRolledBack]) N.stTxn(h, 3);   // release
          else N.stTxn(h, 4);                            // rollback to + release
          host.wrote(false);
          if (!ok || txn[kRolledBack]) host.rolledBack();
        }
      } finally {
        host.hold(-1);
      }
    }
    return result;
  };

  const kRolledBack = Symbol("rolledBack");
  class DurableObjectTransaction {
    constructor(token, host) {
      if (token !== kToken) throw new TypeError("Illegal constructor");
      this[kHost] = host;
      this[kRolledBack] = false;
    }
    #check(op) {
      if (this[kRolledBack]) throw new Error(`Cannot ${op} on rolled back transaction`);
      return this[kHost];
    }
    get(key, options) { return promised(() => ops.get(this.#check("get"), key, options)); }
    put(key, value, options) { const n = arguments.length; return promised(() => ops.put(this.#check("put"), key, value, options, n)); }
    delete(key, options) { return promised(() => ops.delete(this.#check("delete"), key, options)); }
    list(options) { return promised(() => ops.list(this.#check("list"), options)); }
    getAlarm(options) { return promised(() => ops.getAlarm(this.#check("getAlarm"), options)); }
    setAlarm(time, options) { return promised(() => ops.setAlarm(this.#check("setAlarm"), time, options)); }
    deleteAlarm(options) { return promised(() => ops.deleteAlarm(this.#check("deleteAlarm"), options)); }
    deleteAll() { return Promise.reject(new Error("Cannot call deleteAll() within a transaction")); }
    rollback() {
      if (arguments.length > 0) throw new TypeError("rollback() takes no arguments");
      this.#check("rollback");
      this[kRolledBack] = true;
      return undefined;
    }
  }
  Object.defineProperty(DurableObjectTransaction.prototype, Symbol.toStringTag, { value: "DurableObjectTransaction" });

  // ---- SQL ----
  const toSqlString = (v, what) => {
    if (typeof v === "symbol") throw new TypeError(`sql.exec(): ${what} is a Symbol, which cannot be converted to a string`);
    return String(v);
  };
  const rowObject = (names, vals) => {
    const o = {};
    for (let i = 0; i < names.length; i++) o[names[i]] = vals[i];
    return o;
  };
  class SqlStorageCursor {
    #h; #names; #stats = null; #done = false;
    constructor(token, h) {
      if (token !== kToken) throw new TypeError("Illegal constructor");
      this.#h = h;
      this.#names = N.stCurCols(h);
    }
    #nextRaw() {
      if (this.#done) return null;
      const r = N.stCurNext(this.#h);
      if (r === null) { this.#done = true; this.#stats = N.stCurStats(this.#h); }
      return r;
    }
    next() {
      const r = this.#nextRaw();
      return r === null ? { done: true, value: undefined } : { done: false, value: rowObject(this.#names, r) };
    }
    toArray() {
      const out = [];
      for (let r; (r = this.#nextRaw()) !== null;) out.push(rowObject(this.#names, r));
      return out;
    }
    one() {
      const first = this.#nextRaw();
      if (first === null) throw new Error("Expected exactly one result from SQL query, but got no results.");
      if (this.#nextRaw() !== null) throw new Error("Expected exactly one result from SQL query, but got multiple results.");
      return rowObject(this.#names, first);
    }
    raw() {
      const self = this;
      const it = {
        next() {
          const r = self.#nextRaw();
          return r === null ? { done: true, value: undefined } : { done: false, value: r };
        },
        toArray() {
          const out = [];
          for (let r; (r = self.#nextRaw()) !== null;) out.push(r);
          return out;
        },
        [Symbol.iterator]() { return it; },
      };
      return it;
    }
    get columnNames() { return this.#names.slice(); }
    get rowsRead() { return (this.#stats || N.stCurStats(this.#h))[0]; }
    get rowsWritten() { return (this.#stats || N.stCurStats(this.#h))[1]; }
    [Symbol.iterator]() { return this; }
  }
  Object.defineProperty(SqlStorageCursor.prototype, Symbol.toStringTag, { value: "SqlStorageCursor" });

  class SqlStorage {
    constructor(token, host) {
      if (token !== kToken) throw new TypeError("Illegal constructor");
      this[kHost] = host;
    }
    exec(query, ...bindings) {
      if (arguments.length === 0) throw new TypeError("sql.exec(): a query is required");
      // SQL-3: a query that is not a string, and bindings that are not strings,
      // numbers, bytes or null/undefined, are converted to strings as workerd does
      // (true → 'true', {} → '[object Object]'); a Symbol cannot be, and throws.
      if (typeof query !== "string") query = toSqlString(query, "the query");
      const host = this[kHost];
      host.checkAlive();
      for (let i = 0; i < bindings.length; i++) {
        const b = bindings[i];
        const t = typeof b;
        if (b === null || b === undefined || t === "string" || t === "number" ||
            b instanceof ArrayBuffer || ArrayBuffer.isView(b)) continue;
        bindings[i] = toSqlString(b, `binding ${i + 1}`);
      }
      // The natives read bytes from ArrayBuffers and typed arrays: a DataView goes
      // as a Uint8Array over the same bytes.
      for (let i = 0; i < bindings.length; i++)
        if (bindings[i] instanceof DataView)
          bindings[i] = new Uint8Array(bindings[i].buffer, bindings[i].byteOffset, bindings[i].byteLength);
      const h = N.stSqlExec(host.handle(), query, bindings);
      host.wrote(false);
      return new SqlStorageCursor(kToken, h);
    }
    get databaseSize() { return N.stDbSize(this[kHost].handle()); }
    get Cursor() { return SqlStorageCursor; }
  }
  Object.defineProperty(SqlStorage.prototype, Symbol.toStringTag, { value: "SqlStorage" });

  // storage.kv: synchronous KV over the same table (SQL-17)
  class SyncKvStorage {
    constructor(token, host) {
      if (token !== kToken) throw new TypeError("Illegal constructor");
      this[kHost] = host;
    }
    get(key) { const h = this[kHost]; h.checkAlive(); return readOne(h, toKey(h, key), false); }
    put(key, value) {
      if (value === undefined) throw new TypeError("put() called with undefined value.");
      ops.put(this[kHost], key, value, undefined, 2);
    }
    delete(key) { return ops.delete(this[kHost], key, undefined); }
    list(options) { return ops.list(this[kHost], options).entries(); }
  }
  Object.defineProperty(SyncKvStorage.prototype, Symbol.toStringTag, { value: "SyncKvStorage" });

  const notSql = (what) => new Error(`${what} is only available on Durable Objects backed by SQLite storage: this class was created by new_classes. Use new_sqlite_classes in the migration that creates the class to enable it.`);

  class DurableObjectStorage {
    #sql = null; #kv = null;
    constructor(token, host) {
      if (token !== kToken) throw new TypeError("Illegal constructor");
      this[kHost] = host;
    }
    get(key, options) { return promised(() => ops.get(this[kHost], key, options)); }
    put(key, value, options) { const n = arguments.length; return promised(() => ops.put(this[kHost], key, value, options, n)); }
    delete(key, options) { return promised(() => ops.delete(this[kHost], key, options)); }
    list(options) { return promised(() => ops.list(this[kHost], options)); }
    deleteAll(options) {
      return promised(() => {
        checkOptions("deleteAll()", options);
        const host = this[kHost];
        host.checkAlive();
        if (host.txnDepth > 0) throw new Error("Cannot call deleteAll() within a transaction");
        const keepAlarm = !N.deleteAllDeletesAlarm;
        N.stDeleteAll(host.handle(), keepAlarm);
        N.storageCacheClear(host);
        if (!keepAlarm) host.alarmDeleted();
        host.wrote(options && options.allowUnconfirmed === true);
      });
    }
    getAlarm(options) { return promised(() => ops.getAlarm(this[kHost], options)); }
    setAlarm(time, options) { return promised(() => ops.setAlarm(this[kHost], time, options)); }
    deleteAlarm(options) { return promised(() => ops.deleteAlarm(this[kHost], options)); }
    transaction(closure) {
      try {
        return runTransaction(this[kHost], closure);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    transactionSync(fn) {
      const host = this[kHost];
      if (host.backend !== SQL) throw new Error("Durable Object is not backed by SQL.");
      if (typeof fn !== "function") throw new TypeError("transactionSync() requires a function");
      host.checkAlive();
      const h = host.handle();
      N.stTxn(h, 2);
      host.txnDepth++;
      let r;
      try {
        r = fn();
      } catch (e) {
        host.txnDepth--;
        if (!host.isDead()) { N.stTxn(h, 4); host.rolledBack(); host.wrote(false); }
        throw e;
      }
      host.txnDepth--;
      if (!host.isDead()) { N.stTxn(h, 3); host.wrote(false); }
      return r;
    }
    sync() { return promised(() => { this[kHost].checkAlive(); return this[kHost].sync(); }); }
    get sql() {
      const host = this[kHost];
      if (host.backend !== SQL) throw notSql("ctx.storage.sql");
      return this.#sql || (this.#sql = new SqlStorage(kToken, host));
    }
    get kv() {
      const host = this[kHost];
      if (host.backend !== SQL) throw notSql("ctx.storage.kv");
      return this.#kv || (this.#kv = new SyncKvStorage(kToken, host));
    }
    getCurrentBookmark() {
      return promised(() => {
        const host = this[kHost];
        if (host.backend !== SQL) throw notSql("getCurrentBookmark()");
        return host.bookmark();
      });
    }
    getBookmarkForTime() {
      return Promise.reject(new Error("Point-in-time recovery is not available in durable dev: it needs the commit log that durable serve --cluster keeps."));
    }
    onNextSessionRestoreBookmark() {
      return Promise.reject(new Error("Point-in-time recovery is not available in durable dev: it needs the commit log that durable serve --cluster keeps."));
    }
  }
  Object.defineProperty(DurableObjectStorage.prototype, Symbol.toStringTag, { value: "DurableObjectStorage" });
  globalThis.DurableObjectStorage = DurableObjectStorage;
  globalThis.DurableObjectTransaction = DurableObjectTransaction;
  globalThis.SqlStorage = SqlStorage;
  globalThis.SqlStorageCursor = SqlStorageCursor;

  N.makeStorage = (host) => new DurableObjectStorage(kToken, host);
})();
