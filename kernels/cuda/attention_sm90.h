/* Causal GQA flash-attention prefill on Hopper's warpgroup MMA (sm_90a), head dim 128, bf16: the
 * prefill half of ops_attention.cu's attention op on H100-class GPUs. */
#pragma once

#include <cuda.h>   /* CUtensorMap (types only: the encoder comes through the runtime) */

#include "kernels/cuda/cuda_internal.h"

/* sequences per launch: their K and V tensor maps are kernel parameters */
#define F3_MAX_SEQS 4

struct fa3_maps {
    CUtensorMap q;                  /* the Q buffer: [rows][n_heads * 128], ldq apart */
    CUtensorMap k[F3_MAX_SEQS];     /* each sequence's K cache: [pos + ntok][kvdim] */
    CUtensorMap v[F3_MAX_SEQS];
};

struct fa3_args {
    const __nv_bfloat16 *q;
    size_t ldq;
    __nv_bfloat16 *out;
    size_t ldo;
    int group;          /* query heads per kv head */
    size_t kvdim;       /* n_kv_heads * 128: a cache row */
    float scale_log2;   /* softmax scale x log2(e) */
    int n_qtiles;       /* 128-query tiles of the longest sequence */
    int head_major;     /* set by ljc_fa3_prefill: block x = head (see there) */
};

/* 1 when the current device runs the sm_90a kernel */
int ljc_fa3_ok(void);
/* `pre`: sequences with > 1 new token (their K/V already appended to the caches p0/p1).
 * cudaErrorNotSupported, with nothing launched: the driver made no TMA descriptor for these
 * buffers (alignment); the caller runs the mma.sync kernel instead. */
cudaError_t ljc_fa3_prefill(const ljc_seqs *pre, const fa3_args *a, int n_heads, cudaStream_t st);
