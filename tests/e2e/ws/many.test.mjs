// Many sockets on one shard: the table of a context's sockets grows (16, 32, 64
// entries) while the first ones are open, and every socket still gets its messages.
// (A growing table moved the entries the connections pointed to: the first message
// on an early socket after the 17th connected crashed the server.)
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { makeProject, startDev } from "../lib.mjs";
import { connect } from "./wsclient.mjs";

const worker = `
export default {
  fetch(req) {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (e) => server.send("echo " + e.data));
    return new Response(null, { status: 101, webSocket: client });
  },
};`;

test("40 sockets on one shard: each one echoes after all are open", async () => {
  const dir = makeProject({
    "wrangler.toml": 'name = "many"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n',
    "src/index.js": worker,
  });
  const srv = await startDev(dir, ["--threads", "1"]);
  try {
    const socks = [];
    for (let i = 0; i < 40; i++) socks.push(await connect(srv.port, "/"));
    for (let i = 0; i < socks.length; i++) socks[i].send("m" + i);
    for (let i = 0; i < socks.length; i++) assert.equal(await socks[i].message(), "echo m" + i);
    for (const s of socks) s.destroy();
  } finally {
    assert.equal((await srv.stop()).code, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
