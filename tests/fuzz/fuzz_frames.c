/* libFuzzer target: the decoder of frames_rebuild (storage/frames.h) on arbitrary
 * bytes never crashes, never reads past the entry, never inflates past
 * FRAMES_RAW_MAX, and hands out only pages numbered 1..db_pages of the header's
 * page size. (frames_rebuild is this decoder plus a pwrite per page.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"
#include "storage/frames.h"

typedef struct seen {
    uint32_t db_pages;
    uint64_t bytes;
} seen;

static int on_page(void *ud, uint32_t pgno, const uint8_t *page, uint32_t page_size, err *e)
{
    seen *s = ud;
    (void)e;
    if (pgno == 0 || pgno > s->db_pages || page_size < 512 || page_size > 65536)
        abort();
    volatile uint8_t x = page[0] ^ page[page_size - 1];   /* the whole page is readable */
    (void)x;
    s->bytes += 4 + (uint64_t)page_size;
    if (s->bytes > FRAMES_RAW_MAX)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan catches a read past the entry. */
    uint8_t *b = malloc(size ? size : 1);
    if (!b)
        return 0;
    memcpy(b, data, size);
    seen s = {0};
    if (size >= 12)
        memcpy(&s.db_pages, b + 8, 4);   /* little-endian hosts only, as the fuzzers run */
    err e = {0};
    uint32_t ps = 0, pages = 0;
    int rc = frames_decode(b, size, on_page, &s, &ps, &pages, &e);
    if (rc < 0 && e.msg[0] == '\0')
        abort();   /* every refusal says why */
    if (rc == 0 && (ps < 512 || ps > 65536 || (ps & (ps - 1)) != 0 || pages != s.db_pages))
        abort();
    free(b);
    return 0;
}
