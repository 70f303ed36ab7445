// One SQLite-backed object: each request inserts a row and returns count(*).
// The table is created in the constructor.
import { DurableObject } from "cloudflare:workers";
export class Table extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)");
  }
  add(v) {
    this.sql.exec("INSERT INTO t(v) VALUES (?)", v);
    return this.sql.exec("SELECT count(*) AS n FROM t").toArray()[0].n;
  }
}
export default {
  async fetch(request, env) {
    const n = await env.TABLE.getByName("bench").add("x");
    return new Response(String(n));
  },
};
