/* ws.c: WebSocket connections over upgraded h1_conns, and over the client
 * connections of ws_client.c (see ws.h).
 *
 * Bytes in: h1 hands each read to on_bytes, which lets wslay pull them through
 * recv_cb until they are used up (WOULDBLOCK), then sends what wslay queued in
 * reply (pongs, the Close answer). Bytes out: wslay_event_send pushes frames
 * through send_cb straight into the transport (h1_conn_raw_send), so wslay's own queue is empty
 * between calls and the only backlog is the transport's (an h1_conn holds a turn's
 * frames for one write, then libuv queues what the kernel did not take), which
 * ws_conn_send bounds.
 *
 * Lifetime: the ws_conn lives until the transport is gone (on_gone) — that is
 * after on_close told the owner, or after the owner detached. */
#include "net/ws.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

#include "base/log.h"
#include "base/metrics.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct ws_conn {
    void *conn;               /* the transport, borrowed; NULL once gone */
    const ws_io *io;
    wslay_event_context_ptr wctx;
    const ws_conn_cbs *cbs;   /* borrowed; NULL after on_close or detach */
    void *ud;
    const uint8_t *in;        /* bytes being fed to wslay */
    size_t in_len;
    bool hanging_up;          /* io->close called */
};

/* ---- handshake ---- */

static const h1_header *find_header(const h1_request *req, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < req->header_count; i++)
        if (req->headers[i].name_len == len && strncasecmp(req->headers[i].name, name, len) == 0)
            return &req->headers[i];
    return NULL;
}

bool ws_token_has(const char *v, size_t len, const char *token)
{
    size_t tlen = strlen(token);
    const char *p = v, *end = v + len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *s = p;
        while (p < end && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tlen && strncasecmp(s, token, tlen) == 0)
            return true;
    }
    return false;
}

static bool has_token(const h1_header *h, const char *token)
{
    return h && ws_token_has(h->value, h->value_len, token);
}

static bool key_ok(const h1_header *k)
{
    if (!k || k->value_len != 24 || k->value[22] != '=' || k->value[23] != '=')
        return false;
    unsigned char raw[24];
    int n = EVP_DecodeBlock(raw, (const unsigned char *)k->value, 24);
    return n == 18; /* 16 bytes + the two padding zeros EVP_DecodeBlock counts */
}

int ws_handshake_check(const h1_request *req, char accept[WS_ACCEPT_LEN + 1], const char **why)
{
    if (!has_token(find_header(req, "upgrade"), "websocket"))
        return 0;
    if (strcmp(req->method, "GET") != 0) {
        *why = "WebSocket handshake: the method must be GET";
        return -1;
    }
    if (!has_token(find_header(req, "connection"), "upgrade")) {
        *why = "WebSocket handshake: Connection must include 'Upgrade'";
        return -1;
    }
    const h1_header *v = find_header(req, "sec-websocket-version");
    if (!v || v->value_len != 2 || memcmp(v->value, "13", 2) != 0) {
        *why = "WebSocket handshake: Sec-WebSocket-Version must be 13";
        return -1;
    }
    const h1_header *k = find_header(req, "sec-websocket-key");
    if (!key_ok(k)) {
        *why = "WebSocket handshake: Sec-WebSocket-Key must be 16 bytes in base64";
        return -1;
    }
    if (ws_accept_of(k->value, accept) < 0) {
        *why = "WebSocket handshake: SHA-1 unavailable";
        return -1;
    }
    return 1;
}

int ws_accept_of(const char key[24], char accept[WS_ACCEPT_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    char src[24 + sizeof WS_GUID];
    memcpy(src, key, 24);
    memcpy(src + 24, WS_GUID, sizeof WS_GUID);
    if (!EVP_Digest(src, 24 + sizeof WS_GUID - 1, md, &md_len, EVP_sha1(), NULL))
        return DUR_EINVAL;
    EVP_EncodeBlock((unsigned char *)accept, md, (int)md_len); /* 20 bytes -> 28 chars + NUL */
    return 0;
}

/* ---- wslay callbacks ---- */

static ssize_t recv_cb(wslay_event_context_ptr wctx, uint8_t *buf, size_t len, int flags,
                       void *user)
{
    ws_conn *w = user;
    if (w->in_len == 0) {
        wslay_event_set_error(wctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < w->in_len ? len : w->in_len;
    memcpy(buf, w->in, n);
    w->in += n;
    w->in_len -= n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr wctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    ws_conn *w = user;
    if (!w->conn || w->hanging_up || w->io->send(w->conn, data, len) < 0) {
        wslay_event_set_error(wctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static void tell_close(ws_conn *w, int code, const char *reason, size_t len, bool clean,
                       const char *error)
{
    const ws_conn_cbs *cbs = w->cbs;
    w->cbs = NULL;
    if (cbs)
        cbs->on_close(w->ud, code, reason, len, clean, error);
}

static void on_msg(wslay_event_context_ptr wctx, const struct wslay_event_on_msg_recv_arg *a,
                   void *user)
{
    ws_conn *w = user;
    if (!w->cbs)
        return;
    if (a->opcode == WSLAY_TEXT_FRAME || a->opcode == WSLAY_BINARY_FRAME) {
        w->cbs->on_message(w->ud, a->opcode == WSLAY_TEXT_FRAME, a->msg, a->msg_length);
    } else if (a->opcode == WSLAY_CONNECTION_CLOSE) {
        /* wslay has queued the answering Close already. The payload is the code
         * (2 bytes) then the reason. */
        const char *reason = a->msg_length > 2 ? (const char *)a->msg + 2 : "";
        size_t rlen = a->msg_length > 2 ? a->msg_length - 2 : 0;
        int code = a->status_code ? a->status_code : WSLAY_CODE_NO_STATUS_RCVD;
        tell_close(w, code, reason, rlen, true, NULL);
    }
}

/* Sends what wslay queued; hangs up once both Close frames have crossed, or ours
 * went out after a failure on the read side. */
static void pump_out(ws_conn *w)
{
    if (!w->conn || w->hanging_up)
        return;
    if (wslay_event_want_write(w->wctx) && wslay_event_send(w->wctx) < 0) {
        w->hanging_up = true;
        w->io->close(w->conn, false);
        return;
    }
    if (wslay_event_get_close_sent(w->wctx) &&
        (wslay_event_get_close_received(w->wctx) || !wslay_event_get_read_enabled(w->wctx))) {
        w->hanging_up = true;
        w->io->close(w->conn, true); /* lingers so the Close frame is read */
    }
}

static const char *failure_text(int code)
{
    switch (code) {
    case WSLAY_CODE_MESSAGE_TOO_BIG:
        return "WebSocket message too big: more than 32 MiB (closed with 1009)";
    case WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA:
        return "WebSocket text message is not valid UTF-8 (closed with 1007)";
    default:
        return "WebSocket protocol error (closed with 1002)";
    }
}

static void on_bytes(void *ud, const char *bytes, size_t len)
{
    ws_conn *w = ud;
    if (!wslay_event_get_read_enabled(w->wctx))
        return; /* after a failure or the peer's Close: nothing more is read */
    w->in = (const uint8_t *)bytes;
    w->in_len = len;
    int rc = wslay_event_recv(w->wctx);
    w->in = NULL;
    w->in_len = 0;
    if (rc < 0) {
        tell_close(w, 1011, "", 0, false, "WebSocket receive failed (out of memory)");
        w->hanging_up = true;
        w->io->close(w->conn, false);
        return;
    }
    if (!wslay_event_get_read_enabled(w->wctx) && !wslay_event_get_close_received(w->wctx)) {
        /* wslay found a bad frame and queued a Close with the code saying why;
         * once it is sent wslay tells the code (the hang-up it starts is
         * asynchronous: on_close still comes first). */
        pump_out(w);
        int code = wslay_event_get_status_code_sent(w->wctx);
        if (code == WSLAY_CODE_ABNORMAL_CLOSURE) /* it could not be sent */
            code = WSLAY_CODE_PROTOCOL_ERROR;
        const char *text = failure_text(code);
        tell_close(w, code, "", 0, false, text);
    }
    pump_out(w);
}

static void on_gone(void *ud)
{
    ws_conn *w = ud;
    w->conn = NULL;
    tell_close(w, WSLAY_CODE_ABNORMAL_CLOSURE, "WebSocket disconnected without sending Close frame.",
               51, false, NULL);
    wslay_event_context_free(w->wctx);
    free(w);
    metrics_ws(-1);
}

/* ---- the transport ---- */

/* An upgraded h1_conn (the server side). */
static int h1_send(void *t, const void *data, size_t len)
{
    return h1_conn_raw_send(t, data, len);
}

static void h1_close(void *t, bool flush)
{
    h1_conn_raw_close(t, flush);
}

static void h1_timeout(void *t, uint32_t ms)
{
    h1_conn_raw_timeout(t, ms);
}

static size_t h1_queued(const void *t)
{
    return h1_conn_queued_bytes(t);
}

static const char *h1_peer(const void *t)
{
    return h1_conn_peer(t);
}

static const ws_io h1_io = {h1_send, h1_close, h1_timeout, h1_queued, h1_peer};

/* The client masks its frames with keys from here (RFC 6455 5.3). */
static int genmask_cb(wslay_event_context_ptr wctx, uint8_t *buf, size_t len, void *user)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int ws_conn_new(const ws_io *io, void *t, bool client, const ws_conn_cbs *cbs, void *ud,
                ws_conn **out)
{
    ws_conn *w = calloc(1, sizeof *w);
    if (!w)
        return DUR_ENOMEM;
    static const struct wslay_event_callbacks wcb = {
        .recv_callback = recv_cb, .send_callback = send_cb, .on_msg_recv_callback = on_msg};
    static const struct wslay_event_callbacks ccb = {.recv_callback = recv_cb,
                                                     .send_callback = send_cb,
                                                     .genmask_callback = genmask_cb,
                                                     .on_msg_recv_callback = on_msg};
    int rc = client ? wslay_event_context_client_init(&w->wctx, &ccb, w)
                    : wslay_event_context_server_init(&w->wctx, &wcb, w);
    if (rc != 0) {
        free(w);
        return DUR_ENOMEM;
    }
    wslay_event_config_set_max_recv_msg_length(w->wctx, WS_MSG_BYTES_MAX);
    w->io = io;
    w->conn = t;
    w->cbs = cbs;
    w->ud = ud;
    *out = w;
    return 0;
}

void ws_conn_feed(ws_conn *w, const char *bytes, size_t len)
{
    on_bytes(w, bytes, len);
}

void ws_conn_gone(ws_conn *w)
{
    on_gone(w);
}

/* ---- the API ---- */

static int refuse_oom(h1_conn *c)
{
    h1_header ct = {"content-type", 12, "application/json", 16};
    static const char body[] = "{\"error\":\"out of memory opening a WebSocket\"}";
    h1_conn_respond(c, 503, &ct, 1, body, sizeof body - 1);
    return DUR_ENOMEM;
}

int ws_conn_open(h1_conn *c, const char *accept, const h1_header *extra, size_t n,
                 const ws_conn_cbs *cbs, void *ud, ws_conn **out)
{
    h1_header *hdrs = calloc(n + 3, sizeof *hdrs);
    ws_conn *w = NULL;
    if (!hdrs || ws_conn_new(&h1_io, c, false, cbs, ud, &w) < 0) {
        free(hdrs);
        return refuse_oom(c);
    }
    hdrs[0] = (h1_header){"Upgrade", 7, "websocket", 9};
    hdrs[1] = (h1_header){"Connection", 10, "Upgrade", 7};
    hdrs[2] = (h1_header){"Sec-WebSocket-Accept", 20, accept, WS_ACCEPT_LEN};
    size_t k = 3;
    for (size_t i = 0; i < n; i++) { /* the handshake's own headers are ours */
        const h1_header *h = &extra[i];
        if ((h->name_len == 7 && strncasecmp(h->name, "upgrade", 7) == 0) ||
            (h->name_len == 20 && strncasecmp(h->name, "sec-websocket-accept", 20) == 0) ||
            (h->name_len == 10 && strncasecmp(h->name, "connection", 10) == 0))
            continue;
        hdrs[k++] = *h;
    }
    *out = w;
    metrics_ws(+1);   /* before: on_gone may run inside the upgrade */
    int rc = h1_conn_upgrade(c, hdrs, k, on_bytes, on_gone, w);
    free(hdrs);
    if (rc < 0) {
        metrics_ws(-1);
        wslay_event_context_free(w->wctx);
        free(w);
        *out = NULL;
        return rc;
    }
    return 0;
}

size_t ws_conn_queued_bytes(const ws_conn *w)
{
    return w->conn ? w->io->queued(w->conn) : 0;
}

int ws_conn_send(ws_conn *w, bool text, const void *data, size_t len)
{
    if (!w->conn || w->hanging_up || wslay_event_get_close_sent(w->wctx))
        return DUR_ECLOSED;
    if (w->io->queued(w->conn) + len > WS_SEND_QUEUE_BYTES_MAX) {
        log_warn("ws: %s does not read: more than %u bytes queued to it; connection dropped",
                 w->io->peer(w->conn), WS_SEND_QUEUE_BYTES_MAX);
        w->hanging_up = true;
        w->io->close(w->conn, false);
        tell_close(w, WSLAY_CODE_ABNORMAL_CLOSURE, "", 0, false,
                   "WebSocket peer is not reading: more than 16 MiB of sent data queued; "
                   "connection dropped");
        return DUR_ETOOBIG;
    }
    struct wslay_event_msg m = {.opcode = text ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME,
                                .msg = data, .msg_length = len};
    if (wslay_event_queue_msg(w->wctx, &m) != 0)
        return DUR_ECLOSED;
    pump_out(w);
    return 0;
}

int ws_conn_close(ws_conn *w, int code, const char *reason, size_t reason_len)
{
    if (!w->conn || w->hanging_up || wslay_event_get_close_sent(w->wctx))
        return DUR_ECLOSED;
    if (wslay_event_queue_close(w->wctx, (uint16_t)code, (const uint8_t *)reason,
                                code ? reason_len : 0) != 0)
        return DUR_ECLOSED; /* a Close is queued already */
    pump_out(w);
    if (w->conn && !w->hanging_up)
        w->io->timeout(w->conn, WS_CLOSE_TIMEOUT_MS); /* a peer that never answers */
    return 0;
}

void ws_conn_detach(ws_conn *w)
{
    w->cbs = NULL;
    if (!w->conn || w->hanging_up)
        return;
    /* 1001 Going Away, if the Close can still be said; then close once it is out
     * (the server's close follows soon in any case). */
    static const char why[] = "server going away";
    if (!wslay_event_get_close_sent(w->wctx) &&
        wslay_event_queue_close(w->wctx, 1001, (const uint8_t *)why, sizeof why - 1) == 0 &&
        wslay_event_send(w->wctx) == 0 && w->conn && !w->hanging_up) {
        w->hanging_up = true;
        w->io->close(w->conn, true);
        return;
    }
    if (w->conn && !w->hanging_up) {
        w->hanging_up = true;
        w->io->close(w->conn, false);
    }
}
