/* multipart.c: a multipart/form-data reader for Worker uploads (RFC 7578 as
 * wrangler, undici's FormData and curl -F write it; spec API-30, API-32).
 *
 * The whole body is in memory (h1 hands requests over once complete, bounded by
 * the listener's body limit), so parts are slices of it: nothing is copied.
 * Accepted: an optional preamble, parts separated by CRLF "--boundary" lines
 * (transport padding after a delimiter is allowed), part headers of the form
 * `Name: value` ending in an empty line, and the closing "--boundary--".
 * Everything else is an error naming the part and the problem. */
#include "api/internal.h"

#include <ctype.h>
#include <string.h>

static const char *mem_find(const char *hay, size_t hay_len, const char *needle, size_t n)
{
    if (n == 0 || hay_len < n)
        return NULL;
    const char *end = hay + hay_len - n + 1;
    for (const char *p = hay; p < end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (!p)
            return NULL;
        if (memcmp(p, needle, n) == 0)
            return p;
    }
    return NULL;
}

static bool ieq_prefix(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len >= n && strncasecmp(s, word, n) == 0;
}

static size_t skip_ws(const char *s, size_t i, size_t len)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

/* Reads the parameter `name` (e.g. boundary, filename) of a header value such as
 * `form-data; name="x"; filename="y"`. Quoted values may hold `\"`; the quotes
 * are removed into out. Returns 1 found, 0 absent, <0 malformed or too long. */
int api__header_param(const char *v, size_t len, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    size_t i = 0;
    /* Skip the first token (the media type or the disposition). */
    while (i < len && v[i] != ';')
        i++;
    while (i < len) {
        i = skip_ws(v, i + 1, len);   /* past ';' */
        size_t k = i;
        while (i < len && v[i] != '=' && v[i] != ';')
            i++;
        size_t klen = i;
        while (klen > k && (v[klen - 1] == ' ' || v[klen - 1] == '\t'))
            klen--;
        bool match = klen - k == nlen && strncasecmp(v + k, name, nlen) == 0;
        if (i >= len || v[i] == ';') {
            if (match)
                return DUR_EPARSE;
            continue;
        }
        i = skip_ws(v, i + 1, len);   /* past '=' */
        size_t o = 0;
        if (i < len && v[i] == '"') {
            i++;
            while (i < len && v[i] != '"') {
                if (v[i] == '\\' && i + 1 < len)
                    i++;
                if (match) {
                    if (o + 1 >= cap)
                        return DUR_ETOOBIG;
                    out[o++] = v[i];
                }
                i++;
            }
            if (i >= len)
                return DUR_EPARSE;   /* unterminated quote */
            i++;
            i = skip_ws(v, i, len);
            if (i < len && v[i] != ';')
                return DUR_EPARSE;
        } else {
            while (i < len && v[i] != ';' && v[i] != ' ' && v[i] != '\t') {
                if (match) {
                    if (o + 1 >= cap)
                        return DUR_ETOOBIG;
                    out[o++] = v[i];
                }
                i++;
            }
            i = skip_ws(v, i, len);
            if (i < len && v[i] != ';')
                return DUR_EPARSE;
        }
        if (match) {
            out[o] = '\0';
            return 1;
        }
    }
    return 0;
}

/* Parses one part's headers [p, end) into part. */
static int part_headers(const char *p, size_t len, api_part *part, size_t index, err *e)
{
    size_t i = 0;
    bool disposition = false;
    while (i < len) {
        const char *eol = mem_find(p + i, len - i, "\r\n", 2);
        size_t line_len = eol ? (size_t)(eol - (p + i)) : len - i;
        const char *line = p + i;
        i += line_len + (eol ? 2 : 0);
        const char *colon = memchr(line, ':', line_len);
        if (!colon || colon == line)
            return err_setf(e, DUR_EPARSE, "multipart part %zu: a header line without a name "
                            "and ':'", index + 1);
        size_t nlen = (size_t)(colon - line);
        size_t vstart = skip_ws(line, nlen + 1, line_len);
        size_t vend = line_len;
        while (vend > vstart && (line[vend - 1] == ' ' || line[vend - 1] == '\t'))
            vend--;
        const char *val = line + vstart;
        size_t vlen = vend - vstart;
        if (nlen == 19 && strncasecmp(line, "Content-Disposition", 19) == 0) {
            if (!ieq_prefix(val, vlen, "form-data"))
                return err_setf(e, DUR_EPARSE, "multipart part %zu: Content-Disposition is not "
                                "form-data", index + 1);
            int r = api__header_param(val, vlen, "name", part->name, sizeof part->name);
            if (r <= 0 || part->name[0] == '\0')
                return err_setf(e, DUR_EPARSE, "multipart part %zu: Content-Disposition has %s",
                                index + 1, r < 0 ? "a malformed or too long name" : "no name");
            r = api__header_param(val, vlen, "filename", part->filename, sizeof part->filename);
            if (r < 0)
                return err_setf(e, DUR_EPARSE, "multipart part '%s': malformed or too long "
                                "filename", part->name);
            disposition = true;
        } else if (nlen == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
            if (vlen >= sizeof part->content_type)
                return err_setf(e, DUR_EPARSE, "multipart part %zu: Content-Type too long",
                                index + 1);
            memcpy(part->content_type, val, vlen);
            part->content_type[vlen] = '\0';
        }
    }
    if (!disposition)
        return err_setf(e, DUR_EPARSE, "multipart part %zu: no Content-Disposition header",
                        index + 1);
    return 0;
}

int api_multipart_parse(const char *content_type, const char *body, size_t len,
                        api_part *parts, size_t parts_max, size_t *count, err *e)
{
    *count = 0;
    if (!content_type || !ieq_prefix(content_type, strlen(content_type), "multipart/form-data"))
        return err_setf(e, DUR_EPARSE, "expected Content-Type multipart/form-data, got '%s'",
                        content_type ? content_type : "(none)");
    char delim[API_BOUNDARY_MAX + 5] = "\r\n--";
    int r = api__header_param(content_type, strlen(content_type), "boundary", delim + 4,
                              sizeof delim - 4);
    size_t blen = r == 1 ? strlen(delim + 4) : 0;
    if (r != 1 || blen == 0 || blen > 70)
        return err_setf(e, DUR_EPARSE, "Content-Type multipart/form-data needs a boundary of 1 "
                        "to 70 characters");
    size_t dlen = blen + 4;
    /* The first delimiter may open the body (no CRLF before it). */
    size_t pos;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        pos = dlen - 2;
    } else {
        const char *d = mem_find(body, len, delim, dlen);
        if (!d)
            return err_setf(e, DUR_EPARSE, "multipart body: the boundary never occurs");
        pos = (size_t)(d - body) + dlen;
    }
    for (;;) {
        /* After a delimiter: "--" closes, else padding and CRLF open a part. */
        if (len - pos >= 2 && body[pos] == '-' && body[pos + 1] == '-')
            return 0;
        pos = skip_ws(body, pos, len);
        if (len - pos < 2 || body[pos] != '\r' || body[pos + 1] != '\n')
            return err_setf(e, DUR_EPARSE, "multipart body: expected a line break after the "
                            "boundary (part %zu)", *count + 1);
        pos += 2;
        if (*count == parts_max)
            return err_setf(e, DUR_ETOOBIG, "multipart body: more than %zu parts", parts_max);
        api_part *part = &parts[*count];
        memset(part, 0, sizeof *part);
        const char *hend = mem_find(body + pos, len - pos, "\r\n\r\n", 4);
        if (len - pos >= 2 && body[pos] == '\r' && body[pos + 1] == '\n')
            return err_setf(e, DUR_EPARSE, "multipart part %zu: no Content-Disposition header",
                            *count + 1);
        if (!hend)
            return err_setf(e, DUR_EPARSE, "multipart part %zu: its headers never end",
                            *count + 1);
        size_t hlen = (size_t)(hend - (body + pos));
        if (part_headers(body + pos, hlen, part, *count, e) < 0)
            return e->code;
        pos += hlen + 4;
        const char *d = mem_find(body + pos, len - pos, delim, dlen);
        if (!d)
            return err_setf(e, DUR_EPARSE, "multipart part '%s': the body ends before the "
                            "closing boundary", part->name);
        part->data = body + pos;
        part->data_len = (size_t)(d - (body + pos));
        (*count)++;
        pos = (size_t)(d - body) + dlen;
    }
}
