// One chat room: every WebSocket upgrade goes to one object (idFromName("room")),
// which accepts it with the Hibernation API; each message is sent to every socket of
// the room, the sender included. GET without an upgrade answers "ok" (readiness check).
import { DurableObject } from "cloudflare:workers";
export class Room extends DurableObject {
  async fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
  webSocketMessage(ws, message) {
    for (const s of this.ctx.getWebSockets()) s.send(message);
  }
  webSocketClose(ws, code, reason) {
    // answered by the runtime (close handshake); nothing to do
  }
}
export default {
  fetch(request, env) {
    if (request.headers.get("Upgrade") !== "websocket") return new Response("ok");
    return env.ROOM.getByName("room").fetch(request);
  },
};
