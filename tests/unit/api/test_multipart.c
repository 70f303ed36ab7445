/* Unit tests for the multipart/form-data reader (src/api/multipart.c): the layouts
 * wrangler, undici and curl write, and every malformed body as an error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "api/internal.h"

#define CT "multipart/form-data; boundary=XyZ"

static int parse(const char *ct, const char *body, api_part *parts, size_t *n, err *e)
{
    return api_multipart_parse(ct, body, strlen(body), parts, 8, n, e);
}

static void test_wrangler_layout(void **state)
{
    (void)state;
    const char *body =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"metadata\"\r\n\r\n"
        "{\"main_module\":\"index.js\"}\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"index.js\"; filename=\"index.js\"\r\n"
        "Content-Type: application/javascript+module\r\n\r\n"
        "export default {}\r\n\r\n"
        "--XyZ--\r\n";
    api_part p[8];
    size_t n = 0;
    err e = {0};
    assert_int_equal(parse(CT, body, p, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(p[0].name, "metadata");
    assert_string_equal(p[0].filename, "");
    assert_string_equal(p[0].content_type, "");
    assert_int_equal(p[0].data_len, strlen("{\"main_module\":\"index.js\"}"));
    assert_string_equal(p[1].name, "index.js");
    assert_string_equal(p[1].filename, "index.js");
    assert_string_equal(p[1].content_type, "application/javascript+module");
    /* The CRLF before the delimiter belongs to it; the one before that is data. */
    assert_int_equal(p[1].data_len, strlen("export default {}\r\n"));
}

static void test_quoted_boundary_preamble_and_escapes(void **state)
{
    (void)state;
    const char *body =
        "preamble to ignore\r\n"
        "--a b\r\n"
        "content-disposition: form-data; filename=\"we\\\"ird.js\"; name=files\r\n\r\n"
        "x\r\n"
        "--a b--";
    api_part p[8];
    size_t n = 0;
    err e = {0};
    assert_int_equal(parse("multipart/form-data; boundary=\"a b\"", body, p, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(p[0].name, "files");
    assert_string_equal(p[0].filename, "we\"ird.js");
    assert_int_equal(p[0].data_len, 1);
}

static void test_errors(void **state)
{
    (void)state;
    api_part p[8];
    size_t n;
    err e = {0};
    assert_int_equal(parse("application/json", "--XyZ--", p, &n, &e), DUR_EPARSE);
    assert_non_null(strstr(e.msg, "multipart/form-data"));
    assert_int_equal(parse("multipart/form-data", "--XyZ--", p, &n, &e), DUR_EPARSE);
    assert_non_null(strstr(e.msg, "boundary"));
    assert_int_equal(parse(CT, "nothing here", p, &n, &e), DUR_EPARSE);
    assert_non_null(strstr(e.msg, "never occurs"));
    /* No closing delimiter. */
    assert_int_equal(parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nabc", p,
                           &n, &e), DUR_EPARSE);
    assert_non_null(strstr(e.msg, "closing boundary"));
    /* Headers that never end. */
    assert_int_equal(parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n", p, &n, &e),
                     DUR_EPARSE);
    /* No Content-Disposition / no name / not form-data. */
    assert_int_equal(parse(CT, "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--", p, &n, &e),
                     DUR_EPARSE);
    assert_non_null(strstr(e.msg, "Content-Disposition"));
    assert_int_equal(parse(CT, "--XyZ\r\n\r\nx\r\n--XyZ--", p, &n, &e), DUR_EPARSE);
    assert_int_equal(parse(CT, "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--", p,
                           &n, &e), DUR_EPARSE);
    assert_non_null(strstr(e.msg, "no name"));
    /* An empty name (found by fuzz_multipart). */
    assert_int_equal(parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=;a\r\n\r\nx\r\n"
                               "--XyZ--", p, &n, &e), DUR_EPARSE);
    assert_int_equal(parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n"
                               "--XyZ--", p, &n, &e), DUR_EPARSE);
    assert_int_equal(parse(CT, "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n"
                               "--XyZ--", p, &n, &e), DUR_EPARSE);
    /* Unterminated quote in a parameter. */
    assert_int_equal(parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n"
                               "--XyZ--", p, &n, &e), DUR_EPARSE);
    /* Garbage after the delimiter instead of a line break. */
    assert_int_equal(parse(CT, "--XyZjunk\r\n", p, &n, &e), DUR_EPARSE);
    assert_non_null(strstr(e.msg, "line break"));
    /* A header line without a colon. */
    assert_int_equal(parse(CT, "--XyZ\r\nbogus\r\n\r\nx\r\n--XyZ--", p, &n, &e), DUR_EPARSE);
}

static void test_too_many_parts(void **state)
{
    (void)state;
    const char *one = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n";
    char body[1024] = "";
    for (int i = 0; i < 3; i++)
        strcat(body, one);
    strcat(body, "--XyZ--");
    api_part p[2];
    size_t n;
    err e = {0};
    assert_int_equal(api_multipart_parse(CT, body, strlen(body), p, 2, &n, &e), DUR_ETOOBIG);
    assert_int_equal(api_multipart_parse(CT, body, strlen(body), p, 2, &n, &e), DUR_ETOOBIG);
    api_part q[3];
    assert_int_equal(api_multipart_parse(CT, body, strlen(body), q, 3, &n, &e), 0);
    assert_int_equal(n, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrangler_layout),
        cmocka_unit_test(test_quoted_boundary_preamble_and_escapes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_too_many_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
