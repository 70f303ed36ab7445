// A deploy swaps the version while a WebSocket is open on the old one: the old
// version closes once its HTTP requests are done, and its WebSockets get Close
// 1001 (LIFE-16's "going away"; docs/api.md "Serving"); the server keeps serving,
// and a new connection reaches the new version (issue 12).
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeData, startServe, call, form, waitServes } from "./serve_lib.mjs";
import { connect } from "../ws/wsclient.mjs";

const S = "/client/v4/accounts/:acct/workers/scripts";
const src = (v) => `
export default {
  async fetch(req) {
    if (req.headers.get("upgrade") !== "websocket") return new Response("${v}");
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (e) => server.send("${v} " + e.data));
    return new Response(null, { status: 101, webSocket: client });
  },
};
`;

test("a WebSocket open on the old version gets 1001 at the swap; new ones reach the new version", async () => {
  const { data, token } = makeData();
  const srv = await startServe(data, ["--threads", "2"]);
  const port = Number(new URL(srv.url).port);
  try {
    const put = (v) => call(srv, token, "PUT", `${S}/ws`,
      form({ main_module: "w.mjs" }, { "w.mjs": ["application/javascript+module", src(v)] }));
    assert.equal((await put("v1")).status, 200);
    await waitServes(srv, "/", (t) => t === "200 v1");
    const ws = await connect(port, "/");
    ws.send("a");
    assert.equal(await ws.message(), "v1 a");
    assert.equal((await put("v2")).status, 200);
    await waitServes(srv, "/", (t) => t === "200 v2");
    const c = await ws.next();
    assert.equal(c.type, "close", JSON.stringify(c));
    assert.equal(c.code, 1001);
    const ws2 = await connect(port, "/");
    ws2.send("b");
    assert.equal(await ws2.message(), "v2 b");
    ws2.close(1000, "bye");
    assert.equal((await ws2.closed()).code, 1000);
    assert.equal(await waitServes(srv, "/", () => true), "200 v2");
  } finally { await srv.stop(); }
});
