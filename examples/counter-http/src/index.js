// The classic Durable Object counter, spoken to over HTTP with stub.fetch():
//   /increment, /decrement, / (read) and 404 for anything else.
// The count lives in the instance's memory; the storage version of this example
// (ctx.storage) arrives with durable's storage layer.
export class Counter {
  constructor(state, env) {
    this.state = state;
    this.value = 0;
  }

  async fetch(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/increment":
        ++this.value;
        break;
      case "/decrement":
        --this.value;
        break;
      case "/":
        break;
      default:
        return new Response("Not found", { status: 404 });
    }
    return new Response(String(this.value));
  }
}

export default {
  async fetch(request, env) {
    const name = new URL(request.url).searchParams.get("name") ?? "A";
    const id = env.COUNTER.idFromName(name);
    const stub = env.COUNTER.get(id);
    return stub.fetch(request);
  },
};
