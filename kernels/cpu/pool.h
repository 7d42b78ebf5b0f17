/* A small fork-join thread pool for the CPU backend: pool_for splits [0, n) into chunks that the
 * calling thread and the workers take from a shared counter. */
#ifndef LJ_KERNELS_CPU_POOL_H
#define LJ_KERNELS_CPU_POOL_H

#include <stddef.h>

typedef struct cpu_pool cpu_pool;

/* fn handles [begin, end). */
typedef void (*pool_fn)(void *arg, size_t begin, size_t end);

/* threads = total threads including the caller (>= 1). Returns NULL on failure. Caller frees. */
cpu_pool *pool_new(int threads);
void pool_free(cpu_pool *p);
int pool_threads(const cpu_pool *p);
/* Runs fn over [0, n) in chunks of `grain` items (0 = n / threads); returns when all are done. */
void pool_for(cpu_pool *p, size_t n, size_t grain, pool_fn fn, void *arg);

#endif
