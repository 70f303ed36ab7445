/* curl_dl.h: libcurl, loaded with dlopen on first use instead of linked.
 *
 * Debian's libcurl brings ~30 libraries (gnutls through librtmp, krb5, ldap, ssh2,
 * p11-kit...) whose loading and constructors cost every process ~4.3 MiB of
 * resident memory at start, whether it ever makes a request or not. So the
 * binary does not link it: curl_dl_load() opens it the first time a fetch() or a
 * CLI command needs it, and the curl_* names used after this header resolve to
 * the loaded functions. A file includes this header instead of <curl/curl.h>. */
#ifndef DURABLE_NET_CURL_DL_H
#define DURABLE_NET_CURL_DL_H

#include <curl/curl.h>

#define CURL_DL_FNS(X)                                                                     \
    X(curl_global_init) X(curl_easy_init) X(curl_easy_cleanup) X(curl_easy_setopt)         \
    X(curl_easy_getinfo) X(curl_easy_pause) X(curl_easy_perform) X(curl_easy_strerror)     \
    X(curl_free) X(curl_multi_init) X(curl_multi_cleanup) X(curl_multi_setopt)             \
    X(curl_multi_assign) X(curl_multi_add_handle) X(curl_multi_remove_handle)              \
    X(curl_multi_info_read) X(curl_multi_socket_action) X(curl_slist_append)               \
    X(curl_slist_free_all) X(curl_url) X(curl_url_cleanup) X(curl_url_get) X(curl_url_set) \
    X(curl_mime_init) X(curl_mime_free) X(curl_mime_addpart) X(curl_mime_name)             \
    X(curl_mime_filename) X(curl_mime_data) X(curl_mime_type)

#define CURL_DL_PTR(f) extern __typeof__(f) *p_##f;
CURL_DL_FNS(CURL_DL_PTR)
#undef CURL_DL_PTR

/* Loads libcurl once per process (thread-safe) and runs curl_global_init. NULL
 * when it is loaded, else why not (dlopen's message, or the missing symbol). */
const char *curl_dl_load(void);

#define CURL_DL_SONAME "libcurl.so.4"

/* From here on every curl_* call goes through the loaded pointers (curl.h defines
 * some of these names as type-checking macros; they are replaced). */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_easy_init p_curl_easy_init
#define curl_easy_cleanup p_curl_easy_cleanup
#define curl_easy_setopt p_curl_easy_setopt
#define curl_easy_getinfo p_curl_easy_getinfo
#define curl_easy_pause p_curl_easy_pause
#define curl_easy_perform p_curl_easy_perform
#define curl_easy_strerror p_curl_easy_strerror
#define curl_free p_curl_free
#define curl_multi_init p_curl_multi_init
#define curl_multi_cleanup p_curl_multi_cleanup
#define curl_multi_setopt p_curl_multi_setopt
#define curl_multi_assign p_curl_multi_assign
#define curl_multi_add_handle p_curl_multi_add_handle
#define curl_multi_remove_handle p_curl_multi_remove_handle
#define curl_multi_info_read p_curl_multi_info_read
#define curl_multi_socket_action p_curl_multi_socket_action
#define curl_slist_append p_curl_slist_append
#define curl_slist_free_all p_curl_slist_free_all
#define curl_url p_curl_url
#define curl_url_cleanup p_curl_url_cleanup
#define curl_url_get p_curl_url_get
#define curl_url_set p_curl_url_set
#define curl_mime_init p_curl_mime_init
#define curl_mime_free p_curl_mime_free
#define curl_mime_addpart p_curl_mime_addpart
#define curl_mime_name p_curl_mime_name
#define curl_mime_filename p_curl_mime_filename
#define curl_mime_data p_curl_mime_data
#define curl_mime_type p_curl_mime_type

#endif
