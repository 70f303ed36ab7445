/* curl_dl.c: loading libcurl on first use (see curl_dl.h). */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <uv.h>

#include "net/curl_dl.h"

/* The pointers, named p_curl_… (curl_dl.h maps the curl_… names onto them). */
#define CURL_DL_DEF(f) __typeof__(p_##f) p_##f;
CURL_DL_FNS(CURL_DL_DEF)
#undef CURL_DL_DEF

static char load_error[256]; /* empty once loaded */

static void load(void)
{
    void *h = dlopen(CURL_DL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(load_error, sizeof load_error, "%s", dlerror());
        return;
    }
    /* dlsym by the real names: the macros of curl_dl.h do not apply to strings. */
#define CURL_DL_LOAD(f)                                                                    \
    if (!(*(void **)&p_##f = dlsym(h, #f))) {                                              \
        snprintf(load_error, sizeof load_error, "%s: no %s", CURL_DL_SONAME, #f);          \
        return;                                                                            \
    }
    CURL_DL_FNS(CURL_DL_LOAD)
#undef CURL_DL_LOAD
    p_curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *curl_dl_load(void)
{
    static uv_once_t once = UV_ONCE_INIT;
    uv_once(&once, load);
    return load_error[0] ? load_error : NULL;
}
