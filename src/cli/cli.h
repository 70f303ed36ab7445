/* cli: the commands. Each returns the process exit code. */
#pragma once

/* `durable dev [options]`: argv[0] is "dev". */
int cmd_dev(int argc, char **argv);
