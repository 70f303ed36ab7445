/* Unit tests for web/encoding.c and web/js/20_encoding.js: TextEncoder,
 * TextDecoder (UTF-8: malformed input per the Encoding Standard, fatal, BOM,
 * streaming split at every byte) and atob / btoa (forgiving-base64). */
#include "harness.h"

static const char HELPERS[] =
    "globalThis.hex = (b) => Array.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b,"
    "  (x) => x.toString(16).padStart(2, '0')).join(' ');"
    "globalThis.cps = (s) => Array.from(s, (c) => c.codePointAt(0).toString(16)).join(' ');"
    "globalThis.units = (s) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i).toString(16)).join(' ');"
    "globalThis.dec = (bytes, opts) => cps(new TextDecoder('utf-8', opts).decode(new Uint8Array(bytes)));"
    WH_ERR_HELPER
    "true";

static int setup(void **state)
{
    return wh_setup_with(state, HELPERS);
}

static void test_encode(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "new TextEncoder().encoding", "utf-8");
    WH_EXPECT(h, "hex(new TextEncoder().encode(''))", "");
    WH_EXPECT(h, "hex(new TextEncoder().encode())", "");
    WH_EXPECT(h, "new TextEncoder().encode('abc') instanceof Uint8Array", "true");
    WH_EXPECT(h, "hex(new TextEncoder().encode('a\\u00e9\\u20ac'))", "61 c3 a9 e2 82 ac");
    WH_EXPECT(h, "hex(new TextEncoder().encode('\\u{1F600}'))", "f0 9f 98 80");
    WH_EXPECT(h, "hex(new TextEncoder().encode('\\u0000x'))", "00 78");
    /* Lone surrogates become U+FFFD (USVString conversion). */
    WH_EXPECT(h, "hex(new TextEncoder().encode('\\ud800'))", "ef bf bd");
    WH_EXPECT(h, "hex(new TextEncoder().encode('a\\udc00b'))", "61 ef bf bd 62");
    WH_EXPECT(h, "hex(new TextEncoder().encode('\\ud83d\\ud83d\\ude00'))", "ef bf bd f0 9f 98 80");
    WH_EXPECT(h, "hex(new TextEncoder().encode('\\ude00\\ud83d'))", "ef bf bd ef bf bd");
    WH_EXPECT(h, "hex(new TextEncoder().encode(null))", "6e 75 6c 6c");
    WH_EXPECT(h, "hex(new TextEncoder().encode(12))", "31 32");
    WH_EXPECT(h, "err(() => new TextEncoder().encode(Symbol()))",
              "TypeError: cannot convert symbol to string");
    WH_EXPECT(h, "err(() => TextEncoder.prototype.encode.call({}, 'x'))",
              "TypeError: Failed to execute 'encode' on 'TextEncoder': Illegal invocation");
    WH_EXPECT(h, "new TextEncoder().encode('x'.repeat(100000)).length", "100000");
}

static void test_encode_into(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "const u = new Uint8Array(8); const r = new TextEncoder().encodeInto('ab\\u20ac', u);"
                 "r.read + ',' + r.written + ',' + hex(u)",
              "3,5,61 62 e2 82 ac 00 00 00");
    /* Never splits a character: the euro sign needs 3 bytes, only 2 are left. */
    WH_EXPECT(h, "const u = new Uint8Array(4); const r = new TextEncoder().encodeInto('ab\\u20ac', u);"
                 "r.read + ',' + r.written + ',' + hex(u)",
              "2,2,61 62 00 00");
    /* A surrogate pair counts as 2 read units. */
    WH_EXPECT(h, "const u = new Uint8Array(5); const r = new TextEncoder().encodeInto('\\u{1F600}x', u);"
                 "r.read + ',' + r.written",
              "3,5");
    WH_EXPECT(h, "const u = new Uint8Array(3); const r = new TextEncoder().encodeInto('\\u{1F600}', u);"
                 "r.read + ',' + r.written",
              "0,0");
    WH_EXPECT(h, "const u = new Uint8Array(3); const r = new TextEncoder().encodeInto('\\ud800', u);"
                 "r.read + ',' + r.written + ',' + hex(u)",
              "1,3,ef bf bd");
    /* A subarray: writes at its offset only. */
    WH_EXPECT(h, "const u = new Uint8Array(6); new TextEncoder().encodeInto('xyz', u.subarray(2, 4));"
                 "hex(u)",
              "00 00 78 79 00 00");
    WH_EXPECT(h, "const r = new TextEncoder().encodeInto('abc', new Uint8Array(0));"
                 "r.read + ',' + r.written",
              "0,0");
    WH_EXPECT(h, "err(() => new TextEncoder().encodeInto('a', new Uint16Array(2)))",
              "TypeError: Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of "
              "type 'Uint8Array'.");
    WH_EXPECT(h, "err(() => new TextEncoder().encodeInto('a', new ArrayBuffer(2)))",
              "TypeError: Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of "
              "type 'Uint8Array'.");
    WH_EXPECT(h, "err(() => new TextEncoder().encodeInto('a'))",
              "TypeError: Failed to execute 'encodeInto' on 'TextEncoder': 2 arguments required, "
              "but only 1 present.");
}

static void test_decoder_labels(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "new TextDecoder().encoding", "utf-8");
    WH_EXPECT(h, "['utf8', 'UTF-8', ' unicode-1-1-utf-8 ', 'unicode11utf8', 'x-unicode20utf8']"
                 ".map((l) => new TextDecoder(l).encoding).join()",
              "utf-8,utf-8,utf-8,utf-8,utf-8");
    WH_EXPECT(h, "err(() => new TextDecoder('latin1'))",
              "RangeError: The \"latin1\" encoding is not supported");
    WH_EXPECT(h, "err(() => new TextDecoder('utf-16le'))",
              "RangeError: The \"utf-16le\" encoding is not supported");
    WH_EXPECT(h, "err(() => new TextDecoder('utf-8', 5))",
              "TypeError: Failed to construct 'TextDecoder': The provided value is not of type "
              "'TextDecoderOptions'.");
    WH_EXPECT(h, "const d = new TextDecoder('utf-8', { fatal: 1, ignoreBOM: 'yes' });"
                 "d.fatal + ',' + d.ignoreBOM",
              "true,true");
    WH_EXPECT(h, "const d = new TextDecoder(); d.fatal + ',' + d.ignoreBOM", "false,false");
}

static void test_decode_valid(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "new TextDecoder().decode()", "");
    WH_EXPECT(h, "new TextDecoder().decode(new Uint8Array([104, 105]))", "hi");
    WH_EXPECT(h, "dec([0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80])",
              "61 e9 20ac 1f600");
    WH_EXPECT(h, "units(new TextDecoder().decode(new Uint8Array([0xf0, 0x9f, 0x98, 0x80])))",
              "d83d de00");
    /* Boundaries of each sequence length. */
    WH_EXPECT(h, "dec([0x7f, 0xc2, 0x80, 0xdf, 0xbf, 0xe0, 0xa0, 0x80, 0xef, 0xbf, 0xbf,"
                 " 0xf0, 0x90, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf])",
              "7f 80 7ff 800 ffff 10000 10ffff");
    WH_EXPECT(h, "dec([0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80])", "d7ff e000");
    WH_EXPECT(h, "dec([0])", "0");
    /* Every kind of BufferSource. */
    WH_EXPECT(h, "new TextDecoder().decode(new Uint8Array([0x61, 0x62]).buffer)", "ab");
    WH_EXPECT(h, "new TextDecoder().decode(new DataView(new Uint8Array([0x61, 0x62, 0x63]).buffer, 1))",
              "bc");
    WH_EXPECT(h, "new TextDecoder().decode(new Uint16Array([0x6261]))", "ab");
    WH_EXPECT(h, "new TextDecoder().decode(new Uint8Array([0x78, 0x61, 0x62, 0x79]).subarray(1, 3))",
              "ab");
    WH_EXPECT(h, "new TextDecoder().decode(new ArrayBuffer(0))", "");
    WH_EXPECT(h, "err(() => new TextDecoder().decode('abc'))",
              "TypeError: Failed to execute 'decode' on 'TextDecoder': The provided value is not "
              "of type '(ArrayBuffer or ArrayBufferView)'.");
    WH_EXPECT(h, "err(() => new TextDecoder().decode([0x61]))",
              "TypeError: Failed to execute 'decode' on 'TextDecoder': The provided value is not "
              "of type '(ArrayBuffer or ArrayBufferView)'.");
    WH_EXPECT(h, "err(() => new TextDecoder().decode(new Uint8Array(1), 3))",
              "TypeError: Failed to execute 'decode' on 'TextDecoder': The provided value is not "
              "of type 'TextDecodeOptions'.");
    WH_EXPECT(h, "const s = 'h\\u00e9llo \\u{1F600} w\\u00f6rld '.repeat(5000);"
                 "new TextDecoder().decode(new TextEncoder().encode(s)) === s",
              "true");
    WH_EXPECT(h, "err(() => TextDecoder.prototype.decode.call({}))",
              "TypeError: Failed to execute 'decode' on 'TextDecoder': Illegal invocation");
}

static void test_decode_malformed(void **state)
{
    wh *h = *state;
    /* The number of U+FFFD follows the Encoding Standard's decoder exactly. */
    WH_EXPECT(h, "dec([0x80])", "fffd");
    WH_EXPECT(h, "dec([0xff, 0xfe, 0x61])", "fffd fffd 61");
    WH_EXPECT(h, "dec([0xc0, 0x80])", "fffd fffd");             /* overlong NUL */
    WH_EXPECT(h, "dec([0xc1, 0xbf])", "fffd fffd");             /* overlong 2-byte */
    WH_EXPECT(h, "dec([0xe0, 0x80, 0x80])", "fffd fffd fffd");  /* overlong 3-byte */
    WH_EXPECT(h, "dec([0xe0, 0x9f, 0xbf])", "fffd fffd fffd");
    WH_EXPECT(h, "dec([0xf0, 0x8f, 0xbf, 0xbf])", "fffd fffd fffd fffd");  /* overlong 4-byte */
    WH_EXPECT(h, "dec([0xed, 0xa0, 0x80])", "fffd fffd fffd");  /* UTF-16 surrogate */
    WH_EXPECT(h, "dec([0xed, 0xbf, 0xbf])", "fffd fffd fffd");
    WH_EXPECT(h, "dec([0xf4, 0x90, 0x80, 0x80])", "fffd fffd fffd fffd");  /* > U+10FFFF */
    WH_EXPECT(h, "dec([0xf5, 0x80])", "fffd fffd");
    /* Truncated sequences: one U+FFFD for the valid prefix, then the next byte. */
    WH_EXPECT(h, "dec([0xe2, 0x82])", "fffd");
    WH_EXPECT(h, "dec([0xe2, 0x82, 0x61])", "fffd 61");
    WH_EXPECT(h, "dec([0xf0, 0x9f, 0x98])", "fffd");
    WH_EXPECT(h, "dec([0xf0, 0x9f, 0x98, 0xf0, 0x9f, 0x98, 0x80])", "fffd 1f600");
    WH_EXPECT(h, "dec([0xc3])", "fffd");
    WH_EXPECT(h, "dec([0x61, 0xc3, 0xc3, 0xa9])", "61 fffd e9");
    /* fatal: the first error throws a TypeError. */
    WH_EXPECT(h, "err(() => new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0x61, 0x80])))",
              "TypeError: Failed to execute 'decode' on 'TextDecoder': The encoded data was not "
              "valid.");
    WH_EXPECT(h, "err(() => new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xe2, 0x82])))",
              "TypeError: Failed to execute 'decode' on 'TextDecoder': The encoded data was not "
              "valid.");
    WH_EXPECT(h, "new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xe2, 0x82, 0xac]))",
              "\xe2\x82\xac");
    /* A fatal decoder is usable again after an error. */
    WH_EXPECT(h, "const d = new TextDecoder('utf-8', { fatal: true });"
                 "err(() => d.decode(new Uint8Array([0xff]))); d.decode(new Uint8Array([0x6f, 0x6b]))",
              "ok");
}

static void test_decode_bom(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "dec([0xef, 0xbb, 0xbf, 0x61])", "61");
    WH_EXPECT(h, "dec([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, 0x61])", "feff 61");
    WH_EXPECT(h, "dec([0xef, 0xbb, 0xbf, 0x61], { ignoreBOM: true })", "feff 61");
    WH_EXPECT(h, "dec([0x61, 0xef, 0xbb, 0xbf])", "61 feff");
    /* One decoder, several complete calls: each call starts afresh. */
    WH_EXPECT(h, "const d = new TextDecoder(); const b = new Uint8Array([0xef, 0xbb, 0xbf, 0x61]);"
                 "d.decode(b) + d.decode(b)",
              "aa");
    /* A BOM split across streamed chunks is still removed, and only at the start. */
    WH_EXPECT(h, "const d = new TextDecoder();"
                 "cps(d.decode(new Uint8Array([0xef]), { stream: true }) +"
                 "    d.decode(new Uint8Array([0xbb]), { stream: true }) +"
                 "    d.decode(new Uint8Array([0xbf, 0x61]), { stream: true }) +"
                 "    d.decode(new Uint8Array([0xef, 0xbb, 0xbf])))",
              "61 feff");
}

/* Every byte split of a mixed string, streamed in two chunks and byte by byte. */
static void test_decode_stream_splits(void **state)
{
    wh *h = *state;
    WH_EXPECT(h,
              "const s = 'a\\u00e9\\u20ac\\u{1F600}z';"
              "const b = new TextEncoder().encode(s);"
              "let bad = [];"
              "for (let cut = 0; cut <= b.length; cut++) {"
              "  for (const fatal of [false, true]) {"
              "    const d = new TextDecoder('utf-8', { fatal });"
              "    const got = d.decode(b.subarray(0, cut), { stream: true }) + d.decode(b.subarray(cut));"
              "    if (got !== s) bad.push(cut);"
              "  }"
              "}"
              "const d = new TextDecoder(); let one = '';"
              "for (let i = 0; i < b.length; i++) one += d.decode(b.subarray(i, i + 1), { stream: true });"
              "one += d.decode();"
              "bad.length === 0 && one === s ? 'ok' : 'bad cuts ' + bad + ' one=' + cps(one)",
              "ok");
    /* A truncated sequence at the end of a stream is flushed as one U+FFFD. */
    WH_EXPECT(h, "const d = new TextDecoder();"
                 "cps(d.decode(new Uint8Array([0x61, 0xf0, 0x9f]), { stream: true }) + d.decode())",
              "61 fffd");
    WH_EXPECT(h, "const d = new TextDecoder('utf-8', { fatal: true });"
                 "d.decode(new Uint8Array([0xf0, 0x9f]), { stream: true });"
                 "err(() => d.decode())",
              "TypeError: Failed to execute 'decode' on 'TextDecoder': The encoded data was not "
              "valid.");
    /* An invalid continuation in the next chunk: the error, then the byte itself. */
    WH_EXPECT(h, "const d = new TextDecoder();"
                 "cps(d.decode(new Uint8Array([0xe2]), { stream: true }) + d.decode(new Uint8Array([0x41])))",
              "fffd 41");
    WH_EXPECT(h, "const d = new TextDecoder();"
                 "cps(d.decode(new Uint8Array([0xe0]), { stream: true }) + d.decode(new Uint8Array([0x9f, 0x80])))",
              "fffd fffd fffd");
    /* The call after a streamed one continues the sequence; the one after a flush
     * starts afresh. */
    WH_EXPECT(h, "const d = new TextDecoder();"
                 "d.decode(new Uint8Array([0xe2, 0x82]), { stream: true });"
                 "cps(d.decode(new Uint8Array([0xac])))",
              "20ac");
    WH_EXPECT(h, "const d = new TextDecoder();"
                 "const a = d.decode(new Uint8Array([0xe2, 0x82]));"
                 "cps(a + d.decode(new Uint8Array([0xac])))",
              "fffd fffd");
}

static void test_btoa(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "[btoa(''), btoa('a'), btoa('ab'), btoa('abc'), btoa('abcd')].join()",
              ",YQ==,YWI=,YWJj,YWJjZA==");
    WH_EXPECT(h, "btoa('\\u00ff\\u0000\\u0080')", "/wCA");
    WH_EXPECT(h, "btoa(12)", "MTI=");
    WH_EXPECT(h, "btoa(null)", "bnVsbA==");
    WH_EXPECT(h, "err(() => btoa('\\u20ac'))",
              "InvalidCharacterError(5): Failed to execute 'btoa' on 'WorkerGlobalScope': The "
              "string to be encoded contains characters outside of the Latin1 range.");
    WH_EXPECT(h, "err(() => btoa('a\\u0100'))",
              "InvalidCharacterError(5): Failed to execute 'btoa' on 'WorkerGlobalScope': The "
              "string to be encoded contains characters outside of the Latin1 range.");
    WH_EXPECT(h, "err(() => btoa('\\ud800'))",
              "InvalidCharacterError(5): Failed to execute 'btoa' on 'WorkerGlobalScope': The "
              "string to be encoded contains characters outside of the Latin1 range.");
    WH_EXPECT(h, "err(() => btoa())",
              "TypeError: Failed to execute 'btoa' on 'WorkerGlobalScope': 1 argument required, "
              "but only 0 present.");
    WH_EXPECT(h, "try { btoa('\\u0394') } catch (e) { e instanceof DOMException && e instanceof Error }",
              "true");
}

static void test_atob(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "[atob(''), atob('YQ=='), atob('YWI='), atob('YWJj'), atob('YWJjZA==')].join()",
              ",a,ab,abc,abcd");
    /* Padding is optional; ASCII whitespace anywhere is ignored. */
    WH_EXPECT(h, "[atob('YQ'), atob('YWI'), atob(' Y Q\\t=\\n=\\f\\r')].join()", "a,ab,a");
    WH_EXPECT(h, "units(atob('/wCA'))", "ff 0 80");
    WH_EXPECT(h, "units(atob(null))", "9e e9 65");
    const char *bad[] = {
        "'Y'", "'YQ='", "'YQ==='", "'Y=Q='", "'YQ==YQ=='", "'=YQ='", "'@@@@'", "'YQ-_'",
        "'YQ\\u00a0'", "'\\u00e9'", "'undefined'", "'YQ\\v'",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char src[256];
        snprintf(src, sizeof src, "err(() => atob(%s))", bad[i]);
        WH_EXPECT(h, src,
                  "InvalidCharacterError(5): Failed to execute 'atob' on 'WorkerGlobalScope': The "
                  "string to be decoded is not correctly encoded.");
    }
    WH_EXPECT(h, "err(() => atob())",
              "TypeError: Failed to execute 'atob' on 'WorkerGlobalScope': 1 argument required, "
              "but only 0 present.");
    /* Round trip of every byte value, at every length modulo 3. */
    WH_EXPECT(h, "let all = ''; for (let i = 0; i < 256; i++) all += String.fromCharCode(i);"
                 "let ok = true; for (let n = 0; n <= 256; n++) { const s = all.slice(0, n);"
                 "  if (atob(btoa(s)) !== s) ok = false; } ok",
              "true");
    WH_EXPECT(h, "atob(btoa('x'.repeat(300000))).length", "300000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_encode, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_encode_into, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_decoder_labels, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_decode_valid, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_decode_malformed, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_decode_bom, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_decode_stream_splits, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_btoa, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_atob, setup, wh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
