#include "cli/cli_engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int cli_parse_size(const char *opt, const char *val, size_t *out) {
    if (!val) { fprintf(stderr, "longjam: %s needs a value\n", opt); return -1; }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (errno || end == val || *end || val[0] == '-') {
        fprintf(stderr, "longjam: %s: '%s' is not a non-negative integer\n", opt, val);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

int cli_parse_ids(const char *text, int32_t **ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    size_t cap = 0;
    const char *p = text;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX || (*end && *end != ',')) {
            fprintf(stderr, "longjam: --ids: bad token id at '%s' (expected e.g. 1,2,3)\n", p);
            free(*ids);
            *ids = NULL;
            return -1;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            int32_t *ni = realloc(*ids, cap * sizeof *ni);
            if (!ni) { free(*ids); *ids = NULL; return -1; }
            *ids = ni;
        }
        (*ids)[(*n)++] = (int32_t)v;
        p = *end ? end + 1 : end;
    }
    if (!*n) { fprintf(stderr, "longjam: --ids: no token ids\n"); return -1; }
    return 0;
}
