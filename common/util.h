/* Small helpers shared by every subsystem: checked arithmetic, whole-file reads, clocks. */
#ifndef LJ_COMMON_UTIL_H
#define LJ_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* a*b into *out; false on size_t overflow (sizes that come from files must use these). */
static inline bool lj_mul_ok(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }
static inline bool lj_add_ok(size_t a, size_t b, size_t *out) { return !__builtin_add_overflow(a, b, out); }

/* Reads a whole file into a NUL-terminated malloc'd buffer (caller frees). *len gets the byte
 * count without the NUL (len may be NULL). Returns NULL and fills err on failure. */
char *lj_read_file(const char *path, size_t *len, char *err, size_t errlen);

/* Monotonic seconds. */
double lj_now(void);

/* Number of online CPUs (at least 1). */
int lj_cpu_count(void);

/* x*malloc that never returns NULL for n > 0 without saying so: returns NULL only when the
 * allocation really failed, so callers must still check. Zeroed. */
void *lj_calloc(size_t n, size_t size);

#endif
