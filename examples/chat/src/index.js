// A chat room on the WebSocket Hibernation API.
//   GET /                       the page (src/page.js)
//   GET /room/<room>?user=<n>   WebSocket: joins the Room object named <room>
// Client -> room: a text message is something said. Room -> client: JSON,
//   {type:"history", messages:[{user,text,at}...]}  once, right after joining
//   {type:"join"|"leave", user, users:[...]}        someone came or went
//   {type:"message", user, text, at}                something said (to everyone)
//   {type:"error", error}                           a message the room refused
// The room keeps the last HISTORY messages in its SQLite storage. Between messages
// it may be evicted from memory (hibernated); the sockets stay open and each keeps
// its user name in its attachment, so a new instance knows who is who.
import { DurableObject } from "cloudflare:workers";
import { PAGE } from "./page.js";

const HISTORY = 50;          // messages kept and sent to a newcomer
const MAX_TEXT = 2000;       // characters in one message
const NAME = /^[\w.-]{1,32}$/;

export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    // The constructor runs again each time the room wakes from hibernation.
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS messages(
      id INTEGER PRIMARY KEY, user TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL)`);
    // A ping the client sends to keep its connection alive is answered without waking us.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  async fetch(request) {
    const user = new URL(request.url).searchParams.get("user") ?? "";
    if (!NAME.test(user)) return new Response("user: 1-32 letters, digits, '_', '.' or '-'\n", { status: 400 });
    const [client, server] = Object.values(new WebSocketPair());
    // Tagged with the user name: getWebSockets(user) finds every tab of one user.
    this.ctx.acceptWebSocket(server, [user]);
    server.serializeAttachment({ user, joined: Date.now() });
    const messages = this.ctx.storage.sql
      .exec("SELECT user, text, at FROM messages ORDER BY id DESC LIMIT ?", HISTORY)
      .toArray().reverse();
    server.send(JSON.stringify({ type: "history", messages }));
    this.broadcast({ type: "join", user, users: this.users() });
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, message) {
    const { user } = ws.deserializeAttachment();
    if (typeof message !== "string" || message.length === 0 || message.length > MAX_TEXT) {
      ws.send(JSON.stringify({ type: "error", error: `a message is text of 1 to ${MAX_TEXT} characters` }));
      return;
    }
    const at = Date.now();
    const sql = this.ctx.storage.sql;
    sql.exec("INSERT INTO messages(user, text, at) VALUES (?, ?, ?)", user, message, at);
    sql.exec("DELETE FROM messages WHERE id <= (SELECT max(id) FROM messages) - ?", HISTORY);
    this.broadcast({ type: "message", user, text: message, at });
  }

  async webSocketClose(ws, code, reason, wasClean) {
    this.left(ws);
  }

  async webSocketError(ws, error) {
    this.left(ws);
  }

  left(ws) {
    const { user } = ws.deserializeAttachment();
    this.broadcast({ type: "leave", user, users: this.users(ws) }, ws);
  }

  // The names of everyone connected (one per name), leaving out the socket `gone`.
  users(gone) {
    const names = this.ctx.getWebSockets().filter((ws) => ws !== gone)
      .map((ws) => ws.deserializeAttachment().user);
    return [...new Set(names)].sort();
  }

  broadcast(msg, except) {
    const text = JSON.stringify(msg);
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except) continue;
      try { ws.send(text); } catch { /* closing: its webSocketClose will follow */ }
    }
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/") {
      return new Response(PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
    }
    const m = /^\/room\/([\w.-]{1,64})$/.exec(url.pathname);
    if (!m) return new Response("Not found\n", { status: 404 });
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade\n", { status: 426 });
    }
    return env.ROOMS.getByName(m[1]).fetch(request);
  },
};
