/* Error codes and the `err` out-parameter every layer uses.
 * Functions that can fail return 0 or a negative code: a negative errno where one
 * fits, or one of the DUR_E* codes below. Where a person reads the message, the
 * function also fills an `err` (fixed buffer, never allocates, never truncates
 * silently: an over-long message ends in "..."). */
#pragma once
#include <errno.h>
#include <stddef.h>

enum {
    DUR_EPARSE = -10001,   /* malformed input (config, HTTP, URL, bytes) */
    DUR_ETOOBIG = -10002,  /* a bounded buffer or limit refused to grow */
    DUR_ENOMEM = -ENOMEM,
    DUR_EINVAL = -EINVAL,
    DUR_ENOTFOUND = -10003,
    DUR_ETYPE = -10004,    /* a value of the wrong type (config key, JS value) */
    DUR_ECLOSED = -10005,
};

#define ERR_MSG_MAX 512

typedef struct err {
    int code;
    char msg[ERR_MSG_MAX];
} err;

/* Fills *e (if not NULL) with code and a printf-style message; returns code, so
 * callers can `return err_setf(e, DUR_EPARSE, "...")`. */
int err_setf(err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A short static name for a code ("EPARSE", or strerror for errno codes). */
const char *err_name(int code);
