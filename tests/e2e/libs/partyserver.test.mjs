// partyserver (npm, pinned), the PartyKit room library on Durable Objects, bundled
// with esbuild by this test and run by `durable dev`: one chat room class in both
// of its modes — hibernating (`static options = { hibernate: true }`: the
// Hibernation API, connection state in attachments) and not (accept() and event
// listeners) — with routePartykitRequest routing /parties/<party>/<room>. Two
// clients join, a message crosses, a leave is announced; the hibernating room is
// evicted and rebuilt between messages and still knows who is who.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { makeProject, startDev } from "../lib.mjs";
import { connect } from "../ws/wsclient.mjs";
import { npmInstall, bundle, pinned } from "./npm.mjs";

const PARTYSERVER_VERSION = pinned("partyserver", "partyserver");
let modules;

before(() => {
  modules = npmInstall("partyserver");
});

const ROOM = `
import { Server, routePartykitRequest } from "partyserver";

const built = { Chat: 0, HibernatingChat: 0 };

class Room extends Server {
  constructor(ctx, env) {
    super(ctx, env);
    built[this.constructor.name]++;
  }
  onConnect(conn, { request }) {
    conn.setState({ user: new URL(request.url).searchParams.get("user") });
    this.broadcast(conn.state.user + " joined " + this.name);
  }
  onMessage(conn, message) {
    if (message === "built?") return conn.send("built " + built[this.constructor.name]);
    this.broadcast(conn.state.user + ": " + message);
  }
  onClose(conn) {
    this.broadcast(conn.state.user + " left", [conn.id]);
  }
}
export class Chat extends Room { static options = { hibernate: false }; }
export class HibernatingChat extends Room { static options = { hibernate: true }; }

export default {
  async fetch(request, env) {
    return (await routePartykitRequest(request, env)) ?? new Response("Not found", { status: 404 });
  },
};
`;

async function project() {
  const dir = makeProject({
    "wrangler.jsonc": JSON.stringify({
      name: "party", main: "dist/worker.js", compatibility_date: "2026-11-01",
      durable_objects: { bindings: [{ name: "Chat", class_name: "Chat" }, { name: "HibernatingChat", class_name: "HibernatingChat" }] },
      migrations: [{ tag: "v1", new_sqlite_classes: ["Chat", "HibernatingChat"] }],
    }),
    "src/index.js": ROOM,
  });
  const r = await bundle(path.join(dir, "src", "index.js"), modules, path.join(dir, "dist", "worker.js"));
  assert.deepEqual(r.errors, []);
  return dir;
}

for (const [party, hibernate] of [["chat", false], ["hibernating-chat", true]]) {
  test(`partyserver ${PARTYSERVER_VERSION}, ${hibernate ? "hibernating" : "non-hibernating"} room: two clients, a message crosses`, async () => {
    const dir = await project();
    const srv = await startDev(dir, ["--persist-to", path.join(dir, ".durable"), "--idle-timeout-ms", "200"]);
    try {
      const ann = await connect(srv.port, `/parties/${party}/lobby?user=ann`);
      assert.equal(await ann.message(), "ann joined lobby");
      const bob = await connect(srv.port, `/parties/${party}/lobby?user=bob`);
      assert.equal(await ann.message(), "bob joined lobby");
      assert.equal(await bob.message(), "bob joined lobby");
      ann.send("hello bob");
      assert.equal(await bob.message(), "ann: hello bob");
      assert.equal(await ann.message(), "ann: hello bob");

      if (hibernate) {
        // Wait until the room has left memory (its sockets stay open): the next
        // message builds a new instance, which finds ann and bob in its attachments.
        let built = 1;
        for (let i = 0; i < 60 && built === 1; i++) {
          await new Promise((r) => setTimeout(r, 250));
          bob.send("built?");
          built = Number((await bob.message()).split(" ")[1]);
        }
        assert.ok(built > 1, "the hibernating room was evicted and rebuilt");
      } else {
        // Open standard sockets keep the room in memory (WS-22).
        await new Promise((r) => setTimeout(r, 600));
        bob.send("built?");
        assert.equal(await bob.message(), "built 1");
      }
      bob.send("still here");
      assert.equal(await ann.message(), "bob: still here");
      assert.equal(await bob.message(), "bob: still here");

      ann.close(1000, "bye");
      assert.equal((await ann.closed()).code, 1000);
      assert.equal(await bob.message(), "ann left");
      bob.destroy();
      assert.equal((await fetch(srv.url + "/nowhere")).status, 404);
      assert.doesNotMatch(srv.logs(), /error|exception/i);
    } finally {
      assert.equal((await srv.stop()).code, 0);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
