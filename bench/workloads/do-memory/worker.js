// Every request goes to one object that counts in memory (stub.fetch).
export class Counter {
  constructor(state, env) {
    this.n = 0;
  }
  fetch() {
    return new Response(String(++this.n));
  }
}
export default {
  fetch(request, env) {
    return env.COUNTER.get(env.COUNTER.idFromName("bench")).fetch(request);
  },
};
