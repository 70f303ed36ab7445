/* buf: a growable byte buffer born with a maximum that it refuses to pass.
 * The caller turns DUR_ETOOBIG into 413/431/RangeError; nothing is cut silently.
 * The bytes are always followed by a NUL (not counted in len) so a buffer of text
 * can be handed to C string functions. */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    char *ptr;        /* owned; NULL until the first append */
    size_t len;       /* bytes used */
    size_t cap;       /* bytes allocated (excluding the NUL slot) */
    size_t max;       /* hard limit on len */
} buf;

void buf_init(buf *b, size_t max);
void buf_fini(buf *b);
/* Returns 0, DUR_ETOOBIG (len would pass max; b unchanged) or DUR_ENOMEM. */
int buf_append(buf *b, const void *p, size_t n);
int buf_append_str(buf *b, const char *s);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_reserve(buf *b, size_t extra);
void buf_reset(buf *b);     /* len = 0, keeps the memory */
/* Hands the bytes to the caller (who frees them with free()); b becomes empty. */
char *buf_take(buf *b, size_t *len);
