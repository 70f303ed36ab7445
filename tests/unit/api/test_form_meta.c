/* Unit tests for rebuilding flattened metadata fields (src/api/form_meta.c), the
 * form the cloudflare SDK 7.x sends. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

static api_part field(const char *name, const char *value)
{
    api_part p;
    memset(&p, 0, sizeof p);
    strncpy(p.name, name, sizeof p.name - 1);
    p.data = value;
    p.data_len = strlen(value);
    return p;
}

static void test_rebuild(void **state)
{
    (void)state;
    api_part parts[] = {
        field("metadata[main_module]", "index.mjs"),
        field("files[]", "export default {}"),
        field("metadata[bindings][][type]", "durable_object_namespace"),
        field("metadata[bindings][][name]", "A"),
        field("metadata[bindings][][class_name]", "Counter"),
        field("metadata[bindings][][type]", "plain_text"),
        field("metadata[bindings][][name]", "B"),
        field("metadata[migrations][new_tag]", "v1"),
        field("metadata[migrations][new_sqlite_classes][]", "Counter"),
        field("metadata[migrations][new_sqlite_classes][]", "Other"),
        field("metadata[compatibility_flags][]", "a\"b"),
    };
    err e = {0};
    char *json = api__flat_meta_json(parts, sizeof parts / sizeof parts[0], &e);
    assert_non_null(json);
    assert_string_equal(json,
        "{\"main_module\":\"index.mjs\",\"bindings\":[{\"type\":\"durable_object_namespace\","
        "\"name\":\"A\",\"class_name\":\"Counter\"},{\"type\":\"plain_text\",\"name\":\"B\"}],"
        "\"migrations\":{\"new_tag\":\"v1\",\"new_sqlite_classes\":[\"Counter\",\"Other\"]},"
        "\"compatibility_flags\":[\"a\\\"b\"]}");
    free(json);
}

static void test_refused(void **state)
{
    (void)state;
    const char *bad[] = {"metadata[", "metadata[a]x", "metadata[]", "metadata[a][b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        api_part p = field(bad[i], "v");
        err e = {0};
        assert_null(api__flat_meta_json(&p, 1, &e));
        assert_non_null(strstr(e.msg, "metadata[...]"));
    }
    /* The same key twice, or a key that is both a value and an object. */
    api_part twice[] = {field("metadata[a]", "1"), field("metadata[a]", "2")};
    err e = {0};
    assert_null(api__flat_meta_json(twice, 2, &e));
    api_part kinds[] = {field("metadata[a]", "1"), field("metadata[a][b]", "2")};
    assert_null(api__flat_meta_json(kinds, 2, &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rebuild),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
