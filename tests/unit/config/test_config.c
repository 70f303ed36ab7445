/* Unit tests for config_load and the migration checks (config/schema.c,
 * schema_do.c, devvars.c; spec config.md CFG-*, MIG-*, workers.md ENV-3..5).
 * Each test writes wrangler files into a fresh mkdtemp() folder. */
#ifndef _GNU_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw, mkdtemp */
#endif
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

static char dir[256];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/durable-cfg-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static const char *HEAD = "name = \"w\"\nmain = \"main.js\"\ncompatibility_date = \"2024-04-03\"\n";

/* Loads `text` as wrangler.toml (with main.js present); expects success. */
static void load_ok(const char *text, const char *env, config *c)
{
    put("main.js", "export default {}\n");
    put("wrangler.toml", text);
    err e = {0};
    int rc = config_load(dir, NULL, env, c, &e);
    if (rc != 0)
        fail_msg("unexpected error: %s", e.msg);
}

static void load_bad(const char *file, const char *text, const char *env, const char *want)
{
    put("main.js", "export default {}\n");
    put(file, text);
    err e = {0};
    config c;
    int rc = config_load(dir, NULL, env, &c, &e);
    if (rc == 0) {
        config_fini(&c);
        fail_msg("expected an error containing '%s'", want);
    }
    if (!strstr(e.msg, want))
        fail_msg("error '%s' does not contain '%s'", e.msg, want);
    /* A failed load leaves nothing allocated behind. */
    assert_null(c.name);
    assert_null(c.path);
}

static bool has_warning(const config *c, const char *want)
{
    for (size_t i = 0; i < c->warnings_count; i++)
        if (strstr(c->warnings[i], want))
            return true;
    return false;
}

static const config_var *var(const config *c, const char *name, bool *secret)
{
    for (size_t i = 0; i < c->vars_count; i++)
        if (strcmp(c->vars[i].name, name) == 0) {
            if (secret)
                *secret = c->var_is_secret[i];
            return &c->vars[i];
        }
    return NULL;
}

static char *cat(const char *a, const char *b)
{
    static char out[8192];
    snprintf(out, sizeof out, "%s%s", a, b);
    return out;
}

static void test_full_toml(void **state)
{
    config c;
    load_ok("name = \"chat\"\nmain = \"./main.js\"\ncompatibility_date = \"2024-04-03\"\n"
            "compatibility_flags = [\"nodejs_compat\", \"no_rpc\"]\n"
            "[vars]\nA = \"x\"\nN = 3\nO = { k = [1, true] }\n"
            "[limits]\ncpu_ms = 50\n"
            "[triggers]\ncrons = [\"*/5 * * * *\", \"0 0 1 JAN MON\"]\n"
            "[[durable_objects.bindings]]\nname = \"ROOM\"\nclass_name = \"Room\"\n"
            "[[durable_objects.bindings]]\nname = \"EXT\"\nclass_name = \"X\"\n"
            "script_name = \"other\"\nenvironment = \"prod\"\n"
            "[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"Room\"]\n"
            "[[migrations]]\ntag = \"v2\"\nrenamed_classes = [{ from = \"Room\", to = \"Hall\" }]\n"
            "transferred_classes = [{ from = \"A\", from_script = \"s\", to = \"B\" }]\n"
            "[[migrations]]\ntag = \"v3\"\n",
            NULL, &c);
    assert_string_equal(c.name, "chat");
    char want[512];
    char *real = realpath(dir, NULL);
    snprintf(want, sizeof want, "%s/main.js", real);
    assert_string_equal(c.main, want);
    assert_string_equal(c.dir, real);
    snprintf(want, sizeof want, "%s/wrangler.toml", real);
    assert_string_equal(c.path, want);
    free(real);
    assert_string_equal(c.compatibility_date, "2024-04-03");
    assert_int_equal(c.compatibility_flags_count, 2);
    assert_string_equal(c.compatibility_flags[1], "no_rpc");
    assert_int_equal(c.vars_count, 3);
    bool secret = true;
    assert_string_equal(var(&c, "A", &secret)->value, "x");
    assert_false(secret);
    assert_false(var(&c, "A", NULL)->is_json);
    assert_string_equal(var(&c, "N", NULL)->value, "3");
    assert_true(var(&c, "N", NULL)->is_json);
    assert_string_equal(var(&c, "O", NULL)->value, "{\"k\":[1,true]}");
    assert_int_equal(c.cpu_ms, 50);
    assert_int_equal(c.crons_count, 2);
    assert_int_equal(c.do_bindings_count, 2);
    assert_string_equal(c.do_bindings[0].class_name, "Room");
    assert_null(c.do_bindings[0].script_name);
    assert_string_equal(c.do_bindings[1].script_name, "other");
    assert_string_equal(c.do_bindings[1].environment, "prod");
    assert_int_equal(c.migrations_count, 3);
    assert_string_equal(c.migrations[0].new_sqlite_classes[0], "Room");
    assert_string_equal(c.migrations[1].renamed[0].to, "Hall");
    assert_string_equal(c.migrations[1].transferred[0].from_script, "s");
    assert_string_equal(c.migrations[2].tag, "v3");
    assert_int_equal(c.warnings_count, 0);
    config_fini(&c);
}

static void test_lookup_order(void **state)
{
    put("main.js", "");
    put("wrangler.toml", "name = \"from-toml\"\nmain = \"main.js\"\ncompatibility_date = \"2024-01-01\"\n");
    config c;
    err e;
    assert_int_equal(config_load(dir, NULL, NULL, &c, &e), 0);
    assert_string_equal(c.name, "from-toml");
    config_fini(&c);
    put("wrangler.jsonc", "{ // c\n\"name\": \"from-jsonc\", \"main\": \"main.js\",\n"
                          "\"compatibility_date\": \"2024-01-01\",}\n");
    assert_int_equal(config_load(dir, NULL, NULL, &c, &e), 0);
    assert_string_equal(c.name, "from-jsonc");
    config_fini(&c);
    put("wrangler.json", "{\"name\": \"from-json\", \"main\": \"main.js\", "
                         "\"compatibility_date\": \"2024-01-01\"}");
    assert_int_equal(config_load(dir, NULL, NULL, &c, &e), 0);
    assert_string_equal(c.name, "from-json");
    config_fini(&c);
    /* --config wins, relative to cwd; a .toml extension selects TOML. */
    put("other.toml", "name = \"explicit\"\nmain = \"main.js\"\ncompatibility_date = \"2024-01-01\"\n");
    assert_int_equal(config_load(dir, "other.toml", NULL, &c, &e), 0);
    assert_string_equal(c.name, "explicit");
    config_fini(&c);
    assert_int_equal(config_load(dir, "missing.toml", NULL, &c, &e), DUR_ENOTFOUND);
    assert_non_null(strstr(e.msg, "config file 'missing.toml' not found"));
    assert_int_equal(config_load("/nonexistent-dir-xyz", NULL, NULL, &c, &e), DUR_ENOTFOUND);
    assert_non_null(strstr(e.msg, "no wrangler.json, wrangler.jsonc or wrangler.toml"));
}

static void test_relative_main_resolves_against_config_dir(void **state)
{
    char sub[512];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    put("sub/wrangler.toml", "name = \"w\"\nmain = \"src/m.js\"\ncompatibility_date = \"2024-01-01\"\n");
    snprintf(sub, sizeof sub, "%s/sub/src", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    put("sub/src/m.js", "");
    put("sub/.dev.vars", "S=1\n");
    config c;
    err e;
    assert_int_equal(config_load(dir, "sub/wrangler.toml", NULL, &c, &e), 0);
    assert_non_null(strstr(c.main, "/sub/src/m.js"));
    assert_non_null(var(&c, "S", NULL));
    config_fini(&c);
}

static void test_json_config(void **state)
{
    put("main.js", "");
    put("wrangler.jsonc",
        "{\n  \"$schema\": \"node_modules/wrangler/config-schema.json\",\n"
        "  \"name\": \"j\",\n  \"main\": \"main.js\",\n  \"compatibility_date\": \"2025-01-01\",\n"
        "  \"vars\": { \"N\": 1.5, \"S\": \"s\", \"Z\": null },\n"
        "  \"durable_objects\": { \"bindings\": [ { \"name\": \"A\", \"class_name\": \"K\" }, ] },\n"
        "  \"migrations\": [ { \"tag\": \"v1\", \"new_classes\": [\"K\"] } ],\n}\n");
    config c;
    err e;
    assert_int_equal(config_load(dir, NULL, NULL, &c, &e), 0);
    assert_string_equal(var(&c, "N", NULL)->value, "1.5");
    assert_string_equal(var(&c, "Z", NULL)->value, "null");
    assert_string_equal(c.do_bindings[0].class_name, "K");
    assert_int_equal(c.warnings_count, 0);
    config_fini(&c);
    load_bad("wrangler.jsonc", "{\"name\": \"j\", \"main\": \"main.js\",\n \"vars\": [1]}", NULL,
             "wrangler.jsonc:2: key 'vars': expected an object, got an array");
    load_bad("wrangler.jsonc", "{\"name\": \"j\", \"main\": \"main.js\",\n \"limits\": {\"cpu_ms\": 1.5}}",
             NULL, "wrangler.jsonc:2: key 'limits.cpu_ms': expected an integer, got 1.5");
    load_bad("wrangler.jsonc", "[1]", NULL, "wrangler.jsonc:1: the top level must be an object");
    load_bad("wrangler.jsonc", "{\"name\": \"j\",, }", NULL, "wrangler.jsonc:1:");
}

static void test_type_errors_name_file_line_key(void **state)
{
    load_bad("wrangler.toml",
             cat(HEAD, "\n[[durable_objects.bindings]]\nname = \"A\"\nclass_name = 12\n"), NULL,
             "wrangler.toml:7: key 'durable_objects.bindings[0].class_name': expected a string, "
             "got an integer");
    load_bad("wrangler.toml", "name = 1\nmain = \"main.js\"\n", NULL,
             "wrangler.toml:1: key 'name': expected a string, got an integer");
    load_bad("wrangler.toml", cat(HEAD, "compatibility_flags = \"rpc\"\n"), NULL,
             "wrangler.toml:4: key 'compatibility_flags': expected an array, got a string");
    load_bad("wrangler.toml", cat(HEAD, "compatibility_flags = [\"rpc\", 2]\n"), NULL,
             "key 'compatibility_flags[1]': expected a string, got an integer");
    load_bad("wrangler.toml", cat(HEAD, "vars = 1\n"), NULL,
             "wrangler.toml:4: key 'vars': expected a table, got an integer");
    load_bad("wrangler.toml", cat(HEAD, "durable_objects = { bindings = {} }\n"), NULL,
             "key 'durable_objects.bindings': expected an array, got a table");
    load_bad("wrangler.toml", cat(HEAD, "migrations = [\"v1\"]\n"), NULL,
             "key 'migrations[0]': expected a table, got a string");
    load_bad("wrangler.toml", cat(HEAD, "[triggers]\ncrons = [1]\n"), NULL,
             "wrangler.toml:5: key 'triggers.crons[0]': expected a string, got an integer");
    load_bad("wrangler.toml", cat(HEAD, "compatibility_date = 2024-01-01\n"), NULL,
             "duplicate key");
    load_bad("wrangler.toml", "name = \"w\"\nmain = \"main.js\"\ncompatibility_date = 2024-01-01\n",
             NULL, "wrangler.toml:3: key 'compatibility_date': expected a string, got a date-time");
    load_bad("wrangler.toml", "name = \"w\"\nmain = \"main.js\"\n[x]\n[x]\n", NULL,
             "wrangler.toml:4: table [x] is defined twice");
}

static void test_name_rules(void **state)
{
    load_bad("wrangler.toml", "main = \"main.js\"\n", NULL, "wrangler.toml: key 'name' is required");
    load_bad("wrangler.toml", "name = \"my worker\"\nmain = \"main.js\"\n", NULL,
             "wrangler.toml:1: key 'name': 'my worker' is not a valid Worker name");
    load_bad("wrangler.toml", "name = \"\"\nmain = \"main.js\"\n", NULL, "the Worker name is empty");
    char doc[256];
    char n63[64];
    memset(n63, 'a', 63);
    n63[63] = '\0';
    snprintf(doc, sizeof doc, "name = \"%s\"\nmain = \"main.js\"\ncompatibility_date = \"2024-01-01\"\n", n63);
    config c;
    load_ok(doc, NULL, &c);
    assert_int_equal(strlen(c.name), 63);
    config_fini(&c);
    snprintf(doc, sizeof doc, "name = \"%sb\"\nmain = \"main.js\"\n", n63);
    load_bad("wrangler.toml", doc, NULL, "is 64 characters, more than 63");
    load_ok("name = \"my_worker\"\nmain = \"main.js\"\ncompatibility_date = \"2024-01-01\"\n", NULL, &c);
    assert_true(has_warning(&c, "wrangler.toml:1: key 'name': Worker name 'my_worker' contains '_'"));
    config_fini(&c);
}

static void test_main_rules(void **state)
{
    load_bad("wrangler.toml", "name = \"w\"\n", NULL, "key 'main' is required");
    load_bad("wrangler.toml", "name = \"w\"\nmain = \"src/index.ts\"\n", NULL,
             "wrangler.toml:2: key 'main': 'src/index.ts' is TypeScript");
    load_bad("wrangler.toml", "name = \"w\"\nmain = \"dist/missing.js\"\n", NULL,
             "wrangler.toml:2: key 'main': entry module 'dist/missing.js' not found");
    load_bad("wrangler.toml", "name = \"w\"\nmain = \"\"\n", NULL, "entry module path is empty");
}

static void test_compat_date(void **state)
{
    config c;
    load_ok("name = \"w\"\nmain = \"main.js\"\n", NULL, &c);
    assert_int_equal(strlen(c.compatibility_date), 10);
    assert_true(strcmp(c.compatibility_date, CONFIG_COMPAT_DATE_MAX) <= 0);
    assert_true(has_warning(&c, "no compatibility_date set; using "));
    config_fini(&c);
    load_ok("name = \"w\"\nmain = \"main.js\"\ncompatibility_date = \"2030-01-01\"\n", NULL, &c);
    assert_string_equal(c.compatibility_date, CONFIG_COMPAT_DATE_MAX);
    assert_true(has_warning(&c, "wrangler.toml:3: key 'compatibility_date': 2030-01-01 is after"));
    config_fini(&c);
    load_ok("name = \"w\"\nmain = \"main.js\"\ncompatibility_date = \"" CONFIG_COMPAT_DATE_MAX "\"\n",
            NULL, &c);
    assert_int_equal(c.warnings_count, 0);
    config_fini(&c);
    load_bad("wrangler.toml", "name = \"w\"\nmain = \"main.js\"\ncompatibility_date = \"2024-4-3\"\n",
             NULL, "wrangler.toml:3: key 'compatibility_date': '2024-4-3' is not a valid date");
    load_bad("wrangler.toml", "name = \"w\"\nmain = \"main.js\"\ncompatibility_date = \"2023-02-29\"\n",
             NULL, "is not a valid date");
}

static void test_compat_flags(void **state)
{
    config c;
    load_ok(cat(HEAD, "compatibility_flags = [\"rpc\", \"shiny_new_thing\"]\n"), NULL, &c);
    assert_true(has_warning(&c, "wrangler.toml:4: key 'compatibility_flags[1]': unknown "
                                "compatibility flag 'shiny_new_thing'"));
    assert_int_equal(c.warnings_count, 1);
    config_fini(&c);
    load_bad("wrangler.toml", cat(HEAD, "compatibility_flags = [\"no_rpc\", \"rpc\"]\n"), NULL,
             "compatibility flags 'rpc' and 'no_rpc' contradict each other");
}

static void test_bindings(void **state)
{
    load_bad("wrangler.toml", cat(HEAD, "[[durable_objects.bindings]]\nname = \"A\"\n"), NULL,
             "wrangler.toml:4: key 'durable_objects.bindings[0]': missing 'class_name'");
    load_bad("wrangler.toml", cat(HEAD, "[[durable_objects.bindings]]\nclass_name = \"A\"\n"), NULL,
             "missing 'name'");
    load_bad("wrangler.toml",
             cat(HEAD, "[[durable_objects.bindings]]\nname = \"A\"\nclass_name = \"K\"\n"
                       "[[durable_objects.bindings]]\nname = \"A\"\nclass_name = \"L\"\n"),
             NULL, "wrangler.toml:7: key 'durable_objects.bindings[1].name': duplicate binding "
                   "name 'A' (also durable_objects.bindings[0], line 4)");
    load_bad("wrangler.toml",
             cat(HEAD, "vars = { A = \"x\" }\ndurable_objects.bindings = [{name = \"A\", "
                       "class_name = \"K\"}]\n"),
             NULL, "'A' is both a var and a Durable Object binding");
    load_bad("wrangler.toml",
             cat(HEAD, "durable_objects.bindings = [{name = \"A\", class_name = \"\"}]\n"), NULL,
             "key 'durable_objects.bindings[0].class_name': must not be empty");
    config c;
    load_ok(cat(HEAD, "durable_objects.bindings = [{name = \"A\", class_name = \"K\", x = 1}]\n"
                      "durable_objects.other = 1\n"), NULL, &c);
    assert_true(has_warning(&c, "unknown key 'durable_objects.bindings[0].x'"));
    assert_true(has_warning(&c, "unknown key 'durable_objects.other'"));
    config_fini(&c);
}

static void test_migration_shapes(void **state)
{
    load_bad("wrangler.toml", cat(HEAD, "[[migrations]]\nnew_classes = [\"A\"]\n"), NULL,
             "wrangler.toml:4: key 'migrations[0]': missing 'tag'");
    load_bad("wrangler.toml", cat(HEAD, "[[migrations]]\ntag = \"\"\n"), NULL,
             "wrangler.toml:5: key 'migrations[0].tag': the tag must not be empty");
    load_bad("wrangler.toml", cat(HEAD, "[[migrations]]\ntag = \"v1\"\n[[migrations]]\ntag = \"v1\"\n"),
             NULL, "wrangler.toml:6: key 'migrations[1].tag': duplicate migration tag 'v1'");
    load_bad("wrangler.toml",
             cat(HEAD, "[[migrations]]\ntag = \"v1\"\nnew_classes = [\"A\"]\ndeleted_classes = [\"A\"]\n"),
             NULL, "class 'A' appears in both deleted_classes and new_classes of migration 'v1'");
    load_bad("wrangler.toml",
             cat(HEAD, "[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"A\", \"A\"]\n"),
             NULL, "class 'A' appears in both new_sqlite_classes and new_sqlite_classes");
    load_bad("wrangler.toml",
             cat(HEAD, "[[migrations]]\ntag = \"v1\"\nrenamed_classes = [{from = \"A\", to = \"B\"}]\n"
                       "new_classes = [\"B\"]\n"),
             NULL, "class 'B' appears in both renamed_classes and new_classes");
    load_bad("wrangler.toml",
             cat(HEAD, "[[migrations]]\ntag = \"v1\"\nrenamed_classes = [{from = \"A\"}]\n"), NULL,
             "wrangler.toml:6: key 'migrations[0].renamed_classes[0]': missing 'to'");
    load_bad("wrangler.toml",
             cat(HEAD, "[[migrations]]\ntag = \"v1\"\nrenamed_classes = [\"A\"]\n"), NULL,
             "key 'migrations[0].renamed_classes[0]': expected a table, got a string");
    load_bad("wrangler.toml",
             cat(HEAD, "[[migrations]]\ntag = \"v1\"\ntransferred_classes = [{from = \"A\", to = \"B\"}]\n"),
             NULL, "missing 'from_script'");
    load_bad("wrangler.toml", cat(HEAD, "[[migrations]]\ntag = \"v1\"\nnew_classes = \"A\"\n"), NULL,
             "key 'migrations[0].new_classes': expected an array, got a string");
    config c;
    load_ok(cat(HEAD, "[[migrations]]\ntag = \"v1\"\nnew_clases = [\"A\"]\n"), NULL, &c);
    assert_true(has_warning(&c, "wrangler.toml:6: unknown key 'migrations[0].new_clases'"));
    config_fini(&c);
}

static void test_limits_and_crons(void **state)
{
    config c;
    load_ok(cat(HEAD, "limits = { cpu_ms = 1 }\n"), NULL, &c);
    assert_int_equal(c.cpu_ms, 1);
    config_fini(&c);
    load_ok(cat(HEAD, "limits = { cpu_ms = 300000 }\n"), NULL, &c);
    assert_int_equal(c.cpu_ms, 300000);
    config_fini(&c);
    load_ok(HEAD, NULL, &c);
    assert_int_equal(c.cpu_ms, 0);
    config_fini(&c);
    load_bad("wrangler.toml", cat(HEAD, "limits = { cpu_ms = 300001 }\n"), NULL,
             "wrangler.toml:4: key 'limits.cpu_ms': 300001 is out of range (1 to 300000)");
    load_bad("wrangler.toml", cat(HEAD, "limits = { cpu_ms = 0 }\n"), NULL, "0 is out of range");
    load_bad("wrangler.toml", cat(HEAD, "limits = { cpu_ms = \"5\" }\n"), NULL,
             "expected an integer, got a string");
    load_bad("wrangler.toml", cat(HEAD, "triggers = { crons = [\"* * *\"] }\n"), NULL,
             "key 'triggers.crons[0]': '* * *' is not a cron expression");
}

static void test_unknown_ignored_unsupported(void **state)
{
    config c;
    load_ok(cat(HEAD, "account_id = \"abc\"\nworkers_dev = true\nfrobnicate = 1\n"
                      "kv_namespaces = []\n[build]\ncommand = \"make\"\n"), NULL, &c);
    assert_true(has_warning(&c, "wrangler.toml:4: ignored: 'account_id' is not used by durable"));
    assert_true(has_warning(&c, "ignored: 'workers_dev'"));
    assert_true(has_warning(&c, "ignored: 'build'"));
    assert_true(has_warning(&c, "wrangler.toml:6: unknown key 'frobnicate' (ignored)"));
    assert_int_equal(c.warnings_count, 4);
    config_fini(&c);
    load_bad("wrangler.toml", cat(HEAD, "[[kv_namespaces]]\nbinding = \"KV\"\nid = \"x\"\n"), NULL,
             "wrangler.toml:4: key 'kv_namespaces': KV namespace bindings are not supported");
    load_bad("wrangler.toml", cat(HEAD, "[ai]\nbinding = \"AI\"\n"), NULL,
             "key 'ai': Workers AI bindings are not supported");
    const char *types[] = {"r2_buckets", "d1_databases", "services", "queues", "vectorize",
                           "hyperdrive", "analytics_engine_datasets", "mtls_certificates",
                           "dispatch_namespaces", "send_email", "workflows", "browser"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char doc[512], want[128];
        snprintf(doc, sizeof doc, "%s%s = [{ binding = \"B\" }]\n", HEAD, types[i]);
        snprintf(want, sizeof want, "key '%s': ", types[i]);
        load_bad("wrangler.toml", doc, NULL, want);
    }
}

static const char *ENV_DOC =
    "name = \"app\"\nmain = \"main.js\"\ncompatibility_date = \"2024-04-03\"\n"
    "compatibility_flags = [\"rpc\"]\n"
    "vars = { A = \"top\" }\n"
    "durable_objects.bindings = [{ name = \"R\", class_name = \"Room\" }]\n"
    "[[migrations]]\ntag = \"v1\"\nnew_classes = [\"Room\"]\n"
    "[env.staging]\nvars = { A = \"stg\" }\n"
    "durable_objects.bindings = [{ name = \"R2\", class_name = \"Room\" }]\n"
    "[env.bare]\ncompatibility_date = \"2025-01-01\"\n"
    "[env.named]\nname = \"custom\"\nunknownthing = 1\n";

static void test_env_selection(void **state)
{
    config c;
    load_ok(ENV_DOC, NULL, &c);
    assert_string_equal(c.name, "app");
    assert_string_equal(var(&c, "A", NULL)->value, "top");
    assert_string_equal(c.do_bindings[0].name, "R");
    config_fini(&c);

    load_ok(ENV_DOC, "staging", &c);
    assert_string_equal(c.name, "app-staging"); /* CFG-22 */
    assert_string_equal(var(&c, "A", NULL)->value, "stg");
    assert_string_equal(c.do_bindings[0].name, "R2");
    assert_string_equal(c.compatibility_date, "2024-04-03"); /* inherited */
    assert_string_equal(c.compatibility_flags[0], "rpc");
    assert_int_equal(c.migrations_count, 1);                 /* top-level, shared */
    config_fini(&c);

    load_ok(ENV_DOC, "bare", &c);
    assert_string_equal(c.name, "app-bare");
    assert_string_equal(c.compatibility_date, "2025-01-01");
    assert_int_equal(c.vars_count, 0);        /* not inherited */
    assert_int_equal(c.do_bindings_count, 0); /* not inherited */
    assert_true(has_warning(&c, "'vars' is set at the top level but not in [env.bare]"));
    assert_true(has_warning(&c, "'durable_objects' is set at the top level but not in [env.bare]"));
    config_fini(&c);

    load_ok(ENV_DOC, "named", &c);
    assert_string_equal(c.name, "custom");
    assert_true(has_warning(&c, "unknown key 'env.named.unknownthing'"));
    config_fini(&c);

    load_bad("wrangler.toml", ENV_DOC, "prod", "environment 'prod' not found (defined: staging, bare, named)");
    load_bad("wrangler.toml", cat(HEAD, "[env.x]\n[[env.x.migrations]]\ntag = \"v1\"\n"), NULL,
             "wrangler.toml:5: key 'env.x.migrations': migrations are top-level only");
    load_bad("wrangler.toml", cat(HEAD, "[env.x]\nkv_namespaces = [{binding = \"K\"}]\n"), "x",
             "key 'env.x.kv_namespaces': KV namespace bindings are not supported");
    load_bad("wrangler.toml", cat(HEAD, "env = 1\n"), NULL, "key 'env': expected a table");
    load_bad("wrangler.toml", cat(HEAD, "[env.x]\nname = \"a b\"\n"), "x",
             "key 'env.x.name': 'a b' is not a valid Worker name");
    load_bad("wrangler.toml", cat(HEAD, "[env.x]\nvars = []\n"), "x",
             "key 'env.x.vars': expected a table");
}

static void test_dev_vars(void **state)
{
    put(".dev.vars", "# secrets\n"
                     "SECRET=s3cr3t\n"
                     "export TOKEN = \"a b\\n\" # comment\n"
                     "A='literal \\n'\n"
                     "MULTI=\"line1\nline2\"\n"
                     "EMPTY=\n"
                     "HASH=abc # trailing\n"
                     "this line is junk\n"
                     "SECRET=again\n");
    config c;
    load_ok(cat(HEAD, "vars = { A = \"plain\", B = 2 }\n"), NULL, &c);
    bool secret = false;
    assert_string_equal(var(&c, "SECRET", &secret)->value, "again");
    assert_true(secret);
    assert_string_equal(var(&c, "TOKEN", NULL)->value, "a b\n");
    assert_string_equal(var(&c, "A", &secret)->value, "literal \\n"); /* secret wins */
    assert_true(secret);
    assert_false(var(&c, "A", NULL)->is_json);
    assert_string_equal(var(&c, "MULTI", NULL)->value, "line1\nline2");
    assert_string_equal(var(&c, "EMPTY", NULL)->value, "");
    assert_string_equal(var(&c, "HASH", NULL)->value, "abc");
    assert_string_equal(var(&c, "B", &secret)->value, "2");
    assert_false(secret);
    assert_true(has_warning(&c, ".dev.vars:9: ignored a line that is not KEY=value"));
    /* Secret values never appear in warnings. */
    for (size_t i = 0; i < c.warnings_count; i++)
        assert_null(strstr(c.warnings[i], "s3cr3t"));
    config_fini(&c);

    /* .dev.vars.<env> is preferred when an environment is selected. */
    put(".dev.vars.staging", "SECRET=stg\n");
    load_ok(cat(HEAD, "[env.staging]\n"), "staging", &c);
    assert_string_equal(var(&c, "SECRET", NULL)->value, "stg");
    assert_null(var(&c, "TOKEN", NULL));
    config_fini(&c);

    put(".dev.vars", "X=\"unterminated\n");
    load_bad("wrangler.toml", HEAD, NULL, ".dev.vars:1: unterminated \"-quoted value for 'X'");
    put(".dev.vars", "R=1\n");
    load_bad("wrangler.toml", cat(HEAD, "durable_objects.bindings = [{name = \"R\", class_name = \"K\"}]\n"),
             NULL, ".dev.vars:1: 'R' is both a secret and a Durable Object binding");
}

/* ---- config_check_migrations / config_class_backend ---- */

static void check(const char *extra, const char *want)
{
    config c;
    load_ok(cat(HEAD, extra), NULL, &c);
    err e = {0};
    int rc = config_check_migrations(&c, &e);
    if (!want) {
        if (rc != 0)
            fail_msg("unexpected: %s", e.msg);
    } else {
        assert_int_equal(rc, DUR_EPARSE);
        if (!strstr(e.msg, want))
            fail_msg("error '%s' does not contain '%s'", e.msg, want);
    }
    config_fini(&c);
}

static void test_check_migrations(void **state)
{
    const char *bind_room = "durable_objects.bindings = [{ name = \"R\", class_name = \"Room\" }]\n";
    char doc[2048];
    /* OK: created, bound. */
    snprintf(doc, sizeof doc, "%s[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"Room\"]\n", bind_room);
    check(doc, NULL);
    /* MIG-10(a) */
    check(bind_room, "wrangler.toml: binding 'R': Cannot create binding for class 'Room' because it "
                     "is not currently configured to implement Durable Objects. Ensure a new-class "
                     "migration has been applied to it.");
    /* Other script's class: not checked here. */
    check("durable_objects.bindings = [{ name = \"R\", class_name = \"Room\", script_name = \"s\" }]\n",
          NULL);
    /* MIG-6 */
    snprintf(doc, sizeof doc, "%s[[migrations]]\ntag = \"v1\"\nnew_classes = [\"Room\"]\n"
             "[[migrations]]\ntag = \"v2\"\ndeleted_classes = [\"Room\"]\n", bind_room);
    check(doc, "Cannot apply --delete-class migration to class Room without also removing the "
               "binding that references it");
    /* Bound to a class renamed away. */
    snprintf(doc, sizeof doc, "%s[[migrations]]\ntag = \"v1\"\nnew_classes = [\"Room\"]\n"
             "[[migrations]]\ntag = \"v2\"\nrenamed_classes = [{from = \"Room\", to = \"Hall\"}]\n",
             bind_room);
    check(doc, "class 'Room' was renamed to 'Hall' by migration 'v2'");
    /* MIG-10(d): rename source missing / target exists. */
    check("[[migrations]]\ntag = \"v1\"\nrenamed_classes = [{from = \"A\", to = \"B\"}]\n",
          "migration 'v1': cannot rename class 'A' to 'B': class 'A' does not exist");
    check("[[migrations]]\ntag = \"v1\"\nnew_classes = [\"A\", \"B\"]\n"
          "[[migrations]]\ntag = \"v2\"\nrenamed_classes = [{from = \"A\", to = \"B\"}]\n",
          "migration 'v2': cannot rename class 'A' to 'B': class 'B' already exists");
    check("[[migrations]]\ntag = \"v1\"\nnew_classes = [\"B\"]\n"
          "[[migrations]]\ntag = \"v2\"\ntransferred_classes = [{from = \"A\", from_script = \"s\", to = \"B\"}]\n",
          "migration 'v2': cannot transfer class 'A' of script 's' to 'B': class 'B' already exists");
    /* MIG-8 */
    check("[[migrations]]\ntag = \"v1\"\nnew_classes = [\"A\"]\n"
          "[[migrations]]\ntag = \"v2\"\nnew_sqlite_classes = [\"A\"]\n",
          "migration 'v2': new_sqlite_classes names class 'A', which already exists with the KV backend");
    /* MIG-3: created twice. */
    check("[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"A\"]\n"
          "[[migrations]]\ntag = \"v2\"\nnew_sqlite_classes = [\"A\"]\n",
          "migration 'v2': class 'A' is already a Durable Object class");
    check("[[migrations]]\ntag = \"v1\"\ndeleted_classes = [\"A\"]\n",
          "migration 'v1': cannot delete class 'A': no earlier migration created it");
    /* Delete then re-create later is fine; MIG-7 order inside one migration. */
    check("[[migrations]]\ntag = \"v1\"\nnew_classes = [\"A\"]\n"
          "[[migrations]]\ntag = \"v2\"\ndeleted_classes = [\"A\"]\n"
          "[[migrations]]\ntag = \"v3\"\nnew_sqlite_classes = [\"A\"]\n", NULL);
    check("[[migrations]]\ntag = \"v1\"\nnew_classes = [\"A\"]\n"
          "[[migrations]]\ntag = \"v2\"\nnew_classes = [\"A2\"]\ndeleted_classes = [\"A\"]\n", NULL);
}

static void test_class_backend(void **state)
{
    config c;
    load_ok(cat(HEAD, "[[migrations]]\ntag = \"v1\"\nnew_classes = [\"K\"]\nnew_sqlite_classes = [\"S\"]\n"
                      "[[migrations]]\ntag = \"v2\"\nrenamed_classes = [{from = \"S\", to = \"S2\"}]\n"
                      "deleted_classes = [\"K\"]\n"
                      "transferred_classes = [{from = \"X\", from_script = \"o\", to = \"T\"}]\n"),
            NULL, &c);
    assert_int_equal(config_class_backend(&c, "K"), CONFIG_BACKEND_NONE);
    assert_int_equal(config_class_backend(&c, "S"), CONFIG_BACKEND_NONE);
    assert_int_equal(config_class_backend(&c, "S2"), CONFIG_BACKEND_SQLITE);
    assert_int_equal(config_class_backend(&c, "T"), CONFIG_BACKEND_TRANSFERRED);
    assert_int_equal(config_class_backend(&c, "nope"), CONFIG_BACKEND_NONE);
    config_fini(&c);
    load_ok(cat(HEAD, "[[migrations]]\ntag = \"v1\"\nnew_classes = [\"K\"]\n"), NULL, &c);
    assert_int_equal(config_class_backend(&c, "K"), CONFIG_BACKEND_KV);
    config_fini(&c);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_full_toml),
        T(test_lookup_order),
        T(test_relative_main_resolves_against_config_dir),
        T(test_json_config),
        T(test_type_errors_name_file_line_key),
        T(test_name_rules),
        T(test_main_rules),
        T(test_compat_date),
        T(test_compat_flags),
        T(test_bindings),
        T(test_migration_shapes),
        T(test_limits_and_crons),
        T(test_unknown_ignored_unsupported),
        T(test_env_selection),
        T(test_dev_vars),
        T(test_check_migrations),
        T(test_class_backend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
