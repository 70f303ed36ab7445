// Stores a request body under a key and gives it back.
//   curl -X PUT --data 'hello' http://127.0.0.1:8787/greeting   -> 201 "hello"
//   curl http://127.0.0.1:8787/greeting                          -> 200 "hello"
//   curl -X DELETE http://127.0.0.1:8787/greeting                -> 200 "deleted"
// Every key lives in one object ("echo"); the body is kept as bytes (an ArrayBuffer).
import { DurableObject } from "cloudflare:workers";

export class Echo extends DurableObject {
  async fetch(request) {
    const key = decodeURIComponent(new URL(request.url).pathname.slice(1));
    if (key === "") return new Response("Usage: PUT /<key> with a body, GET /<key>, DELETE /<key>\n", { status: 400 });
    const storage = this.ctx.storage;
    switch (request.method) {
      case "PUT":
      case "POST": {
        const body = await request.arrayBuffer();
        await storage.put(key, body);
        return new Response(body, { status: 201 });
      }
      case "GET": {
        const body = await storage.get(key);
        if (body === undefined) return new Response("Not found\n", { status: 404 });
        return new Response(body);
      }
      case "DELETE":
        return (await storage.delete(key)) ? new Response("deleted") : new Response("Not found\n", { status: 404 });
      default:
        return new Response("Method not allowed\n", { status: 405 });
    }
  }
}

export default {
  async fetch(request, env) {
    return env.ECHO.getByName("echo").fetch(request);
  },
};
