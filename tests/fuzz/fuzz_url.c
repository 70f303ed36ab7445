/* libFuzzer target for web/url_parse.c. The first byte picks the mode:
 *   0: parse the rest;  1: parse "input\0base" (the rest split at the first NUL);
 *   2: parse a fixed href, then run setter (second byte % URL_PART_COUNT) with the rest;
 *   3: form-urlencoded parse and re-encode of the rest.
 * Invariants checked: no crash or leak; every href is ASCII and re-parses to itself;
 * the spans lie inside the href in order; form encoding is ASCII. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/url_parse.h"

static void check_href(const url *u)
{
    buf b;
    url_spans sp;
    buf_init(&b, SIZE_MAX);
    if (url_serialize(u, &b, &sp) != 0)
        abort();
    for (size_t i = 0; i < b.len; i++)
        if ((uint8_t)b.ptr[i] >= 0x80 || b.ptr[i] == 0)
            abort();
    if (!(sp.protocol_end <= sp.host_start && sp.host_start <= sp.host_end &&
          sp.host_end <= sp.port_end && sp.port_end <= sp.path_start &&
          sp.path_start <= sp.path_end && sp.path_end <= sp.query_start &&
          sp.query_end <= sp.fragment_start && sp.fragment_end <= b.len))
        abort();
    url again;
    url_init(&again);
    if (url_parse(&again, b.ptr, b.len, NULL, NULL) != 0)
        abort();
    buf b2;
    buf_init(&b2, SIZE_MAX);
    if (url_serialize(&again, &b2, NULL) != 0 || b2.len != b.len ||
        memcmp(b.ptr, b2.ptr, b.len) != 0)
        abort();
    buf_fini(&b2);
    url_fini(&again);
    buf_fini(&b);
}

static int on_pair(const char *n, size_t nl, const char *v, size_t vl, void *ud)
{
    buf *out = ud;
    if (url_form_encode(n, nl, out) || url_form_encode(v, vl, out))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] & 3;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    url u, base;
    url_init(&u);
    url_init(&base);
    if (mode == 0) {
        if (url_parse(&u, s, n, NULL, NULL) == 0)
            check_href(&u);
    } else if (mode == 1) {
        const char *nul = memchr(s, 0, n);
        size_t in_len = nul ? (size_t)(nul - s) : n;
        const char *b = nul ? nul + 1 : "http://example.com/a/b?q#f";
        size_t b_len = nul ? n - in_len - 1 : strlen(b);
        if (url_parse(&base, b, b_len, NULL, NULL) == 0) {
            check_href(&base);
            if (url_parse(&u, s, in_len, &base, NULL) == 0)
                check_href(&u);
        }
    } else if (mode == 2 && n >= 1) {
        static const char *hrefs[] = {"http://u:p@example.com:8080/a/b?q#f", "sc://h/p?q#f",
                                      "file:///C:/x", "mailto:x ?q", "sc:/a"};
        const char *h = hrefs[(uint8_t)s[0] % 5];
        if (url_parse(&u, h, strlen(h), NULL, NULL) != 0)
            abort();
        int part = ((uint8_t)s[0] / 5) % URL_PART_COUNT;
        if (url_set(&u, (url_part)part, s + 1, n - 1) == 0)
            check_href(&u);
    } else if (mode == 3) {
        buf out;
        buf_init(&out, SIZE_MAX);
        if (url_form_parse(s, n, on_pair, &out) != 0)
            abort();
        for (size_t i = 0; i < out.len; i++)
            if ((uint8_t)out.ptr[i] >= 0x80)
                abort();
        buf_fini(&out);
    }
    url_fini(&u);
    url_fini(&base);
    return 0;
}
