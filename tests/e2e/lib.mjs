// Helpers for end-to-end tests: start the real `durable` binary on a free loopback
// port, talk HTTP to it (fetch, or raw sockets for what fetch cannot send), stop it.
// Every wait has a deadline; nothing sleeps to synchronise.
import { spawn } from "node:child_process";
import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");
export const bin = process.env.DURABLE_BIN || path.join(root, "build/release/durable");

/** A temporary project folder made of { "relative/path": "contents" }. */
export function makeProject(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "durable-e2e-"));
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
  return dir;
}

/** stderr with each JSON log line (the format when stderr is not a terminal,
 *  docs/api.md "Logs") replaced by its message, so a test can look for what a
 *  person would read in text format. */
export function logText(text) {
  return text.split("\n").map((l) => {
    if (!l.startsWith("{")) return l;
    try { const j = JSON.parse(l); return (j.level === "info" ? "" : j.level + ": ") + j.msg; } catch { return l; }
  }).join("\n");
}

/** Runs `durable dev` in `cwd` and waits (at most `timeoutMs`) for "Ready on URL".
 *  Resolves { url, port, proc, logs(), waitForLog(re), stop() }. */
export function startDev(cwd, args = [], { timeoutMs = 20000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, ["dev", "--port", "0", "--threads", "1", ...args], {
      cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", ...env },
    });
    let out = "", errText = "", done = false;
    const waiters = [];
    const check = () => {
      for (const w of [...waiters]) {
        if (w.re.test(errText + out) || w.re.test(logText(errText) + out)) { waiters.splice(waiters.indexOf(w), 1); clearTimeout(w.timer); w.resolve(); }
      }
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      proc.kill("SIGKILL");
      reject(new Error(`durable did not start within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${errText}`));
    }, timeoutMs);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /Ready on (http:\/\/\S+):(\d+)/.exec(out);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        const exited = new Promise((r) => proc.once("exit", (code, sig) => r({ code, sig })));
        resolve({
          url: `${m[1]}:${m[2]}`, port: Number(m[2]), proc, exited,
          logs: () => errText, stdout: () => out,
          waitForLog(re, ms = 10000) {
            return new Promise((res, rej) => {
              const w = { re, resolve: res, timer: setTimeout(() => rej(new Error(`log ${re} not seen within ${ms} ms; stderr:\n${errText}`)), ms) };
              waiters.push(w);
              check();
            });
          },
          async stop() {
            if (proc.exitCode !== null || proc.signalCode !== null) return exited;
            proc.kill("SIGTERM");
            const t = setTimeout(() => proc.kill("SIGKILL"), 15000);
            const r = await exited;
            clearTimeout(t);
            return r;
          },
        });
      }
      check();
    });
    proc.stderr.on("data", (d) => { errText += d; check(); });
    proc.on("exit", (code, sig) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        const e = new Error(`durable exited (${code ?? sig}) before it was ready\nstdout:\n${out}\nstderr:\n${errText}`);
        e.code = code; e.stderr = errText; e.stdout = out;
        reject(e);
      }
    });
  });
}

/** Runs `durable dev` expecting it to fail at startup; resolves { code, stderr }. */
export function runDevExpectFailure(cwd, args = [], timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, ["dev", "--port", "0", "--threads", "1", ...args], {
      cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" },
    });
    let out = "", errText = "";
    proc.stdout.on("data", (d) => { out += d; if (/Ready on/.test(out)) { proc.kill("SIGKILL"); } });
    proc.stderr.on("data", (d) => { errText += d; });
    const t = setTimeout(() => { proc.kill("SIGKILL"); reject(new Error("durable did not exit")); }, timeoutMs);
    proc.on("exit", (code) => { clearTimeout(t); resolve({ code, stderr: errText, stdout: out }); });
  });
}

/** Sends raw bytes on one connection; resolves with everything received until the
 *  server closes, `untilRe` matches the received text, or `ms` passes. */
export function raw(port, chunks, { untilRe = null, ms = 5000, gapMs = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let got = Buffer.alloc(0), finished = false;
    const finish = (closed) => {
      if (finished) return;
      finished = true;
      clearTimeout(t);
      s.destroy();
      resolve({ text: got.toString("latin1"), closed });
    };
    const t = setTimeout(() => finish(false), ms);
    s.on("data", (d) => {
      got = Buffer.concat([got, d]);
      if (untilRe && untilRe.test(got.toString("latin1"))) finish(false);
    });
    s.on("end", () => finish(true));
    s.on("close", () => finish(true));
    s.on("error", (e) => (finished ? null : (e.code === "ECONNRESET" ? finish(true) : reject(e))));
    s.on("connect", async () => {
      for (const c of Array.isArray(chunks) ? chunks : [chunks]) {
        if (s.destroyed) return;
        s.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

/** Splits a stream of HTTP/1.1 responses (Content-Length or chunked bodies). */
export function parseResponses(text) {
  const out = [];
  let rest = text;
  while (rest.length) {
    const headEnd = rest.indexOf("\r\n\r\n");
    if (headEnd < 0) break;
    const head = rest.slice(0, headEnd).split("\r\n");
    const [, status] = head[0].split(" ");
    const headers = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(":");
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    rest = rest.slice(headEnd + 4);
    let body = "";
    if (headers["transfer-encoding"] === "chunked") {
      for (;;) {
        const le = rest.indexOf("\r\n");
        const n = parseInt(rest.slice(0, le), 16);
        rest = rest.slice(le + 2);
        if (n === 0) { rest = rest.slice(2); break; }
        body += rest.slice(0, n);
        rest = rest.slice(n + 2);
      }
    } else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      body = rest.slice(0, n);
      rest = rest.slice(n);
    }
    out.push({ status: Number(status), headers, body, head: head[0] });
  }
  return out;
}

// Worker source for hostile tests: walk(v, path, depth) pushes to `found` the path
// of every non-empty ArrayBuffer reachable from v through own properties (a native
// handle must never be one: its bytes would be a C struct with pointers).
export const WALK_FOR_ARRAY_BUFFERS = `const found = [];
    const seen = new Set();
    const walk = (v, path, depth) => {
      if (v === null || (typeof v !== "object" && typeof v !== "function") || seen.has(v)) return;
      seen.add(v);
      if (v instanceof ArrayBuffer && v.byteLength > 0) found.push(path);
      if (depth === 0 || ArrayBuffer.isView(v)) return;
      for (const k of Reflect.ownKeys(v)) {
        let x;
        try { x = v[k]; } catch { continue; }
        walk(x, path + "." + String(k), depth - 1);
      }
    };`;
