// The runnable storage examples in examples/ (storage-echo, storage-if-match,
// storage-counter), each started in its own folder with a fresh --persist-to.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import fs from "node:fs";
import os from "node:os";
import { startDev, root } from "../lib.mjs";

const example = (name) => path.join(root, "examples", name);
const persist = () => fs.mkdtempSync(path.join(os.tmpdir(), "durable-persist-"));

test("storage-echo: PUT stores the body under the key, GET returns it, DELETE removes it (KV-6, KV-10, KV-15)", async () => {
  const dir = persist();
  let srv = await startDev(example("storage-echo"), ["--persist-to", dir]);
  const bytes = new Uint8Array([0, 1, 2, 250, 255, 10, 13]);
  try {
    const t = async (p, init) => { const r = await fetch(srv.url + p, init); return [r.status, await r.text()]; };
    assert.deepEqual(await t("/greeting"), [404, "Not found\n"]);
    assert.deepEqual(await t("/greeting", { method: "PUT", body: "hello" }), [201, "hello"]);
    assert.deepEqual(await t("/greeting"), [200, "hello"]);
    assert.deepEqual(await t("/greeting", { method: "PUT", body: "h\u00e9llo again" }), [201, "h\u00e9llo again"]);
    assert.deepEqual(await t("/greeting"), [200, "h\u00e9llo again"]);
    assert.deepEqual(await t("/empty", { method: "PUT", body: "" }), [201, ""]);
    assert.deepEqual(await t("/empty"), [200, ""], "an empty body is stored too");
    const put = await fetch(srv.url + "/bin", { method: "PUT", body: bytes });
    assert.equal(put.status, 201);
    await put.arrayBuffer();
    assert.deepEqual(new Uint8Array(await (await fetch(srv.url + "/bin")).arrayBuffer()), bytes, "binary bodies round-trip");
    assert.deepEqual(await t("/temp", { method: "PUT", body: "x" }), [201, "x"]);
    assert.deepEqual(await t("/temp", { method: "DELETE" }), [200, "deleted"]);
    assert.deepEqual(await t("/temp"), [404, "Not found\n"]);
    assert.deepEqual(await t("/temp", { method: "DELETE" }), [404, "Not found\n"]);
    assert.equal((await t("/")).at(0), 400);
    assert.equal((await t("/greeting", { method: "PATCH" })).at(0), 405);
  } finally { assert.equal((await srv.stop()).code, 0); }

  srv = await startDev(example("storage-echo"), ["--persist-to", dir]);
  try {
    assert.equal(await (await fetch(srv.url + "/greeting")).text(), "h\u00e9llo again", "kept across a restart");
    assert.deepEqual(new Uint8Array(await (await fetch(srv.url + "/bin")).arrayBuffer()), bytes);
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("storage-if-match: a matching If-Match writes (200), a stale one rolls back (412) (TXN-1, TXN-5)", async () => {
  const srv = await startDev(example("storage-if-match"), ["--persist-to", persist()]);
  try {
    const get = async (p = "/doc") => { const r = await fetch(srv.url + p); return [r.status, r.headers.get("etag"), await r.text()]; };
    const put = async (ifMatch, body, p = "/doc") => {
      const headers = ifMatch === null ? {} : { "If-Match": ifMatch };
      const r = await fetch(srv.url + p, { method: "PUT", headers, body });
      return [r.status, r.headers.get("etag"), await r.text()];
    };
    assert.deepEqual(await get(), [200, '"0"', ""]);
    assert.deepEqual(await put('"0"', "first"), [200, '"1"', "updated\n"]);
    assert.deepEqual(await get(), [200, '"1"', "first"]);
    assert.deepEqual(await put('"0"', "stale write"), [412, '"1"', "version mismatch\n"]);
    assert.deepEqual(await get(), [200, '"1"', "first"], "the rolled-back transaction stored nothing");
    assert.deepEqual(await put('"7"', "wrong"), [412, '"1"', "version mismatch\n"]);
    assert.deepEqual(await put('"1"', "second"), [200, '"2"', "updated\n"]);
    assert.deepEqual(await get(), [200, '"2"', "second"]);
    assert.deepEqual(await put("*", "any"), [200, '"3"', "updated\n"]);
    assert.deepEqual(await put(null, "no header"), [428, null, "If-Match required\n"]);
    assert.deepEqual(await get(), [200, '"3"', "any"]);
    assert.deepEqual(await get("/other"), [200, '"0"', ""], "another path is another document");

    // Many writers racing with the same version: exactly one wins.
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => put('"3"', "racer " + i)));
    const winners = rs.filter(([s]) => s === 200);
    assert.equal(winners.length, 1, JSON.stringify(rs.map(([s]) => s)));
    assert.equal(rs.filter(([s]) => s === 412).length, 19);
    const [, tag, body] = await get();
    assert.equal(tag, '"4"');
    assert.match(body, /^racer \d+$/);
  } finally { assert.equal((await srv.stop()).code, 0); }
});

test("storage-counter: value loaded in the constructor, incremented via fetch, kept across restarts (LIFE-10)", async () => {
  const dir = persist();
  let srv = await startDev(example("storage-counter"), ["--persist-to", dir, "--threads", "2"]);
  try {
    const t = async (p) => { const r = await fetch(srv.url + p); return [r.status, await r.text()]; };
    assert.deepEqual(await t("/"), [200, "0"]);
    assert.deepEqual(await t("/increment"), [200, "1"]);
    assert.deepEqual(await t("/increment"), [200, "2"]);
    assert.deepEqual(await t("/decrement"), [200, "1"]);
    assert.deepEqual(await t("/increment?name=B"), [200, "1"], "another name is another counter");
    assert.deepEqual(await t("/nope"), [404, "Not found"]);
    const rs = await Promise.all(Array.from({ length: 50 }, () => t("/increment?name=C")));
    assert.deepEqual(rs.map(([, v]) => Number(v)).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
  } finally { assert.equal((await srv.stop()).code, 0); }

  srv = await startDev(example("storage-counter"), ["--persist-to", dir]);
  try {
    // Concurrent first requests to a freshly constructed instance all see the loaded value.
    const first = await Promise.all(Array.from({ length: 10 }, () => fetch(srv.url + "/?name=C").then((r) => r.text())));
    assert.deepEqual(first, Array(10).fill("50"));
    assert.equal(await (await fetch(srv.url + "/")).text(), "1");
    assert.equal(await (await fetch(srv.url + "/increment")).text(), "2");
    assert.equal(await (await fetch(srv.url + "/?name=B")).text(), "1");
  } finally { assert.equal((await srv.stop()).code, 0); }
});
