/* Unit tests for the HTTP/1.1 request parser driver (net/h1_parse.c): requests fed
 * whole and one byte at a time, pipelining, chunked bodies cut at every byte, the
 * head/body/header-count limits at, below and one above the boundary, Expect, and
 * malformed input. */
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
        h1__parse_init(&ps, &l);
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
    h1__parse_init(&ps, &l);
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
                        "POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                        "GET /3 HTTP/1.1\r\nConnection: close\r\n\r\n";
    h1_limits l = limits(1024, 1000);
    for (size_t step = 0; step <= 1; step++) {
        h1_parse ps;
        h1__parse_init(&ps, &l);
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
    const char wire[] = "PUT /x HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world";
    h1_limits l = limits(1024, 1000);
    for (size_t step = 0; step <= 1; step++) {
        h1_parse ps;
        h1__parse_init(&ps, &l);
        fed f = feed(&ps, wire, sizeof wire - 1, step);
        assert_int_equal(f.ev, H1_PARSE_REQUEST);
        assert_int_equal(f.consumed, sizeof wire - 1);
        assert_int_equal(ps.req.body_len, 11);
        assert_memory_equal(ps.req.body, "hello world", 12); /* NUL-terminated */
        h1__parse_fini(&ps);
    }
}

static const char chunked[] = "POST /c HTTP/1.1\r\n"
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
        h1__parse_init(&ps, &l);
        fed a = feed(&ps, chunked, cut, 0);
        assert_int_equal(a.ev, H1_PARSE_MORE);
        assert_int_equal(a.consumed, cut);
        fed b = feed(&ps, chunked + cut, len - cut, 0);
        assert_int_equal(b.ev, H1_PARSE_REQUEST);
        assert_int_equal(b.consumed, len - cut);
        assert_int_equal(ps.req.body_len, sizeof chunked_body - 1);
        assert_string_equal(ps.req.body, chunked_body);
        assert_int_equal(ps.req.header_count, 1); /* the trailer is not a header */
        h1__parse_fini(&ps);
    }
    h1_parse ps;
    h1__parse_init(&ps, &l);
    fed f = feed(&ps, chunked, len, 1);
    assert_int_equal(f.ev, H1_PARSE_REQUEST);
    assert_string_equal(ps.req.body, chunked_body);
    h1__parse_fini(&ps);
}

/* A GET whose head is exactly `total` bytes, padded with an X-Pad header. */
static char *head_of(size_t total)
{
    const char pre[] = "GET / HTTP/1.1\r\nX-Pad: ";
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
        h1__parse_init(&ps, &l);
        fed f = feed(&ps, wire, total, step);
        if (total <= max) {
            assert_int_equal(f.ev, H1_PARSE_REQUEST);
            assert_int_equal(ps.req.headers[0].value_len, total - 27);
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
        assert_int_equal(buf_append_str(&b, "GET / HTTP/1.1\r\n"), 0);
        for (unsigned i = 0; i < count; i++)
            assert_int_equal(buf_printf(&b, "H%u: v%u\r\n", i, i), 0);
        assert_int_equal(buf_append_str(&b, "\r\n"), 0);
        h1_parse ps;
        h1__parse_init(&ps, &l);
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
                         "POST / HTTP/1.1\r\nContent-Length: %zu\r\n\r\n"
                         "%.*s",
                         n, (int)n, "xxxxxxxxxxxx");
        h1_parse ps;
        h1__parse_init(&ps, &l);
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
        h1__parse_init(&ps, &l);
        fed f = feed(&ps, chunked, sizeof chunked - 1, step);
        assert_int_equal(f.ev, H1_PARSE_REQUEST);
        h1__parse_fini(&ps);
        l.body_bytes_max = 22;
        h1__parse_init(&ps, &l);
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
    const char ok[] = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc";
    for (size_t step = 0; step <= 1; step++) {
        h1_parse ps;
        h1__parse_init(&ps, &l);
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
    const char big[] = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n";
    h1_parse ps;
    h1__parse_init(&ps, &l);
    fed f = feed(&ps, big, sizeof big - 1, 0);
    assert_int_equal(f.continues, 0);
    assert_int_equal(f.ev, H1_PARSE_ERROR);
    assert_int_equal(ps.err_status, 413);
    h1__parse_fini(&ps);
    /* No body: nothing to wait for, no CONTINUE. */
    const char nobody[] = "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n";
    h1__parse_init(&ps, &l);
    f = feed(&ps, nobody, sizeof nobody - 1, 0);
    assert_int_equal(f.continues, 0);
    assert_int_equal(f.ev, H1_PARSE_REQUEST);
    h1__parse_fini(&ps);
    /* Unknown expectation: 417. */
    const char odd[] = "POST / HTTP/1.1\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx";
    h1__parse_init(&ps, &l);
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
        {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false, false},
        {"HEAD / HTTP/1.1\r\n\r\n", true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h1_parse ps;
        h1__parse_init(&ps, &l);
        fed f = feed(&ps, cases[i].wire, strlen(cases[i].wire), 0);
        assert_int_equal(f.ev, H1_PARSE_REQUEST);
        assert_int_equal(ps.req.keep_alive, cases[i].keep_alive);
        assert_int_equal(ps.req.is_head, cases[i].is_head);
        assert_null(ps.req.host);
        h1__parse_fini(&ps);
    }
}

static void test_malformed_is_400(void **state)
{
    h1_limits l = limits(1024, 1000);
    const char *bad[] = {
        "BLAH / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET / HTTP/9\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* TLS to a plain port */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (size_t step = 0; step <= 1; step++) {
            h1_parse ps;
            h1__parse_init(&ps, &l);
            fed f = feed(&ps, bad[i], strlen(bad[i]), step);
            if (f.ev != H1_PARSE_ERROR)
                fail_msg("case %zu (step %zu) was not refused", i, step);
            assert_int_equal(ps.err_status, 400);
            assert_non_null(strstr(ps.err_msg, "malformed"));
            h1__parse_fini(&ps);
        }
    }
}

static void test_buffers_reused(void **state)
{
    /* Many requests on one parser: the arena and body are reset, not leaked; after
     * a big body the buffer is given back. */
    h1_limits l = limits(1024, 4u << 20);
    h1_parse ps;
    h1__parse_init(&ps, &l);
    for (int i = 0; i < 1000; i++) {
        fed f = feed(&ps, simple_get, sizeof simple_get - 1, 0);
        assert_int_equal(f.ev, H1_PARSE_REQUEST);
        check_simple_get(&ps.req);
        h1__parse_next(&ps);
    }
    size_t big = 2u << 20;
    char head[80];
    int k = snprintf(head, sizeof head, "POST / HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", big);
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
        cmocka_unit_test(test_buffers_reused),
        cmocka_unit_test(test_status_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
