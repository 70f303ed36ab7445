/* libFuzzer target: jsonc_parse on arbitrary bytes (not NUL-terminated) never
 * crashes or reads past `len`; whatever it accepts serializes to JSON that it reads
 * back, and serialization is stable after one round trip (-0 and 1.0 normalise once).
 * The reader's sources are compiled in for coverage (see fuzz_toml.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/config/value.c"
#include "../../src/config/jsonc.c"

static char *roundtrip(const char *json)
{
    err e = {0};
    cfg_value *v = jsonc_parse("rt.json", json, strlen(json), &e);
    if (!v)
        abort(); /* our own JSON output must parse */
    char *out = cfg_value_to_json(v);
    cfg_value_free(v);
    if (!out)
        abort();
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    err e = {0};
    cfg_value *v = jsonc_parse("fuzz.jsonc", text, size, &e);
    if (v) {
        char *j1 = cfg_value_to_json(v);
        if (!j1)
            abort();
        char *j2 = roundtrip(j1);
        char *j3 = roundtrip(j2);
        if (strcmp(j2, j3) != 0)
            abort();
        free(j1);
        free(j2);
        free(j3);
        cfg_value_free(v);
    } else if (strncmp(e.msg, "fuzz.jsonc:", 11) != 0) {
        abort();
    }
    free(text);
    return 0;
}
