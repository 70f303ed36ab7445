/* log.c: line-at-a-time logging to stderr (see log.h). The two settings are
 * written once before any shard thread starts and only read afterwards. */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static log_level g_min = LOG_INFO;
static bool g_color = false;

void log_setup(log_level min, bool color)
{
    g_min = min;
    g_color = color;
}

bool log_color(void)
{
    return g_color;
}

const char *log_c(const char *ansi)
{
    return g_color ? ansi : "";
}

void log_msg(log_level lvl, const char *fmt, ...)
{
    if (lvl < g_min)
        return;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    static const char *const colors[] = {"\033[2m", "", "\033[33m", "\033[31m"};
    char line[8192];
    size_t n = 0;
    if (lvl != LOG_INFO) {
        int k = snprintf(line, sizeof line, "%s%s%s: ", g_color ? colors[lvl] : "", names[lvl],
                         g_color ? "\033[0m" : "");
        n = k > 0 ? (size_t)k : 0;
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (k < 0)
        k = 0;
    n += (size_t)k;
    if (n > sizeof line - 5) {   /* long line: mark the cut rather than hide it */
        n = sizeof line - 5;
        memcpy(line + n, "...", 3);
        n += 3;
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;   /* nothing sensible to do if stderr is gone */
}
