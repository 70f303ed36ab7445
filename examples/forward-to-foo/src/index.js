// A Worker that sends every request to one object, idFromName("foo"), which
// answers with what it saw and how many requests it has served.
export class ExampleClass {
  constructor(state, env) {
    this.state = state;
    this.served = 0;
  }

  async fetch(request) {
    this.served++;
    const url = new URL(request.url);
    return Response.json({
      id: this.state.id.toString(),
      method: request.method,
      path: url.pathname,
      served: this.served,
    });
  }
}

export default {
  async fetch(request, env) {
    const id = env.EXAMPLE_CLASS.idFromName("foo");
    const obj = env.EXAMPLE_CLASS.get(id);
    return obj.fetch(request);
  },
};
