// A linearizability checker for a single register (spec cluster.md CL-19).
//
// Two methods, one answer:
// - reads and writes only, each value written at most once (what a test writes:
//   unique values): each read names the write it saw, and the test of Gibbons and
//   Korach (zones, see readsFromCheck) decides exactly in O(n log n);
// - otherwise (cas, repeated values): a depth-first search for an order of the
//   operations that respects real time and the register's sequential behaviour,
//   in the style of Wing & Gong as refined by Lowe (as Knossos and Porcupine do),
//   memoized on (operations linearized, register value) so no state is explored
//   twice.
//
// An operation is
//   { client, type: "read" | "write" | "cas", value, expected, new, start, end, result }
// - read: `result` is the value read;
// - write: `value` is written;
// - cas: if the register holds `expected` it becomes `new`; `result` is true if it
//   did, false if not;
// - start/end: monotonic times (ns; numbers or BigInts), end null when the outcome
//   is unknown (timeout, error): the operation may have taken effect at any point
//   after its start, or never. An unknown read tells nothing and is ignored.
// Values are compared by their JSON text. The register starts at options.initial
// (default null).
//
// checkRegister(history, options?) → { ok: true } or { ok: false, explanation }.
// Cost: 2,000 reads and writes of 8 clients take milliseconds either way. With
// cas, finding an order for 2,000 operations takes a few seconds, but ruling every
// order out can take far more (the search is exponential in the worst case), so
// options.maxStates bounds it (default 5,000,000 states): past it the answer is
// { ok: false, undecided: true, explanation } — never a hang, never a pass.

const key = (v) => (v === undefined ? "undefined" : JSON.stringify(v));

function describe(op) {
  const t = `[${op.start}, ${op.end ?? "unknown"}]`;
  const who = `#${op.index} client ${op.client}`;
  if (op.type === "read") return `${who} read → ${key(op.result)} ${t}`;
  if (op.type === "write") return `${who} write ${key(op.value)}${op.end == null ? " (outcome unknown)" : ""} ${t}`;
  const r = op.end == null ? "outcome unknown" : op.result ? "succeeded" : "failed";
  return `${who} cas ${key(op.expected)} → ${key(op.new)} (${r}) ${t}`;
}

function validate(history) {
  if (!Array.isArray(history)) throw new TypeError("checkRegister: history must be an array");
  history.forEach((op, i) => {
    const bad = (why) => { throw new TypeError(`checkRegister: operation ${i}: ${why}`); };
    if (!op || typeof op !== "object") bad("not an object");
    if (!["read", "write", "cas"].includes(op.type)) bad(`unknown type ${JSON.stringify(op.type)}`);
    const num = (x) => typeof x === "number" ? Number.isFinite(x) : typeof x === "bigint";
    if (!num(op.start)) bad("start must be a number or a BigInt");
    if (op.end != null && !num(op.end)) bad("end must be a number, a BigInt or null");
    if (op.end != null && op.end < op.start) bad("end is before start");
    if (op.type === "cas" && op.end != null && typeof op.result !== "boolean")
      bad("a completed cas needs a boolean result");
  });
}

export function checkRegister(history, options = {}) {
  validate(history);
  const maxStates = options.maxStates ?? 5_000_000;
  let ops = history.map((op, index) => ({ ...op, index }))
    .filter((op) => !(op.type === "read" && op.end == null));

  // Values a read returns or a cas compares with are "observed"; every other
  // value is as good as any other (no read can see it, no cas can match it), so
  // they all become one value, X.
  const observed = new Set();
  let failedCas = false;
  for (const op of ops) {
    if (op.type === "read") observed.add(key(op.result));
    if (op.type === "cas") observed.add(key(op.expected));
    if (op.type === "cas" && op.end != null && op.result === false) failedCas = true;
  }
  const ids = new Map([["(a value nothing observed)", 0]]);
  const X = 0;
  const vid = (v) => {
    const k = key(v);
    if (!observed.has(k)) return X;
    if (!ids.has(k)) ids.set(k, ids.size);
    return ids.get(k);
  };
  const initial = vid(options.initial ?? null);
  // Reads no order can explain, found without a search: a value nobody wrote, or
  // one written only by operations that began after the read ended.
  const writers = new Map();
  for (const op of ops) {
    if (op.type === "read") continue;
    const k = key(op.type === "write" ? op.value : op.new);
    const first = writers.get(k);
    if (first === undefined || op.start < first) writers.set(k, op.start);
  }
  for (const op of ops) {
    if (op.type !== "read" || key(op.result) === key(options.initial ?? null)) continue;
    const first = writers.get(key(op.result));
    if (first === undefined || first > op.end) {
      return {
        ok: false,
        explanation: `not linearizable: ${describe(op)} returned a value ` +
          (first === undefined ? "no operation wrote" : "written only by operations that began after it ended"),
      };
    }
  }
  const fast = readsFromCheck(ops, options.initial ?? null);
  if (fast) return fast;
  for (const op of ops) {
    op.v = op.type === "read" ? vid(op.result) : op.type === "write" ? vid(op.value) : vid(op.new);
    op.exp = op.type === "cas" ? vid(op.expected) : -1;
    op.applyOnly = op.type === "cas" && op.end == null;   // unknown cas: if it took effect, it succeeded
  }
  // Operations of unknown outcome that would write X are interchangeable (only
  // when they may run matters): they go into pools, one for writes and one per
  // expected value for cas, and the search counts how many of a pool it used
  // instead of trying each. Without a failed cas, X never helps: they are dropped.
  const poolOf = new Map();
  const pools = [];
  ops = ops.filter((op) => {
    if (op.end != null || op.v !== X) return true;
    if (!failedCas) return false;
    const k = op.type === "write" ? -1 : op.exp;
    if (!poolOf.has(k)) {
      poolOf.set(k, pools.length);
      pools.push({ exp: k, starts: [], sample: op });
    }
    pools[poolOf.get(k)].starts.push(op.start);
    return false;
  });
  for (const p of pools) p.starts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const used = new Array(pools.length).fill(0);
  const available = (p, t) => {   // members of pool p that started by t
    let n = 0;
    for (const s of p.starts) if (s <= t) n++; else break;
    return n;
  };
  ops.forEach((op, i) => { op.id = i; });

  // The entries, in time order (a call before a return at the same instant: such
  // operations count as concurrent), as a doubly linked list with a head sentinel.
  const entries = [];
  for (const op of ops) {
    entries.push({ op, call: true, t: op.start });
    if (op.end != null) entries.push({ op, call: false, t: op.end });
  }
  entries.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.call === b.call ? a.op.id - b.op.id : a.call ? -1 : 1));
  const head = { next: null, prev: null };
  let prev = head;
  for (const e of entries) {
    e.prev = prev;
    prev.next = e;
    prev = e;
    if (e.call) e.op.callEntry = e;
    else e.op.retEntry = e;
  }
  prev.next = null;

  const lift = (e) => {
    e.prev.next = e.next;
    if (e.next) e.next.prev = e.prev;
    const r = e.op.retEntry;
    if (r) {
      r.prev.next = r.next;
      if (r.next) r.next.prev = r.prev;
    }
  };
  const unlift = (e) => {
    const r = e.op.retEntry;
    if (r) {
      r.prev.next = r;
      if (r.next) r.next.prev = r;
    }
    e.prev.next = e;
    if (e.next) e.next.prev = e;
  };

  // The sequential register: the next state, or -1 if op cannot happen now.
  const step = (state, op) => {
    if (op.type === "read") return op.v === state ? state : -1;
    if (op.type === "write") return op.v;
    if (op.applyOnly) return state === op.exp ? op.v : -1;
    if (op.result) return state === op.exp ? op.v : -1;
    return state !== op.exp ? state : -1;
  };

  // Memo of (operations linearized, pool counts, value): the set is kept as two
  // independent 32-bit Zobrist hashes (a false "seen" needs a 64-bit collision).
  const rand = rng32(0x5eed);
  const z1 = ops.map(() => rand()), z2 = ops.map(() => rand());
  let h1 = 0, h2 = 0;
  const seen = new Set();
  const stateKey = (state) => `${h1},${h2},${state}${pools.length ? "," + used.join(",") : ""}`;

  let pendingReturns = ops.filter((op) => op.end != null).length;
  let state = initial;
  const stack = [];   // { e, state } for an operation, { pool, ret, state } for a pool's
  let states = 0;
  let best = { depth: -1 };
  const tooMany = () => ({
    ok: false, undecided: true,
    explanation: `undecided: the search passed ${maxStates} states (options.maxStates) ` +
      `without finding a linearization or ruling one out`,
  });
  let e = head.next;
  let poolFrom = 0;   // at a return: the first pool not tried yet
  while (pendingReturns > 0) {
    if (e && e.call) {
      const op = e.op;
      const next = step(state, op);
      let took = false;
      if (next >= 0) {
        h1 ^= z1[op.id];
        h2 ^= z2[op.id];
        const k = stateKey(next);
        if (!seen.has(k)) {
          if (++states > maxStates) return tooMany();
          seen.add(k);
          stack.push({ e, state });
          state = next;
          lift(e);
          if (op.end != null) pendingReturns--;
          took = true;
          e = head.next;
        } else {
          h1 ^= z1[op.id];
          h2 ^= z2[op.id];
        }
      }
      if (!took) e = e.next;
      poolFrom = 0;
      continue;
    }
    // A return: that operation must have taken effect by now. First an operation
    // of unknown outcome from a pool, if one helps; else back up.
    let tookPool = false;
    for (let p = poolFrom; p < pools.length && !tookPool; p++) {
      const pool = pools[p];
      if (used[p] >= available(pool, e.t) || (pool.exp >= 0 && state !== pool.exp) || state === X)
        continue;
      used[p]++;
      const k = stateKey(X);
      if (seen.has(k)) {
        used[p]--;
        continue;
      }
      if (++states > maxStates) return tooMany();
      seen.add(k);
      stack.push({ pool: p, ret: e, state });
      state = X;
      tookPool = true;
    }
    if (tookPool) {
      e = head.next;
      poolFrom = 0;
      continue;
    }
    if (stack.length >= best.depth) {
      best = { depth: stack.length, blocked: e.op, state, prefix: stack.slice(-6).map((s) => s.e ? s.e.op : pools[s.pool].sample) };
    }
    if (stack.length === 0) return fail(best, ids);
    const top = stack.pop();
    state = top.state;
    if (top.pool !== undefined) {
      used[top.pool]--;
      e = top.ret;
      poolFrom = top.pool + 1;
      continue;
    }
    const op = top.e.op;
    unlift(top.e);
    h1 ^= z1[op.id];
    h2 ^= z2[op.id];
    if (op.end != null) pendingReturns++;
    e = top.e.next;
    poolFrom = 0;
  }
  return { ok: true };
}

// Reads and writes only, every value written at most once (and not the initial
// one): then each read names the write it saw, and the exact test of Gibbons and
// Korach applies, in O(n log n) instead of a search. Each value v forms a cluster,
// its write and the reads of it; the cluster's ops must be linearized together,
// write first. Let f be the earliest end in the cluster and s the latest start:
// if f < s the cluster must cover [f, s] (a forward zone), else it fits at one
// point of [s, f] (a backward zone). Linearizable iff no two forward zones
// overlap and no backward zone lies inside a forward zone. Unknown writes that a
// read saw took effect (end +inf); others, with no cas around, never matter.
// Returns null when it does not apply (cas present, a value written twice), else
// the answer.
function readsFromCheck(ops, initial) {
  if (ops.some((op) => op.type === "cas")) return null;
  const clusters = new Map();
  const init = key(initial);
  clusters.set(init, { write: null, ops: [], f: -Infinity, s: -Infinity, value: init });
  for (const op of ops) {
    if (op.type !== "write") continue;
    const k = key(op.value);
    if (clusters.has(k)) return null;
    clusters.set(k, { write: op, ops: [op], f: op.end ?? Infinity, s: op.start, value: k });
  }
  for (const op of ops) {
    if (op.type !== "read") continue;
    const c = clusters.get(key(op.result));   // present: the precheck saw to it
    if (c.write && op.end < c.write.start) return null;   // (the precheck reports it)
    c.ops.push(op);
    if (op.end < c.f) c.f = op.end;
    if (op.start > c.s) c.s = op.start;
  }
  const forward = [], backward = [];
  for (const c of clusters.values()) {
    if (c.write && c.ops.length === 1 && c.write.end == null) continue;   // unknown, unseen
    if (c.f < c.s) forward.push(c);
    else backward.push(c);
  }
  const name = (c) => c.write ? describe(c.write) : `the initial value ${c.value}`;
  const explain = (why) => ({ ok: false, explanation: `not linearizable: ${why}` });
  forward.sort((a, b) => (a.f < b.f ? -1 : a.f > b.f ? 1 : 0));
  for (let i = 1; i < forward.length; i++) {
    const a = forward[i - 1], b = forward[i];
    if (b.f < a.s) {
      return explain(`${name(a)} and its reads must stay in effect over [${a.f}, ${a.s}], and ` +
        `${name(b)} and its reads over [${b.f}, ${b.s}]; these overlap, so one of the reads ` +
        `sees a value that was already overwritten`);
    }
  }
  // A backward zone inside a forward one: the forward zones are disjoint, so the
  // one that could contain it is the last starting before it.
  for (const c of backward) {
    let lo = 0, hi = forward.length - 1, at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (forward[mid].f < c.s) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (at >= 0 && c.f < forward[at].s) {
      const z = forward[at];
      return explain(`${name(c)} and its reads must take effect within [${c.s}, ${c.f}], while ` +
        `${name(z)} must stay in effect over all of [${z.f}, ${z.s}], which contains it`);
    }
  }
  return { ok: true };
}

function rng32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function fail(best, ids) {
  const names = [...ids.keys()];
  const lines = [];
  if (best.blocked) {
    lines.push(`not linearizable: ${describe(best.blocked)} cannot take effect in any order ` +
      `consistent with real time`);
    lines.push(`the longest linearizable prefix has ${best.depth} operations; after it the ` +
      `register holds ${names[best.state]}`);
    if (best.prefix.length) {
      lines.push("its last operations:");
      for (const op of best.prefix) lines.push(`  ${describe(op)}`);
    }
  } else {
    lines.push("not linearizable");
  }
  return { ok: false, explanation: lines.join("\n") };
}
