/* err.c: the err out-parameter (see err.h). */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_setf(err *e, int code, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(e->msg, sizeof e->msg, "(unformattable error message)");
    else if ((size_t)n >= sizeof e->msg)
        memcpy(e->msg + sizeof e->msg - 4, "...", 4);   /* mark the cut, never hide it */
    return code;
}

const char *err_name(int code)
{
    switch (code) {
    case DUR_EPARSE: return "EPARSE";
    case DUR_ETOOBIG: return "ETOOBIG";
    case DUR_ENOTFOUND: return "ENOTFOUND";
    case DUR_ETYPE: return "ETYPE";
    case DUR_ECLOSED: return "ECLOSED";
    default: return code < 0 && code > -4096 ? strerror(-code) : "EUNKNOWN";
    }
}
