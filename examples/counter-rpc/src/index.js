// A counter reached by RPC: each name is its own object with its own count.
//   curl http://127.0.0.1:8787/?name=a&amount=5
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  count = 0;

  increment(amount = 1) {
    this.count += amount;
    return this.count;
  }

  get value() {
    return this.count;
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "default";
    const amount = Number(url.searchParams.get("amount") ?? "1");
    const counter = env.COUNTER.getByName(name);
    const value = await counter.increment(amount);
    return Response.json({ name, value });
  },
};
