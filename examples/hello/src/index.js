// The smallest Worker: answers every request with a greeting.
// Try: curl http://127.0.0.1:8787/ and curl http://127.0.0.1:8787/json
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/json") {
      return Response.json({ greeting: env.GREETING, path: url.pathname });
    }
    return new Response(`${env.GREETING} from durable!\n`);
  },
};
