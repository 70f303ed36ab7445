// Used by bench/cold-objects: GET /o/<name> reaches a new object (getByName), which
// reads "n" from its storage, writes n+1 and returns n (0 on its first request).
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
    if (!path.startsWith("/o/")) return new Response("up\n");
    const n = await env.COUNTER.getByName(path.slice(3)).bump();
    return new Response(String(n));
  },
};
