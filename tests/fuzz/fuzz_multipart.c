/* libFuzzer target for the multipart/form-data reader (api/multipart.c). The
 * input is "<content-type>\n<body>" (without a newline: the content type is
 * "multipart/form-data; boundary=B" and the whole input is the body).
 * Invariants: no crash or read past the body; on success every part's data lies
 * inside the body and parts follow each other; on failure there is a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size < 200 ? size : 200);
    char ct[201] = "multipart/form-data; boundary=B";
    const char *body = (const char *)data;
    size_t len = size;
    if (nl) {
        size_t n = (size_t)(nl - (const char *)data);
        memcpy(ct, data, n);
        ct[n] = '\0';
        body = nl + 1;
        len = size - n - 1;
    }
    /* A copy of exactly len bytes, so ASan sees any read past the end. */
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return 0;
    if (len)
        memcpy(copy, body, len);
    api_part parts[16];
    size_t count = 0;
    err e = {0};
    int rc = api_multipart_parse(ct, copy, len, parts, 16, &count, &e);
    if (rc == 0) {
        const char *prev_end = copy;
        for (size_t i = 0; i < count; i++) {
            if (parts[i].data < prev_end || parts[i].data + parts[i].data_len > copy + len)
                abort();
            if (parts[i].name[0] == '\0')
                abort();
            prev_end = parts[i].data + parts[i].data_len;
        }
    } else if (e.msg[0] == '\0' || count > 16) {
        abort();
    }
    free(copy);
    return 0;
}
