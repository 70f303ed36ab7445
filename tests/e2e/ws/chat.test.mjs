// A chat room held by a Worker on one shard (module state): three clients join,
// every message is broadcast to all, a leaving client is announced to the rest.
// The same room in a Durable Object: object.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { makeProject, startDev } from "../lib.mjs";
import { connect } from "./wsclient.mjs";

const worker = `
const room = new Map();
const broadcast = (text) => { for (const ws of room.keys()) ws.send(text); };
export default {
  fetch(req) {
    const name = new URL(req.url).searchParams.get("name");
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    room.set(server, name);
    broadcast(name + " joined (" + room.size + ")");
    server.addEventListener("message", (e) => broadcast(name + ": " + e.data));
    server.addEventListener("close", (e) => {
      room.delete(server);
      broadcast(name + " left with " + e.code);
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};`;

test("three clients: join, broadcast, leave", async () => {
  const dir = makeProject({
    "wrangler.toml": 'name = "chat"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n',
    "src/index.js": worker,
  });
  const srv = await startDev(dir);
  try {
    const a = await connect(srv.port, "/?name=ann");
    assert.equal(await a.message(), "ann joined (1)");
    const b = await connect(srv.port, "/?name=bob");
    assert.equal(await a.message(), "bob joined (2)");
    assert.equal(await b.message(), "bob joined (2)");
    const c = await connect(srv.port, "/?name=cy");
    for (const x of [a, b, c]) assert.equal(await x.message(), "cy joined (3)");
    b.send("hi all");
    for (const x of [a, b, c]) assert.equal(await x.message(), "bob: hi all");
    c.close(1000, "bye");
    assert.equal((await c.closed()).code, 1000);
    for (const x of [a, b]) assert.equal(await x.message(), "cy left with 1000");
    a.destroy(); // gone without a Close frame
    assert.equal(await b.message(), "ann left with 1006");
    b.send("alone");
    assert.equal(await b.message(), "bob: alone");
    b.destroy();
  } finally {
    assert.equal((await srv.stop()).code, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("at shutdown an open socket gets Close 1001", async () => {
  const dir = makeProject({
    "wrangler.toml": 'name = "chat"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n',
    "src/index.js": worker,
  });
  const srv = await startDev(dir);
  try {
    const a = await connect(srv.port, "/?name=ann");
    assert.equal(await a.message(), "ann joined (1)");
    const stopped = srv.stop();
    const c = await a.closed(15000);
    assert.deepEqual([c.type, c.code, c.reason], ["close", 1001, "server going away"]);
    assert.equal((await stopped).code, 0);
    a.destroy();
  } finally {
    await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
