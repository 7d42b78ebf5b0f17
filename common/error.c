#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lj_errf(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int lj_err_prefix(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return -1;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix), olen = strnlen(err, errlen - 1);
    if (plen + 2 >= errlen) { snprintf(err, errlen, "%s", prefix); return -1; }
    size_t keep = olen;
    if (plen + 2 + keep >= errlen) keep = errlen - plen - 3;
    memmove(err + plen + 2, err, keep);
    memcpy(err, prefix, plen);
    err[plen] = ':';
    err[plen + 1] = ' ';
    err[plen + 2 + keep] = '\0';
    return -1;
}
