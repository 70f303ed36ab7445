/* Unit tests for the HTTP/1.1 request parser driver (net/h1_parse.c): requests fed
 * whole and one byte at a time, pipelining, chunked bodies cut at every byte, the
 * head/body/header-count limits at, below and one above the boundary, Expect, and
 * malformed input. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr */
#endif
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
#include <strings.h>

#include "net/internal.h"

typedef struct fed {
    h1_parse_event ev;
    size_t consumed;
    int continues; /* H1_PARSE_CONTINUE events seen */
} fed;

/* Feeds data in steps of `step` bytes (0: all at once) until a request completes or
 * fails; CONTINUE events are counted and parsing goes on, as the connection does. */
static fed feed(h1_parse *ps, const char *data, size_t len, size_t step)
{
    fed f = {H1_PARSE_MORE, 0, 0};
    while (f.consumed < len) {
        size_t n = len - f.consumed;
        if (step && n > step)
            n = step;
        size_t used = 0;
        f.ev = h1__parse_feed(ps, data + f.consumed, n, &used);
        f.consumed += used;
        if (f.ev == H1_PARSE_CONTINUE) {
            f.continues++;
            continue;
        }
        if (f.ev != H1_PARSE_MORE)
            return f;
        assert_int_equal(used, n);
    }
    return f;
}

static h1_limits limits(size_t head_max, size_t body_max)
{
    h1_limits l;
    h1_limits_default(&l);
    l.head_bytes_max = head_max;
    l.body_bytes_max = body_max;
    return l;
}

static const char *hdr(const h1_request *r, const char *name)
{
    for (size_t i = 0; i < r->header_count; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static const char simple_get[] = "GET /a/b?c=1 HTTP/1.1\r\n"
                                 "Host: example.com\r\n"
                                 "X-Trim:   spaced  \t\r\n"
                                 "X-Empty:\r\n"
                                 "User-Agent: t\r\n"
                                 "\r\n";

static void check_simple_get(const h1_request *r)
{
    assert_string_equal(r->method, "GET");
    assert_string_equal(r->target, "/a/b?c=1");
    assert_int_equal(r->target_len, 8);
    assert_non_null(r->host);
    assert_string_equal(r->host, "example.com");
    assert_int_equal(r->header_count, 4);
    assert_string_equal(r->headers[0].name, "Host");
    assert_int_equal(r->headers[0].name_len, 4);
    assert_string_equal(hdr(r, "x-trim"), "spaced");
    assert_string_equal(hdr(r, "x-empty"), "");
    assert_string_equal(hdr(r, "user-agent"), "t");
    assert_int_equal(r->body_len, 0);
    assert_string_equal(r->body, "");
    assert_int_equal(r->http_major, 1);
    assert_int_equal(r->http_minor, 1);
    assert_true(r->keep_alive);
    assert_false(r->is_head);
}

static void test_get_whole_and_bytewise(void **state)
{
    h1_limits l = limits(H1_HEAD_BYTES_MAX_DEFAULT, 1000);
    size_t steps[] = {0, 1, 2, 7};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        h1_parse ps;
        h1__parse_init(&ps, &l, NULL);
        fed f = feed(&ps, simple_get, sizeof simple_get - 1, steps[i]);
        assert_int_equal(f.ev, H1_PARSE_REQUEST);
        assert_int_equal(f.consumed, sizeof simple_get - 1);
        check_simple_get(&ps.req);
        h1__parse_fini(&ps);
    }
}

static void test_incomplete_is_more(void **state)
{
    h1_limits l = limits(1024, 1000);
    h1_parse ps;
    h1__parse_init(&ps, &l, NULL);
    assert_false(h1__parse_partial(&ps));
    fed f = feed(&ps, simple_get, sizeof simple_get - 2, 0);
    assert_int_equal(f.ev, H1_PARSE_MORE);
    assert_true(h1__parse_partial(&ps));
    f = feed(&ps, "\n", 1, 0);
    assert_int_equal(f.ev, H1_PARSE_REQUEST);
    check_simple_get(&ps.req);
    h1__parse_next(&ps);
    assert_false(h1__parse_partial(&ps));
    h1__parse_fini(&ps);
}

static void test_pipelined_three(void **state)
{
    const char wire[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                        "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                        "GET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    h1_limits l = limits(1024, 1000);
    for (size_t step = 0; step <= 1; step++) {
        h1_parse ps;
        h1__parse_init(&ps, &l, NULL);
        size_t off = 0;
        const char *targets[] = {"/1", "/2", "/3"};
        for (int i = 0; i < 3; i++) {
            fed f = feed(&ps, wire + off, sizeof wire - 1 - off, step);
            assert_int_equal(f.ev, H1_PARSE_REQUEST);
            off += f.consumed;
            assert_string_equal(ps.req.target, targets[i]);
            if (i == 1) {
                assert_string_equal(ps.req.method, "POST");
                assert_int_equal(ps.req.body_len, 3);
                assert_string_equal(ps.req.body, "abc");
            }
            assert_int_equal(ps.req.keep_alive, i != 2);
            h1__parse_next(&ps);
        }
        assert_int_equal(off, sizeof wire - 1);
        h1__parse_fini(&ps);
    }
}

static void test_content_length_body(void **state)
{
    const char wire[] = "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world";
    h1_limits l = limits(1024, 1000);
    for (size_t step = 0; step <= 1; step++) {
        h1_parse ps;
        h1__parse_init(&ps, &l, NULL);
        fed f = feed(&ps, wire, sizeof wire - 1, step);
        assert_int_equal(f.ev, H1_PARSE_REQUEST);
        assert_int_equal(f.consumed, sizeof wire - 1);
        assert_int_equal(ps.req.body_len, 11);
        assert_memory_equal(ps.req.body, "hello world", 12); /* NUL-terminated */
        h1__parse_fini(&ps);
    }
}

static const char chunked[] = "POST /c HTTP/1.1\r\nHost: h\r\n"
                              "Transfer-Encoding: chunked\r\n"
                              "\r\n"
                              "4\r\nWiki\r\n"
                              "5;ext=1\r\npedia\r\n"
                              "E\r\n in\r\n\r\nchunks.\r\n"
                              "0\r\n"
                              "X-Trailer: dropped\r\n"
                              "\r\n";
static const char chunked_body[] = "Wikipedia in\r\n\r\nchunks.";

static void test_chunked_split_at_every_byte(void **state)
{
    h1_limits l = limits(1024, 1000);
    size_t len = sizeof chunked - 1;
    for (size_t cut = 1; cut < len; cut++) {
        h1_parse ps;
        h1__parse_init(&ps, &l, NULL);
        fed a = feed(&ps, chunked, cut, 0);
        assert_int_equal(a.ev, H1_PARSE_MORE);
        assert_int_equal(a.consumed, cut);
        fed b = feed(&ps, chunked + cut, len - cut, 0);
        assert_int_equal(b.ev, H1_PARSE_REQUEST);
        assert_int_equal(b.consumed, len - cut);
        assert_int_equal(ps.req.body_len, sizeof chunked_body - 1);
        assert_string_equal(ps.req.body, chunked_body);
        assert_int_equal(ps.req.header_count, 2); /* Host and Transfer-Encoding: the trailer is not a header */
        h1__parse_fini(&ps);
    }
    h1_parse ps;
    h1__parse_init(&ps, &l, NULL);
    fed f = feed(&ps, chunked, len, 1);
    assert_int_equal(f.ev, H1_PARSE_REQUEST);
    assert_string_equal(ps.req.body, chunked_body);
    h1__parse_fini(&ps);
}

/* A GET whose head is exactly `total` bytes, padded with an X-Pad header. */
static char *head_of(size_t total)
{
    const char pre[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
    const char post[] = "\r\n\r\n";
    size_t fixed = sizeof pre - 1 + sizeof post - 1;
    assert_true(total > fixed);
    char *p = malloc(total + 1);
    assert_non_null(p);
    memcpy(p, pre, sizeof pre - 1);
    memset(p + sizeof pre - 1, 'a', total - fixed);
    memcpy(p + total - (sizeof post - 1), post, sizeof post - 1);
    p[total] = '\0';
    return p;
}

static void check_head_limit(size_t max, size_t step)
{
    h1_limits l = limits(max, 1000);
    for (size_t total = max - 1; total <= max + 1; total++) {
        char *wire = head_of(total);
        h1_parse ps;
        h1__parse_init(&ps, &l, NULL);
        fed f = feed(&ps, wire, total, step);
        if (total <= max) {
            assert_int_equal(f.ev, H1_PARSE_REQUEST);
            assert_int_equal(ps.req.headers[1].value_len, total - 36);
        } else {
            assert_int_equal(f.ev, H1_PARSE_ERROR);
            assert_int_equal(ps.err_status, 431);
            assert_non_null(strstr(ps.err_msg, "exceeds"));
            /* The error is sticky. */
            size_t used;
            assert_int_equal(h1__parse_feed(&ps, "x", 1, &used), H1_PARSE_ERROR);
        }
        h1__parse_fini(&ps);
        free(wire);
    }
}

static void test_head_limit_boundary(void **state)
{
    check_head_limit(H1_HEAD_BYTES_MAX_DEFAULT, 0);
    check_head_limit(H1_HEAD_BYTES_MAX_DEFAULT, 4096);
    check_head_limit(300, 1);
}

static void test_header_count_limit(void **state)
{
    h1_limits l = limits(H1_HEAD_BYTES_MAX_DEFAULT, 1000);
    for (unsigned count = H1_HEADERS_COUNT_MAX - 1; count <= H1_HEADERS_COUNT_MAX + 1; count++) {
        buf b;
        buf_init(&b, 1 << 20);
        /* HTTP/1.0 needs no Host, so every header counted is one of ours. */
        assert_int_equal(buf_append_str(&b, "GET / HTTP/1.0\r\n"), 0);
        for (unsigned i = 0; i < count; i++)
            assert_int_equal(buf_printf(&b, "H%u: v%u\r\n", i, i), 0);
        assert_int_equal(buf_append_str(&b, "\r\n"), 0);
        h1_parse ps;
        h1__parse_init(&ps, &l, NULL);
        fed f = feed(&ps, b.ptr, b.len, 0);
        if (count <= H1_HEADERS_COUNT_MAX) {
            assert_int_equal(f.ev, H1_PARSE_REQUEST);
            assert_int_equal(ps.req.header_count, count);
            char last[16];
            snprintf(last, sizeof last, "H%u", count - 1);
            assert_string_equal(ps.req.headers[count - 1].name, last);
        } else {
            assert_int_equal(f.ev, H1_PARSE_ERROR);
            assert_int_equal(ps.err_status, 431);
        }
        h1__parse_fini(&ps);
        buf_fini(&b);
    }
}

static void test_body_limit_content_length(void **state)
{
    h1_limits l = limits(1024, 10);
    for (size_t n = 9; n <= 11; n++) {
        char wire[128];
        int k = snprintf(wire, sizeof wire,
                         "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n"
                         "%.*s",
                         n, (int)n, "xxxxxxxxxxxx");
        h1_parse ps;
        h1__parse_init(&ps, &l, NULL);
        fed f = feed(&ps, wire, (size_t)k, 0);
        if (n <= 10) {
            assert_int_equal(f.ev, H1_PARSE_REQUEST);
            assert_int_equal(ps.req.body_len, n);
        } else {
            /* Refused at the end of the head: the body is never read. */
            assert_int_equal(f.ev, H1_PARSE_ERROR);
            assert_int_equal(ps.err_status, 413);
            assert_true(f.consumed < (size_t)k - n);
        }
        h1__parse_fini(&ps);
    }
}

static void test_body_limit_chunked(void **state)
{
    h1_limits l = limits(1024, 23); /* chunked_body is 23 bytes */
    assert_int_equal(sizeof chunked_body - 1, 23);
    for (size_t step = 0; step <= 1; step++) {
        h1_parse ps;
        h1__parse_init(&ps, &l, NULL);
        fed f = feed(&ps, chunked, sizeof chunked - 1, step);
        assert_int_equal(f.ev, H1_PARSE_REQUEST);
        h1__parse_fini(&ps);
        l.body_bytes_max = 22;
        h1__parse_init(&ps, &l, NULL);
        f = feed(&ps, chunked, sizeof chunked - 1, step);
        assert_int_equal(f.ev, H1_PARSE_ERROR);
        assert_int_equal(ps.err_status, 413);
        h1__parse_fini(&ps);
        l.body_bytes_max = 23;
    }
}

static void test_expect_continue(void **state)
{
    h1_limits l = limits(1024, 10);
    const char ok[] = "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc";
    for (size_t step = 0; step <= 1; step++) {
        h1_parse ps;
        h1__parse_init(&ps, &l, NULL);
        size_t used;
        /* The CONTINUE event comes at the end of the head, before any body byte. */
        size_t head_len = sizeof ok - 1 - 3;
        fed f = feed(&ps, ok, head_len, step);
        assert_int_equal(f.continues, 1);
        assert_int_equal(f.ev, H1_PARSE_MORE);
        assert_int_equal(h1__parse_feed(&ps, "abc", 3, &used), H1_PARSE_REQUEST);
        assert_int_equal(used, 3);
        assert_string_equal(ps.req.body, "abc");
        h1__parse_fini(&ps);
    }
    /* Over the limit: 413 at once, no CONTINUE. */
    const char big[] = "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n";
    h1_parse ps;
    h1__parse_init(&ps, &l, NULL);
    fed f = feed(&ps, big, sizeof big - 1, 0);
    assert_int_equal(f.continues, 0);
    assert_int_equal(f.ev, H1_PARSE_ERROR);
    assert_int_equal(ps.err_status, 413);
    h1__parse_fini(&ps);
    /* No body: nothing to wait for, no CONTINUE. */
    const char nobody[] = "GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n";
    h1__parse_init(&ps, &l, NULL);
    f = feed(&ps, nobody, sizeof nobody - 1, 0);
    assert_int_equal(f.continues, 0);
    assert_int_equal(f.ev, H1_PARSE_REQUEST);
    h1__parse_fini(&ps);
    /* Unknown expectation: 417. */
    const char odd[] = "POST / HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx";
    h1__parse_init(&ps, &l, NULL);
    f = feed(&ps, odd, sizeof odd - 1, 0);
    assert_int_equal(f.ev, H1_PARSE_ERROR);
    assert_int_equal(ps.err_status, 417);
    h1__parse_fini(&ps);
}

static void test_keep_alive_and_head(void **state)
{
    h1_limits l = limits(1024, 10);
    struct {
        const char *wire;
        bool keep_alive;
        bool is_head;
    } cases[] = {
        {"GET / HTTP/1.0\r\n\r\n", false, false},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true, false},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false, false},
        {"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h1_parse ps;
        h1__parse_init(&ps, &l, NULL);
        fed f = feed(&ps, cases[i].wire, strlen(cases[i].wire), 0);
        assert_int_equal(f.ev, H1_PARSE_REQUEST);
        assert_int_equal(ps.req.keep_alive, cases[i].keep_alive);
        assert_int_equal(ps.req.is_head, cases[i].is_head);
        if (ps.req.http_minor == 0)
            assert_null(ps.req.host);
        h1__parse_fini(&ps);
    }
}

static void test_malformed_is_400(void **state)
{
    h1_limits l = limits(1024, 1000);
    const char *bad[] = {
        "BLAH / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nNo colon here\r\n\r\n",
        "GET / HTTP/9\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* TLS to a plain port */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (size_t step = 0; step <= 1; step++) {
            h1_parse ps;
            h1__parse_init(&ps, &l, NULL);
            fed f = feed(&ps, bad[i], strlen(bad[i]), step);
            if (f.ev != H1_PARSE_ERROR)
                fail_msg("case %zu (step %zu) was not refused", i, step);
            assert_int_equal(ps.err_status, 400);
            assert_non_null(strstr(ps.err_msg, "malformed"));
            h1__parse_fini(&ps);
        }
    }
}

/* Feeds wire whole and one byte at a time; returns the status of the error (0 for
 * a request) and checks both ways agree. With a request, *url gets its URL. */
static int parse_one(const char *wire, const char *authority, char *url, size_t url_len)
{
    h1_limits l = limits(1024, 1000);
    int status[2] = {0, 0};
    for (size_t step = 0; step <= 1; step++) {
        h1_parse ps;
        h1__parse_init(&ps, &l, authority);
        fed f = feed(&ps, wire, strlen(wire), step);
        if (f.ev == H1_PARSE_ERROR) {
            status[step] = ps.err_status;
            assert_true(ps.err_msg[0] != '\0');
        } else {
            if (f.ev != H1_PARSE_REQUEST)
                fail_msg("'%s': neither a request nor an error", wire);
            assert_int_equal(strlen(ps.req.url), ps.req.url_len);
            if (url)
                snprintf(url, url_len, "%s", ps.req.url);
        }
        h1__parse_fini(&ps);
    }
    assert_int_equal(status[0], status[1]);
    return status[0];
}

static void test_host_and_url(void **state)
{
    struct {
        const char *wire;
        const char *url; /* NULL: refused with 400 */
    } cases[] = {
        /* RFC 9112 §3.2: exactly one valid Host on HTTP/1.1. */
        {"GET /x HTTP/1.1\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost:\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost:   \r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: evil.com/fake?\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: a@b\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: a b\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: a#b\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: a%41\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: :80\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: a:99999\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: a:65536\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: a:8x\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: a:1:2\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: 1.2.3.999\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: 0x7f.1\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: example.01\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: [::1\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: [::g]\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: [v1.a]\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: [::1]x\r\n\r\n", NULL},
        {"GET /x HTTP/1.0\r\nHost: a/b\r\n\r\n", NULL},
        {"GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n", "http://example.com/x"},
        {"GET /x?y=1 HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n",
         "http://example.com:8080/x?y=1"},
        {"GET /x HTTP/1.1\r\nHost: a:\r\n\r\n", "http://a/x"},
        {"GET /x HTTP/1.1\r\nHost: a:80\r\n\r\n", "http://a/x"},
        {"GET /x HTTP/1.1\r\nHost: a:00081\r\n\r\n", "http://a:81/x"},
        {"GET /x HTTP/1.1\r\nHost: 10.0.0.255:1\r\n\r\n", "http://10.0.0.255:1/x"},
        {"GET /x HTTP/1.1\r\nHost: [::1]:8787\r\n\r\n", "http://[::1]:8787/x"},
        {"GET /x HTTP/1.1\r\nHost: a-b_c.~!$&'()*+,;=\r\n\r\n", "http://a-b_c.~!$&'()*+,;=/x"},
        {"GET /x HTTP/1.1\r\nHost: host.123a\r\n\r\n", "http://host.123a/x"},
        {"GET //x HTTP/1.1\r\nHost: h\r\n\r\n", "http://h//x"},
        /* HTTP/1.0 may leave Host out: the listen address stands in. */
        {"GET /x HTTP/1.0\r\n\r\n", "http://127.0.0.1:8787/x"},
        {"GET /x HTTP/1.0\r\nHost: h\r\n\r\n", "http://h/x"},
        /* Absolute form: the target's authority wins; Host is still required. */
        {"GET http://Other.example:81/y?z HTTP/1.1\r\nHost: h\r\n\r\n",
         "http://other.example:81/y?z"},
        {"GET HTTPS://o HTTP/1.1\r\nHost: h\r\n\r\n", "https://o/"},
        {"GET https://o:443?q HTTP/1.1\r\nHost: h\r\n\r\n", "https://o/?q"},
        {"GET http://o/y HTTP/1.1\r\n\r\n", NULL},
        {"GET http://o/y HTTP/1.1\r\nHost: a@b\r\n\r\n", NULL},
        {"GET http://u:p@o/y HTTP/1.1\r\nHost: h\r\n\r\n", NULL},
        {"GET http:///y HTTP/1.1\r\nHost: h\r\n\r\n", NULL},
        {"GET ftp://o/y HTTP/1.1\r\nHost: h\r\n\r\n", NULL},
        /* Asterisk form for OPTIONS only; authority form (CONNECT) is not served. */
        {"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "http://h/"},
        {"GET * HTTP/1.1\r\nHost: h\r\n\r\n", NULL},
        {"CONNECT o:443 HTTP/1.1\r\nHost: o:443\r\n\r\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char url[256] = "";
        int status = parse_one(cases[i].wire, "127.0.0.1:8787", url, sizeof url);
        if (!cases[i].url && status != 400)
            fail_msg("case %zu '%s': status %d, wanted 400", i, cases[i].wire, status);
        if (cases[i].url && (status != 0 || strcmp(url, cases[i].url) != 0))
            fail_msg("case %zu '%s': status %d, url '%s', wanted '%s'", i, cases[i].wire, status,
                     url, cases[i].url);
    }
    char url[64];
    assert_int_equal(parse_one("GET /x HTTP/1.0\r\n\r\n", NULL, url, sizeof url), 0);
    assert_string_equal(url, "http://localhost/x");
    assert_int_equal(parse_one("GET /x HTTP/1.0\r\n\r\n", "[::1]:80", url, sizeof url), 0);
    assert_string_equal(url, "http://[::1]/x");
}

/* RFC 9112 §5.1 and §5.2: what http-parser lets through in header lines. */
static void test_header_whitespace(void **state)
{
    const char *bad[] = {
        /* Whitespace before the colon: http-parser would honour this length. */
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 3\r\n\r\nabc",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nFoo Bar: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX\x01Y: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX\x7fY: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX\xffY: x\r\n\r\n",
        /* The first header line starts with whitespace. */
        "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
        "GET / HTTP/1.1\r\n\tHost: a\r\n\r\n",
        "GET / HTTP/1.0\r\n X: a\r\n\r\n",
        /* Obsolete line folding anywhere. */
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX:\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\t\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\nX: a\n folded\n\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_one(bad[i], NULL, NULL, 0) != 400)
            fail_msg("case %zu was not refused with 400", i);
    /* Near misses that are fine: bare LF lines, empty lines before the request line,
     * and a body or next request that starts with whitespace. */
    const char *good[] = {
        "GET / HTTP/1.1\nHost: a\nX: a b\n\n",
        "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n  x",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Tab:\tv\t\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (parse_one(good[i], NULL, NULL, 0) != 0)
            fail_msg("good case %zu was refused", i);
    /* The message names the problem. */
    h1_limits l = limits(1024, 1000);
    h1_parse ps;
    h1__parse_init(&ps, &l, NULL);
    fed f = feed(&ps, bad[0], strlen(bad[0]), 0);
    assert_int_equal(f.ev, H1_PARSE_ERROR);
    assert_non_null(strstr(ps.err_msg, "whitespace in a header name or before its colon"));
    h1__parse_fini(&ps);
    h1__parse_init(&ps, &l, NULL);
    f = feed(&ps, bad[10], strlen(bad[10]), 0);
    assert_int_equal(f.ev, H1_PARSE_ERROR);
    assert_non_null(strstr(ps.err_msg, "obsolete line folding"));
    h1__parse_fini(&ps);
}

static void test_http_version(void **state)
{
    const char *unsupported[] = {
        "GET / HTTP/9.9\r\nHost: a\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
        "GET / HTTP/0.9\r\n\r\n",
        "GET /\r\n\r\n", /* HTTP/0.9 request line */
    };
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (parse_one(unsupported[i], NULL, NULL, 0) != 505)
            fail_msg("case %zu did not get 505", i);
    assert_int_equal(parse_one("GET / HTTP/1.9\r\nHost: a\r\n\r\n", NULL, NULL, 0), 0);
}

static void test_chunk_size_errors(void **state)
{
    h1_limits l = limits(1024, 1000);
    h1_parse ps;
    /* A chunk size past 64 bits: http-parser calls it a bad content-length. */
    const char huge[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "fffffffffffffffffff\r\n";
    h1__parse_init(&ps, &l, NULL);
    fed f = feed(&ps, huge, sizeof huge - 1, 0);
    assert_int_equal(f.ev, H1_PARSE_ERROR);
    assert_int_equal(ps.err_status, 400);
    assert_non_null(strstr(ps.err_msg, "chunk size"));
    assert_null(strcasestr(ps.err_msg, "content-length"));
    h1__parse_fini(&ps);
    /* A chunk bigger than the room left: 413 before its data. */
    const char big[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3e9\r\n";
    h1__parse_init(&ps, &l, NULL);
    f = feed(&ps, big, sizeof big - 1, 0);
    assert_int_equal(f.ev, H1_PARSE_ERROR);
    assert_int_equal(ps.err_status, 413);
    h1__parse_fini(&ps);
}

static void test_buffers_reused(void **state)
{
    /* Many requests on one parser: the arena and body are reset, not leaked; after
     * a big body the buffer is given back. */
    h1_limits l = limits(1024, 4u << 20);
    h1_parse ps;
    h1__parse_init(&ps, &l, NULL);
    for (int i = 0; i < 1000; i++) {
        fed f = feed(&ps, simple_get, sizeof simple_get - 1, 0);
        assert_int_equal(f.ev, H1_PARSE_REQUEST);
        check_simple_get(&ps.req);
        h1__parse_next(&ps);
    }
    size_t big = 2u << 20;
    char head[80];
    int k = snprintf(head, sizeof head, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n", big);
    char *body = calloc(1, big);
    assert_non_null(body);
    fed f = feed(&ps, head, (size_t)k, 0);
    assert_int_equal(f.ev, H1_PARSE_MORE);
    f = feed(&ps, body, big, 0);
    assert_int_equal(f.ev, H1_PARSE_REQUEST);
    assert_int_equal(ps.req.body_len, big);
    h1__parse_next(&ps);
    assert_null(ps.body.ptr);
    free(body);
    h1__parse_fini(&ps);
}

static void test_status_text(void **state)
{
    assert_string_equal(h1_status_text(200), "OK");
    assert_string_equal(h1_status_text(404), "Not Found");
    assert_string_equal(h1_status_text(413), "Content Too Large");
    assert_string_equal(h1_status_text(431), "Request Header Fields Too Large");
    assert_string_equal(h1_status_text(503), "Service Unavailable");
    assert_string_equal(h1_status_text(299), "");
    assert_string_equal(h1_status_text(-1), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_whole_and_bytewise),
        cmocka_unit_test(test_incomplete_is_more),
        cmocka_unit_test(test_pipelined_three),
        cmocka_unit_test(test_content_length_body),
        cmocka_unit_test(test_chunked_split_at_every_byte),
        cmocka_unit_test(test_head_limit_boundary),
        cmocka_unit_test(test_header_count_limit),
        cmocka_unit_test(test_body_limit_content_length),
        cmocka_unit_test(test_body_limit_chunked),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_keep_alive_and_head),
        cmocka_unit_test(test_malformed_is_400),
        cmocka_unit_test(test_host_and_url),
        cmocka_unit_test(test_header_whitespace),
        cmocka_unit_test(test_http_version),
        cmocka_unit_test(test_chunk_size_errors),
        cmocka_unit_test(test_buffers_reused),
        cmocka_unit_test(test_status_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
