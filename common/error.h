/* Status + message convention used by every library in longjam.
 *
 * A function that can fail returns 0 on success and -1 on failure, and writes a message that names
 * the offending thing (file, tensor, byte offset, line) into a caller-owned buffer `err` of `errlen`
 * bytes. Library code never calls exit(). */
#ifndef LJ_COMMON_ERROR_H
#define LJ_COMMON_ERROR_H

#include <stddef.h>

/* Formats into err (truncating safely; err may be NULL) and returns -1, so that
 * `return lj_errf(err, errlen, "...", ...);` reads as one statement. */
int lj_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefixes an existing message in place: "context: old message". Returns -1. */
int lj_err_prefix(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define LJ_ERRLEN 1024

#endif
