/* libFuzzer target: toml_parse on arbitrary bytes (not NUL-terminated) never crashes,
 * never reads past `len`, and every tree it returns serializes to JSON.
 * The reader's sources are compiled into this target (rather than taken from
 * durable_core, which is built without coverage instrumentation) so that libFuzzer
 * sees its branches; the archive's copies are then simply not linked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/config/value.c"
#include "../../src/config/toml.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy: ASan reports any read past the end. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    err e = {0};
    cfg_value *v = toml_parse("fuzz.toml", text, size, &e);
    if (v) {
        char *json = cfg_value_to_json(v);
        if (!json)
            abort();
        free(json);
        cfg_value_free(v);
    } else if (strncmp(e.msg, "fuzz.toml:", 10) != 0) {
        abort(); /* every failure names the file */
    }
    free(text);
    return 0;
}
