// Durable Objects, the JS half: ids, namespaces, stubs (fetch and RPC), and on the
// object's shard the instance table with each instance's event queue.
// The C half mints and checks ids and carries messages between shards
// (src/objects/router.c; everything crosses as structured-clone bytes) and keeps
// each instance's output gate and commit state (src/objects/gate.c, N.gate*:
// docs/objects.md "Inside: the gate").
// spec: objects.md NS-*, ID-*, STUB-*, FETCH-*, RPC-*, ORDER-1, ERR-*, LIFE-*, UNIQ-1
(() => {
  "use strict";
  const N = globalThis.__durable;
  const { DurableObject, RpcTarget } = N.cloudflareWorkers;
  const KIND_FETCH = 1, KIND_RPC = 2, KIND_ALARM = 3, KIND_WS = 4;
  const ST_OK = 0, ST_ERROR = 1, ST_RESET = 2;
  // Cluster mode (src/objects/owner.c, docs/cluster.md): the shard is attached after
  // this file runs, so the mode is read at first use.
  let clMode = null;
  const cluster = () => clMode ?? (clMode = N.objClMode());
  const CL_COMMITTED = 3, CL_FENCED = 4;   // cluster.h CLUSTER_EV_*
  const clResetError = (message) => {
    const e = new Error(message);
    e.durableObjectReset = true;
    return e;
  };
  const JURISDICTIONS = ["eu", "fedramp", "fedramp-high", "us"];
  const LOCATION_HINTS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "apac-ne", "apac-se", "oc", "afr", "me"];

  // ---- ids ----
  // An id holds its target (the checked binary id and its shard, made in C; what a
  // stub sends through) and its hex form; either is made from the other on first
  // use. Ids minted here come with a target, ids read from a message with hex.
  const kHex = Symbol("hex"), kNsIndex = Symbol("ns"), kName = Symbol("name"), kTarget = Symbol("target");
  const kConstruct = [Symbol("construct")];
  class DurableObjectId {
    constructor(token, nsIndex, target, hex, name) {
      if (token !== kConstruct[0]) throw new TypeError("Illegal constructor");
      this[kNsIndex] = nsIndex;
      this[kTarget] = target;
      this[kHex] = hex;
      this[kName] = name;
    }
    toString() { return idHex(this); }
    toJSON() { return idHex(this); }
    equals(other) {
      return other instanceof DurableObjectId && idHex(other) === idHex(this);
    }
    get name() { return this[kName]; }
    get jurisdiction() { return N.objIdJurisdiction(idTarget(this)); }
  }
  Object.defineProperty(DurableObjectId.prototype, Symbol.toStringTag, { value: "DurableObjectId" });
  const makeId = (nsIndex, target, hex, name) => new DurableObjectId(kConstruct[0], nsIndex, target, hex, name);
  const idHex = (id) => id[kHex] ?? (id[kHex] = N.objIdHex(id[kTarget]));
  const idTarget = (id) => id[kTarget] ?? (id[kTarget] = N.objIdParse(id[kNsIndex], id[kHex]));

  const checkJurisdiction = (j, api) => {
    if (j === undefined) return undefined;
    if (typeof j !== "string" || !JURISDICTIONS.includes(j))
      throw new TypeError(`${api}: unknown jurisdiction ${JSON.stringify(String(j))}; expected one of ${JURISDICTIONS.map((x) => `"${x}"`).join(", ")}`);
    return j;
  };
  const checkGetOptions = (options) => {
    if (options === undefined || options === null) return;
    if (typeof options !== "object") throw new TypeError("DurableObjectNamespace.get: options must be an object");
    const { locationHint, routingMode } = options;
    if (locationHint !== undefined && !LOCATION_HINTS.includes(locationHint))
      throw new RangeError(`unknown locationHint: ${locationHint}`);
    if (routingMode !== undefined && routingMode !== "primary-only")
      throw new RangeError(`unknown routingMode: ${routingMode}`);
  };

  // ---- namespaces ----
  const NAME_CACHE_MAX = 4096;
  class DurableObjectNamespace {
    #ns; #cls; #jur; #names = new Map();
    constructor(token, ns, cls, jur) {
      if (token !== kConstruct[0]) throw new TypeError("Illegal constructor");
      this.#ns = ns; this.#cls = cls; this.#jur = jur;
    }
    newUniqueId(options) {
      let j = this.#jur;
      if (options !== undefined && options !== null) {
        if (typeof options !== "object") throw new TypeError("newUniqueId: options must be an object");
        if (options.jurisdiction !== undefined) j = checkJurisdiction(options.jurisdiction, "newUniqueId");
      }
      return makeId(this.#ns, N.objIdUnique(this.#ns, j), undefined, undefined);
    }
    idFromName(name) {
      if (arguments.length < 1)
        throw new TypeError("Failed to execute 'idFromName' on 'DurableObjectNamespace': 1 argument required, but only 0 present.");
      name = String(name);
      let target = this.#names.get(name);
      if (target === undefined) {
        target = N.objIdFromName(this.#ns, name, this.#jur);
        if (this.#names.size >= NAME_CACHE_MAX) this.#names.clear();
        this.#names.set(name, target);
      }
      return makeId(this.#ns, target, undefined, name);
    }
    idFromString(hex) {
      if (arguments.length < 1)
        throw new TypeError("Failed to execute 'idFromString' on 'DurableObjectNamespace': 1 argument required, but only 0 present.");
      return makeId(this.#ns, N.objIdParse(this.#ns, String(hex)), undefined, undefined);
    }
    get(id, options) {
      if (!(id instanceof DurableObjectId))
        throw new TypeError("DurableObjectNamespace.get: expected a DurableObjectId (use idFromName(), idFromString() or newUniqueId() to make one)");
      if (id[kNsIndex] !== this.#ns)
        throw new TypeError("DurableObjectNamespace.get: the id was made by another namespace (Durable Object ID is not valid for this namespace.)");
      if (this.#jur !== undefined && id.jurisdiction !== this.#jur)
        throw new TypeError("get called on jurisdictional subnamespace with an ID from a different jurisdiction");
      checkGetOptions(options);
      return makeStub(this.#ns, id);
    }
    getByName(name, options) {
      if (arguments.length < 1)
        throw new TypeError("Failed to execute 'getByName' on 'DurableObjectNamespace': 1 argument required, but only 0 present.");
      return this.get(this.idFromName(name), options);
    }
    jurisdiction(name) {
      checkJurisdiction(name, "jurisdiction");
      if (name === undefined) throw new TypeError("jurisdiction: a jurisdiction name is required");
      return new DurableObjectNamespace(kConstruct[0], this.#ns, this.#cls, name);
    }
  }
  Object.defineProperty(DurableObjectNamespace.prototype, Symbol.toStringTag, { value: "DurableObjectNamespace" });
  N.objMakeNamespace = (ns, cls) => new DurableObjectNamespace(kConstruct[0], ns, cls, undefined);

  // ---- calls and replies ----
  const pending = new Map();
  // Random start: a context re-created after an out-of-memory error (worker.c) must
  // not match a late reply meant for a call of the context it replaced.
  let nextCallId = Math.floor(Math.random() * 2 ** 40);

  // GATE-6: an object's calls to the outside (fetch(), calls to other objects)
  // made after a confirmed write that is not yet committed wait for that commit,
  // in order with its other outputs, and are never made if it fails (gate.c
  // tickets). outboundHold() → undefined: go now (no hop); else a promise of the
  // event to enter before making the call (the caller's, as for RPC replies).
  const tickets = new Map();   // ticket → [resolve, reject, event]
  const outboundHold = () => {
    const g = N.gateOutbound();
    if (g === null) return undefined;
    const inst = g.inst;
    if (inst.dead) return Promise.reject(inst.dead);
    if (inst.txnDepth > 0)
      return Promise.reject(new Error("This call cannot be made inside storage.transaction() after a write: " +
        "it would wait for the transaction to be committed, which waits for the call. Make it after transaction() returns."));
    const t = N.gateHoldCall(g);
    if (t === 0) return undefined;
    if (t < 0) return Promise.reject(inst.dead ?? new Error("Durable Object storage commit failed"));
    const ev = N.eventCurrent();
    return new Promise((resolve, reject) => tickets.set(t, [resolve, reject, ev]));
  };
  N.objOutboundHold = outboundHold;
  const ticketsDone = (list, e) => {
    if (list === undefined) return;
    for (const t of list) {
      const w = tickets.get(t);
      if (w === undefined) continue;
      tickets.delete(t);
      if (e === undefined) w[0](w[2]); else w[1](e);
    }
  };

  // RPC-14/15: an error crosses as its standard constructor's name and its
  // message; an error of any other class (a user subclass, AggregateError) as a
  // plain Error whose message is prefixed with the class name; a thrown non-Error
  // as an Error with String(value). No stack, no own properties.
  const REMOTE_ERRORS = { Error, TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError };
  const STANDARD_PROTOS = new Map(Object.entries(REMOTE_ERRORS).map(([n, C]) => [C.prototype, n]));
  const errorToWire = (e) => {
    try { return describeError(e); } catch { return { name: "Error", message: "the thrown value could not be described" }; }
  };
  const describeError = (e) => {
    if (!(e instanceof Error)) return { name: "Error", message: String(e) };
    const proto = Object.getPrototypeOf(e);
    const std = STANDARD_PROTOS.get(proto);
    const message = String(e.message);
    if (std !== undefined) return { name: std, message };
    if (typeof DOMException === "function" && proto === DOMException.prototype)
      return { name: String(e.name), message, dom: true };
    let cls = proto?.constructor?.name;
    if (typeof cls !== "string" || cls === "") cls = typeof e.name === "string" && e.name !== "" ? e.name : "Error";
    return { name: "Error", message: `${cls}: ${message}` };
  };
  const errorFromWire = (w, reset) => {
    let e;
    if (w && w.dom && typeof DOMException === "function") {
      e = new DOMException(w.message, w.name);
    } else {
      const C = (w && hasOwn(REMOTE_ERRORS, w.name) && REMOTE_ERRORS[w.name]) || Error;
      e = new C(w ? w.message : "unknown error");
    }
    if (w && w.overloaded) e.overloaded = true;
    else e.remote = true;
    if (w && w.retryable) e.retryable = true;
    if (reset) e.durableObjectReset = true;
    return e;
  };
  const wireError = errorToWire;

  class StubCore {
    constructor(ns, id) {
      this.ns = ns;
      this.id = id;
      this.target = idTarget(id);   // checked once; every send goes through it
      this.name = id[kName];
      this.broken = null;
      this.chain = null;   // a promise while an earlier call is still being prepared
      this.disposed = false;
    }
  }

  const send = (core, kind, body, settle) => {
    if (core.broken) throw core.broken;
    if (core.disposed) throw new Error("This stub has been disposed; get a new one with get().");
    const callId = ++nextCallId;
    const owner = [];
    try {
      N.objSend(kind, core.target, [core.name, body], callId);
    } catch (e) {
      // RPC-9: what cannot be cloned may still go by reference.
      if (kind !== KIND_RPC || !isCloneError(e)) throw e;
      const [copy, found, local] = encodeRefs(body[1], owner);
      if (!found) throw e;
      // LOCAL first (near the start of the bytes): a call that holds functions or
      // RpcTargets cannot be forwarded to another node (owner.c checks for it).
      N.objSend(kind, core.target, [core.name, [body[0], local ? { [LOCAL]: 1, [REFS]: copy } : { [REFS]: copy }]], callId);
    }
    return new Promise((resolve, reject) => pending.set(callId, { resolve, reject, core, settle, owner, ev: N.eventCurrent() }));
  };

  // ---- RPC by reference (RPC-9): functions, RpcTarget instances and stubs ----
  // A value that the serializer refuses is walked once more: functions and
  // RpcTargets are exported (kept in `exported`, called back through the shard
  // that exported them) and stubs travel as their namespace and id; each becomes a
  // marker object with a key user data cannot plausibly hold. A reference passed as
  // an argument lives until the call it was passed to settles (as on Cloudflare,
  // where such stubs are disposed at the end of the call); one returned as a result
  // lives until EXPORT_MAX newer ones push it out.
  const REF = "\u0000durable.ref", REFS = "\u0000durable.refs", LOCAL = "\u0000durable.localrefs";
  const EXPORT_MAX = 10000;
  const exported = new Map();
  let nextRefId = 0;
  const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const isCloneError = (e) => e !== null && typeof e === "object" && e.name === "DataCloneError";
  const exportRef = (target, owner) => {
    const id = ++nextRefId;
    exported.set(id, target);
    if (owner) owner.push(id);
    if (exported.size > EXPORT_MAX) exported.delete(exported.keys().next().value);
    return id;
  };
  const encodeRefs = (v, owner) => {
    const seen = new Map();
    const me = N.objShardIndex();
    let found = false, local = false;
    const walk = (x) => {
      if (typeof x === "function") { found = local = true; return { [REF]: [0, me, exportRef(x, owner)] }; }
      if (x === null || typeof x !== "object") return x;
      if (x instanceof RpcTarget) { found = local = true; return { [REF]: [1, me, exportRef(x, owner)] }; }
      if (x instanceof DurableObjectStub) {
        found = true;
        const c = x[kCore];
        return { [REF]: [2, c.ns, idHex(c.id), c.name === undefined ? null : c.name] };
      }
      if (seen.has(x)) return seen.get(x);
      if (Array.isArray(x)) {
        const out = [];
        seen.set(x, out);
        for (let i = 0; i < x.length; i++) out[i] = walk(x[i]);
        return out;
      }
      if (x instanceof Map) {
        const out = new Map();
        seen.set(x, out);
        for (const [k, val] of x) out.set(walk(k), walk(val));
        return out;
      }
      if (x instanceof Set) {
        const out = new Set();
        seen.set(x, out);
        for (const val of x) out.add(walk(val));
        return out;
      }
      const proto = Object.getPrototypeOf(x);
      if (proto === Object.prototype || proto === null) {
        const out = {};
        seen.set(x, out);
        for (const k of Object.keys(x)) out[k] = walk(x[k]);
        return out;
      }
      return x;   // for the serializer to accept or refuse
    };
    const copy = walk(v);
    return [copy, found, local];
  };
  const decodeRefs = (v) => {
    const seen = new Set();
    const walk = (x) => {
      if (x === null || typeof x !== "object" || seen.has(x)) return x;
      seen.add(x);
      if (!Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype && hasOwn(x, REF)) {
        const r = x[REF];
        if (r[0] === 2) return makeStub(r[1], makeId(r[1], undefined, r[2], r[3] === null ? undefined : r[3]));
        return r[0] === 0 ? refFunction(r[1], r[2]) : refTarget(r[1], r[2]);
      }
      if (Array.isArray(x)) { for (let i = 0; i < x.length; i++) x[i] = walk(x[i]); return x; }
      if (x instanceof Map) { const e = [...x]; x.clear(); for (const [k, val] of e) x.set(walk(k), walk(val)); return x; }
      if (x instanceof Set) { const e = [...x]; x.clear(); for (const val of e) x.add(walk(val)); return x; }
      if (Object.getPrototypeOf(x) === Object.prototype) for (const k of Object.keys(x)) x[k] = walk(x[k]);
      return x;
    };
    return walk(v);
  };
  const crossNodeRefError = () => new DOMException("Could not serialize the RPC message: functions and RpcTargets cannot be passed by reference to or from a Durable Object on another cluster node (pass data or a Durable Object stub instead)", "DataCloneError");
  const unwrapRefs = (v) => (v !== null && typeof v === "object" && !Array.isArray(v) && hasOwn(v, REFS) ? decodeRefs(v[REFS]) : v);
  const refCall = (shard, id, method, args) => {
    const hold = outboundHold();   // GATE-6
    if (hold !== undefined) return hold.then((ev) => { N.eventEnter(ev); return refCall1(shard, id, method, args); });
    return refCall1(shard, id, method, args);
  };
  const refCall1 = (shard, id, method, args) => {
    const callId = ++nextCallId;
    const owner = [];
    try {
      try {
        N.objSendShard(shard, [id, method, args], callId);
      } catch (e) {
        if (!isCloneError(e)) throw e;
        const [copy, found] = encodeRefs(args, owner);
        if (!found) throw e;
        N.objSendShard(shard, [id, method, { [REFS]: copy }], callId);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => pending.set(callId, { resolve, reject, core: null, settle: null, owner, ev: N.eventCurrent() }));
  };
  // stub.m is callable (an RPC call) and thenable (`await stub.m` reads the property
  // on the other side, RPC-5); args null on the wire means "read".
  const rpcProperty = (invoke) => {
    const f = (...args) => invoke(args);
    Object.defineProperty(f, "then", { value: (res, rej) => invoke(null).then(res, rej) });
    return f;
  };
  const refFunction = (shard, id) => (...args) => refCall(shard, id, null, args);
  const refTarget = (shard, id) => new Proxy(Object.create(null), {
    get(t, prop) {
      if (typeof prop === "symbol" || prop === "then") return undefined;
      return rpcProperty((args) => refCall(shard, id, prop, args));
    },
  });
  const NOT_EXPORTED = "This RPC stub refers to a function or RpcTarget that is no longer available: it was disposed when the call it was passed to ended.";
  N.objRefCall = ([id, method, args], from, callId) => {
    const ev = { from, callId, kind: KIND_RPC };
    let p;
    try {
      const target = exported.get(id);
      if (target === undefined) throw new Error(NOT_EXPORTED);
      args = unwrapRefs(args);
      if (typeof target === "function") {
        if (args === null) throw new TypeError("A function passed over RPC has no properties to read.");
        p = target(...args);
      } else {
        // RPC-3 on an RpcTarget: prototype methods above RpcTarget.prototype.
        let proto = Object.getPrototypeOf(target), desc;
        while (proto && proto !== RpcTarget.prototype && proto !== Object.prototype) {
          desc = Object.getOwnPropertyDescriptor(proto, method);
          if (desc) break;
          proto = Object.getPrototypeOf(proto);
        }
        if (method === "constructor" || method === "dup")
          throw new TypeError(`'${method}' is a reserved method and cannot be called over RPC.`);
        if (!desc || proto === RpcTarget.prototype || proto === Object.prototype)
          throw new TypeError(`The RPC receiver does not implement the method "${method}".`);
        const fn = desc.get ? desc.get.call(target) : desc.value;
        if (args === null) p = typeof fn === "function" ? fn.bind(target) : fn;   // a read (RPC-5)
        else if (typeof fn !== "function") throw new TypeError(`"${method}" is not a function.`);
        else p = fn.apply(target, args);
      }
    } catch (e) {
      p = Promise.reject(e);
    }
    Promise.resolve(p).then((v) => replyValue(ev, v), (e) => reply(ev, ST_ERROR, wireError(e)));
  };
  // E-order (ORDER-1): a call is handed to the router only after every earlier
  // call through the same stub was, even when one of them had to read a request
  // body first. `prep` (optional) is a promise whose value doSend needs.
  const ordered = (core, doSend, prep) => {
    const hold = outboundHold();   // GATE-6: after an uncommitted write, the call waits
    if (hold !== undefined) {
      const send0 = doSend;
      let ev = null;
      doSend = (x) => { N.eventEnter(ev); return send0(x); };
      const h = hold.then((e) => { ev = e; });
      prep = prep === undefined ? h : Promise.all([h, prep]).then(([, x]) => x);
    }
    if (core.chain === null && prep === undefined) return doSend(undefined);
    const prev = core.chain || Promise.resolve();
    // Wrapped in an object so the chain advances when the call is handed over,
    // not when its reply arrives.
    const handed = Promise.all([prev, prep]).then(([, x]) => ({ reply: doSend(x) }));
    const mark = handed.then(() => {}, () => {});
    core.chain = mark;
    mark.then(() => { if (core.chain === mark) core.chain = null; });
    return handed.then((h) => h.reply);
  };

  N.objSettle = (callId, status, payload, from) => {
    const p = pending.get(callId);
    if (!p) return;
    pending.delete(callId);
    if (p.owner) for (const id of p.owner) exported.delete(id);   // the call ended
    N.eventEnter(p.ev);   // the caller resumes: charged to the event that called (LIM-13)
    if (status === ST_OK) {
      try { p.resolve(p.settle ? p.settle(payload, from) : unwrapRefs(payload)); } catch (e) { p.reject(e); }
      return;
    }
    const e = errorFromWire(payload, status === ST_RESET);
    if (status === ST_RESET && p.core) p.core.broken = e;   // ERR-6: later calls fail the same way
    p.reject(e);
  };

  const responseFromWire = ([status, statusText, flat, body], from) => {
    if (status === 101 && body !== null && typeof body === "object" && "wsId" in body) {
      let to = body.wsShard;
      // Cluster mode: the object is on the node that answered (`from`, its node
      // handle); the socket is relayed there (objects/relay.c).
      if (body.wsSerial !== undefined) {
        to = N.objWsRelayOpen(from, body.wsSerial, body.wsShard);
        if (to === -1) throw new Error("WebSocket upgrade failed: the connection to the Durable Object's node dropped; retry");
      }
      return N.makeResponse(101, statusText, flat, null, undefined, false, wsRemoteClient(to, body.wsId));
    }
    return N.makeResponse(status, statusText, flat, status === 204 || status === 205 || status === 304 ? null : body);
  };

  // ---- WebSockets through an object (docs/websockets.md) ----
  // The connection stays on the shard that accepted it (its Worker's); the server
  // end lives in the object. MSG_WS messages cross between them: ["o", id, kind,
  // ...] toward the object (kind -1 binds the connection's wire id; 0 a message;
  // 1 the end), and ["w", wire, op, ...] toward the connection (op 0 send, 1 close),
  // the latter through the object's output gate (WS-16).
  const wsRecs = new Map();   // id → { id, server, inst, dest, early, autoAt }
  const wsRecOf = new WeakMap();   // server end → its record
  const hibState = new Map();      // object key → { hib, autoResponse, timeout }
  // A record's instance may have been evicted (its sockets all hibernatable) and
  // rebuilt since: sends and events go to the instance in memory now.
  const recInst = (rec, construct) => {
    let cur = instances.get(rec.hex);
    if (cur === undefined && construct && (!rec.inst.dead || rec.inst.keptHib)) cur = instanceFor(rec.ns, rec.hex);
    if (cur !== undefined && cur !== rec.inst && wsRecs.has(rec.id)) {
      rec.inst.wsCount--;
      cur.wsCount++;
    }
    if (cur !== undefined) rec.inst = cur;
    return rec.inst;
  };
  // WS-22 / HIB-17: a standard WebSocket keeps its object in memory.
  const holdsStandardSocket = (inst) => {
    if (inst.wsCount === 0) return false;
    for (const rec of wsRecs.values()) if (rec.inst === inst && !N.wsIsHibernatable(rec.server)) return true;
    return false;
  };
  let wsNextId = 1;
  // Cluster mode: the client connections here whose object is on another node, by
  // relay handle (closed with 1011 when that node's connection drops).
  const relayWires = new Map();
  const wsRemoteClient = (shard, id) => {
    let wire = null;
    return N.wsRemoteClient({
      bind: (w) => {
        wire = w;
        if (shard < -1) {
          if (!relayWires.has(shard)) relayWires.set(shard, new Set());
          relayWires.get(shard).add(w);
        }
        N.objWsSend(shard, ["o", id, -1, w]);
      },
      deliver: (kind, data, code, reason, clean, error) => {
        if (kind === 1 && wire !== null) relayWires.get(shard)?.delete(wire);
        N.objWsSend(shard, ["o", id, kind, data, code, reason, clean, error ?? null]);
      },
    });
  };
  // A node or connection of the cluster went (objects/relay.c): clients whose
  // object was there get Close 1011; objects whose client was there see it go
  // without a Close frame (1006).
  N.objWsRelayLost = (handles) => {
    const gone = new Set(handles);
    for (const h of handles) {
      const wires = relayWires.get(h);
      relayWires.delete(h);
      for (const w of wires ?? []) N.wsClose(w, 1011, "the connection to the Durable Object's cluster node dropped");
    }
    for (const rec of [...wsRecs.values()]) {
      if (!gone.has(rec.dest?.shard ?? rec.pending)) continue;
      N.objWsDeliver(["o", rec.id, 1, null, 1006, "WebSocket disconnected without sending Close frame.", false, null], -1);
    }
  };
  // Closes the sockets of object `hex` (not in memory: hibernated) with `code`.
  const wsCloseKey = (hex, code, why) => {
    for (const rec of [...wsRecs.values()]) {
      if (rec.hex !== hex) continue;
      wsDetach(rec);
      if (rec.dest !== null) N.objWsSend(rec.dest.shard, ["w", rec.dest.wire, 1, code, why]);
    }
    hibState.delete(hex);
  };
  const wsOut = (rec, msg) => {
    if (rec.dest === null) { rec.early.push(msg); return; }
    N.gateWsSend(recInst(rec, false).gate, rec.dest.shard, ["w", rec.dest.wire, ...msg]);
  };
  const wsAttach = (inst, resp, from) => {
    const rec = { id: wsNextId++, server: null, inst, dest: null, early: [], ns: inst.ns, hex: inst.hex, name: inst.name, pending: undefined };
    rec.server = N.wsTakeForObject(resp, {
      send: (m) => wsOut(rec, [0, m]),
      close: (code, reason) => wsOut(rec, [1, code, reason]),
    });
    wsRecs.set(rec.id, rec);
    wsRecOf.set(rec.server, rec);
    inst.wsCount++;
    // A forwarded upgrade (cluster mode): the client is on another node; until it
    // binds, the connection the call came on stands for it.
    if (from <= -2) {
      rec.pending = N.objWsRelayOrigin(from);
      return { wsId: rec.id, wsShard: N.objShardIndex(), wsSerial: N.objRegSerial() };
    }
    return { wsId: rec.id, wsShard: N.objShardIndex() };
  };
  const wsDetach = (rec) => {
    if (wsRecs.delete(rec.id)) rec.inst.wsCount--;
  };
  N.objWsDeliver = (p, from) => {
    if (p[0] === "w") {
      const [, wire, op, a, b] = p;
      if (op === 0) N.wsSend(wire, a); else N.wsClose(wire, a, b);
      return;
    }
    const [, id, kind] = p;
    const rec = wsRecs.get(id);
    if (rec === undefined) return;   // the object was reset: its sockets are closed
    if (kind === -1) {
      rec.dest = { shard: from, wire: p[3] };
      for (const m of rec.early.splice(0)) wsOut(rec, m);
      return;
    }
    const ar = hibState.get(rec.hex)?.autoResponse ?? null;
    // HIB-15/19: answered by the runtime, the object's handlers never see it.
    if (kind === 0 && ar !== null && typeof p[3] === "string" && p[3] === ar.request &&
        N.wsIsHibernatable(rec.server)) {
      rec.autoAt = Date.now();
      wsOut(rec, [0, ar.response]);
      return;
    }
    const inst = recInst(rec, true);   // HIB-18: a hibernated object is built again
    if (kind === 1) wsDetach(rec);
    inst.enqueue({ kind: KIND_WS, rec, name: rec.name, args: p.slice(2), bytes: 0, at: 0 });
  };
  // ---- outbound WebSockets of an object (new WebSocket(url), fetch with Upgrade:
  // websocket; 50_websocket.js) ----
  // Such a socket belongs to the object whose event opened it. Its sends, closes
  // and held connection attempt are outputs of the object's gate (WS-16, GATE-6):
  // each takes a ticket while a confirmed write is uncommitted (even inside a
  // transaction: nothing waits for a send, so nothing can deadlock), they leave in
  // the order they were made, and never if the commit fails. The answer to its
  // connection (open, or error and close) comes to the event that opened it, as a
  // fetch()'s answer does (GATE-3); its later events (message, error, close) run
  // as events of the object (GATE-1/2: one at a time, not while it is blocked in
  // a transaction or blockConcurrencyWhile), charged to the object (LIM-13). It
  // keeps the object in memory (an object with an outbound socket does not
  // hibernate), and a reset closes it (1011, WS-22).
  N.objWsOwner = (kill) => {
    const g = N.gateOutbound(true);
    const inst = g?.inst;
    if (inst === undefined || inst.dead) return null;
    const o = { inst, q: [], kill };
    inst.outWs.add(o);
    return {
      out: (fn) => wsOutboundOut(o, fn),
      deliver: (fn) => {
        if (inst.dead || !inst.outWs.has(o)) return;   // reset: the socket is closed
        inst.enqueue({ kind: KIND_WS, rec: null, run: fn, name: inst.name, bytes: 0, at: 0 });
      },
      done: () => { inst.outWs.delete(o); },
    };
  };
  // The gate's ticket for one output of the object: undefined (go now), or a
  // promise that settles when the output may go (or must never).
  const outputHold = (inst) => {
    if (inst.dead) return Promise.reject(inst.dead);
    const t = N.gateHoldCall(inst.gate);
    if (t === 0) return undefined;
    if (t < 0) return Promise.reject(inst.dead ?? new Error("Durable Object storage commit failed"));
    return new Promise((resolve, reject) => tickets.set(t, [resolve, reject, null]));
  };
  const wsOutboundOut = (o, fn) => {
    if (!o.inst.outWs.has(o)) return;
    const hold = outputHold(o.inst);
    if (hold === undefined && o.q.length === 0) { fn(); return; }
    // Behind held outputs of this socket, in order; when nothing held it, it goes
    // with the one before it. It runs in the event that made it (a held connection
    // attempt answers there, as when it is made at once).
    const item = { fn, ready: hold === undefined, ev: N.eventCurrent() };
    o.q.push(item);
    if (hold === undefined) return;
    const go = () => {
      item.ready = true;
      while (o.q.length && o.q[0].ready) {
        const it = o.q.shift();
        if (it.fn !== null && o.inst.outWs.has(o)) { N.eventEnter(it.ev); it.fn(); }
      }
    };
    hold.then(go, () => { item.fn = null; go(); });
  };
  const wsOutboundCloseAll = (inst, why) => {
    for (const o of [...inst.outWs]) {
      inst.outWs.delete(o);
      try { o.kill(why); } catch (e) { N.logError(`closing an outbound WebSocket: ${e.message}`); }
    }
  };

  // WS-22: an object that is reset closes its sockets (1011, clients reconnect).
  const wsCloseAll = (inst, why, keepHib = false) => {
    for (const rec of [...wsRecs.values()]) {
      // By key: a record not yet moved from an evicted instance belongs here too.
      if (rec.hex !== inst.hex || (keepHib && N.wsIsHibernatable(rec.server))) continue;
      wsDetach(rec);
      if (rec.dest !== null) N.objWsSend(rec.dest.shard, ["w", rec.dest.wire, 1, 1011, why]);
    }
  };

  const stubFetch = (core, input, init) => {
    if (typeof input === "string" && !URL.canParse(input))
      return Promise.reject(new TypeError(`Fetch API cannot load: ${input}`));
    let req;
    try {
      req = input instanceof Request && init === undefined ? input : new Request(input, init);
    } catch (e) {
      return Promise.reject(e);
    }
    const head = N.requestHead(req);
    try {
      // A body we hold as a string or bytes goes as it is; a stream is read first.
      const direct = N.bodyPeek(req);
      if (direct !== undefined)
        return ordered(core, () => send(core, KIND_FETCH, [...head, direct], responseFromWire), undefined);
      return ordered(core, (ab) => send(core, KIND_FETCH, [...head, ab === undefined ? null : ab], responseFromWire),
        req.arrayBuffer());
    } catch (e) {
      return Promise.reject(e);
    }
  };

  const rpcCall = (core, method, args) => {
    let p;
    try {
      p = ordered(core, () => send(core, KIND_RPC, [method, args], null), undefined);
    } catch (e) {
      p = Promise.reject(e);
    }
    return pipelined(p);
  };
  // RPC-13: a call's promise also stands for its result: `stub.a().b(1)` calls b on
  // what a() returns (after it arrives: same answers, one round trip more than
  // true pipelining). Reading a property that a Promise has is the Promise's.
  const PROMISE_KEYS = new Set(["then", "catch", "finally"]);
  const NOT_OBJECT = "Can't pipeline on RPC that did not return an object.";
  const pipeHandler = {
    get(p, prop) {
      if (typeof prop === "symbol" || PROMISE_KEYS.has(prop)) {
        const v = p[prop];
        return typeof v === "function" ? v.bind(p) : v;
      }
      const target = p.then((r) => {
        if (r === null || (typeof r !== "object" && typeof r !== "function")) throw new TypeError(NOT_OBJECT);
        return r;
      });
      return rpcProperty((args) => pipelined(target.then((r) => (args === null ? r[prop] : r[prop](...args)))));
    },
  };
  const pipelined = (p) => new Proxy(p, pipeHandler);

  class DurableObjectStub {}
  Object.defineProperty(DurableObjectStub.prototype, Symbol.toStringTag, { value: "DurableObjectStub" });
  const kCore = Symbol("core");
  const STUB_OWN = new Set(["id", "name", "fetch", "connect", "dup"]);
  const stubHandler = {
    get(target, prop, receiver) {
      if (typeof prop === "symbol") {
        if (prop === Symbol.dispose) return () => { target[kCore].disposed = true; };
        return target[prop];
      }
      if (prop === "then") return undefined;   // a stub is not a thenable
      if (STUB_OWN.has(prop)) return target[prop];
      if (prop === "toString") return target[prop];
      const core = target[kCore];
      return rpcProperty((args) => rpcCall(core, prop, args));
    },
    set() { return false; },
    has(target, prop) { return prop in target; },
  };
  const makeStub = (ns, id) => {
    const core = new StubCore(ns, id);
    const t = Object.create(DurableObjectStub.prototype);
    t[kCore] = core;
    Object.defineProperty(t, "id", { value: id, enumerable: true });
    Object.defineProperty(t, "name", { value: id[kName], enumerable: true });
    Object.defineProperty(t, "fetch", { value: (input, init) => stubFetch(core, input, init) });
    Object.defineProperty(t, "connect", { value: () => { throw new Error("stub.connect() (TCP sockets to a Durable Object) is not supported by durable"); } });
    Object.defineProperty(t, "dup", { value: () => makeStub(ns, id) });
    return new Proxy(t, stubHandler);
  };
  globalThis.DurableObjectId = DurableObjectId;
  globalThis.DurableObjectNamespace = DurableObjectNamespace;
  globalThis.DurableObjectStub = DurableObjectStub;

  // ---- the object side ----
  const instances = new Map();
  const ready = new Set();    // instances with an event to deliver at the next turn
  let bookmarkSeq = 0;
  // LIM-31 / ERR-4: bounds on the events waiting at one object (not started yet),
  // their bytes, and how long the oldest of them has waited since it was sent.
  // Read at the first event: the shard is attached after this file runs.
  let queueLimits = null;
  const RESERVED = new Set(["fetch", "connect", "alarm", "webSocketMessage", "webSocketClose", "webSocketError", "dup", "constructor"]);
  let sweepTimer = null;

  class DurableObjectState {
    #inst;
    constructor(token, inst) {
      if (token !== kConstruct[0]) throw new TypeError("Illegal constructor");
      this.#inst = inst;
      Object.defineProperty(this, "id", { value: makeId(inst.ns, undefined, inst.hex, inst.name), enumerable: true });
      Object.defineProperty(this, "storage", { value: N.makeStorage(inst), enumerable: true });
    }
    waitUntil(promise) {
      const inst = this.#inst;
      inst.waiting++;
      Promise.resolve(promise).then(undefined, (e) => N.logError(`Uncaught (in waitUntil promise): ${e instanceof Error ? e.stack ? e.name + ": " + e.message + "\n" + e.stack : e : e}`))
        .finally(() => { inst.waiting--; inst.touch(); });
    }
    blockConcurrencyWhile(fn) {
      if (typeof fn !== "function") throw new TypeError("blockConcurrencyWhile: the argument must be a function");
      const inst = this.#inst;
      inst.blocked++;
      inst.touch();
      let p;
      try { p = Promise.resolve(fn()); } catch (e) { p = Promise.reject(e); }
      let timer;
      const limit = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("blockConcurrencyWhile() callback did not complete within 30 seconds; the Durable Object was reset.")), 30000);
      });
      return Promise.race([p, limit]).then(
        (v) => { clearTimeout(timer); inst.blocked--; inst.drain(); return v; },
        (e) => {
          clearTimeout(timer);
          inst.blocked--;
          // Aborted by the CPU limit (an async callback): the reset says so (LIM-13).
          const cur = N.eventCurrent();
          if (cur !== null && N.eventExceeded(cur)) inst.overBudget(cur);
          else inst.reset(e);
          throw e;
        });
    }
    // LIFE-12: the instance is reset at once (its events' callers get `reason`,
    // durableObjectReset) and the code that called abort() stops: an uncatchable
    // error (N.eventAbort) unwinds past the handler's try/catch and finally. An
    // alarm it interrupts is retried unless options.retryAlarm is false (ALARM-9).
    abort(reason, options) {
      const inst = this.#inst;
      const msg = reason === undefined ? "Durable Object was aborted." : String(reason);
      if (!inst.dead) {
        N.logError(`Durable Object ${N.objClassNames[inst.ns]} was aborted (ctx.abort()): ${msg} (${inst.hex})`);
        if (options?.retryAlarm === false) inst.alarmNoRetry = true;
        inst.reset(new Error(msg));
      }
      N.eventAbort(new Error(msg));
    }
    // ---- the Hibernation API (HIB-1..16; eviction with open sockets: not yet) ----
    acceptWebSocket(ws, tags = []) {
      const inst = this.#inst;
      if (tags === undefined || tags === null) tags = [];
      if (!Array.isArray(tags)) throw new TypeError("acceptWebSocket: tags must be an array of strings");
      const set = [];
      for (const t of tags) {
        if (typeof t !== "string") throw new TypeError("acceptWebSocket: tags must be an array of strings");
        if (t.length > 256) throw new Error(`The tag "${t}" is longer than the limit of 256 characters.`);
        if (!set.includes(t)) set.push(t);
      }
      if (set.length > 10) throw new Error("a Hibernatable WebSocket cannot have more than 10 tags");
      if (inst.hs.hib.length >= 32768) throw new Error("a Durable Object cannot have more than 32768 hibernatable WebSockets");
      N.wsHibernate(ws, set);
      if (!inst.hs.hib.includes(ws)) inst.hs.hib.push(ws);
    }
    getWebSockets(tag) {
      const all = this.#inst.hs.hib.filter((ws) => ws.readyState !== WebSocket.CLOSED);
      return tag === undefined ? all : all.filter((ws) => N.wsTags(ws).includes(String(tag)));
    }
    getTags(ws) {
      if (!N.wsIsHibernatable(ws)) throw new Error("only hibernatable websockets can have tags.");
      return [...N.wsTags(ws)];
    }
    setWebSocketAutoResponse(pair) {
      if (pair !== undefined && !(pair instanceof WebSocketRequestResponsePair))
        throw new TypeError("setWebSocketAutoResponse: the argument must be a WebSocketRequestResponsePair");
      this.#inst.hs.autoResponse = pair ?? null;
    }
    getWebSocketAutoResponse() { return this.#inst.hs.autoResponse; }
    getWebSocketAutoResponseTimestamp(ws) {
      const rec = wsRecOf.get(ws);
      return rec?.autoAt ? new Date(rec.autoAt) : null;
    }
    setHibernatableWebSocketEventTimeout(ms) {
      if (ms === undefined || ms === 0) { this.#inst.hs.timeout = null; return; }
      ms = Number(ms);
      if (!(ms >= 0)) throw new TypeError("setHibernatableWebSocketEventTimeout: the timeout must be a number of milliseconds");
      if (ms > 604800000) throw new Error("Event timeout should not exceed 604800000 ms.");
      this.#inst.hs.timeout = ms;
    }
    getHibernatableWebSocketEventTimeout() { return this.#inst.hs.timeout; }
  }
  Object.defineProperty(DurableObjectState.prototype, Symbol.toStringTag, { value: "DurableObjectState" });
  globalThis.DurableObjectState = DurableObjectState;

  class Instance {
    constructor(ns, hex, key) {
      this.ns = ns; this.hex = hex; this.key = key; this.name = undefined;
      this.obj = null; this.state = null;
      this.queue = []; this.queuedBytes = 0; this.blocked = 0; this.running = 0; this.waiting = 0;
      this.dead = null; this.lastActive = Date.now();
      // Events (LIM-13): `life` owns the instance's timers (cancelled when it is
      // evicted or reset); each delivered event gets its own CPU budget (`ev.cpu`).
      this.life = N.eventNew(null);
      this.live = new Set();     // events delivered and not finished (a reset answers them)
      // storage (45_storage.js uses these through the host interface)
      this.backend = N.objBackends[ns];
      this.h = null;             // the store handle, opened on first use
      // The output gate and commit state (src/objects/gate.c): uncommitted writes,
      // held replies, transaction depth. gate.inst leads back here at commit time.
      this.gate = N.gateNew(this.life);   // outbound calls of its events find it (GATE-6)
      this.gate.inst = this;
      this.syncWaiters = [];     // storage.sync() promises, settled by the next commit
      this.alarmTouched = false; // setAlarm/deleteAlarm since the last commit
      this.alarmRunning = null;  // the time of the alarm whose handler is running
      this.wsCount = 0;          // WebSockets whose server end is here (keep it in memory)
      this.outWs = new Set();    // its outbound WebSockets (N.objWsOwner; keep it in memory)
      // The Hibernation API's state outlives the instance (HIB-17/18): kept by key.
      // hs.hib: ctx.acceptWebSocket()ed sockets, in acceptance order.
      this.hs = hibState.get(key) ?? { hib: [], autoResponse: null, timeout: null };
      hibState.set(key, this.hs);
    }
    // ---- the host interface of 45_storage.js ----
    get txnDepth() { return N.gateTxnDepth(this.gate); }
    set txnDepth(d) { N.gateTxnSet(this.gate, d); }
    handle() {
      if (this.h === null) this.h = N.stOpen(N.objStorePath(this.ns, this.hex), this.backend);
      return this.h;
    }
    checkAlive() {
      if (this.dead) throw this.dead;
      // CL-7: a node that lost its lease serves nothing more of its objects.
      if (cluster() && !N.objClLeaseOk()) {
        this.clReset(clResetError("Durable Object reset: this node lost its lease on the object (it could not reach PostgreSQL in time); retry"));
        throw this.dead;
      }
    }
    // The cluster took the object from this instance (fenced, a failed replicated
    // commit, a lost lease): reset, ownership forgotten, local file dropped (what it
    // holds beyond PostgreSQL must never be served; the next claim rebuilds it).
    clReset(e) {
      if (!this.dead) this.reset(e);   // it answers this.live (abandon)
      alarms.delete(this.hex);
      N.objClForget(this.ns, this.hex, N.objStorePath(this.ns, this.hex));
    }
    isDead() { return this.dead !== null; }
    wrote(unconfirmed) {
      N.gateWrote(this.gate, unconfirmed);
    }
    hold(d) {
      this.blocked += d;
      if (this.blocked === 0) this.drain();
    }
    rolledBack() { this.alarmTouched = true; N.storageCacheClear(this); }
    sync() {
      if (!N.gatePending(this.gate)) return undefined;
      return new Promise((resolve, reject) => this.syncWaiters.push([resolve, reject]));
    }
    alarmGet() {
      const t = N.stAlarm(this.handle());
      return t !== null && t === this.alarmRunning ? null : t;   // ALARM-7
    }
    alarmSet(ms, unconfirmed) {
      N.stAlarm(this.handle(), ms === null ? -1 : ms);
      if (ms !== null) this.alarmRunning = null;
      this.alarmTouched = true;
      this.wrote(unconfirmed);
    }
    alarmDeleted() { this.alarmTouched = true; }
    hasAlarmHandler() {
      if (this.obj) return typeof this.obj.alarm === "function";
      const cls = N.mainModule?.[N.objClassNames[this.ns]];
      return typeof cls?.prototype?.alarm === "function";
    }
    bookmark() {
      const t = Date.now(), seq = ++bookmarkSeq;
      const hex = (n, w) => n.toString(16).padStart(w, "0");
      return `${hex(Math.floor(t / 0x100000000), 8)}-${hex(t % 0x100000000, 8)}-${hex(seq % 0x100000000, 8)}-${this.hex.slice(0, 32)}`;
    }
    touch() { this.lastActive = Date.now(); }
    enqueue(ev) {
      // LIM-31 / ERR-4: a bounded queue; callers must not retry these. Alarms are
      // the object's own events and always wait their turn.
      if (ev.kind !== KIND_ALARM && ev.kind !== KIND_WS) {
        const q = this.queue;
        const [max, bytesMax, waitMs] = queueLimits ?? (queueLimits = N.objQueueLimits());
        let why = null;
        if (q.length >= max) why = "Too many requests queued.";
        else if (this.queuedBytes + ev.bytes > bytesMax) why = "Too much data queued.";
        else if (q.length && q[0].at > 0 && N.objClockMs() - q[0].at > waitMs) why = "Requests queued for too long.";
        if (why !== null) return reply(ev, ST_ERROR, { name: "Error", message: `Durable Object is overloaded. ${why}`, overloaded: true });
        this.queuedBytes += ev.bytes;
      }
      ev.inst = this;
      this.queue.push(ev);
      this.drain();
    }
    // The next event to run, out of the queue.
    dequeue() {
      const ev = this.queue.shift();
      if (ev.kind !== KIND_ALARM && ev.kind !== KIND_WS) this.queuedBytes -= ev.bytes;
      return ev;
    }
    requeue(ev) {
      if (ev.kind !== KIND_ALARM && ev.kind !== KIND_WS) this.queuedBytes += ev.bytes;
      this.queue.unshift(ev);
    }
    // Every queued event, out of the queue (reset, failed constructor).
    takeQueue() {
      this.queuedBytes = 0;
      return this.queue.splice(0);
    }
    // Events are delivered one per turn (see N.objTurn): an event's promise
    // reactions — its storage reads included — run before the next event starts,
    // which is the input gate (GATE-1/2) for storage that answers at once.
    drain() {
      if (this.blocked === 0 && this.queue.length && !this.dead && !ready.has(this)) {
        ready.add(this);
        N.objWantTurn();
      }
    }
    construct(ev) {
      if (!ev.cpu) ev.cpu = N.eventNew(this.life);
      this.live.add(ev);
      const ok = N.eventRun(ev.cpu, () => this.construct1(ev));
      // A constructor (or its blockConcurrencyWhile callback) stopped by the CPU
      // limit: as for one that throws (LIFE-3), the reset fails the event (LIM-13).
      if (this.overBudget(ev.cpu) || !this.live.delete(ev)) return false;   // else not answered yet
      return ok;
    }
    construct1(ev) {
      const cls = N.mainModule?.[N.objClassNames[this.ns]];
      try {
        if (typeof cls !== "function") throw new Error(`Durable Object class ${N.objClassNames[this.ns]} is not exported by the script`);
        this.name = ev.name;
        this.state = new DurableObjectState(kConstruct[0], this);
        this.obj = new cls(this.state, N.env);
        return true;
      } catch (e) {
        // LIFE-3: the event and everything queued behind it fail; nothing is kept.
        N.logError(`Durable Object ${N.objClassNames[this.ns]} constructor threw: ${e instanceof Error ? e.name + ": " + e.message : e}`);
        instances.delete(this.key);
        N.objLive(instances.size, false);
        const w = wireError(e);
        this.dead = e;
        if (this.live.has(ev)) this.notRun(ev, ST_ERROR, w);   // else a reset answered it
        for (const q of this.takeQueue()) this.notRun(q, ST_ERROR, w);
        return false;
      }
    }
    // Runs the event and the promise jobs it starts, charged to its own CPU budget
    // (N.eventRun); its later turns are charged to it too (js/rt.h "events").
    run(ev) {
      if (!ev.cpu) ev.cpu = N.eventNew(this.life);
      this.live.add(ev);
      N.eventRun(ev.cpu, () => this.run1(ev));
      this.overBudget(ev.cpu);   // the handler itself was stopped by the CPU limit
    }
    // LIM-13 / LIFE-7: an event past its CPU budget (cpu: its N.eventNew) resets the
    // object; the reset answers every event that has not finished.
    overBudget(cpu) {
      if (!N.eventExceeded(cpu)) return false;
      if (!this.dead) this.cpuReset();
      return true;
    }
    cpuReset() {
      const msg = `Durable Object ${N.objClassNames[this.ns]} exceeded its CPU time limit and was reset.`;
      N.logError(`${msg} (${this.hex})`);
      this.reset(new Error(msg));
    }
    run1(ev) {
      this.running++;
      this.touch();
      if (ev.kind === KIND_ALARM) return this.runAlarm(ev);
      if (ev.kind === KIND_WS) return this.runWs(ev);
      let p;
      try {
        p = ev.kind === KIND_FETCH ? this.doFetch(ev.body, ev.from) : this.doRpc(ev.body);
      } catch (e) {
        p = Promise.reject(e);
      }
      // false: a reset answered the event already (abandon)
      const done = () => {
        if (!this.live.delete(ev)) return false;
        this.running--; this.touch(); this.overBudget(ev.cpu);
        return true;
      };
      if (!(p instanceof Promise)) {
        if (!done()) return;
        if (this.dead) return reply(ev, ST_RESET, wireError(this.dead));
        return replyValue(ev, p);
      }
      p.then((v) => {
        if (!done()) return;
        if (this.dead) return reply(ev, ST_RESET, wireError(this.dead));
        replyValue(ev, v);
      }, (e) => {
        if (!done()) return;
        reply(ev, this.dead ? ST_RESET : ST_ERROR, wireError(this.dead || e));
      });
    }
    // An event that will not finish in this instance (it is being reset): its caller
    // gets the reset error now (LIFE-9, LIFE-12: in-flight calls fail, ERR-5) — the
    // handler may never settle (aborted by the CPU limit, or awaiting a timer the
    // reset cancelled); an alarm counts as a failed attempt (ALARM-8).
    abandon(ev) {
      if (!this.live.delete(ev)) return;
      this.running--;
      this.notRun(ev, ST_RESET, wireError(this.dead));
    }
    // An event this dead instance will not run or finish (failed constructor,
    // reset): its caller gets `w`; an alarm counts as a failed attempt (ALARM-8),
    // so it is retried later (and its `running` mark cleared) — never left behind.
    notRun(ev, status, w) {
      if (ev.kind === KIND_ALARM) this.alarmFailed(ev, this.dead);
      else reply(ev, status, w);
    }
    doFetch([method, url, headers, body], from) {
      const obj = this.obj;
      if (typeof obj.fetch !== "function") throw new Error("Handler does not export a fetch() function.");
      const req = N.makeRequestFromWire(method, url, headers, method === "GET" || method === "HEAD" ? null : body);
      const r = obj.fetch(req);
      const toWire = (resp) => {
        if (!(resp instanceof Response))
          throw new TypeError(`The Durable Object's fetch() returned ${describe(resp)}, not a Response.`);
        const head = N.responseHead(resp);
        if (resp.webSocket) return [...head, wsAttach(this, resp, from)];
        const direct = N.bodyPeek(resp);
        if (direct !== undefined) return [...head, direct];
        return resp.arrayBuffer().then((ab) => [...head, ab]);
      };
      return r instanceof Promise ? r.then(toWire) : toWire(r);
    }
    doRpc([method, args]) {
      args = unwrapRefs(args);
      const obj = this.obj;
      if (!(obj instanceof DurableObject))
        throw new TypeError(`The receiving Durable Object does not support RPC, because its class was not declared with \`extends DurableObject\`. In order to enable RPC, make sure your class extends the special class \`DurableObject\`, which can be imported from the module "cloudflare:workers".`);
      if (RESERVED.has(method))
        throw new TypeError(`'${method}' is a reserved method and cannot be called over RPC.`);
      let proto = Object.getPrototypeOf(obj), desc;
      while (proto && proto !== DurableObject.prototype && proto !== Object.prototype) {
        desc = Object.getOwnPropertyDescriptor(proto, method);
        if (desc) break;
        proto = Object.getPrototypeOf(proto);
      }
      if (!desc || proto === DurableObject.prototype || proto === Object.prototype)
        throw new TypeError(`The RPC receiver does not implement the method "${method}".`);
      const fn = desc.get ? desc.get.call(obj) : desc.value;
      if (args === null) return typeof fn === "function" ? fn.bind(obj) : fn;   // `await stub.m` (RPC-5)
      if (typeof fn !== "function") throw new TypeError(`"${method}" is not a function.`);
      return fn.apply(obj, args);
    }
    // keepHib (the WebSocket event timeout, HIB-11): the instance goes as in a
    // reset, but its hibernatable sockets stay open with their state, as when it
    // hibernates, and their queued events go to the instance built next.
    reset(e, keepHib = false) {
      if (this.dead) return;
      this.dead = e;
      this.keptHib = keepHib;
      N.eventFinish(this.life);   // its timers are cancelled
      if (instances.get(this.key) === this) { instances.delete(this.key); N.objLive(instances.size, false); }
      ready.delete(this);
      // GATE-8: what was not committed is dropped, and so is every output that
      // waited for it; their callers get the reset error instead.
      if (this.h !== null) {
        try { N.stTxn(this.h, 1); } catch {}
        N.storageCacheClear(this);
        N.stClose(this.h);
        this.h = null;
      }
      const w = wireError(e);
      // Held replies become this error; held outbound calls are never made.
      ticketsDone(N.gateBreak(this.gate, w), e);
      for (const ev of [...this.live]) this.abandon(ev);
      wsCloseAll(this, "Durable Object connection closed because the object was reset", keepHib);
      wsOutboundCloseAll(this, "Durable Object connection closed because the object was reset");
      if (!keepHib && hibState.get(this.key) === this.hs) hibState.delete(this.key);
      for (const [, reject] of this.syncWaiters.splice(0)) reject(e);
      for (const q of this.takeQueue()) {
        if (keepHib && q.kind === KIND_WS && q.rec !== null && N.wsIsHibernatable(q.rec.server)) recInst(q.rec, true).enqueue(q);
        else this.notRun(q, ST_RESET, w);
      }
    }
    // A WebSocket message or close for a server end held here, delivered as an
    // event of the object (one at a time, like every event: the input gate).
    // An event of an outbound socket of the object (ev.rec null) runs ev.run.
    runWs(ev) {
      const [kind, data, code, reason, clean, error] = ev.rec === null ? [] : ev.args;
      const ws = ev.rec?.server;
      if (ev.rec !== null && N.wsIsHibernatable(ws)) return this.runHibernatable(ev, ws, kind, data, code, reason, clean, error);
      try {
        if (ev.rec === null) ev.run();
        else N.wsDeliver(ws, kind, data, code, reason, clean, error ?? undefined);
      } catch (e) {
        N.logError(`Durable Object ${N.objClassNames[this.ns]}: WebSocket event failed: ${e instanceof Error ? e.name + ": " + e.message : e}`);
      }
      if (!this.live.delete(ev)) return;
      this.running--;
      this.touch();
      this.overBudget(ev.cpu);
    }
    // HIB-7..10: webSocketMessage / webSocketError + webSocketClose; async handlers
    // hold the object's turn until they settle; a throw is logged, nothing closes.
    runHibernatable(ev, ws, kind, data, code, reason, clean, error) {
      const obj = this.obj, cls = N.objClassNames[this.ns];
      const calls = [];
      if (kind === 0) calls.push(["webSocketMessage", [ws, data]]);
      else {
        N.wsMarkClosed(ws);
        const i = this.hs.hib.indexOf(ws);
        if (i >= 0) this.hs.hib.splice(i, 1);
        if (error) calls.push(["webSocketError", [ws, new Error(error)]]);
        calls.push(["webSocketClose", [ws, code, reason, clean]]);
      }
      let current = calls[0][0];
      const run = async () => {
        for (const [name, args] of calls) {
          current = name;
          if (typeof obj?.[name] !== "function") {
            N.logError(`Durable Object ${cls} has no ${name}() handler; the WebSocket event was dropped`);
            continue;
          }
          try { await obj[name](...args); } catch (e) {
            N.logError(`Durable Object ${cls} ${name}() threw: ${e instanceof Error ? e.name + ": " + e.message : e}`);
          }
        }
      };
      // HIB-11: a handler still running after the event timeout is cancelled the
      // way workerd does it — the instance is dropped ("exceeded event execution
      // time"), its hibernatable sockets stay, the next event builds it again.
      // (A handler that never yields is stopped by the CPU limit instead.)
      const limit = this.hs.timeout;
      let timer = null;
      if (limit) {
        timer = setTimeout(() => {
          timer = null;
          const msg = `Durable Object ${cls} exceeded its WebSocket event timeout: ${current}() ran for more than ${limit} ms (setHibernatableWebSocketEventTimeout); the event was cancelled and the object reset, its hibernatable WebSockets stay open.`;
          N.logError(`${msg} (${this.hex})`);
          this.reset(new Error(msg), true);
        }, limit);
      }
      const end = () => {
        if (timer !== null) clearTimeout(timer);
        if (!this.live.delete(ev)) return;
        this.running--; this.touch(); this.overBudget(ev.cpu);
      };
      run().then(end, end);   // rejected: by ctx.abort()'s uncatchable error (LIFE-12)
    }
    runAlarm(ev) {
      const a = ev.alarm;
      const done = () => {
        if (!this.live.delete(ev)) return;
        this.running--; this.touch(); a.running = false; rearm(); this.overBudget(ev.cpu);
      };
      let stored;
      try {
        this.checkAlive();
        stored = N.stAlarm(this.handle());
      } catch (e) {
        N.logError(`alarm: could not read the alarm of ${this.hex}: ${e.message}`);
        done();
        return;
      }
      if (stored === null || stored > Date.now()) {   // deleted or moved since
        if (stored === null) { alarms.delete(this.hex); try { N.objAlarmIndex(this.ns, this.hex, -1); } catch {} }
        else a.time = stored;
        done();
        return;
      }
      if (typeof this.obj.alarm !== "function") {    // ALARM-13
        N.logError(`Durable Object ${N.objClassNames[this.ns]} has no alarm() handler; its alarm was dropped`);
        this.alarmSet(null, true);
        done();
        return;
      }
      this.alarmRunning = ev.stored = stored;
      const info = { retryCount: a.retry, isRetry: a.retry > 0 };
      let p;
      try { p = Promise.resolve(this.obj.alarm(info)); } catch (e) { p = Promise.reject(e); }
      p.then(() => {
        if (!this.live.has(ev)) return;   // abandoned by a reset: a failed attempt already
        if (this.dead) throw this.dead;
        // ALARM-7: cleared unless a new alarm was set since the handler started.
        if (this.alarmRunning === stored && N.stAlarm(this.handle()) === stored) this.alarmSet(null, true);
        this.alarmRunning = null;
        a.retry = 0;
        done();
      }).catch((e) => {
        if (!this.live.delete(ev)) return;
        this.running--;
        this.touch();
        this.alarmFailed(ev, e);
        this.overBudget(ev.cpu);
      });
    }
    // A failed attempt of the alarm of `ev` (ALARM-8): retried later unless replaced
    // or deleted meanwhile, dropped after ALARM_RETRIES retries or when ctx.abort()
    // said retryAlarm: false (ALARM-9). ev.stored is unset when the handler never
    // started (the constructor failed, or a reset came first).
    alarmFailed(ev, e) {
      const a = ev.alarm, stored = ev.stored;
      this.alarmRunning = null;
      const cls = N.objClassNames[this.ns];
      const what = stored === undefined ? "alarm not delivered, the object failed before alarm() ran" : "alarm() failed";
      N.logError(`Durable Object ${cls} ${what} (attempt ${a.retry + 1}): ${e instanceof Error ? e.stack ? e.name + ": " + e.message + "\n" + e.stack : e.message : e}`);
      let cur = null;
      try { cur = this.dead ? stored : N.stAlarm(this.handle()); } catch {}
      if (cur === stored) {    // not replaced or deleted meanwhile (ALARM-8)
        const noRetry = this.alarmNoRetry && stored !== undefined;   // its handler was running
        if (a.retry >= ALARM_RETRIES || noRetry) {
          N.logError(noRetry ? `Durable Object ${cls}: alarm dropped (ctx.abort() with retryAlarm: false)`
            : `Durable Object ${cls}: alarm dropped after ${ALARM_RETRIES} retries`);
          a.retry = 0;
          if (!this.dead) this.alarmSet(null, true);
          else this.dropDeadAlarm(a, stored);
        } else {
          a.retry++;
          a.time = Date.now() + 2000 * 2 ** (a.retry - 1) * (1 + Math.random() * 0.25);
        }
      }
      a.running = false;
      rearm();
    }
    // The alarm of this dead instance is dropped: deleted from the object's storage
    // through a new instance (not constructed: storage only) unless a new one was
    // set since — `stored` the time that failed, or unknown: whatever time is due.
    // In a cluster only the index entry goes (the owner's next claim re-reads it).
    dropDeadAlarm(a, stored) {
      if (!cluster()) {
        try {
          const fresh = instanceFor(this.ns, this.hex);
          const t = N.stAlarm(fresh.handle());
          if (t !== null && (stored === undefined ? t > Date.now() : t !== stored)) { a.time = t; return; }   // a new one stands
          alarms.delete(this.hex);
          if (t !== null) fresh.alarmSet(null, true);   // its commit drops the index entry
          else N.objAlarmIndex(this.ns, this.hex, -1);
          return;
        } catch (err) {
          N.logError(`alarm: could not delete the alarm of ${this.hex}: ${err.message}`);
        }
      }
      alarms.delete(this.hex);
      try { N.objAlarmIndex(this.ns, this.hex, -1); } catch {}
    }
  }

  const describe = (v) => {
    if (v === null) return "null";
    if (v === undefined) return "undefined";
    if (typeof v === "string") return "a string";
    if (typeof v !== "object") return `a ${typeof v}`;
    const c = Object.getPrototypeOf(v)?.constructor?.name;
    return c && c !== "Object" ? `an instance of ${c}` : "a plain object";
  };

  // The output gate (GATE-6): an object's replies are made (serialized) at once
  // and go through its gate, which holds them while a confirmed write is
  // uncommitted and posts them, in order, after the commit.
  const reply = (ev, status, payload) => {
    if (ev.kind === KIND_ALARM || ev.kind === KIND_WS) return;
    const inst = ev.inst;
    if (inst !== undefined) N.gateReply(inst.gate, ev.from, ev.callId, status, payload);
    else N.objReply(ev.from, ev.callId, status, payload);
  };
  const replyValue = (ev, v) => {
    if (v instanceof Promise) {   // a fetch body still being read
      v.then((x) => replyValue(ev, x), (e) => reply(ev, ST_ERROR, wireError(e)));
      return;
    }
    try {
      reply(ev, ST_OK, v);
    } catch (e) {
      // Functions, RpcTargets and stubs in the result go by reference (RPC-9).
      if (isCloneError(e) && ev.kind === KIND_RPC) {
        const [copy, found, local] = encodeRefs(v, null);
        // Cluster mode: a reference lives on this node; a caller on another node
        // could never call it back.
        if (local && ev.from <= -2) e = crossNodeRefError();
        else if (found) {
          try { reply(ev, ST_OK, { [REFS]: copy }); return; } catch (e2) { e = e2; }
        }
      }
      // The result could not be serialized (DataCloneError, size): the caller
      // gets that error instead (RPC-10).
      reply(ev, ST_ERROR, wireError(e));
    }
  };

  // Every few seconds: instances idle past --idle-timeout-ms leave memory (LIFE-14);
  // the databases of objects idle for HANDLE_IDLE_MS are closed (an idle object
  // then costs its JS instance only; the next event reopens the file).
  const HANDLE_IDLE_MS = 10000;
  const sweep = () => {
    const idle = N.objIdleMs();
    const now = Date.now();
    let closed = 0;
    for (const [key, inst] of instances) {
      const quiet = inst.running === 0 && inst.waiting === 0 && inst.blocked === 0 && inst.queue.length === 0 &&
          !N.gatePending(inst.gate) && inst.txnDepth === 0 && !holdsStandardSocket(inst) && inst.outWs.size === 0;
      if (quiet && now - inst.lastActive >= idle) {
        instances.delete(key);   // LIFE-14: in-memory state is dropped; storage stays
        N.objLive(instances.size, true);
        if (inst.hs.hib.length === 0) hibState.delete(key);
        N.eventFinish(inst.life);
        if (inst.h !== null) { N.stClose(inst.h); inst.h = null; closed++; }
        // CL-8: the lease goes with it; its alarm is kept in PostgreSQL (CL-14). A
        // hibernated object (open hibernatable sockets) keeps it: its next event
        // is built here. Quiet: closed, every commit acknowledged: the file's
        // position is kept.
        if (cluster() && inst.hs.hib.length === 0) { alarms.delete(key); N.objClRelease(inst.ns, inst.hex, N.objStorePath(inst.ns, inst.hex)); }
      } else if (quiet && inst.h !== null && now - inst.lastActive >= HANDLE_IDLE_MS) {
        if (N.stIdle(inst.h)) closed++;
      }
    }
    if (closed) N.stTrim();
    if (instances.size === 0) { clearInterval(sweepTimer); sweepTimer = null; }
  };

  const instanceFor = (ns, hex) => {
    let inst = instances.get(hex);
    if (inst === undefined) {
      inst = new Instance(ns, hex, hex);
      instances.set(hex, inst);
      N.objLive(instances.size, false);
      if (sweepTimer === null) sweepTimer = N.setIntervalUnowned(sweep, Math.max(10, Math.min(N.objIdleMs() / 2, 5000)));
    }
    return inst;
  };

  // The context is about to be re-created (worker.c, after an out-of-memory error):
  // every instance is reset, and callers of events that have not answered get the
  // reset error now (their promises will never settle in this context).
  N.objResetAll = (message) => {
    for (const inst of [...instances.values()]) inst.reset(new Error(message));   // it answers inst.live
  };

  // An event of the instance of `gate` went over its CPU budget (gate.c, at the end
  // of a pump). If it has not finished — whatever of it was aborted, a promise job
  // or a timer callback, nothing else would answer its caller — the instance is
  // reset and its unfinished events answered (LIM-13). A finished event's later
  // timer callbacks are only cut short, as before.
  N.objCpuExceeded = (gate) => {
    const inst = gate.inst;
    if (inst === undefined || inst.dead) return;
    for (const ev of inst.live) if (ev.cpu !== undefined && inst.overBudget(ev.cpu)) return;
  };

  N.objDeliver = (kind, ns, hex, payload, from, callId, at, bytes) => {
    instanceFor(ns, hex).enqueue({ kind, name: payload[0], body: payload[1], from, callId, at, bytes });
  };

  // ---- turns: event delivery and commits ----
  const COMMIT_EVERY = 64;   // events delivered between commits under load
  let sinceCommit = 0;

  // Commits what each object wrote (its implicit transaction, GATE-10), in the
  // order the gates choose (oldest dirty first, none inside a transaction), then
  // the gate lets its held outputs go. A failed commit resets the object (GATE-8).
  const commitAll = () => {
    for (let g; (g = N.gateCommitNext()) !== null;) {
      const inst = g.inst;
      if (inst.h === null) {   // writes without a database: never expected; fail closed
        inst.reset(new Error("Durable Object storage commit failed: internal error: no database"));
        continue;
      }
      let alarm = null;
      const cl = cluster();
      try {
        if (inst.alarmTouched) {
          alarm = N.stAlarm(inst.h);
          // index first: a hint never misses (one node; a cluster keeps it in PostgreSQL)
          if (alarm !== null && !cl) N.objAlarmIndex(inst.ns, inst.hex, alarm, inst.name);
        }
        N.stTxn(inst.h, 0);
      } catch (e) {
        N.logError(`Durable Object ${N.objClassNames[inst.ns]} ${inst.hex}: storage commit failed, the object was reset: ${e.message}`);
        inst.reset(new Error(`Durable Object storage commit failed: ${e.message}`));
        if (cl) inst.clReset(inst.dead);
        continue;
      }
      if (inst.alarmTouched) {
        inst.alarmTouched = false;
        if (alarm === null && !cl) { try { N.objAlarmIndex(inst.ns, inst.hex, -1); } catch {} }
        scheduleAlarm(inst.ns, inst.hex, alarm, inst.name);
      } else if (cl) {
        alarm = alarms.get(inst.hex)?.time ?? null;
      }
      if (cl && clCommit(g, inst, alarm)) continue;   // answered later (objClCommitted)
      commitDone(g, inst);
    }
  };
  const commitDone = (g, inst) => {
    ticketsDone(N.gateCommitted(g), undefined);
    for (const [resolve] of inst.syncWaiters.splice(0)) resolve();
  };

  // ---- cluster mode: commits fenced by the epoch (CL-6, CL-9) ----
  // The local COMMIT is done; its pages go to PostgreSQL with the instance's epoch,
  // and the gate stays COMMITTING (its outputs held) until PostgreSQL answers: a
  // write is acknowledged only once it is there. True if the answer comes later.
  const SNAPSHOT_EVERY = 64;   // commits of one object between snapshots (CL-11)
  const clCommits = new Map();   // ticket → [gate, instance]
  const clCommit = (g, inst, alarm) => {
    let t;
    try {
      t = N.objClCommit(inst.ns, inst.hex, inst.h, alarm ?? -1);
    } catch (e) {
      N.logError(`Durable Object ${N.objClassNames[inst.ns]} ${inst.hex}: commit not replicated, the object was reset: ${e.message}`);
      inst.clReset(clResetError(`Durable Object storage commit failed: ${e.message}`));
      return true;
    }
    if (t === 0) return false;   // nothing written: nothing to replicate
    clCommits.set(t, [g, inst]);
    return true;
  };
  N.objClCommitted = (ticket, kind, seq, msg) => {
    const c = clCommits.get(ticket);
    if (c === undefined) return;
    clCommits.delete(ticket);
    const [g, inst] = c;
    if (kind !== CL_COMMITTED) {
      const why = kind === CL_FENCED
        ? "Durable Object reset: another node took the object over (its lease was lost); nothing written since was kept. Retry"
        : `Durable Object storage commit failed: it could not be written to PostgreSQL (${msg}); the object was reset`;
      N.logError(`Durable Object ${N.objClassNames[inst.ns]} ${inst.hex}: ${why}`);
      inst.clReset(clResetError(why));
      return;
    }
    if (inst.dead) return;
    commitDone(g, inst);
    // CL-11: now and then, a snapshot bounds the log (only with no commit in flight).
    inst.clCommits = (inst.clCommits ?? 0) + 1;
    if (inst.clCommits >= SNAPSHOT_EVERY && !N.gatePending(g) && inst.h !== null) {
      inst.clCommits = 0;
      try { N.objClSnapshot(inst.ns, inst.hex, inst.h, seq); } catch (e) { N.logError(`snapshot: ${e.message}`); }
    }
  };
  // Claimed (or claimed again after a failover): its stored alarm is armed here,
  // the owner (CL-14); an alarm due now fires at once.
  N.objClClaimed = (ns, hex) => {
    const inst = instanceFor(ns, hex);
    let t = null;
    try { t = N.stAlarm(inst.handle()); } catch (e) { N.logError(`alarm: could not read the alarm of ${hex}: ${e.message}`); }
    if (t !== null) scheduleAlarm(ns, hex, t, inst.name);
  };
  // CL-8: the node is drained: the instance finishes, commits and goes.
  const draining = new Set();
  let drainTimer = null;
  const drainCheck = () => {
    drainTimer = null;
    for (const inst of draining) {
      const quiet = inst.dead || (inst.running === 0 && inst.waiting === 0 && inst.queue.length === 0 &&
          !N.gatePending(inst.gate) && inst.txnDepth === 0);
      if (!quiet) continue;
      draining.delete(inst);
      if (instances.get(inst.key) === inst) {
        instances.delete(inst.key);
        N.objLive(instances.size, true);
        N.eventFinish(inst.life);
        if (inst.h !== null) { N.stClose(inst.h); inst.h = null; }
      }
      alarms.delete(inst.hex);
      wsCloseKey(inst.hex, 1012, "Durable Object moved to another cluster node; reconnect");
      N.objClRelease(inst.ns, inst.hex);
    }
    if (draining.size) drainTimer = N.setTimeoutUnowned(drainCheck, 20);
  };
  N.objClDrain = (ns, hex) => {
    const inst = instances.get(hex);
    if (inst === undefined) {
      alarms.delete(hex);
      wsCloseKey(hex, 1012, "Durable Object moved to another cluster node; reconnect");
      N.objClRelease(ns, hex);
      return;
    }
    draining.add(inst);
    if (drainTimer === null) drainTimer = N.setTimeoutUnowned(drainCheck, 0);
  };
  // CL-7: the node lost its lease: every instance here is reset.
  N.objClLeaseLost = (message) => {
    for (const inst of [...instances.values()]) inst.clReset(clResetError(message));
    // Hibernated objects (not in memory) lost their ownership too.
    for (const rec of [...wsRecs.values()]) wsCloseKey(rec.hex, 1011, "Durable Object connection closed because the object was reset");
    alarms.clear();
    rearm();
  };

  // A turn delivers the next event of each ready object; the turn after it (once
  // their promise reactions ran) delivers more, and a turn that delivers nothing —
  // or follows COMMIT_EVERY deliveries — commits what the objects wrote.
  N.objTurn = () => {
    let delivered = 0;
    if (ready.size && sinceCommit < COMMIT_EVERY) {
      const list = [...ready];
      ready.clear();
      for (const inst of list) {
        if (inst.blocked || inst.dead || inst.queue.length === 0) continue;
        const ev = inst.dequeue();
        if (inst.obj === null && !inst.construct(ev)) continue;
        if (inst.blocked) { inst.requeue(ev); continue; }   // the constructor blocked
        inst.run(ev);
        delivered++;
        if (inst.queue.length && !inst.blocked) ready.add(inst);
      }
    }
    if (delivered) {
      sinceCommit += delivered;
      N.objWantTurn();
      return;
    }
    sinceCommit = 0;
    if (N.gateDirtyCount()) commitAll();
    if (ready.size) N.objWantTurn();
  };

  // ---- alarms (ALARM-*): one timer per shard for the earliest pending alarm ----
  const ALARM_RETRIES = 6;
  const alarms = new Map();   // hex → { ns, hex, time, retry, running, name }
  let alarmTimer = null, alarmTimerAt = Infinity;
  const rearm = () => {
    let min = Infinity;
    for (const a of alarms.values()) if (!a.running && a.time < min) min = a.time;
    if (min === alarmTimerAt) return;
    if (alarmTimer !== null) clearTimeout(alarmTimer);
    alarmTimerAt = min;
    alarmTimer = min === Infinity ? null : N.setTimeoutUnowned(fireAlarms, Math.max(0, Math.min(min - Date.now(), 0x7fffffff)));
  };
  const fireAlarms = () => {
    alarmTimer = null;
    alarmTimerAt = Infinity;
    const now = Date.now();
    for (const a of alarms.values()) {
      if (a.running || a.time > now) continue;
      if (cluster() && !N.objClOwned(a.ns, a.hex)) { alarms.delete(a.hex); continue; }   // fired by its owner
      a.running = true;
      instanceFor(a.ns, a.hex).enqueue({ kind: KIND_ALARM, name: a.name, alarm: a });   // ID-13
    }
    rearm();
  };
  const scheduleAlarm = (ns, hex, time, name) => {
    const a = alarms.get(hex);
    if (time === null) {
      if (a && !a.running) alarms.delete(hex);
    } else if (a) {
      if (!a.running) a.retry = 0;
      a.time = time;
      if (name !== undefined) a.name = name;
    } else {
      alarms.set(hex, { ns, hex, time, retry: 0, running: false, name });
    }
    rearm();
  };
  // At start: the alarms that were pending when the server last stopped (ALARM-6).
  N.objStart = () => {
    if (cluster()) return;   // the owners arm them when they claim their objects (CL-14)
    let flat;
    try { flat = N.objAlarmLoad(); } catch (e) { N.logError(`alarms: ${e.message}`); return; }
    for (let i = 0; i < flat.length; i += 4) scheduleAlarm(flat[i], flat[i + 1], flat[i + 2], flat[i + 3]);
  };
})();
