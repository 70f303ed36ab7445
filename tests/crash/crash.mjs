#!/usr/bin/env node
// Crash test for Durable Object storage: SIGKILL the server in the middle of
// concurrent writes, restart it on the same --persist-to folder, and check that
//   - every write whose 200 "ok" was fully received is there (value >= the acked
//     value of its key: values per key only increase),
//   - every batch put({k: v, "shadow:k": v}) is all-or-nothing (shadow == key),
//   - the dump of each object parses.
// Standalone, Node 18+ built-ins only. Loopback (127.0.0.1) only.
//
// Environment:
//   DURABLE_BIN        the binary (default build/release/durable of this checkout)
//   CRASH_ROUNDS       kill/restart rounds (default 8)
//   CRASH_SECONDS      overall time budget in seconds (default 40)
//   CRASH_DURABILITY   when set (e.g. "power" or "process"), passes --durability VALUE
//   CRASH_CLIENTS      concurrent clients (default 8)
//   CRASH_OBJECTS      objects (default 50)
//   CRASH_KEYS         keys per object (default 4)
//   CRASH_THREADS      when set, passes --threads N (default: the server's default)
//   CRASH_MIN_ACKS     acknowledged writes each round must reach before the kill
//                      (default 20); a round that cannot reach them in
//                      CRASH_ACK_SECONDS (default 20) fails: a crash test that
//                      checked nothing must not pass
//   CRASH_VERBOSE=1    print per-round progress
// Prints "crash: R rounds, W acknowledged writes checked, F failures"; exits 1 on
// any failure or if the server does not start.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.DURABLE_BIN || path.resolve(here, "../../build/release/durable");
const ROUNDS = intEnv("CRASH_ROUNDS", 8);
const SECONDS = Number(process.env.CRASH_SECONDS || 40);
const DURABILITY = process.env.CRASH_DURABILITY || "";
const CLIENTS = intEnv("CRASH_CLIENTS", 8);
const OBJECTS = intEnv("CRASH_OBJECTS", 50);
const KEYS = intEnv("CRASH_KEYS", 4);
const THREADS = process.env.CRASH_THREADS || "";
const VERBOSE = process.env.CRASH_VERBOSE === "1";
const MIN_ACKS = intEnv("CRASH_MIN_ACKS", 20);
const ACK_SECONDS = intEnv("CRASH_ACK_SECONDS", 20);
const START_TIMEOUT_MS = 20000;
const REQUEST_TIMEOUT_MS = 5000;

function intEnv(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n) || n <= 0) { console.error(`crash: bad ${name}=${v}`); process.exit(2); }
  return n;
}
const log = (...a) => { if (VERBOSE) console.error("crash:", ...a); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the project

const WRANGLER = `name = "crash"
main = "worker.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "C"
class_name = "Cell"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Cell"]
`;

const WORKER = `// PUT /w/<obj>/<key>/<value>  -> put({key: value, "shadow:"+key: value}), then "ok"
// GET /dump/<obj>              -> JSON of the object's whole storage
export class Cell {
  constructor(ctx, env) {
    this.ctx = ctx;
  }
  async fetch(request) {
    const parts = new URL(request.url).pathname.split("/");
    if (parts[1] === "w" && parts.length === 5) {
      const key = decodeURIComponent(parts[3]);
      const value = Number(parts[4]);
      await this.ctx.storage.put({ [key]: value, ["shadow:" + key]: value });
      return new Response("ok");
    }
    if (parts[1] === "dump") {
      const all = await this.ctx.storage.list();
      return new Response(JSON.stringify(Object.fromEntries(all)), {
        headers: { "content-type": "application/json" },
      });
    }
    return new Response("not found", { status: 404 });
  }
}
export default {
  async fetch(request, env) {
    const parts = new URL(request.url).pathname.split("/");
    if ((parts[1] === "w" || parts[1] === "dump") && parts[2]) {
      const obj = decodeURIComponent(parts[2]);
      return env.C.get(env.C.idFromName(obj)).fetch(request);
    }
    return new Response("not found", { status: 404 });
  },
};
`;

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "durable-crash-"));
const projectDir = path.join(tmpRoot, "project");
const persistDir = path.join(tmpRoot, "persist");
fs.mkdirSync(projectDir);
fs.mkdirSync(persistDir);
fs.writeFileSync(path.join(projectDir, "wrangler.toml"), WRANGLER);
fs.writeFileSync(path.join(projectDir, "worker.js"), WORKER);

// ---------------------------------------------------------------- the server

let server = null;   // { proc, port, exited, logs() }

function killServer() {
  if (server && server.proc.exitCode === null && server.proc.signalCode === null) {
    try { process.kill(server.proc.pid, "SIGKILL"); } catch { /* already gone */ }
  }
}
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  killServer();
  try { fs.rmSync(tmpRoot, { recursive: true, force: true }); } catch { /* best effort */ }
}
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => { cleanup(); process.exit(130); });
}
process.on("uncaughtException", (e) => { console.error("crash: uncaught", e); cleanup(); process.exit(1); });

function startServer() {
  const args = ["dev", "--ip", "127.0.0.1", "--port", "0", "--persist-to", persistDir,
    "--config", path.join(projectDir, "wrangler.toml"), "--log-level", "warn"];
  if (DURABILITY) args.push("--durability", DURABILITY);
  if (THREADS) args.push("--threads", THREADS);
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, args, {
      cwd: projectDir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" },
    });
    let out = "", err = "", done = false;
    const exited = new Promise((r) => proc.once("exit", (code, sig) => r({ code, sig })));
    const fail = (msg) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try { proc.kill("SIGKILL"); } catch { /* gone */ }
      reject(new Error(`${msg}\nargs: ${args.join(" ")}\nstdout:\n${out.slice(-4000)}\nstderr:\n${err.slice(-4000)}`));
    };
    const timer = setTimeout(() => fail(`server did not start within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    proc.on("error", (e) => fail(`cannot run ${BIN}: ${e.message}`));
    proc.stdout.on("data", (d) => {
      out += d;
      if (out.length > 1 << 20) out = out.slice(-65536);
      const m = /Ready on https?:\/\/[^\s:]+:(\d+)/.exec(out);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        server = { proc, port: Number(m[1]), exited, logs: () => err };
        resolve(server);
      }
    });
    proc.stderr.on("data", (d) => { err += d; if (err.length > 1 << 20) err = err.slice(-65536); });
    proc.on("exit", (code, sig) => { if (!done) fail(`server exited (${code ?? sig}) before it was ready`); });
  });
}

// ---------------------------------------------------------------- HTTP

async function request(port, method, pathname) {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), REQUEST_TIMEOUT_MS);
  try {
    const res = await fetch(`http://127.0.0.1:${port}${pathname}`, { method, signal: ctl.signal });
    const body = await res.text();   // the whole body has been received
    return { status: res.status, body };
  } finally {
    clearTimeout(t);
  }
}

// ---------------------------------------------------------------- state

const objName = (i) => `o${i}`;
const keyName = (j) => `k${j}`;
const slotId = (o, k) => `${o}/${k}`;
const acked = new Map();   // slot -> highest acknowledged value
const sent = new Map();    // slot -> highest value ever sent
const next = new Map();    // slot -> next value to send
let checkedWrites = 0;
let failures = 0;
let rounds = 0;
function failure(msg) {
  failures++;
  if (failures <= 30) console.error(`crash: FAIL ${msg}`);
  else if (failures === 31) console.error("crash: (further failures are counted, not printed)");
}

// One round of writes: CLIENTS loops, each repeatedly picking a key no other
// client is writing right now (so per-key acks are ordered), until `stop` is set.
async function writeRound(port, stopFlag, roundAcks) {
  const busy = new Set();   // roundAcks: filled with { slot, value } as acks arrive
  let errors = 0;
  const client = async () => {
    while (!stopFlag.stop) {
      let slot, o, k;
      for (let tries = 0; tries < 20; tries++) {
        o = objName(Math.floor(Math.random() * OBJECTS));
        k = keyName(Math.floor(Math.random() * KEYS));
        slot = slotId(o, k);
        if (!busy.has(slot)) break;
        slot = null;
      }
      if (!slot) { await sleep(1); continue; }
      busy.add(slot);
      const value = next.get(slot) ?? 1;
      next.set(slot, value + 1);
      if (value > (sent.get(slot) ?? 0)) sent.set(slot, value);
      try {
        const r = await request(port, "PUT", `/w/${o}/${k}/${value}`);
        if (r.status === 200 && r.body === "ok") {
          roundAcks.push({ slot, value });
          if (value > (acked.get(slot) ?? 0)) acked.set(slot, value);
        } else if (!stopFlag.stop) {
          failure(`PUT /w/${o}/${k}/${value} answered ${r.status} ${JSON.stringify(r.body.slice(0, 200))} before the kill`);
          stopFlag.stop = true;
        }
      } catch {
        errors++;   // the kill cut it off: not acknowledged, may or may not be stored
      } finally {
        busy.delete(slot);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { errors };
}

// Reads every object's dump and checks it against what was acknowledged.
async function verify(port, label, ackList) {
  const dumps = new Map();
  for (let i = 0; i < OBJECTS; i++) {
    const o = objName(i);
    let r;
    try {
      r = await request(port, "GET", `/dump/${o}`);
    } catch (e) {
      failure(`${label}: GET /dump/${o} failed: ${e.message}`);
      continue;
    }
    if (r.status !== 200) { failure(`${label}: GET /dump/${o} -> ${r.status} ${r.body.slice(0, 300)}`); continue; }
    let d;
    try { d = JSON.parse(r.body); } catch (e) { failure(`${label}: dump of ${o} does not parse: ${e.message}: ${r.body.slice(0, 300)}`); continue; }
    if (d === null || typeof d !== "object" || Array.isArray(d)) { failure(`${label}: dump of ${o} is not an object`); continue; }
    dumps.set(o, d);
    for (const [key, v] of Object.entries(d)) {
      if (key.startsWith("shadow:")) {
        const main = key.slice(7);
        if (!(main in d)) failure(`${label}: ${o}: ${key}=${v} without ${main} (batch not atomic)`);
        continue;
      }
      if (!/^k\d+$/.test(key)) { failure(`${label}: ${o}: unexpected key ${JSON.stringify(key)}`); continue; }
      const sh = d["shadow:" + key];
      if (sh !== v) failure(`${label}: ${o}: ${key}=${JSON.stringify(v)} but shadow:${key}=${JSON.stringify(sh)} (batch not atomic)`);
      if (typeof v !== "number" || !Number.isInteger(v)) { failure(`${label}: ${o}: ${key} holds ${JSON.stringify(v)}, not an integer`); continue; }
      const hi = sent.get(slotId(o, key)) ?? 0;
      if (v > hi) failure(`${label}: ${o}: ${key}=${v} but the highest value ever sent is ${hi}`);
    }
  }
  // every acknowledged write of every round so far
  for (const { slot, value } of ackList) {
    const [o, k] = slot.split("/");
    const d = dumps.get(o);
    if (!d) continue;   // already reported
    checkedWrites++;
    const v = d[k];
    if (v === undefined) failure(`${label}: acknowledged ${slot}=${value} is missing`);
    else if (typeof v === "number" && v < value) failure(`${label}: acknowledged ${slot}=${value} but found ${v} (lost write)`);
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const deadline = Date.now() + SECONDS * 1000;
  let pending = [];   // acks of the last round, checked after the restart
  for (let round = 1; round <= ROUNDS; round++) {
    if (round > 1 && Date.now() > deadline - 3000) { log(`time budget reached after ${rounds} rounds`); break; }
    const s = await startServer();
    log(`round ${round}: server pid ${s.proc.pid} on port ${s.port}`);
    if (pending.length || round > 1) await verify(s.port, `after round ${round - 1}`, pending);
    if (failures) { killServer(); await s.exited; break; }
    const stopFlag = { stop: false };
    let diedEarly = null;
    s.exited.then((r) => { if (!stopFlag.killed) { diedEarly = r; stopFlag.stop = true; } });
    const roundAcks = [];
    const writes = writeRound(s.port, stopFlag, roundAcks);
    // The kill comes at a random moment after the round has MIN_ACKS acknowledged
    // writes: a round that never got a write acknowledged proves nothing.
    const ackDeadline = Date.now() + ACK_SECONDS * 1000;
    while (roundAcks.length < MIN_ACKS && !stopFlag.stop && Date.now() < ackDeadline) await sleep(5);
    const enough = roundAcks.length >= MIN_ACKS;
    const at = enough ? Math.floor(Math.random() * 601) : 0;
    await sleep(at);
    stopFlag.killed = true;
    stopFlag.stop = true;
    killServer();
    await s.exited;
    const { errors } = await writes;
    server = null;
    if (!enough && !failures)
      failure(`round ${round}: only ${roundAcks.length} writes acknowledged within ${ACK_SECONDS} s (at least ${MIN_ACKS} required); stderr:\n${s.logs().slice(-2000)}`);
    if (diedEarly) failure(`round ${round}: the server exited by itself (${diedEarly.code ?? diedEarly.sig}); stderr:\n${s.logs().slice(-2000)}`);
    log(`round ${round}: killed ${at} ms after ${MIN_ACKS} acks, ${roundAcks.length} acknowledged writes, ${errors} cut off`);
    pending = roundAcks;
    rounds++;
    if (failures) break;
  }
  if (!failures && rounds > 0) {
    const s = await startServer();
    log(`final check: server pid ${s.proc.pid} on port ${s.port}`);
    await verify(s.port, `after round ${rounds}`, pending);
    // a last sweep: every key's highest acknowledged value, over all rounds
    const all = [...acked].map(([slot, value]) => ({ slot, value }));
    const before = checkedWrites;
    await verify(s.port, "final sweep", all);
    checkedWrites = before;   // the sweep re-checks writes already counted
    killServer();
    await s.exited;
    server = null;
  }
  if (rounds === 0 && !failures) failure("no round completed");
  if (!failures && checkedWrites < rounds * MIN_ACKS) failure(`only ${checkedWrites} acknowledged writes checked over ${rounds} rounds`);
  console.log(`crash: ${rounds} rounds, ${checkedWrites} acknowledged writes checked, ${failures} failures`);
  if (DURABILITY) console.log(`crash: durability ${DURABILITY}`);
  return failures ? 1 : 0;
}

main().then(
  (code) => { cleanup(); process.exit(code); },
  (e) => {
    console.error(`crash: ${e.message}`);
    console.log(`crash: ${rounds} rounds, ${checkedWrites} acknowledged writes checked, ${failures + 1} failures`);
    cleanup();
    process.exit(1);
  },
);
