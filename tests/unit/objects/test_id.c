/* Unit tests for the Durable Object id codec (spec ID-1..11, NS-6). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "objects/id.h"

static uint8_t secret[OBJ_KEY_BYTES] = {1, 2, 3};
static uint8_t key_a[OBJ_KEY_BYTES], key_b[OBJ_KEY_BYTES];

static int setup(void **state)
{
    obj_ns_key_derive(secret, "script/A", 8, key_a);
    obj_ns_key_derive(secret, "script/B", 8, key_b);
    return 0;
}

static void test_name_deterministic_and_distinct(void **state)
{
    obj_id a1, a2, b1, other, jur;
    assert_int_equal(obj_id_from_name(key_a, OBJ_JUR_NONE, "foo", 3, &a1), 0);
    assert_int_equal(obj_id_from_name(key_a, OBJ_JUR_NONE, "foo", 3, &a2), 0);
    assert_memory_equal(a1.b, a2.b, OBJ_ID_BYTES);
    assert_int_equal(obj_id_from_name(key_b, OBJ_JUR_NONE, "foo", 3, &b1), 0);
    assert_memory_not_equal(a1.b, b1.b, OBJ_ID_BYTES);
    assert_int_equal(obj_id_from_name(key_a, OBJ_JUR_NONE, "fop", 3, &other), 0);
    assert_memory_not_equal(a1.b, other.b, OBJ_ID_BYTES);
    assert_int_equal(obj_id_from_name(key_a, OBJ_JUR_EU, "foo", 3, &jur), 0);
    assert_memory_not_equal(a1.b, jur.b, OBJ_ID_BYTES);
    assert_int_equal(obj_id_jurisdiction(&jur), OBJ_JUR_EU);
    assert_int_equal(obj_id_jurisdiction(&a1), OBJ_JUR_NONE);
    /* The empty name is a name like any other. */
    obj_id empty;
    assert_int_equal(obj_id_from_name(key_a, OBJ_JUR_NONE, "", 0, &empty), 0);
    assert_true(obj_id_valid(key_a, &empty));
}

static void test_hex_round_trip(void **state)
{
    obj_id a, back;
    char hex[OBJ_ID_HEX_LEN + 1];
    obj_id_from_name(key_a, OBJ_JUR_NONE, "x", 1, &a);
    obj_id_hex(&a, hex);
    assert_int_equal(strlen(hex), 64);
    for (int i = 0; i < 64; i++)
        assert_true((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'));
    assert_int_equal(obj_id_parse(key_a, hex, 64, &back), 0);
    assert_memory_equal(a.b, back.b, OBJ_ID_BYTES);
    /* Upper case is accepted and means the same id. */
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
    assert_int_equal(obj_id_parse(key_a, upper, 64, &back), 0);
    assert_memory_equal(a.b, back.b, OBJ_ID_BYTES);
}

static void test_parse_rejects(void **state)
{
    obj_id a, out;
    char hex[OBJ_ID_HEX_LEN + 1];
    obj_id_from_name(key_a, OBJ_JUR_NONE, "x", 1, &a);
    obj_id_hex(&a, hex);
    assert_int_equal(obj_id_parse(key_a, hex, 63, &out), DUR_EPARSE);
    assert_int_equal(obj_id_parse(key_a, "", 0, &out), DUR_EPARSE);
    char longer[66];
    memcpy(longer, hex, 64);
    longer[64] = '0';
    assert_int_equal(obj_id_parse(key_a, longer, 65, &out), DUR_EPARSE);
    char bad[65];
    memcpy(bad, hex, 65);
    bad[10] = 'g';
    assert_int_equal(obj_id_parse(key_a, bad, 64, &out), DUR_EPARSE);
    /* Another namespace's id, and a flipped bit anywhere: not valid here. */
    assert_int_equal(obj_id_parse(key_b, hex, 64, &out), DUR_EINVAL);
    for (int i = 0; i < 64; i++) {
        memcpy(bad, hex, 65);
        bad[i] = bad[i] == '0' ? '1' : '0';
        assert_int_equal(obj_id_parse(key_a, bad, 64, &out), DUR_EINVAL);
    }
    assert_int_equal(obj_id_parse(key_a, "0000000000000000000000000000000000000000000000000000000000000000", 64, &out), DUR_EINVAL);
}

static void test_unique_never_repeats(void **state)
{
    enum { N = 20000 };
    static obj_id ids[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(obj_id_unique(key_a, OBJ_JUR_NONE, &ids[i]), 0);
        assert_true(obj_id_valid(key_a, &ids[i]));
        assert_false(obj_id_valid(key_b, &ids[i]));
    }
    /* Sort-free check: compare hashes pairwise through a small open table. */
    static uint64_t table[1 << 16];
    memset(table, 0, sizeof table);
    for (int i = 0; i < N; i++) {
        uint64_t h = obj_id_hash(&ids[i]) | 1;
        size_t slot = h & ((1 << 16) - 1);
        while (table[slot]) {
            assert_true(table[slot] != h);
            slot = (slot + 1) & ((1 << 16) - 1);
        }
        table[slot] = h;
    }
    obj_id j;
    assert_int_equal(obj_id_unique(key_a, OBJ_JUR_FEDRAMP, &j), 0);
    assert_int_equal(obj_id_jurisdiction(&j), OBJ_JUR_FEDRAMP);
}

static void test_jurisdiction_names(void **state)
{
    assert_int_equal(obj_jurisdiction_parse("eu", 2), OBJ_JUR_EU);
    assert_int_equal(obj_jurisdiction_parse("fedramp-high", 12), OBJ_JUR_FEDRAMP_HIGH);
    assert_int_equal(obj_jurisdiction_parse("us", 2), OBJ_JUR_US);
    assert_int_equal(obj_jurisdiction_parse("EU", 2), -1);
    assert_int_equal(obj_jurisdiction_parse("mars", 4), -1);
    assert_string_equal(obj_jurisdiction_name(OBJ_JUR_FEDRAMP), "fedramp");
    assert_null(obj_jurisdiction_name(OBJ_JUR_NONE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_deterministic_and_distinct),
        cmocka_unit_test(test_hex_round_trip),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_unique_never_repeats),
        cmocka_unit_test(test_jurisdiction_names),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
