// The throw-away PostgreSQL helper the cluster tests stand on (pg.mjs): it starts,
// answers, survives a restart and a crash with its data, and leaves nothing behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { startPostgres } from "./pg.mjs";

test("startPostgres: a throw-away server that restarts, recovers from a crash and is removed", async () => {
  const pg = await startPostgres();
  try {
    assert.match(pg.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    await pg.psql("CREATE TABLE t(x int); INSERT INTO t VALUES (1)");
    await pg.restart();
    assert.equal((await pg.psql("SELECT count(*) FROM t")).trim(), "1");
    await pg.psql("INSERT INTO t VALUES (2)");
    await pg.kill();
    await assert.rejects(pg.psql("SELECT 1"));
    await pg.start();
    assert.equal((await pg.psql("SELECT sum(x) FROM t")).trim(), "3");
  } finally {
    await pg.stop();
  }
  assert.equal(fs.existsSync(pg.dir), false);
});
