/* log: one line per event to stderr, safe from any shard thread (each line is a
 * single write(2)). Colours only when stderr is a terminal and NO_COLOR is unset. */
#pragma once
#include <stdbool.h>

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Called once before shards start. */
void log_setup(log_level min, bool color);
bool log_color(void);
void log_msg(log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
