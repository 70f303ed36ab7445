// cluster-rpc-latency: GET /p/<name> makes one RPC call, ping(), to the object named
// <name> (no storage), so the request's latency is the HTTP request plus one stub
// call; bench/cluster makes the object owned by the same node or by another one.
import { DurableObject } from "cloudflare:workers";
export class Pinger extends DurableObject {
  ping() { return 1; }
}
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    const name = path.slice(path.lastIndexOf("/") + 1) || "0";
    return new Response(String(await env.PINGER.getByName(name).ping()));
  },
};
