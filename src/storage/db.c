/* db.c: one object's SQLite database — opening (lazily, through a bounded per-shard
 * cache of open handles), its settings and limits, the authorizer that keeps user
 * SQL away from what the spec forbids, the implicit transaction and savepoints
 * (see storage.h). */
#include "storage/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "base/fs.h"
#include "base/metrics.h"

static bool test_hooks;         /* see store_test_hooks (below) */
static int64_t test_max_pages;

/* ---- the shard's cache of open databases ---- */

store_shard *store_shard_new(int durability, size_t open_max)
{
    store_shard *sh = calloc(1, sizeof *sh);
    if (!sh)
        return NULL;
    sh->durability = durability;
    sh->open_max = open_max ? open_max : 256;
    return sh;
}

/* Stores may outlive their shard's context by a little (their JS handles are
 * finalized while the context is freed), so the shard goes with the last of them. */
void store_shard_free(store_shard *sh)
{
    if (!sh)
        return;
    sh->closing = true;
    if (sh->stores == 0)
        free(sh);
}

static void lru_unlink(store *s)
{
    store_shard *sh = s->sh;
    if (s->lru_prev)
        s->lru_prev->lru_next = s->lru_next;
    else if (sh->lru_head == s)
        sh->lru_head = s->lru_next;
    if (s->lru_next)
        s->lru_next->lru_prev = s->lru_prev;
    else if (sh->lru_tail == s)
        sh->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NULL;
}

static void lru_front(store *s)
{
    store_shard *sh = s->sh;
    if (sh->lru_head == s)
        return;
    lru_unlink(s);
    s->lru_next = sh->lru_head;
    if (sh->lru_head)
        sh->lru_head->lru_prev = s;
    sh->lru_head = s;
    if (!sh->lru_tail)
        sh->lru_tail = s;
}

static void db_close(store *s)
{
    if (!s->db)
        return;
    store_cursors_detach(s);
    if (s->in_txn) {
        s->trusted++;
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->trusted--;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(s->st[i]);
        s->st[i] = NULL;
    }
    sqlite3_close_v2(s->db);
    s->db = NULL;
    s->in_txn = false;
    s->savepoints = 0;
    lru_unlink(s);
    s->sh->open_count--;
}

/* Closes least recently used databases that hold nothing open, until the cache is
 * back under its bound. A database with a transaction or a live cursor stays. */
static void lru_trim(store_shard *sh)
{
    store *s = sh->lru_tail;
    while (sh->open_count > sh->open_max && s) {
        store *prev = s->lru_prev;
        if (!s->in_txn && !s->cursors)
            db_close(s);
        s = prev;
    }
}

/* ---- the authorizer (SQL-18..22) ---- */

static bool reserved_name(const char *n)
{
    return n && strncasecmp(n, "_cf_", 4) == 0;
}

static bool in_list(const char *n, const char *const *list)
{
    for (int i = 0; n && list[i]; i++)
        if (strcasecmp(n, list[i]) == 0)
            return true;
    return false;
}

/* SQL functions a Worker has no business with: they load code, hand out pointers
 * into the process (fts3_tokenizer returns one, and its two-argument form installs
 * one), or touch files (readfile/writefile exist only in SQLite's shell, listed in
 * case a build links them). Compared without case, as SQLite resolves names. */
static const char *const functions_denied[] = {
    "load_extension", "fts3_tokenizer", "readfile", "writefile", "edit", "fsdir", "zipfile",
    "sqlar_compress", "sqlar_uncompress", NULL};

/* Eponymous virtual tables that expose the process or the raw file rather than the
 * object's data: prepared statements of the connection, page-level statistics and
 * the raw pages. Reading, writing or creating a table under these names is refused
 * like a _cf_ name. */
static const char *const tables_denied[] = {
    "sqlite_stmt", "dbstat", "sqlite_dbpage", "sqlite_dbdata", "sqlite_dbptr", NULL};

static const char *const modules_allowed[] = {"fts5", "fts5vocab", "rtree", "rtree_i32", NULL};

static bool denied_name(const char *n)
{
    return reserved_name(n) || in_list(n, tables_denied);
}

static const char *const pragmas_allowed[] = {
    "data_version", "table_list", "table_info", "table_xinfo", "index_info", "index_list",
    "index_xinfo", "foreign_key_list", "foreign_key_check", "quick_check", "optimize",
    "case_sensitive_like", "foreign_keys", "defer_foreign_keys", "ignore_check_constraints",
    "legacy_alter_table", "recursive_triggers", "reverse_unordered_selects", NULL};

static int authorize(void *ud, int action, const char *a1, const char *a2, const char *db,
                     const char *trigger)
{
    store *s = ud;
    (void)db;
    (void)trigger;
    if (s->trusted)
        return SQLITE_OK;
    switch (action) {
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        s->deny = "SQL transaction statements (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) "
                  "are not allowed: use ctx.storage.transaction() or "
                  "ctx.storage.transactionSync() instead";
        return SQLITE_DENY;
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        s->deny = "ATTACH and DETACH are not allowed in Durable Object storage";
        return SQLITE_DENY;
    case SQLITE_PRAGMA:
        if (a1 && strcasecmp(a1, "page_size") == 0 && !a2)
            return SQLITE_OK;
        for (int i = 0; a1 && pragmas_allowed[i]; i++)
            if (strcasecmp(a1, pragmas_allowed[i]) == 0)
                return reserved_name(a2) ? SQLITE_DENY : SQLITE_OK;
        s->deny = "this PRAGMA is not allowed in Durable Object storage";
        return SQLITE_DENY;
    case SQLITE_CREATE_VTABLE:
    case SQLITE_DROP_VTABLE:
        if (denied_name(a1))
            break;
        if (in_list(a2, modules_allowed))
            return SQLITE_OK;
        s->deny = "virtual tables may only use the modules fts5, fts5vocab, rtree and rtree_i32";
        return SQLITE_DENY;
    case SQLITE_FUNCTION:
        if (in_list(a2, functions_denied)) {
            snprintf(s->deny_buf, sizeof s->deny_buf, "%s() is not allowed in Durable Object storage",
                     a2);
            s->deny = s->deny_buf;
            return SQLITE_DENY;
        }
        return SQLITE_OK;
    case SQLITE_READ:
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_ANALYZE:
        if (denied_name(a1))
            break;
        return SQLITE_OK;
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_TEMP_TRIGGER:
        if (denied_name(a1) || denied_name(a2))
            break;
        return SQLITE_OK;
    case SQLITE_ALTER_TABLE:
        if (denied_name(a2))
            break;
        return SQLITE_OK;
    default:
        return SQLITE_OK;
    }
    if (!reserved_name(a1) && !reserved_name(a2)) {
        snprintf(s->deny_buf, sizeof s->deny_buf, "access to %s is not authorized in Durable "
                 "Object storage", in_list(a1, tables_denied) ? a1 : a2);
        s->deny = s->deny_buf;
        return SQLITE_DENY;
    }
    s->deny = "access to names beginning with _cf_ is not authorized: they are reserved for "
              "Durable Object storage";
    return SQLITE_DENY;
}

/* ---- the CPU limit for user SQL (LIM-13) ----
 * SQLite calls this every PROGRESS_STEPS virtual-machine instructions. While user
 * SQL runs with a deadline armed (store_deadline_set), a statement that passes it
 * is interrupted: a recursive CTE without end, a cross join without LIMIT. Our own
 * statements (s->trusted) are never interrupted: a commit must finish. */
enum { PROGRESS_STEPS = 1000 };

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int on_progress(void *ud)
{
    store *s = ud;
    if (!s->deadline_ns || s->trusted || now_ns() < s->deadline_ns)
        return 0;
    s->timed_out = true;
    return 1;
}

void store_deadline_set(store *s, uint32_t cpu_ms)
{
    s->cpu_ms = cpu_ms;
    s->deadline_ns = cpu_ms ? now_ns() + (uint64_t)cpu_ms * 1000000u : 0;
}

/* ---- opening ---- */

static int exec_trusted(store *s, const char *sql, err *e)
{
    s->trusted++;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    s->trusted--;
    return rc == SQLITE_OK ? 0 : store_fail(s, e);
}

static void set_limits(sqlite3 *db)
{
    /* SQL-23 / LIM-40..47, as workerd sets them. */
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, (int)STORE_SQL_LENGTH_MAX);
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 100000);
    sqlite3_limit(db, SQLITE_LIMIT_COLUMN, 100);
    sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 100);
    sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 5);
    sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 100);
    sqlite3_limit(db, SQLITE_LIMIT_FUNCTION_ARG, 127);
    sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50);
    sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 10);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
}

/* The hidden tables are created on first use (a SQL-only object has none, as on
 * Cloudflare); this learns which exist, after opening and after a rollback. */
static int hidden_tables_check(store *s, err *e)
{
    sqlite3_stmt *st = NULL;
    s->has_kv = s->has_meta = false;
    s->trusted++;
    int rc = sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND "
                                       "name IN ('_cf_KV', '_cf_METADATA')", -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(st, 0);
        if (n && strcmp(n, "_cf_KV") == 0)
            s->has_kv = true;
        else if (n)
            s->has_meta = true;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    s->trusted--;
    return rc == SQLITE_DONE ? 0 : store_fail(s, e);
}

static bool is_wal(store *s)
{
    sqlite3_stmt *st = NULL;
    bool wal = false;
    s->trusted++;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        wal = m && strcmp(m, "wal") == 0;
    }
    sqlite3_finalize(st);
    s->trusted--;
    return wal;
}

int store_hidden_table(store *s, int which, err *e)
{
    if (which == 0 ? s->has_kv : s->has_meta)
        return 0;
    if (store_begin(s, e) < 0)
        return -1;
    if (exec_trusted(s, which == 0 ? "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, "
                                     "value BLOB) WITHOUT ROWID"
                                   : "CREATE TABLE IF NOT EXISTS _cf_METADATA (key INTEGER "
                                     "PRIMARY KEY, value BLOB)", e) < 0)
        return -1;
    if (which == 0)
        s->has_kv = true;
    else
        s->has_meta = true;
    return 0;
}

int store_open(store *s, bool create, err *e)
{
    if (s->db) {
        lru_front(s);
        return 1;
    }
    struct stat st;
    bool exists = stat(s->path, &st) == 0;
    if (!exists && errno != ENOENT)   /* unreadable, not absent: never answer "empty" */
        return err_setf(e, -EIO, "cannot open the object's database %s: %s", s->path,
                        strerror(errno));
    if (exists && !S_ISREG(st.st_mode))
        return err_setf(e, -EIO, "cannot open the object's database %s: it is a %s, not a "
                        "database file", s->path, S_ISDIR(st.st_mode) ? "directory" : "special file");
    if (!create && !exists)
        return 0;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);
    if (rc == SQLITE_CANTOPEN && create) {
        /* The namespace's folder does not exist yet: make it and try again (only the
         * first object of a namespace pays for the mkdir). */
        sqlite3_close_v2(s->db);
        s->db = NULL;
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", s->path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            if (fs_mkdir_p(dir, e) < 0)
                return -1;
        }
        rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);
    }
    if (rc != SQLITE_OK) {
        err_setf(e, -EIO, "cannot open the object's database %s: %s", s->path,
                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        sqlite3_close_v2(s->db);
        s->db = NULL;
        return -1;
    }
    s->sh->open_count++;
    lru_front(s);
    sqlite3_extended_result_codes(s->db, 1);
    /* No lookaside arena: its default (100 slots of 1200 bytes) would cost every
     * open object ~120 KiB whether it uses it or not (cold-objects memory). */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 0, 0);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
    /* Debian's libsqlite3 is built with the FTS3 tokenizer pointer interface on;
     * the authorizer refuses fts3_tokenizer() as well (SQL-22). */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_WRITABLE_SCHEMA, 0, NULL);
    /* Closing (eviction from the cache) must not checkpoint: that would fsync the
     * database file on every close. The WAL stays and is read at the next open;
     * SQLite checkpoints it when it grows past its autocheckpoint size. */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    set_limits(s->db);
    sqlite3_set_authorizer(s->db, authorize, s);
    sqlite3_progress_handler(s->db, PROGRESS_STEPS, on_progress, s);
    /* EXCLUSIVE before WAL: one process owns an object, and SQLite then keeps the
     * WAL index in heap memory (no -shm file, one descriptor fewer). */
    /* process: no fsync at all — every write() is in the OS page cache the moment it
     * returns, which is what survives a crash of the process. power: fsync the WAL
     * at each commit (and the database at checkpoints). synchronous is set first so
     * the switch to WAL of a new file is not fsynced in process mode. */
    /* An existing file is already in WAL mode (a persistent setting): asking for it
     * again would make SQLite map a -shm file even in EXCLUSIVE mode, so the first
     * read (hidden_tables_check) opens the WAL with its index in heap memory. */
    /* Cluster mode (capture on): the file is a cache of what PostgreSQL holds — a
     * write is acknowledged once it is committed there, and a claim rebuilds the
     * file from PostgreSQL — so it is never fsynced, whatever --durability says. */
    bool power = s->sh->durability == STORE_DURABILITY_POWER && !s->sh->capture;
    const char *sync = power ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=OFF;";
    const char *mode = exists ? ""
        : power ? "PRAGMA journal_mode=WAL;"
        /* A new file in process mode: the switch to WAL writes page 1 once, with the
         * rollback journal in memory rather than a file created and unlinked per
         * object (a single write that a dying process cannot tear). */
        : "PRAGMA journal_mode=MEMORY; PRAGMA journal_mode=WAL;";
    char setup[256];
    /* locking_mode first: PRAGMA synchronous reads the schema, and a read before
     * EXCLUSIVE is set opens the WAL with a -shm file. */
    char cap[48] = "";
    if (test_max_pages > 0)
        snprintf(cap, sizeof cap, "PRAGMA max_page_count=%lld;", (long long)test_max_pages);
    snprintf(setup, sizeof setup, "PRAGMA locking_mode=EXCLUSIVE; %s %s PRAGMA cache_size=-512; %s",
             sync, mode, cap);
    /* The first read of an existing file is where a file that is not a database,
     * or a damaged one, shows: the error names the file (store_fail). */
    int rc2 = exec_trusted(s, setup, e);
    if (rc2 == 0)
        rc2 = hidden_tables_check(s, e);
    if (rc2 == 0 && exists && !is_wal(s))
        rc2 = exec_trusted(s, "PRAGMA journal_mode=WAL", e);
    if (rc2 < 0) {
        db_close(s);
        return rc2;
    }
    if (s->sh->capture)   /* off: no hook, SQLite's own auto-checkpoint, no cost */
        frames_attach(s);
    lru_trim(s->sh);
    return 1;
}

bool store_close_idle(store *s)
{
    if (!s->db || s->in_txn || s->cursors)
        return false;
    db_close(s);
    return true;
}

store *store_new(store_shard *sh, const char *path, int backend)
{
    store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->path = strdup(path);
    if (!s->path) {
        free(s);
        return NULL;
    }
    s->sh = sh;
    s->backend = backend;
    sh->stores++;
    return s;
}

void store_free(store *s)
{
    if (!s)
        return;
    store_cursors_detach(s);
    db_close(s);
    frames_detach(s);
    store_shard *sh = s->sh;
    free(s->path);
    free(s);
    if (--sh->stores == 0 && sh->closing)
        free(sh);
}

const char *store_errmsg(const store *s)
{
    return s->errmsg;
}

static const char *code_name(int code)
{
    switch (code & 0xff) {
    case SQLITE_CONSTRAINT: return "SQLITE_CONSTRAINT";
    case SQLITE_TOOBIG: return "SQLITE_TOOBIG";
    case SQLITE_FULL: return "SQLITE_FULL";
    case SQLITE_MISMATCH: return "SQLITE_MISMATCH";
    case SQLITE_RANGE: return "SQLITE_RANGE";
    case SQLITE_AUTH: return "SQLITE_AUTH";
    case SQLITE_IOERR: return "SQLITE_IOERR";
    case SQLITE_CORRUPT: return "SQLITE_CORRUPT";
    case SQLITE_NOTADB: return "SQLITE_NOTADB";
    case SQLITE_CANTOPEN: return "SQLITE_CANTOPEN";
    case SQLITE_READONLY: return "SQLITE_READONLY";
    case SQLITE_NOMEM: return "SQLITE_NOMEM";
    case SQLITE_BUSY: return "SQLITE_BUSY";
    case SQLITE_LOCKED: return "SQLITE_LOCKED";
    case SQLITE_INTERRUPT: return "SQLITE_INTERRUPT";
    default: return "SQLITE_ERROR";
    }
}

int store_errcode(int sqlite_rc)
{
    switch (sqlite_rc & 0xff) {
    case SQLITE_TOOBIG: return DUR_ETOOBIG;
    case SQLITE_FULL: return -ENOSPC;
    case SQLITE_IOERR: case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_CANTOPEN:
    case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_PROTOCOL: case SQLITE_NOLFS:
    case SQLITE_NOMEM:
        return -EIO;
    case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_INTERRUPT: return -ETIMEDOUT;
    default: return DUR_EINVAL;
    }
}

bool store_failure(int code)
{
    return code == -ENOSPC || code == -EIO || code == -EBUSY || code == -ETIMEDOUT;
}

/* Messages in workerd's form, "<SQLite's message>: <code name>" (SQL-5); a damaged
 * or unreadable file also names the file, and an interrupt names the limit. */
int store_fail(store *s, err *e)
{
    const char *m = s->db ? sqlite3_errmsg(s->db) : "database is not open";
    int rc = s->db ? sqlite3_extended_errcode(s->db) : SQLITE_ERROR;
    int code = store_errcode(rc);
    char msg[ERR_MSG_MAX];
    if ((rc & 0xff) == SQLITE_INTERRUPT && s->timed_out)
        snprintf(msg, sizeof msg, "SQL query exceeded the CPU time limit of %u ms and was "
                 "interrupted: SQLITE_INTERRUPT", s->cpu_ms);
    else if (code == -EIO && (rc & 0xff) != SQLITE_NOMEM)
        snprintf(msg, sizeof msg, "the object's database %s is %s: %s: %s", s->path,
                 (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB
                     ? "damaged" : "not readable or writable", m, code_name(rc));
    else
        snprintf(msg, sizeof msg, "%s: %s", m, code_name(rc));
    s->timed_out = false;
    snprintf(s->errmsg, sizeof s->errmsg, "%s", m);
    /* SQLite rolls the whole transaction back after some failures (SQLITE_FULL,
     * SQLITE_IOERR, SQLITE_NOMEM, SQLITE_INTERRUPT): what this turn wrote before is
     * gone while the object's JavaScript may have seen it. Remember it, so the
     * commit fails and the object is reset (GATE-8, LIM-7). */
    if (s->db && s->in_txn && sqlite3_get_autocommit(s->db)) {
        s->in_txn = false;
        s->savepoints = 0;
        if (s->txn_wrote && !s->lost) {   /* only the failed statement was lost otherwise */
            s->lost = code == DUR_EINVAL ? -EIO : code;
            snprintf(s->lost_msg, sizeof s->lost_msg, "%s", msg);
        }
        hidden_tables_check(s, NULL);
    }
    return err_setf(e, code, "%s", msg);
}

sqlite3_stmt *store_stmt(store *s, int which, const char *sql, err *e)
{
    if (s->st[which])
        return s->st[which];
    s->trusted++;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[which], NULL);
    s->trusted--;
    if (rc != SQLITE_OK && (rc & 0xff) == SQLITE_ERROR) {
        /* Our own statement does not fit the file: a hidden table was changed. */
        err_setf(e, -EIO, "the object's database %s is damaged: %s", s->path,
                 sqlite3_errmsg(s->db));
        return NULL;
    }
    if (rc != SQLITE_OK) {
        store_fail(s, e);
        return NULL;
    }
    return s->st[which];
}

/* ---- the implicit transaction ---- */

/* Runs BEGIN or COMMIT (kept prepared): SQLITE_DONE, another SQLite code, or -1
 * when it could not be prepared (e filled). */
static int txn_step(store *s, int which, const char *sql, err *e)
{
    sqlite3_stmt *st = store_stmt(s, which, sql, e);
    if (!st)
        return -1;
    s->trusted++;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    s->trusted--;
    return rc;
}

int store_begin(store *s, err *e)
{
    if (s->in_txn)
        return 0;
    if (store_open(s, true, e) < 0)
        return -1;
    int rc = txn_step(s, ST_BEGIN, "BEGIN IMMEDIATE", e);
    if (rc < 0)
        return -1;
    if (rc != SQLITE_DONE)
        return store_fail(s, e);
    s->in_txn = true;
    s->txn_wrote = false;
    return 0;
}

bool store_dirty(const store *s)
{
    return s->in_txn || s->lost;
}

/* Fault injection (DURABLE_TEST_HOOKS=1 in the environment of durable dev), set
 * once before shards start and never on in production:
 * - a commit whose data holds the KV key "__durable_fail_commit__" fails as a full
 *   disk would (GATE-8 tests);
 * - in cluster mode, a commit whose data holds "__durable_fail_pg_commit__" commits
 *   here and then fails in PostgreSQL after the epoch check (objects/owner.c,
 *   store_test_marker; docs/cluster.md "Fault injection (tests)");
 * - DURABLE_TEST_MAX_PAGES=N caps every database at N pages, so a few puts fill it
 *   and SQLite itself reports SQLITE_FULL (LIM-7 tests). */
void store_test_hooks(bool on, int64_t max_pages)
{
    test_hooks = on;
    test_max_pages = on ? max_pages : 0;
}

bool store_test_marker(store *s, const char *key)
{
    if (!test_hooks || !s->has_kv || !s->db)
        return false;
    sqlite3_stmt *st = NULL;
    bool hit = false;
    s->trusted++;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM _cf_KV WHERE key = ?1", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) == SQLITE_OK)
        hit = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    s->trusted--;
    return hit;
}

static bool injected_failure(store *s)
{
    return store_test_marker(s, "__durable_fail_commit__");
}

int store_commit(store *s, err *e)
{
    if (s->lost) {
        /* A failure rolled back this turn's writes (store_fail): committing what
         * came after would store half a turn. */
        int code = s->lost;
        err_setf(e, code, "%s", s->lost_msg);
        store_rollback(s);
        return code;
    }
    if (!s->in_txn)
        return 0;
    if (s->savepoints)
        return err_setf(e, DUR_EINVAL, "cannot commit inside a transaction");
    if (injected_failure(s)) {
        store_rollback(s);
        return err_setf(e, -ENOSPC, "database or disk is full: SQLITE_FULL (injected by "
                        "DURABLE_TEST_HOOKS)");
    }
    uint64_t t0 = uv_hrtime();
    int rc = txn_step(s, ST_COMMIT, "COMMIT", e);
    if (rc < 0)
        return -1;
    if (rc != SQLITE_DONE) {
        int r = store_fail(s, e);
        store_rollback(s);
        return r;
    }
    metrics_storage_commit(uv_hrtime() - t0);
    s->in_txn = false;
    lru_trim(s->sh);
    return 0;
}

void store_rollback(store *s)
{
    s->lost = 0;
    if (!s->in_txn || !s->db)
        return;
    s->trusted++;
    if (sqlite3_get_autocommit(s->db) == 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->trusted--;
    s->in_txn = false;
    s->savepoints = 0;
    s->lost = 0;
    hidden_tables_check(s, NULL);
}

int store_savepoint(store *s, err *e)
{
    if (store_begin(s, e) < 0)
        return -1;
    char sql[48];
    snprintf(sql, sizeof sql, "SAVEPOINT d%d", s->savepoints);
    if (exec_trusted(s, sql, e) < 0)
        return -1;
    s->savepoints++;
    return 0;
}

int store_release(store *s, err *e)
{
    if (s->savepoints <= 0)
        return err_setf(e, DUR_EINVAL, "no transaction is open");
    char sql[48];
    snprintf(sql, sizeof sql, "RELEASE d%d", s->savepoints - 1);
    if (exec_trusted(s, sql, e) < 0)
        return -1;
    s->savepoints--;
    return 0;
}

int store_rollback_to(store *s, err *e)
{
    if (s->savepoints <= 0)
        return err_setf(e, DUR_EINVAL, "no transaction is open");
    char sql[64];
    snprintf(sql, sizeof sql, "ROLLBACK TO d%d; RELEASE d%d", s->savepoints - 1, s->savepoints - 1);
    if (exec_trusted(s, sql, e) < 0)
        return -1;
    s->savepoints--;
    hidden_tables_check(s, NULL);
    return 0;
}

int store_savepoint_depth(const store *s)
{
    return s->savepoints;
}

int64_t store_database_size(store *s)
{
    if (store_open(s, false, NULL) <= 0)
        return 0;
    sqlite3_stmt *st = NULL;
    int64_t pages = 0, free_pages = 0, size = 0;
    s->trusted++;
    if (sqlite3_prepare_v2(s->db, "SELECT * FROM pragma_page_count(), pragma_freelist_count(), "
                                  "pragma_page_size()", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        pages = sqlite3_column_int64(st, 0);
        free_pages = sqlite3_column_int64(st, 1);
        size = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    s->trusted--;
    return (pages - free_pages) * size;
}

int store_table_columns(sqlite3 *db, const char *table, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT name, type FROM pragma_table_info(?1) ORDER BY cid", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "%s%s %s", n ? ", " : "",
                              (const char *)sqlite3_column_text(st, 0),
                              (const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}
