// Cluster mode: WebSockets through a forwarded stub.fetch (issue 11; docs/cluster.md,
// docs/websockets.md). Three real nodes on one PostgreSQL: the room object lives on
// node 1 (the first call claims it there), clients connect to nodes 2 and 3, and the
// socket is relayed over the nodes' internal connection (frame 'W').
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPostgres } from "./pg.mjs";
import { startCluster, waitOk, op, stopAll, sleep } from "./cluster_lib.mjs";
import { connect } from "../ws/wsclient.mjs";

const WORKER = `
import { DurableObject } from "cloudflare:workers";
let built = 0;
export class Obj extends DurableObject {
  constructor(ctx, env) { super(ctx, env); built++; }
  hit() { return built; }
  async closes() { return (await this.ctx.storage.get("closes")) ?? []; }
  fn(f) { return typeof f; }
  async fetch(req) {
    const [client, server] = Object.values(new WebSocketPair());
    if (new URL(req.url).searchParams.get("mode") === "std") {
      server.accept();
      server.addEventListener("message", (e) => {
        if (typeof e.data === "string" && e.data.startsWith("close:")) { const [, c, r] = e.data.split(":"); server.close(Number(c), r); }
        else server.send(typeof e.data === "string" ? "std " + e.data : e.data);
      });
    } else {
      this.ctx.acceptWebSocket(server, [new URL(req.url).searchParams.get("who") || "x"]);
    }
    return new Response(null, { status: 101, webSocket: client });
  }
  async webSocketMessage(ws, msg) {
    if (typeof msg !== "string") { ws.send(msg); return; }                    // binary echo
    if (msg.startsWith("close:")) { const [, c, r] = msg.split(":"); ws.close(Number(c), r); return; }
    if (msg === "built") { ws.send("built " + built); return; }
    await this.ctx.storage.put("last", msg);                                     // needs ownership
    const all = this.ctx.getWebSockets();
    for (const w of all) if (w.readyState === WebSocket.OPEN) w.send(this.ctx.getTags(ws)[0] + ": " + msg);
  }
  async webSocketClose(ws, code, reason, clean) {
    const list = (await this.ctx.storage.get("closes")) ?? [];
    list.push([code, reason, clean]);
    await this.ctx.storage.put("closes", list);
  }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const stub = env.OBJ.get(env.OBJ.idFromName(u.searchParams.get("name") || "room"));
    try {
      if (u.pathname === "/ws") return await stub.fetch(req);
      const op = u.searchParams.get("op");
      if (op === "hit") return Response.json({ ok: await stub.hit() });
      if (op === "closes") return Response.json({ ok: await stub.closes() });
      if (op === "get") return Response.json({ ok: null });
      if (op === "fn") return Response.json({ ok: await stub.fn(() => 1) });
      return new Response("unknown op", { status: 400 });
    } catch (e) {
      return Response.json({ error: String(e && e.message), name: e && e.name }, { status: 500 });
    }
  },
};
`;

let pg;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

const port = (nd) => Number(new URL(nd.srv.url).port);

test("a chat room on node 1 with clients on nodes 2 and 3: broadcast, text and binary, close codes both ways, hibernation keeps the relay and the ownership", async () => {
  const nodes = await startCluster(pg, 3, { prefix: "ws", worker: WORKER, extra: ["--idle-timeout-ms", "300"] });
  try {
    await waitOk(nodes[0], "op=hit", 10000);   // node 1 owns the room
    const a = await connect(port(nodes[1]), "/ws?who=a");
    const b = await connect(port(nodes[2]), "/ws?who=b");
    a.send("hello");
    assert.equal(await a.message(), "a: hello");
    assert.equal(await b.message(), "a: hello");
    b.send("hi");
    assert.equal(await a.message(), "b: hi");
    assert.equal(await b.message(), "b: hi");
    // Binary stays binary.
    a.send(Buffer.from([1, 2, 3, 255]));
    const ev = await a.next();
    assert.equal(ev.type, "binary");
    assert.deepEqual([...ev.data], [1, 2, 3, 255]);

    // Hibernation: the object leaves memory on node 1 (idle 300 ms), the relays
    // stay; the next message builds it again there, and it still owns the room
    // (its storage write commits).
    a.send("built");
    const before = Number((await a.message()).split(" ")[1]);
    await sleep(2500);
    a.send("built");
    const afterB = Number((await a.message()).split(" ")[1]);
    assert.ok(afterB > before, `rebuilt after hibernating (${before} -> ${afterB})`);
    b.send("again");
    assert.equal(await a.message(), "b: again");
    assert.equal(await b.message(), "b: again");

    // The object closes with a code: the client on node 2 gets it.
    a.send("close:4002:server says bye");
    const c1 = await a.closed();
    assert.equal(c1.code, 4002);
    assert.equal(c1.reason, "server says bye");
    a.close(4002, "server says bye");   // the client answers the Close, as browsers do
    // The client closes with a code: the object on node 1 sees it, cleanly.
    b.close(4001, "client says bye");
    assert.equal((await b.closed()).code, 4001);
    const end = Date.now() + 10000;
    let closes;
    do {
      await sleep(100);
      closes = (await op(nodes[1], "op=closes")).body.ok;
    } while (!closes.some((c) => c[0] === 4001) && Date.now() < end);
    assert.deepEqual(closes.find((c) => c[0] === 4001), [4001, "client says bye", true]);
    assert.deepEqual(closes.find((c) => c[0] === 4002), [4002, "server says bye", true]);

    // A standard (non-hibernatable) socket through node 3 works too.
    const s = await connect(port(nodes[2]), "/ws?mode=std");
    s.send("x");
    assert.equal(await s.message(), "std x");
    s.close(1000, "");
    await s.closed();

    // The relay's node dies (kill -9 of node 3 with a client on it): the object
    // sees the socket go without a Close frame (1006, not clean).
    const d = await connect(port(nodes[2]), "/ws?who=d");
    d.send("d here");
    assert.equal(await d.message(), "d: d here");
    process.kill(nodes[2].srv.proc.pid, "SIGKILL");
    const end2 = Date.now() + 15000;
    do {
      await sleep(100);
      closes = (await op(nodes[1], "op=closes")).body.ok;
    } while (!closes.some((c) => c[0] === 1006) && Date.now() < end2);
    assert.deepEqual(closes.find((c) => c[0] === 1006), [1006, "WebSocket disconnected without sending Close frame.", false]);
  } finally {
    await stopAll(nodes);
  }
});

test("the owner node is killed (kill -9): a client relayed through another node gets Close 1011", async () => {
  const nodes = await startCluster(pg, 2, { prefix: "wsk", worker: WORKER });
  try {
    await waitOk(nodes[0], "op=hit", 10000);
    const a = await connect(port(nodes[1]), "/ws?who=a");
    a.send("one");
    assert.equal(await a.message(), "a: one");
    process.kill(nodes[0].srv.proc.pid, "SIGKILL");
    const c = await a.closed(15000);
    assert.equal(c.type, "close");
    assert.equal(c.code, 1011);
  } finally {
    await stopAll(nodes);
  }
});

test("a function passed by reference in an RPC call forwarded to another node is refused with a DataCloneError", async () => {
  const nodes = await startCluster(pg, 2, { prefix: "wsf", worker: WORKER });
  try {
    await waitOk(nodes[0], "op=hit", 10000);
    // On the owner it works (same node).
    assert.deepEqual((await op(nodes[0], "op=fn")).body, { ok: "function" });
    const r = await op(nodes[1], "op=fn");
    assert.equal(r.status, 500, JSON.stringify(r));
    assert.equal(r.body.name, "DataCloneError", JSON.stringify(r));
    assert.match(r.body.error, /another cluster node/);
  } finally {
    await stopAll(nodes);
  }
});
