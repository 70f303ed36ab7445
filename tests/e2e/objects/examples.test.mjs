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

test("chat: the page, join/leave, broadcast, history kept across hibernation and restarts", async () => {
  const { connect } = await import("../ws/wsclient.mjs");
  const dir = persist();
  // A short idle timeout lets the room hibernate between the steps below.
  let srv = await startDev(example("chat"), ["--persist-to", dir, "--idle-timeout-ms", "200"]);
  const json = async (c) => JSON.parse(await c.message());
  try {
    const page = await fetch(srv.url + "/");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type"), /^text\/html/);
    assert.match(await page.text(), /new WebSocket\(url\)/);
    assert.equal((await fetch(srv.url + "/room/x")).status, 426);
    assert.equal((await fetch(srv.url + "/nope")).status, 404);
    await assert.rejects(connect(srv.port, "/room/x?user=bad%20name"), (e) => e.status === 400);

    const ann = await connect(srv.port, "/room/lobby?user=ann");
    // Browsers refuse a 101 without it (it was missing; ws/chromium.test.mjs found it).
    assert.match(ann.head, /^connection: upgrade\r?$/im);
    assert.deepEqual(await json(ann), { type: "history", messages: [] });
    assert.deepEqual(await json(ann), { type: "join", user: "ann", users: ["ann"] });
    const bob = await connect(srv.port, "/room/lobby?user=bob");
    assert.deepEqual(await json(bob), { type: "history", messages: [] });
    for (const c of [ann, bob]) assert.deepEqual(await json(c), { type: "join", user: "bob", users: ["ann", "bob"] });
    ann.send("hello bob");
    for (const c of [ann, bob]) {
      const m = await json(c);
      assert.deepEqual([m.type, m.user, m.text, typeof m.at], ["message", "ann", "hello bob", "number"]);
    }
    ann.send("ping");
    assert.equal(await ann.message(), "pong", "auto-response");
    ann.send("");
    assert.equal((await json(ann)).type, "error");
    // Let the room hibernate; its attachment still knows who bob is.
    await new Promise((r) => setTimeout(r, 600));
    bob.send("still here");
    for (const c of [ann, bob]) assert.deepEqual((({ user, text }) => ({ user, text }))(await json(c)), { user: "bob", text: "still here" });
    ann.close(1000, "bye");
    assert.deepEqual(await json(bob), { type: "leave", user: "ann", users: ["bob"] });
    bob.destroy();
  } finally { assert.equal((await srv.stop()).code, 0); }

  srv = await startDev(example("chat"), ["--persist-to", dir]);
  try {
    const cy = await connect(srv.port, "/room/lobby?user=cy");
    const h = await json(cy);
    assert.deepEqual(h.messages.map((m) => [m.user, m.text]), [["ann", "hello bob"], ["bob", "still here"]], "history kept");
    const other = await connect(srv.port, "/room/other?user=cy");
    assert.deepEqual(await json(other), { type: "history", messages: [] }, "another room is another object");
    cy.destroy(); other.destroy();
  } finally { assert.equal((await srv.stop()).code, 0); }
});
