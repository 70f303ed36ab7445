/* Unit tests for page capture (src/storage/frames.c, frames.h): random workloads of
 * KV and user SQL are captured commit by commit, and a copy rebuilt from the
 * entries (from empty, and from a snapshot taken midway) holds the same content as
 * the original, byte for byte once the original is checkpointed; every malformed
 * entry the header lists is refused with an error naming it, leaving the file as
 * it was. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/fs.h"
#include "storage/frames.h"

static char dir[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/durable-test-frames-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    err e = {0};
    return fs_rm_rf(dir, &e);
}

/* ---- helpers ---- */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void buf_add(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every table of the database at path (the schema, then each table's rows as
 * quoted values, sorted), as one string; also checks the file's integrity. */
static char *dump(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    buf out = {0};
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, ifnull(sql, '') FROM "
                                            "sqlite_schema ORDER BY type, name", -1, &st, NULL),
                     SQLITE_OK);
    char **tables = NULL;
    size_t nt = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        char *line = sqlite3_mprintf("%s %s %s %s\n", type, name, sqlite3_column_text(st, 2),
                                     sqlite3_column_text(st, 3));
        buf_add(&out, line, strlen(line));
        sqlite3_free(line);
        if (strcmp(type, "table") == 0) {
            tables = realloc(tables, (nt + 1) * sizeof *tables);
            tables[nt++] = strdup(name);
        }
    }
    sqlite3_finalize(st);
    for (size_t t = 0; t < nt; t++) {
        /* SELECT quote(c1) || ',' || quote(c2) ... FROM "t" */
        buf q = {0};
        buf_add(&q, "SELECT ''", 9);
        char *sql = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q)", tables[t]);
        sqlite3_stmt *ci = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &ci, NULL), SQLITE_OK);
        sqlite3_free(sql);
        while (sqlite3_step(ci) == SQLITE_ROW) {
            char *c = sqlite3_mprintf(" || ',' || quote(\"%w\")", sqlite3_column_text(ci, 0));
            buf_add(&q, c, strlen(c));
            sqlite3_free(c);
        }
        sqlite3_finalize(ci);
        char *from = sqlite3_mprintf(" FROM \"%w\"", tables[t]);
        buf_add(&q, from, strlen(from));
        sqlite3_free(from);
        assert_int_equal(sqlite3_prepare_v2(db, q.p, -1, &st, NULL), SQLITE_OK);
        char **rows = NULL;
        size_t nr = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            rows = realloc(rows, (nr + 1) * sizeof *rows);
            rows[nr++] = strdup((const char *)sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
        if (nr)
            qsort(rows, nr, sizeof *rows, cmp_str);
        buf_add(&out, tables[t], strlen(tables[t]));
        buf_add(&out, ":\n", 2);
        for (size_t r = 0; r < nr; r++) {
            buf_add(&out, rows[r], strlen(rows[r]));
            buf_add(&out, "\n", 1);
            free(rows[r]);
        }
        free(rows);
        free(q.p);
        free(tables[t]);
    }
    free(tables);
    sqlite3_close(db);
    if (!out.p)
        buf_add(&out, "", 0);
    return out.p;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *len = 0;
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n ? (size_t)n : 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* ---- the workload ---- */

typedef struct entries {
    uint8_t **b;
    size_t *len;
    size_t n;
} entries;

static void take(store *s, entries *es)
{
    uint8_t *b = NULL;
    size_t len = 0;
    err e = {0};
    int rc = store_frames_take(s, &b, &len, &e);
    if (rc < 0)
        fail_msg("take: %s", e.msg);
    if (rc == 0)
        return;
    es->b = realloc(es->b, (es->n + 1) * sizeof *es->b);
    es->len = realloc(es->len, (es->n + 1) * sizeof *es->len);
    es->b[es->n] = b;
    es->len[es->n] = len;
    es->n++;
}

static void sql(store *s, const char *q, const store_sqlv *args, size_t nargs)
{
    err e = {0};
    store_cursor *c = store_sql_exec(s, q, strlen(q), args, nargs, &e);
    if (!c)
        fail_msg("%s: %s", q, e.msg);
    store_cursor_free(c);
}

static void kv_put(store *s, unsigned key, size_t vlen, unsigned seed)
{
    char k[32];
    snprintf(k, sizeof k, "key-%04u", key);
    uint8_t *v = malloc(vlen ? vlen : 1);
    for (size_t i = 0; i < vlen; i++)
        v[i] = (uint8_t)(seed + i * 7);
    err e = {0};
    if (store_kv_put(s, k, strlen(k), v, vlen, &e) < 0)
        fail_msg("put: %s", e.msg);
    free(v);
}

/* One random turn of the object: a few KV or SQL writes. */
static void random_turn(store *s, unsigned *tables, bool *grown)
{
    err e = {0};
    int ops = 1 + rand() % 4;
    for (int i = 0; i < ops; i++) {
        int r = rand() % 100;
        if (r < 35) {
            size_t vlen = rand() % 10 == 0 ? 20000 + (size_t)(rand() % 100000) : (size_t)(rand() % 300);
            kv_put(s, (unsigned)(rand() % 200), vlen, (unsigned)rand());
        } else if (r < 45) {
            char k[32];
            snprintf(k, sizeof k, "key-%04u", (unsigned)(rand() % 200));
            assert_true(store_kv_delete(s, k, strlen(k), &e) >= 0);
        } else if (r < 47) {
            assert_int_equal(store_delete_all(s, rand() % 2, &e), 0);
            *tables = 0;
            *grown = false;
        } else if (r < 49) {
            assert_int_equal(store_alarm_set(s, rand() % 2 ? 1000 + rand() : -1, &e), 0);
        } else if (r < 53 || *tables == 0) {
            /* No primary key (a rowid table), an index on it. */
            char q[160];
            snprintf(q, sizeof q, "CREATE TABLE IF NOT EXISTS t%u (a, b TEXT); CREATE INDEX IF NOT "
                     "EXISTS t%u_b ON t%u (b)", *tables, *tables, *tables);
            sql(s, q, NULL, 0);
            (*tables)++;
        } else if (r < 55 && *tables > 1) {
            char q[96];
            snprintf(q, sizeof q, "DROP TABLE IF EXISTS t%u", (unsigned)(rand() % *tables));
            sql(s, q, NULL, 0);
        } else if (r < 57 && !*grown) {
            sql(s, "CREATE TABLE IF NOT EXISTS t0 (a, b TEXT)", NULL, 0);
            sql(s, "ALTER TABLE t0 ADD COLUMN c INTEGER DEFAULT 7", NULL, 0);
            *grown = true;
        } else if (r < 85) {
            char q[160];
            unsigned t = (unsigned)(rand() % *tables);
            snprintf(q, sizeof q, "CREATE TABLE IF NOT EXISTS t%u (a, b TEXT); INSERT INTO t%u (a, b) "
                     "VALUES (?1, ?2)", t, t);
            char text[64];
            snprintf(text, sizeof text, "row %d", rand() % 1000);
            store_sqlv args[2] = {{.kind = SQLV_INT, .i = rand()},
                                  {.kind = SQLV_TEXT, .p = text, .len = strlen(text)}};
            if (rand() % 8 == 0) {   /* a blob that overflows onto many pages */
                size_t n = 5000 + (size_t)(rand() % 200000);
                uint8_t *blob = malloc(n);
                for (size_t j = 0; j < n; j++)
                    blob[j] = (uint8_t)rand();
                args[0] = (store_sqlv){.kind = SQLV_BLOB, .p = blob, .len = n};
                sql(s, q, args, 2);
                free(blob);
            } else {
                sql(s, q, args, 2);
            }
        } else {
            char q[128];
            unsigned t = (unsigned)(rand() % *tables);
            snprintf(q, sizeof q, "CREATE TABLE IF NOT EXISTS t%u (a, b TEXT); DELETE FROM t%u "
                     "WHERE rowid %% 3 = %d", t, t, rand() % 3);
            sql(s, q, NULL, 0);
        }
    }
}

static void rebuild(const char *path, const uint8_t *image, size_t image_len, const entries *es,
                    size_t from)
{
    size_t n = es->n - from;
    frames_entry *fe = calloc(n ? n : 1, sizeof *fe);
    for (size_t i = 0; i < n; i++)
        fe[i] = (frames_entry){es->b[from + i], es->len[from + i]};
    err e = {0};
    if (frames_rebuild(path, image, image_len, fe, n, &e) < 0)
        fail_msg("rebuild: %s", e.msg);
    free(fe);
}

static void checkpoint(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void run_workload(unsigned seed, int turns)
{
    srand(seed);
    store_shard *sh = store_shard_new(rand() % 2 ? STORE_DURABILITY_POWER : STORE_DURABILITY_PROCESS, 8);
    store_shard_capture(sh, true);
    char p[256], a[256], b[256];
    snprintf(p, sizeof p, "%s/w%u/orig.sqlite", dir, seed);
    snprintf(a, sizeof a, "%s/w%u/from-empty.sqlite", dir, seed);
    snprintf(b, sizeof b, "%s/w%u/from-snapshot.sqlite", dir, seed);
    store *s = store_new(sh, p, STORE_BACKEND_SQL);
    entries es = {0};
    uint8_t *image = NULL;
    size_t image_len = 0, image_at = 0;
    int snap_turn = rand() % turns;
    unsigned tables = 0;
    bool grown = false, checkpointed = false;
    err e = {0};
    for (int t = 0; t < turns; t++) {
        if (t == snap_turn) {
            assert_true(store_snapshot(s, &image, &image_len, &e) >= 0);
            image_at = es.n;
        }
        if (rand() % 20 == 0) {
            /* A turn that writes enough to spill pages into the WAL, rolled back:
             * SQLite rewinds the WAL and the next commit writes over those frames. */
            for (int i = 0; i < 12; i++)
                kv_put(s, 1000 + (unsigned)i, 100000, (unsigned)rand());
            store_rollback(s);
        }
        random_turn(s, &tables, &grown);
        if (rand() % 10 == 0 && store_savepoint(s, &e) == 0) {
            kv_put(s, 7, 50, 1);
            assert_int_equal(store_rollback_to(s, &e), 0);
        }
        if (store_commit(s, &e) < 0)
            fail_msg("commit: %s", e.msg);
        take(s, &es);
        if (rand() % 15 == 0)
            store_close_idle(s);   /* the WAL is found again after reopening */
        checkpointed = checkpointed || file_size(p) > 65536;
    }
    /* Past 1000 frames capture checkpoints the WAL (SQLite's auto-checkpoint is off
     * while the hook is installed, and closing never checkpoints): before that the
     * database file holds only what the switch to WAL wrote. */
    assert_true(checkpointed);
    store_free(s);
    store_shard_free(sh);
    char *want_dump = dump(p);

    rebuild(a, NULL, 0, &es, 0);
    if (image)
        rebuild(b, image, image_len, &es, image_at);
    /* byte for byte, once the original's WAL is in its file */
    checkpoint(p);
    size_t ol, al;
    uint8_t *ob = read_file(p, &ol), *ab = read_file(a, &al);
    assert_int_equal(ol, al);
    assert_memory_equal(ob, ab, ol);
    free(ob);
    free(ab);
    assert_int_not_equal(access(p, F_OK), -1);
    char *got = dump(a);
    assert_string_equal(got, want_dump);
    free(got);
    if (image) {
        got = dump(b);
        assert_string_equal(got, want_dump);
        free(got);
    }
    free(want_dump);
    free(image);
    for (size_t i = 0; i < es.n; i++)
        free(es.b[i]);
    free(es.b);
    free(es.len);
}

static void test_random_workloads(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 6; seed++)
        run_workload(seed, 260);
}

/* The copy follows the original at every step, not only at the end. */
static void test_copy_follows_each_commit(void **state)
{
    (void)state;
    srand(99);
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    store_shard_capture(sh, true);
    char p[256], a[256];
    snprintf(p, sizeof p, "%s/step/orig.sqlite", dir);
    snprintf(a, sizeof a, "%s/step/copy.sqlite", dir);
    store *s = store_new(sh, p, STORE_BACKEND_SQL);
    unsigned tables = 0;
    bool grown = false;
    err e = {0};
    for (int t = 0; t < 40; t++) {
        random_turn(s, &tables, &grown);
        assert_int_equal(store_commit(s, &e), 0);
        entries es = {0};
        take(s, &es);
        rebuild(a, NULL, 0, &es, 0);   /* onto the copy as it is */
        store_close_idle(s);
        char *want = dump(p), *got = dump(a);
        assert_string_equal(got, want);
        free(want);
        free(got);
        for (size_t i = 0; i < es.n; i++)
            free(es.b[i]);
        free(es.b);
        free(es.len);
    }
    store_free(s);
    store_shard_free(sh);
}

/* The size of what one small KV put sends to PostgreSQL. */
static void test_small_put_entry_size(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    store_shard_capture(sh, true);
    char p[256];
    snprintf(p, sizeof p, "%s/small/orig.sqlite", dir);
    store *s = store_new(sh, p, STORE_BACKEND_KV);
    err e = {0};
    entries es = {0};
    kv_put(s, 1, 10, 1);
    assert_int_equal(store_commit(s, &e), 0);
    take(s, &es);
    kv_put(s, 2, 10, 2);   /* a key and a 10-byte value into an existing _cf_KV */
    assert_int_equal(store_commit(s, &e), 0);
    take(s, &es);
    assert_int_equal(es.n, 2);
    print_message("entry for a first put (creates _cf_KV): %zu bytes; for a small put: %zu bytes\n",
                  es.len[0], es.len[1]);
    assert_true(es.len[1] < 200);
    /* Nothing written, nothing to take. */
    uint8_t *b = NULL;
    size_t len = 0;
    assert_int_equal(store_frames_take(s, &b, &len, &e), 0);
    store_free(s);
    store_shard_free(sh);
    for (size_t i = 0; i < es.n; i++)
        free(es.b[i]);
    free(es.b);
    free(es.len);
}

static void test_capture_off_takes_nothing(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    char p[256];
    snprintf(p, sizeof p, "%s/off/orig.sqlite", dir);
    store *s = store_new(sh, p, STORE_BACKEND_KV);
    err e = {0};
    kv_put(s, 1, 10, 1);
    assert_int_equal(store_commit(s, &e), 0);
    uint8_t *b = NULL;
    size_t len = 0;
    assert_int_equal(store_frames_take(s, &b, &len, &e), 0);
    assert_null(b);
    /* A snapshot works without capture, and an object with no file has none. */
    assert_int_equal(store_snapshot(s, &b, &len, &e), 1);
    assert_true(len >= 4096 && memcmp(b, "SQLite format 3", 15) == 0);
    free(b);
    store_free(s);
    snprintf(p, sizeof p, "%s/off/absent.sqlite", dir);
    s = store_new(sh, p, STORE_BACKEND_KV);
    assert_int_equal(store_snapshot(s, &b, &len, &e), 0);
    store_free(s);
    store_shard_free(sh);
}

/* ---- malformed entries ---- */

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* An entry with `raw` compressed under a header that claims raw_len. */
static uint8_t *make_entry(const char *magic, uint32_t ps, uint32_t db_pages, uint32_t raw_len,
                           const uint8_t *raw, size_t n, size_t *len)
{
    uLongf zl = compressBound((uLong)n);
    uint8_t *b = malloc(16 + zl);
    memcpy(b, magic, 4);
    le32(b + 4, ps);
    le32(b + 8, db_pages);
    le32(b + 12, raw_len);
    assert_int_equal(compress2(b + 16, &zl, raw, (uLong)n, 9), Z_OK);
    *len = 16 + zl;
    return b;
}

/* n pages of size ps numbered pgnos[i], filled with i. */
static uint8_t *make_raw(uint32_t ps, const uint32_t *pgnos, size_t n, size_t *len)
{
    *len = n * (4 + ps);
    uint8_t *r = calloc(1, *len ? *len : 1);
    for (size_t i = 0; i < n; i++) {
        le32(r + i * (4 + ps), pgnos[i]);
        memset(r + i * (4 + ps) + 4, (int)i + 1, ps);
        if (pgnos[i] == 1) {   /* the page size where SQLite keeps it */
            r[i * (4 + ps) + 4 + 16] = (uint8_t)(ps >> 8);
            r[i * (4 + ps) + 4 + 17] = (uint8_t)(ps == 65536 ? 1 : ps);
        }
    }
    return r;
}

/* rebuild refuses b (as the second entry, after a good one): an error naming
 * entry 1, and the file untouched. */
static void refused(const char *path, const uint8_t *good, size_t good_len, const uint8_t *b,
                    size_t len, const char *why)
{
    size_t before_len, after_len;
    uint8_t *before = read_file(path, &before_len);
    frames_entry fe[2] = {{good, good_len}, {b, len}};
    err e = {0};
    int rc = frames_rebuild(path, NULL, 0, fe, 2, &e);
    if (rc >= 0)
        fail_msg("accepted: %s", why);
    if (!strstr(e.msg, "entry 1 of 2"))
        fail_msg("%s: message does not name the entry: %s", why, e.msg);
    uint8_t *after = read_file(path, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);
}

static void test_malformed_entries_refused(void **state)
{
    (void)state;
    char p[256];
    snprintf(p, sizeof p, "%s/bad/copy.sqlite", dir);
    const uint32_t ps = 512;
    uint32_t two[] = {1, 2};
    size_t rl, gl, bl;
    uint8_t *raw = make_raw(ps, two, 2, &rl);
    uint8_t *good = make_entry("DFR1", ps, 2, (uint32_t)rl, raw, rl, &gl);
    frames_entry fe = {good, gl};
    err e = {0};
    assert_int_equal(frames_rebuild(p, NULL, 0, &fe, 1, &e), 0);
    assert_int_equal(file_size(p), 1024);
    uint8_t *b;

    /* every truncation of a good entry */
    for (size_t n = 0; n < gl; n++)
        refused(p, good, gl, good, n, "truncated");
    /* trailing bytes after the stream */
    b = malloc(gl + 3);
    memcpy(b, good, gl);
    memcpy(b + gl, "xyz", 3);
    refused(p, good, gl, b, gl + 3, "trailing bytes");
    free(b);
    b = make_entry("DFR2", ps, 2, (uint32_t)rl, raw, rl, &bl);
    refused(p, good, gl, b, bl, "wrong magic");
    free(b);
    const uint32_t bad_ps[] = {0, 1, 256, 511, 1000, 131072, 0xffffffffu};
    for (size_t i = 0; i < sizeof bad_ps / sizeof *bad_ps; i++) {
        b = make_entry("DFR1", bad_ps[i], 2, (uint32_t)rl, raw, rl, &bl);
        refused(p, good, gl, b, bl, "bad page size");
        free(b);
    }
    /* a good entry of another page size than the file's */
    uint32_t one[] = {1};
    size_t rl4;
    uint8_t *raw4 = make_raw(1024, one, 1, &rl4);
    b = make_entry("DFR1", 1024, 1, (uint32_t)rl4, raw4, rl4, &bl);
    refused(p, good, gl, b, bl, "page size not the file's");
    free(raw4);
    free(b);
    /* pgno 0, pgno past db_pages */
    uint32_t zero[] = {1, 0}, past[] = {1, 3};
    size_t xl;
    uint8_t *x = make_raw(ps, zero, 2, &xl);
    b = make_entry("DFR1", ps, 2, (uint32_t)xl, x, xl, &bl);
    refused(p, good, gl, b, bl, "pgno 0");
    free(b);
    free(x);
    x = make_raw(ps, past, 2, &xl);
    b = make_entry("DFR1", ps, 2, (uint32_t)xl, x, xl, &bl);
    refused(p, good, gl, b, bl, "pgno beyond db_pages");
    free(b);
    free(x);
    /* raw_len: not a multiple of a record, more or less than what inflates */
    b = make_entry("DFR1", ps, 2, (uint32_t)rl - 1, raw, rl, &bl);
    refused(p, good, gl, b, bl, "raw_len not a multiple");
    free(b);
    b = make_entry("DFR1", ps, 2, (uint32_t)rl / 2, raw, rl, &bl);
    refused(p, good, gl, b, bl, "raw_len below what inflates");
    free(b);
    b = make_entry("DFR1", ps, 2, (uint32_t)rl * 2, raw, rl, &bl);
    refused(p, good, gl, b, bl, "raw_len above what inflates");
    free(b);
    b = make_entry("DFR1", ps, 2, (uint32_t)rl, raw, rl / 2, &bl);
    refused(p, good, gl, b, bl, "half the pages");
    free(b);
    /* raw_len over FRAMES_RAW_MAX, and a stream of 512 MiB of zeros under a
     * header that claims one page (a zip bomb: refused after one byte too many) */
    uint32_t big = (FRAMES_RAW_MAX / (4 + ps) + 1) * (4 + ps);
    b = make_entry("DFR1", ps, 2, big, raw, rl, &bl);
    refused(p, good, gl, b, bl, "raw_len over FRAMES_RAW_MAX");
    free(b);
    {
        z_stream z;
        memset(&z, 0, sizeof z);
        assert_int_equal(deflateInit(&z, 9), Z_OK);
        size_t cap = 1u << 20;
        uint8_t *bomb = malloc(16 + cap), *zeros = calloc(1, 1u << 20);
        memcpy(bomb, "DFR1", 4);
        le32(bomb + 4, ps);
        le32(bomb + 8, 0xffffffffu);
        le32(bomb + 12, 4 + ps);
        z.next_out = bomb + 16;
        z.avail_out = (uInt)cap;
        for (int i = 0; i < 512; i++) {
            z.next_in = zeros;
            z.avail_in = 1u << 20;
            le32(zeros, 1);   /* pgno 1 at the start of the stream */
            assert_int_equal(deflate(&z, i == 511 ? Z_FINISH : Z_NO_FLUSH), i == 511 ? Z_STREAM_END : Z_OK);
            memset(zeros, 0, 4);
        }
        size_t blen = 16 + cap - z.avail_out;
        deflateEnd(&z);
        refused(p, good, gl, bomb, blen, "zip bomb");
        free(bomb);
        free(zeros);
    }
    /* random corruption never crashes (most of it is refused by the checksum) */
    srand(5);
    b = malloc(gl);
    for (int i = 0; i < 200; i++) {
        memcpy(b, good, gl);
        b[(size_t)rand() % gl] ^= (uint8_t)(1 + rand() % 255);
        frames_entry f2[2] = {{good, gl}, {b, gl}};
        unlink(p);   /* a flip in db_pages may leave a valid entry of a huge (sparse) file */
        frames_rebuild(p, NULL, 0, f2, 2, &e);
    }
    free(b);
    free(raw);
    free(good);
}

/* A 0-page entry (the file removed) truncates the copy to nothing; the rebuild
 * removes a -wal and a -journal left beside the file. */
static void test_truncate_entry_and_leftovers(void **state)
{
    (void)state;
    char p[256], w[300], j[300];
    snprintf(p, sizeof p, "%s/trunc/copy.sqlite", dir);
    snprintf(w, sizeof w, "%s-wal", p);
    snprintf(j, sizeof j, "%s-journal", p);
    uint32_t one[] = {1};
    size_t rl, gl, zl;
    uint8_t *raw = make_raw(4096, one, 1, &rl);
    uint8_t *good = make_entry("DFR1", 4096, 1, (uint32_t)rl, raw, rl, &gl);
    uint8_t *zero = make_entry("DFR1", 4096, 0, 0, NULL, 0, &zl);
    frames_entry fe[2] = {{good, gl}, {zero, zl}};
    err e = {0};
    assert_int_equal(frames_rebuild(p, NULL, 0, fe, 1, &e), 0);
    assert_int_equal(file_size(p), 4096);
    FILE *f = fopen(w, "w");
    fputs("stale", f);
    fclose(f);
    f = fopen(j, "w");
    fputs("stale", f);
    fclose(f);
    assert_int_equal(frames_rebuild(p, NULL, 0, fe + 1, 1, &e), 0);
    assert_int_equal(file_size(p), 0);
    assert_int_equal(access(w, F_OK), -1);
    assert_int_equal(access(j, F_OK), -1);
    /* from an image, which replaces what the file held */
    uint8_t img[8192];
    memset(img, 9, sizeof img);
    img[16] = 0x10;   /* page size 4096 */
    img[17] = 0;
    assert_int_equal(frames_rebuild(p, img, sizeof img, fe, 1, &e), 0);
    size_t n;
    uint8_t *got = read_file(p, &n);
    assert_int_equal(n, 4096);   /* the entry says 1 page */
    assert_int_equal(got[0], 1);
    assert_int_equal(got[4095], 1);
    free(got);
    free(raw);
    free(good);
    free(zero);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_workloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_follows_each_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_put_entry_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capture_off_takes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_entries_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate_entry_and_leftovers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
