/* cmd_dev.c: `durable dev` — reads the wrangler config, starts the shards on
 * 127.0.0.1:8787, logs one line per request (spec: config.md CFG-1..4). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/cli.h"
#include "storage/storage.h"
#include "cli/server.h"
#include "config/config.h"
#include "web/web.h"
#include "version.h"

static void dev_usage(FILE *f)
{
    fprintf(f,
            "Usage: durable dev [options]\n"
            "\n"
            "Serves the Worker described by wrangler.json, wrangler.jsonc or wrangler.toml\n"
            "in the current folder (the first found), as `wrangler dev` does.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE       configuration file to use instead of looking it up\n"
            "  -e, --env NAME          use the [env.NAME] section of the configuration\n"
            "      --ip ADDR           address to listen on (default 127.0.0.1)\n"
            "  -p, --port N            port to listen on (default 8787; 0 picks a free one)\n"
            "      --persist-to DIR    where objects keep their data (default .durable)\n"
            "      --threads N         shards, 1 to 256 (default: one per core)\n"
            "      --cpu-ms N          CPU-time limit per request in ms (default 30000,\n"
            "                          or limits.cpu_ms of the configuration)\n"
            "      --memory-mb N       memory limit of each shard's JS heap (default 128)\n"
            "      --request-timeout-ms N\n"
            "                          a handler that has not answered by then gets a 500\n"
            "                          (default: the CPU limit plus 30 s)\n"
            "      --max-body-mb N     largest request body accepted, in MiB (1 MiB =\n"
            "                          1,048,576 bytes; default 100); larger: 413\n"
            "      --body-timeout-ms N a request's whole body must arrive within this of\n"
            "                          its head (default 60000), else 408 and the\n"
            "                          connection closes\n"
            "      --header-timeout-ms N\n"
            "                          a client must send a request's head within this\n"
            "                          (default 10000), else 408 and the connection closes\n"
            "      --idle-timeout-ms N an idle Durable Object leaves memory after this\n"
            "                          (default 70000); its storage stays\n"
            "      --cache-mb N        the Cache API's store (<persist-to>/cache.sqlite) keeps\n"
            "                          at most this many MiB, evicting the oldest entries\n"
            "                          (default 1024)\n"
            "      --cache-object-mb N largest response body cache.put stores, in MiB\n"
            "                          (default 64, at most 512); larger: RangeError\n"
            "      --durability MODE   process (default): a commit survives the process\n"
            "                          dying; power: also power loss (fsync per commit)\n"
            "      --log-level LEVEL   debug, info (default), warn or error; below info,\n"
            "                          the per-request lines are not printed\n"
            "  -h, --help              this help\n"
            "  -V, --version           print the version\n");
}

static int parse_uint(const char *opt, const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || !*s || *end || v > max || s[0] == '-') {
        fprintf(stderr, "durable dev: %s expects a whole number between 0 and %lu, got '%s'\n",
                opt, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cmd_dev(int argc, char **argv)
{
    enum { O_IP = 256, O_PERSIST, O_THREADS, O_CPU, O_MEM, O_TIMEOUT, O_BODY, O_LOGLEVEL, O_HEADTO, O_IDLE, O_DURABILITY, O_BODYTO,
           O_CACHE, O_CACHE_OBJ };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"env", required_argument, NULL, 'e'},
        {"ip", required_argument, NULL, O_IP},
        {"port", required_argument, NULL, 'p'},
        {"persist-to", required_argument, NULL, O_PERSIST},
        {"threads", required_argument, NULL, O_THREADS},
        {"cpu-ms", required_argument, NULL, O_CPU},
        {"memory-mb", required_argument, NULL, O_MEM},
        {"request-timeout-ms", required_argument, NULL, O_TIMEOUT},
        {"max-body-mb", required_argument, NULL, O_BODY},
        {"body-timeout-ms", required_argument, NULL, O_BODYTO},
        {"log-level", required_argument, NULL, O_LOGLEVEL},
        {"header-timeout-ms", required_argument, NULL, O_HEADTO},
        {"idle-timeout-ms", required_argument, NULL, O_IDLE},
        {"durability", required_argument, NULL, O_DURABILITY},
        {"cache-mb", required_argument, NULL, O_CACHE},
        {"cache-object-mb", required_argument, NULL, O_CACHE_OBJ},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {0, 0, 0, 0},
    };
    const char *config_path = NULL, *env_name = NULL, *ip = "127.0.0.1";
    const char *persist = ".durable";
    unsigned long port = 8787, threads = 0, cpu_ms = 0, mem_mb = 128, timeout_ms = 0,
                  body_mb = 100, head_ms = H1_HEAD_TIMEOUT_MS_DEFAULT, idle_ms = 70000,
                  body_ms = H1_BODY_TIMEOUT_MS_DEFAULT,
                  cache_mb = WEB_CACHE_TOTAL_BYTES_DEFAULT >> 20,
                  cache_obj_mb = WEB_CACHE_OBJECT_BYTES_DEFAULT >> 20;
    log_level level = LOG_INFO;
    int durability = STORE_DURABILITY_PROCESS;
    int c;
    optind = 1;
    opterr = 0;   /* our own one-line messages below, not getopt's */
    while ((c = getopt_long(argc, argv, ":c:e:p:hvV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'e': env_name = optarg; break;
        case O_IP: ip = optarg; break;
        case 'p': if (parse_uint("--port", optarg, 65535, &port) < 0) return 2; break;
        case O_PERSIST: persist = optarg; break;
        case O_THREADS:
            if (parse_uint("--threads", optarg, 256, &threads) < 0)
                return 2;
            if (threads == 0) {
                fprintf(stderr, "durable dev: --threads expects 1 to 256 shards, got 0 (leave "
                                "it out for one per core)\n");
                return 2;
            }
            break;
        case O_CPU: if (parse_uint("--cpu-ms", optarg, 300000, &cpu_ms) < 0) return 2; break;
        case O_MEM: if (parse_uint("--memory-mb", optarg, 65536, &mem_mb) < 0) return 2; break;
        case O_TIMEOUT:
            if (parse_uint("--request-timeout-ms", optarg, 86400000, &timeout_ms) < 0)
                return 2;
            break;
        case O_BODY: if (parse_uint("--max-body-mb", optarg, 1u << 20, &body_mb) < 0) return 2; break;
        case O_BODYTO:
            if (parse_uint("--body-timeout-ms", optarg, 3600000, &body_ms) < 0 || body_ms == 0)
                return 2;
            break;
        case O_HEADTO:
            if (parse_uint("--header-timeout-ms", optarg, 3600000, &head_ms) < 0 || head_ms == 0)
                return 2;
            break;
        case O_IDLE:
            if (parse_uint("--idle-timeout-ms", optarg, 86400000, &idle_ms) < 0 || idle_ms == 0)
                return 2;
            break;
        case O_CACHE:
            if (parse_uint("--cache-mb", optarg, 1u << 20, &cache_mb) < 0)
                return 2;
            if (cache_mb == 0) {
                fprintf(stderr, "durable dev: --cache-mb expects at least 1\n");
                return 2;
            }
            break;
        case O_CACHE_OBJ:
            if (parse_uint("--cache-object-mb", optarg, WEB_CACHE_OBJECT_BYTES_LIMIT >> 20,
                           &cache_obj_mb) < 0)
                return 2;
            if (cache_obj_mb == 0) {
                fprintf(stderr, "durable dev: --cache-object-mb expects at least 1\n");
                return 2;
            }
            break;
        case O_DURABILITY:
            if (strcmp(optarg, "process") == 0) durability = STORE_DURABILITY_PROCESS;
            else if (strcmp(optarg, "power") == 0) durability = STORE_DURABILITY_POWER;
            else {
                fprintf(stderr, "durable dev: --durability expects process or power, got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_LOGLEVEL:
            if (strcmp(optarg, "debug") == 0) level = LOG_DEBUG;
            else if (strcmp(optarg, "info") == 0) level = LOG_INFO;
            else if (strcmp(optarg, "warn") == 0) level = LOG_WARN;
            else if (strcmp(optarg, "error") == 0) level = LOG_ERROR;
            else {
                fprintf(stderr, "durable dev: --log-level expects debug, info, warn or error, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': dev_usage(stdout); return 0;
        case 'v':
        case 'V': printf("durable %s\n", DURABLE_VERSION); return 0;
        case ':':
            fprintf(stderr, "durable dev: option '%s' needs a value; see `durable dev --help`\n",
                    argv[optind - 1]);
            return 2;
        default: {
            /* A long option (also `--help=x`) is named as typed; a short one by its
             * letter, which may sit in a group such as -xp. */
            const char *arg = argv[optind - 1];
            if (strncmp(arg, "--", 2) == 0 || !optopt)
                fprintf(stderr, "durable dev: unknown option '%s'; see `durable dev --help`\n",
                        arg);
            else
                fprintf(stderr, "durable dev: unknown option '-%c'; see `durable dev --help`\n",
                        optopt);
            return 2;
        }
        }
    }
    if (optind < argc) {
        fprintf(stderr, "durable dev: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (mem_mb < 8) {
        fprintf(stderr, "durable dev: --memory-mb must be at least 8\n");
        return 2;
    }
    bool color = isatty(STDERR_FILENO) && !getenv("NO_COLOR");
    log_setup(level, color);

    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "durable dev: cannot read the current directory: %s\n", strerror(errno));
        return 1;
    }
    config cfg;
    err e = {0};
    if (config_load(cwd, config_path, env_name, &cfg, &e) < 0) {
        fprintf(stderr, "%sdurable dev: %s%s\n", C_RED, e.msg, C_RESET);
        return 1;
    }
    for (size_t i = 0; i < cfg.warnings_count; i++)
        log_warn("%s", cfg.warnings[i]);
    if (config_check_migrations(&cfg, &e) < 0) {
        fprintf(stderr, "%sdurable dev: %s: %s%s\n", C_RED, cfg.path, e.msg, C_RESET);
        config_fini(&cfg);
        return 1;
    }

    server_opts so = {
        .cfg = &cfg,
        .ip = ip,
        .port = (int)port,
        .threads = (int)threads,
        .memory_bytes_max = (size_t)mem_mb * 1024u * 1024u,
        .cpu_ms_max = (uint32_t)(cpu_ms ? cpu_ms : cfg.cpu_ms > 0 ? (unsigned long)cfg.cpu_ms : 30000),
        .wall_ms_max = (uint32_t)timeout_ms,
        .shutdown_grace_ms = 10000,
        .log_requests = level <= LOG_INFO,
        .banner_name = "durable dev",
        .persist_dir = persist,
        .idle_ms = (uint32_t)idle_ms,
        .durability = durability,
        .cache_bytes_max = (size_t)cache_mb << 20,
        .cache_object_bytes_max = (size_t)cache_obj_mb << 20,
    };
    h1_limits_default(&so.limits);
    so.limits.body_bytes_max = (size_t)body_mb * 1024u * 1024u; /* MiB, as --help says */
    so.limits.body_timeout_ms = (uint32_t)body_ms;
    so.limits.head_timeout_ms = (uint32_t)head_ms;
    int rc = server_run(&so, &e);
    if (rc < 0)
        fprintf(stderr, "%sdurable dev: %s%s\n", C_RED, e.msg, C_RESET);
    config_fini(&cfg);
    return rc < 0 ? 1 : 0;
}
