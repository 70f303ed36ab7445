/* What the files of src/storage share (not for other layers: see storage.h). */
#pragma once
#include <sqlite3.h>

#include "storage/storage.h"

/* Prepared statements kept per open database. */
enum {
    ST_KV_GET, ST_KV_PUT, ST_KV_DEL, ST_META_GET, ST_META_PUT, ST_META_DEL,
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
    ST_LIST0,                      /* 12 list variants follow (see kv.c) */
    ST_COUNT = ST_LIST0 + 12
};

struct store {
    store_shard *sh;
    char *path;
    int backend;
    sqlite3 *db;                   /* NULL while closed (absent or evicted from the cache) */
    sqlite3_stmt *st[ST_COUNT];
    bool in_txn;                   /* the implicit transaction is open */
    bool txn_wrote;                /* ... and a write in it succeeded (store_fail) */
    bool has_kv, has_meta;         /* the hidden tables exist (created on first use) */
    int savepoints;                /* depth of transaction()/transactionSync() nesting */
    store_cursor *cursors;         /* live cursors (detached when the store goes) */
    int trusted;                   /* >0 while durable's own statements run (authorizer) */
    const char *deny;              /* why the authorizer refused the last statement */
    char deny_buf[160];            /* deny, when it names what was refused */
    uint64_t deadline_ns;          /* user SQL past this (CLOCK_MONOTONIC) is interrupted; 0 none */
    uint32_t cpu_ms;               /* the budget deadline_ns was armed with, for the message */
    bool timed_out;                /* the progress handler interrupted the last statement */
    int lost;                      /* <0: a failure rolled back the implicit transaction (code) */
    char lost_msg[ERR_MSG_MAX];    /* ... and what it was */
    store *lru_prev, *lru_next;    /* open databases, most recent first */
    struct frames_cap *cap;        /* cluster mode: the pages of commits not yet taken (frames.c) */
    char errmsg[256];
};

struct store_shard {
    int durability;
    size_t open_max;
    size_t open_count;
    size_t stores;                 /* stores alive: the shard is freed after the last */
    bool closing;                  /* store_shard_free was called */
    bool capture;                  /* cluster mode: commits are captured (store_shard_capture) */
    store *lru_head, *lru_tail;
};

/* Opens s->db if needed. create: make the file if it does not exist. Returns 1 open,
 * 0 absent (only when !create), <0 with e filled. */
int store_open(store *s, bool create, err *e);
/* Creates _cf_KV (which = 0) or _cf_METADATA (1) if missing, in the implicit
 * transaction. */
int store_hidden_table(store *s, int which, err *e);
/* Begins the implicit transaction if it is not open. */
int store_begin(store *s, err *e);
/* A statement of the table (prepared on first use, with the authorizer trusting it). */
sqlite3_stmt *store_stmt(store *s, int which, const char *sql, err *e);
/* Fills e from the database's last error and returns its code (store_errcode).
 * If the failure rolled back the implicit transaction (SQLite does so for a full
 * disk, an I/O error or an interrupt), remembers it: the next commit fails, so the
 * objects layer resets the object instead of committing half a turn. */
int store_fail(store *s, err *e);
/* The project code for a SQLite result code: DUR_ETOOBIG for a too-big value,
 * -ENOSPC (full), -EIO (I/O error, damaged or unreadable file, out of memory),
 * -EBUSY (locked), -ETIMEDOUT (interrupted at the CPU limit), else DUR_EINVAL
 * (the SQL or its arguments were wrong). */
int store_errcode(int sqlite_rc);
/* Cursors register with their store, so closing it can finalize them first. */
struct store_cursor {
    store *s;                  /* NULL once the store was closed under it */
    store_cursor *next, *prev;
    sqlite3_stmt *st;          /* NULL once exhausted */
    int ncols;
    char **names;
    bool row_pending;          /* the step made at exec time found a row not yet read */
    int64_t rows_read, rows_written;
};
void store_cursors_detach(store *s);

/* frames.c (cluster mode, frames.h): installs the WAL hook that captures the
 * commits of s->db (store_open, when the shard captures), and frees what was
 * captured (store_free). */
typedef struct frames_cap frames_cap;
void frames_attach(store *s);
void frames_detach(store *s);
/* Decodes one entry (frames.h), calling fn for each page in order (fn NULL:
 * validate only; fn returns 0 or <0 with e, which stops). 0 or <0 with e. */
typedef int (*frames_page_fn)(void *ud, uint32_t pgno, const uint8_t *page, uint32_t page_size,
                              err *e);
int frames_decode(const uint8_t *b, size_t len, frames_page_fn fn, void *ud, uint32_t *page_size,
                  uint32_t *db_pages, err *e);
