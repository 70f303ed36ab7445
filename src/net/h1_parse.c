/* h1_parse.c: the request parser driver (http-parser glue), one per connection.
 *
 * Owns: the per-connection arena for the target and header names/values, the body
 * buffer and the header arrays; all are reused from request to request and only
 * released when they grew past a size worth giving back.
 *
 * Invariants:
 * - At most one request is parsed at a time: on_message_complete pauses http-parser,
 *   so the bytes after a request stay unconsumed (pipelining) until h1__parse_next.
 * - The head (request line + headers, counted from the first byte after the previous
 *   request) never exceeds lim.head_bytes_max: the driver never feeds http-parser more
 *   head bytes than the room left, so a head of exactly the limit passes and one byte
 *   more is 431. http-parser's own process-wide cap (80 KiB unless changed with
 *   http_parser_set_max_header_size before shards start) also answers 431.
 * - Content-Length over lim.body_bytes_max is refused at the end of the head (413)
 *   without reading the body; a chunked body is refused (413) as soon as it passes.
 * - More than H1_HEADERS_COUNT_MAX headers: 431. Unknown Expect: 417.
 * - Trailers of a chunked body are read and dropped.
 * - What http-parser (2.9, built non-strict) lets through and we refuse with 400: a
 *   header name with a byte that is not a token character (it accepts spaces, so
 *   "Content-Length : 5" would set the body length and reach the Worker as the name
 *   "content-length " - a request-smuggling shape, RFC 9112 §5.1), a header line
 *   that starts with whitespace (obs-fold, RFC 9112 §5.2; as the first line it would
 *   be read as a name starting with a space), and a Host or target h1_target.c
 *   refuses. HTTP versions other than 1.x get 505.
 * - A chunk-size too large for 64 bits: 400 that says so (http-parser reports it as
 *   a bad Content-Length); a chunk larger than the room left under
 *   lim.body_bytes_max: 413 before its data is read.
 *
 * Tuned for: many small pipelined requests; no allocation per request once the
 * connection's buffers have grown to fit its requests. */
#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/internal.h"

enum { PIECE_NONE, PIECE_URL, PIECE_FIELD, PIECE_VALUE };
/* lines_scan states: before the request line, inside a line, at the start of a
 * header line, after a CR there, past the head. */
enum { LINE_PRE, LINE_IN, LINE_START, LINE_START_CR, LINE_DONE };

/* Buffers that grew past these are freed between requests instead of kept. */
#define ARENA_KEEP_BYTES (16u * 1024u)
#define BODY_KEEP_BYTES (1024u * 1024u)

static int fail(h1_parse *ps, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(h1_parse *ps, int status, const char *fmt, ...)
{
    if (ps->err_status)
        return -1; /* keep the first reason */
    ps->err_status = status;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(ps->err_msg, sizeof ps->err_msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        ps->err_msg[0] = '\0';
    return -1;
}

/* Ends the open piece with a NUL so each name/value/target is a C string. */
static int close_piece(h1_parse *ps)
{
    if (ps->piece == PIECE_NONE)
        return 0;
    ps->piece = PIECE_NONE;
    if (buf_append(&ps->arena, "", 1) < 0)
        return fail(ps, 431, "request head exceeds %zu bytes", ps->lim.head_bytes_max);
    return 0;
}

static int arena_add(h1_parse *ps, const char *at, size_t len)
{
    int rc = buf_append(&ps->arena, at, len);
    if (rc == DUR_ETOOBIG)
        return fail(ps, 431, "request head exceeds %zu bytes", ps->lim.head_bytes_max);
    if (rc < 0)
        return fail(ps, 500, "out of memory reading the request head");
    return 0;
}

static int on_message_begin(http_parser *hp)
{
    h1_parse *ps = hp->data;
    ps->in_message = true;
    return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
    h1_parse *ps = hp->data;
    if (ps->piece != PIECE_URL) {
        if (close_piece(ps) < 0)
            return -1;
        ps->piece = PIECE_URL;
        ps->url_off = ps->arena.len;
        ps->url_len = 0;
    }
    ps->url_len += len;
    return arena_add(ps, at, len);
}

static bool is_tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int headers_grow(h1_parse *ps)
{
    size_t cap = ps->hdr_cap ? ps->hdr_cap * 2 : 16;
    if (cap > H1_HEADERS_COUNT_MAX)
        cap = H1_HEADERS_COUNT_MAX;
    h1_hdr_off *offs = realloc(ps->offs, cap * sizeof *offs);
    if (!offs)
        return fail(ps, 500, "out of memory reading the request head");
    ps->offs = offs;
    h1_header *hdrs = realloc(ps->hdrs, cap * sizeof *hdrs);
    if (!hdrs)
        return fail(ps, 500, "out of memory reading the request head");
    ps->hdrs = hdrs;
    ps->hdr_cap = cap;
    return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
    h1_parse *ps = hp->data;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)at[i];
        if (is_tchar(ch))
            continue;
        if (ch == ' ' || ch == '\t')
            return fail(ps, 400, "malformed request: whitespace in a header name or before "
                                 "its colon");
        return fail(ps, 400, "malformed request: invalid character 0x%02x in a header name", ch);
    }
    if (ps->head_done)
        return 0; /* a trailer after a chunked body: dropped */
    if (ps->piece != PIECE_FIELD) {
        if (close_piece(ps) < 0)
            return -1;
        if (ps->hdr_count == H1_HEADERS_COUNT_MAX)
            return fail(ps, 431, "more than %u request headers", H1_HEADERS_COUNT_MAX);
        if (ps->hdr_count == ps->hdr_cap && headers_grow(ps) < 0)
            return -1;
        h1_hdr_off *o = &ps->offs[ps->hdr_count++];
        o->name_off = ps->arena.len;
        o->name_len = 0;
        o->value_off = SIZE_MAX;
        o->value_len = 0;
        ps->piece = PIECE_FIELD;
    }
    ps->offs[ps->hdr_count - 1].name_len += len;
    return arena_add(ps, at, len);
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
    h1_parse *ps = hp->data;
    if (ps->head_done)
        return 0;
    assert(ps->hdr_count > 0);
    h1_hdr_off *o = &ps->offs[ps->hdr_count - 1];
    if (ps->piece != PIECE_VALUE) {
        if (close_piece(ps) < 0)
            return -1;
        o->value_off = ps->arena.len;
        o->value_len = 0;
        ps->piece = PIECE_VALUE;
    }
    o->value_len += len;
    return arena_add(ps, at, len);
}

static const h1_header *find_header(const h1_parse *ps, const char *name, size_t *count)
{
    const h1_header *found = NULL;
    size_t n = 0;
    for (size_t i = 0; i < ps->hdr_count; i++)
        if (strcasecmp(ps->hdrs[i].name, name) == 0) {
            if (!found)
                found = &ps->hdrs[i];
            n++;
        }
    if (count)
        *count = n;
    return found;
}

/* The arena no longer moves once the head is complete (body bytes go elsewhere and
 * trailers are dropped), so pointers can be handed out from here on. */
static void head_finalize(h1_parse *ps)
{
    char *base = ps->arena.ptr;
    for (size_t i = 0; i < ps->hdr_count; i++) {
        const h1_hdr_off *o = &ps->offs[i];
        h1_header *h = &ps->hdrs[i];
        h->name = base + o->name_off;
        h->name_len = o->name_len;
        if (o->value_off == SIZE_MAX) {
            h->value = "";
            h->value_len = 0;
            continue;
        }
        char *v = base + o->value_off;
        size_t n = o->value_len;
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--; /* trailing OWS is not part of it */
        v[n] = '\0';
        h->value = v;
        h->value_len = n;
    }
    h1_request *r = &ps->req;
    r->method = http_method_str((enum http_method)ps->hp.method);
    r->target = base + ps->url_off;
    r->target_len = ps->url_len;
    r->headers = ps->hdrs;
    r->header_count = ps->hdr_count;
    size_t host_count;
    const h1_header *host = find_header(ps, "host", &host_count);
    r->host = host ? host->value : NULL;
    ps->host_count = host_count;
    r->http_major = ps->hp.http_major;
    r->http_minor = ps->hp.http_minor;
    r->is_head = ps->hp.method == HTTP_HEAD;
    r->body = "";
    r->body_len = 0;
}

static int request_url(h1_parse *ps)
{
    h1_request *r = &ps->req;
    h1_url_in in = {
        .target = r->target,
        .target_len = r->target_len,
        .host = r->host,
        .host_len = r->host ? strlen(r->host) : 0,
        .host_count = ps->host_count,
        .http_minor = r->http_minor,
        .is_options = ps->hp.method == HTTP_OPTIONS,
        .default_authority = ps->authority,
    };
    const char *why = "";
    int status = h1__url_build(&in, &ps->url, &why);
    if (status == 0) {
        r->url = ps->url.ptr;
        r->url_len = ps->url.len;
        return 0;
    }
    if (status == 400 && ps->host_count == 1 && strstr(why, "Host"))
        return fail(ps, 400, "%s: '%.100s'", why, r->host);
    return fail(ps, status, "%s", why);
}

static int on_headers_complete(http_parser *hp)
{
    h1_parse *ps = hp->data;
    if (close_piece(ps) < 0)
        return -1;
    if (!ps->arena.ptr && arena_add(ps, "", 0) < 0)
        return -1;
    ps->head_done = true;
    head_finalize(ps);
    if (hp->http_major != 1)
        return fail(ps, 505, "HTTP/%u.%u is not supported; use HTTP/1.1 or HTTP/1.0",
                    hp->http_major, hp->http_minor);
    if (request_url(ps) < 0)
        return -1;

    bool chunked = (hp->flags & F_CHUNKED) != 0;
    bool has_length = !chunked && hp->content_length != ULLONG_MAX;
    if (has_length && hp->content_length > ps->lim.body_bytes_max)
        return fail(ps, 413, "request body of %llu bytes exceeds %zu bytes",
                    (unsigned long long)hp->content_length, ps->lim.body_bytes_max);
    const h1_header *expect = find_header(ps, "expect", NULL);
    if (expect && (hp->http_major > 1 || (hp->http_major == 1 && hp->http_minor >= 1))) {
        if (strcasecmp(expect->value, "100-continue") != 0)
            return fail(ps, 417, "unsupported Expect: %.100s", expect->value);
        bool has_body = chunked || (has_length && hp->content_length > 0);
        if (has_body)
            http_parser_pause(hp, 1); /* the caller sends 100 Continue first */
    }
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
    h1_parse *ps = hp->data;
    int rc = buf_append(&ps->body, at, len);
    if (rc == DUR_ETOOBIG)
        return fail(ps, 413, "request body exceeds %zu bytes", ps->lim.body_bytes_max);
    if (rc < 0)
        return fail(ps, 500, "out of memory reading the request body");
    return 0;
}

/* hp->content_length is the size of the chunk whose data follows. */
static int on_chunk_header(http_parser *hp)
{
    h1_parse *ps = hp->data;
    uint64_t room = ps->lim.body_bytes_max - ps->body.len;
    if (hp->content_length > room)
        return fail(ps, 413, "request body exceeds %zu bytes", ps->lim.body_bytes_max);
    return 0;
}

static int on_message_complete(http_parser *hp)
{
    h1_parse *ps = hp->data;
    ps->msg_done = true;
    ps->req.keep_alive = http_should_keep_alive(hp) != 0;
    if (ps->body.len) {
        ps->req.body = ps->body.ptr;
        ps->req.body_len = ps->body.len;
    }
    http_parser_pause(hp, 1); /* the next request waits for this response */
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_chunk_header = on_chunk_header,
    .on_message_complete = on_message_complete,
};

void h1__parse_init(h1_parse *ps, const h1_limits *lim, const char *authority)
{
    memset(ps, 0, sizeof *ps);
    ps->lim = *lim;
    snprintf(ps->authority, sizeof ps->authority, "%s", authority ? authority : "localhost");
    http_parser_init(&ps->hp, HTTP_REQUEST);
    ps->hp.data = ps;
    /* The arena holds at most the head's bytes plus one NUL per piece, and each
     * piece costs at least one byte of separator on the wire. */
    buf_init(&ps->arena, lim->head_bytes_max + 2 * H1_HEADERS_COUNT_MAX + 8);
    buf_init(&ps->body, lim->body_bytes_max);
    /* Scheme, a Host or target authority, the target and a "/": each part is bounded
     * by the head. */
    buf_init(&ps->url, 2 * lim->head_bytes_max + 16);
}

void h1__parse_fini(h1_parse *ps)
{
    buf_fini(&ps->arena);
    buf_fini(&ps->body);
    buf_fini(&ps->url);
    free(ps->offs);
    free(ps->hdrs);
    ps->offs = NULL;
    ps->hdrs = NULL;
}

/* Watches the head's line structure, which http-parser hides: a line that starts
 * with SP or HTAB after the request line is obsolete line folding (a continuation
 * of the previous header, or, as the first header line, a name starting with
 * whitespace). Returns false at such a byte. Stops at the empty line ending the
 * head; the empty lines http-parser skips before a request line are skipped too. */
static bool lines_scan(h1_parse *ps, const char *p, size_t n)
{
    const char *end = p + n;
    while (p < end && ps->line_state != LINE_DONE) {
        switch (ps->line_state) {
        case LINE_PRE:
            if (*p != '\r' && *p != '\n')
                ps->line_state = LINE_IN;
            p++;
            break;
        case LINE_IN: {
            const char *lf = memchr(p, '\n', (size_t)(end - p));
            if (!lf)
                return true;
            p = lf + 1;
            ps->line_state = LINE_START;
            break;
        }
        case LINE_START:
            if (*p == ' ' || *p == '\t')
                return false;
            ps->line_state = *p == '\n' ? LINE_DONE : *p == '\r' ? LINE_START_CR : LINE_IN;
            p++;
            break;
        case LINE_START_CR: /* a lone CR is http-parser's to refuse */
            ps->line_state = *p == '\n' ? LINE_DONE : LINE_IN;
            p++;
            break;
        }
    }
    return true;
}

static h1_parse_event map_error(h1_parse *ps)
{
    enum http_errno e = HTTP_PARSER_ERRNO(&ps->hp);
    if (ps->err_status)
        return H1_PARSE_ERROR; /* one of our callbacks said why */
    if (e == HPE_HEADER_OVERFLOW)
        fail(ps, 431, "request head exceeds %zu bytes", ps->lim.head_bytes_max);
    else if (e == HPE_INVALID_CONTENT_LENGTH && ps->head_done && (ps->hp.flags & F_CHUNKED))
        fail(ps, 400, "malformed request: chunk size too large"); /* http-parser's text
                                                                     says content-length */
    else
        fail(ps, 400, "malformed request: %s", http_errno_description(e));
    return H1_PARSE_ERROR;
}

h1_parse_event h1__parse_feed(h1_parse *ps, const char *data, size_t len, size_t *consumed)
{
    assert(!ps->msg_done);
    *consumed = 0;
    if (ps->err_status)
        return H1_PARSE_ERROR;
    if (HTTP_PARSER_ERRNO(&ps->hp) == HPE_PAUSED)
        http_parser_pause(&ps->hp, 0); /* resuming after CONTINUE */
    size_t off = 0;
    while (off < len) {
        size_t n = len - off;
        bool head_before = ps->head_done;
        if (!head_before) {
            size_t room = ps->lim.head_bytes_max - ps->head_seen;
            if (room == 0) {
                *consumed = off;
                fail(ps, 431, "request head exceeds %zu bytes", ps->lim.head_bytes_max);
                return H1_PARSE_ERROR;
            }
            if (n > room)
                n = room;
            if (!lines_scan(ps, data + off, n)) {
                *consumed = off;
                fail(ps, 400, "malformed request: a header line starts with whitespace "
                              "(obsolete line folding)");
                return H1_PARSE_ERROR;
            }
        }
        size_t got = http_parser_execute(&ps->hp, &settings, data + off, n);
        if (!head_before && !ps->head_done)
            ps->head_seen += got;
        off += got;
        enum http_errno e = HTTP_PARSER_ERRNO(&ps->hp);
        if (e == HPE_PAUSED) {
            *consumed = off;
            return ps->msg_done ? H1_PARSE_REQUEST : H1_PARSE_CONTINUE;
        }
        if (e != HPE_OK || ps->err_status) {
            *consumed = off;
            return map_error(ps);
        }
        if (got != n) { /* http-parser stops early only on errors or pauses */
            *consumed = off;
            fail(ps, 400, "malformed request: parser stopped");
            return H1_PARSE_ERROR;
        }
    }
    *consumed = off;
    return H1_PARSE_MORE;
}

void h1__parse_next(h1_parse *ps)
{
    if (ps->arena.cap > ARENA_KEEP_BYTES)
        buf_fini(&ps->arena);
    else
        buf_reset(&ps->arena);
    if (ps->url.cap > ARENA_KEEP_BYTES)
        buf_fini(&ps->url);
    else
        buf_reset(&ps->url);
    if (ps->body.cap > BODY_KEEP_BYTES)
        buf_fini(&ps->body);
    else
        buf_reset(&ps->body);
    ps->hdr_count = 0;
    ps->url_off = ps->url_len = 0;
    ps->head_seen = 0;
    ps->piece = PIECE_NONE;
    ps->line_state = LINE_PRE;
    ps->in_message = false;
    ps->head_done = false;
    ps->msg_done = false;
    memset(&ps->req, 0, sizeof ps->req);
    if (HTTP_PARSER_ERRNO(&ps->hp) == HPE_PAUSED)
        http_parser_pause(&ps->hp, 0);
}

bool h1__parse_partial(const h1_parse *ps)
{
    return !ps->msg_done && (ps->in_message || ps->head_seen > 0);
}
