/* Unit tests for web/url_parse.c (the WHATWG URL parser, setters, form codec) and
 * for the URL / URLSearchParams classes of web/js/30_url.js over web/url.c.
 * The case tables are written from the rules of the URL Standard, one group per
 * parser state or rule. Every parsed URL is also re-parsed from its href to check
 * that serialization is idempotent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/url_parse.h"
#include "web/web.h"

typedef struct parse_case {
    const char *input;
    const char *base;    /* NULL: no base */
    const char *want;    /* NULL: failure */
} parse_case;

static const parse_case parse_cases[] = {
    /* scheme start / scheme state, trimming, tab and newline removal */
    {"http://example.com", NULL, "http://example.com/"},
    {"HTTP://EXAMPLE.COM/A", NULL, "http://example.com/A"},
    {"  http://a.com/ \n", NULL, "http://a.com/"},
    {"\x01http://a.com/\x1f", NULL, "http://a.com/"},
    {"ht\ttp://a.c\nom/p\ra", NULL, "http://a.com/pa"},
    {"h\tt\ntp://a", NULL, "http://a/"},
    {"a+b-c.d:x", NULL, "a+b-c.d:x"},
    {"A1:x", NULL, "a1:x"},
    {"1a:x", NULL, NULL},
    {":x", NULL, NULL},
    {"", NULL, NULL},
    {"   ", NULL, NULL},
    {"//a.com", NULL, NULL},
    {"a.com", NULL, NULL},
    {"sc:", NULL, "sc:"},
    {"a:", NULL, "a:"},
    {"ht tp://a/", NULL, NULL},
    /* special authority slashes and ignore-slashes */
    {"http:///a.com/", NULL, "http://a.com/"},
    {"http:\\\\a.com\\x\\y", NULL, "http://a.com/x/y"},
    {"http:a.com", NULL, "http://a.com/"},
    {"http:/a.com/p", NULL, "http://a.com/p"},
    {"http:////a.com", NULL, "http://a.com/"},
    {"https:\\/\\a.com", NULL, "https://a.com/"},
    {"http://", NULL, NULL},
    {"http:", NULL, NULL},
    {"http:/", NULL, NULL},
    {"http://?", NULL, NULL},
    {"http://#", NULL, NULL},
    /* ports: default ports dropped, bounds */
    {"http://a.com:80/", NULL, "http://a.com/"},
    {"https://a.com:443/", NULL, "https://a.com/"},
    {"https://a.com:80/", NULL, "https://a.com:80/"},
    {"http://a.com:443/", NULL, "http://a.com:443/"},
    {"ws://a.com:80/", NULL, "ws://a.com/"},
    {"wss://a.com:443/x", NULL, "wss://a.com/x"},
    {"ws://a.com:443/", NULL, "ws://a.com:443/"},
    {"ftp://a.com:21/", NULL, "ftp://a.com/"},
    {"ftp://a.com:22/", NULL, "ftp://a.com:22/"},
    {"http://a.com:/", NULL, "http://a.com/"},
    {"http://a.com:0080/", NULL, "http://a.com/"},
    {"http://a:00000000000000000080/", NULL, "http://a/"},
    {"http://a.com:0/", NULL, "http://a.com:0/"},
    {"http://a.com:65535/", NULL, "http://a.com:65535/"},
    {"http://a.com:65536/", NULL, NULL},
    {"http://a:99999999999999999999/", NULL, NULL},
    {"http://a.com:8a/", NULL, NULL},
    {"http://a.com:-1/", NULL, NULL},
    {"http://a.com: 1/", NULL, NULL},
    {"http://a.com:1?q", NULL, "http://a.com:1/?q"},
    {"http://a.com:1#f", NULL, "http://a.com:1/#f"},
    {"http://a.com:1\\p", NULL, "http://a.com:1/p"},
    {"sc://h:1\\p", NULL, NULL},
    {"sc://h:99999/", NULL, NULL},
    {"sc://h:0/", NULL, "sc://h:0/"},
    {"sc://h:/", NULL, "sc://h/"},
    {"sc://h:80/", NULL, "sc://h:80/"},
    {"file://h:80/", NULL, NULL},
    /* authority: credentials */
    {"http://user:pass@a.com/", NULL, "http://user:pass@a.com/"},
    {"http://user@a.com/", NULL, "http://user@a.com/"},
    {"http://:pass@a.com/", NULL, "http://:pass@a.com/"},
    {"http://user:@a.com/", NULL, "http://user@a.com/"},
    {"http://@a.com/", NULL, "http://a.com/"},
    {"http://:@a.com/", NULL, "http://a.com/"},
    {"http://a@b@c.com/", NULL, "http://a%40b@c.com/"},
    {"http://a:b:c@d.com/", NULL, "http://a:b%3Ac@d.com/"},
    {"http://us er:p@ss@a.com/", NULL, "http://us%20er:p%40ss@a.com/"},
    {"http://u\"<>`{}|^;=[]@a.com/", NULL, "http://u%22%3C%3E%60%7B%7D%7C%5E%3B%3D%5B%5D@a.com/"},
    {"http://u!$&'()*+,-._~@a.com/", NULL, "http://u!$&'()*+,-._~@a.com/"},
    {"http://\xc3\xa9@a.com/", NULL, "http://%C3%A9@a.com/"},
    {"http://user@/", NULL, NULL},
    {"http://user@", NULL, NULL},
    {"http://user:pass@:80/", NULL, NULL},
    {"http://u@a.com:8080/", NULL, "http://u@a.com:8080/"},
    {"sc://u:p@h:1234/p", NULL, "sc://u:p@h:1234/p"},
    {"sc://@/", NULL, NULL},
    {"sc://u@/", NULL, NULL},
    {"file://user@host/", NULL, NULL},
    /* path state: dot segments, percent-encoding */
    {"http://a.com/a/./b/../c", NULL, "http://a.com/a/c"},
    {"http://a.com/a/%2e/b/%2E%2e/c", NULL, "http://a.com/a/c"},
    {"http://a.com/a/.%2e/c", NULL, "http://a.com/c"},
    {"http://a.com/a/%2e./c", NULL, "http://a.com/c"},
    {"http://a.com/../../x", NULL, "http://a.com/x"},
    {"http://a.com/a/..", NULL, "http://a.com/"},
    {"http://a.com/a/.", NULL, "http://a.com/a/"},
    {"http://a.com/a/.%2E", NULL, "http://a.com/"},
    {"http://a.com/a/%2e", NULL, "http://a.com/a/"},
    {"http://a.com/a/..?q", NULL, "http://a.com/?q"},
    {"http://a.com/a/.#f", NULL, "http://a.com/a/#f"},
    {"http://a.com/.../", NULL, "http://a.com/.../"},
    {"http://a.com/..a/a..", NULL, "http://a.com/..a/a.."},
    {"http://a.com/%2e%2e%2e", NULL, "http://a.com/%2e%2e%2e"},
    {"http://a.com/a\\..\\b", NULL, "http://a.com/b"},
    {"http://a.com//x//", NULL, "http://a.com//x//"},
    {"http://a.com/a b\"<>`{}^|", NULL, "http://a.com/a%20b%22%3C%3E%60%7B%7D%5E|"},
    {"http://a.com/!$&'()*+,;=:@[]~", NULL, "http://a.com/!$&'()*+,;=:@[]~"},
    {"http://a.com/\xc3\xa9", NULL, "http://a.com/%C3%A9"},
    {"http://a.com/\xe2\x82\xac", NULL, "http://a.com/%E2%82%AC"},
    {"http://a.com/\xf0\x9f\x98\x80", NULL, "http://a.com/%F0%9F%98%80"},
    {"http://a.com/\xff", NULL, "http://a.com/%EF%BF%BD"},
    {"http://a.com/\xed\xa0\x80", NULL, "http://a.com/%EF%BF%BD"},
    {"http://a.com/\xc3", NULL, "http://a.com/%EF%BF%BD"},
    {"http://a.com/%zz%", NULL, "http://a.com/%zz%"},
    {"http://a.com/%41", NULL, "http://a.com/%41"},
    {"http://a.com/\x7f", NULL, "http://a.com/%7F"},
    {"http://a.com/\x01x", NULL, "http://a.com/%01x"},
    {"http://a.com/%3F?a", NULL, "http://a.com/%3F?a"},
    {"http://a.com", NULL, "http://a.com/"},
    {"http://a.com?q", NULL, "http://a.com/?q"},
    {"http://a.com#f", NULL, "http://a.com/#f"},
    {"sc://a.com", NULL, "sc://a.com"},
    {"sc://a.com?q", NULL, "sc://a.com?q"},
    {"sc://a.com#f", NULL, "sc://a.com#f"},
    {"sc:/p/../q", NULL, "sc:/q"},
    {"sc:/.//p", NULL, "sc:/.//p"},
    {"sc:/..//p", NULL, "sc:/.//p"},
    {"sc:/a/..//p", NULL, "sc:/.//p"},
    {"sc://h//p", NULL, "sc://h//p"},
    {"sc:///p", NULL, "sc:///p"},
    {"sc://", NULL, "sc://"},
    {"sc://h\\p", NULL, NULL},
    {"sc:/a\\b", NULL, "sc:/a\\b"},
    {"sc:/a b", NULL, "sc:/a%20b"},
    /* query and fragment encode sets */
    {"http://a.com/?a b'\"<>#f g`", NULL, "http://a.com/?a%20b%27%22%3C%3E#f%20g%60"},
    {"sc://a.com/?a'b", NULL, "sc://a.com/?a'b"},
    {"sc:x?a'b c", NULL, "sc:x?a'b%20c"},
    {"http://a.com/?`{}|^", NULL, "http://a.com/?`{}|^"},
    {"http://a.com/#{}|^<", NULL, "http://a.com/#{}|^%3C"},
    {"http://a.com/?\xc3\xa9", NULL, "http://a.com/?%C3%A9"},
    {"http://a.com/#\xc3\xa9", NULL, "http://a.com/#%C3%A9"},
    {"http://a.com/?", NULL, "http://a.com/?"},
    {"http://a.com/#", NULL, "http://a.com/#"},
    {"http://a.com/?#", NULL, "http://a.com/?#"},
    {"http://a.com/p?q=1&r=2#frag#x", NULL, "http://a.com/p?q=1&r=2#frag#x"},
    {"http://a.com/??", NULL, "http://a.com/??"},
    {"http://a.com/#?#", NULL, "http://a.com/#?#"},
    {"http://a.com/?a\x01" "b", NULL, "http://a.com/?a%01b"},
    {"http://a.com/#\x7f", NULL, "http://a.com/#%7F"},
    {"http://a.com/?%zz", NULL, "http://a.com/?%zz"},
    /* opaque paths */
    {"mailto:user@example.com", NULL, "mailto:user@example.com"},
    {"MAILTO:x", NULL, "mailto:x"},
    {"data:text/plain,hello world", NULL, "data:text/plain,hello world"},
    {"data:,a\"<>`b", NULL, "data:,a\"<>`b"},
    {"javascript:alert(1)", NULL, "javascript:alert(1)"},
    {"sc:\\x", NULL, "sc:\\x"},
    {"urn:isbn:0451450523", NULL, "urn:isbn:0451450523"},
    {"sc:\xc3\xa9", NULL, "sc:%C3%A9"},
    {"sc:a\x01" "b", NULL, "sc:a%01b"},
    {"data:x  ", NULL, "data:x"},
    {"data:x  ?q", NULL, "data:x  ?q"},
    {"data:x  #f", NULL, "data:x  #f"},
    {"about:blank", NULL, "about:blank"},
    {"blob:https://a.com/uuid", NULL, "blob:https://a.com/uuid"},
    /* opaque hosts */
    {"sc://host/path", NULL, "sc://host/path"},
    {"sc://HOST/p", NULL, "sc://HOST/p"},
    {"sc://h%41st/", NULL, "sc://h%41st/"},
    {"sc://h\xc3\xa9/", NULL, "sc://h%C3%A9/"},
    {"sc://a b/", NULL, NULL},
    {"sc://a<b/", NULL, NULL},
    {"sc://a>b/", NULL, NULL},
    {"sc://a^b/", NULL, NULL},
    {"sc://a|b/", NULL, NULL},
    {"sc://a[b/", NULL, NULL},
    {"sc://a]b/", NULL, NULL},
    {"sc://a%b/", NULL, "sc://a%b/"},
    {"sc://a\x7f" "b/", NULL, "sc://a%7Fb/"},
    {"sc://a\x01" "b/", NULL, "sc://a%01b/"},
    {"sc://a.1/", NULL, "sc://a.1/"},
    {"sc://1.2.3/", NULL, "sc://1.2.3/"},
    {"sc://[::1]/", NULL, "sc://[::1]/"},
    {"sc://[::1/", NULL, NULL},
    {"sc://[x]/", NULL, NULL},
    {"sc://!$&'()*+,;=/", NULL, "sc://!$&'()*+,;=/"},
    /* IPv4 */
    {"http://1.2.3.4/", NULL, "http://1.2.3.4/"},
    {"http://0x7f.1/", NULL, "http://127.0.0.1/"},
    {"http://0X7F.1/", NULL, "http://127.0.0.1/"},
    {"http://0x7F000001/", NULL, "http://127.0.0.1/"},
    {"http://2130706433/", NULL, "http://127.0.0.1/"},
    {"http://017700000001/", NULL, "http://127.0.0.1/"},
    {"http://0177.0.0.1/", NULL, "http://127.0.0.1/"},
    {"http://127.1/", NULL, "http://127.0.0.1/"},
    {"http://127.0.1/", NULL, "http://127.0.0.1/"},
    {"http://1.2.3.4./", NULL, "http://1.2.3.4/"},
    {"http://1.2.3.4../", NULL, "http://1.2.3.4../"},
    {"http://256.0.0.1/", NULL, NULL},
    {"http://1.2.3.256/", NULL, NULL},
    {"http://1.2.65535/", NULL, "http://1.2.255.255/"},
    {"http://1.2.65536/", NULL, NULL},
    {"http://1.16777215/", NULL, "http://1.255.255.255/"},
    {"http://1.16777216/", NULL, NULL},
    {"http://4294967295/", NULL, "http://255.255.255.255/"},
    {"http://4294967296/", NULL, NULL},
    {"http://999999999999999999999/", NULL, NULL},
    {"http://1.2.3.4.5/", NULL, NULL},
    {"http://1.2.3.4.5./", NULL, NULL},
    {"http://0x/", NULL, "http://0.0.0.0/"},
    {"http://0x.0x.0/", NULL, "http://0.0.0.0/"},
    {"http://0xg/", NULL, "http://0xg/"},
    {"http://09/", NULL, NULL},
    {"http://08.1/", NULL, NULL},
    {"http://a.1/", NULL, NULL},
    {"http://a.0x1/", NULL, NULL},
    {"http://1.a/", NULL, "http://1.a/"},
    {"http://example.123/", NULL, NULL},
    {"http://00000000000000000000001/", NULL, "http://0.0.0.1/"},
    {"http://0x00000000000000000001/", NULL, "http://0.0.0.1/"},
    {"http://%31.%32.%33.%34/", NULL, "http://1.2.3.4/"},
    {"http://1.2.3.0x10/", NULL, "http://1.2.3.16/"},
    {"http://0.0.0.0/", NULL, "http://0.0.0.0/"},
    {"http://1.2.3.09/", NULL, NULL},
    {"http://1..2/", NULL, NULL},
    {"http://.1/", NULL, NULL},
    {"http://1.2.3.4.example/", NULL, "http://1.2.3.4.example/"},
    {"http://\xef\xbc\x91.2.3.4/", NULL, "http://1.2.3.4/"},
    {"file://1.2.3/", NULL, "file://1.2.0.3/"},
    /* IPv6 */
    {"http://[::1]/", NULL, "http://[::1]/"},
    {"http://[0:0:0:0:0:0:0:1]/", NULL, "http://[::1]/"},
    {"http://[1:0:0:2:0:0:0:3]/", NULL, "http://[1:0:0:2::3]/"},
    {"http://[1:0:0:0:2:0:0:3]/", NULL, "http://[1::2:0:0:3]/"},
    {"http://[1:0:0:2:0:0:3:4]/", NULL, "http://[1::2:0:0:3:4]/"},
    {"http://[1:2:3:4:5:6:7:8]/", NULL, "http://[1:2:3:4:5:6:7:8]/"},
    {"http://[1:0:3:4:5:6:7:8]/", NULL, "http://[1:0:3:4:5:6:7:8]/"},
    {"http://[::]/", NULL, "http://[::]/"},
    {"http://[0:0:0:0:0:0:0:0]/", NULL, "http://[::]/"},
    {"http://[ABCD::EF]/", NULL, "http://[abcd::ef]/"},
    {"http://[0001:0002::]/", NULL, "http://[1:2::]/"},
    {"http://[1:0::]/", NULL, "http://[1::]/"},
    {"http://[1:2::3:4]/", NULL, "http://[1:2::3:4]/"},
    {"http://[::ffff:1.2.3.4]/", NULL, "http://[::ffff:102:304]/"},
    {"http://[::1.2.3.4]/", NULL, "http://[::102:304]/"},
    {"http://[::127.0.0.1]/", NULL, "http://[::7f00:1]/"},
    {"http://[1:2:3:4:5:6:1.2.3.4]/", NULL, "http://[1:2:3:4:5:6:102:304]/"},
    {"http://[1:2:3:4:5:6:7:1.2.3.4]/", NULL, NULL},
    {"http://[::1.2.3]/", NULL, NULL},
    {"http://[::1.2.3.4.5]/", NULL, NULL},
    {"http://[::01.2.3.4]/", NULL, NULL},
    {"http://[::1.2.3.256]/", NULL, NULL},
    {"http://[::1.2..3]/", NULL, NULL},
    {"http://[::.1.2.3]/", NULL, NULL},
    {"http://[:1]/", NULL, NULL},
    {"http://[1:]/", NULL, NULL},
    {"http://[1::2::3]/", NULL, NULL},
    {"http://[1:2:3:4:5:6:7:8:9]/", NULL, NULL},
    {"http://[1:2:3:4:5:6:7::]/", NULL, "http://[1:2:3:4:5:6:7:0]/"},
    {"http://[1:2:3:4:5:6:7]/", NULL, NULL},
    {"http://[12345::]/", NULL, NULL},
    {"http://[g::]/", NULL, NULL},
    {"http://[]/", NULL, NULL},
    {"http://[/", NULL, NULL},
    {"http://[::1/", NULL, NULL},
    {"http://[::1]:8080/", NULL, "http://[::1]:8080/"},
    {"http://[::1]x/", NULL, NULL},
    {"http://[1::]:80/", NULL, "http://[1::]/"},
    {"http://[::%31]/", NULL, NULL},
    {"http://[::1]]/", NULL, NULL},
    /* domains: lowercasing, percent-decoding, forbidden code points */
    {"http://ExAmPlE.CoM/", NULL, "http://example.com/"},
    {"http://a%2Eb.com/", NULL, "http://a.b.com/"},
    {"http://%41.com/", NULL, "http://a.com/"},
    {"http://a%20b/", NULL, NULL},
    {"http://a%25b/", NULL, NULL},
    {"http://a%/", NULL, NULL},
    {"http://a b/", NULL, NULL},
    {"http://a<b/", NULL, NULL},
    {"http://a>b/", NULL, NULL},
    {"http://a^b/", NULL, NULL},
    {"http://a|b/", NULL, NULL},
    {"http://a%00b/", NULL, NULL},
    {"http://a%7Fb/", NULL, NULL},
    {"http://a\x7f" "b/", NULL, NULL},
    {"http://a%1Fb/", NULL, NULL},
    {"http://a%2Fb/", NULL, NULL},
    {"http://a%3Ab/", NULL, NULL},
    {"http://a!$&'()*+,;=b/", NULL, "http://a!$&'()*+,;=b/"},
    {"http://a.com./", NULL, "http://a.com./"},
    {"http://a..com/", NULL, "http://a..com/"},
    {"http://.../", NULL, "http://.../"},
    {"http://-a-.com/", NULL, "http://-a-.com/"},
    {"http://a_b.com/", NULL, "http://a_b.com/"},
    {"http://a~b/", NULL, "http://a~b/"},
    /* IDNA: Punycode for non-ASCII labels, xn-- labels checked */
    {"http://m\xc3\xbcnchen.de/", NULL, "http://xn--mnchen-3ya.de/"},
    {"http://M\xc3\x9cNCHEN.de/", NULL, "http://xn--mnchen-3ya.de/"},
    {"http://b\xc3\xbc" "cher.example/", NULL, "http://xn--bcher-kva.example/"},
    {"http://xn--bcher-kva.example/", NULL, "http://xn--bcher-kva.example/"},
    {"http://XN--BCHER-KVA.example/", NULL, "http://xn--bcher-kva.example/"},
    {"http://\xc3\xbc.de/", NULL, "http://xn--tda.de/"},
    {"http://%C3%BC.de/", NULL, "http://xn--tda.de/"},
    {"http://\xc3\x9f.de/", NULL, "http://xn--zca.de/"},
    {"http://\xf0\x9f\x92\xa9.la/", NULL, "http://xn--ls8h.la/"},
    {"http://xn--ls8h.la/", NULL, "http://xn--ls8h.la/"},
    {"http://\xef\xbc\xa5\xef\xbc\xb8.com/", NULL, "http://ex.com/"},
    {"http://example\xe3\x80\x82" "com/", NULL, "http://example.com/"},
    {"http://example\xef\xbc\x8e" "com/", NULL, "http://example.com/"},
    {"http://ex\xc2\xad" "ample.com/", NULL, "http://example.com/"},
    {"http://\xc2\xad/", NULL, NULL},
    {"http://\xef\xbf\xbd/", NULL, NULL},
    {"http://a\xff" "b/", NULL, NULL},
    {"http://%ff/", NULL, NULL},
    {"http://%C3/", NULL, NULL},
    {"http://a\xc2\xa0" "b/", NULL, NULL},
    {"http://a\xc2\x85" "b/", NULL, NULL},
    {"http://a\xe2\x80\x8d" "b/", NULL, NULL},
    {"http://\xc3\xbc<.de/", NULL, NULL},
    {"http://xn--/", NULL, NULL},
    {"http://xn--abc-/", NULL, NULL},
    {"http://xn--a/", NULL, NULL},
    {"http://xn--a-.com/", NULL, NULL},
    {"http://xn--zz\xc3\xa9/", NULL, NULL},
    {"http://xn--99999999999999999999/", NULL, NULL},
    {"http://\xc3\xbc.xn--a/", NULL, NULL},
    {"http://\xc3\xbc.xn--tda/", NULL, "http://xn--tda.xn--tda/"},
    {"sc://\xc3\xbc/", NULL, "sc://%C3%BC/"},
    /* file URLs: file, file slash, file host states, drive letters */
    {"file:///C:/x", NULL, "file:///C:/x"},
    {"file:///C|/x", NULL, "file:///C:/x"},
    {"file:C:/x", NULL, "file:///C:/x"},
    {"file:/C|/x/../..", NULL, "file:///C:/"},
    {"file:///C:/../..", NULL, "file:///C:/"},
    {"file:///C:", NULL, "file:///C:"},
    {"file:///C:/", NULL, "file:///C:/"},
    {"file:///ab:/x", NULL, "file:///ab:/x"},
    {"file://localhost/x", NULL, "file:///x"},
    {"file://LOCALHOST/x", NULL, "file:///x"},
    {"file://localhost", NULL, "file:///"},
    {"file://host/x", NULL, "file://host/x"},
    {"file://HOST/x", NULL, "file://host/x"},
    {"file://%41/", NULL, "file://a/"},
    {"file:", NULL, "file:///"},
    {"file:x", NULL, "file:///x"},
    {"file:/x", NULL, "file:///x"},
    {"file://", NULL, "file:///"},
    {"file:///", NULL, "file:///"},
    {"file:////x", NULL, "file:////x"},
    {"file:///a/../../b", NULL, "file:///b"},
    {"file://C:/x", NULL, "file:///C:/x"},
    {"file://C|/x", NULL, "file:///C:/x"},
    {"file://C|", NULL, "file:///C:"},
    {"file:\\\\host\\share", NULL, "file://host/share"},
    {"file:///x?q#f", NULL, "file:///x?q#f"},
    {"file:?q", NULL, "file:///?q"},
    {"file:#f", NULL, "file:///#f"},
    {"FILE:///X", NULL, "file:///X"},
    {"file://[1::1]/", NULL, "file://[1::1]/"},
    {"file://a b/", NULL, NULL},
    {"file://host/C:/x", NULL, "file://host/C:/x"},
    {"file:/.//p", NULL, "file:////p"},
    {"file:///%2e%2e/x", NULL, "file:///x"},
    /* relative references against an http base */
    {"g", "http://a.com/b/c/d;p?q", "http://a.com/b/c/g"},
    {"./g", "http://a.com/b/c/d;p?q", "http://a.com/b/c/g"},
    {"g/", "http://a.com/b/c/d;p?q", "http://a.com/b/c/g/"},
    {"/g", "http://a.com/b/c/d;p?q", "http://a.com/g"},
    {"//g", "http://a.com/b/c/d;p?q", "http://g/"},
    {"?y", "http://a.com/b/c/d;p?q", "http://a.com/b/c/d;p?y"},
    {"g?y", "http://a.com/b/c/d;p?q", "http://a.com/b/c/g?y"},
    {"#s", "http://a.com/b/c/d;p?q", "http://a.com/b/c/d;p?q#s"},
    {"g#s", "http://a.com/b/c/d;p?q", "http://a.com/b/c/g#s"},
    {"g?y#s", "http://a.com/b/c/d;p?q", "http://a.com/b/c/g?y#s"},
    {"", "http://a.com/b/c/d;p?q", "http://a.com/b/c/d;p?q"},
    {"  ", "http://a.com/b/c/d;p?q", "http://a.com/b/c/d;p?q"},
    {".", "http://a.com/b/c/d;p?q", "http://a.com/b/c/"},
    {"./", "http://a.com/b/c/d;p?q", "http://a.com/b/c/"},
    {"..", "http://a.com/b/c/d;p?q", "http://a.com/b/"},
    {"../", "http://a.com/b/c/d;p?q", "http://a.com/b/"},
    {"../g", "http://a.com/b/c/d;p?q", "http://a.com/b/g"},
    {"../..", "http://a.com/b/c/d;p?q", "http://a.com/"},
    {"../../g", "http://a.com/b/c/d;p?q", "http://a.com/g"},
    {"../../../g", "http://a.com/b/c/d;p?q", "http://a.com/g"},
    {"/./g", "http://a.com/b/c/d;p?q", "http://a.com/g"},
    {"/../g", "http://a.com/b/c/d;p?q", "http://a.com/g"},
    {"g.", "http://a.com/b/c/d;p?q", "http://a.com/b/c/g."},
    {".g", "http://a.com/b/c/d;p?q", "http://a.com/b/c/.g"},
    {"g..", "http://a.com/b/c/d;p?q", "http://a.com/b/c/g.."},
    {"..g", "http://a.com/b/c/d;p?q", "http://a.com/b/c/..g"},
    {"./../g", "http://a.com/b/c/d;p?q", "http://a.com/b/g"},
    {"g/./h", "http://a.com/b/c/d;p?q", "http://a.com/b/c/g/h"},
    {"g/../h", "http://a.com/b/c/d;p?q", "http://a.com/b/c/h"},
    {"%2e%2E/g", "http://a.com/b/c/d;p?q", "http://a.com/b/g"},
    {"\\g", "http://a.com/b/c/d;p?q", "http://a.com/g"},
    {"\\\\g", "http://a.com/b/c/d;p?q", "http://g/"},
    {"/\\g", "http://a.com/b/c/d;p?q", "http://g/"},
    {"///g", "http://a.com/b/c/d;p?q", "http://g/"},
    {"http:g", "http://a.com/b/c/d;p?q", "http://a.com/b/c/g"},
    {"http:/g", "http://a.com/b/c/d;p?q", "http://a.com/g"},
    {"http://g", "http://a.com/b/c/d;p?q", "http://g/"},
    {"http:", "http://a.com/b/c/d;p?q", "http://a.com/b/c/d;p?q"},
    {"https:g", "http://a.com/b/c/d;p?q", "https://g/"},
    {"sc:g", "http://a.com/b/c/d;p?q", "sc:g"},
    {"  g  ", "http://a.com/b/c/d;p?q", "http://a.com/b/c/g"},
    {"?", "http://a.com/b/c/d;p?q", "http://a.com/b/c/d;p?"},
    {"#", "http://a.com/b/c/d;p?q", "http://a.com/b/c/d;p?q#"},
    {"//g:81/x", "http://a.com/b/c/d;p?q", "http://g:81/x"},
    {"//user@g", "http://a.com/b/c/d;p?q", "http://user@g/"},
    {"//", "http://a.com/b/c/d;p?q", NULL},
    {"//[::1", "http://a.com/b/c/d;p?q", NULL},
    {"/g", "http://u:p@a.com:8080/b", "http://u:p@a.com:8080/g"},
    {"g", "http://u:p@a.com:8080/b", "http://u:p@a.com:8080/g"},
    {"//h/g", "http://u:p@a.com:8080/b", "http://h/g"},
    {"file:y", "http://a.com/x", "file:///y"},
    {"x", "http://a.com", "http://a.com/x"},
    {"g", "http://a.com/b/c/d;p?q#f", "http://a.com/b/c/g"},
    {"#s", "http://a.com/b#f", "http://a.com/b#s"},
    {"\xc3\xa9", "http://a.com/b/", "http://a.com/b/%C3%A9"},
    {"http://a.com/", "not a url", NULL},
    {"g", "", NULL},
    {"g", "relative", NULL},
    /* relative references against non-special and opaque bases */
    {"c", "sc://h/a/b", "sc://h/a/c"},
    {"../c", "sc://h/a/b", "sc://h/c"},
    {"/c", "sc://h/a/b", "sc://h/c"},
    {"//x/y", "sc://h/a/b", "sc://x/y"},
    {"\\c", "sc://h/a/b", "sc://h/a/\\c"},
    {"?q", "sc://h/a/b", "sc://h/a/b?q"},
    {"#f", "sc://h/a/b", "sc://h/a/b#f"},
    {"c", "sc:/a/b", "sc:/a/c"},
    {"//h", "sc:/a/b", "sc://h"},
    {"sc:c", "sc:/a/b", "sc:c"},
    {"sc:/c", "sc:/a/b", "sc:/c"},
    {"../../..//x", "sc:/a/b", "sc:/.//x"},
    {"y", "mailto:x", NULL},
    {"?q", "mailto:x", NULL},
    {"#f", "mailto:x", "mailto:x#f"},
    {"#f", "mailto:x?q#g", "mailto:x?q#f"},
    {"", "mailto:x", NULL},
    {"http://a/", "mailto:x", "http://a/"},
    {"x", "about:blank", NULL},
    {"x", "data:text/plain,a", NULL},
    /* relative references against file bases */
    {"c", "file:///C:/a/b", "file:///C:/a/c"},
    {"/d", "file:///C:/a/b", "file:///C:/d"},
    {"\\d", "file:///C:/a/b", "file:///C:/d"},
    {"D:/e", "file:///C:/a/b", "d:/e"},
    {"D|/e", "file:///C:/a/b", "file:///D:/e"},
    {"D|", "file:///C:/a/b", "file:///D:"},
    {"/D:/e", "file:///C:/a/b", "file:///D:/e"},
    {"..", "file:///C:/a/b", "file:///C:/"},
    {"../../..", "file:///C:/a/b", "file:///C:/"},
    {"//h/x", "file:///C:/a/b", "file://h/x"},
    {"?q", "file:///C:/a/b", "file:///C:/a/b?q"},
    {"#f", "file:///C:/a/b", "file:///C:/a/b#f"},
    {"", "file:///C:/a/b", "file:///C:/a/b"},
    {"x", "file://host/dir/f", "file://host/dir/x"},
    {"/x", "file://host/dir/f", "file://host/x"},
    {"//", "file://host/dir/f", "file:///"},
    {"///x", "file://host/dir/f", "file:///x"},
    {"file:x", "file:///a/b", "file:///a/x"},
    {"file:/x", "file://h/a/b", "file://h/x"},
    {"file:", "file:///a/b?q#f", "file:///a/b?q"},
    {"http:x", "file:///a", "http://x/"},
};

/* Parses c->input against c->base; returns the href (malloc) or NULL on failure. */
static char *parse_href(const char *input, size_t len, const char *base_s, int *rc_out)
{
    url base, u;
    url_init(&base);
    url_init(&u);
    char *out = NULL;
    err e = {0};
    int rc = 0;
    if (base_s) {
        rc = url_parse(&base, base_s, strlen(base_s), NULL, &e);
        if (rc < 0)
            goto done;
    }
    rc = url_parse(&u, input, len, base_s ? &base : NULL, &e);
    if (rc == 0) {
        buf b;
        buf_init(&b, SIZE_MAX);
        assert_int_equal(url_serialize(&u, &b, NULL), 0);
        out = b.ptr ? b.ptr : strdup("");
    } else
        assert_true(e.msg[0] != '\0');     /* every failure names its reason */
done:
    if (rc_out)
        *rc_out = rc;
    url_fini(&base);
    url_fini(&u);
    return out;
}

static void test_parse_table(void **state)
{
    size_t failures = 0;
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const parse_case *c = &parse_cases[i];
        char *got = parse_href(c->input, strlen(c->input), c->base, NULL);
        bool ok = (!got && !c->want) || (got && c->want && strcmp(got, c->want) == 0);
        if (!ok) {
            print_error("case %zu: '%s' (base '%s'): want '%s', got '%s'\n", i, c->input,
                        c->base ? c->base : "-", c->want ? c->want : "(failure)",
                        got ? got : "(failure)");
            failures++;
        }
        if (got) {
            /* Idempotence: the href parses to itself. */
            char *again = parse_href(got, strlen(got), NULL, NULL);
            if (!again || strcmp(again, got) != 0) {
                print_error("case %zu: href '%s' re-parses to '%s'\n", i, got,
                            again ? again : "(failure)");
                failures++;
            }
            free(again);
        }
        free(got);
    }
    assert_int_equal(failures, 0);
    assert_true(sizeof parse_cases / sizeof parse_cases[0] > 300);
}

static void test_case_insensitive_idna(void **state)
{
    /* Greek and Cyrillic capitals map to their small letters before Punycode. */
    const char *pairs[][2] = {
        {"http://\xce\xa9.gr/", "http://\xcf\x89.gr/"},
        {"http://\xd0\x96.ru/", "http://\xd0\xb6.ru/"},
        {"http://\xc4\x80.x/", "http://\xc4\x81.x/"},
        {"http://\xc5\xb9.x/", "http://\xc5\xba.x/"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char *a = parse_href(pairs[i][0], strlen(pairs[i][0]), NULL, NULL);
        char *b = parse_href(pairs[i][1], strlen(pairs[i][1]), NULL, NULL);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
        assert_memory_equal(a, "http://xn--", 11);
        free(a);
        free(b);
    }
}

static void test_spans(void **state)
{
    url u;
    url_init(&u);
    const char *in = "https://us:pw@Example.com:8443/a/b?x=1#frag";
    assert_int_equal(url_parse(&u, in, strlen(in), NULL, NULL), 0);
    buf b;
    buf_init(&b, 1 << 20);
    url_spans sp;
    assert_int_equal(url_serialize(&u, &b, &sp), 0);
    const char *h = b.ptr;
#define SPAN(a, z, want)                                                  \
    do {                                                                  \
        assert_int_equal((z) - (a), strlen(want));                        \
        assert_memory_equal(h + (a), want, strlen(want));                 \
    } while (0)
    SPAN(0, sp.protocol_end, "https:");
    SPAN(sp.username_start, sp.username_end, "us");
    SPAN(sp.password_start, sp.password_end, "pw");
    SPAN(sp.host_start, sp.host_end, "example.com");
    SPAN(sp.port_start, sp.port_end, "8443");
    SPAN(sp.host_start, sp.port_end, "example.com:8443");
    SPAN(sp.path_start, sp.path_end, "/a/b");
    SPAN(sp.query_start, sp.query_end, "?x=1");
    SPAN(sp.fragment_start, sp.fragment_end, "#frag");
    assert_int_equal(u.port, 8443);
    assert_int_equal(u.scheme_kind, URL_SCHEME_HTTPS);

    /* Empty query and fragment give empty search and hash; "/." is not pathname. */
    in = "sc:/.//p?#";
    assert_int_equal(url_parse(&u, in, strlen(in), NULL, NULL), 0);
    buf_reset(&b);
    assert_int_equal(url_serialize(&u, &b, &sp), 0);
    h = b.ptr;
    assert_string_equal(h, "sc:/.//p?#");
    SPAN(sp.path_start, sp.path_end, "//p");
    SPAN(sp.query_start, sp.query_end, "");
    SPAN(sp.fragment_start, sp.fragment_end, "");
    SPAN(sp.host_start, sp.port_end, "");
    SPAN(sp.username_start, sp.username_end, "");
#undef SPAN
    buf_fini(&b);
    url_fini(&u);
}

typedef struct set_case {
    const char *href;
    url_part part;
    const char *value;
    const char *want;
} set_case;

static const set_case set_cases[] = {
    {"http://a/", URL_PART_PROTOCOL, "https", "https://a/"},
    {"http://a/", URL_PART_PROTOCOL, "HTTPS:", "https://a/"},
    {"http://a/", URL_PART_PROTOCOL, "https:foo", "https://a/"},
    {"http://a/", URL_PART_PROTOCOL, "sc", "http://a/"},
    {"sc://a/", URL_PART_PROTOCOL, "http", "sc://a/"},
    {"sc://a/", URL_PART_PROTOCOL, "other", "other://a/"},
    {"http://a:443/", URL_PART_PROTOCOL, "https", "https://a/"},
    {"https://a:80/", URL_PART_PROTOCOL, "ws", "ws://a/"},
    {"http://u@a/", URL_PART_PROTOCOL, "file", "http://u@a/"},
    {"http://a:8/", URL_PART_PROTOCOL, "file", "http://a:8/"},
    {"http://a/", URL_PART_PROTOCOL, "file", "file://a/"},
    {"file:///x", URL_PART_PROTOCOL, "http", "file:///x"},
    {"file://h/x", URL_PART_PROTOCOL, "http", "http://h/x"},
    {"http://a/", URL_PART_PROTOCOL, "1x", "http://a/"},
    {"http://a/", URL_PART_PROTOCOL, "ht tp", "http://a/"},
    {"http://a/", URL_PART_PROTOCOL, "", "http://a/"},
    {"mailto:x", URL_PART_PROTOCOL, "sc", "sc:x"},
    {"http://a/", URL_PART_PROTOCOL, "h\ttt\nps", "https://a/"},
    {"http://a/", URL_PART_USERNAME, "u", "http://u@a/"},
    {"http://u@a/", URL_PART_USERNAME, "", "http://a/"},
    {"http://u:p@a/", URL_PART_USERNAME, "", "http://:p@a/"},
    {"http://a/", URL_PART_USERNAME, "u:@ /", "http://u%3A%40%20%2F@a/"},
    {"http://a/", URL_PART_USERNAME, "\xc3\xa9", "http://%C3%A9@a/"},
    {"http://a/", URL_PART_USERNAME, "\t", "http://%09@a/"},
    {"file:///x", URL_PART_USERNAME, "u", "file:///x"},
    {"sc:x", URL_PART_USERNAME, "u", "sc:x"},
    {"sc:///x", URL_PART_USERNAME, "u", "sc:///x"},
    {"http://a/", URL_PART_PASSWORD, "p", "http://:p@a/"},
    {"http://u:p@a/", URL_PART_PASSWORD, "", "http://u@a/"},
    {"http://a/", URL_PART_PASSWORD, "p:q", "http://:p%3Aq@a/"},
    {"file://h/x", URL_PART_PASSWORD, "p", "file://h/x"},
    {"http://a/p", URL_PART_HOST, "b.com", "http://b.com/p"},
    {"http://a/p", URL_PART_HOST, "b.com:8080", "http://b.com:8080/p"},
    {"http://a:99/p", URL_PART_HOST, "b.com", "http://b.com:99/p"},
    {"http://a/p", URL_PART_HOST, "b.com:80", "http://b.com/p"},
    {"http://a/p", URL_PART_HOST, "", "http://a/p"},
    {"http://a/p", URL_PART_HOST, "b.com/x", "http://b.com/p"},
    {"http://a/p", URL_PART_HOST, "b.com?x", "http://b.com/p"},
    {"http://a/p", URL_PART_HOST, "b.com#x", "http://b.com/p"},
    {"http://a/p", URL_PART_HOST, "b.com\\x", "http://b.com/p"},
    {"http://a/p", URL_PART_HOST, "b.com:65536", "http://b.com/p"},
    {"http://a:1/p", URL_PART_HOST, "b.com:65536", "http://b.com:1/p"},
    {"http://a/p", URL_PART_HOST, "b.com:8080x", "http://b.com:8080/p"},
    {"http://a/p", URL_PART_HOST, "b c", "http://a/p"},
    {"http://a/p", URL_PART_HOST, "[::1]", "http://[::1]/p"},
    {"http://a/p", URL_PART_HOST, "[::1]:2", "http://[::1]:2/p"},
    {"http://a/p", URL_PART_HOST, ":80", "http://a/p"},
    {"http://a/p", URL_PART_HOST, "B.COM", "http://b.com/p"},
    {"http://a/p", URL_PART_HOST, "0x7f.1", "http://127.0.0.1/p"},
    {"http://a/p", URL_PART_HOST, "m\xc3\xbcnchen.de", "http://xn--mnchen-3ya.de/p"},
    {"http://a/p", URL_PART_HOST, "a.1", "http://a/p"},
    {"sc://a/p", URL_PART_HOST, "", "sc:///p"},
    {"sc://u@a/p", URL_PART_HOST, "", "sc://u@a/p"},
    {"sc://a:1/p", URL_PART_HOST, "", "sc://a:1/p"},
    {"sc://a/p", URL_PART_HOST, "b.com\\x", "sc://a/p"},
    {"sc://a/p", URL_PART_HOST, "B", "sc://B/p"},
    {"mailto:x", URL_PART_HOST, "a", "mailto:x"},
    {"file://a/p", URL_PART_HOST, "b", "file://b/p"},
    {"file://a/p", URL_PART_HOST, "localhost", "file:///p"},
    {"file://a/p", URL_PART_HOST, "", "file:///p"},
    {"file://a/p", URL_PART_HOST, "b:1", "file://a/p"},
    {"http://a:8/p", URL_PART_HOSTNAME, "b.com", "http://b.com:8/p"},
    {"http://a/p", URL_PART_HOSTNAME, "b.com:8080", "http://a/p"},
    {"http://a/p", URL_PART_HOSTNAME, "[::1]:8", "http://a/p"},
    {"http://a/p", URL_PART_HOSTNAME, "[::1]", "http://[::1]/p"},
    {"http://a/p", URL_PART_HOSTNAME, "", "http://a/p"},
    {"http://a/p", URL_PART_HOSTNAME, "b/c", "http://b/p"},
    {"sc://a/p", URL_PART_HOSTNAME, "", "sc:///p"},
    {"mailto:x", URL_PART_HOSTNAME, "a", "mailto:x"},
    {"http://a/", URL_PART_PORT, "8080", "http://a:8080/"},
    {"http://a:8080/", URL_PART_PORT, "", "http://a/"},
    {"http://a/", URL_PART_PORT, "80", "http://a/"},
    {"http://a:8/", URL_PART_PORT, "80", "http://a/"},
    {"http://a/", URL_PART_PORT, "8080stuff", "http://a:8080/"},
    {"http://a:1/", URL_PART_PORT, "stuff", "http://a:1/"},
    {"http://a/", URL_PART_PORT, "65536", "http://a/"},
    {"http://a:1/", URL_PART_PORT, "65536", "http://a:1/"},
    {"http://a:1/", URL_PART_PORT, "65535", "http://a:65535/"},
    {"http://a/", URL_PART_PORT, "0", "http://a:0/"},
    {"http://a/", URL_PART_PORT, "-1", "http://a/"},
    {"http://a/", URL_PART_PORT, "\t8\n1", "http://a:81/"},
    {"http://a/", URL_PART_PORT, "1/2", "http://a:1/"},
    {"file://a/", URL_PART_PORT, "8", "file://a/"},
    {"sc:x", URL_PART_PORT, "8", "sc:x"},
    {"sc://a/", URL_PART_PORT, "8", "sc://a:8/"},
    {"sc:///", URL_PART_PORT, "8", "sc:///"},
    {"http://a/p", URL_PART_PATHNAME, "x/y", "http://a/x/y"},
    {"http://a/p", URL_PART_PATHNAME, "/x y", "http://a/x%20y"},
    {"http://a/p", URL_PART_PATHNAME, "", "http://a/"},
    {"http://a/p", URL_PART_PATHNAME, "a?b#c", "http://a/a%3Fb%23c"},
    {"http://a/p", URL_PART_PATHNAME, "../..", "http://a/"},
    {"http://a/p", URL_PART_PATHNAME, "\\x\\y", "http://a/x/y"},
    {"http://a/p", URL_PART_PATHNAME, "%2e%2E", "http://a/"},
    {"http://a/p?q#f", URL_PART_PATHNAME, "z", "http://a/z?q#f"},
    {"sc://a/p", URL_PART_PATHNAME, "x", "sc://a/x"},
    {"sc://a/p", URL_PART_PATHNAME, "", "sc://a"},
    {"sc://a/p", URL_PART_PATHNAME, "\\x", "sc://a/\\x"},
    {"sc:/p", URL_PART_PATHNAME, "", "sc:/"},
    {"sc:/p", URL_PART_PATHNAME, "//x", "sc:/.//x"},
    {"mailto:x", URL_PART_PATHNAME, "y", "mailto:x"},
    {"file:///p", URL_PART_PATHNAME, "C|/x", "file:///C:/x"},
    {"http://a/p", URL_PART_SEARCH, "q=1", "http://a/p?q=1"},
    {"http://a/p", URL_PART_SEARCH, "?q=1", "http://a/p?q=1"},
    {"http://a/p", URL_PART_SEARCH, "??q", "http://a/p??q"},
    {"http://a/p?x", URL_PART_SEARCH, "", "http://a/p"},
    {"http://a/p", URL_PART_SEARCH, "?", "http://a/p?"},
    {"http://a/p", URL_PART_SEARCH, "a b#c'", "http://a/p?a%20b%23c%27"},
    {"sc://a/p", URL_PART_SEARCH, "'#", "sc://a/p?'%23"},
    {"http://a/p#f", URL_PART_SEARCH, "q", "http://a/p?q#f"},
    {"data:x  ?q", URL_PART_SEARCH, "", "data:x"},
    {"data:x  ?q#f", URL_PART_SEARCH, "", "data:x  #f"},
    {"mailto:x", URL_PART_SEARCH, "q", "mailto:x?q"},
    {"http://a/p", URL_PART_HASH, "f", "http://a/p#f"},
    {"http://a/p", URL_PART_HASH, "#f", "http://a/p#f"},
    {"http://a/p#f", URL_PART_HASH, "", "http://a/p"},
    {"http://a/p", URL_PART_HASH, "#", "http://a/p#"},
    {"http://a/p", URL_PART_HASH, "a b`#", "http://a/p#a%20b%60#"},
    {"http://a/p?q", URL_PART_HASH, "\xc3\xa9", "http://a/p?q#%C3%A9"},
    {"data:x  #f", URL_PART_HASH, "", "data:x"},
    {"mailto:x", URL_PART_HASH, "f", "mailto:x#f"},
};

static void test_setters(void **state)
{
    size_t failures = 0;
    for (size_t i = 0; i < sizeof set_cases / sizeof set_cases[0]; i++) {
        const set_case *c = &set_cases[i];
        url u;
        url_init(&u);
        assert_int_equal(url_parse(&u, c->href, strlen(c->href), NULL, NULL), 0);
        assert_int_equal(url_set(&u, c->part, c->value, strlen(c->value)), 0);
        buf b;
        buf_init(&b, 1 << 20);
        assert_int_equal(url_serialize(&u, &b, NULL), 0);
        if (strcmp(b.ptr, c->want) != 0) {
            print_error("setter case %zu: '%s' part %d = '%s': want '%s', got '%s'\n", i,
                        c->href, c->part, c->value, c->want, b.ptr);
            failures++;
        }
        buf_fini(&b);
        url_fini(&u);
    }
    assert_int_equal(failures, 0);
}

static void test_set_bad_part(void **state)
{
    url u;
    url_init(&u);
    assert_int_equal(url_parse(&u, "http://a/", 9, NULL, NULL), 0);
    assert_int_equal(url_set(&u, URL_PART_COUNT, "x", 1), DUR_EINVAL);
    url_fini(&u);
}

static void test_errors_name_reason(void **state)
{
    struct { const char *in; const char *base; const char *msg; } c[] = {
        {"x", NULL, "without a base"},
        {"http://[::1", NULL, "IPv6"},
        {"http://a:99999/", NULL, "port"},
        {"http://a b/", NULL, "forbidden"},
        {"http://1.2.3.4.5/", NULL, "IPv4"},
        {"x", "mailto:a", "opaque"},
        {"http://u@/", NULL, "host"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        url base, u;
        url_init(&base);
        url_init(&u);
        if (c[i].base)
            assert_int_equal(url_parse(&base, c[i].base, strlen(c[i].base), NULL, NULL), 0);
        err e = {0};
        assert_int_equal(url_parse(&u, c[i].in, strlen(c[i].in), c[i].base ? &base : NULL, &e),
                         DUR_EPARSE);
        if (!strstr(e.msg, c[i].msg))
            fail_msg("'%s': message '%s' lacks '%s'", c[i].in, e.msg, c[i].msg);
        url_fini(&base);
        url_fini(&u);
    }
}

static void test_limits(void **state)
{
    /* At the limit: parses. One above: DUR_ETOOBIG, no truncation. */
    size_t n = URL_INPUT_BYTES_MAX;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memcpy(big, "http://a/", 9);
    memset(big + 9, 'x', n + 1 - 9);
    url u;
    url_init(&u);
    err e = {0};
    assert_int_equal(url_parse(&u, big, n, NULL, &e), 0);
    assert_int_equal(u.path.len, n - 8);
    assert_int_equal(url_parse(&u, big, n - 1, NULL, &e), 0);
    assert_int_equal(u.path.len, n - 9);
    assert_int_equal(url_parse(&u, big, n + 1, NULL, &e), DUR_ETOOBIG);
    assert_non_null(strstr(e.msg, "longer"));
    /* Percent-encoding triples a path: still within the component limit. */
    memset(big + 9, ' ', n / 8);
    assert_int_equal(url_parse(&u, big, n, NULL, &e), 0);
    assert_int_equal(u.path.len, 1 + 3 * (n / 8) + (n - 9 - n / 8));
    /* Setters are bounded too. */
    assert_int_equal(url_set(&u, URL_PART_HASH, big, n + 1), DUR_ETOOBIG);
    free(big);
    url_fini(&u);
}

/* "http://" + a non-ASCII domain of exactly `bytes` bytes (labels of 60 bytes,
 * the first label starting with U+00E9) + "/". */
static char *idna_domain_url(size_t bytes, size_t *len)
{
    char *s = malloc(bytes + 16);
    assert_non_null(s);
    memcpy(s, "http://\xc3\xa9", 9);
    size_t n = 9;
    while (n < 7 + bytes) {
        s[n] = (n - 7) % 61 == 60 ? '.' : 'a';
        n++;
    }
    if (s[n - 1] == '.')
        s[n - 1] = 'a';
    s[n++] = '/';
    *len = n;
    return s;
}

static void test_idna_limits(void **state)
{
    size_t len;
    int rc;
    char *s = idna_domain_url(URL_IDNA_DOMAIN_BYTES_MAX, &len);
    char *h = parse_href(s, len, NULL, &rc);
    assert_non_null(h);
    assert_memory_equal(h, "http://xn--", 11);
    free(h);
    free(s);
    s = idna_domain_url(URL_IDNA_DOMAIN_BYTES_MAX + 1, &len);
    assert_null(parse_href(s, len, NULL, &rc));
    assert_int_equal(rc, DUR_EPARSE);
    free(s);
    /* A non-ASCII label of 255 code points is encoded; 256 is refused. */
    char label[7 + 2 * 256 + 2];
    memcpy(label, "http://", 7);
    for (size_t cps = 255; cps <= 256; cps++) {
        for (size_t i = 0; i < cps; i++)
            memcpy(label + 7 + 2 * i, "\xc3\xa9", 2);
        label[7 + 2 * cps] = '/';
        h = parse_href(label, 7 + 2 * cps + 1, NULL, &rc);
        if (cps == 255) {
            assert_non_null(h);
            free(h);
        } else {
            assert_null(h);
            assert_int_equal(rc, DUR_EPARSE);
        }
    }
    /* ASCII domains have no such limit. */
    s = malloc(100000 + 9);
    assert_non_null(s);
    memcpy(s, "http://", 7);
    memset(s + 7, 'a', 100000);
    s[7 + 100000] = '/';
    h = parse_href(s, 7 + 100000 + 1, NULL, &rc);
    assert_non_null(h);
    free(h);
    free(s);
}

static void test_embedded_nul(void **state)
{
    int rc;
    char *h = parse_href("http://a/\0b", 11, NULL, &rc);
    assert_non_null(h);
    assert_string_equal(h, "http://a/%00b");
    free(h);
    h = parse_href("http://a\0b/", 11, NULL, &rc);
    assert_null(h);
    assert_int_equal(rc, DUR_EPARSE);
    h = parse_href("sc://a\0b/", 9, NULL, &rc);
    assert_null(h);
}

typedef struct pairs {
    char text[512];
    size_t len;
} pairs;

static int collect(const char *n, size_t nl, const char *v, size_t vl, void *ud)
{
    pairs *p = ud;
    int k = snprintf(p->text + p->len, sizeof p->text - p->len, "[%.*s|%.*s]", (int)nl, n,
                     (int)vl, v);
    assert_true(k > 0 && (size_t)k < sizeof p->text - p->len);
    p->len += (size_t)k;
    return 0;
}

static int stop_at_first(const char *n, size_t nl, const char *v, size_t vl, void *ud)
{
    (*(int *)ud)++;
    return -42;
}

static void expect_form(const char *in, const char *want)
{
    pairs p = {.len = 0};
    p.text[0] = '\0';
    assert_int_equal(url_form_parse(in, strlen(in), collect, &p), 0);
    assert_string_equal(p.text, want);
}

static void test_form_parse(void **state)
{
    expect_form("a=1&b=2&&c&=d&e=", "[a|1][b|2][c|][|d][e|]");
    expect_form("", "");
    expect_form("&&&", "");
    expect_form("=", "[|]");
    expect_form("a=b=c", "[a|b=c]");
    expect_form("a+b=c+d", "[a b|c d]");
    expect_form("%2B=%20", "[+| ]");
    expect_form("%zz=%", "[%zz|%]");
    expect_form("%4=%4g", "[%4|%4g]");
    expect_form("%C3%A9=%c3%a9", "[\xc3\xa9|\xc3\xa9]");
    expect_form("x=%FF", "[x|\xef\xbf\xbd]");
    expect_form("x=%ED%A0%80", "[x|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd]");
    expect_form("x=%F0%9F%98", "[x|\xef\xbf\xbd]");
    expect_form("%41%42=%43", "[AB|C]");
    int calls = 0;
    assert_int_equal(url_form_parse("a=1&b=2", 7, stop_at_first, &calls), -42);
    assert_int_equal(calls, 1);
}

static void expect_enc(const char *in, size_t n, const char *want)
{
    buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(url_form_encode(in, n, &b), 0);
    assert_string_equal(b.ptr ? b.ptr : "", want);
    buf_fini(&b);
}

static void test_form_encode(void **state)
{
    expect_enc("a b", 3, "a+b");
    expect_enc("azAZ09*-._", 10, "azAZ09*-._");
    expect_enc("~!'()", 5, "%7E%21%27%28%29");
    expect_enc("+&=%#?/:", 8, "%2B%26%3D%25%23%3F%2F%3A");
    expect_enc("\xc3\xa9", 2, "%C3%A9");
    expect_enc("\xed\xa0\x80", 3, "%EF%BF%BD");
    expect_enc("\xff", 1, "%EF%BF%BD");
    expect_enc("\0\n", 2, "%00%0A");
    expect_enc("", 0, "");
    buf b;
    buf_init(&b, 2);
    assert_int_equal(url_form_encode("abc", 3, &b), DUR_ETOOBIG);
    buf_fini(&b);
}

static void test_utf8(void **state)
{
    assert_true(url_utf8_valid("abc\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 13));
    assert_false(url_utf8_valid("\xc0\x80", 2));           /* overlong */
    assert_false(url_utf8_valid("\xed\xa0\x80", 3));       /* surrogate */
    assert_false(url_utf8_valid("\xf4\x90\x80\x80", 4));   /* > U+10FFFF */
    assert_false(url_utf8_valid("\xe2\x82", 2));           /* truncated */
    buf b;
    buf_init(&b, 1 << 10);
    assert_int_equal(url_utf8_sanitize("a\xed\xa0\x80z", 5, true, &b), 0);
    assert_string_equal(b.ptr, "a\xef\xbf\xbdz");
    buf_reset(&b);
    assert_int_equal(url_utf8_sanitize("a\xed\xa0\x80z", 5, false, &b), 0);
    assert_string_equal(b.ptr, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
    buf_reset(&b);
    assert_int_equal(url_utf8_sanitize("\xe2\x82z", 3, false, &b), 0);
    assert_string_equal(b.ptr, "\xef\xbf\xbdz");
    buf_fini(&b);
}

/* ---- the JS classes ---- */

typedef struct jsfix {
    JSRuntime *rt;
    JSContext *ctx;
} jsfix;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return s;
}

static int js_setup(void **state)
{
    jsfix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->rt = JS_NewRuntime();
    assert_non_null(f->rt);
    f->ctx = JS_NewContext(f->rt);
    assert_non_null(f->ctx);
    JSValue global = JS_GetGlobalObject(f->ctx);
    JSValue native = JS_NewObject(f->ctx);
    assert_int_equal(web_url_install(f->ctx, native), 0);
    assert_true(JS_SetPropertyStr(f->ctx, global, "__durable", native) >= 0);
    JS_FreeValue(f->ctx, global);
    size_t len;
    char *src = read_file(TEST_SOURCE_DIR "/src/web/js/30_url.js", &len);
    JSValue v = JS_Eval(f->ctx, src, len, "web/js/30_url.js", JS_EVAL_TYPE_GLOBAL);
    free(src);
    if (JS_IsException(v)) {
        JSValue exc = JS_GetException(f->ctx);
        const char *m = JS_ToCString(f->ctx, exc);
        fail_msg("30_url.js: %s", m ? m : "?");
    }
    JS_FreeValue(f->ctx, v);
    *state = f;
    return 0;
}

static int js_teardown(void **state)
{
    jsfix *f = *state;
    JS_FreeContext(f->ctx);
    JS_FreeRuntime(f->rt);
    free(f);
    return 0;
}

/* Evaluates src; the result (or "EXC: Name: message") as a malloc'd string. */
static char *js_eval(jsfix *f, const char *src)
{
    JSValue v = JS_Eval(f->ctx, src, strlen(src), "<test>", JS_EVAL_TYPE_GLOBAL);
    char *out;
    if (JS_IsException(v)) {
        JSValue exc = JS_GetException(f->ctx);
        JSValue name = JS_GetPropertyStr(f->ctx, exc, "name");
        JSValue msg = JS_GetPropertyStr(f->ctx, exc, "message");
        const char *n = JS_ToCString(f->ctx, name), *m = JS_ToCString(f->ctx, msg);
        size_t k = strlen(n ? n : "") + strlen(m ? m : "") + 8;
        out = malloc(k);
        snprintf(out, k, "EXC: %s: %s", n ? n : "", m ? m : "");
        JS_FreeCString(f->ctx, n);
        JS_FreeCString(f->ctx, m);
        JS_FreeValue(f->ctx, name);
        JS_FreeValue(f->ctx, msg);
        JS_FreeValue(f->ctx, exc);
    } else {
        const char *s = JS_ToCString(f->ctx, v);
        out = strdup(s ? s : "(null)");
        JS_FreeCString(f->ctx, s);
    }
    JS_FreeValue(f->ctx, v);
    return out;
}

static void js_expect(jsfix *f, const char *src, const char *want)
{
    char *got = js_eval(f, src);
    if (strcmp(got, want) != 0) {
        print_error("JS: %s\n  want: %s\n  got:  %s\n", src, want, got);
        free(got);
        fail();
    }
    free(got);
}

static void test_js_url_basics(void **state)
{
    jsfix *f = *state;
    js_expect(f, "const u = new URL('HTTPS://us:pw@EXAMPLE.com:8443/a/b?x=1&y=%20#frag');"
                 "[u.href, u.protocol, u.username, u.password, u.host, u.hostname, u.port,"
                 " u.pathname, u.search, u.hash, u.origin].join(' | ')",
              "https://us:pw@example.com:8443/a/b?x=1&y=%20#frag | https: | us | pw | "
              "example.com:8443 | example.com | 8443 | /a/b | ?x=1&y=%20 | #frag | "
              "https://example.com:8443");
    js_expect(f, "String(new URL('/p?q', 'http://h.com/a/b'))", "http://h.com/p?q");
    js_expect(f, "new URL('g', new URL('http://h.com/a/b')).href", "http://h.com/a/g");
    js_expect(f, "JSON.stringify({u: new URL('http://a.com')})", "{\"u\":\"http://a.com/\"}");
    js_expect(f, "Object.prototype.toString.call(new URL('http://a'))", "[object URL]");
    js_expect(f, "new URL('http://a/?').search + '|' + new URL('http://a/#').hash", "|");
    js_expect(f, "new URL('http://a').port + '|' + new URL('http://a:80').port", "|");
    js_expect(f, "new URL('mailto:x@y').pathname", "x@y");
    js_expect(f, "new URL('sc:/.//p').pathname", "//p");
    js_expect(f, "[new URL('blob:https://a.com:1/x').origin, new URL('blob:sc://a/x').origin,"
                 " new URL('file:///x').origin, new URL('sc://a/').origin,"
                 " new URL('ws://a:80/').origin].join()",
              "https://a.com:1,null,null,null,ws://a");
    js_expect(f, "new URL('http://a/\\ud800').pathname", "/%EF%BF%BD");
    js_expect(f, "new URL({toString() { return 'http://o/'; }}).href", "http://o/");
    js_expect(f, "const r = 'http://a.com/p'; new URL(r).href === r", "true");
}

static void test_js_url_errors(void **state)
{
    jsfix *f = *state;
    js_expect(f, "new URL('nope')", "EXC: TypeError: Invalid URL: nope");
    js_expect(f, "new URL('x', 'also nope')", "EXC: TypeError: Invalid URL: x (base: also nope)");
    js_expect(f, "new URL()", "EXC: TypeError: Failed to construct 'URL': 1 argument required, "
                               "but only 0 present.");
    js_expect(f, "try { new URL('bad') } catch (e) { e.code + ' ' + e.input }",
              "ERR_INVALID_URL bad");
    js_expect(f, "new URL(Symbol())", "EXC: TypeError: cannot convert symbol to string");
    js_expect(f, "URL('http://a')", "EXC: TypeError: class constructors must be invoked with 'new'");
    js_expect(f, "try { Object.getOwnPropertyDescriptor(URL.prototype, 'href').get.call({}) }"
                 " catch (e) { e.name }", "TypeError");
    js_expect(f, "const u2 = new URL('http://a/'); let n2;"
                 "try { u2.href = 'nope' } catch (e) { n2 = e.name } n2 + ' ' + u2.href",
              "TypeError http://a/");
    js_expect(f, "new URL('http://a/' + 'x'.repeat(40 * 1024 * 1024))",
              "EXC: RangeError: URL: URL longer than 33554432 bytes");
    js_expect(f, "new URL('http://a/' + 'x'.repeat(1024 * 1024)).pathname.length", "1048577");
}

static void test_js_url_statics(void **state)
{
    jsfix *f = *state;
    js_expect(f, "[URL.canParse('http://a'), URL.canParse('x'), URL.canParse('x', 'http://a/'),"
                 " URL.canParse('x', 'bad')].join()",
              "true,false,true,false");
    js_expect(f, "URL.parse('x')", "null");
    js_expect(f, "URL.parse('x', 'http://h/d/').href", "http://h/d/x");
    js_expect(f, "URL.parse('http://a') instanceof URL", "true");
    js_expect(f, "URL.canParse()", "EXC: TypeError: Failed to execute 'canParse' on 'URL': "
                                   "1 argument required, but only 0 present.");
    js_expect(f, "Object.keys(URL.prototype).includes('href') && "
                 "Object.keys(URLSearchParams.prototype).includes('append')", "true");
}

static void test_js_url_setters(void **state)
{
    jsfix *f = *state;
    js_expect(f, "const s = new URL('http://a.com/p?q#h');"
                 "s.protocol = 'https'; s.username = 'u s'; s.password = 'p';"
                 "s.hostname = 'B.com'; s.port = '8443'; s.pathname = 'x y';"
                 "s.search = 'k=v'; s.hash = 'frag'; s.href",
              "https://u%20s:p@b.com:8443/x%20y?k=v#frag");
    js_expect(f, "const s2 = new URL('http://a.com:99/'); s2.host = 'c.com:100'; s2.host",
              "c.com:100");
    js_expect(f, "const s3 = new URL('http://a.com/'); s3.port = 'x'; s3.protocol = 'sc';"
                 "s3.hostname = ''; s3.href", "http://a.com/");
    js_expect(f, "const s4 = new URL('http://a/'); s4.href = 'sc:x'; s4.protocol + s4.pathname",
              "sc:x");
    js_expect(f, "const s5 = new URL('http://a/'); s5.port = 80; s5.port = 8080; s5.port",
              "8080");
}

static void test_js_search_params_link(void **state)
{
    jsfix *f = *state;
    js_expect(f, "const l = new URL('http://a/?b=2&a=1'); const sp = l.searchParams;"
                 "sp === l.searchParams", "true");
    js_expect(f, "sp.append('c', 'x y'); l.href", "http://a/?b=2&a=1&c=x+y");
    js_expect(f, "sp.sort(); l.search", "?a=1&b=2&c=x+y");
    js_expect(f, "sp.delete('a'); sp.delete('b'); sp.delete('c'); l.href", "http://a/");
    js_expect(f, "l.search = '?z=9'; sp.get('z') + ' ' + sp.size", "9 1");
    js_expect(f, "l.href = 'http://b/?m=1&m=2'; sp.getAll('m').join()", "1,2");
    js_expect(f, "l.search = ''; sp.size + l.href", "0http://b/");
    js_expect(f, "l.hash = 'h'; sp.set('k', '&='); l.href", "http://b/?k=%26%3D#h");
    js_expect(f, "const d = new URL('data:x  ?q'); d.searchParams.delete('q'); d.href", "data:x");
    js_expect(f, "const d2 = new URL('http://a/?x=%zz'); d2.searchParams.get('x')", "%zz");
}

static void test_js_search_params(void **state)
{
    jsfix *f = *state;
    js_expect(f, "new URLSearchParams('?a=1&b=2&a=3').getAll('a').join()", "1,3");
    js_expect(f, "new URLSearchParams('??a=1').toString()", "%3Fa=1");
    js_expect(f, "new URLSearchParams([['x', '1'], ['y', '2']]).toString()", "x=1&y=2");
    js_expect(f, "new URLSearchParams({b: '2', a: 'é'}).toString()", "b=2&a=%C3%A9");
    js_expect(f, "new URLSearchParams(new URLSearchParams('q=1')).get('q')", "1");
    js_expect(f, "new URLSearchParams(new Map([['k', 'v']])).toString()", "k=v");
    js_expect(f, "new URLSearchParams(null).toString()", "null=");
    js_expect(f, "new URLSearchParams().toString() + new URLSearchParams(undefined).size", "0");
    js_expect(f, "new URLSearchParams([['a']])",
              "EXC: TypeError: Failed to construct 'URLSearchParams': Sequence initializer must "
              "only contain pair elements.");
    js_expect(f, "new URLSearchParams([1])",
              "EXC: TypeError: Failed to construct 'URLSearchParams': Each query pair must be an "
              "iterable [name, value] tuple.");
    js_expect(f, "const p = new URLSearchParams('a=1&b=2&a=3');"
                 "[p.has('a'), p.has('a', '3'), p.has('a', '4'), p.has('z'), p.get('z')].join()",
              "true,true,false,false,");
    js_expect(f, "p.delete('a', '1'); p.toString()", "b=2&a=3");
    js_expect(f, "p.set('a', 'x'); p.set('new', 'n'); p.toString()", "b=2&a=x&new=n");
    js_expect(f, "p.append('b', '0'); p.set('b', '9'); p.toString()", "b=9&a=x&new=n");
    js_expect(f, "p.size", "3");
    js_expect(f, "[...p].map(e => e.join(':')).join()", "b:9,a:x,new:n");
    js_expect(f, "[...p.keys()].join() + '|' + [...p.values()].join()", "b,a,new|9,x,n");
    js_expect(f, "const it = p.entries(); Object.prototype.toString.call(it) + it.next().value",
              "[object URLSearchParams Iterator]b,9");
    js_expect(f, "const seen = []; p.forEach(function (v, k, o) { seen.push(k + v + (o === p) +"
                 " this.t); }, {t: '!'}); seen.join()", "b9true!,axtrue!,newntrue!");
    js_expect(f, "p.append()", "EXC: TypeError: Failed to execute 'append' on 'URLSearchParams': "
                               "2 arguments required, but only 0 present.");
    js_expect(f, "p.get()", "EXC: TypeError: Failed to execute 'get' on 'URLSearchParams': "
                            "1 argument required, but only 0 present.");
    js_expect(f, "p.forEach(1)", "EXC: TypeError: Failed to execute 'forEach' on "
                                 "'URLSearchParams': The callback provided as parameter 1 is not "
                                 "a function.");
    /* Encoding: space → '+', the form set escaped, '+' decoded as space. */
    js_expect(f, "new URLSearchParams({q: \"a b+c&d=e~!'()*-._\"}).toString()",
              "q=a+b%2Bc%26d%3De%7E%21%27%28%29*-._");
    js_expect(f, "new URLSearchParams('q=a+b%2Bc').get('q')", "a b+c");
    js_expect(f, "new URLSearchParams({'\\ud800': 'x'}).toString()", "%EF%BF%BD=x");
    js_expect(f, "new URLSearchParams('%ED%A0%80=1').keys().next().value.length", "3");
    /* sort: stable, by UTF-16 code units (U+FFFD sorts after U+1F600's surrogates). */
    js_expect(f, "const s = new URLSearchParams('z=1&a=2&z=0&\\uFFFD=3&\\u{1F600}=4&a=1');"
                 "s.sort(); [...s.keys()].map(k => k.codePointAt(0).toString(16)).join() + '|' +"
                 " s.getAll('z').join() + s.getAll('a').join()",
              "61,61,7a,7a,1f600,fffd|1,02,1");
    /* Iteration is live. */
    js_expect(f, "const lv = new URLSearchParams('a=1'); const out = [];"
                 "for (const [k] of lv) { out.push(k); if (out.length < 3) lv.append('n' + "
                 "out.length, ''); } out.join()", "a,n1,n2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_case_insensitive_idna),
        cmocka_unit_test(test_spans),
        cmocka_unit_test(test_setters),
        cmocka_unit_test(test_set_bad_part),
        cmocka_unit_test(test_errors_name_reason),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_idna_limits),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_form_parse),
        cmocka_unit_test(test_form_encode),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test_setup_teardown(test_js_url_basics, js_setup, js_teardown),
        cmocka_unit_test_setup_teardown(test_js_url_errors, js_setup, js_teardown),
        cmocka_unit_test_setup_teardown(test_js_url_statics, js_setup, js_teardown),
        cmocka_unit_test_setup_teardown(test_js_url_setters, js_setup, js_teardown),
        cmocka_unit_test_setup_teardown(test_js_search_params_link, js_setup, js_teardown),
        cmocka_unit_test_setup_teardown(test_js_search_params, js_setup, js_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
