/* log: one line per event to stderr, safe from any shard thread (each line is a
 * single write(2)). Two formats: text for people (colours only when stderr is a
 * terminal and NO_COLOR is unset), and JSON, one object per line, for log
 * collectors: {"time", "level", "msg", <fields>}. JSON is the format when stderr
 * is not a terminal; DURABLE_LOG_FORMAT=json|text overrides. A line is at most
 * LOG_LINE_BYTES_MAX bytes: a longer message is cut (inside the JSON string, so
 * the line stays valid JSON) and marked "..." (JSON: also "truncated": true). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;
typedef enum log_format { LOG_TEXT, LOG_JSON } log_format;

#define LOG_LINE_BYTES_MAX 8192u

/* Called once before shards start. Picks the format (see above); JSON turns
 * colours off. */
void log_setup(log_level min, bool color);
bool log_color(void);
log_format log_get_format(void);
bool log_enabled(log_level lvl);
void log_msg(log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A field of a structured line: a string (str, len; len SIZE_MAX = strlen) or,
 * when str is NULL, the number num. */
typedef struct log_field {
    const char *key;
    const char *str;
    size_t len;
    double num;
} log_field;

/* A line with fields: text format prints the message only (it says the same for
 * people); JSON adds the fields after "msg". */
void log_fields(log_level lvl, const log_field *f, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends `s` (len bytes) to out[*at..cap) as JSON string content (no quotes):
 * escapes, invalid UTF-8 as U+FFFD, never splitting a character or an escape
 * (out keeps one byte free). Returns how many bytes of s went in: len if all
 * fit. For log lines and other writers of JSON text. */
size_t log_json_escape(char *out, size_t cap, size_t *at, const char *s, size_t len);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* ANSI colour helpers: return "" when colours are off. */
const char *log_c(const char *ansi);
#define C_RESET log_c("\033[0m")
#define C_DIM log_c("\033[2m")
#define C_RED log_c("\033[31m")
#define C_GREEN log_c("\033[32m")
#define C_YELLOW log_c("\033[33m")
#define C_CYAN log_c("\033[36m")
#define C_BOLD log_c("\033[1m")
