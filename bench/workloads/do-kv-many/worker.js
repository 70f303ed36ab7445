// Requests spread over 10,000 objects: the object's name is the last path segment
// (wrk.lua cycles /o/0 … /o/9999). Each object reads "n", writes n+1 and returns n.
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  async bump() {
    const n = (await this.ctx.storage.get("n")) ?? 0;
    await this.ctx.storage.put("n", n + 1);
    return n;
  }
}
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    const name = path.slice(path.lastIndexOf("/") + 1) || "0";
    const n = await env.COUNTER.getByName(name).bump();
    return new Response(String(n));
  },
};
