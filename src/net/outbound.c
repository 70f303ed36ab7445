/* outbound.c: libcurl's multi interface on a libuv loop (see outbound.h).
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION: a uv_poll_t per
 * socket, kept with curl_multi_assign) and when to call it back without socket
 * activity (CURLMOPT_TIMERFUNCTION: one uv_timer_t); each event is passed on with
 * curl_multi_socket_action, after which finished transfers are collected.
 *
 * Callers may cancel or resume a request from inside one of its callbacks (the JS
 * they run can abort a fetch or read its body); curl forbids removing or unpausing
 * a handle from its own callbacks, so inside a callback (o->depth > 0) both are
 * only noted, and done once curl has returned.
 *
 * libcurl is loaded at the first outbound_new (the first fetch() of a shard), not
 * linked (net/curl_dl.h says why). If it cannot be loaded, outbound_new fails with
 * dlopen's message (fetch() rejects with it). */
#include "net/outbound.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "net/curl_dl.h"


#define HEAD_BYTES_MAX (256u * 1024u)

struct outbound_req {
    outbound *o;
    CURL *easy;
    struct curl_slist *hdrs;
    outbound_cbs cbs;
    void *ud;
    int redirect;
    bool decode;          /* curl decodes the body: the head goes without its coding */
    bool no_body;         /* a HEAD request */
    bool head_sent;
    bool paused;          /* curl holds the body: on_data asked to pause */
    bool want_resume;
    bool cancelled;       /* no more callbacks; removed when curl lets us */
    const char *fail;     /* our own reason to fail the transfer */
    char failbuf[200];    /* when that reason is formatted */
    char method[24];      /* the method of the request now being made */
    bool follow_pending;  /* the response is a redirect to follow once it is done */
    bool up_dropped;      /* a redirect turned the request into a GET: writes go nowhere */
    int status;
    unsigned redirects;
    buf head;             /* "name\0value\0…" of the current response head */
    size_t nhdrs;
    char reason[128];
    char errbuf[CURL_ERROR_SIZE];
    /* A streamed request body (opts.body_stream): bytes written and not yet taken
     * by curl's read callback are up.ptr[up_off..up.len). */
    bool up_stream, up_ended;
    bool up_paused;       /* curl's read callback found nothing and paused sending */
    bool up_want_resume;  /* bytes came: unpause once curl lets us */
    bool up_want_drain;   /* a write said full: on_drain once the buffer empties */
    bool up_drain_due;
    buf up;
    size_t up_off;
    int64_t up_declared;  /* the caller's Content-Length, or -1 (chunked) */
    uint64_t up_total;    /* written so far */
    outbound_req *prev, *next;
};

struct outbound {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    int depth;            /* > 0 while curl is running our callbacks */
    bool dirty;           /* a cancel or resume waits for depth 0 */
    bool freeing;
    int handles_open;
    size_t active;
    outbound_req *reqs;
    struct sock_ctx *socks;
    void (*after)(void *ud);
    void *ud;
};

typedef struct sock_ctx {
    uv_poll_t poll;
    outbound *o;
    curl_socket_t fd;
    struct sock_ctx *prev, *next;
} sock_ctx;

static void process(outbound *o);
static void on_poll_closed(uv_handle_t *h);

/* ---- request bookkeeping ---- */

static void req_unlink(outbound_req *r)
{
    outbound *o = r->o;
    if (r->prev)
        r->prev->next = r->next;
    else
        o->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void req_free(outbound_req *r)
{
    outbound *o = r->o;
    req_unlink(r);
    curl_multi_remove_handle(o->multi, r->easy);
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdrs);
    buf_fini(&r->head);
    buf_fini(&r->up);
    o->active--;
    free(r);
}

/* The pause state curl should be in: receiving paused while the body waits unread,
 * sending paused while a streamed request body has nothing to give. */
static int pause_bits(const outbound_req *r)
{
    return (r->paused ? CURLPAUSE_RECV : 0) | (r->up_paused ? CURLPAUSE_SEND : 0);
}

/* ---- curl's callbacks ---- */

static bool is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static bool head_has(const outbound_req *r, const char *lower)
{
    const char *p = r->head.ptr;
    for (size_t i = 0; i < r->nhdrs; i++) {
        const char *name = p;
        const char *value = name + strlen(name) + 1;
        if (strcasecmp(name, lower) == 0)
            return true;
        p = value + strlen(value) + 1;
    }
    return false;
}

/* Codings curl decodes (with CURLOPT_ACCEPT_ENCODING set); any other fails the
 * transfer in curl (CURLE_BAD_CONTENT_ENCODING). */
static bool decoded_header(const outbound_req *r, const char *name)
{
    if (!r->decode || r->no_body || r->status == 204 || r->status == 304)
        return false;
    if (strcasecmp(name, "content-length") == 0)
        return head_has(r, "content-encoding");
    return strcasecmp(name, "content-encoding") == 0;
}

static void head_done(outbound_req *r)
{
    if (r->status >= 100 && r->status < 200)
        return; /* an interim response: the real one follows */
    if (is_redirect(r->status) && head_has(r, "location")) {
        if (r->redirect == OUTBOUND_FOLLOW) {
            r->follow_pending = true;
            return; /* followed once done (follow()); its head is not the final one */
        }
        if (r->redirect == OUTBOUND_ERROR) {
            r->fail = "the response is a redirect and the request's redirect mode is \"error\"";
            return;
        }
    }
    if (r->head_sent || r->cancelled)
        return;
    r->head_sent = true;
    const char **hv = calloc(r->nhdrs * 2 + 1, sizeof *hv);
    if (!hv) {
        r->fail = "out of memory reading the response head";
        return;
    }
    /* A decoded body no longer has the coding or the length the server sent:
     * the head says so by leaving those out (the body is passed on as it is). */
    const char *p = r->head.ptr;
    size_t kept = 0;
    for (size_t i = 0; i < r->nhdrs; i++) {
        const char *name = p;
        const char *value = name + strlen(name) + 1;
        p = value + strlen(value) + 1;
        if (decoded_header(r, name))
            continue;
        hv[2 * kept] = name;
        hv[2 * kept + 1] = value;
        kept++;
    }
    char *url = NULL;
    curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &url);
    outbound_head h = {.status = r->status, .reason = r->reason, .url = url ? url : "",
                       .redirects = r->redirects, .hdrs = hv, .nhdrs = kept};
    r->cbs.on_head(r, r->ud, &h);
    free(hv);
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    outbound_req *r = ud;
    size_t len = size * n;
    if (r->cancelled || r->fail)
        return 0;
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        buf_reset(&r->head);
        r->nhdrs = 0;
        r->status = 0;
        r->reason[0] = 0;
        const char *sp = memchr(data, ' ', len);
        if (sp && (size_t)(sp - data) + 4 <= len) {
            r->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
            const char *rs = sp + 4;
            size_t rl = len - (size_t)(rs - data);
            while (rl && (*rs == ' ')) {
                rs++;
                rl--;
            }
            while (rl && (rs[rl - 1] == '\r' || rs[rl - 1] == '\n'))
                rl--;
            if (rl >= sizeof r->reason)
                rl = sizeof r->reason - 1;
            memcpy(r->reason, rs, rl);
            r->reason[rl] = 0;
        }
        return len;
    }
    if (len <= 2 && (data[0] == '\r' || data[0] == '\n')) {
        head_done(r);
        return r->fail ? 0 : len;
    }
    const char *colon = memchr(data, ':', len);
    if (!colon)
        return len; /* a folded or odd line: ignored */
    size_t nl = (size_t)(colon - data);
    const char *v = colon + 1;
    size_t vl = len - nl - 1;
    while (vl && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    if (r->head.len + nl + vl + 2 > HEAD_BYTES_MAX) {
        r->fail = "the response head is larger than 256 KiB";
        return 0;
    }
    if (buf_append(&r->head, data, nl) < 0 || buf_append(&r->head, "", 1) < 0 ||
        buf_append(&r->head, v, vl) < 0 || buf_append(&r->head, "", 1) < 0) {
        r->fail = "out of memory reading the response head";
        return 0;
    }
    r->nhdrs++;
    return len;
}

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
    outbound_req *r = ud;
    size_t len = size * n;
    if (r->cancelled || r->fail)
        return 0;
    if (!r->head_sent)
        return len; /* the body of a response that is not the final one */
    if (r->paused)
        return CURL_WRITEFUNC_PAUSE;
    if (r->cbs.on_data(r, r->ud, data, len))
        r->paused = true; /* this chunk is taken; the next one waits */
    return r->cancelled ? 0 : len;
}

/* curl asks for request body bytes (a streamed body). */
static size_t on_read(char *dst, size_t size, size_t n, void *ud)
{
    outbound_req *r = ud;
    size_t cap = size * n;
    if (r->cancelled || r->fail)
        return CURL_READFUNC_ABORT;
    size_t have = r->up.len - r->up_off;
    if (have > 0) {
        size_t k = have < cap ? have : cap;
        memcpy(dst, r->up.ptr + r->up_off, k);
        r->up_off += k;
        if (r->up_off == r->up.len) {
            buf_reset(&r->up);
            r->up_off = 0;
            if (r->up_want_drain) {
                r->up_want_drain = false;
                r->up_drain_due = true;   /* told once curl has returned */
                r->o->dirty = true;
            }
        }
        return k;
    }
    if (r->up_ended) {
        if (r->up_declared >= 0 && r->up_total != (uint64_t)r->up_declared) {
            r->fail = "the request body stream ended before the length its Content-Length "
                      "header declared";
            return CURL_READFUNC_ABORT;
        }
        return 0;   /* the end */
    }
    r->up_paused = true;
    return CURL_READFUNC_PAUSE;
}

/* "host:port" of the URL curl was at, into out. */
static void where(outbound_req *r, char *out, size_t cap)
{
    char *url = NULL, *host = NULL, *port = NULL;
    curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &url);
    CURLU *u = curl_url();
    if (u && url && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    }
    snprintf(out, cap, "%.100s:%.8s", host ? host : "?", port ? port : "?");
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

/* A message that says what failed, for "fetch failed: …". */
static void describe(outbound_req *r, CURLcode rc, char *out, size_t cap)
{
    long os_errno = 0;
    char hp[128];
    curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &os_errno);
    where(r, hp, sizeof hp);
    const char *detail = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        if (os_errno == ECONNREFUSED)
            snprintf(out, cap, "connection refused to %s", hp);
        else
            snprintf(out, cap, "could not connect to %s (%.200s)", hp, detail);
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(out, cap, "could not resolve the host of %s", hp);
        return;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(out, cap, "timed out talking to %s (%.200s)", hp, detail);
        return;
    case CURLE_TOO_MANY_REDIRECTS:
        snprintf(out, cap, "more than %d redirects", OUTBOUND_REDIRECTS_MAX);
        return;
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(out, cap, "a redirect led to a URL whose scheme is not http or https (%.200s)",
                 detail);
        return;
    case CURLE_GOT_NOTHING:
        snprintf(out, cap, "%s closed the connection without a response", hp);
        return;
    case CURLE_SEND_FAIL_REWIND:
        snprintf(out, cap, "a redirect (%d) asks to send the request body again, but it was a "
                 "stream and has been sent (%.120s)", r->status, hp);
        return;
    case CURLE_BAD_CONTENT_ENCODING:
        snprintf(out, cap, "the response body could not be decoded (%.200s); with "
                 "encodeResponseBody: \"manual\" it is passed on as received (%.120s)", detail, hp);
        return;
    default:
        snprintf(out, cap, "%.200s (%s)", detail, hp);
    }
}

/* Drops the header lines whose names are listed (lower case, NULL-terminated). */
static int drop_headers(outbound_req *r, const char *const *names)
{
    struct curl_slist *kept = NULL;
    for (struct curl_slist *l = r->hdrs; l; l = l->next) {
        size_t nl = strcspn(l->data, ":;");
        bool drop = false;
        for (const char *const *n = names; *n && !drop; n++)
            drop = strlen(*n) == nl && strncasecmp(l->data, *n, nl) == 0;
        if (drop)
            continue;
        struct curl_slist *k = curl_slist_append(kept, l->data);
        if (!k) {
            curl_slist_free_all(kept);
            return -1;
        }
        kept = k;
    }
    curl_slist_free_all(r->hdrs);
    r->hdrs = kept;
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
    return 0;
}

/* scheme://host:port of an absolute URL, into out ("" if it does not parse). */
static void origin_of(const char *url, char *out, size_t cap)
{
    char *scheme = NULL, *host = NULL, *port = NULL;
    CURLU *u = curl_url();
    out[0] = 0;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        if (scheme && host && port)
            snprintf(out, cap, "%s://%s:%s", scheme, host, port);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

/* Follows the redirect r just received (mode follow) as the fetch standard says:
 * a 301 or 302 turns POST into GET, a 303 anything but GET and HEAD (the body and
 * its headers are dropped); otherwise method and body go again, which a streamed
 * body cannot; Authorization does not cross to another origin. The same easy
 * handle goes on (its connections are reused). False with r->fail set if it
 * cannot; only at depth 0. */
static bool follow(outbound_req *r)
{
    r->follow_pending = false;
    if (r->redirects >= OUTBOUND_REDIRECTS_MAX) {
        snprintf(r->failbuf, sizeof r->failbuf, "more than %d redirects", OUTBOUND_REDIRECTS_MAX);
        r->fail = r->failbuf;
        return false;
    }
    char *next = NULL, *cur = NULL;
    curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &next);
    curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &cur);
    if (!next) {
        r->fail = "the redirect's Location is not a URL";
        return false;
    }
    if (strncasecmp(next, "http://", 7) != 0 && strncasecmp(next, "https://", 8) != 0) {
        snprintf(r->failbuf, sizeof r->failbuf, "a redirect led to a URL whose scheme is not "
                 "http or https (%.100s)", next);
        r->fail = r->failbuf;
        return false;
    }
    bool get = ((r->status == 301 || r->status == 302) && strcmp(r->method, "POST") == 0) ||
               (r->status == 303 && strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0);
    if (!get && r->up_stream && !r->up_dropped) {
        snprintf(r->failbuf, sizeof r->failbuf, "a redirect (%d) asks to send the request body "
                 "again, but it was a stream and has been sent", r->status);
        r->fail = r->failbuf;
        return false;
    }
    char from[300], to[300];
    origin_of(cur ? cur : "", from, sizeof from);
    origin_of(next, to, sizeof to);
    char *url = strdup(next);   /* next belongs to the handle */
    if (!url) {
        r->fail = "out of memory following a redirect";
        return false;
    }
    outbound *o = r->o;
    curl_multi_remove_handle(o->multi, r->easy);
    int rc = 0;
    if (get) {
        static const char *const body_headers[] = {"content-type", "content-length",
            "content-encoding", "content-language", "content-location", "transfer-encoding", NULL};
        curl_easy_setopt(r->easy, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, NULL);
        snprintf(r->method, sizeof r->method, "GET");
        if (r->up_stream) {
            r->up_dropped = true;
            r->up_paused = false;
            r->up_want_resume = false;
        }
        rc = drop_headers(r, body_headers);
    }
    if (rc == 0 && strcmp(from, to) != 0) {
        static const char *const auth[] = {"authorization", NULL};
        rc = drop_headers(r, auth);
    }
    curl_easy_setopt(r->easy, CURLOPT_URL, url);
    free(url);
    r->redirects++;
    r->status = 0;
    r->nhdrs = 0;
    buf_reset(&r->head);
    if (rc < 0 || curl_multi_add_handle(o->multi, r->easy) != CURLM_OK) {
        r->fail = "out of memory following a redirect";
        return false;
    }
    return true;
}

static void check_done(outbound *o)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(o->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        outbound_req *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        if (!r)
            continue;
        CURLcode rc = m->data.result;
        if (!r->cancelled && rc == CURLE_OK && r->follow_pending && !r->fail && follow(r))
            continue;   /* the next request of the chain is under way */
        if (!r->cancelled) {
            r->cancelled = true; /* done: nothing after on_done */
            char msg[CURL_ERROR_SIZE + 512];
            if (r->fail) {
                r->cbs.on_done(r, r->ud, -EIO, r->fail);
            } else if (rc != CURLE_OK) {
                describe(r, rc, msg, sizeof msg);
                r->cbs.on_done(r, r->ud, -EIO, msg);
            } else {
                if (!r->head_sent) {
                    r->fail = "the server sent no response";
                    r->cbs.on_done(r, r->ud, -EIO, r->fail);
                } else {
                    r->cbs.on_done(r, r->ud, 0, NULL);
                }
            }
        }
        o->dirty = true;
    }
}

/* Carries out what callbacks asked for: resumes, and frees finished or cancelled
 * requests. Only at depth 0. */
static void settle(outbound *o)
{
    while (o->dirty && o->depth == 0) {
        o->dirty = false;
        outbound_req *next;
        for (outbound_req *r = o->reqs; r; r = next) {
            next = r->next;
            if (r->cancelled) {
                req_free(r);
                continue;
            }
            bool unpause = false;
            if (r->want_resume) {
                r->want_resume = false;
                if (r->paused) {
                    r->paused = false;
                    unpause = true;
                }
            }
            if (r->up_want_resume) {
                r->up_want_resume = false;
                if (r->up_paused) {
                    r->up_paused = false;
                    unpause = true;
                }
            }
            if (unpause) {
                o->depth++;
                curl_easy_pause(r->easy, pause_bits(r));
                o->depth--;
                o->dirty = true; /* the callbacks it ran may have asked for more */
            }
        }
        check_done(o);
    }
}

/* Tells writers of streamed bodies that their bytes went (outside curl's
 * callbacks: a writer may write again at once). */
static void drains(outbound *o)
{
    bool again = true;
    while (again) {
        again = false;
        for (outbound_req *r = o->reqs; r; r = r->next) {
            if (!r->up_drain_due || r->cancelled)
                continue;
            r->up_drain_due = false;
            if (r->cbs.on_drain) {
                o->depth++;   /* a cancel from the callback waits for settle */
                r->cbs.on_drain(r, r->ud);
                o->depth--;
                again = true;
                break;        /* the list may have changed */
            }
        }
    }
}

static void process(outbound *o)
{
    check_done(o);
    settle(o);
    drains(o);
    settle(o);
    if (o->after)
        o->after(o->ud);
    settle(o);
}

static void sock_close(outbound *o, sock_ctx *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        o->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_poll_closed);
}

static void on_poll_closed(uv_handle_t *h)
{
    sock_ctx *s = h->data;
    outbound *o = s->o;
    free(s);
    if (--o->handles_open == 0 && o->freeing)
        free(o);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_ctx *s = h->data;
    outbound *o = s->o;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    o->depth++;
    curl_multi_socket_action(o->multi, s->fd, flags, &running);
    o->depth--;
    process(o);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    outbound *o = userp;
    sock_ctx *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            sock_close(o, s);
            curl_multi_assign(o->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || uv_poll_init_socket(o->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->o = o;
        s->fd = fd;
        s->poll.data = s;
        o->handles_open++;
        s->next = o->socks;
        if (o->socks)
            o->socks->prev = s;
        o->socks = s;
        curl_multi_assign(o->multi, fd, s);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *t)
{
    outbound *o = t->data;
    int running;
    o->depth++;
    curl_multi_socket_action(o->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    o->depth--;
    process(o);
}

static int on_timer_set(CURLM *multi, long ms, void *userp)
{
    outbound *o = userp;
    if (ms < 0)
        uv_timer_stop(&o->timer);
    else
        uv_timer_start(&o->timer, on_timeout, (uint64_t)ms, 0);
    return 0;
}

/* ---- the API ---- */

int outbound_new(uv_loop_t *loop, void (*after)(void *ud), void *ud, outbound **out, err *e)
{
    const char *why = curl_dl_load();
    if (why)
        return err_setf(e, DUR_ENOTFOUND, "outbound requests need libcurl (%s): %s", CURL_DL_SONAME,
                        why);
    outbound *o = calloc(1, sizeof *o);
    if (!o)
        return err_setf(e, DUR_ENOMEM, "out of memory");
    o->loop = loop;
    o->after = after;
    o->ud = ud;
    o->multi = curl_multi_init();
    if (!o->multi) {
        free(o);
        return err_setf(e, DUR_ENOMEM, "curl_multi_init failed");
    }
    curl_multi_setopt(o->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(o->multi, CURLMOPT_SOCKETDATA, o);
    curl_multi_setopt(o->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    curl_multi_setopt(o->multi, CURLMOPT_TIMERDATA, o);
    uv_timer_init(loop, &o->timer);
    o->timer.data = o;
    o->handles_open = 1;
    *out = o;
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    outbound *o = h->data;
    if (--o->handles_open == 0)
        free(o);
}

void outbound_free(outbound *o)
{
    if (!o)
        return;
    while (o->reqs) {
        o->reqs->cancelled = true;
        req_free(o->reqs);
    }
    /* Polls first: curl closes the sockets of its cached connections in cleanup. */
    while (o->socks)
        sock_close(o, o->socks);
    curl_multi_setopt(o->multi, CURLMOPT_SOCKETFUNCTION, NULL);
    curl_multi_cleanup(o->multi);
    o->multi = NULL;
    o->freeing = true;
    uv_timer_stop(&o->timer);
    uv_close((uv_handle_t *)&o->timer, on_timer_closed);
}

size_t outbound_active(const outbound *o)
{
    return o->active;
}

/* A header line "Name: value" for curl; an empty value must be "Name;". */
static int add_header(outbound_req *r, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    size_t cap = nl + vl + 3;
    char *line = malloc(cap);
    if (!line)
        return -1;
    if (vl)
        snprintf(line, cap, "%s: %s", name, value);
    else
        snprintf(line, cap, "%s;", name);
    struct curl_slist *n = curl_slist_append(r->hdrs, line);
    free(line);
    if (!n)
        return -1;
    r->hdrs = n;
    return 0;
}

static const char *header_value(const outbound_opts *opts, const char *lower)
{
    for (size_t i = 0; i < opts->nhdrs; i++)
        if (strcasecmp(opts->hdrs[2 * i], lower) == 0)
            return opts->hdrs[2 * i + 1];
    return NULL;
}

static bool has_header(const outbound_opts *opts, const char *lower)
{
    return header_value(opts, lower) != NULL;
}

int outbound_start(outbound *o, const outbound_opts *opts, const outbound_cbs *cbs, void *ud,
                   outbound_req **out, err *e)
{
    if (strncasecmp(opts->url, "http://", 7) != 0 && strncasecmp(opts->url, "https://", 8) != 0)
        return err_setf(e, DUR_EINVAL, "the URL's scheme is not http or https: %.64s", opts->url);
    outbound_req *r = calloc(1, sizeof *r);
    if (!r)
        return err_setf(e, DUR_ENOMEM, "out of memory");
    r->o = o;
    r->cbs = *cbs;
    r->ud = ud;
    r->redirect = opts->redirect;
    r->decode = opts->decode;
    r->up_declared = -1;
    buf_init(&r->head, HEAD_BYTES_MAX + 1024);
    buf_init(&r->up, (size_t)-1);
    r->easy = curl_easy_init();
    if (!r->easy) {
        free(r);
        return err_setf(e, DUR_ENOMEM, "curl_easy_init failed");
    }
    CURL *c = r->easy;
    curl_easy_setopt(c, CURLOPT_URL, opts->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(opts->connect_timeout_ms ? opts->connect_timeout_ms
                                                     : OUTBOUND_CONNECT_TIMEOUT_MS));
    /* Redirects are followed here (follow()), not by curl: curl 7.88 keeps a custom
     * method across a 303 and drops a PUT's body after a 301. */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    if (opts->decode) {
        /* The caller's Accept-Encoding header, if any, replaces curl's. */
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip, deflate, br");
        curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    }
    const char *m = opts->method ? opts->method : "GET";
    snprintf(r->method, sizeof r->method, "%s", m);
    if (strcmp(m, "HEAD") == 0) {
        r->no_body = true;
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (opts->body_stream) {
        r->up_stream = true;
        const char *cl = header_value(opts, "content-length");
        if (cl) {
            char *end = NULL;
            long long v = strtoll(cl, &end, 10);
            if (!*cl || *end || v < 0) {
                curl_easy_cleanup(c);
                buf_fini(&r->head);
                free(r);
                return err_setf(e, DUR_EINVAL, "the Content-Length header is not a length: %.40s", cl);
            }
            r->up_declared = v;
        }
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, r);
        /* -1: unknown, sent chunked; else exactly that many bytes. */
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->up_declared);
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    } else if (opts->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)opts->body_len);
        curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, opts->body_len ? opts->body : "");
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
        if (strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0)
            add_header(r, "content-length", "0");
    }
    int rc = 0;
    for (size_t i = 0; i < opts->nhdrs && rc == 0; i++)
        rc = add_header(r, opts->hdrs[2 * i], opts->hdrs[2 * i + 1]);
    /* curl's own defaults that fetch would not send. */
    if (rc == 0 && !has_header(opts, "expect")) {
        struct curl_slist *n = curl_slist_append(r->hdrs, "Expect:");
        rc = n ? (r->hdrs = n, 0) : -1;
    }
    if (rc == 0 && (opts->body || opts->body_stream) && !has_header(opts, "content-type")) {
        struct curl_slist *n = curl_slist_append(r->hdrs, "Content-Type:");
        rc = n ? (r->hdrs = n, 0) : -1;
    }
    if (rc == 0 && !has_header(opts, "accept")) {
        struct curl_slist *n = curl_slist_append(r->hdrs, "Accept: */*");
        rc = n ? (r->hdrs = n, 0) : -1;
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->hdrs);
    if (rc < 0 || curl_multi_add_handle(o->multi, c) != CURLM_OK) {
        curl_easy_cleanup(c);
        curl_slist_free_all(r->hdrs);
        buf_fini(&r->head);
        free(r);
        return err_setf(e, DUR_ENOMEM, "could not start the request");
    }
    r->next = o->reqs;
    if (o->reqs)
        o->reqs->prev = r;
    o->reqs = r;
    o->active++;
    *out = r;
    return 0;
}

/* After a call from outside curl's callbacks: what it asked for, and the drains
 * curl's reads caused. */
static void kick(outbound *o)
{
    if (o->depth > 0)
        return;
    settle(o);
    drains(o);
    settle(o);
}

int outbound_body_write(outbound_req *r, const void *data, size_t len, bool *full, err *e)
{
    *full = false;
    if (!r->up_stream || r->up_ended)
        return err_setf(e, DUR_EINVAL, "the request body was already complete");
    if (r->cancelled || r->up_dropped)
        return 0;   /* the transfer is over, or a redirect made it a GET: nothing is sent */
    if (r->up_declared >= 0 && r->up_total + len > (uint64_t)r->up_declared)
        return err_setf(e, DUR_EINVAL, "the request body stream gave more bytes than its "
                        "Content-Length header declared (%lld)", (long long)r->up_declared);
    if (len && buf_append(&r->up, data, len) < 0)
        return err_setf(e, DUR_ENOMEM, "out of memory");
    r->up_total += len;
    if (r->up.len - r->up_off >= OUTBOUND_BODY_BUFFER) {
        *full = true;
        r->up_want_drain = true;
    }
    if (r->up_paused) {
        r->up_want_resume = true;
        r->o->dirty = true;
        kick(r->o);
    }
    return 0;
}

void outbound_body_end(outbound_req *r)
{
    if (!r->up_stream || r->up_ended || r->cancelled)
        return;
    r->up_ended = true;
    if (r->up_paused) {
        r->up_want_resume = true;
        r->o->dirty = true;
        kick(r->o);
    }
}

void outbound_resume(outbound_req *r)
{
    if (r->cancelled || !r->paused)
        return;
    r->want_resume = true;
    r->o->dirty = true;
    if (r->o->depth == 0)
        settle(r->o);
}

void outbound_cancel(outbound_req *r)
{
    outbound *o = r->o;
    r->cancelled = true;
    o->dirty = true;
    if (o->depth == 0)
        settle(o);
}
