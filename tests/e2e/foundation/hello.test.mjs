// The hello example and the basics of a module Worker: status, headers, body,
// vars, per-request logging, several shards, clean stop on SIGTERM.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startDev, root } from "../lib.mjs";

const hello = path.join(root, "examples/hello");

test("examples/hello answers with its greeting, Date and Content-Length", async () => {
  const srv = await startDev(hello);
  try {
    const r = await fetch(srv.url + "/");
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "Hello from durable!\n");
    assert.equal(r.headers.get("content-type"), "text/plain;charset=UTF-8");
    assert.equal(r.headers.get("content-length"), "20");
    assert.ok(!Number.isNaN(Date.parse(r.headers.get("date"))), "Date header parses");
    const j = await fetch(srv.url + "/json");
    assert.equal(j.headers.get("content-type"), "application/json");
    assert.deepEqual(await j.json(), { greeting: "Hello", path: "/json" });
    await srv.waitForLog(/GET \/json 200/);
    assert.match(srv.stdout(), /env\.GREETING \(var\): Hello/);
  } finally {
    const { code } = await srv.stop();
    assert.equal(code, 0);
  }
});

test("two shards serve the same port", async () => {
  const srv = await startDev(hello, ["--threads", "2"]);
  try {
    assert.match(srv.stdout(), /with 2 shards/);
    const rs = await Promise.all(Array.from({ length: 40 }, () => fetch(srv.url + "/").then((r) => r.text())));
    for (const t of rs) assert.equal(t, "Hello from durable!\n");
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

test("--help and --version", async () => {
  const { execFileSync } = await import("node:child_process");
  const { bin } = await import("../lib.mjs");
  assert.match(execFileSync(bin, ["--version"]).toString(), /^durable \d+\.\d+\.\d+/);
  const help = execFileSync(bin, ["dev", "--help"]).toString();
  for (const opt of ["--port", "--ip", "--config", "--persist-to", "--threads"]) assert.ok(help.includes(opt), opt);
});
