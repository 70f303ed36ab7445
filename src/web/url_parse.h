/* web/url_parse: a WHATWG URL parser and serializer in plain C (no QuickJS).
 *
 * Implements the URL Standard's basic URL parser (every state, including the state
 * overrides the URL setters use), the host parser (domains, IPv4 in all its number
 * forms, IPv6 with compression and embedded IPv4, opaque hosts), the percent-encode
 * sets, the URL serializer and the application/x-www-form-urlencoded parser and
 * serializer used by URLSearchParams. spec: workers.md WEB-5.
 *
 * Input is UTF-8. Invalid UTF-8 (and the WTF-8 lone surrogates QuickJS produces for
 * unpaired UTF-16 surrogates) is replaced by U+FFFD first, as the USVString
 * conversion of the Web IDL binding would do. The serialized URL is always ASCII.
 *
 * IDNA limitation: domain-to-ASCII is not full UTS #46. ASCII domains are lowercased
 * and their "xn--" labels must be valid Punycode decoding to a non-ASCII label; non-ASCII
 * domains get a small mapping (ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic
 * upper case → lower case; full-width ASCII → ASCII; the ideographic full stops →
 * "."; default-ignorable code points removed), C1 controls, U+FFFD and non-characters
 * are refused, and each non-ASCII label is Punycode-encoded. No NFC normalisation,
 * no Bidi or ContextJ rules. libidn2 could replace this if the project takes it on.
 *
 * Tuned for the Worker hot path: `new URL(request.url)` on an already-normalised
 * ASCII URL parses without copying the input and without heap use beyond the
 * component buffers. Sizes are bounded: input above URL_INPUT_BYTES_MAX and any
 * component above URL_COMPONENT_BYTES_MAX give DUR_ETOOBIG, never truncation.
 * Every step is linear in the input, except Punycode, whose inputs are bounded
 * (URL_IDNA_*_MAX).
 * Not thread-affine: a url belongs to whoever holds it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define URL_INPUT_BYTES_MAX (32u * 1024u * 1024u)
/* Percent-encoding may triple the input, and a relative URL adds its base. */
#define URL_COMPONENT_BYTES_MAX (4u * URL_INPUT_BYTES_MAX)

/* Non-ASCII domains only (Punycode encoding is quadratic in the label length): a
 * longer one fails to parse with a message saying so. DNS allows 63-byte labels. */
#define URL_IDNA_DOMAIN_BYTES_MAX 16384u
#define URL_IDNA_LABEL_CPS_MAX 255u

/* The URL record. Components are stored serialized: `host` is the serialized host
 * ("[::1]", "1.2.3.4", "example.com"), `path` is "/seg/seg" (one '/' per segment, so
 * "" is the empty list and "/" is [""]) or the opaque path when opaque_path. */
typedef struct url {
    buf scheme;           /* lower case, without ':' */
    buf username;
    buf password;
    buf host;             /* meaningful when has_host */
    buf path;
    buf query;            /* meaningful when has_query */
    buf fragment;         /* meaningful when has_fragment */
    int port;             /* -1 = null; never the scheme's default port */
    uint8_t scheme_kind;  /* URL_SCHEME_* */
    bool has_host;
    bool opaque_path;
    bool has_query;
    bool has_fragment;
} url;

enum {
    URL_SCHEME_OTHER = 0, /* not special */
    URL_SCHEME_HTTP,
    URL_SCHEME_HTTPS,
    URL_SCHEME_WS,
    URL_SCHEME_WSS,
    URL_SCHEME_FTP,
    URL_SCHEME_FILE,
};

/* Which setter url_set runs (the URL API attribute of that name). */
typedef enum url_part {
    URL_PART_PROTOCOL = 0,
    URL_PART_USERNAME,
    URL_PART_PASSWORD,
    URL_PART_HOST,
    URL_PART_HOSTNAME,
    URL_PART_PORT,
    URL_PART_PATHNAME,
    URL_PART_SEARCH,
    URL_PART_HASH,
    URL_PART_COUNT,
} url_part;

/* Where each API attribute lies in the serialized href (byte offsets, end
 * exclusive). protocol = [0, protocol_end) including ':'. host (the attribute) =
 * [host_start, port_end). search = [query_start, query_end) including '?', empty
 * when the query is null or empty; hash likewise with '#'. */
typedef struct url_spans {
    size_t protocol_end;
    size_t username_start, username_end;
    size_t password_start, password_end;
    size_t host_start, host_end;
    size_t port_start, port_end;
    size_t path_start, path_end;
    size_t query_start, query_end;
    size_t fragment_start, fragment_end;
} url_spans;

void url_init(url *u);
void url_fini(url *u);

/* Parses `input` (len bytes, any bytes) against `base` (may be NULL) into `out`,
 * which must be url_init'ed and is overwritten. Returns 0; DUR_EPARSE with *e
 * naming the rule that failed ("invalid IPv6 address", "relative URL without a
 * base", …); DUR_ETOOBIG; DUR_ENOMEM. On failure `out` holds garbage but stays
 * safe to url_fini. `e` may be NULL. */
int url_parse(url *out, const char *input, size_t len, const url *base, err *e);

/* Runs the URL API setter `which` with `value` on `u`, in place (the state-override
 * parse of the standard: some setters ignore bad values, some apply a prefix of
 * them). Returns 0 (applied or ignored, as the standard says), DUR_ETOOBIG or
 * DUR_ENOMEM (then `u` may be half-changed: discard it). */
int url_set(url *u, url_part which, const char *value, size_t len);

/* Appends the serialization of `u` to `out`; fills *spans (may be NULL) with the
 * offsets, relative to the start of what was appended. DUR_ETOOBIG / DUR_ENOMEM. */
int url_serialize(const url *u, buf *out, url_spans *spans);

/* Default port of a scheme kind, -1 for none. */
int url_default_port(int scheme_kind);

/* Replaces invalid UTF-8 with U+FFFD (EF BF BD). With `wtf8`, a WTF-8 encoded lone
 * surrogate (ED A0..BF xx) becomes a single U+FFFD (a JS string's USVString
 * conversion); without, each maximal invalid subpart does (the Encoding Standard's
 * UTF-8 decoder). Appends to `out`. Returns 0, DUR_ETOOBIG or DUR_ENOMEM. */
int url_utf8_sanitize(const char *s, size_t n, bool wtf8, buf *out);
/* True if s is valid UTF-8 (no surrogates, no overlongs). */
bool url_utf8_valid(const char *s, size_t n);

/* application/x-www-form-urlencoded parsing: calls fn(name, value, ud) for each
 * pair, '+' as space, percent-decoded, invalid UTF-8 replaced by U+FFFD. The
 * strings passed are valid only during the call. fn returns 0 or a negative code,
 * which stops the walk and is returned. Returns 0, DUR_ETOOBIG, DUR_ENOMEM. */
typedef int (*url_form_pair_fn)(const char *name, size_t name_len, const char *value,
                                size_t value_len, void *ud);
int url_form_parse(const char *s, size_t n, url_form_pair_fn fn, void *ud);
/* Appends the form-urlencoded serialization of one name or value (space → '+',
 * everything but ASCII alphanumerics and *-._ percent-encoded). Input is sanitized
 * as WTF-8 first. Returns 0, DUR_ETOOBIG or DUR_ENOMEM. */
int url_form_encode(const char *s, size_t n, buf *out);
