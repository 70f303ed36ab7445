/* h1_conn.c: one accepted HTTP/1.1 connection of a shard's h1_server.
 *
 * Owns: the TCP handle, one timer, the read buffer (bytes received but not parsed
 * yet), the parser state (h1_parse.c) and the response-head buffer; all are reused
 * for every request of the connection.
 *
 * The life of a request:
 *   bytes -> rbuf -> h1__parse_feed -> (100 Continue) -> whole request ->
 *   on_request(conn, req) -> h1_conn_respond, or start + write* + end -> finish
 * While a request is with the handler the parser is paused: later pipelined bytes stay
 * in rbuf (reading stops once it holds RBUF_MAX bytes), so responses leave in request
 * order. finish() resumes parsing; if it runs inside the parse loop (the handler
 * answered synchronously) the loop just goes on, so pipelining never recurses.
 *
 * Timer modes: HEAD (from accept, or from the first byte of a later request, until
 * the head is complete: 408 + close), BODY (no body progress for idle_timeout_ms, or
 * the whole body not in within body_timeout_ms of the head's end: 408 + close), IDLE
 * (keep-alive wait, or a client that does not read our responses: close), LINGER
 * (after the last response: shutdown, read and drop until EOF for at most LINGER_MS,
 * then close, so a client still sending does not get a RST that eats the response).
 *
 * Lifetime: the struct is freed when both handles are closed AND no request is with
 * the handler. A client that disconnects while its handler works gets its handles
 * closed at once; the conn then waits for the handler's respond/end, which return
 * DUR_ECLOSED and free it. EOF from the client is taken as "gone" (no half-close).
 *
 * Writes: the head is built into one buffer; head and body go out with uv_try_write
 * (two uv_buf_t). Only what the kernel did not take is copied into one allocated
 * write request, so a small response costs no allocation. Tuned for tiny responses
 * on keep-alive connections.
 *
 * An upgraded connection's raw sends are coalesced: h1_conn_raw_send appends to the
 * conn's out buffer and puts the conn on its server's dirty list; the server's check
 * handle (after each poll) and idle handle (running only while something is held, so
 * the loop polls without blocking) write each buffer with one uv_try_write. A
 * broadcast of N messages to one socket in one loop turn is then one syscall, not N.
 * Order is kept (everything goes through the buffer, or the buffer goes first), and
 * h1_conn_queued_bytes counts the buffer too. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "net/internal.h"

#define RBUF_INIT (16u * 1024u)
#define RBUF_MAX (64u * 1024u)
#define RBUF_MIN_FREE (4u * 1024u)
#define RESP_HEAD_BYTES_MAX (256u * 1024u)
#define WRITE_QUEUE_HIGH (1024u * 1024u)
#define LINGER_MS 2000u

enum { T_NONE, T_HEAD, T_BODY, T_IDLE, T_LINGER, T_RAW };
enum { MODE_LENGTH, MODE_CHUNKED, MODE_RAW, MODE_NONE, MODE_UPGRADE };

struct h1_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown_req;
    h1_server *srv;       /* borrowed; NULL once detached from a closing server */
    h1_conn *prev, *next; /* in srv->conns */
    h1_parse ps;
    char *rbuf;
    size_t rcap, roff, rlen; /* unparsed bytes are rbuf[roff..rlen) */
    buf whead;               /* response head being built */
    int handles_open;        /* tcp + timer until their close callbacks ran */
    int timer_mode;
    int resp_mode; /* MODE_* of the streaming response */
    uint64_t body_deadline; /* uv_now() by which the body must be in; 0: not set */
    const char *reason;     /* h1_conn_reason: borrowed until the head is built */
    size_t reason_len;
    unsigned pending_writes;
    char *ob; /* upgraded: bytes sent this loop turn, not yet written (ob_len of ob_cap) */
    size_t ob_len, ob_cap;
    h1_conn *dnext, **dprevp; /* in srv->dirty while dprevp is set */
    bool closing; /* uv_close called */
    bool reading;
    bool in_drive;
    bool req_active;  /* with the handler, not finished */
    bool streaming;   /* h1_conn_start called */
    bool stream_dead; /* start failed: writes are dropped, end finishes */
    bool resp_keep_alive;
    bool close_after_write; /* no more requests: close once writes drained */
    bool lingering;
    bool wait_drain; /* parsing waits for the write queue to shrink */
    bool upgraded;   /* h1_conn_upgrade: raw bytes to up_data, no more HTTP */
    h1_upgrade_data_cb up_data;
    h1_upgrade_gone_cb up_gone;
    uint32_t raw_ms;  /* h1_conn_raw_timeout */
    void *up_ud;
    char peer[64];
};

typedef struct wreq {
    uv_write_t req;
    h1_conn *c;
    char data[];
} wreq;

static void conn_drive(h1_conn *c);
static void ob_drop(h1_conn *c);
static void start_linger(h1_conn *c);
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b);

/* ---- lifetime ---- */

static void link_conn(h1_server *s, h1_conn *c)
{
    c->prev = NULL;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->conn_count++;
}

static void unlink_conn(h1_server *s, h1_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    s->conn_count--;
}

h1_conn *h1__conn_next(const h1_conn *c)
{
    return c->next;
}

static void conn_free(h1_conn *c)
{
    ob_drop(c);
    h1_server *s = c->srv;
    if (s)
        unlink_conn(s, c);
    h1__parse_fini(&c->ps);
    buf_fini(&c->whead);
    free(c->rbuf);
    free(c);
    if (s)
        h1__server_maybe_free(s);
}

/* The server is going away while a handler holds c: c forgets it. The caller frees
 * the server if it is time. */
static void detach(h1_conn *c)
{
    h1_server *s = c->srv;
    assert(s && c->req_active);
    unlink_conn(s, c);
    s->inflight--;
    c->srv = NULL;
}

static void on_handle_closed(uv_handle_t *h)
{
    h1_conn *c = h->data;
    if (--c->handles_open > 0)
        return;
    if (c->upgraded && c->up_gone)
        c->up_gone(c->up_ud); /* last word to the upgrade's owner; c is freed next */
    if (!c->req_active) {
        conn_free(c);
        return;
    }
    if (c->srv && c->srv->closing) {
        h1_server *s = c->srv;
        detach(c);
        h1__server_maybe_free(s);
    }
}

static void conn_close(h1_conn *c)
{
    if (c->closing)
        return;
    ob_drop(c);
    c->closing = true;
    c->reading = false;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

bool h1_conn_closed(const h1_conn *c)
{
    return c->closing || !c->srv || c->srv->closing;
}

const char *h1_conn_peer(const h1_conn *c)
{
    return c->peer;
}

/* ---- timers ---- */

static void send_error(h1_conn *c, int status, const char *msg);

static void on_timer(uv_timer_t *t)
{
    h1_conn *c = t->data;
    int mode = c->timer_mode;
    c->timer_mode = T_NONE;
    char msg[96];
    switch (mode) {
    case T_HEAD:
        snprintf(msg, sizeof msg, "request head not received within %u ms",
                 (unsigned)c->ps.lim.head_timeout_ms);
        send_error(c, 408, msg);
        break;
    case T_BODY:
        if (uv_now(t->loop) >= c->body_deadline)
            snprintf(msg, sizeof msg, "request body not received within %u ms",
                     (unsigned)c->ps.lim.body_timeout_ms);
        else
            snprintf(msg, sizeof msg, "request body stalled for more than %u ms",
                     (unsigned)c->ps.lim.idle_timeout_ms);
        send_error(c, 408, msg);
        break;
    default: /* idle keep-alive, or lingering close over */
        conn_close(c);
        break;
    }
}

/* Arms the timer for mode; an already running timer of the same mode keeps its
 * deadline unless restart (HEAD is a deadline for the whole head, BODY a progress
 * timeout). */
static void timer_arm(h1_conn *c, int mode, bool restart)
{
    if (c->closing || (c->timer_mode == mode && !restart))
        return;
    uint64_t ms;
    switch (mode) {
    case T_HEAD:
        ms = c->ps.lim.head_timeout_ms;
        break;
    case T_LINGER:
        ms = LINGER_MS;
        break;
    case T_RAW:
        ms = c->raw_ms;
        break;
    case T_BODY: { /* progress timeout, never past the whole-body deadline */
        uint64_t now = uv_now(c->timer.loop);
        if (c->body_deadline == 0)
            c->body_deadline = now + c->ps.lim.body_timeout_ms;
        ms = c->ps.lim.idle_timeout_ms;
        if (c->body_deadline <= now)
            ms = 0;
        else if (c->body_deadline - now < ms)
            ms = c->body_deadline - now;
        break;
    }
    default:
        ms = c->ps.lim.idle_timeout_ms;
        break;
    }
    c->timer_mode = mode;
    (void)uv_timer_start(&c->timer, on_timer, ms, 0); /* fails only on a closing handle */
}

static void timer_stop(h1_conn *c)
{
    if (c->timer_mode == T_NONE || c->closing)
        return;
    c->timer_mode = T_NONE;
    uv_timer_stop(&c->timer);
}

/* ---- writing ---- */

static void on_write(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    h1_conn *c = w->c;
    free(w);
    c->pending_writes--;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->timer_mode == T_IDLE)
        timer_arm(c, T_IDLE, true); /* the client is reading: not idle */
    if (c->upgraded && !c->close_after_write)
        return;
    if (c->close_after_write) {
        if (c->pending_writes == 0 && !c->lingering)
            start_linger(c);
        return;
    }
    if (c->wait_drain && c->tcp.write_queue_size < WRITE_QUEUE_HIGH) {
        c->wait_drain = false;
        conn_drive(c);
    }
}

/* Sends bufs in order after everything queued before. Returns 0, DUR_ECLOSED (the
 * connection broke and is now closing) or DUR_ENOMEM (likewise closing). */
static int conn_send(h1_conn *c, const uv_buf_t *bufs, unsigned nbufs)
{
    if (c->closing)
        return DUR_ECLOSED;
    size_t total = 0;
    for (unsigned i = 0; i < nbufs; i++)
        total += bufs[i].len;
    if (total == 0)
        return 0;
    size_t done = 0;
    if (c->pending_writes == 0) {
        int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
        if (n >= 0)
            done = (size_t)n;
        else if (n != UV_EAGAIN && n != UV_ENOSYS) {
            conn_close(c);
            return DUR_ECLOSED;
        }
        if (done == total)
            return 0;
    }
    size_t rest = total - done;
    wreq *w = malloc(sizeof *w + rest);
    if (!w) {
        log_error("h1: out of memory queueing a %zu-byte write to %s", rest, c->peer);
        conn_close(c);
        return DUR_ENOMEM;
    }
    w->c = c;
    char *p = w->data;
    size_t skip = done;
    for (unsigned i = 0; i < nbufs; i++) {
        size_t len = bufs[i].len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        memcpy(p, bufs[i].base + skip, len - skip);
        p += len - skip;
        skip = 0;
    }
    uv_buf_t b = {.base = w->data, .len = rest}; /* len is size_t on Unix */
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc < 0) {
        free(w);
        conn_close(c);
        return DUR_ECLOSED;
    }
    c->pending_writes++;
    return 0;
}

/* No more requests on c: close it once the queued writes are out. */
static void close_when_flushed(h1_conn *c)
{
    if (c->closing)
        return;
    c->close_after_write = true;
    if (c->pending_writes == 0)
        start_linger(c);
    else
        timer_arm(c, T_IDLE, true); /* a client that never reads is dropped */
}

/* ---- response head ---- */

static bool is_tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool name_is(const h1_header *h, const char *lower, size_t len)
{
    return h->name_len == len && strncasecmp(h->name, lower, len) == 0;
}

static bool has_close_token(const char *v, size_t len)
{
    for (size_t i = 0; i + 5 <= len; i++)
        if (strncasecmp(v + i, "close", 5) == 0)
            return true;
    return false;
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int i = 0;
    do {
        tmp[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i)
        *p++ = tmp[--i];
    return p;
}

/* Server-managed headers a handler may not set (its Connection: close is honoured). */
static bool header_reserved(const h1_header *h)
{
    switch (h->name_len) {
    case 4:
        return name_is(h, "date", 4);
    case 10:
        return name_is(h, "connection", 10);
    case 14:
        return name_is(h, "content-length", 14);
    case 17:
        return name_is(h, "transfer-encoding", 17);
    default:
        return false;
    }
}

/* Checks the handler's status and headers; returns bytes they need or 0 if invalid
 * (*why says what). Also drops keep-alive on Connection: close. */
static size_t head_check(h1_conn *c, int status, const h1_header *h, size_t n, const char **why)
{
    if (status < 200 || status > 999) {
        *why = "handler gave an invalid response status";
        return 0;
    }
    size_t need = 0;
    for (size_t i = 0; i < n; i++) {
        if (h[i].name_len == 0 || !h[i].name || (!h[i].value && h[i].value_len)) {
            *why = "handler gave an empty response header name";
            return 0;
        }
        for (size_t k = 0; k < h[i].name_len; k++)
            if (!is_tchar((unsigned char)h[i].name[k])) {
                *why = "handler gave an invalid response header name";
                return 0;
            }
        for (size_t k = 0; k < h[i].value_len; k++) {
            char ch = h[i].value[k];
            if (ch == '\r' || ch == '\n' || ch == '\0') {
                *why = "handler gave a response header value with CR, LF or NUL";
                return 0;
            }
        }
        if (name_is(&h[i], "connection", 10) && has_close_token(h[i].value, h[i].value_len))
            c->resp_keep_alive = false;
        need += h[i].name_len + h[i].value_len + 4;
    }
    return need + 1;
}

/* Builds the status line and headers into c->whead (replacing what it held).
 * Returns 0, DUR_EINVAL (bad status or header: *why says which) or DUR_ETOOBIG. */
static int build_head(h1_conn *c, int status, const h1_header *h, size_t n, int mode,
                      uint64_t body_len, const char **why)
{
    size_t need = head_check(c, status, h, n, why);
    if (need == 0)
        return DUR_EINVAL;
    if (c->srv && c->srv->stopping)
        c->resp_keep_alive = false;
    const char *reason = c->reason;
    size_t reason_len = c->reason_len;
    c->reason = NULL;
    c->reason_len = 0;
    if (!reason || reason_len == 0) {
        reason = h1_status_text(status);
        reason_len = strlen(reason);
    }
    need += 16 + reason_len + 2 /* status line */
            + 6 + 29 + 2        /* Date */
            + 16 + 20 + 2       /* Content-Length */
            + 28 + 24 + 2;      /* Transfer-Encoding / Connection */
    buf_reset(&c->whead);
    int rc = buf_reserve(&c->whead, need);
    if (rc < 0) {
        *why = "response headers too large";
        return rc;
    }
    char *p0 = c->whead.ptr, *p = p0;
    p = put(p, "HTTP/1.1 ", 9);
    p = put_u64(p, (uint64_t)status);
    *p++ = ' ';
    p = put(p, reason, reason_len);
    p = put(p, "\r\n", 2);
    for (size_t i = 0; i < n; i++) {
        if (header_reserved(&h[i]))
            continue;
        p = put(p, h[i].name, h[i].name_len);
        p = put(p, ": ", 2);
        p = put(p, h[i].value, h[i].value_len);
        p = put(p, "\r\n", 2);
    }
    p = put(p, "Date: ", 6);
    p = put(p, h1__server_date(c->srv), 29);
    p = put(p, "\r\n", 2);
    if (mode == MODE_LENGTH) {
        p = put(p, "Content-Length: ", 16);
        p = put_u64(p, body_len);
        p = put(p, "\r\n", 2);
    } else if (mode == MODE_CHUNKED) {
        p = put(p, "Transfer-Encoding: chunked\r\n", 28);
    }
    if (mode == MODE_UPGRADE) /* RFC 6455 4.2.2: a 101 without it is refused by browsers */
        p = put(p, "Connection: Upgrade\r\n", 21);
    else if (!c->resp_keep_alive)
        p = put(p, "Connection: close\r\n", 19);
    else if (c->ps.req.http_major == 1 && c->ps.req.http_minor == 0)
        p = put(p, "Connection: keep-alive\r\n", 24);
    p = put(p, "\r\n", 2);
    c->whead.len = (size_t)(p - p0);
    assert(c->whead.len <= need);
    return 0;
}

/* Writes a JSON error response ({"error": msg}) and closes after it. Used for the
 * answers the server gives by itself and for handlers that gave a bad response. */
static void send_error(h1_conn *c, int status, const char *msg)
{
    c->reason = NULL; /* the handler's phrase is not for this answer */
    c->reason_len = 0;
    if (c->closing)
        return;
    char body[320];
    size_t len = 0;
    len += (size_t)snprintf(body, sizeof body, "{\"error\":\"");
    for (const char *m = msg; *m && len < sizeof body - 16; m++) {
        unsigned char ch = (unsigned char)*m;
        if (ch == '"' || ch == '\\') {
            body[len++] = '\\';
            body[len++] = (char)ch;
        } else if (ch < 0x20 || ch >= 0x7f) {
            len +=
                (size_t)snprintf(body + len, sizeof body - len, "\\u%04x", ch < 0x20 ? ch : 0xfffd);
        } else {
            body[len++] = (char)ch;
        }
    }
    len += (size_t)snprintf(body + len, sizeof body - len, "\"}");
    c->resp_keep_alive = false;
    timer_stop(c);
    static const h1_header ct = {"Content-Type", 12, "application/json", 16};
    const char *why = NULL;
    bool no_body = c->req_active && c->ps.req.is_head;
    if (c->srv && build_head(c, status, &ct, 1, MODE_LENGTH, len, &why) == 0) {
        uv_buf_t bufs[2] = {uv_buf_init(c->whead.ptr, (unsigned)c->whead.len),
                            uv_buf_init(body, (unsigned)len)};
        conn_send(c, bufs, no_body ? 1 : 2);
    }
    close_when_flushed(c);
}

/* ---- reading and parsing ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    h1_conn *c = h->data;
    if (c->lingering || c->roff == c->rlen)
        c->roff = c->rlen = 0; /* lingering: everything read is dropped */
    else if (c->roff > 0) {
        memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
        c->rlen -= c->roff;
        c->roff = 0;
    }
    if (c->rcap - c->rlen < RBUF_MIN_FREE && c->rcap < RBUF_MAX) {
        size_t cap = c->rcap ? c->rcap * 2 : RBUF_INIT;
        if (cap > RBUF_MAX)
            cap = RBUF_MAX;
        char *p = realloc(c->rbuf, cap);
        if (p) {
            c->rbuf = p;
            c->rcap = cap;
        }
    }
    /* A zero-length buffer makes libuv report UV_ENOBUFS, which closes c. */
    *out = uv_buf_init(c->rbuf ? c->rbuf + c->rlen : NULL, (unsigned)(c->rcap - c->rlen));
}

static void read_start(h1_conn *c)
{
    if (c->reading || c->closing)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = true;
    else
        conn_close(c);
}

static void read_stop(h1_conn *c)
{
    if (!c->reading)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    h1_conn *c = req->handle->data;
    if (status < 0 && !c->closing)
        conn_close(c); /* nothing more can be said; reading on is pointless */
}

static void start_linger(h1_conn *c)
{
    if (c->closing || c->lingering)
        return;
    c->lingering = true;
    c->roff = c->rlen = 0;
    timer_arm(c, T_LINGER, true);
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        conn_close(c);
        return;
    }
    read_start(c);
}

static void dispatch(h1_conn *c)
{
    h1_server *s = c->srv;
    timer_stop(c);
    c->req_active = true;
    c->streaming = false;
    c->stream_dead = false;
    c->resp_keep_alive = c->ps.req.keep_alive && !s->stopping;
    c->body_deadline = 0;
    s->inflight++;
    s->on_request(c, &c->ps.req, s->ud);
}

/* Parses buffered bytes and hands out requests until one is with its handler, the
 * buffer is empty, or the connection is done. Re-entry (a handler answering inside
 * on_request) only sets state; the outer loop goes on. */
static void conn_drive(h1_conn *c)
{
    if (c->in_drive)
        return;
    c->in_drive = true;
    while (!c->closing && !c->req_active && !c->close_after_write && c->roff < c->rlen) {
        if (c->tcp.write_queue_size >= WRITE_QUEUE_HIGH) {
            c->wait_drain = true; /* the client is not reading our answers */
            break;
        }
        size_t used = 0;
        h1_parse_event ev = h1__parse_feed(&c->ps, c->rbuf + c->roff, c->rlen - c->roff, &used);
        c->roff += used;
        if (ev == H1_PARSE_REQUEST) {
            dispatch(c);
        } else if (ev == H1_PARSE_CONTINUE) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            uv_buf_t b = uv_buf_init((char *)cont, sizeof cont - 1);
            conn_send(c, &b, 1);
        } else if (ev == H1_PARSE_ERROR) {
            send_error(c, c->ps.err_status, c->ps.err_msg);
        }
    }
    c->in_drive = false;
    if (c->closing || c->req_active || c->close_after_write)
        return;
    if (c->roff == c->rlen)
        c->roff = c->rlen = 0;
    if (c->ps.head_done)
        timer_arm(c, T_BODY, true);
    else if (h1__parse_partial(&c->ps))
        timer_arm(c, T_HEAD, false);
    if (!c->wait_drain)
        read_start(c);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    h1_conn *c = st->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        /* EOF or error. A pending handler's conn closes now and waits for the
         * handler (respond then says DUR_ECLOSED); answers already queued for a
         * client that finished sending still go out. */
        if (nread == UV_EOF && !c->lingering && !c->req_active && !h1__parse_partial(&c->ps) &&
            c->pending_writes > 0) {
            read_stop(c);
            close_when_flushed(c);
            return;
        }
        conn_close(c);
        return;
    }
    if (c->lingering) {
        c->roff = c->rlen = 0;
        return;
    }
    if (c->upgraded) {
        c->roff = c->rlen = 0; /* the owner copies what it keeps */
        c->up_data(c->up_ud, b->base, (size_t)nread);
        return;
    }
    c->rlen += (size_t)nread;
    if (c->req_active || c->close_after_write || c->wait_drain) {
        /* Buffered for later; stop reading once the buffer cannot take more. */
        if (c->rcap >= RBUF_MAX && c->rcap - (c->rlen - c->roff) < RBUF_MIN_FREE)
            read_stop(c);
        return;
    }
    conn_drive(c);
}

/* ---- accept, stop, server close ---- */

static void peer_name(h1_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    c->peer[0] = '\0';
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET)
        uv_ip4_name((struct sockaddr_in *)&ss, c->peer, sizeof c->peer);
    else if (ss.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer, sizeof c->peer);
}

void h1__conn_accept(h1_server *s)
{
    h1_conn *c = calloc(1, sizeof *c);
    if (!c) {
        log_error("h1: out of memory accepting a connection on port %d", s->port);
        return;
    }
    int rc = uv_tcp_init(s->loop, &c->tcp);
    if (rc < 0) {
        log_error("h1: accept on port %d: %s", s->port, uv_strerror(rc));
        free(c);
        return;
    }
    uv_timer_init(s->loop, &c->timer); /* cannot fail */
    c->srv = s;
    h1__parse_init(&c->ps, &s->lim, s->authority);
    buf_init(&c->whead, RESP_HEAD_BYTES_MAX);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    link_conn(s, c);
    rc = uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->tcp);
    if (rc < 0) {
        log_warn("h1: accept on port %d: %s", s->port, uv_strerror(rc));
        conn_close(c);
        return;
    }
    (void)uv_tcp_nodelay(&c->tcp, 1); /* an optimisation: failure is harmless */
    peer_name(c);
    timer_arm(c, T_HEAD, true);
    read_start(c);
}

void h1__conn_stop(h1_conn *c)
{
    if (c->upgraded)
        return; /* its owner closes it (or h1_server_close does) */
    if (c->closing || c->req_active || c->close_after_write)
        return; /* its response will say Connection: close */
    if (h1__parse_partial(&c->ps) || c->roff < c->rlen)
        return; /* a request is arriving: it gets its answer, then close */
    if (c->pending_writes > 0)
        close_when_flushed(c);
    else
        conn_close(c);
}

void h1__conn_server_close(h1_conn *c)
{
    if (!c->closing)
        conn_close(c);
    else if (c->handles_open == 0 && c->req_active)
        detach(c); /* the caller frees the server when it is time */
}

/* ---- responses ---- */

/* The handler is done with the request: resume the connection (or free it). */
static void finish(h1_conn *c)
{
    assert(c->req_active);
    c->req_active = false;
    c->streaming = false;
    c->reason = NULL;
    c->reason_len = 0;
    if (c->srv)
        c->srv->inflight--;
    h1__parse_next(&c->ps);
    buf_reset(&c->whead);
    if (c->closing) {
        if (c->handles_open == 0)
            conn_free(c);
        return;
    }
    if (!c->resp_keep_alive) {
        close_when_flushed(c);
        return;
    }
    timer_arm(c, T_IDLE, true);
    conn_drive(c);
}

static bool no_body_status(const h1_conn *c, int status)
{
    return c->ps.req.is_head || status == 204 || status == 304;
}

/* reason-phrase = *( HTAB / SP / VCHAR / obs-text ) (RFC 9112 §4). */
int h1_conn_reason(h1_conn *c, const char *reason, size_t len)
{
    assert(c->req_active);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)reason[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return DUR_EINVAL;
    }
    c->reason = len ? reason : NULL;
    c->reason_len = len;
    return 0;
}

int h1_conn_respond(h1_conn *c, int status, const h1_header *hdrs, size_t n, const void *body,
                    size_t body_len)
{
    assert(c->req_active && !c->streaming);
    if (h1_conn_closed(c)) {
        finish(c);
        return DUR_ECLOSED;
    }
    int mode = (status == 204 || status == 304) ? MODE_NONE : MODE_LENGTH;
    const char *why = NULL;
    int rc = build_head(c, status, hdrs, n, mode, body_len, &why);
    if (rc < 0) {
        log_warn("h1: %s (status %d) for %s", why, status, c->peer);
        send_error(c, 500, why);
        finish(c);
        return rc;
    }
    uv_buf_t bufs[2] = {uv_buf_init(c->whead.ptr, (unsigned)c->whead.len),
                        uv_buf_init((char *)body, 0)};
    bufs[1].len = body_len; /* size_t on Unix: no 4 GiB cut */
    bool send_body = body_len > 0 && !no_body_status(c, status);
    rc = conn_send(c, bufs, send_body ? 2 : 1);
    finish(c);
    return rc < 0 ? DUR_ECLOSED : 0;
}

int h1_conn_start(h1_conn *c, int status, const h1_header *hdrs, size_t n)
{
    assert(c->req_active && !c->streaming);
    c->streaming = true;
    if (h1_conn_closed(c))
        return DUR_ECLOSED;
    if (no_body_status(c, status)) {
        c->resp_mode = MODE_NONE;
    } else if (c->ps.req.http_major == 1 && c->ps.req.http_minor == 0) {
        c->resp_mode = MODE_RAW; /* HTTP/1.0 has no chunking: end = close */
        c->resp_keep_alive = false;
    } else {
        c->resp_mode = MODE_CHUNKED;
    }
    int head_mode = c->resp_mode;
    if (c->ps.req.is_head && status != 204 && status != 304 && c->ps.req.http_minor > 0)
        head_mode = MODE_CHUNKED; /* what a GET would have said */
    const char *why = NULL;
    int rc = build_head(c, status, hdrs, n, head_mode, 0, &why);
    if (rc < 0) {
        log_warn("h1: %s (status %d) for %s", why, status, c->peer);
        send_error(c, 500, why);
        c->stream_dead = true;
        return rc;
    }
    uv_buf_t b = uv_buf_init(c->whead.ptr, (unsigned)c->whead.len);
    rc = conn_send(c, &b, 1);
    buf_reset(&c->whead);
    return rc < 0 ? DUR_ECLOSED : 0;
}

int h1_conn_write(h1_conn *c, const void *data, size_t len)
{
    assert(c->req_active && c->streaming);
    if (h1_conn_closed(c))
        return DUR_ECLOSED;
    if (c->stream_dead || c->resp_mode == MODE_NONE || len == 0)
        return 0;
    uv_buf_t bufs[3];
    unsigned nb = 0;
    char size_line[24];
    if (c->resp_mode == MODE_CHUNKED) {
        int k = snprintf(size_line, sizeof size_line, "%zx\r\n", len);
        bufs[nb++] = uv_buf_init(size_line, (unsigned)k);
    }
    bufs[nb] = uv_buf_init((char *)data, 0);
    bufs[nb++].len = len;
    if (c->resp_mode == MODE_CHUNKED)
        bufs[nb++] = uv_buf_init("\r\n", 2);
    return conn_send(c, bufs, nb) < 0 ? DUR_ECLOSED : 0;
}

int h1_conn_end(h1_conn *c)
{
    assert(c->req_active && c->streaming);
    if (h1_conn_closed(c)) {
        finish(c);
        return DUR_ECLOSED;
    }
    int rc = 0;
    if (!c->stream_dead && c->resp_mode == MODE_CHUNKED) {
        uv_buf_t b = uv_buf_init("0\r\n\r\n", 5);
        rc = conn_send(c, &b, 1);
    }
    finish(c);
    return rc < 0 ? DUR_ECLOSED : 0;
}

/* ---- protocol upgrade (WebSocket) ---- */

int h1_conn_upgrade(h1_conn *c, const h1_header *hdrs, size_t n, h1_upgrade_data_cb on_data,
                    h1_upgrade_gone_cb on_gone, void *ud)
{
    assert(c->req_active && !c->streaming && on_data && on_gone);
    if (h1_conn_closed(c)) {
        finish(c);
        return DUR_ECLOSED;
    }
    const char *why = NULL;
    int rc = build_head(c, 200, hdrs, n, MODE_UPGRADE, 0, &why); /* checked as a 200 ... */
    if (rc < 0) {
        log_warn("h1: %s (status 101) for %s", why, c->peer);
        send_error(c, 500, why);
        finish(c);
        return rc;
    }
    /* ... then sent as the 101 it is: only the status line differs. */
    static const char line[] = "HTTP/1.1 101 Switching Protocols\r\n";
    char *eol = memchr(c->whead.ptr, '\n', c->whead.len);
    size_t old = (size_t)(eol - c->whead.ptr) + 1;
    uv_buf_t bufs[2] = {uv_buf_init((char *)line, sizeof line - 1),
                        uv_buf_init(c->whead.ptr + old, (unsigned)(c->whead.len - old))};
    rc = conn_send(c, bufs, 2);
    /* The request is over for the server: no longer in flight, no HTTP timers. */
    c->req_active = false;
    c->reason = NULL;
    c->reason_len = 0;
    if (c->srv)
        c->srv->inflight--;
    buf_reset(&c->whead);
    timer_stop(c);
    if (rc < 0 || c->closing) {
        if (c->closing && c->handles_open == 0)
            conn_free(c);
        return DUR_ECLOSED;
    }
    c->upgraded = true;
    c->up_data = on_data;
    c->up_gone = on_gone;
    c->up_ud = ud;
    if (c->roff < c->rlen) { /* frames that came with the handshake */
        size_t off = c->roff, len = c->rlen - c->roff;
        c->roff = c->rlen = 0;
        on_data(ud, c->rbuf + off, len);
    }
    read_start(c);
    return 0;
}

/* ---- coalesced raw writes ---- */

#define OB_DIRECT (64u * 1024u) /* a send this big skips the buffer (after flushing it) */
#define OB_INIT 4096u

static void dirty_unlink(h1_conn *c)
{
    if (!c->dprevp)
        return;
    *c->dprevp = c->dnext;
    if (c->dnext)
        c->dnext->dprevp = c->dprevp;
    c->dnext = NULL;
    c->dprevp = NULL;
}

/* Forgets what is held (the connection is closing: nothing more goes out). */
static void ob_drop(h1_conn *c)
{
    dirty_unlink(c);
    free(c->ob);
    c->ob = NULL;
    c->ob_len = c->ob_cap = 0;
}

/* Writes what c holds. Returns as conn_send. */
static int ob_flush(h1_conn *c)
{
    dirty_unlink(c);
    if (c->ob_len == 0)
        return 0;
    char *ob = c->ob;
    uv_buf_t b = uv_buf_init(ob, 0);
    b.len = c->ob_len;
    c->ob = NULL;
    c->ob_len = c->ob_cap = 0;
    int rc = conn_send(c, &b, 1); /* copies what the kernel does not take */
    free(ob);
    return rc;
}

static void flush_all(h1_server *s)
{
    while (s->dirty)
        ob_flush(s->dirty);
    uv_idle_stop(&s->flush_idle);
}

static void on_flush_check(uv_check_t *h)
{
    flush_all(h->data);
}

static void on_flush_idle(uv_idle_t *h)
{
    flush_all(h->data);
}

static void on_flush_closed(uv_handle_t *h)
{
    h1_server *s = h->data;
    s->flush_handles--;
    h1__server_maybe_free(s);
}

void h1__flush_close(h1_server *s)
{
    if (!s->flush_init)
        return;
    s->flush_init = false;
    flush_all(s); /* conns are closing: normally nothing is left */
    uv_close((uv_handle_t *)&s->flush_check, on_flush_closed);
    uv_close((uv_handle_t *)&s->flush_idle, on_flush_closed);
}

static bool flush_ready(h1_server *s)
{
    if (s->flush_init)
        return true;
    if (s->closing)
        return false;
    uv_check_init(s->loop, &s->flush_check);
    uv_idle_init(s->loop, &s->flush_idle);
    s->flush_check.data = s;
    s->flush_idle.data = s;
    s->flush_init = true;
    s->flush_handles = 2;
    uv_check_start(&s->flush_check, on_flush_check);
    uv_unref((uv_handle_t *)&s->flush_check);
    uv_unref((uv_handle_t *)&s->flush_idle);
    return true;
}

int h1_conn_raw_send(h1_conn *c, const void *data, size_t len)
{
    assert(c->upgraded);
    if (c->closing)
        return DUR_ECLOSED;
    if (len == 0)
        return 0;
    h1_server *s = c->srv;
    if (len >= OB_DIRECT || !s || !flush_ready(s)) {
        if (ob_flush(c) < 0)
            return DUR_ECLOSED;
        uv_buf_t b = uv_buf_init((char *)data, 0);
        b.len = len;
        return conn_send(c, &b, 1) < 0 ? DUR_ECLOSED : 0;
    }
    if (c->ob_len + len > c->ob_cap) {
        size_t cap = c->ob_cap ? c->ob_cap : OB_INIT;
        while (cap < c->ob_len + len)
            cap *= 2;
        char *p = realloc(c->ob, cap);
        if (!p) {
            log_error("h1: out of memory holding a %zu-byte write to %s", len, c->peer);
            conn_close(c);
            return DUR_ECLOSED;
        }
        c->ob = p;
        c->ob_cap = cap;
    }
    memcpy(c->ob + c->ob_len, data, len);
    c->ob_len += len;
    if (!c->dprevp) {
        if (!s->dirty)
            uv_idle_start(&s->flush_idle, on_flush_idle);
        c->dnext = s->dirty;
        if (s->dirty)
            s->dirty->dprevp = &c->dnext;
        s->dirty = c;
        c->dprevp = &s->dirty;
    }
    return 0;
}

size_t h1_conn_queued_bytes(const h1_conn *c)
{
    return c->closing ? 0 : c->tcp.write_queue_size + c->ob_len;
}

void h1_conn_raw_close(h1_conn *c, bool flush)
{
    assert(c->upgraded);
    if (flush && ob_flush(c) == 0)
        close_when_flushed(c);
    else
        conn_close(c);
}

void h1_conn_raw_timeout(h1_conn *c, uint32_t ms)
{
    assert(c->upgraded);
    c->raw_ms = ms;
    timer_arm(c, T_RAW, true);
}

void h1_conn_abort(h1_conn *c)
{
    assert(c->req_active && c->streaming);
    if (!c->closing)
        conn_close(c);
    finish(c);
}
