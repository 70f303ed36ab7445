/* client: the REST API of a `durable serve` as the CLI commands see it (deploy,
 * namespaces, objects): where it is (--server or DURABLE_SERVER), the token
 * (--token or DURABLE_API_TOKEN), the account (--account or DURABLE_ACCOUNT_ID, else
 * asked with GET /accounts), one request through libcurl's easy interface, and
 * the Cloudflare envelope's errors printed as "code: message". */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "config/config.h"

typedef struct cli_api {
    const char *prog;          /* "durable deploy": the prefix of every message */
    char base[1024];           /* "http://host:port/client/v4" */
    const char *token;
    char account[64];
} cli_api;

typedef struct cli_resp {
    long status;               /* HTTP status */
    buf body;                  /* the whole answer */
} cli_resp;

/* Fills a from the options (NULL: the environment); prints what is missing and
 * returns -1 (exit status 2). */
int cli_api_init(cli_api *a, const char *prog, const char *server, const char *token,
                 const char *account);
/* Learns the account id when none was given. 0, or -1 after printing why. */
int cli_api_account(cli_api *a);
/* One request to base + path. body (len bytes, content_type) may be NULL; mime
 * (a curl_mime *) replaces it when not NULL. 0 with r filled (any HTTP status;
 * cli_resp_fini it), or -1 after printing why no answer came. */
int cli_api_call(cli_api *a, const char *method, const char *path, const char *content_type,
                 const void *body, size_t len, void *mime, cli_resp *r);
void cli_resp_fini(cli_resp *r);
/* The answer's envelope as a tree (cfg_value_free it), or NULL after printing the
 * errors it holds (status >= 400, success false, or not JSON). */
cfg_value *cli_resp_json(cli_api *a, const cli_resp *r);
/* The first error code of an error envelope, or 0. */
long cli_resp_code(const cli_resp *r);
/* cli_api_call (no mime) and cli_resp_json in one: the answer's tree (cfg_value_free
 * it), or NULL after printing why there is none. */
cfg_value *cli_api_json(cli_api *a, const char *method, const char *path,
                        const char *content_type, const void *body, size_t len);
/* Reading an answer's tree: member `key` of table t (NULL when t is not a table or
 * has none), that member as a string ("" when it is not one), as a number (0). */
const cfg_value *cli_json_get(const cfg_value *t, const char *key);
const char *cli_json_str(const cfg_value *t, const char *key);
long long cli_json_int(const cfg_value *t, const char *key);
/* Prints v as one line of JSON (--json output). */
void cli_print_json(const cfg_value *v);
/* The arguments getopt left (argv[optind..]) into args: `want` of them, their count;
 * or -1 after printing "unexpected argument" or "expects <expects>". */
int cli_args(const char *prog, int argc, char **argv, const char **args, int want,
             const char *expects);
/* Common options of the API commands, for getopt_long tables. */
#define CLI_API_HELP \
    "      --server URL      the REST API of `durable serve` (default: $DURABLE_SERVER)\n" \
    "      --token TOKEN     an API token (default: $DURABLE_API_TOKEN)\n" \
    "      --account ID      the account id (default: $DURABLE_ACCOUNT_ID, else asked\n" \
    "                        from the server)\n"
