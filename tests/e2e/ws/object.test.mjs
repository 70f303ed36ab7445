// WebSockets through a Durable Object (WS-16, WS-20..22): the Worker passes the
// upgrade on with stub.fetch(request), the object answers 101 with its client end,
// and frames then flow between the client and the object — across shards when
// the object lives on another shard than the connection. Messages arrive as object
// events; the object's sends go through its output gate.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { makeProject, startDev } from "../lib.mjs";
import { connect } from "./wsclient.mjs";

const worker = `
import { DurableObject } from "cloudflare:workers";
export class Room extends DurableObject {
  constructor(ctx, env) { super(ctx, env); this.members = new Map(); this.count = 0; }
  async fetch(req) {
    const name = new URL(req.url).searchParams.get("name") ?? "anon";
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    this.members.set(server, name);
    this.broadcast(name + " joined (" + this.members.size + ")");
    server.addEventListener("message", async (e) => {
      if (e.data === "count") {
        // a write, then a send: the send waits for the commit (output gate)
        this.count++;
        this.ctx.storage.put("count", this.count);
        server.send("count " + this.count + " " + (await this.ctx.storage.get("count")));
        return;
      }
      if (e.data === "reset") { this.ctx.abort("test reset"); return; }
      if (typeof e.data !== "string") { server.send(e.data); return; }
      this.broadcast(name + ": " + e.data);
    });
    server.addEventListener("close", (e) => {
      this.members.delete(server);
      this.broadcast(name + " left with " + e.code);
    });
    return new Response(null, { status: 101, webSocket: client });
  }
  broadcast(text) { for (const ws of this.members.keys()) ws.send(text); }
}
export default {
  fetch(req, env) {
    const u = new URL(req.url);
    if (req.headers.get("upgrade") !== "websocket") return new Response("expected websocket", { status: 426 });
    return env.ROOM.get(env.ROOM.idFromName(u.searchParams.get("room") ?? "lobby")).fetch(req);
  },
};`;

let dir, srv;
before(async () => {
  dir = makeProject({
    "wrangler.toml": 'name = "wsobj"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n' +
      '[[durable_objects.bindings]]\nname = "ROOM"\nclass_name = "Room"\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Room"]\n',
    "src/index.js": worker,
  });
  srv = await startDev(dir, ["--threads", "3"]);
});
after(async () => {
  const r = await srv.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 0);
});

test("echo through an object (text and binary), with a write before the send", async () => {
  const ws = await connect(srv.port, "/?room=echo&name=solo");
  assert.equal(await ws.message(), "solo joined (1)");
  ws.send("hi");
  assert.equal(await ws.message(), "solo: hi");
  ws.send(Buffer.from([7, 8, 9]));
  assert.deepEqual([...(await ws.message())], [7, 8, 9]);
  ws.send("count");
  assert.equal(await ws.message(), "count 1 1");
  ws.send("count");
  assert.equal(await ws.message(), "count 2 2");
  ws.close(1000);
  assert.equal((await ws.closed()).code, 1000);
});

test("a chat room in an object: clients on several connections (and shards) join, broadcast, leave", async () => {
  // Several connections: with 3 shards the kernel spreads them, so some are on
  // another shard than the object.
  const names = ["ann", "bob", "cy", "dee", "eve", "fay"];
  const clients = [];
  for (const [i, n] of names.entries()) {
    const c = await connect(srv.port, `/?room=chat&name=${n}`);
    clients.push(c);
    for (const x of clients) assert.equal(await x.message(), `${n} joined (${i + 1})`);
  }
  clients[1].send("hello room");
  for (const x of clients) assert.equal(await x.message(), "bob: hello room");
  clients[2].close(4000, "bye");
  assert.equal((await clients[2].closed()).code, 4000);
  for (const x of clients.filter((_, i) => i !== 2)) assert.equal(await x.message(), "cy left with 4000");
  clients[0].destroy();
  for (const x of clients.slice(1).filter((_, i) => i !== 1)) assert.equal(await x.message(), "ann left with 1006");
  for (const x of clients) x.destroy();
});

test("an object that is reset closes its sockets with 1011", async () => {
  const ws = await connect(srv.port, "/?room=doomed&name=z");
  assert.equal(await ws.message(), "z joined (1)");
  ws.send("reset");
  const c = await ws.closed();
  assert.equal(c.code, 1011);
  assert.match(c.reason, /object was reset/);
  ws.destroy();
  // The room works again with a new instance.
  const again = await connect(srv.port, "/?room=doomed&name=y");
  assert.equal(await again.message(), "y joined (1)");
  again.destroy();
});

test("the object's sends are outputs of its gate (WS-16): a send after a write whose commit fails never arrives", async () => {
  const d = makeProject({
    "wrangler.toml": 'name = "wsgate"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n' +
      '[[durable_objects.bindings]]\nname = "ROOM"\nclass_name = "Room"\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Room"]\n',
    "src/index.js": `
import { DurableObject } from "cloudflare:workers";
export class Room extends DurableObject {
  fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (e) => {
      // The write of this key makes the commit fail (DURABLE_TEST_HOOKS=1).
      if (e.data === "fail") { this.ctx.storage.put("__durable_fail_commit__", 1); server.send("must never arrive"); }
      if (e.data === "unconfirmed") { this.ctx.storage.put("__durable_fail_commit__", 1, { allowUnconfirmed: true }); server.send("sent before the commit"); }
    });
    return new Response(null, { status: 101, webSocket: client });
  }
}
export default { fetch(req, env) { return env.ROOM.get(env.ROOM.idFromName(new URL(req.url).pathname)).fetch(req); } };`,
  });
  const s = await startDev(d, ["--threads", "2"], { env: { DURABLE_TEST_HOOKS: "1" } });
  try {
    const a = await connect(s.port, "/a");
    a.send("fail");
    const ev = await a.next();
    assert.equal(ev.type, "close", `expected the reset's close, got ${JSON.stringify(ev)}`);
    assert.equal(ev.code, 1011);
    a.destroy();
    const b = await connect(s.port, "/b");
    b.send("unconfirmed");
    assert.equal(await b.message(), "sent before the commit");
    assert.equal((await b.closed()).code, 1011);
    b.destroy();
  } finally {
    await s.stop();
    fs.rmSync(d, { recursive: true, force: true });
  }
});
