/* ws_client.c: outbound WebSocket connections (see ws_client.h).
 *
 * States: RESOLVE (uv_getaddrinfo) → CONNECT (uv_tcp_connect; the next address
 * on failure) → TLS (wss only: the TLS handshake) → HEAD (the request is out;
 * the answer's head is read) → BODY (a non-101 answer: its body is read, by
 * Content-Length, chunked, or to the end) or OPEN (net/ws.c owns the bytes). One
 * timer serves the handshake deadline, the raw timeout of ws.c and the linger
 * after our Close.
 *
 * TLS (wss): OpenSSL over two memory BIOs — bytes from the socket go into the
 * read BIO, what OpenSSL writes goes from the write BIO to the socket — with the
 * system's trust store (SSL_CERT_FILE / SSL_CERT_DIR are honoured), peer
 * verification and the host name (or IP address) checked against the
 * certificate. TLS 1.2 at least.
 *
 * Lifetime: the struct lives until its two handles are closed and a pending
 * getaddrinfo has called back; then, if it was open, ws_conn_gone tells ws.c. */
#include "net/ws_client.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"

enum { S_RESOLVE, S_CONNECT, S_TLS, S_HEAD, S_BODY, S_OPEN };

struct ws_client {
    uv_loop_t *loop;
    uv_getaddrinfo_t gai;
    uv_connect_t creq;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t sreq;
    struct addrinfo *addrs, *next_addr;
    int state;
    int handles; /* initialised and not yet closed */
    bool gai_pending, tcp_open, closing, told, flush_close, lingering;
    size_t pending_writes, queued;
    ws_client_done_fn done;
    const ws_conn_cbs *cbs;
    void *ud;
    ws_conn *ws;
    SSL *ssl; /* wss: TLS over memory BIOs; NULL for ws */
    bool tls, tls_ready;
    char host[256]; /* for SNI and the certificate's name */
    char *req;      /* the handshake request */
    size_t req_len;
    char accept[WS_ACCEPT_LEN + 1];
    char peer[300];
    buf in;          /* the head, then a non-101 body */
    char *head;      /* the head, split into strings */
    const char **hv; /* name, value pointers into head */
    size_t nhdrs;
    int status;
    const char *reason;
    long long content_length; /* -1: none */
    bool chunked;
    char rbuf[16384];
};

typedef struct wreq {
    uv_write_t req;
    ws_client *c;
    size_t len;
    char data[];
} wreq;

static void conn_close(ws_client *c);

/* ---- lifetime ---- */

static void maybe_free(ws_client *c)
{
    if (c->handles > 0 || c->gai_pending)
        return;
    if (c->ws) {
        ws_conn *w = c->ws;
        c->ws = NULL;
        ws_conn_gone(w);
    }
    if (c->addrs)
        uv_freeaddrinfo(c->addrs);
    SSL_free(c->ssl);
    buf_fini(&c->in);
    free(c->req);
    free(c->head);
    free(c->hv);
    free(c);
}

static void on_closed(uv_handle_t *h)
{
    ws_client *c = h->data;
    c->handles--;
    maybe_free(c);
}

static void conn_close(ws_client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->tcp_open)
        uv_close((uv_handle_t *)&c->tcp, on_closed);
    uv_close((uv_handle_t *)&c->timer, on_closed);
}

/* The handshake failed: the caller hears why (once), the connection closes. */
static void fail(ws_client *c, const ws_client_answer *a, const char *fmt, const char *arg)
    __attribute__((format(printf, 3, 0)));
static void fail(ws_client *c, const ws_client_answer *a, const char *fmt, const char *arg)
{
    if (!c->told) {
        c->told = true;
        char msg[512];
        snprintf(msg, sizeof msg, fmt, arg);
        c->done(c->ud, NULL, a, msg);
    }
    conn_close(c);
}

/* ---- writing ---- */

static void start_linger(ws_client *c);

static void on_write(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    ws_client *c = w->c;
    c->pending_writes--;
    c->queued -= w->len;
    free(w);
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->flush_close && c->pending_writes == 0)
        start_linger(c);
}

static int raw_send(ws_client *c, const void *data, size_t len)
{
    if (c->closing || !c->tcp_open || c->lingering)
        return DUR_ECLOSED;
    size_t done = 0;
    if (c->pending_writes == 0) {
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (n >= 0)
            done = (size_t)n;
        else if (n != UV_EAGAIN && n != UV_ENOSYS) {
            conn_close(c);
            return DUR_ECLOSED;
        }
        if (done == len)
            return 0;
    }
    size_t rest = len - done;
    wreq *w = malloc(sizeof *w + rest);
    if (!w) {
        conn_close(c);
        return DUR_ENOMEM;
    }
    w->c = c;
    w->len = rest;
    memcpy(w->data, (const char *)data + done, rest);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)rest);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
        free(w);
        conn_close(c);
        return DUR_ECLOSED;
    }
    c->pending_writes++;
    c->queued += rest;
    return 0;
}

/* ---- TLS ---- */

static SSL_CTX *tls_ctx;

static void tls_ctx_init(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        SSL_CTX_free(ctx);
        ERR_clear_error();
        return;
    }
    tls_ctx = ctx;
}

/* What OpenSSL wrote goes to the socket. */
static int tls_flush(ws_client *c)
{
    char out[16384];
    int n;
    while ((n = BIO_read(SSL_get_wbio(c->ssl), out, sizeof out)) > 0)
        if (raw_send(c, out, (size_t)n) < 0)
            return DUR_ECLOSED;
    return 0;
}

/* Plain bytes out: through TLS for wss. */
static int conn_send(ws_client *c, const void *data, size_t len)
{
    if (!c->tls)
        return raw_send(c, data, len);
    if (!c->tls_ready || c->closing || c->lingering)
        return DUR_ECLOSED;
    if (len == 0)
        return 0;
    ERR_clear_error();
    if (SSL_write(c->ssl, data, (int)len) != (int)len) { /* a memory BIO takes it all */
        ERR_clear_error();
        conn_close(c);
        return DUR_ECLOSED;
    }
    return tls_flush(c);
}

/* ---- the ws_io net/ws.c drives ---- */

static void on_timer(uv_timer_t *t)
{
    ws_client *c = t->data;
    if (c->state < S_OPEN) {
        fail(c, NULL, "the WebSocket handshake with %s did not complete within 30 s", c->peer);
        return;
    }
    conn_close(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    ws_client *c = req->data;
    if (status < 0)
        conn_close(c);
}

/* Our Close went out: the write side shuts, we read until the server closes
 * (RFC 6455 7.1.1: the server closes the TCP connection first), or the timer. */
static void start_linger(ws_client *c)
{
    if (c->closing || c->lingering)
        return;
    if (c->tls_ready) { /* close_notify goes out before the write side shuts */
        ERR_clear_error();
        SSL_shutdown(c->ssl);
        ERR_clear_error();
        tls_flush(c);
    }
    c->lingering = true;
    uv_timer_start(&c->timer, on_timer, WS_CLOSE_TIMEOUT_MS, 0);
    c->sreq.data = c;
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
        conn_close(c);
}

static int io_send(void *t, const void *data, size_t len)
{
    return conn_send(t, data, len);
}

static void io_close(void *t, bool flush)
{
    ws_client *c = t;
    if (!flush) {
        conn_close(c);
        return;
    }
    c->flush_close = true;
    if (c->pending_writes == 0)
        start_linger(c);
}

static void io_timeout(void *t, uint32_t ms)
{
    ws_client *c = t;
    if (!c->closing)
        uv_timer_start(&c->timer, on_timer, ms, 0);
}

static size_t io_queued(const void *t)
{
    const ws_client *c = t;
    return c->closing ? 0 : c->queued;
}

static const char *io_peer(const void *t)
{
    return ((const ws_client *)t)->peer;
}

static const ws_io client_io = {io_send, io_close, io_timeout, io_queued, io_peer};

/* ---- the answer ---- */

static const char *answer_header(const ws_client *c, const char *name)
{
    for (size_t i = 0; i < c->nhdrs; i++)
        if (strcasecmp(c->hv[2 * i], name) == 0)
            return c->hv[2 * i + 1];
    return NULL;
}

/* Splits the head (status line and header lines, without the blank line) into
 * strings in c->head. 0, or -1 if it is not HTTP. */
static int head_parse(ws_client *c, const char *p, size_t len)
{
    c->head = malloc(len + 1);
    c->hv = calloc(len / 2 + 2, sizeof *c->hv);
    if (!c->head || !c->hv)
        return -1;
    memcpy(c->head, p, len);
    c->head[len] = '\0';
    char *save = NULL;
    char *line = strtok_r(c->head, "\r\n", &save);
    if (!line || strncmp(line, "HTTP/1.", 7) != 0 || strlen(line) < 12 || line[8] != ' ')
        return -1;
    if (line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9' || line[11] < '0' ||
        line[11] > '9')
        return -1;
    c->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    c->reason = line[12] == ' ' ? line + 13 : "";
    while ((line = strtok_r(NULL, "\r\n", &save))) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue; /* a malformed line: ignored */
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = '\0';
        c->hv[2 * c->nhdrs] = line;
        c->hv[2 * c->nhdrs + 1] = v;
        c->nhdrs++;
    }
    return 0;
}

static ws_client_answer answer_of(const ws_client *c)
{
    return (ws_client_answer){.status = c->status,
                              .reason = c->reason,
                              .hdrs = (const char *const *)c->hv,
                              .nhdrs = c->nhdrs};
}

/* Decodes a chunked body in place. 1: complete (*out_len set), 0: more needed,
 * -1: malformed. */
static int unchunk(char *p, size_t len, size_t *out_len)
{
    size_t r = 0, w = 0;
    for (;;) {
        char *eol = memmem(p + r, len - r, "\r\n", 2);
        if (!eol)
            return 0;
        char *end = NULL;
        unsigned long long n = strtoull(p + r, &end, 16);
        if (end == p + r || n > WS_CLIENT_BODY_BYTES_MAX)
            return -1;
        size_t data = (size_t)(eol - p) + 2;
        if (n == 0) {
            *out_len = w; /* trailers are not read: the body is complete */
            return 1;
        }
        if (len - data < n + 2)
            return 0;
        memmove(p + w, p + data, n);
        w += n;
        r = data + n + 2;
    }
}

/* A non-101 answer: is its body all here? `eof`: the server closed. */
static void body_check(ws_client *c, bool eof)
{
    ws_client_answer a = answer_of(c);
    size_t len = c->in.len;
    bool complete = eof;
    if (c->status == 204 || c->status == 304) {
        len = 0;
        complete = true;
    } else if (c->chunked) {
        char *copy = malloc(c->in.len + 1);
        if (!copy) {
            fail(c, &a, "%s", "out of memory reading the answer to the WebSocket handshake");
            return;
        }
        memcpy(copy, c->in.ptr ? c->in.ptr : "", c->in.len);
        copy[c->in.len] = '\0';
        int rc = unchunk(copy, c->in.len, &len);
        if (rc == 1) {
            memcpy(c->in.ptr, copy, len);
            complete = true;
        } else if (rc < 0 || eof) {
            free(copy);
            fail(c, &a, "%s", "the answer to the WebSocket handshake has a malformed chunked body");
            return;
        }
        free(copy);
    } else if (c->content_length >= 0) {
        if ((long long)c->in.len >= c->content_length) {
            len = (size_t)c->content_length;
            complete = true;
        } else if (eof) {
            fail(c, &a, "%s", "the server closed the connection in the middle of its answer");
            return;
        }
    }
    if (!complete)
        return;
    a.body = c->in.ptr ? c->in.ptr : "";
    a.body_len = len;
    char msg[64];
    snprintf(msg, sizeof msg, "the server answered %d instead of 101", c->status);
    fail(c, &a, "%s", msg);
}

/* The head of a 101: everything RFC 6455 4.1 asks the client to check. */
static const char *upgrade_check(const ws_client *c)
{
    const char *up = answer_header(c, "upgrade"), *conn = answer_header(c, "connection");
    const char *acc = answer_header(c, "sec-websocket-accept");
    if (!up || !ws_token_has(up, strlen(up), "websocket"))
        return "its 101 answer lacks 'Upgrade: websocket'";
    if (!conn || !ws_token_has(conn, strlen(conn), "upgrade"))
        return "its 101 answer lacks 'Connection: Upgrade'";
    if (!acc || strcmp(acc, c->accept) != 0)
        return "its 101 answer has a wrong or no Sec-WebSocket-Accept";
    if (answer_header(c, "sec-websocket-extensions"))
        return "its 101 answer names an extension that was not offered";
    return NULL;
}

static void head_done(ws_client *c, size_t head_len)
{
    if (head_parse(c, c->in.ptr, head_len - 4) < 0) {
        fail(c, NULL, "%s", "the server's answer to the WebSocket handshake is not HTTP");
        return;
    }
    /* What follows the head stays in c->in. */
    memmove(c->in.ptr, c->in.ptr + head_len, c->in.len - head_len);
    c->in.len -= head_len;
    if (c->status != 101) {
        const char *cl = answer_header(c, "content-length");
        const char *te = answer_header(c, "transfer-encoding");
        c->content_length = cl ? strtoll(cl, NULL, 10) : -1;
        c->chunked = te && ws_token_has(te, strlen(te), "chunked");
        c->state = S_BODY;
        body_check(c, false);
        return;
    }
    const char *why = upgrade_check(c);
    if (why) { /* no answer to hand on: a 101 that cannot be used is a failure */
        fail(c, NULL, "the server's WebSocket handshake failed: %s", why);
        return;
    }
    if (ws_conn_new(&client_io, c, true, c->cbs, c->ud, &c->ws) < 0) {
        fail(c, NULL, "%s", "out of memory opening a WebSocket");
        return;
    }
    c->state = S_OPEN;
    c->told = true;
    uv_timer_stop(&c->timer);
    ws_client_answer a = answer_of(c);
    c->done(c->ud, c->ws, &a, NULL);
    if (c->in.len > 0 && c->ws) /* frames that came with the 101 */
        ws_conn_feed(c->ws, c->in.ptr, c->in.len);
    buf_fini(&c->in);
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    ws_client *c = h->data;
    *b = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

/* The server closed the connection (or TLS ended). */
static void got_eof(ws_client *c)
{
    if (c->closing)
        return;
    if (c->state == S_BODY)
        body_check(c, true);
    else if (c->state < S_OPEN)
        fail(c, NULL, "%s closed the connection without answering the WebSocket handshake",
             c->peer);
    else
        conn_close(c);
}

/* Plain bytes in. */
static void got_bytes(ws_client *c, const char *bytes, size_t n)
{
    if (c->closing)
        return;
    if (c->state == S_OPEN) {
        if (c->ws)
            ws_conn_feed(c->ws, bytes, n);
        return;
    }
    int rc = buf_append(&c->in, bytes, n);
    if (rc < 0) {
        ws_client_answer a = answer_of(c);
        fail(c, c->state == S_BODY ? &a : NULL, "%s",
             rc == DUR_ETOOBIG ? "the answer to the WebSocket handshake is too large"
                               : "out of memory reading the answer to the WebSocket handshake");
        return;
    }
    if (c->state == S_BODY) {
        body_check(c, false);
        return;
    }
    char *end = memmem(c->in.ptr, c->in.len, "\r\n\r\n", 4);
    if (end)
        head_done(c, (size_t)(end - c->in.ptr) + 4);
    else if (c->in.len > WS_CLIENT_HEAD_BYTES_MAX)
        fail(c, NULL, "%s", "the head of the answer to the WebSocket handshake is over 64 KiB");
}

/* Steps the TLS handshake; once it is done the WebSocket handshake goes out. */
static void tls_handshake(ws_client *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    int why_code = r == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
    tls_flush(c);
    if (r == 1) {
        c->tls_ready = true;
        c->state = S_HEAD;
        if (conn_send(c, c->req, c->req_len) < 0)
            fail(c, NULL, "could not send the WebSocket handshake to %s", c->peer);
        return;
    }
    if (why_code == SSL_ERROR_WANT_READ || why_code == SSL_ERROR_WANT_WRITE)
        return;
    char why[400];
    long v = SSL_get_verify_result(c->ssl);
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    if (v != X509_V_OK)
        snprintf(why, sizeof why, "%s failed: the certificate was not accepted (%s)", c->peer,
                 X509_verify_cert_error_string(v));
    else
        snprintf(why, sizeof why, "%s failed: %s", c->peer,
                 reason ? reason : "the connection closed");
    ERR_clear_error();
    fail(c, NULL, "the TLS handshake with %s", why);
}

/* Encrypted bytes in: fed to OpenSSL, what it decrypts goes on. */
static void tls_in(ws_client *c, const char *data, size_t len)
{
    if (BIO_write(SSL_get_rbio(c->ssl), data, (int)len) != (int)len) {
        fail(c, NULL, "%s", "out of memory reading from a TLS connection");
        conn_close(c);
        return;
    }
    if (!c->tls_ready) {
        tls_handshake(c);
        if (!c->tls_ready)
            return;
    }
    char plain[16384];
    while (!c->closing) {
        ERR_clear_error();
        int n = SSL_read(c->ssl, plain, sizeof plain);
        if (n > 0) {
            got_bytes(c, plain, (size_t)n);
            continue;
        }
        int code = SSL_get_error(c->ssl, n);
        ERR_clear_error();
        if (!c->closing)
            tls_flush(c);
        if (code != SSL_ERROR_WANT_READ) /* close_notify, or a TLS error */
            got_eof(c);
        return;
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    ws_client *c = s->data;
    if (n == 0 || c->closing)
        return;
    if (n < 0)
        got_eof(c);
    else if (c->tls)
        tls_in(c, b->base, (size_t)n);
    else
        got_bytes(c, b->base, (size_t)n);
}

/* wss: the TLS session, its peer checks, and the first flight. */
static void tls_start(ws_client *c)
{
    c->state = S_TLS;
    c->ssl = SSL_new(tls_ctx);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    if (!c->ssl || !rb || !wb) {
        BIO_free(rb);
        BIO_free(wb);
        fail(c, NULL, "%s", "out of memory starting TLS");
        return;
    }
    SSL_set_bio(c->ssl, rb, wb);
    SSL_set_connect_state(c->ssl);
    unsigned char addr[16];
    bool ip = inet_pton(AF_INET, c->host, addr) == 1 || inet_pton(AF_INET6, c->host, addr) == 1;
    int ok =
        ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host)
           : SSL_set_tlsext_host_name(c->ssl, c->host) == 1 && SSL_set1_host(c->ssl, c->host) == 1;
    if (!ok) {
        ERR_clear_error();
        fail(c, NULL, "%s", "could not set the TLS peer name");
        return;
    }
    tls_handshake(c);
}

/* ---- connecting ---- */

static void try_connect(ws_client *c);

static void on_retry_closed(uv_handle_t *h)
{
    ws_client *c = h->data;
    c->handles--;
    if (c->closing)
        maybe_free(c);
    else
        try_connect(c);
}

static void on_connect(uv_connect_t *req, int status)
{
    ws_client *c = req->data;
    if (status == UV_ECANCELED || c->closing)
        return;
    if (status < 0) {
        if (c->next_addr) { /* the next address, on a new socket */
            c->tcp_open = false;
            uv_close((uv_handle_t *)&c->tcp, on_retry_closed);
            return;
        }
        char msg[400];
        snprintf(msg, sizeof msg, "%s (%s)", c->peer, uv_strerror(status));
        fail(c, NULL,
             status == UV_ECONNREFUSED ? "connection refused to %s" : "could not connect to %s",
             msg);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
        fail(c, NULL, "could not read from %s", c->peer);
        return;
    }
    if (c->tls) {
        tls_start(c);
        return;
    }
    c->state = S_HEAD;
    if (raw_send(c, c->req, c->req_len) < 0)
        fail(c, NULL, "could not send the WebSocket handshake to %s", c->peer);
}

static void try_connect(ws_client *c)
{
    struct addrinfo *ai = c->next_addr;
    c->next_addr = ai->ai_next;
    c->state = S_CONNECT;
    if (uv_tcp_init(c->loop, &c->tcp) < 0) {
        fail(c, NULL, "%s", "could not make a socket for the WebSocket");
        return;
    }
    c->tcp.data = c;
    c->tcp_open = true;
    c->handles++;
    c->creq.data = c;
    int rc = uv_tcp_connect(&c->creq, &c->tcp, ai->ai_addr, on_connect);
    if (rc < 0)
        fail(c, NULL, "could not connect to %s", c->peer);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    ws_client *c = req->data;
    c->gai_pending = false;
    c->addrs = res;
    if (c->closing) {
        maybe_free(c);
        return;
    }
    if (status < 0 || !res) {
        fail(c, NULL, "could not resolve the host of %s", c->peer);
        return;
    }
    c->next_addr = res;
    try_connect(c);
}

/* ---- the API ---- */

static bool has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static bool ours(const char *name)
{
    static const char *const names[] = {"host",
                                        "upgrade",
                                        "connection",
                                        "sec-websocket-key",
                                        "sec-websocket-version",
                                        "sec-websocket-extensions",
                                        "content-length",
                                        "transfer-encoding"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    return false;
}

/* The request, and the key's expected accept into c->accept. */
static int build_request(ws_client *c, const ws_client_opts *o, err *e)
{
    unsigned char raw[16];
    char key[25];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return err_setf(e, DUR_EINVAL, "no random bytes for the WebSocket key");
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    if (ws_accept_of(key, c->accept) < 0)
        return err_setf(e, DUR_EINVAL, "SHA-1 is unavailable");
    buf b;
    buf_init(&b, 256u * 1024u);
    int rc = buf_printf(&b,
                        "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: "
                        "Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n",
                        o->target, o->host_header, key);
    for (size_t i = 0; i < o->nhdrs && rc == 0; i++)
        if (!ours(o->hdrs[2 * i]))
            rc = buf_printf(&b, "%s: %s\r\n", o->hdrs[2 * i], o->hdrs[2 * i + 1]);
    if (rc == 0)
        rc = buf_append_str(&b, "\r\n");
    if (rc < 0) {
        buf_fini(&b);
        return err_setf(e, rc, "the WebSocket handshake's headers are too large");
    }
    c->req = buf_take(&b, &c->req_len);
    return 0;
}

int ws_client_open(uv_loop_t *loop, const ws_client_opts *o, ws_client_done_fn done,
                   const ws_conn_cbs *cbs, void *ud, ws_client **out, err *e)
{
    if (has_crlf(o->target) || has_crlf(o->host) || has_crlf(o->host_header) || o->target[0] != '/')
        return err_setf(e, DUR_EINVAL, "bad WebSocket URL");
    for (size_t i = 0; i < 2 * o->nhdrs; i++)
        if (has_crlf(o->hdrs[i]))
            return err_setf(e, DUR_EINVAL, "a header of the WebSocket handshake has CR or LF");
    if (o->tls) {
        static uv_once_t once = UV_ONCE_INIT;
        uv_once(&once, tls_ctx_init);
        if (!tls_ctx)
            return err_setf(e, DUR_EINVAL,
                            "TLS is unavailable (OpenSSL could not load the trust store)");
    }
    if (strlen(o->host) >= sizeof((ws_client *)0)->host)
        return err_setf(e, DUR_EINVAL, "the host name is too long");
    ws_client *c = calloc(1, sizeof *c);
    if (!c)
        return err_setf(e, DUR_ENOMEM, "out of memory");
    c->tls = o->tls;
    snprintf(c->host, sizeof c->host, "%s", o->host);
    c->loop = loop;
    c->done = done;
    c->cbs = cbs;
    c->ud = ud;
    c->content_length = -1;
    buf_init(&c->in, WS_CLIENT_HEAD_BYTES_MAX + WS_CLIENT_BODY_BYTES_MAX + 16u * 1024u);
    snprintf(c->peer, sizeof c->peer, strchr(o->host, ':') ? "[%.256s]:%u" : "%.256s:%u", o->host,
             (unsigned)o->port);
    int rc = build_request(c, o, e);
    if (rc < 0) {
        buf_fini(&c->in);
        free(c);
        return rc;
    }
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)o->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    c->gai.data = c;
    rc = uv_getaddrinfo(loop, &c->gai, on_resolved, o->host, port, &hints);
    if (rc < 0) {
        free(c->req);
        buf_fini(&c->in);
        free(c);
        return err_setf(e, DUR_EINVAL, "could not resolve %s: %s", o->host, uv_strerror(rc));
    }
    c->gai_pending = true;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->handles++;
    uv_timer_start(&c->timer, on_timer, WS_CLIENT_HANDSHAKE_MS, 0);
    *out = c;
    return 0;
}

void ws_client_cancel(ws_client *c)
{
    c->told = true;
    if (c->gai_pending)
        uv_cancel((uv_req_t *)&c->gai);
    conn_close(c);
}
