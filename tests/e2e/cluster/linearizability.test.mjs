// The CL-19 linearizability checker (linearizability.mjs) on hand-made and
// generated histories: it accepts what an atomic register can produce (with
// operations of unknown outcome among them) and rejects what it cannot — a stale
// read after a completed write, two reads in an impossible order, an acknowledged
// write lost — so a passing CL-19 run means something. No binary needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkRegister } from "./linearizability.mjs";

const r = (client, start, end, result) => ({ client, type: "read", start, end, result });
const w = (client, start, end, value) => ({ client, type: "write", start, end, value });
const cas = (client, start, end, expected, nw, result) =>
  ({ client, type: "cas", start, end, expected, new: nw, result });

const accepts = (h, opts) => {
  const res = checkRegister(h, opts);
  assert.equal(res.ok, true, res.explanation);
};
const rejects = (h, opts) => {
  const res = checkRegister(h, opts);
  assert.equal(res.ok, false, "a non-linearizable history was accepted");
  assert.ok(!res.undecided, res.explanation);
  assert.match(res.explanation, /not linearizable/);
  return res.explanation;
};

test("sequential and overlapping histories are accepted", () => {
  accepts([]);
  accepts([r(1, 0, 1, null)]);
  accepts([w(1, 0, 10, 1), r(1, 11, 20, 1), w(2, 21, 30, 2), r(3, 31, 40, 2)]);
  // A read overlapping a write may see the old or the new value.
  accepts([w(1, 0, 10, 1), w(1, 20, 40, 2), r(2, 25, 30, 1)]);
  accepts([w(1, 0, 10, 1), w(1, 20, 40, 2), r(2, 25, 30, 2)]);
  // ... and two overlapping reads may see them in either order if both overlap.
  accepts([w(1, 0, 100, 5), r(2, 10, 20, null), r(3, 30, 110, 5)]);
  // cas: success and failure
  accepts([w(1, 0, 10, 1), cas(2, 20, 30, 1, 2, true), cas(3, 40, 50, 1, 3, false), r(1, 60, 70, 2)]);
  // BigInt times (process.hrtime.bigint()) work as well.
  accepts([w(1, 0n, 10n, 1), r(2, 11n, 20n, 1)]);
});

test("operations of unknown outcome may or may not have taken effect", () => {
  // An unknown write seen later took effect, possibly after other operations.
  accepts([w(1, 0, null, 7), w(2, 10, 20, 8), r(3, 30, 40, 8), r(3, 50, 60, 7)]);
  // An unknown write never seen did not (or was overwritten).
  accepts([w(1, 0, 10, 1), w(2, 20, null, 9), r(3, 30, 40, 1), r(3, 50, 60, 1)]);
  // An unknown cas that took effect.
  accepts([w(1, 0, 10, 1), cas(2, 20, null, 1, 2), r(3, 30, 40, 2)]);
  // An unknown read tells nothing.
  accepts([w(1, 0, 10, 1), r(2, 20, null, 42), r(3, 30, 40, 1)]);
  // But an unknown write cannot take effect before it started.
  rejects([r(1, 0, 10, 7), w(2, 20, null, 7)]);
});

test("a stale read after a completed write is rejected", () => {
  const why = rejects([w(1, 0, 10, 1), w(1, 20, 30, 2), r(2, 40, 50, 1)]);
  assert.match(why, /write 1/);
  assert.match(why, /write 2/);
  // through the search, the explanation names the read
  const why2 = rejects([w(1, 0, 10, 1), w(1, 20, 30, 2), r(2, 40, 50, 1), cas(5, 60, 70, "x", "y", false)]);
  assert.match(why2, /read → 1/);
});

test("two reads seeing the values in an impossible order are rejected", () => {
  // Write 1 completes before write 2 starts; write 2 overlaps both reads, which do
  // not overlap each other: once a reader saw 2, a later read cannot see 1 again.
  rejects([w(1, 0, 10, 1), w(2, 20, 100, 2), r(3, 30, 40, 2), r(4, 50, 60, 1)]);
  // (with both writes overlapping both reads, the same results are fine)
  accepts([w(1, 0, 100, 1), w(2, 5, 100, 2), r(3, 10, 20, 2), r(4, 30, 40, 1)]);
  // the same through the search (a cas present)
  rejects([w(1, 0, 10, 1), w(2, 20, 100, 2), r(3, 30, 40, 2), r(4, 50, 60, 1),
    cas(5, 200, 210, "x", "y", false)]);
  // same with the initial value
  rejects([w(1, 0, 100, 1), r(3, 10, 20, 1), r(4, 30, 40, null)]);
});

test("a lost acknowledged write is rejected", () => {
  rejects([w(1, 0, 10, 1), w(2, 20, 30, 2), r(3, 100, 110, 1), r(3, 120, 130, 1)]);
  // even when some other write's outcome is unknown
  rejects([w(1, 0, 10, 1), w(4, 15, null, 3), w(2, 20, 30, 2), r(3, 100, 110, 1)]);
  // a cas that succeeded on a value that was already gone
  rejects([w(1, 0, 10, 1), w(1, 20, 30, 2), cas(2, 40, 50, 1, 3, true)]);
  // a cas that failed although its expected value was there
  rejects([w(1, 0, 10, 1), cas(2, 20, 30, 1, 3, false), r(1, 40, 50, 1)]);
});

test("malformed histories are refused with a TypeError", () => {
  assert.throws(() => checkRegister("x"), TypeError);
  assert.throws(() => checkRegister([{ type: "inc", start: 0, end: 1 }]), /unknown type/);
  assert.throws(() => checkRegister([r(1, 10, 5, 1)]), /end is before start/);
  assert.throws(() => checkRegister([{ type: "read", end: 5 }]), /start/);
  assert.throws(() => checkRegister([{ type: "cas", start: 0, end: 1, expected: 1, new: 2 }]), /boolean/);
});

// A seeded generator (mulberry32), so a failure names a seed that reproduces it.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Clients run one operation at a time against an atomic register: each operation
// takes effect at a random instant between its start and its end; results come
// from applying them in the order of those instants. Some operations time out:
// their outcome is unknown (end null) and they took effect or not at random.
function simulate(seed, { clients = 8, ops = 2000, unknown = 0.03, cas = 0.2 } = {}) {
  const rand = rng(seed);
  const pending = [];
  const next = new Array(clients).fill(0).map(() => Math.floor(rand() * 50));
  let written = 0;
  for (let i = 0; i < ops; i++) {
    let c = 0;
    for (let k = 1; k < clients; k++) if (next[k] < next[c]) c = k;
    const start = next[c];
    const end = start + 1 + Math.floor(rand() * 200);
    const point = start + rand() * (end - start);
    const x = rand();
    const op = x < 0.45 ? { client: c, type: "read", start, end }
      : x < 1 - cas ? { client: c, type: "write", start, end, value: ++written }
      : { client: c, type: "cas", start, end, expected: null, new: ++written };
    if (op.type !== "read" && rand() < unknown) {
      op.end = null;
      op.tookEffect = rand() < 0.5;
    }
    pending.push({ op, point });
    next[c] = end + 1 + Math.floor(rand() * 30);
  }
  pending.sort((a, b) => a.point - b.point);
  let value = null;
  for (const { op } of pending) {
    if (op.type === "cas" && op.expected === null) {
      // expected: the current value half the time (succeeds), else a stale one
      op.expected = rand() < 0.5 ? value : Math.max(0, (value ?? 0) - 1);
    }
    if (op.end == null && !op.tookEffect) continue;
    if (op.type === "read") op.result = value;
    else if (op.type === "write") value = op.value;
    else if (op.expected === value) {
      value = op.new;
      op.result = true;
    } else {
      op.result = false;
    }
  }
  const history = pending.map((p) => p.op).sort((a, b) => a.start - b.start);
  for (const op of history) delete op.tookEffect;
  return history;
}

// A read turned stale: it saw v, where a write of u finished before the write of
// v began and that one finished before the read began (u, v, read in any
// linearization). Returns the corrupted copy, or null if the history has none.
function staleCopy(h, from = h.length - 1) {
  const writeOf = new Map(h.filter((op) => op.type === "write" && op.end != null).map((op) => [op.value, op]));
  for (let i = from; i >= 0; i--) {
    const op = h[i];
    const wv = op.type === "read" && writeOf.get(op.result);
    if (!wv || wv.end >= op.start) continue;
    const wu = [...writeOf.values()].find((o) => o.end < wv.start);
    if (!wu) continue;
    const stale = structuredClone(h);
    stale[i].result = wu.value;
    return stale;
  }
  return null;
}

function corruptions(h, seed) {
  const out = [];
  const reads = h.map((op, i) => [op, i]).filter(([op]) => op.type === "read");
  const pick = reads[Math.floor(rng(seed * 7)() * reads.length)][1];
  const bogus = structuredClone(h);   // a value nobody ever wrote
  bogus[pick].result = "never-written";
  out.push(["a value never written", bogus]);
  // a value written only after the read had ended (values are unique)
  const later = h.find((op) => op.type === "write" && op.start > h[pick].end);
  if (later) {
    const future = structuredClone(h);
    future[pick].result = later.value;
    out.push(["a value from the future", future]);
  }
  const stale = staleCopy(h);
  if (stale) out.push(["a stale value", stale]);
  return out;
}

test("histories of an atomic register (reads, writes) are accepted; one corrupted read is rejected", () => {
  for (let seed = 1; seed <= 10; seed++) {
    const h = simulate(seed, { cas: 0 });
    const res = checkRegister(h);
    assert.equal(res.ok, true, `seed ${seed}: ${res.explanation}`);
    const bad = corruptions(h, seed);
    assert.equal(bad.length, 3);
    for (const [what, c] of bad) {
      const r2 = checkRegister(c);
      assert.equal(r2.ok, false, `seed ${seed}: a read of ${what} was accepted`);
      assert.ok(!r2.undecided, r2.explanation);
    }
  }
});

test("histories of an atomic register with cas are accepted; one corrupted read is rejected", () => {
  for (let seed = 1; seed <= 3; seed++) {
    const h = simulate(seed);
    const res = checkRegister(h);
    assert.equal(res.ok, true, `seed ${seed}: ${res.explanation}`);
  }
  // Shorter ones for the corruptions: with cas the checker searches, and ruling
  // out every order costs more than finding one.
  for (let seed = 1; seed <= 10; seed++) {
    const h = simulate(seed, { ops: 150 });
    assert.equal(checkRegister(h).ok, true, `seed ${seed}`);
    for (const [what, c] of corruptions(h, seed)) {
      const r2 = checkRegister(c);
      assert.equal(r2.ok, false, `seed ${seed}: a read of ${what} was accepted`);
      assert.ok(!r2.undecided, r2.explanation);
    }
  }
});

test("the search bound answers undecided rather than running on", () => {
  const h = staleCopy(simulate(3, { ops: 400 }));
  const res = checkRegister(h, { maxStates: 1000 });
  assert.equal(res.ok, false);
  assert.equal(res.undecided, true);
  assert.match(res.explanation, /undecided/);
});
