/* Small helpers shared by the engine commands (logits, generate, info, bench model). */
#ifndef LJ_CLI_ENGINE_H
#define LJ_CLI_ENGINE_H

#include <stddef.h>
#include <stdint.h>

/* Parses a non-negative decimal integer option value; prints an error naming opt and returns -1. */
int cli_parse_size(const char *opt, const char *val, size_t *out);
/* Parses "1,2,3" into a malloc'd array (*n entries). Returns -1 with a message on stderr. */
int cli_parse_ids(const char *text, int32_t **ids, size_t *n);

#endif
