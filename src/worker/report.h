/* report: what happens when a Worker's request finishes — one place for the
 * request's log line, its metrics and its `wrangler tail` event (worker.c calls
 * it wherever it answers). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "net/h1.h"

typedef struct worker_report {
    const char *worker;          /* the script's name */
    const h1_request *req;
    const char *client_ip;       /* the peer's address, or NULL (tail client_ip filters) */
    int status;
    uint64_t start_ns;           /* uv_hrtime() when the request arrived */
    uint64_t cpu_ns;             /* CPU time its event used so far */
    bool log_line;               /* write the request's log line */
    const char *exception;       /* the uncaught error's text ("Name: message\n stack"), or NULL */
    bool exceeded_cpu;
    const buf *logs;             /* the tail's console entries (JSON objects, comma-separated), or NULL */
} worker_report;

void worker_report_request(const worker_report *r);
/* The log line of an uncaught exception (or another failure `what`) of a request. */
void worker_report_error(const char *worker, const h1_request *req, const char *what,
                         const char *text);
/* A console line of a request, kept in *logs (made on first use) for its tail
 * event; only call it when tail_wanted(worker). */
void worker_report_console(buf **logs, int level, const char *text, size_t len);
