// Every request calls one object's RPC method, which counts in memory.
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  n = 0;
  increment() {
    return ++this.n;
  }
}
export default {
  async fetch(request, env) {
    const n = await env.COUNTER.getByName("bench").increment();
    return new Response(String(n));
  },
};
