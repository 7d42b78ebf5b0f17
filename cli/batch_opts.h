/* Options shared by the batch commands (run, summarize, qa): model, output/resume, sharding,
 * scheduler sizes, progress. */
#ifndef LJ_CLI_BATCH_OPTS_H
#define LJ_CLI_BATCH_OPTS_H

#include "pipelines/pipelines.h"

/* Help text of the shared options (with defaults). */
extern const char *batch_opts_help;

/* Tries to consume argv[*i] (and its value) as a shared option. Returns 1 when consumed, 0 when
 * not a shared option, -1 on a bad value (message printed). */
int batch_opts_parse(pl_common_opts *o, int argc, char **argv, int *i);
void batch_opts_defaults(pl_common_opts *o);
/* Final checks (model given, shard parsed); -1 with a message. */
int batch_opts_check(pl_common_opts *o);

#endif
