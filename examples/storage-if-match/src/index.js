// Optimistic concurrency with If-Match: a document has a body and a version number.
//   GET /doc            -> 200 body, ETag: "<version>" (version 0 and "" when new)
//   PUT /doc + If-Match: "<version>" + body
//       -> 200 with the new ETag if the version matched (the write is stored), or
//       -> 412 Precondition Failed if it did not (the transaction is rolled back).
// A PUT without If-Match is refused with 428.
import { DurableObject } from "cloudflare:workers";

const etag = (version) => `"${version}"`;

export class Document extends DurableObject {
  async fetch(request) {
    const storage = this.ctx.storage;
    if (request.method === "GET") {
      const [version, body] = await Promise.all([storage.get("version"), storage.get("body")]);
      return new Response(body ?? "", { headers: { ETag: etag(version ?? 0) } });
    }
    if (request.method !== "PUT") return new Response("Method not allowed\n", { status: 405 });
    const ifMatch = request.headers.get("If-Match");
    if (ifMatch === null) return new Response("If-Match required\n", { status: 428 });
    const body = await request.text();
    // Both writes happen before the version check on purpose: rollback() discards them.
    const result = await storage.transaction(async (txn) => {
      const current = (await txn.get("version")) ?? 0;
      await txn.put("body", body);
      await txn.put("version", current + 1);
      if (ifMatch !== "*" && ifMatch !== etag(current)) {
        txn.rollback();
        return { status: 412, version: current };
      }
      return { status: 200, version: current + 1 };
    });
    const text = result.status === 200 ? "updated\n" : "version mismatch\n";
    return new Response(text, { status: result.status, headers: { ETag: etag(result.version) } });
  }
}

export default {
  async fetch(request, env) {
    const name = new URL(request.url).pathname.slice(1) || "doc";
    return env.DOCUMENTS.getByName(name).fetch(request);
  },
};
