/* tails.c: `wrangler tail` and `wrangler whoami` (clients.md §4).
 *
 * POST /scripts/{name}/tails answers {id, url, expires_at}; url is a WebSocket
 * on this listener, ws://<Host>/tail/<id>, which wrangler opens with the
 * subprotocol trace-v1 (echoed: its client insists). The socket then gets one
 * JSON text frame per request of that Worker (the shape wrangler prints; built
 * by worker/report.c where a request finishes, carried here by base/tail.c).
 * DELETE /scripts/{name}/tails/{id} ends it, as does TAIL_TTL_MS; while no
 * socket is open (wrangler closes it before the DELETE) its events are dropped,
 * and a new socket may connect.
 *
 * The tail id (32 random hex digits) is what admits the WebSocket: it carries no
 * bearer token (wrangler sends none there), as Cloudflare's tail URLs do.
 * Filters (the body of the POST, `{"filters": [...]}`, what `wrangler tail
 * --status/--method/--header/--ip/--search/--sampling-rate` sends) are checked
 * when the tail is made (an unknown shape: 400 10001) and applied to each event
 * before it is sent: every filter must let it through; inside one, any listed
 * value matching is enough.
 *
 * Everything here runs on the API thread. */
#include "api/internal.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/tail.h"
#include "net/ws.h"

#define TAILS_MAX 64
#define TAIL_TTL_MS (6 * 3600 * 1000LL)

#define SOCK_FRAME_BYTES_MAX (64u * 1024u)       /* what a client may send us in one frame */
#define SOCK_QUEUE_BYTES_MAX (16u * 1024u * 1024u) /* unsent events to a slow reader */

typedef struct tail tail;

/* The WebSocket of a tail. wrangler sends its first frame ({"debug": …})
 * unmasked, which RFC 6455 (and net/ws.c) refuse from a client, and Cloudflare
 * accepts; so this socket is its own small server end: it takes frames masked or
 * not, answers pings (wrangler's keep-alive) and Close, ignores data, and sends
 * text frames. It outlives its tail until the connection is gone (on_gone). */
typedef struct sock {
    tail *t;                   /* NULL once the tail let go of it */
    h1_conn *conn;             /* NULL once gone */
    bool closing;
    buf in;
} sock;

struct tail {
    bool used;
    bool watching;             /* counted in base/tail.c */
    char id[33];
    char script[DEPLOY_NAME_MAX + 1];
    int64_t expires_ms;
    sock *ws;
    cfg_value *body;           /* the POST's body, whose "filters" were checked; or NULL */
    char self_ip[64];          /* who made the tail: client_ip "self" */
};

static tail g_tails[TAILS_MAX];
static uv_async_t g_async;
static bool g_started;

static void unwatch(tail *t)
{
    if (t->watching) {
        tail_watch(t->script, -1);
        t->watching = false;
    }
}

/* ---- the socket ---- */

static void sock_frame(sock *k, int opcode, const void *data, size_t len)
{
    if (!k->conn || k->closing)
        return;
    if (h1_conn_queued_bytes(k->conn) + len > SOCK_QUEUE_BYTES_MAX) {
        log_warn("api: tail reader %s does not read; connection dropped", h1_conn_peer(k->conn));
        k->closing = true;
        h1_conn_raw_close(k->conn, false);
        return;
    }
    unsigned char head[10];
    size_t n = 0;
    head[n++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        head[n++] = (unsigned char)len;
    } else if (len < 65536) {
        head[n++] = 126;
        head[n++] = (unsigned char)(len >> 8);
        head[n++] = (unsigned char)len;
    } else {
        head[n++] = 127;
        for (int i = 7; i >= 0; i--)
            head[n++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    if (h1_conn_raw_send(k->conn, head, n) == 0 && len)
        h1_conn_raw_send(k->conn, data, len);
}

/* Sends Close (code, reason) and closes once it is out. */
static void sock_close(sock *k, int code, const char *reason)
{
    if (!k->conn || k->closing)
        return;
    unsigned char p[2 + WS_CLOSE_REASON_BYTES_MAX];
    size_t rl = strlen(reason) < WS_CLOSE_REASON_BYTES_MAX ? strlen(reason) : WS_CLOSE_REASON_BYTES_MAX;
    p[0] = (unsigned char)(code >> 8);
    p[1] = (unsigned char)code;
    memcpy(p + 2, reason, rl);
    sock_frame(k, 8, p, 2 + rl);
    k->closing = true;
    if (k->conn)
        h1_conn_raw_close(k->conn, true);
}

/* The socket leaves its tail, which stays (until DELETE or expiry: wrangler
 * closes the socket first, then deletes the tail) but gets no events meanwhile. */
static void sock_detach(sock *k)
{
    tail *t = k->t;
    if (!t)
        return;
    k->t = NULL;
    t->ws = NULL;
    unwatch(t);
}

static void on_sock_data(void *ud, const char *bytes, size_t len)
{
    sock *k = ud;
    if (k->closing || buf_append(&k->in, bytes, len) != 0) {
        sock_close(k, 1009, "frame too large");
        return;
    }
    for (;;) {
        const unsigned char *b = (const unsigned char *)k->in.ptr;
        size_t have = k->in.len, off = 2;
        if (have < 2)
            return;
        int op = b[0] & 0x0f;
        bool masked = b[1] & 0x80;
        uint64_t plen = b[1] & 0x7f;
        if (plen == 126) {
            if (have < 4)
                return;
            plen = (uint64_t)b[2] << 8 | b[3];
            off = 4;
        } else if (plen == 127) {
            if (have < 10)
                return;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | b[2 + i];
            off = 10;
        }
        if (plen > SOCK_FRAME_BYTES_MAX) {
            sock_close(k, 1009, "frame too large");
            return;
        }
        size_t moff = off;
        if (masked)
            off += 4;
        if (have < off + plen)
            return;
        unsigned char payload[128];   /* only control frames' payloads are kept (≤ 125) */
        size_t keep = plen < sizeof payload ? (size_t)plen : 0;
        for (size_t i = 0; i < keep; i++)
            payload[i] = b[off + i] ^ (masked ? b[moff + (i & 3)] : 0);
        size_t used = off + (size_t)plen;
        memmove(k->in.ptr, k->in.ptr + used, have - used);
        k->in.len = have - used;
        if (op == 9) {
            sock_frame(k, 10, payload, keep);   /* ping → pong with its payload */
        } else if (op == 8) {
            int code = keep >= 2 ? payload[0] << 8 | payload[1] : 1000;
            sock_detach(k);
            sock_close(k, code == 1005 || code < 1000 ? 1000 : code, "");
            return;
        }
        /* text, binary, continuation, pong: nothing to do */
    }
}

static void on_sock_gone(void *ud)
{
    sock *k = ud;
    metrics_ws(-1);
    k->conn = NULL;
    sock_detach(k);
    buf_fini(&k->in);
    free(k);
}

static void drop(tail *t)
{
    unwatch(t);
    if (t->ws) {
        sock *k = t->ws;
        t->ws = NULL;
        k->t = NULL;
        sock_close(k, 1000, "tail deleted");
    }
    cfg_value_free(t->body);
    t->body = NULL;
    t->used = false;
}

static void expire(int64_t now)
{
    for (size_t i = 0; i < TAILS_MAX; i++) {
        tail *t = &g_tails[i];
        if (t->used && t->expires_ms <= now)
            drop(t);
    }
}

static void on_wake(void *ud)
{
    (void)ud;
    uv_async_send(&g_async);
}

/* ---- filters ---- */

static bool str_in(const cfg_value *list, const char *s, bool nocase)
{
    for (size_t i = 0; i < list->count; i++)
        if (nocase ? strcasecmp(list->items[i]->str, s) == 0 : strcmp(list->items[i]->str, s) == 0)
            return true;
    return false;
}

static const char *ev_str(const cfg_value *t, const char *key)
{
    const cfg_value *v = t && t->type == CFG_TABLE ? cfg_table_get(t, key) : NULL;
    return v && v->type == CFG_STRING ? v->str : NULL;
}

/* `query`: the text in a console line or in an exception's name or message. */
static bool event_has_text(const cfg_value *ev, const char *q)
{
    const cfg_value *logs = cfg_table_get(ev, "logs"), *exc = cfg_table_get(ev, "exceptions");
    for (size_t i = 0; logs && logs->type == CFG_ARRAY && i < logs->count; i++) {
        const cfg_value *m = logs->items[i]->type == CFG_TABLE
                                 ? cfg_table_get(logs->items[i], "message") : NULL;
        for (size_t k = 0; m && m->type == CFG_ARRAY && k < m->count; k++)
            if (m->items[k]->type == CFG_STRING && strstr(m->items[k]->str, q))
                return true;
    }
    for (size_t i = 0; exc && exc->type == CFG_ARRAY && i < exc->count; i++) {
        const char *n = ev_str(exc->items[i], "name"), *m = ev_str(exc->items[i], "message");
        if ((n && strstr(n, q)) || (m && strstr(m, q)))
            return true;
    }
    return false;
}

static bool filter_passes(const tail *t, const cfg_value *f, const cfg_value *ev,
                          const char *client_ip)
{
    const char *key = f->keys[0];
    const cfg_value *v = f->items[0];
    const cfg_value *req = cfg_table_get(cfg_table_get(ev, "event"), "request");
    if (strcmp(key, "sampling_rate") == 0) {
        double rate = v->type == CFG_INT ? (double)v->i : v->f;
        uint32_t x = 0;
        if (rate >= 1.0 || RAND_bytes((unsigned char *)&x, sizeof x) != 1)
            return true;
        return (double)x / 4294967296.0 < rate;
    }
    if (strcmp(key, "outcome") == 0) {
        const char *o = ev_str(ev, "outcome");
        return o && str_in(v, o, false);
    }
    if (strcmp(key, "method") == 0) {
        const char *m = ev_str(req, "method");
        return m && str_in(v, m, true);
    }
    if (strcmp(key, "header") == 0) {
        const cfg_value *hs = req ? cfg_table_get(req, "headers") : NULL;
        const char *name = ev_str(v, "key"), *want = ev_str(v, "query");
        for (size_t i = 0; hs && hs->type == CFG_TABLE && i < hs->count; i++)
            if (strcasecmp(hs->keys[i], name) == 0 && hs->items[i]->type == CFG_STRING &&
                (!want || strcmp(hs->items[i]->str, want) == 0))
                return true;
        return false;
    }
    if (strcmp(key, "client_ip") == 0) {
        for (size_t i = 0; client_ip && client_ip[0] && i < v->count; i++) {
            const char *ip = strcmp(v->items[i]->str, "self") == 0 ? t->self_ip : v->items[i]->str;
            if (strcmp(ip, client_ip) == 0)
                return true;
        }
        return false;
    }
    return event_has_text(ev, v->str);   /* query */
}

static bool tail_passes(const tail *t, const tail_event *e)
{
    const cfg_value *fs = t->body ? cfg_table_get(t->body, "filters") : NULL;
    if (!fs || fs->count == 0)
        return true;
    err pe = {0};
    cfg_value *ev = jsonc_parse("event", e->json, e->len, &pe);
    bool ok = ev && ev->type == CFG_TABLE;
    for (size_t i = 0; ok && i < fs->count; i++)
        ok = filter_passes(t, fs->items[i], ev, e->client_ip);
    cfg_value_free(ev);
    return ok;
}

/* Checks the shape of every filter: 0, or -1 after answering 400 10001. */
static int filters_check(api_req *r, const cfg_value *body)
{
    const cfg_value *fs = cfg_table_get(body, "filters");
    if (!fs)
        return 0;
    if (fs->type != CFG_ARRAY) {
        snprintf(r->pointer, sizeof r->pointer, "/filters");
        return api__reply_err(r, 400, 10001, "filters must be an array of filter objects"), -1;
    }
    for (size_t i = 0; i < fs->count; i++) {
        const cfg_value *f = fs->items[i];
        snprintf(r->pointer, sizeof r->pointer, "/filters/%zu", i);
        if (f->type != CFG_TABLE || f->count != 1)
            return api__reply_err(r, 400, 10001, "filter %zu must be an object with one key: "
                                  "sampling_rate, outcome, method, header, client_ip or query",
                                  i), -1;
        const char *k = f->keys[0];
        const cfg_value *v = f->items[0];
        bool ok;
        const char *want;
        if (strcmp(k, "sampling_rate") == 0) {
            double rate = v->type == CFG_INT ? (double)v->i : v->type == CFG_FLOAT ? v->f : -1;
            ok = rate > 0 && rate <= 1;
            want = "a number above 0 and at most 1";
        } else if (strcmp(k, "outcome") == 0 || strcmp(k, "method") == 0 ||
                   strcmp(k, "client_ip") == 0) {
            ok = v->type == CFG_ARRAY;
            for (size_t j = 0; ok && j < v->count; j++)
                ok = v->items[j]->type == CFG_STRING;
            want = "an array of strings";
        } else if (strcmp(k, "header") == 0) {
            const cfg_value *q = v->type == CFG_TABLE ? cfg_table_get(v, "query") : NULL;
            const char *key = ev_str(v, "key");
            ok = key && key[0] && (!q || q->type == CFG_STRING);
            for (size_t j = 0; ok && j < v->count; j++)
                ok = strcmp(v->keys[j], "key") == 0 || strcmp(v->keys[j], "query") == 0;
            want = "{key, query?} with string values (key not empty)";
        } else if (strcmp(k, "query") == 0) {
            ok = v->type == CFG_STRING;
            want = "a string";
        } else if (strcmp(k, "scriptVersion") == 0) {
            return api__reply_err(r, 400, 10001, "filter %zu: scriptVersion (wrangler tail "
                                  "--version-id) is not supported: durable serves one version "
                                  "of a Worker at a time; tail without it", i), -1;
        } else {
            return api__reply_err(r, 400, 10001, "filter %zu: '%.60s' is not a tail filter "
                                  "durable knows (sampling_rate, outcome, method, header, "
                                  "client_ip, query)", i, k), -1;
        }
        if (!ok)
            return api__reply_err(r, 400, 10001, "filter %zu: %s must be %s", i, k, want), -1;
    }
    r->pointer[0] = '\0';
    return 0;
}

/* Events from the shards: each goes to the open sockets of its Worker. */
static void on_events(uv_async_t *h)
{
    (void)h;
    tail_event *ev = tail_take_all();
    while (ev) {
        for (size_t i = 0; i < TAILS_MAX; i++) {
            tail *t = &g_tails[i];
            if (t->used && t->ws && strcmp(t->script, ev->worker) == 0 && tail_passes(t, ev))
                sock_frame(t->ws, 1, ev->json, ev->len);
        }
        tail_event *next = ev->next;
        free(ev);
        ev = next;
    }
    expire(deploy__now_ms());
}

void api_start(api_ctx *a, uv_loop_t *loop)
{
    api__sync_start(a, loop);
    if (g_started)
        return;
    uv_async_init(loop, &g_async, on_events);
    tail_set_consumer(on_wake, NULL);
    g_started = true;
}

void api_stop(api_ctx *a)
{
    api__sync_stop(a);
    if (!g_started)
        return;
    tail_set_consumer(NULL, NULL);
    for (size_t i = 0; i < TAILS_MAX; i++)
        if (g_tails[i].used) {
            if (g_tails[i].ws)
                sock_close(g_tails[i].ws, 1001, "server going away");
            drop(&g_tails[i]);
        }
    for (tail_event *ev = tail_take_all(); ev;) {
        tail_event *next = ev->next;
        free(ev);
        ev = next;
    }
    uv_close((uv_handle_t *)&g_async, NULL);
    g_started = false;
}

/* The id admits the socket: compared in constant time, like tokens. */
static tail *tail_find(const char *id)
{
    if (strlen(id) != 32)
        return NULL;
    for (size_t i = 0; i < TAILS_MAX; i++)
        if (g_tails[i].used && CRYPTO_memcmp(g_tails[i].id, id, 32) == 0)
            return &g_tails[i];
    return NULL;
}

static const char *header(const h1_request *req, const char *name, size_t *len)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, name) == 0) {
            *len = req->headers[i].value_len;
            return req->headers[i].value;
        }
    return NULL;
}

static void tail_create(api_ctx *a, api_req *r, const char *script)
{
    deploy_script_info info;
    if (api__script_lookup(a, r, script, 10007, &info) != 1)
        return;
    if (!g_started)
        return api__reply_err(r, 500, 10000, "tails are not available on this listener");
    int64_t now = deploy__now_ms();
    expire(now);
    tail *t = NULL;
    for (size_t i = 0; i < TAILS_MAX && !t; i++)
        if (!g_tails[i].used)
            t = &g_tails[i];
    if (!t)
        return api__reply_err(r, 429, 10000, "too many tails open (at most %d); close one "
                              "first", TAILS_MAX);
    /* wrangler sends {"filters": [...]} as text/plain: read it whatever the type. */
    cfg_value *body = NULL;
    if (r->req->body_len > 0) {
        body = api__json_body(r);
        if (!body)
            return;
        if (filters_check(r, body) < 0)
            return cfg_value_free(body);
    }
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        cfg_value_free(body);
        return api__reply_err(r, 500, 10000, "could not make a tail id");
    }
    memset(t, 0, sizeof *t);
    t->body = body;
    snprintf(t->self_ip, sizeof t->self_ip, "%s", h1_conn_peer(r->conn));
    api__hex(raw, sizeof raw, t->id);
    snprintf(t->script, sizeof t->script, "%s", script);
    t->expires_ms = now + TAIL_TTL_MS;
    t->used = true;
    size_t hlen = 0;
    const char *host = header(r->req, "Host", &hlen);
    if (!host || hlen == 0 || hlen > 255 || memchr(host, '"', hlen) || memchr(host, '\\', hlen)) {
        host = "127.0.0.1";
        hlen = 9;
    }
    buf b;
    buf_init(&b, 4096);
    int rc = buf_printf(&b, "{\"id\":\"%s\",\"url\":\"ws://%.*s/tail/%s\",\"expires_at\":",
                        t->id, (int)hlen, host, t->id);
    rc = rc ? rc : api__json_time(&b, t->expires_ms);
    rc = rc ? rc : buf_append_str(&b, "}");
    if (rc)
        api__reply_err(r, 500, 10000, "out of memory");
    else
        api__reply(r, 200, b.ptr, b.len, NULL);
    buf_fini(&b);
}

void api__tails(api_ctx *a, api_req *r, const char *script, const char *id)
{
    const char *m = r->req->method;
    if (!id) {
        if (strcmp(m, "POST") != 0)
            return api__reply_err(r, 405, 10000, "method %s is not allowed here; use POST", m);
        return tail_create(a, r, script);
    }
    if (strcmp(m, "DELETE") != 0)
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use DELETE", m);
    tail *t = tail_find(id);
    if (!t || strcmp(t->script, script) != 0)
        return api__reply_err(r, 404, 10000, "no tail '%.64s' on script '%s'", id, script);
    drop(t);
    api__reply(r, 200, NULL, 0, NULL);
}

/* ---- the WebSocket ---- */

void api__tail_socket(api_ctx *a, api_req *r, const char *id)
{
    (void)a;
    expire(deploy__now_ms());
    tail *t = tail_find(id);
    if (!t)
        return api__reply_err(r, 404, 10000, "no tail '%.64s' (it expired or was deleted)", id);
    char accept[WS_ACCEPT_LEN + 1];
    const char *why = NULL;
    int hs = ws_handshake_check(r->req, accept, &why);
    if (hs == 0)
        return api__reply_err(r, 400, 10000, "this URL is a WebSocket (subprotocol trace-v1)");
    if (hs < 0)
        return api__reply_err(r, 400, 10000, "%s", why);
    if (t->ws)
        return api__reply_err(r, 400, 10000, "tail '%s' already has a WebSocket", id);
    size_t plen = 0;
    const char *proto = header(r->req, "Sec-WebSocket-Protocol", &plen);
    bool trace = false;
    for (size_t i = 0; proto && i + 8 <= plen && !trace; i++)
        trace = strncasecmp(proto + i, "trace-v1", 8) == 0;
    sock *k = calloc(1, sizeof *k);
    if (!k)
        return api__reply_err(r, 500, 10000, "out of memory");
    buf_init(&k->in, SOCK_FRAME_BYTES_MAX + 16);
    k->t = t;
    k->conn = r->conn;
    h1_header h[4] = {{"Upgrade", 7, "websocket", 9}, {"Connection", 10, "Upgrade", 7},
                      {"Sec-WebSocket-Accept", 20, accept, WS_ACCEPT_LEN},
                      {"Sec-WebSocket-Protocol", 22, "trace-v1", 8}};
    log_info("api %s %s 101 (tail of %s)", r->req->method, r->req->target, t->script);
    t->ws = k;
    t->watching = true;
    tail_watch(t->script, +1);
    metrics_ws(+1);   /* before: on_gone may run inside the upgrade */
    if (h1_conn_upgrade(r->conn, h, trace ? 4 : 3, on_sock_data, on_sock_gone, k) < 0) {
        metrics_ws(-1);
        unwatch(t);
        t->ws = NULL;
        buf_fini(&k->in);
        free(k);
    }
}

/* ---- whoami (clients.md §4: tokens/verify, user, accounts, memberships) ---- */

void api__whoami(api_ctx *a, api_req *r, char **seg, int n)
{
    if (strcmp(r->req->method, "GET") != 0)
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use GET",
                              r->req->method);
    const char *acct = deploy_store_account(a->store);
    char body[512], info[160];
    snprintf(info, sizeof info, "{\"page\":1,\"per_page\":20,\"count\":1,\"total_count\":1,"
             "\"total_pages\":1}");
    if (n == 3) {   /* user/tokens/verify */
        snprintf(body, sizeof body, "{\"id\":\"%s\",\"status\":\"active\"}", acct);
        return api__reply(r, 200, body, strlen(body), NULL);
    }
    if (strcmp(seg[0], "user") == 0) {
        snprintf(body, sizeof body, "{\"id\":\"%s\",\"email\":\"durable@localhost\","
                 "\"first_name\":\"durable\",\"last_name\":null,\"username\":\"durable\","
                 "\"suspended\":false,\"two_factor_authentication_enabled\":false}", acct);
        return api__reply(r, 200, body, strlen(body), NULL);
    }
    if (strcmp(seg[0], "accounts") == 0) {
        snprintf(body, sizeof body, "[{\"id\":\"%s\",\"name\":\"durable\",\"type\":\"standard\","
                 "\"settings\":{}}]", acct);
        return api__reply(r, 200, body, strlen(body), info);
    }
    snprintf(body, sizeof body, "[{\"id\":\"%s\",\"status\":\"accepted\",\"account\":{\"id\":"
             "\"%s\",\"name\":\"durable\"},\"roles\":[\"Administrator\"],\"permissions\":{}}]",
             acct, acct);
    api__reply(r, 200, body, strlen(body), info);
}
