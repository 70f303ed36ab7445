/* Unit tests of the WebSocket handshake check (net/ws.c ws_handshake_check): the
 * accept value of RFC 6455 §1.3's example, and each malformed handshake the server
 * answers with 400 before the Worker sees it. Framing is covered end to end by
 * tests/e2e/ws/ (it needs a real connection). */
/* cmocka needs these four headers first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <string.h>

#include "net/ws.h"

#define H(n, v) {n, sizeof n - 1, v, sizeof v - 1}

static int check(const char *method, const h1_header *h, size_t n, char *accept, const char **why)
{
    h1_request req = {0};
    req.method = method;
    req.headers = h;
    req.header_count = n;
    *why = NULL;
    return ws_handshake_check(&req, accept, why);
}

static void test_rfc_example(void **state)
{
    const h1_header h[] = {H("Host", "x"), H("upgrade", "WebSocket"),
                           H("Connection", "keep-alive, Upgrade"),
                           H("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                           H("Sec-WebSocket-Version", "13")};
    char accept[WS_ACCEPT_LEN + 1];
    const char *why;
    assert_int_equal(check("GET", h, 5, accept, &why), 1);
    assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_not_an_upgrade(void **state)
{
    const h1_header h[] = {H("Host", "x"), H("Upgrade", "h2c")};
    char accept[WS_ACCEPT_LEN + 1];
    const char *why;
    assert_int_equal(check("GET", h, 2, accept, &why), 0);
    assert_int_equal(check("GET", h, 1, accept, &why), 0);
}

static void expect_bad(const char *method, const char *conn, const char *key, const char *version,
                       const char *needle)
{
    h1_header h[4] = {H("Upgrade", "websocket")};
    size_t n = 1;
    if (conn)
        h[n++] = (h1_header){"Connection", 10, conn, strlen(conn)};
    if (key)
        h[n++] = (h1_header){"Sec-WebSocket-Key", 17, key, strlen(key)};
    if (version)
        h[n++] = (h1_header){"Sec-WebSocket-Version", 21, version, strlen(version)};
    char accept[WS_ACCEPT_LEN + 1];
    const char *why;
    assert_int_equal(check(method, h, n, accept, &why), -1);
    assert_non_null(why);
    assert_non_null(strstr(why, needle));
}

static void test_malformed(void **state)
{
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    expect_bad("POST", "Upgrade", key, "13", "GET");
    expect_bad("GET", NULL, key, "13", "Connection");
    expect_bad("GET", "keep-alive", key, "13", "Connection");
    expect_bad("GET", "Upgrade", key, NULL, "Version must be 13");
    expect_bad("GET", "Upgrade", key, "8", "Version must be 13");
    expect_bad("GET", "Upgrade", key, "130", "Version must be 13");
    expect_bad("GET", "Upgrade", NULL, "13", "Key");
    expect_bad("GET", "Upgrade", "c2hvcnQ=", "13", "Key");                  /* 5 bytes */
    expect_bad("GET", "Upgrade", "dGhlIHNhbXBsZSBub25jZQ=!", "13", "Key");  /* bad padding */
    expect_bad("GET", "Upgrade", "dGhlIHNhbXBsZSBub25j*Q==", "13", "Key");  /* not base64 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_example),
        cmocka_unit_test(test_not_an_upgrade),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
