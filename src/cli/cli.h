/* cli: the commands. Each returns the process exit code. */
#pragma once

/* `durable dev [options]`: argv[0] is "dev". */
int cmd_dev(int argc, char **argv);
/* `durable serve [options]`: the production server (cmd_serve.c). */
int cmd_serve(int argc, char **argv);
/* `durable token create|list|revoke`: API tokens of `durable serve`. */
int cmd_token(int argc, char **argv);
