// HIB-11: ctx.setHibernatableWebSocketEventTimeout(ms). A webSocketMessage handler
// still running after the timeout is cancelled as workerd does it: the instance is
// dropped (the handler's continuation never runs), the hibernatable socket stays
// open, and the next event builds a new instance. Without a timeout the same slow
// handler runs to its end.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { makeProject, startDev } from "../lib.mjs";
import { connect } from "./wsclient.mjs";

const worker = `
import { DurableObject } from "cloudflare:workers";
let built = 0;
export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.n = ++built;
  }
  fetch(req) {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    const ms = Number(new URL(req.url).searchParams.get("timeout"));
    if (ms) this.ctx.setHibernatableWebSocketEventTimeout(ms);
    return new Response(null, { status: 101, webSocket: client });
  }
  async webSocketMessage(ws, msg) {
    if (msg === "slow") {
      await new Promise((r) => setTimeout(r, 1500));
      ws.send("slow finished in instance " + this.n);
      return;
    }
    ws.send("fast in instance " + this.n + " timeout " + this.ctx.getHibernatableWebSocketEventTimeout());
  }
}
export default {
  fetch(req, env) {
    const name = new URL(req.url).searchParams.get("room");
    return env.ROOM.get(env.ROOM.idFromName(name)).fetch(req);
  },
};`;

let srv;
before(async () => {
  const dir = makeProject({
    "wrangler.toml": 'name = "evt"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n' +
      '[[durable_objects.bindings]]\nname = "ROOM"\nclass_name = "Room"\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Room"]\n',
    "src/index.js": worker,
  });
  srv = await startDev(dir);
});
after(async () => { await srv?.stop(); });

test("a handler past the event timeout is cancelled; the socket stays and the next message builds a new instance", async () => {
  const ws = await connect(srv.port, "/?room=a&timeout=200");
  ws.send("fast");
  assert.equal(await ws.message(), "fast in instance 1 timeout 200");
  ws.send("slow");
  await srv.waitForLog(/exceeded its WebSocket event timeout: webSocketMessage\(\) ran for more than 200 ms/);
  // The socket is still open; a new instance answers, with the setting kept (it
  // lives with the sockets, outside the instance).
  ws.send("fast");
  assert.equal(await ws.message(), "fast in instance 2 timeout 200");
  // The cancelled handler's continuation never runs: it does not send later.
  const more = await ws.next(2500).then((e) => e, () => null);
  assert.equal(more, null, `unexpected ${JSON.stringify(more)}`);
});

test("without a timeout a slow handler runs to its end in the same instance", async () => {
  const ws = await connect(srv.port, "/?room=b");
  ws.send("slow");
  const m = /^slow finished in instance (\d+)$/.exec(await ws.message());
  assert.ok(m);
  ws.send("fast");
  assert.equal(await ws.message(), `fast in instance ${m[1]} timeout null`);
});
