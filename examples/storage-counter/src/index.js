// A counter kept in storage. The constructor loads the value under
// blockConcurrencyWhile, so no request ever sees it before it is loaded.
//   /increment, /decrement, / (read); ?name=<counter> picks the counter (default "A").
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.value = (await ctx.storage.get("value")) ?? 0;
    });
  }

  async fetch(request) {
    switch (new URL(request.url).pathname) {
      case "/increment":
        this.value++;
        break;
      case "/decrement":
        this.value--;
        break;
      case "/":
        return new Response(String(this.value));
      default:
        return new Response("Not found", { status: 404 });
    }
    // Not awaited on purpose: the output gate holds the response until the write is durable.
    this.ctx.storage.put("value", this.value);
    return new Response(String(this.value));
  }
}

export default {
  async fetch(request, env) {
    const name = new URL(request.url).searchParams.get("name") ?? "A";
    return env.COUNTER.getByName(name).fetch(request);
  },
};
