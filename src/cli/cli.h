/* cli: the commands. Each returns the process exit code. */
#pragma once

/* `durable dev [options]`: argv[0] is "dev". */
int cmd_dev(int argc, char **argv);
/* `durable serve [options]`: the production server (cmd_serve.c). */
int cmd_serve(int argc, char **argv);
/* `durable token create|list|revoke`: API tokens of `durable serve`. */
int cmd_token(int argc, char **argv);
/* `durable deploy`: uploads the Worker of ./wrangler.* to a `durable serve`. */
int cmd_deploy(int argc, char **argv);
/* `durable namespaces list`, `durable objects list|export|import` (cmd_objects.c). */
int cmd_namespaces(int argc, char **argv);
int cmd_objects(int argc, char **argv);
/* `durable cluster status|drain NODE` (cmd_cluster.c): a cluster's nodes over the
 * REST API of any node. */
int cmd_cluster(int argc, char **argv);
