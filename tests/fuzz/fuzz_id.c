/* libFuzzer target: obj_id_parse on arbitrary bytes never crashes, and whatever it
 * accepts prints back to the same (lower-cased) hex. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "objects/id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[OBJ_KEY_BYTES] = {7};
    obj_id id;
    if (obj_id_parse(key, (const char *)data, size, &id) == 0) {
        char hex[OBJ_ID_HEX_LEN + 1];
        obj_id_hex(&id, hex);
        if (size != 64 || strncasecmp(hex, (const char *)data, 64) != 0)
            abort();
    }
    return 0;
}
