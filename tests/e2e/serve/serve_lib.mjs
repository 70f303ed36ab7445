// Helpers for the `durable serve` end-to-end tests: a data folder with a token,
// the server on free ports, and REST calls with the token.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { bin } from "../lib.mjs";

/** A fresh data folder and a token for it. */
export function makeData() {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "durable-serve-"));
  const token = execFileSync(bin, ["token", "create", "--name", "e2e", "--data", data],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  return { data, token };
}

/** Starts `durable serve` and waits for both listeners. */
export function startServe(data, args = [], { timeoutMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, ["serve", "--data", data, "--port", "0", "--api-port", "0",
      "--threads", "1", "--durability", "process", ...args],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let out = "", err = "", done = false;
    const exited = new Promise((r) => proc.once("exit", (code, sig) => r({ code, sig })));
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      proc.kill("SIGKILL");
      reject(new Error(`durable serve did not start\n${out}\n${err}`));
    }, timeoutMs);
    proc.stdout.on("data", (d) => {
      out += d;
      const api = /REST API on (http:\/\/\S+) \(account ([0-9a-f]{32})\)/.exec(out);
      const ready = /Ready on (http:\/\/\S+)/.exec(out);
      if (api && ready && !done) {
        done = true;
        clearTimeout(timer);
        resolve({
          api: api[1].replace(/\/client\/v4$/, ""), account: api[2], url: ready[1], proc, exited,
          logs: () => err, stdout: () => out,
          /** Resolves once stdout has shown `re` n times in all. */
          async waitForStdout(re, n, ms = 15000) {
            const end = Date.now() + ms;
            const g = new RegExp(re.source, "g");
            while ((out.match(g) || []).length < n) {
              if (Date.now() > end) throw new Error(`${re} x${n} not seen:\n${out}\n${err}`);
              await new Promise((r) => setTimeout(r, 20));
            }
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
    });
    proc.stderr.on("data", (d) => { err += d; });
    proc.on("exit", (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const e = new Error(`durable serve exited (${code}) before it was ready\n${out}\n${err}`);
      e.code = code; e.stderr = err;
      reject(e);
    });
  });
}

/** Runs `durable serve` expecting a start failure; resolves { code, stderr }. */
export function serveExpectFailure(data, args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, ["serve", "--data", data, "--threads", "1", ...args],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let err = "", out = "";
    proc.stdout.on("data", (d) => { out += d; if (/Ready on/.test(out)) proc.kill("SIGKILL"); });
    proc.stderr.on("data", (d) => { err += d; });
    const t = setTimeout(() => { proc.kill("SIGKILL"); reject(new Error("did not exit")); }, 20000);
    proc.on("exit", (code) => { clearTimeout(t); resolve({ code, stderr: err, stdout: out }); });
  });
}

/** A REST call: resolves { status, headers, body (parsed JSON or text) }. */
export async function call(srv, token, method, p, body, headers = {}) {
  const h = { ...headers };
  if (token !== null) h.authorization = `Bearer ${token}`;
  const res = await fetch(srv.api + p.replace(":acct", srv.account), { method, headers: h, body });
  const text = await res.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* raw */ }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** The multipart upload of a Worker: metadata plus modules { name: [type, text] }. */
export function form(metadata, modules) {
  const f = new FormData();
  f.append("metadata", new Blob([JSON.stringify(metadata)], { type: "application/json" }),
    "metadata.json");
  for (const [name, [type, text]] of Object.entries(modules))
    f.append(name, new Blob([text], { type }), name);
  return f;
}

export const COUNTER = `
export class Counter {
  constructor(state) { this.state = state; }
  async fetch(req) {
    let n = (await this.state.storage.get("n")) || 0;
    n++;
    await this.state.storage.put("n", n);
    return new Response(String(n));
  }
}
export default {
  async fetch(req, env) {
    const name = new URL(req.url).searchParams.get("name") || "a";
    const r = await env.COUNTER.get(env.COUNTER.idFromName(name)).fetch(req);
    return new Response((env.PREFIX || "") + (await r.text()));
  },
};
`;

/** Waits until the Workers listener answers `want` (a deploy restarts the shards). */
export async function waitServes(srv, pathAndQuery, pred, ms = 15000) {
  const end = Date.now() + ms;
  let last = "";
  while (Date.now() < end) {
    try {
      const r = await fetch(srv.url + pathAndQuery);
      last = `${r.status} ${await r.text()}`;
      if (pred(last)) return last;
    } catch (e) { last = String(e); }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the Worker did not answer as expected; last: ${last}\n${srv.logs()}`);
}
