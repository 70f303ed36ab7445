/* frames: what a commit changed, as database pages, so another node can rebuild an
 * object's SQLite file exactly (cluster mode: spec/cluster.md CL-9, CL-11, CL-12;
 * src/cluster/cluster.h).
 *
 * Why pages and not SQLite session changesets or statements: pages cover
 * everything an object can do — DDL, tables without a PRIMARY KEY (which sessions
 * ignore), triggers, the hidden _cf_KV/_cf_METADATA tables, the alarm — and
 * replaying them is deterministic (no random(), no clock), byte for byte.
 *
 * Capture: with capture on for a shard (store_shard_capture), every database the
 * shard opens records, at each COMMIT, the pages the commit appended to the WAL
 * (SQLite's WAL hook tells when; the frames are read back from the -wal file). The
 * WAL hook replaces SQLite's auto-checkpoint, so capture also checkpoints the WAL
 * when it grows past 1000 frames, as SQLite would. store_frames_take hands out
 * what the commits since the last take wrote, encoded as below; a deleteAll that
 * removes the file is captured as an entry that truncates the database to 0 pages.
 *
 * Encoding of one entry (all integers little-endian):
 *   "DFR1" | u32 page_size | u32 db_pages after the commit | u32 raw_len |
 *   zlib(deflate) of raw, where raw = n × (u32 pgno | page_size bytes)
 * Pages appear in the order written; a later copy of a page wins. Decoding refuses
 * a wrong magic, a page size that is not a power of two in [512, 65536], raw_len
 * that is not a multiple of 4 + page_size or above FRAMES_RAW_MAX, a pgno of 0 or
 * above db_pages, db_pages × page_size above FRAMES_DB_MAX, and inflated bytes
 * that differ from raw_len. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "storage/storage.h"

#define FRAMES_RAW_MAX (256u * 1024u * 1024u)
/* db_pages × page_size above this is refused (a damaged entry must not make
 * frames_rebuild create a huge sparse file); Cloudflare's bound on one object's
 * SQLite storage is 10 GB. */
#define FRAMES_DB_MAX (16ull * 1024u * 1024u * 1024u)

/* Shard thread, before any store of the shard opens its database. */
void store_shard_capture(store_shard *sh, bool on);

/* The pages written by the commits of s since the last take, as one encoded entry
 * (malloc'd, caller frees) in *out, *len. Returns 1, 0 if nothing was written (no
 * entry), <0 with *e (the capture failed: the caller must treat the commit as not
 * replicated and reset the object). Shard thread, between commits. */
int store_frames_take(store *s, uint8_t **out, size_t *len, err *e);

/* The whole database of s as it is now (committed state; no transaction open), as
 * the bytes of a SQLite file, malloc'd into *out. 1, 0 if the object has no
 * database, <0 with *e. Shard thread. */
int store_snapshot(store *s, uint8_t **out, size_t *len, err *e);

/* Applies encoded entries in order to the SQLite file at path (creating it from
 * `image` when image is not NULL, else from empty or from the file as it is),
 * removes any -wal/-journal beside it. Writes a temporary file and renames it over
 * path, so a crash of the process leaves either the old file or the new one. No
 * fsync: the file is a cache of PostgreSQL, and after a crash of the machine the
 * node claims (and so rebuilds) every object again before serving it. Any
 * thread; the file must not be open in SQLite. 0 or <0 with *e (a damaged entry is
 * an error naming its index; path is then left as it was). */
typedef struct frames_entry {
    const uint8_t *b;
    size_t len;
} frames_entry;
int frames_rebuild(const char *path, const uint8_t *image, size_t image_len,
                   const frames_entry *entries, size_t n, err *e);

/* The position file beside an object's file in cluster mode, PATH-pos: the epoch
 * and log position (seq) the file was at when its node let the object go with
 * every commit acknowledged, and the size and SHA-256 of the file and its -wal as
 * they were then. A node claiming the object again skips the rebuild only if
 * PostgreSQL says nobody claimed it since (the new epoch is this one + 1) and
 * nothing was committed since (same seq), and the bytes are still these
 * (frames_pos_read checks them), in the same run of the process (a token in the
 * file: a node started again rebuilds). Any doubt means a rebuild. Any thread; the file
 * must not be open for writing meanwhile. 0 or <0 with *e. */
int frames_pos_write(const char *path, uint64_t epoch, int64_t seq, err *e);
/* 1 with *epoch, *seq when PATH-pos exists and the file and its -wal are the bytes
 * it describes; 0 otherwise (missing, damaged, the file changed). */
int frames_pos_read(const char *path, uint64_t *epoch, int64_t *seq);
void frames_pos_drop(const char *path);
