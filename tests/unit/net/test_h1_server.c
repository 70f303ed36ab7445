/* In-process tests of the HTTP/1.1 server (net/h1_server.c, h1_conn.c): an h1_server
 * on 127.0.0.1 port 0 runs on a uv loop in the test thread; a client thread speaks
 * HTTP over a plain blocking socket (SO_RCVTIMEO bounds every wait) and records the
 * first thing that went wrong; the loop side asserts after the thread is joined.
 * The server is closed once the client and the handler say they are done, so every
 * case also checks that closing frees everything (ASan build). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
/* cmocka needs these four headers first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/h1.h"

/* ---- the loop side ---- */

typedef struct tcase tcase;
typedef int (*client_fn)(tcase *t);

struct tcase {
    uv_loop_t loop;
    h1_server *srv;
    int port;
    int family;
    uv_async_t client_done;
    uv_timer_t timer; /* /slow answers and the /hang poll */
    pthread_t thread;
    client_fn client;
    int pending;        /* things to wait for before closing the server */
    bool client_counts; /* the client's end is one of them */
    bool closing;
    bool closed;
    h1_conn *held; /* /slow, /hang, /hold */
    int held_rc;
    int bad_rc;
    int reason_rc; /* h1_conn_reason with a CR LF in it */
    size_t inflight_at_close;
    size_t requests;
    h1_conn *up;          /* /upgrade */
    size_t up_queued;     /* h1_conn_queued_bytes right after the three sends */
    int up_rc;
    char failure[512];
};

static void srv_closed(void *arg)
{
    tcase *t = arg;
    t->closed = true;
}

static void maybe_close(tcase *t)
{
    if (t->pending > 0 || t->closing)
        return;
    t->closing = true;
    t->inflight_at_close = h1_server_inflight(t->srv);
    uv_close((uv_handle_t *)&t->client_done, NULL);
    uv_close((uv_handle_t *)&t->timer, NULL);
    h1_server_close(t->srv, srv_closed, t);
}

static void on_client_done(uv_async_t *a)
{
    tcase *t = a->data;
    if (t->client_counts) {
        t->pending--;
        maybe_close(t);
    }
}

static const h1_header text_plain[] = {{"Content-Type", 12, "text/plain", 10}};

static void on_slow(uv_timer_t *tm)
{
    tcase *t = tm->data;
    h1_conn *c = t->held;
    t->held = NULL;
    t->held_rc = h1_conn_respond(c, 200, text_plain, 1, "slow", 4);
}

static void on_hang_poll(uv_timer_t *tm)
{
    tcase *t = tm->data;
    if (!h1_conn_closed(t->held))
        return; /* the repeat timer looks again; the client deadline bounds it */
    uv_timer_stop(tm);
    t->held_rc = h1_conn_respond(t->held, 200, NULL, 0, "late", 4);
    t->held = NULL;
    t->pending--;
    maybe_close(t);
}

#define BIG_BYTES (8u << 20)

/* /upgrade: on "go", three sends in one callback, then a flushing close. */
static void on_up_data(void *ud, const char *bytes, size_t len)
{
    tcase *t = ud;
    if (len < 2 || memcmp(bytes, "go", 2) != 0 || !t->up)
        return;
    h1_conn *c = t->up;
    t->up_rc |= h1_conn_raw_send(c, "one", 3);
    t->up_rc |= h1_conn_raw_send(c, "two", 3);
    t->up_rc |= h1_conn_raw_send(c, "three", 5);
    t->up_queued = h1_conn_queued_bytes(c);
    h1_conn_raw_close(c, true);
}

static void on_up_gone(void *ud)
{
    tcase *t = ud;
    t->up = NULL;
    t->pending--;
    maybe_close(t);
}

static void on_request(h1_conn *c, const h1_request *req, void *ud)
{
    tcase *t = ud;
    t->requests++;
    const char *p = req->target;
    if (strcmp(p, "/hello") == 0) {
        h1_conn_respond(c, 200, text_plain, 1, "hello", 5);
    } else if (strcmp(p, "/echo") == 0) {
        h1_conn_respond(c, 200, text_plain, 1, req->body, req->body_len);
    } else if (strcmp(p, "/stream") == 0) {
        assert_int_equal(h1_conn_start(c, 200, text_plain, 1), 0);
        assert_int_equal(h1_conn_write(c, "ab", 2), 0);
        assert_int_equal(h1_conn_write(c, "", 0), 0);
        assert_int_equal(h1_conn_write(c, "cde", 3), 0);
        assert_int_equal(h1_conn_end(c), 0);
    } else if (strcmp(p, "/slow") == 0) {
        t->held = c;
        uv_timer_start(&t->timer, on_slow, 30, 0);
    } else if (strcmp(p, "/big") == 0 || strcmp(p, "/bigstream") == 0) {
        /* Far more than the socket takes at once: the rest is queued. The body is
         * freed right after the call, which the contract allows. */
        size_t n = BIG_BYTES;
        unsigned char *b = malloc(n);
        assert_non_null(b);
        for (size_t i = 0; i < n; i++)
            b[i] = (unsigned char)(i * 7 + i / 251);
        if (p[4] == '\0') {
            h1_conn_respond(c, 200, NULL, 0, b, n);
        } else {
            assert_int_equal(h1_conn_start(c, 200, NULL, 0), 0);
            for (size_t off = 0; off < n; off += BIG_BYTES / 16)
                assert_int_equal(h1_conn_write(c, b + off, BIG_BYTES / 16), 0);
            assert_int_equal(h1_conn_end(c), 0);
        }
        free(b);
    } else if (strcmp(p, "/hang") == 0) {
        t->held = c;
        uv_timer_start(&t->timer, on_hang_poll, 5, 5);
    } else if (strcmp(p, "/hold") == 0) {
        t->held = c;
        t->pending--;
        maybe_close(t);
    } else if (strcmp(p, "/upgrade") == 0) {
        static const h1_header up[] = {{"Upgrade", 7, "test", 4}};
        t->up = c;
        t->up_rc = h1_conn_upgrade(c, up, 1, on_up_data, on_up_gone, t);
    } else if (strcmp(p, "/stop") == 0) {
        h1_server_stop_accepting(t->srv);
        h1_conn_respond(c, 200, text_plain, 1, "bye", 3);
    } else if (strncmp(p, "/url", 4) == 0) {
        h1_conn_respond(c, 200, text_plain, 1, req->url, req->url_len);
    } else if (strcmp(p, "/reason") == 0) {
        t->reason_rc = h1_conn_reason(c, "Bad\r\nX-Injected: 1", 19);
        assert_int_equal(h1_conn_reason(c, "Not Here", 8), 0);
        h1_conn_respond(c, 404, text_plain, 1, "nope", 4);
    } else if (strcmp(p, "/reason-refused") == 0) {
        t->reason_rc = h1_conn_reason(c, "Bad\r\nX-Injected: 1", 19);
        h1_conn_respond(c, 404, text_plain, 1, "nope", 4);
    } else if (strcmp(p, "/bad-header") == 0) {
        h1_header bad = {"X-Evil", 6, "a\r\nInjected: 1", 14};
        t->bad_rc = h1_conn_respond(c, 200, &bad, 1, "x", 1);
    } else {
        static const h1_header json[] = {{"content-type", 12, "application/json", 16}};
        h1_conn_respond(c, 404, json, 1, "{}", 2);
    }
}

static void *client_main(void *arg)
{
    tcase *t = arg;
    if (t->client(t) != 0 && !t->failure[0])
        snprintf(t->failure, sizeof t->failure, "client failed without a message");
    uv_async_send(&t->client_done);
    return NULL;
}

/* Runs one case: server with lim (NULL: defaults) on ip, client thread, loop until the
 * server is closed. extra_pending: events besides the client's end to wait for. */
static void run_case(tcase *t, const char *ip, const h1_limits *lim, client_fn fn,
                     int extra_pending, bool client_counts)
{
    memset(t, 0, sizeof *t);
    t->client = fn;
    t->client_counts = client_counts;
    t->pending = extra_pending + (client_counts ? 1 : 0);
    t->family = strchr(ip, ':') ? AF_INET6 : AF_INET;
    assert_int_equal(uv_loop_init(&t->loop), 0);
    err e = {0};
    int rc = h1_server_open(&t->loop, ip, 0, lim, on_request, t, &t->srv, &e);
    if (rc != 0)
        fail_msg("h1_server_open: %s", e.msg);
    t->port = h1_server_port(t->srv);
    assert_true(t->port > 0);
    assert_int_equal(uv_async_init(&t->loop, &t->client_done, on_client_done), 0);
    t->client_done.data = t;
    assert_int_equal(uv_timer_init(&t->loop, &t->timer), 0);
    t->timer.data = t;
    assert_int_equal(pthread_create(&t->thread, NULL, client_main, t), 0);
    assert_int_equal(uv_run(&t->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(pthread_join(t->thread, NULL), 0);
    assert_true(t->closed);
    assert_int_equal(uv_loop_close(&t->loop), 0);
    if (t->failure[0])
        fail_msg("client: %s", t->failure);
}

/* ---- the client side (its own thread: records failures, never asserts) ---- */

typedef struct cli {
    tcase *t;
    int fd;
    size_t len;
    char buf[256 * 1024];
} cli;

typedef struct resp {
    int status;
    char head[8192];
    char body[8192];
    size_t body_len;
} resp;

#define CHECK(t, cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (!(t)->failure[0])                                                                  \
                snprintf((t)->failure, sizeof(t)->failure, __VA_ARGS__);                           \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

static int cli_open(cli *c, tcase *t)
{
    c->t = t;
    c->len = 0;
    c->fd = socket(t->family, SOCK_STREAM, 0);
    CHECK(t, c->fd >= 0, "socket: %s", strerror(errno));
    struct timeval tv = {.tv_sec = 5}; /* the deadline of every wait */
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_storage ss;
    socklen_t sl;
    if (t->family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        memset(a, 0, sizeof *a);
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)t->port);
        inet_pton(AF_INET, "127.0.0.1", &a->sin_addr);
        sl = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        memset(a, 0, sizeof *a);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)t->port);
        inet_pton(AF_INET6, "::1", &a->sin6_addr);
        sl = sizeof *a;
    }
    if (connect(c->fd, (struct sockaddr *)&ss, sl) != 0) {
        int en = errno;
        close(c->fd);
        c->fd = -1;
        return -en;
    }
    return 0;
}

static void cli_close(cli *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int cli_send(cli *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        CHECK(c->t, n > 0, "send: %s", strerror(errno));
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int cli_sends(cli *c, const char *s)
{
    return cli_send(c, s, strlen(s));
}

/* Reads more bytes into the buffer; 0 on EOF, -1 on error or deadline. */
static int cli_fill(cli *c)
{
    CHECK(c->t, c->len < sizeof c->buf, "client buffer full");
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    CHECK(c->t, n >= 0, "recv: %s (deadline?)", strerror(errno));
    c->len += (size_t)n;
    return n > 0 ? 1 : 0;
}

static void cli_drop(cli *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

static int cli_need(cli *c, size_t n)
{
    while (c->len < n) {
        int rc = cli_fill(c);
        if (rc < 0)
            return -1;
        CHECK(c->t, rc > 0, "EOF with %zu of %zu bytes", c->len, n);
    }
    return 0;
}

/* Case-insensitive header lookup in a response head; value copied into out. */
static bool resp_header(const resp *r, const char *name, char *out, size_t out_len)
{
    size_t nl = strlen(name);
    const char *p = strstr(r->head, "\r\n");
    while (p && p[2] != '\r') {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            const char *end = strstr(v, "\r\n");
            size_t vl = (size_t)(end - v);
            if (vl >= out_len)
                vl = out_len - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return true;
        }
        p = strstr(p, "\r\n");
    }
    return false;
}

static int read_chunked(cli *c, resp *r)
{
    for (;;) {
        char *eol;
        while (!(eol = memmem(c->buf, c->len, "\r\n", 2)))
            if (cli_need(c, c->len + 1) < 0)
                return -1;
        size_t size = strtoul(c->buf, NULL, 16);
        size_t line = (size_t)(eol - c->buf) + 2;
        if (cli_need(c, line + size + 2) < 0)
            return -1;
        CHECK(c->t, r->body_len + size < sizeof r->body, "body too long");
        memcpy(r->body + r->body_len, c->buf + line, size);
        r->body_len += size;
        CHECK(c->t, memcmp(c->buf + line + size, "\r\n", 2) == 0, "bad chunk end");
        cli_drop(c, line + size + 2);
        if (size == 0)
            return 0;
    }
}

/* Reads one response. no_body: it answers a HEAD. */
static int cli_read(cli *c, resp *r, bool no_body)
{
    memset(r, 0, sizeof *r);
    char *end;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
        int rc = cli_fill(c);
        if (rc < 0)
            return -1;
        CHECK(c->t, rc > 0, "EOF before a response head (%zu bytes)", c->len);
    }
    size_t head_len = (size_t)(end - c->buf) + 4;
    CHECK(c->t, head_len < sizeof r->head, "head too long");
    memcpy(r->head, c->buf, head_len);
    cli_drop(c, head_len);
    CHECK(c->t, sscanf(r->head, "HTTP/1.1 %d ", &r->status) == 1, "bad status line: %.40s",
          r->head);
    char v[64];
    if (no_body || r->status < 200 || r->status == 204 || r->status == 304)
        return 0;
    if (resp_header(r, "transfer-encoding", v, sizeof v)) {
        CHECK(c->t, strcmp(v, "chunked") == 0, "transfer-encoding %s", v);
        return read_chunked(c, r);
    }
    if (resp_header(r, "content-length", v, sizeof v)) {
        size_t n = strtoul(v, NULL, 10);
        CHECK(c->t, n < sizeof r->body, "body too long");
        if (cli_need(c, n) < 0)
            return -1;
        memcpy(r->body, c->buf, n);
        r->body_len = n;
        cli_drop(c, n);
        return 0;
    }
    int rc;
    while ((rc = cli_fill(c)) > 0) {
    }
    if (rc < 0)
        return -1;
    CHECK(c->t, c->len < sizeof r->body, "body too long");
    memcpy(r->body, c->buf, c->len);
    r->body_len = c->len;
    c->len = 0;
    return 0;
}

/* The server closes: nothing more arrives, then EOF. */
static int cli_expect_eof(cli *c)
{
    int rc = cli_fill(c);
    if (rc < 0)
        return -1;
    CHECK(c->t, rc == 0 && c->len == 0, "expected EOF, got %zu bytes: %.60s", c->len, c->buf);
    return 0;
}

static int expect_resp(cli *c, resp *r, int status, const char *body, bool no_body)
{
    if (cli_read(c, r, no_body) < 0)
        return -1;
    CHECK(c->t, r->status == status, "status %d, wanted %d", r->status, status);
    if (body) {
        CHECK(c->t, r->body_len == strlen(body) && memcmp(r->body, body, r->body_len) == 0,
              "body '%.*s', wanted '%s'", (int)r->body_len, r->body, body);
    }
    return 0;
}

static int expect_json_error(cli *c, int status)
{
    resp r;
    if (expect_resp(c, &r, status, NULL, false) < 0)
        return -1;
    char v[64];
    CHECK(c->t, resp_header(&r, "content-type", v, sizeof v) && strcmp(v, "application/json") == 0,
          "error content-type");
    CHECK(c->t, resp_header(&r, "connection", v, sizeof v) && strcmp(v, "close") == 0,
          "error without Connection: close");
    CHECK(c->t, strncmp(r.body, "{\"error\":\"", 10) == 0 && r.body[r.body_len - 1] == '}',
          "error body %.*s", (int)r.body_len, r.body);
    return cli_expect_eof(c);
}

/* ---- cases ---- */

static int client_pipelining(tcase *t)
{
    cli c;
    CHECK(t, cli_open(&c, t) == 0, "connect");
    /* Three requests in one write: the first one's handler answers later, yet the
     * answers come back in request order. */
    if (cli_sends(&c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
                      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhowdy"
                      "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n") < 0)
        return -1;
    resp r;
    if (expect_resp(&c, &r, 200, "slow", false) < 0 ||
        expect_resp(&c, &r, 200, "howdy", false) < 0 ||
        expect_resp(&c, &r, 200, "hello", false) < 0)
        return -1;
    char v[64];
    CHECK(t, resp_header(&r, "date", v, sizeof v) && strlen(v) == 29 && strcmp(v + 25, " GMT") == 0,
          "Date header '%s'", v);
    CHECK(t, resp_header(&r, "content-length", v, sizeof v) && strcmp(v, "5") == 0,
          "Content-Length");
    CHECK(t, !resp_header(&r, "connection", v, sizeof v), "keep-alive needs no header");
    /* Still open: one more on the same connection. */
    if (cli_sends(&c, "GET /nope HTTP/1.1\r\nHost: h\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 404, "{}", false) < 0)
        return -1;
    /* A long pipeline in one write: answered in order, no recursion, no loss. */
    enum { DEEP = 2000 };
    static char deep[DEEP * 64];
    size_t n = 0;
    for (int i = 0; i < DEEP; i++)
        n += (size_t)snprintf(deep + n, sizeof deep - n,
                              "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n%04d", i);
    if (cli_send(&c, deep, n) < 0)
        return -1;
    for (int i = 0; i < DEEP; i++) {
        char want[16];
        snprintf(want, sizeof want, "%04d", i);
        if (expect_resp(&c, &r, 200, want, false) < 0)
            return -1;
    }
    /* A request dribbled one byte per write. */
    const char *one = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    for (const char *p = one; *p; p++)
        if (cli_send(&c, p, 1) < 0)
            return -1;
    if (expect_resp(&c, &r, 200, "hello", false) < 0)
        return -1;
    cli_close(&c);
    return 0;
}

static void test_keep_alive_pipelining(void **state)
{
    tcase *t = calloc(1, sizeof *t);
    run_case(t, "127.0.0.1", NULL, client_pipelining, 0, true);
    assert_int_equal(t->requests, 4 + 2000 + 1);
    assert_int_equal(t->held_rc, 0);
    assert_int_equal(t->inflight_at_close, 0);
    free(t);
}

/* Reads exactly n body bytes (or chunked: until the last chunk) and checks the
 * pattern /big writes. */
static int read_big(cli *c, bool chunked)
{
    size_t got = 0;
    size_t left = chunked ? 0 : BIG_BYTES;
    for (;;) {
        if (chunked && left == 0) {
            if (got > 0) { /* the CRLF after a chunk's data */
                if (cli_need(c, 2) < 0)
                    return -1;
                cli_drop(c, 2);
            }
            char *eol;
            while (!(eol = memmem(c->buf, c->len, "\r\n", 2)))
                if (cli_need(c, c->len + 1) < 0)
                    return -1;
            left = strtoul(c->buf, NULL, 16);
            cli_drop(c, (size_t)(eol - c->buf) + 2);
            if (left == 0) {
                if (cli_need(c, 2) < 0)
                    return -1;
                cli_drop(c, 2);
                break;
            }
        }
        if (!chunked && left == 0)
            break;
        if (c->len == 0 && cli_need(c, 1) < 0)
            return -1;
        size_t n = c->len < left ? c->len : left;
        for (size_t i = 0; i < n; i++) {
            size_t k = got + i;
            CHECK(c->t, (unsigned char)c->buf[i] == (unsigned char)(k * 7 + k / 251),
                  "big body differs at byte %zu", k);
        }
        got += n;
        left -= n;
        cli_drop(c, n);
    }
    CHECK(c->t, got == BIG_BYTES, "big body %zu bytes", got);
    return 0;
}

static int client_big(tcase *t)
{
    cli c;
    resp r;
    char v[64];
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "GET /big HTTP/1.1\r\nHost: h\r\n\r\n") < 0 || expect_resp(&c, &r, 200, NULL, true) < 0)
        return -1;
    CHECK(t, resp_header(&r, "content-length", v, sizeof v) && strtoul(v, NULL, 10) == BIG_BYTES,
          "big Content-Length %s", v);
    if (read_big(&c, false) < 0)
        return -1;
    if (cli_sends(&c, "GET /bigstream HTTP/1.1\r\nHost: h\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, NULL, true) < 0 || read_big(&c, true) < 0)
        return -1;
    if (cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, "hello", false) < 0)
        return -1;
    cli_close(&c);
    return 0;
}

static void test_big_responses_queued(void **state)
{
    tcase *t = calloc(1, sizeof *t);
    run_case(t, "127.0.0.1", NULL, client_big, 0, true);
    assert_int_equal(t->requests, 3);
    free(t);
}

static int client_head_continue_chunked(tcase *t)
{
    cli c;
    resp r;
    char v[64];
    CHECK(t, cli_open(&c, t) == 0, "connect");
    /* HEAD: Content-Length of the GET, no body (the next response would be garbled). */
    if (cli_sends(&c, "HEAD /hello HTTP/1.1\r\nHost: h\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, NULL, true) < 0)
        return -1;
    CHECK(t, resp_header(&r, "content-length", v, sizeof v) && strcmp(v, "5") == 0,
          "HEAD Content-Length '%s'", v);
    if (cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, "hello", false) < 0)
        return -1;
    /* 100-continue: the interim answer comes before we send the body. */
    if (cli_sends(&c, "POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n") <
        0)
        return -1;
    const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (cli_need(&c, sizeof cont - 1) < 0)
        return -1;
    CHECK(t, memcmp(c.buf, cont, sizeof cont - 1) == 0, "no 100 Continue: %.30s", c.buf);
    cli_drop(&c, sizeof cont - 1);
    if (cli_sends(&c, "ping") < 0 || expect_resp(&c, &r, 200, "ping", false) < 0)
        return -1;
    /* Chunked request body, chunked response. */
    if (cli_sends(&c, "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, "abcde", false) < 0)
        return -1;
    if (cli_sends(&c, "GET /stream HTTP/1.1\r\nHost: h\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, "abcde", false) < 0)
        return -1;
    CHECK(t, resp_header(&r, "transfer-encoding", v, sizeof v), "stream not chunked");
    CHECK(t, !resp_header(&r, "content-length", v, sizeof v), "stream has a length");
    /* HEAD of a streamed response: head only, the connection stays usable. */
    if (cli_sends(&c, "HEAD /stream HTTP/1.1\r\nHost: h\r\n\r\nGET /hello HTTP/1.1\r\nHost: h\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, NULL, true) < 0 || expect_resp(&c, &r, 200, "hello", false) < 0)
        return -1;
    /* Over the body limit with Expect: 413 at once, the body is never sent. */
    if (cli_sends(&c, "POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                      "Content-Length: 1001\r\n\r\n") < 0 ||
        expect_json_error(&c, 413) < 0)
        return -1;
    cli_close(&c);
    /* HTTP/1.0 streaming: no chunking, the body ends with the connection. */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "GET /stream HTTP/1.0\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, "abcde", false) < 0)
        return -1;
    CHECK(t, !resp_header(&r, "transfer-encoding", v, sizeof v), "chunked to HTTP/1.0");
    cli_close(&c);
    return 0;
}

static void test_head_continue_chunked(void **state)
{
    h1_limits lim;
    h1_limits_default(&lim);
    lim.body_bytes_max = 1000;
    tcase *t = calloc(1, sizeof *t);
    run_case(t, "127.0.0.1", &lim, client_head_continue_chunked, 0, true);
    free(t);
}

static int client_connection_close(tcase *t)
{
    cli c;
    resp r;
    char v[64];
    const char *reqs[] = {
        "GET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        "GET /hello HTTP/1.0\r\n\r\n",
    };
    for (int i = 0; i < 2; i++) {
        CHECK(t, cli_open(&c, t) == 0, "connect");
        if (cli_sends(&c, reqs[i]) < 0 || expect_resp(&c, &r, 200, "hello", false) < 0)
            return -1;
        CHECK(t, resp_header(&r, "connection", v, sizeof v) && strcmp(v, "close") == 0,
              "no Connection: close (case %d)", i);
        if (cli_expect_eof(&c) < 0)
            return -1;
        cli_close(&c);
    }
    /* HTTP/1.0 keep-alive is answered in kind and honoured. */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, "hello", false) < 0)
        return -1;
    CHECK(t, resp_header(&r, "connection", v, sizeof v) && strcasecmp(v, "keep-alive") == 0,
          "no Connection: keep-alive for HTTP/1.0");
    if (cli_sends(&c, "GET /hello HTTP/1.0\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, "hello", false) < 0 || cli_expect_eof(&c) < 0)
        return -1;
    cli_close(&c);
    /* A handler's bad header becomes a 500, never an injected header. */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "GET /bad-header HTTP/1.1\r\nHost: h\r\n\r\n") < 0 || expect_json_error(&c, 500) < 0)
        return -1;
    cli_close(&c);
    /* stop_accepting: the in-flight response says close, then nobody is listening. */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "GET /stop HTTP/1.1\r\nHost: h\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, "bye", false) < 0)
        return -1;
    CHECK(t, resp_header(&r, "connection", v, sizeof v) && strcmp(v, "close") == 0,
          "stopping server kept the connection");
    if (cli_expect_eof(&c) < 0)
        return -1;
    cli_close(&c);
    int rc = cli_open(&c, t);
    CHECK(t, rc == -ECONNREFUSED, "connect after stop_accepting: %d", rc);
    return 0;
}

static void test_connection_close(void **state)
{
    tcase *t = calloc(1, sizeof *t);
    run_case(t, "127.0.0.1", NULL, client_connection_close, 0, true);
    assert_int_equal(t->bad_rc, DUR_EINVAL);
    free(t);
}

static int send_head_of(cli *c, size_t total)
{
    const char pre[] = "GET /hello HTTP/1.1\r\nHost: h\r\nX-Pad: ";
    size_t fixed = sizeof pre - 1 + 4;
    char *p = malloc(total);
    CHECK(c->t, p != NULL, "malloc");
    memcpy(p, pre, sizeof pre - 1);
    memset(p + sizeof pre - 1, 'a', total - fixed);
    memcpy(p + total - 4, "\r\n\r\n", 4);
    int rc = cli_send(c, p, total);
    free(p);
    return rc;
}

static int client_limits(tcase *t)
{
    cli c;
    resp r;
    /* A head of exactly the limit passes; one byte more is 431. */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (send_head_of(&c, H1_HEAD_BYTES_MAX_DEFAULT) < 0 ||
        expect_resp(&c, &r, 200, "hello", false) < 0)
        return -1;
    if (send_head_of(&c, H1_HEAD_BYTES_MAX_DEFAULT + 1) < 0 || expect_json_error(&c, 431) < 0)
        return -1;
    cli_close(&c);
    /* Too many headers. */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    char many[8192];
    size_t n = (size_t)snprintf(many, sizeof many, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (unsigned i = 0; i <= H1_HEADERS_COUNT_MAX; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "h%u: v\r\n", i);
    n += (size_t)snprintf(many + n, sizeof many - n, "\r\n");
    if (cli_send(&c, many, n) < 0 || expect_json_error(&c, 431) < 0)
        return -1;
    cli_close(&c);
    /* Malformed: 400 and close. */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "GET / HTTP/1.1\r\nHost: h\r\nBroken header\r\n\r\n") < 0 ||
        expect_json_error(&c, 400) < 0)
        return -1;
    cli_close(&c);
    /* Content-Length over the limit, no Expect, client still sending the body: the
     * 413 arrives and the close is clean (no reset eating it). */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    static char body[256 * 1024];
    memset(body, 'b', sizeof body);
    if (cli_sends(&c, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 262144\r\n\r\n") < 0 ||
        cli_send(&c, body, sizeof body) < 0 || expect_json_error(&c, 413) < 0)
        return -1;
    cli_close(&c);
    /* A chunked body that grows past the limit. */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3e9\r\n") < 0 ||
        cli_send(&c, body, 1001) < 0 || expect_json_error(&c, 413) < 0)
        return -1;
    cli_close(&c);
    return 0;
}

static void test_limits(void **state)
{
    h1_limits lim;
    h1_limits_default(&lim);
    lim.body_bytes_max = 1000;
    tcase *t = calloc(1, sizeof *t);
    run_case(t, "127.0.0.1", &lim, client_limits, 0, true);
    assert_int_equal(t->requests, 1);
    free(t);
}

static int client_timeouts(tcase *t)
{
    cli c;
    resp r;
    /* Slowloris: part of a head, then nothing: 408 and close. */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: h\r\nHo") < 0 || expect_json_error(&c, 408) < 0)
        return -1;
    cli_close(&c);
    /* Connected, silent: the same. */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (expect_json_error(&c, 408) < 0)
        return -1;
    cli_close(&c);
    /* A body that stops arriving. */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc") < 0 ||
        expect_json_error(&c, 408) < 0)
        return -1;
    cli_close(&c);
    /* Idle keep-alive: closed quietly. */
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, "hello", false) < 0 || cli_expect_eof(&c) < 0)
        return -1;
    cli_close(&c);
    return 0;
}

static void test_timeouts(void **state)
{
    h1_limits lim;
    h1_limits_default(&lim);
    lim.head_timeout_ms = 200;
    lim.idle_timeout_ms = 300;
    tcase *t = calloc(1, sizeof *t);
    run_case(t, "127.0.0.1", &lim, client_timeouts, 0, true);
    free(t);
}

/* A body trickled one byte at a time, never stalling for the progress timeout:
 * the whole-body deadline still ends it with 408. */
static int client_body_deadline(tcase *t)
{
    cli c;
    resp r;
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n") < 0)
        return -1;
    bool answered = false;
    for (int i = 0; i < 40 && !answered; i++) { /* 4 s of trickling at most */
        char peek;
        answered = recv(c.fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
        if (!answered) {
            if (cli_send(&c, "x", 1) < 0)
                return -1;
            usleep(100 * 1000);
        }
    }
    CHECK(t, answered, "a body trickled for 4 s was not cut off");
    if (cli_read(&c, &r, false) < 0)
        return -1;
    CHECK(t, r.status == 408, "status %d, wanted 408", r.status);
    CHECK(t, strstr(r.body, "not received within 600 ms") != NULL, "408 body %.200s", r.body);
    if (cli_expect_eof(&c) < 0)
        return -1;
    cli_close(&c);
    return 0;
}

static void test_body_deadline(void **state)
{
    h1_limits lim;
    h1_limits_default(&lim);
    lim.idle_timeout_ms = 400;
    lim.body_timeout_ms = 600;
    tcase *t = calloc(1, sizeof *t);
    run_case(t, "127.0.0.1", &lim, client_body_deadline, 0, true);
    assert_int_equal(t->requests, 0);
    free(t);
}

/* The URL handed to the handler, the reason phrase it sets, and Host refusals. */
static int client_url_reason(tcase *t)
{
    cli c;
    resp r;
    char want[96];
    CHECK(t, cli_open(&c, t) == 0, "connect");
    snprintf(want, sizeof want, "http://%s:%d/url", t->family == AF_INET6 ? "[::1]" : "127.0.0.1",
             t->port);
    if (cli_sends(&c, "GET /url HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, want, false) < 0)
        return -1;
    if (cli_sends(&c, "GET /url?q=1 HTTP/1.1\r\nHost: Example.COM:80\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, "http://example.com/url?q=1", false) < 0)
        return -1;
    if (cli_sends(&c, "GET /reason HTTP/1.1\r\nHost: h\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 404, "nope", false) < 0)
        return -1;
    CHECK(t, strncmp(r.head, "HTTP/1.1 404 Not Here\r\n", 23) == 0, "status line %.40s", r.head);
    if (cli_sends(&c, "GET /reason-refused HTTP/1.1\r\nHost: h\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 404, "nope", false) < 0)
        return -1;
    CHECK(t, strncmp(r.head, "HTTP/1.1 404 Not Found\r\n", 24) == 0, "status line %.40s", r.head);
    CHECK(t, !strstr(r.head, "X-Injected"), "a refused reason reached the wire");
    /* HTTP/1.1 without Host: 400 with a JSON body, and the handler never runs. */
    if (cli_sends(&c, "GET /url HTTP/1.1\r\n\r\n") < 0 || expect_json_error(&c, 400) < 0)
        return -1;
    cli_close(&c);
    return 0;
}

static void test_url_and_reason(void **state)
{
    const char *ips[] = {"127.0.0.1", "::1"};
    for (size_t i = 0; i < 2; i++) {
        tcase *t = calloc(1, sizeof *t);
        run_case(t, ips[i], NULL, client_url_reason, 0, true);
        assert_int_equal(t->requests, 4);
        assert_int_equal(t->reason_rc, DUR_EINVAL);
        free(t);
    }
}

static int client_disconnect(tcase *t)
{
    cli c;
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "GET /hang HTTP/1.1\r\nHost: h\r\n\r\n") < 0)
        return -1;
    cli_close(&c); /* gone before the handler answers */
    return 0;
}

static void test_disconnect_while_pending(void **state)
{
    tcase *t = calloc(1, sizeof *t);
    run_case(t, "127.0.0.1", NULL, client_disconnect, 1, true);
    assert_int_equal(t->held_rc, DUR_ECLOSED);
    assert_int_equal(t->inflight_at_close, 0);
    assert_null(t->held);
    free(t);
}

static int client_upgrade(tcase *t)
{
    cli c;
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "GET /upgrade HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n"
                      "Upgrade: test\r\n\r\n") < 0)
        return -1;
    char *end;
    while (!(end = memmem(c.buf, c.len, "\r\n\r\n", 4))) {
        int rc = cli_fill(&c);
        CHECK(t, rc > 0, "no 101 head");
    }
    CHECK(t, strncmp(c.buf, "HTTP/1.1 101", 12) == 0, "not a 101: %.40s", c.buf);
    cli_drop(&c, (size_t)(end + 4 - c.buf));
    if (cli_sends(&c, "go") < 0)
        return -1;
    int rc;
    while ((rc = cli_fill(&c)) > 0)
        ;
    CHECK(t, rc == 0, "no EOF after the sends");
    CHECK(t, c.len == 11 && memcmp(c.buf, "onetwothree", 11) == 0,
          "expected onetwothree, got %zu bytes: %.40s", c.len, c.buf);
    cli_close(&c);
    return 0;
}

/* An upgraded connection's sends in one loop turn are held and go out together,
 * in order, at the end of the turn (counted by h1_conn_queued_bytes meanwhile);
 * a flushing close sends them first. */
static void test_upgraded_sends_coalesced(void **state)
{
    tcase *t = calloc(1, sizeof *t);
    run_case(t, "127.0.0.1", NULL, client_upgrade, 1, true);
    assert_int_equal(t->up_rc, 0);
    assert_int_equal(t->up_queued, 11);
    assert_null(t->up);
    free(t);
}

static int client_hold(tcase *t)
{
    cli c;
    CHECK(t, cli_open(&c, t) == 0, "connect");
    if (cli_sends(&c, "GET /hold HTTP/1.1\r\nHost: h\r\n\r\n") < 0)
        return -1;
    /* The server is closed with the handler still holding the request. */
    int rc = cli_fill(&c);
    CHECK(t, rc == 0 && c.len == 0, "expected a bare close, got %zu bytes", c.len);
    cli_close(&c);
    return 0;
}

static void test_server_close_abandons_inflight(void **state)
{
    tcase *t = calloc(1, sizeof *t);
    run_case(t, "127.0.0.1", NULL, client_hold, 1, false);
    assert_int_equal(t->inflight_at_close, 1);
    assert_non_null(t->held);
    /* The server is gone; the conn waited for its handler and now frees itself. */
    assert_true(h1_conn_closed(t->held));
    assert_int_equal(h1_conn_respond(t->held, 200, NULL, 0, "late", 4), DUR_ECLOSED);
    free(t);
}

static int client_ipv6(tcase *t)
{
    cli c;
    resp r;
    CHECK(t, cli_open(&c, t) == 0, "connect [::1]");
    if (cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n") < 0 ||
        expect_resp(&c, &r, 200, "hello", false) < 0)
        return -1;
    cli_close(&c);
    return 0;
}

static void test_open_addresses(void **state)
{
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    h1_server *a = NULL, *b = NULL, *bad = NULL;
    err e = {0};
    assert_int_equal(h1_server_open(&loop, "no-such-ip", 0, NULL, on_request, NULL, &bad, &e),
                     DUR_EINVAL);
    assert_non_null(strstr(e.msg, "no-such-ip"));
    assert_null(bad);
    assert_int_equal(h1_server_open(&loop, "127.0.0.1", 70000, NULL, on_request, NULL, &bad, &e),
                     DUR_EINVAL);
    /* Two shards on one port: SO_REUSEPORT. */
    assert_int_equal(h1_server_open(&loop, "127.0.0.1", 0, NULL, on_request, NULL, &a, &e), 0);
    int port = h1_server_port(a);
    if (h1_server_open(&loop, "127.0.0.1", port, NULL, on_request, NULL, &b, &e) != 0)
        fail_msg("second listener on port %d: %s", port, e.msg);
    assert_int_equal(h1_server_port(b), port);
    assert_int_equal(h1_server_inflight(a), 0);
    h1_server_close(a, NULL, NULL);
    h1_server_close(b, NULL, NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);

    tcase *t = calloc(1, sizeof *t);
    run_case(t, "::1", NULL, client_ipv6, 0, true);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_alive_pipelining),
        cmocka_unit_test(test_head_continue_chunked),
        cmocka_unit_test(test_big_responses_queued),
        cmocka_unit_test(test_connection_close),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_body_deadline),
        cmocka_unit_test(test_url_and_reason),
        cmocka_unit_test(test_disconnect_while_pending),
        cmocka_unit_test(test_server_close_abandons_inflight),
        cmocka_unit_test(test_open_addresses),
        cmocka_unit_test(test_upgraded_sends_coalesced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
