/* frames.c: page capture for cluster mode (see frames.h) — the WAL hook that reads
 * back each commit's frames, the encoded entries handed to the cluster layer, the
 * snapshot of a whole database, and the rebuild of a file from entries.
 *
 * Size: the entry for one small KV put (a 10-byte value into an existing _cf_KV:
 * one 4 KiB page) is 113 bytes — 16 of header, the rest the page deflated at
 * Z_BEST_SPEED (the default level saves 13 bytes for more CPU per commit); the
 * first put, which creates _cf_KV, is 272. tests/unit/storage/test_frames.c
 * prints both. */
#include "storage/frames.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "base/fs.h"
#include "storage/internal.h"

enum {
    WAL_HDR = 32,             /* magic, version, page size, ckpt seq, salt1, salt2, cksum x2 */
    FRAME_HDR = 24,           /* pgno, db size (commit frames), salt1, salt2, cksum x2 */
    ENTRY_HDR = 16,           /* "DFR1", page_size, db_pages, raw_len */
    CKPT_FRAMES = 1000,       /* as SQLite's default wal_autocheckpoint */
};

/* What the commits since the last take wrote: records of u32 pgno (LE) + page. */
struct frames_cap {
    uint32_t page_size;
    uint32_t db_pages;        /* after the last captured commit */
    bool any;                 /* a commit was captured since the last take */
    uint8_t *raw;
    size_t len, cap;
    uint32_t salt[2];         /* the WAL generation last_frame belongs to */
    uint32_t last_frame;      /* the commit frame of the last captured commit; 0 unknown */
    int failed;               /* <0: a commit could not be captured (reported at take) */
    char msg[ERR_MSG_MAX];
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static bool page_size_ok(uint32_t ps)
{
    return ps >= 512 && ps <= 65536 && (ps & (ps - 1)) == 0;
}

/* ---- capture ---- */

void store_shard_capture(store_shard *sh, bool on)
{
    sh->capture = on;
}

static void cap_fail(frames_cap *c, const char *path, const char *what)
{
    if (c->failed)
        return;
    c->failed = -EIO;
    snprintf(c->msg, sizeof c->msg, "cannot capture the commit of %s for replication: %s",
             path, what);
}

/* Reads n bytes of the WAL at off through SQLite's own handle of it. */
static bool wal_read(sqlite3_file *f, void *buf, size_t n, int64_t off)
{
    return n <= INT_MAX && f->pMethods && f->pMethods->xRead(f, buf, (int)n, off) == SQLITE_OK;
}

static bool cap_reserve(frames_cap *c, size_t more)
{
    if (c->len + more <= c->cap)
        return true;
    size_t n = c->cap ? c->cap : 8192;
    while (n < c->len + more)
        n *= 2;
    uint8_t *p = realloc(c->raw, n);
    if (!p)
        return false;
    c->raw = p;
    c->cap = n;
    return true;
}

/* SQLite calls this after each commit that appended frames, with the number of
 * frames now in the WAL; the commit's frames run from the one after the previous
 * commit frame to nframe. Installing it replaces SQLite's auto-checkpoint, so it
 * checkpoints past CKPT_FRAMES as SQLite would. A failure cannot undo the commit:
 * it is remembered and reported by the next take. */
static int on_wal(void *ud, sqlite3 *db, const char *name, int nframe)
{
    store *s = ud;
    frames_cap *c = s->cap;
    sqlite3_file *f = NULL;
    uint8_t hdr[WAL_HDR], fh[FRAME_HDR];
    uint8_t *buf = NULL;
    if (!c || nframe <= 0 || strcmp(name, "main") != 0)
        return SQLITE_OK;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK || !f ||
        !wal_read(f, hdr, sizeof hdr, 0)) {
        cap_fail(c, s->path, "the WAL cannot be read");
        goto out;
    }
    uint32_t ps = be32(hdr + 8), salt1 = be32(hdr + 16), salt2 = be32(hdr + 20);
    if (ps == 1)
        ps = 65536;   /* not written by SQLite 3.7+, but tolerated */
    if (!page_size_ok(ps) || (c->page_size && c->page_size != ps)) {
        cap_fail(c, s->path, "the WAL header has an unexpected page size");
        goto out;
    }
    const int64_t fsz = FRAME_HDR + (int64_t)ps;
#define FRAME_OFF(i) (WAL_HDR + ((int64_t)(i) - 1) * fsz)
    /* The last frame is the commit frame. */
    if (!wal_read(f, fh, sizeof fh, FRAME_OFF(nframe)) || be32(fh + 4) == 0 ||
        be32(fh + 8) != salt1 || be32(fh + 12) != salt2) {
        cap_fail(c, s->path, "the WAL's last frame is not a commit frame");
        goto out;
    }
    uint32_t db_pages = be32(fh + 4);
    /* Where this commit begins: after the previous commit frame. The one captured
     * last is where it was if the WAL was not restarted since (same salt; a restart
     * after a checkpoint writes a new one); otherwise walk back to it. */
    uint32_t start = 0;
    if (c->last_frame && c->salt[0] == salt1 && c->salt[1] == salt2 &&
        c->last_frame < (uint32_t)nframe && wal_read(f, fh, sizeof fh, FRAME_OFF(c->last_frame)) &&
        be32(fh + 4) != 0 && be32(fh + 8) == salt1 && be32(fh + 12) == salt2)
        start = c->last_frame + 1;
    for (uint32_t i = (uint32_t)nframe - 1; !start; i--) {
        if (i == 0) {
            start = 1;
            break;
        }
        if (!wal_read(f, fh, sizeof fh, FRAME_OFF(i)) || be32(fh + 8) != salt1 ||
            be32(fh + 12) != salt2) {
            cap_fail(c, s->path, "a WAL frame of the commit cannot be read");
            goto out;
        }
        if (be32(fh + 4) != 0)
            start = i + 1;
    }
    size_t n = (size_t)nframe - start + 1;
    buf = malloc(n * (size_t)fsz);
    if (!buf || !cap_reserve(c, n * (4 + (size_t)ps))) {
        cap_fail(c, s->path, "out of memory");
        goto out;
    }
    if (!wal_read(f, buf, n * (size_t)fsz, FRAME_OFF(start))) {
        cap_fail(c, s->path, "the commit's WAL frames cannot be read");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *fr = buf + i * (size_t)fsz;
        uint32_t pgno = be32(fr);
        if (pgno == 0 || be32(fr + 8) != salt1 || be32(fr + 12) != salt2) {
            cap_fail(c, s->path, "a WAL frame of the commit is damaged");
            goto out;
        }
        put_le32(c->raw + c->len, pgno);
        memcpy(c->raw + c->len + 4, fr + FRAME_HDR, ps);
        c->len += 4 + (size_t)ps;
    }
#undef FRAME_OFF
    c->page_size = ps;
    c->db_pages = db_pages;
    c->any = true;
    c->salt[0] = salt1;
    c->salt[1] = salt2;
    c->last_frame = (uint32_t)nframe;
out:
    free(buf);
    if (nframe >= CKPT_FRAMES)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

void frames_attach(store *s)
{
    if (!s->cap)
        s->cap = calloc(1, sizeof *s->cap);
    if (!s->cap)
        return;   /* the hook stays off; take reports it */
    s->cap->last_frame = 0;   /* a reopened WAL is found again by walking back */
    sqlite3_wal_hook(s->db, on_wal, s);
}

void frames_detach(store *s)
{
    if (!s->cap)
        return;
    free(s->cap->raw);
    free(s->cap);
    s->cap = NULL;
}

static int cmp_rec(const void *a, const void *b)
{
    const uint8_t *x = *(const uint8_t *const *)a, *y = *(const uint8_t *const *)b;
    uint32_t px = le32(x), py = le32(y);
    if (px != py)
        return px < py ? -1 : 1;
    return x < y ? -1 : x > y;   /* records sit in the order written */
}

/* One deflate stream per thread, reset for each commit: deflateInit allocates and
 * sets up about 270 KiB of state, which cost more than compressing one small
 * commit. Freed when the thread ends. The output is compress2's. */
static pthread_key_t zkey;
static pthread_once_t zkey_once = PTHREAD_ONCE_INIT;

static void zstream_free(void *p)
{
    deflateEnd(p);
    free(p);
}

static void zkey_make(void)
{
    if (pthread_key_create(&zkey, zstream_free) != 0)
        abort();
}

static z_stream *zstream(void)
{
    pthread_once(&zkey_once, zkey_make);
    z_stream *z = pthread_getspecific(zkey);
    if (z)
        return deflateReset(z) == Z_OK ? z : NULL;
    if (!(z = calloc(1, sizeof *z)))
        return NULL;
    if (deflateInit(z, Z_BEST_SPEED) != Z_OK) {
        free(z);
        return NULL;
    }
    if (pthread_setspecific(zkey, z) != 0) {
        zstream_free(z);
        return NULL;
    }
    return z;
}

/* Encodes records (each 4 + page_size bytes). */
static int encode(uint32_t ps, uint32_t db_pages, const uint8_t *raw, size_t raw_len,
                  uint8_t **out, size_t *len, err *e)
{
    if (raw_len > FRAMES_RAW_MAX)
        return err_setf(e, DUR_ETOOBIG, "one commit wrote %zu bytes of pages, more than the %u a "
                        "replicated commit may hold", raw_len, FRAMES_RAW_MAX);
    uLongf zlen = compressBound((uLong)raw_len);
    uint8_t *b = malloc(ENTRY_HDR + zlen);
    if (!b)
        return err_setf(e, DUR_ENOMEM, "out of memory");
    memcpy(b, "DFR1", 4);
    put_le32(b + 4, ps);
    put_le32(b + 8, db_pages);
    put_le32(b + 12, (uint32_t)raw_len);
    z_stream *z = zstream();
    if (z) {
        z->next_in = (Bytef *)raw;
        z->avail_in = (uInt)raw_len;
        z->next_out = b + ENTRY_HDR;
        z->avail_out = (uInt)zlen;
    }
    if (!z || deflate(z, Z_FINISH) != Z_STREAM_END) {
        free(b);
        return err_setf(e, DUR_ENOMEM, "cannot compress the commit's pages");
    }
    *out = b;
    *len = ENTRY_HDR + (size_t)z->total_out;
    return 0;
}

int store_frames_take(store *s, uint8_t **out, size_t *len, err *e)
{
    frames_cap *c = s->cap;
    *out = NULL;
    *len = 0;
    if (s->sh->capture && s->db && !c)
        return err_setf(e, DUR_ENOMEM, "cannot capture the commits of %s: out of memory", s->path);
    if (!c)
        return 0;
    int rc = 0;
    uint8_t **recs = NULL, *raw = NULL;
    if (c->failed) {
        rc = err_setf(e, c->failed, "%s", c->msg);
        goto done;
    }
    if (!c->any)
        return 0;
    /* One copy of each page, the last written, and none past the final size (a
     * page a commit wrote and a later one cut off). */
    size_t rl = 4 + (size_t)c->page_size, n = c->len / rl, k = 0;
    recs = malloc((n ? n : 1) * sizeof *recs);
    raw = malloc(c->len ? c->len : 1);
    if (!recs || !raw) {
        rc = err_setf(e, DUR_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        recs[i] = c->raw + i * rl;
    qsort(recs, n, sizeof *recs, cmp_rec);
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && le32(recs[i + 1]) == le32(recs[i]))
            continue;
        if (le32(recs[i]) > c->db_pages)
            continue;
        memcpy(raw + k * rl, recs[i], rl);
        k++;
    }
    rc = encode(c->page_size, c->db_pages, raw, k * rl, out, len, e);
    if (rc == 0)
        rc = 1;
done:
    free(recs);
    free(raw);
    c->len = 0;
    c->any = false;
    c->failed = 0;
    if (c->cap > (1u << 20)) {   /* a big commit does not pin its buffer */
        free(c->raw);
        c->raw = NULL;
        c->cap = 0;
    }
    return rc;
}

int store_snapshot(store *s, uint8_t **out, size_t *len, err *e)
{
    *out = NULL;
    *len = 0;
    if (s->in_txn)
        return err_setf(e, DUR_EINVAL, "cannot snapshot %s: a transaction is open", s->path);
    int o = store_open(s, false, e);
    if (o <= 0)
        return o;
    sqlite3_int64 sz = 0;
    s->trusted++;   /* sqlite3_serialize reads through sqlite_dbpage */
    unsigned char *p = sqlite3_serialize(s->db, "main", &sz, 0);
    s->trusted--;
    if (!p)
        return err_setf(e, -EIO, "cannot snapshot the object's database %s: %s", s->path,
                        sqlite3_errmsg(s->db));
    uint8_t *b = malloc(sz ? (size_t)sz : 1);
    if (!b) {
        sqlite3_free(p);
        return err_setf(e, DUR_ENOMEM, "out of memory");
    }
    memcpy(b, p, (size_t)sz);
    sqlite3_free(p);
    *out = b;
    *len = (size_t)sz;
    return 1;
}

/* ---- decoding and rebuilding ---- */

/* The 16-byte header of an entry: 0 or <0 with e. */
static int header_parse(const uint8_t *b, size_t len, uint32_t *ps, uint32_t *pages,
                        uint32_t *raw_len, err *e)
{
    if (len < ENTRY_HDR)
        return err_setf(e, DUR_EPARSE, "truncated: %zu bytes, less than the 16-byte header", len);
    if (memcmp(b, "DFR1", 4) != 0)
        return err_setf(e, DUR_EPARSE, "wrong magic (not a frames entry)");
    *ps = le32(b + 4);
    *pages = le32(b + 8);
    *raw_len = le32(b + 12);
    if (!page_size_ok(*ps))
        return err_setf(e, DUR_EPARSE, "bad page size %u", *ps);
    if (*raw_len > FRAMES_RAW_MAX || *raw_len % (4 + *ps) != 0)
        return err_setf(e, DUR_EPARSE, "bad raw length %u for page size %u", *raw_len, *ps);
    /* Rebuilding resizes the file to db_pages pages: a damaged count must not
     * make a sparse file of terabytes. */
    if ((uint64_t)*pages * *ps > FRAMES_DB_MAX)
        return err_setf(e, DUR_EPARSE, "%u pages of %u bytes is more than the %llu-byte bound "
                        "on an object's database", *pages, *ps, (unsigned long long)FRAMES_DB_MAX);
    return 0;
}

int frames_decode(const uint8_t *b, size_t len, frames_page_fn fn, void *ud, uint32_t *page_size,
                  uint32_t *db_pages, err *e)
{
    uint32_t ps, pages, raw_len;
    int hr = header_parse(b, len, &ps, &pages, &raw_len, e);
    if (hr < 0)
        return hr;
    size_t rl = 4 + (size_t)ps;
    if (page_size)
        *page_size = ps;
    if (db_pages)
        *db_pages = pages;
    uint8_t *rec = malloc(rl);
    if (!rec)
        return err_setf(e, DUR_ENOMEM, "out of memory");
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) {
        free(rec);
        return err_setf(e, DUR_ENOMEM, "out of memory");
    }
    z.next_in = (Bytef *)(b + ENTRY_HDR);
    z.avail_in = (uInt)(len - ENTRY_HDR > UINT_MAX ? UINT_MAX : len - ENTRY_HDR);
    int rc = 0;
    size_t got = 0;
    bool end = false;
    uint8_t spare;
    while (!end) {
        /* One record at a time; past raw_len, one spare byte tells a stream that
         * inflates to more than it claims (a zip bomb stops there). */
        size_t want = got < raw_len ? rl - got % rl : 1;
        z.next_out = got < raw_len ? rec + got % rl : &spare;
        z.avail_out = (uInt)want;
        int zr = inflate(&z, Z_NO_FLUSH);
        size_t made = want - z.avail_out;
        if (zr == Z_STREAM_END)
            end = true;
        else if (zr != Z_OK && !(zr == Z_BUF_ERROR && made)) {
            rc = err_setf(e, DUR_EPARSE, zr == Z_BUF_ERROR ? "truncated compressed pages"
                          : "damaged compressed pages (%s)", z.msg ? z.msg : "inflate failed");
            break;
        }
        if (got >= raw_len && made) {
            rc = err_setf(e, DUR_EPARSE, "pages inflate to more than the raw length %u", raw_len);
            break;
        }
        got += made;
        if (made && got % rl == 0) {
            uint32_t pgno = le32(rec);
            if (pgno == 0 || pgno > pages) {
                rc = err_setf(e, DUR_EPARSE, "page number %u is outside the database's %u pages",
                              pgno, pages);
                break;
            }
            if (fn && (rc = fn(ud, pgno, rec + 4, ps, e)) < 0)
                break;
        }
        if (!end && !made && z.avail_in == 0) {
            rc = err_setf(e, DUR_EPARSE, "truncated compressed pages");
            break;
        }
    }
    if (rc == 0 && got != raw_len)
        rc = err_setf(e, DUR_EPARSE, "pages inflate to %zu bytes, not the raw length %u", got,
                      raw_len);
    if (rc == 0 && z.avail_in != 0)
        rc = err_setf(e, DUR_EPARSE, "%u bytes follow the compressed pages", z.avail_in);
    inflateEnd(&z);
    free(rec);
    return rc;
}

typedef struct rebuild_ctx {
    int fd;
    const char *tmp;
} rebuild_ctx;

static int write_all(int fd, const uint8_t *b, size_t n, off_t off)
{
    while (n) {
        ssize_t w = pwrite(fd, b, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -errno ? -errno : -EIO;
        b += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

static int put_page(void *ud, uint32_t pgno, const uint8_t *page, uint32_t ps, err *e)
{
    rebuild_ctx *r = ud;
    int rc = write_all(r->fd, page, ps, (off_t)(pgno - 1) * ps);
    return rc < 0 ? err_setf(e, rc, "cannot write %s: %s", r->tmp, strerror(-rc)) : 0;
}

/* The page size in the header of a SQLite file's first bytes; 0 if none. */
static uint32_t file_page_size(int fd)
{
    uint8_t h[18];
    if (pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
        return 0;
    uint32_t ps = (uint32_t)h[16] << 8 | h[17];
    return ps == 1 ? 65536 : ps;
}

static int copy_file(const char *from, int to, err *e)
{
    int fd = open(from, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : err_setf(e, -errno, "cannot read %s: %s", from, strerror(errno));
    uint8_t buf[65536];
    off_t off = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_setf(e, -errno, "cannot read %s: %s", from, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if ((rc = write_all(to, buf, (size_t)n, off)) < 0) {
            rc = err_setf(e, rc, "cannot write a copy of %s: %s", from, strerror(-rc));
            break;
        }
        off += n;
    }
    close(fd);
    return rc;
}

static int unlink_beside(const char *path, const char *suffix, err *e)
{
    char p[PATH_MAX];
    if ((size_t)snprintf(p, sizeof p, "%s%s", path, suffix) >= sizeof p)
        return err_setf(e, DUR_EINVAL, "path too long: %s", path);
    if (unlink(p) < 0 && errno != ENOENT)
        return err_setf(e, -errno, "cannot remove %s: %s", p, strerror(errno));
    return 0;
}

int frames_rebuild(const char *path, const uint8_t *image, size_t image_len,
                   const frames_entry *entries, size_t n, err *e)
{
    char dir[PATH_MAX], tmp[PATH_MAX];
    if ((size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir - 16)
        return err_setf(e, DUR_EINVAL, "path too long: %s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (fs_mkdir_p(dir, e) < 0)
        return -1;
    snprintf(tmp, sizeof tmp, "%s.rebuild-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return err_setf(e, -errno, "cannot create %s: %s", tmp, strerror(errno));
    int rc = 0;
    if (image && image_len) {
        if ((rc = write_all(fd, image, image_len, 0)) < 0)
            rc = err_setf(e, rc, "cannot write %s: %s", tmp, strerror(-rc));
    } else if (!image) {
        rc = copy_file(path, fd, e);
    }
    rebuild_ctx r = {fd, tmp};
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint32_t ps = 0, pages = 0, raw_len = 0;
        err de = {0};
        struct stat st;
        uint32_t have = fstat(fd, &st) == 0 && st.st_size > 0 ? file_page_size(fd) : 0;
        /* The header first, so a page size that differs from the file's is refused
         * before anything is written. */
        if (header_parse(entries[i].b, entries[i].len, &ps, &pages, &raw_len, &de) < 0) {
            rc = err_setf(e, de.code, "entry %zu of %zu is damaged: %s", i, n, de.msg);
            break;
        }
        if (have && have != ps) {
            rc = err_setf(e, DUR_EPARSE, "entry %zu of %zu is damaged: its page size %u is not "
                          "the database's %u", i, n, ps, have);
            break;
        }
        if (frames_decode(entries[i].b, entries[i].len, put_page, &r, NULL, NULL, &de) < 0) {
            rc = err_setf(e, de.code, "entry %zu of %zu is damaged: %s", i, n, de.msg);
            break;
        }
        if (ftruncate(fd, (off_t)pages * ps) < 0)
            rc = err_setf(e, -errno, "cannot resize %s: %s", tmp, strerror(errno));
    }
    close(fd);
    /* The old WAL and journal go before the rename: left beside the new file,
     * SQLite would replay them onto it. */
    if (rc == 0 && (unlink_beside(path, "-wal", e) < 0 || unlink_beside(path, "-journal", e) < 0 ||
                    unlink_beside(path, "-shm", e) < 0))
        rc = -1;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = err_setf(e, -errno, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc < 0)
        unlink(tmp);
    return rc;
}

/* ---- the position file (frames_pos_*) ---- */

/* A -pos file is honoured only by the process that wrote it: a node started again
 * (perhaps against another PostgreSQL database, where the same key may have a
 * history of its own) rebuilds. */
static uint64_t pos_run;
static pthread_once_t pos_run_once = PTHREAD_ONCE_INIT;

static void pos_run_make(void)
{
    uint8_t b[8];
    if (RAND_bytes(b, sizeof b) != 1)
        abort();
    memcpy(&pos_run, b, sizeof pos_run);
}

static uint64_t pos_token(void)
{
    pthread_once(&pos_run_once, pos_run_make);
    return pos_run;
}

/* Adds the bytes of the file at p to md; *size gets their count (0: no file). */
static int hash_file(EVP_MD_CTX *md, const char *p, uint64_t *size)
{
    *size = 0;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    uint8_t b[65536];
    for (;;) {
        ssize_t n = read(fd, b, sizeof b);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (n > 0 && !EVP_DigestUpdate(md, b, (size_t)n))) {
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        *size += (uint64_t)n;
    }
    close(fd);
    return 0;
}

/* "size-of-file size-of-wal sha256-hex" of path and path-wal into out; <0 when
 * unreadable or there is no file. */
static int pos_sum(const char *path, char *out, size_t cap)
{
    char wal[PATH_MAX];
    if ((size_t)snprintf(wal, sizeof wal, "%s-wal", path) >= sizeof wal)
        return -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint64_t fsz = 0, wsz = 0;
    uint8_t h[EVP_MAX_MD_SIZE];
    unsigned hl = 0;
    int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) && hash_file(md, path, &fsz) == 0 &&
             hash_file(md, wal, &wsz) == 0 && EVP_DigestFinal_ex(md, h, &hl) ? 0 : -1;
    EVP_MD_CTX_free(md);
    if (rc < 0 || fsz == 0)
        return -1;
    int at = snprintf(out, cap, "%llu %llu ", (unsigned long long)fsz, (unsigned long long)wsz);
    for (unsigned i = 0; i < hl && at > 0 && (size_t)at + 3 <= cap; i++)
        at += snprintf(out + at, cap - (size_t)at, "%02x", h[i]);
    return 0;
}

int frames_pos_write(const char *path, uint64_t epoch, int64_t seq, err *e)
{
    char sum[160], p[PATH_MAX], tmp[PATH_MAX], line[256];
    if ((size_t)snprintf(p, sizeof p, "%s-pos", path) >= sizeof p ||
        (size_t)snprintf(tmp, sizeof tmp, "%s-pos.tmp", path) >= sizeof tmp)
        return err_setf(e, DUR_EINVAL, "path too long: %s", path);
    if (pos_sum(path, sum, sizeof sum) < 0)
        return err_setf(e, DUR_EINVAL, "cannot read %s to record its position", path);
    int n = snprintf(line, sizeof line, "DPOS1 %016llx %llu %lld %s\n", (unsigned long long)pos_token(),
                     (unsigned long long)epoch, (long long)seq, sum);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_setf(e, -errno, "cannot create %s: %s", tmp, strerror(errno));
    int rc = write_all(fd, (const uint8_t *)line, (size_t)n, 0);
    close(fd);
    if (rc == 0 && rename(tmp, p) < 0)
        rc = -errno;
    if (rc < 0) {
        unlink(tmp);
        return err_setf(e, rc, "cannot write %s: %s", p, strerror(-rc));
    }
    return 0;
}

int frames_pos_read(const char *path, uint64_t *epoch, int64_t *seq)
{
    char p[PATH_MAX], line[256], sum[160], want[160];
    if ((size_t)snprintf(p, sizeof p, "%s-pos", path) >= sizeof p)
        return 0;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n <= 0)
        return 0;
    line[n] = 0;
    unsigned long long run, ep, fsz, wsz;
    long long sq;
    char hex[80];
    if (sscanf(line, "DPOS1 %llx %llu %lld %llu %llu %79s", &run, &ep, &sq, &fsz, &wsz, hex) != 6 ||
        strlen(hex) != 64 || run != pos_token())
        return 0;
    snprintf(want, sizeof want, "%llu %llu %s", fsz, wsz, hex);
    if (pos_sum(path, sum, sizeof sum) < 0 || strcmp(sum, want) != 0)
        return 0;
    *epoch = (uint64_t)ep;
    *seq = (int64_t)sq;
    return 1;
}

void frames_pos_drop(const char *path)
{
    char p[PATH_MAX];
    if ((size_t)snprintf(p, sizeof p, "%s-pos", path) < sizeof p)
        unlink(p);
}
