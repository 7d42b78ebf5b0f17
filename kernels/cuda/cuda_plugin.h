/* The CUDA plugin's extras (lj_backend_plugin.extras for "cuda"): the functions of
 * kernels/cuda/cuda_backend.h as a table, so that code outside the plugin (the synthetic GPU
 * benchmark in cli/bench_cuda.c, the engine's NCCL ranks) calls them without linking CUDA. Get it
 * with ljc_api_get below. */
#ifndef LJ_KERNELS_CUDA_PLUGIN_H
#define LJ_KERNELS_CUDA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "kernels/backend.h"
#include "kernels/backend_open.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ljc_timer ljc_timer;   /* kernels/cuda/cuda_backend.h */

typedef struct ljc_api {
    int (*device_info)(lj_backend *b, char *name, size_t namelen, size_t *used, size_t *total);
    int (*fill_random)(lj_backend *b, void *dst, lj_dtype dtype, size_t n, uint64_t seed, float scale, float offset);
    int (*fill_alog)(lj_backend *b, float *dst, size_t n, size_t period);
    void (*set_moe_gemm)(lj_backend *b, int mode);
    int (*timer_start)(lj_backend *b, ljc_timer *t);
    int (*timer_stop)(lj_backend *b, ljc_timer *t, double *ms);
    int (*w8a16_gemm)(lj_backend *b, const lj_tensor *w, size_t E, const int *cnt, const void *x, size_t ldx, void *y,
                      size_t ldy);
    int (*scan_floor)(lj_backend *b, size_t state_steps);
    int (*comm_nccl_group)(int world, lj_backend *const *bes, struct lj_comm **ranks, char *err, size_t errlen);
} ljc_api;

/* The loaded CUDA plugin's table, or NULL with the reason in err (no plugin, or one built from
 * other sources than this program). */
static inline const ljc_api *ljc_api_get(char *err, size_t errlen) {
    const lj_backend_plugin *p = lj_backend_plugin_get("cuda", err, errlen);
    if (!p) return NULL;
    if (p->extras_size != sizeof(ljc_api)) {
        snprintf(err, errlen, "CUDA plugin extras do not match this longjam (rebuild both)");
        return NULL;
    }
    return (const ljc_api *)p->extras;
}

#ifdef __cplusplus
}
#endif

#endif
