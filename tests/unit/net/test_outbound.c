/* Unit tests for net/outbound.c (libcurl multi on a libuv loop): a GET against a
 * one-shot server on the same loop (head, headers, body, done), a body paused by
 * on_data and resumed, a streamed request body (paused sending, full, on_drain,
 * chunked end), cancelling from inside on_head (no later callback), a refused
 * connection's message, schemes other than http(s) refused at start, and freeing
 * with a transfer in flight. */
/* cmocka needs these four headers first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/outbound.h"

/* ---- a one-shot HTTP server: answers every connection with `reply` ---- */

typedef struct server {
    uv_tcp_t tcp;
    int port;
    const char *reply;
    const char *until;      /* reply once the request ends with this (a chunked body) */
    size_t got;             /* bytes of request read */
} server;

typedef struct sconn {
    uv_tcp_t tcp;
    uv_write_t w;
    server *s;
    bool replied;
    char buf[4096];
    char tail[8];           /* the last bytes read, to find `until` across reads */
} sconn;

static void on_sconn_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_written(uv_write_t *w, int status)
{
    sconn *c = w->data;
    uv_close((uv_handle_t *)&c->tcp, on_sconn_closed);
}

static void on_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    sconn *c = h->data;
    *b = uv_buf_init(c->buf, sizeof c->buf);
}

static void on_sread(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    sconn *c = st->data;
    if (n < 0) {
        if (!c->replied)
            uv_close((uv_handle_t *)&c->tcp, on_sconn_closed);
        return;
    }
    c->s->got += (size_t)n;
    if (c->s->until && !c->replied && n > 0) {
        size_t ul = strlen(c->s->until);
        char joined[sizeof c->tail + sizeof c->buf];
        memcpy(joined, c->tail, sizeof c->tail);
        memcpy(joined + sizeof c->tail, b->base, (size_t)n);
        size_t jl = sizeof c->tail + (size_t)n;
        memcpy(c->tail, joined + jl - sizeof c->tail, sizeof c->tail);
        if (memcmp(joined + jl - ul, c->s->until, ul) != 0)
            return;
    } else if (c->replied || n == 0 || !memmem(b->base, (size_t)n, "\r\n\r\n", 4)) {
        return;
    }
    c->replied = true;
    uv_read_stop(st);
    uv_buf_t out = uv_buf_init((char *)c->s->reply, (unsigned)strlen(c->s->reply));
    c->w.data = c;
    uv_write(&c->w, st, &out, 1, on_written);
}

static void on_conn(uv_stream_t *l, int status)
{
    server *s = l->data;
    sconn *c = calloc(1, sizeof *c);
    c->s = s;
    uv_tcp_init(l->loop, &c->tcp);
    c->tcp.data = c;
    uv_accept(l, (uv_stream_t *)&c->tcp);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_sread);
}

static void server_open(uv_loop_t *loop, server *s, const char *reply)
{
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(loop, &s->tcp);
    s->tcp.data = s;
    s->reply = reply;
    assert_int_equal(uv_tcp_bind(&s->tcp, (const struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&s->tcp, 8, on_conn), 0);
    struct sockaddr_in got;
    int len = sizeof got;
    uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&got, &len);
    s->port = ntohs(got.sin_port);
}

/* ---- what the callbacks saw ---- */

typedef struct seen {
    int heads, status, dones, rc, datas;
    char header[64];
    char body[256];
    size_t body_len;
    char msg[512];
    bool pause_first;
    bool cancel_in_head;
    outbound_req *req;
} seen;

static void cb_head(outbound_req *r, void *ud, const outbound_head *h)
{
    seen *s = ud;
    s->heads++;
    s->status = h->status;
    for (size_t i = 0; i < h->nhdrs; i++)
        if (strcasecmp(h->hdrs[2 * i], "x-t") == 0)
            snprintf(s->header, sizeof s->header, "%s", h->hdrs[2 * i + 1]);
    if (s->cancel_in_head)
        outbound_cancel(r);
}

static bool cb_data(outbound_req *r, void *ud, const char *d, size_t n)
{
    seen *s = ud;
    s->datas++;
    if (s->body_len + n < sizeof s->body) {
        memcpy(s->body + s->body_len, d, n);
        s->body_len += n;
    }
    if (s->pause_first && s->datas == 1)
        return true;
    return false;
}

static void cb_done(outbound_req *r, void *ud, int rc, const char *msg)
{
    seen *s = ud;
    s->dones++;
    s->rc = rc;
    snprintf(s->msg, sizeof s->msg, "%s", msg ? msg : "");
}

static const outbound_cbs CBS = {cb_head, cb_data, cb_done};

static void run_until(uv_loop_t *loop, const int *flag, int want)
{
    for (int i = 0; i < 20000 && *flag < want; i++)
        uv_run(loop, UV_RUN_ONCE);
}

static void close_all(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

static void on_server_closed(uv_handle_t *h)
{
}

static void test_get(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    server srv = {0};
    server_open(&loop, &srv, "HTTP/1.1 200 OK\r\nX-T: value\r\nContent-Length: 5\r\n\r\nhello");
    outbound *o;
    err e = {0};
    assert_int_equal(outbound_new(&loop, NULL, NULL, &o, &e), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", srv.port);
    seen s = {0};
    outbound_opts opts = {.url = url, .method = "GET"};
    assert_int_equal(outbound_start(o, &opts, &CBS, &s, &s.req, &e), 0);
    run_until(&loop, &s.dones, 1);
    assert_int_equal(s.heads, 1);
    assert_int_equal(s.status, 200);
    assert_string_equal(s.header, "value");
    assert_int_equal(s.rc, 0);
    assert_int_equal(s.body_len, 5);
    assert_memory_equal(s.body, "hello", 5);
    assert_int_equal(outbound_active(o), 0);
    outbound_free(o);
    uv_close((uv_handle_t *)&srv.tcp, on_server_closed);
    close_all(&loop);
}

static uv_loop_t *resume_loop;
static outbound_req *resume_req;
static void on_resume_timer(uv_timer_t *t)
{
    outbound_resume(resume_req);
    uv_close((uv_handle_t *)t, NULL);
}

static void test_pause_resume(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    static char reply[70000];
    int k = snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\nContent-Length: 60000\r\n\r\n");
    memset(reply + k, 'a', 60000);
    reply[k + 60000] = 0;
    server srv = {0};
    server_open(&loop, &srv, reply);
    outbound *o;
    err e = {0};
    assert_int_equal(outbound_new(&loop, NULL, NULL, &o, &e), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", srv.port);
    seen s = {.pause_first = true};
    outbound_opts opts = {.url = url, .method = "GET"};
    assert_int_equal(outbound_start(o, &opts, &CBS, &s, &s.req, &e), 0);
    run_until(&loop, &s.datas, 1);
    /* Paused: more loop turns deliver nothing until resumed. */
    for (int i = 0; i < 50; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(s.datas, 1);
    assert_int_equal(s.dones, 0);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    resume_loop = &loop;
    resume_req = s.req;
    uv_timer_start(&t, on_resume_timer, 1, 0);
    run_until(&loop, &s.dones, 1);
    assert_int_equal(s.rc, 0);
    assert_true(s.datas >= 2);
    outbound_free(o);
    uv_close((uv_handle_t *)&srv.tcp, on_server_closed);
    close_all(&loop);
}

static void test_cancel_in_head(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    server srv = {0};
    server_open(&loop, &srv, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    outbound *o;
    err e = {0};
    assert_int_equal(outbound_new(&loop, NULL, NULL, &o, &e), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", srv.port);
    seen s = {.cancel_in_head = true};
    outbound_opts opts = {.url = url, .method = "GET"};
    assert_int_equal(outbound_start(o, &opts, &CBS, &s, &s.req, &e), 0);
    run_until(&loop, &s.heads, 1);
    for (int i = 0; i < 50; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(s.heads, 1);
    assert_int_equal(s.datas, 0);
    assert_int_equal(s.dones, 0);
    assert_int_equal(outbound_active(o), 0);
    outbound_free(o);
    uv_close((uv_handle_t *)&srv.tcp, on_server_closed);
    close_all(&loop);
}

/* A streamed request body: written in pieces while curl sends, paused when curl
 * finds nothing to send (the writer waits on a timer), "full" past the buffer with
 * on_drain telling when to go on, then the end: sent chunked, read whole. */
typedef struct writer {
    seen s;
    outbound_req *r;
    size_t written, total;
    int drains, fulls;
    bool ended;
} writer;

static char piece[16384];

static void write_some(writer *w)
{
    for (;;) {
        if (w->written >= w->total) {
            if (!w->ended) {
                w->ended = true;
                outbound_body_end(w->r);
            }
            return;
        }
        bool full = false;
        err e = {0};
        assert_int_equal(outbound_body_write(w->r, piece, sizeof piece, &full, &e), 0);
        w->written += sizeof piece;
        if (full) {
            w->fulls++;
            return;   /* on_drain goes on */
        }
    }
}

static void cb_drain(outbound_req *r, void *ud)
{
    writer *w = ud;
    w->drains++;
    write_some(w);
}

static const outbound_cbs WCBS = {cb_head, cb_data, cb_done, cb_drain};

static void on_write_timer(uv_timer_t *t)
{
    write_some(t->data);
    uv_close((uv_handle_t *)t, NULL);
}

static void test_streamed_body(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    server srv = {.until = "\r\n0\r\n\r\n"};
    server_open(&loop, &srv, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    outbound *o;
    err e = {0};
    assert_int_equal(outbound_new(&loop, NULL, NULL, &o, &e), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/up", srv.port);
    memset(piece, 'x', sizeof piece);
    writer w = {.total = 64 * sizeof piece};
    outbound_opts opts = {.url = url, .method = "POST", .body_stream = true};
    assert_int_equal(outbound_start(o, &opts, &WCBS, &w, &w.r, &e), 0);
    /* One piece now; the rest after curl has found the buffer empty (paused). */
    bool full = false;
    assert_int_equal(outbound_body_write(w.r, piece, sizeof piece, &full, &e), 0);
    assert_false(full);
    w.written = sizeof piece;
    for (int i = 0; i < 50; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    t.data = &w;
    uv_timer_start(&t, on_write_timer, 20, 0);
    run_until(&loop, &w.s.dones, 1);
    assert_int_equal(w.s.rc, 0);
    assert_int_equal(w.s.status, 200);
    assert_true(w.ended);
    assert_true(w.fulls > 0);
    assert_true(w.drains >= w.fulls);
    assert_true(srv.got > w.total);   /* the body, its chunk framing and the head */
    outbound_free(o);
    uv_close((uv_handle_t *)&srv.tcp, on_server_closed);
    close_all(&loop);
}

static void test_refused_and_schemes(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    outbound *o;
    err e = {0};
    assert_int_equal(outbound_new(&loop, NULL, NULL, &o, &e), 0);
    seen s = {0};
    outbound_opts opts = {.url = "http://127.0.0.1:1/", .method = "GET"};
    assert_int_equal(outbound_start(o, &opts, &CBS, &s, &s.req, &e), 0);
    run_until(&loop, &s.dones, 1);
    assert_int_equal(s.heads, 0);
    assert_int_not_equal(s.rc, 0);
    assert_string_equal(s.msg, "connection refused to 127.0.0.1:1");
    const char *bad[] = {"file:///etc/passwd", "ftp://127.0.0.1/", "gopher://x/", "dict://x/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        outbound_req *r = NULL;
        err e2 = {0};
        outbound_opts b = {.url = bad[i], .method = "GET"};
        assert_int_equal(outbound_start(o, &b, &CBS, &s, &r, &e2), DUR_EINVAL);
        assert_non_null(strstr(e2.msg, "not http or https"));
    }
    /* Freed with a transfer in flight: no callback, every handle closes. */
    seen s2 = {0};
    outbound_opts hang = {.url = "http://127.0.0.1:1/", .method = "GET"};
    assert_int_equal(outbound_start(o, &hang, &CBS, &s2, &s2.req, &e), 0);
    outbound_free(o);
    close_all(&loop);
    assert_int_equal(s2.dones, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_pause_resume),
        cmocka_unit_test(test_cancel_in_head),
        cmocka_unit_test(test_streamed_body),
        cmocka_unit_test(test_refused_and_schemes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
