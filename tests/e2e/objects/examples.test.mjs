// The runnable examples in examples/ that use Durable Objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import fs from "node:fs";
import os from "node:os";
import { startDev, root } from "../lib.mjs";

const example = (name) => path.join(root, "examples", name);
const persist = () => fs.mkdtempSync(path.join(os.tmpdir(), "durable-persist-"));

test("counter-http: /increment, /decrement, / and 404 (over stub.fetch)", async () => {
  const srv = await startDev(example("counter-http"), ["--persist-to", persist()]);
  try {
    const t = async (p) => { const r = await fetch(srv.url + p); return [r.status, await r.text()]; };
    assert.deepEqual(await t("/"), [200, "0"]);
    assert.deepEqual(await t("/increment"), [200, "1"]);
    assert.deepEqual(await t("/increment"), [200, "2"]);
    assert.deepEqual(await t("/decrement"), [200, "1"]);
    assert.deepEqual(await t("/increment?name=B"), [200, "1"], "another name is another object");
    assert.deepEqual(await t("/"), [200, "1"]);
    assert.deepEqual(await t("/nope"), [404, "Not found"]);
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("forward-to-foo: every request reaches the one object named foo", async () => {
  const srv = await startDev(example("forward-to-foo"), ["--persist-to", persist(), "--threads", "2"]);
  try {
    const seen = [];
    for (let i = 0; i < 10; i++) seen.push(await (await fetch(srv.url + "/p" + i, { method: i % 2 ? "POST" : "GET" })).json());
    assert.equal(new Set(seen.map((s) => s.id)).size, 1);
    assert.match(seen[0].id, /^[0-9a-f]{64}$/);
    assert.deepEqual(seen.map((s) => s.served), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(seen[3].method, "POST");
    assert.equal(seen[3].path, "/p3");
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("counter-rpc: increment(amount) by RPC, one count per name", async () => {
  const srv = await startDev(example("counter-rpc"), ["--persist-to", persist()]);
  try {
    const j = async (q) => (await fetch(srv.url + "/?" + q)).json();
    assert.deepEqual(await j("name=a&amount=5"), { name: "a", value: 5 });
    assert.deepEqual(await j("name=a&amount=2"), { name: "a", value: 7 });
    assert.deepEqual(await j("name=b"), { name: "b", value: 1 });
  } finally { assert.equal((await srv.stop()).code, 0); }
});
