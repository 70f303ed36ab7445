// Every request calls one object (RPC), which reads "n" from its storage, writes n+1
// and returns n: one storage get and one put per request, all on the same object.
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
    const n = await env.COUNTER.getByName("bench").bump();
    return new Response(String(n));
  },
};
