/* libFuzzer target for the HTTP/1.1 request parser (net/h1_parse.c, h1_target.c).
 * The first byte picks how the rest is cut into feed calls (1..15 bytes, or 0: all
 * at once) and whether the parser stands for an IPv6 listener; the rest is the bytes
 * of one connection, parsed request after request as h1_conn.c does.
 * Invariants checked: no crash or leak; feed never consumes more than it was given;
 * every request handed out is HTTP/1.x, has token header names, a body within the
 * limit and an absolute http(s) URL that the WHATWG parser accepts (unless its host
 * has an xn-- label, which worker.c checks); every error has a known status and a
 * message. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/internal.h"
#include "web/url_parse.h"

static bool tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static void check_request(const h1_request *r, const h1_limits *l)
{
    if (r->http_major != 1 || !r->method || !r->target || !r->url || !r->body)
        abort();
    if (strlen(r->url) != r->url_len || r->body_len > l->body_bytes_max)
        abort();
    if (r->http_minor >= 1 && !r->host)
        abort();
    for (size_t i = 0; i < r->header_count; i++) {
        const h1_header *h = &r->headers[i];
        if (h->name_len == 0 || strlen(h->name) != h->name_len)
            abort();
        for (size_t k = 0; k < h->name_len; k++)
            if (!tchar((unsigned char)h->name[k]))
                abort();
    }
    bool https = strncmp(r->url, "https://", 8) == 0;
    if (!https && strncmp(r->url, "http://", 7) != 0)
        abort();
    const char *host = r->url + (https ? 8 : 7);
    size_t host_len = strcspn(host, "/?#");
    if (memmem(host, host_len, "xn--", 4))
        return;
    url u;
    url_init(&u);
    if (url_parse(&u, r->url, r->url_len, NULL, NULL) != 0 || !u.has_host || u.host.len == 0)
        abort();
    url_fini(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = data[0] & 15;
    const char *authority = (data[0] & 16) ? "[::1]:8787" : "127.0.0.1:8787";
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    h1_limits l;
    h1_limits_default(&l);
    l.head_bytes_max = 1024;
    l.body_bytes_max = 512;
    h1_parse ps;
    h1__parse_init(&ps, &l, authority);
    size_t off = 0;
    while (off < n) {
        size_t len = n - off;
        if (step && len > step)
            len = step;
        size_t used = 0;
        h1_parse_event ev = h1__parse_feed(&ps, p + off, len, &used);
        if (used > len)
            abort();
        off += used;
        if (ev == H1_PARSE_ERROR) {
            static const int known[] = {400, 413, 414, 417, 431, 500, 505};
            bool ok = false;
            for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
                ok |= ps.err_status == known[i];
            if (!ok || ps.err_msg[0] == '\0')
                abort();
            break;
        }
        if (ev == H1_PARSE_REQUEST) {
            check_request(&ps.req, &l);
            h1__parse_next(&ps);
        } else if (ev == H1_PARSE_MORE && used != len) {
            abort(); /* MORE means every byte given was consumed */
        }
    }
    h1__parse_fini(&ps);
    return 0;
}
