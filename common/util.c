#include "common/util.h"

#include "common/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *lj_read_file(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) { lj_errf(err, errlen, "%s: %s", path, strerror(errno)); return NULL; }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) { fclose(f); lj_errf(err, errlen, "%s: out of memory", path); return NULL; }
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            if (ferror(f)) {
                lj_errf(err, errlen, "%s: read error: %s", path, strerror(errno));
                free(buf); fclose(f); return NULL;
            }
            break;
        }
        char *nb = realloc(buf, cap * 2 + 1);
        if (!nb) { free(buf); fclose(f); lj_errf(err, errlen, "%s: out of memory", path); return NULL; }
        buf = nb; cap *= 2;
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

double lj_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int lj_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void *lj_calloc(size_t n, size_t size) { return calloc(n ? n : 1, size ? size : 1); }
