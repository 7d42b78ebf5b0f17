/* Shared by the CUDA backend's .cu files (not a public header): the backend's private state,
 * error macros, bf16 helpers and the per-sequence table passed to kernels by value.
 *
 * Per-sequence arrays (token counts, positions, state pointers) come from the host in each op's
 * params; they travel to the kernels inside a struct passed by value (kernel parameters, < 4 KB),
 * so no op needs a host-to-device copy or a synchronisation for them. Batches of more than
 * LJC_MAX_SEQS sequences are split by the op into several launches. */
#ifndef LJ_KERNELS_CUDA_INTERNAL_H
#define LJ_KERNELS_CUDA_INTERNAL_H

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>

extern "C" {
#include "kernels/backend.h"
}

#define LJC_MAX_SEQS 64

/* Private state behind lj_backend.impl. */
typedef struct ljc_impl {
    int device;
    cudaStream_t stream;
    cublasHandle_t cublas;
    void *scratch;           /* device workspace reused by ops, grown on demand */
    size_t scratch_bytes;
    void *pinned;            /* host staging for MoE group tables and counts */
    size_t pinned_bytes;
    int num_sms;
    int cc_major;            /* compute capability of the device (9: Hopper) */
    int grouped_gemm_ok;     /* 0 once cublasGemmGroupedBatchedEx said "not supported" */
    int moe_gemm_mode;       /* LJC_MOE_AUTO / _GROUPED / _LOOP (env LJC_MOE_GEMM=grouped|loop) */
    int w8a16_force;         /* int8 experts: 0 auto, 1 mma.sync, 2 column, 3 wgmma kernel (env LJC_W8A16=mma|col|wgmma) */
    int scan_mode;           /* LJC_SCAN_AUTO / _SINGLE / _CHUNKED (env LJC_SCAN=single|chunked) */
    int gemv_mode;           /* LJC_GEMV_AUTO / _OFF (env LJC_GEMV=off) */
    struct ljc_ptr_table *tables;   /* device copies of int8 experts' pointer tables, one per MoE layer (ops_moe.cu) */
} ljc_impl;

/* frees ljc_impl.tables (ops_moe.cu) */
void ljc_moe_free_tables(ljc_impl *im);

static inline ljc_impl *ljc_of(lj_backend *b) { return (ljc_impl *)b->impl; }

int ljc_set_err(lj_backend *b, const char *fmt, ...);

#define LJC_CUDA(b, call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) \
    return cudaGetLastError(), ljc_set_err((b), "%s:%d: %s: %s", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); } while (0)
#define LJC_CUBLAS(b, call) do { cublasStatus_t s_ = (call); if (s_ != CUBLAS_STATUS_SUCCESS) \
    return ljc_set_err((b), "%s:%d: %s: cuBLAS status %d", __FILE__, __LINE__, #call, (int)s_); } while (0)
/* After a launch: configuration errors show here; faults inside kernels at the next sync. */
#define LJC_LAUNCHED(b, what) do { cudaError_t e_ = cudaGetLastError(); if (e_ != cudaSuccess) \
    return ljc_set_err((b), "%s: launch failed: %s", (what), cudaGetErrorString(e_)); } while (0)

/* Scratch of at least `bytes` (device memory, contents undefined). Growing frees the old buffer,
 * which waits for queued work: it happens on the first step of a new size, not in steady state. */
int ljc_scratch(lj_backend *b, size_t bytes, void **out);
int ljc_pinned(lj_backend *b, size_t bytes, void **out);

/* Lets kernel `fn` launch with `bytes` of dynamic shared memory on the current device. The
 * attribute is per device (a process-wide "done" flag breaks the second GPU of --gpus N), so it
 * is set once per (kernel, device) and remembered; thread-safe. */
cudaError_t ljc_smem_optin(const void *fn, int bytes);

/* 1 when the current device is compute capability 9.0, whose sm_90a code (wgmma) this build
 * carries; cached per device (GPUs of different kinds may share a process). */
int ljc_device_sm90a(void);

/* Per-sequence table, passed by value. start[s] is the first row of sequence s in the packed
 * activations; ntok, pos as in lj_seq_batch; p0/p1 are the op's per-sequence state pointers. */
typedef struct ljc_seqs {
    int n;
    int max_tok;
    int start[LJC_MAX_SEQS];
    int ntok[LJC_MAX_SEQS];
    int pos[LJC_MAX_SEQS];
    void *p0[LJC_MAX_SEQS];
    void *p1[LJC_MAX_SEQS];
} ljc_seqs;

/* Fills t with sequences [first, first+count) of batch (row offsets relative to the whole batch). */
static inline void ljc_seqs_fill(ljc_seqs *t, const lj_seq_batch *batch, size_t first, size_t count,
                                 void *const *p0, void *const *p1) {
    size_t row = 0;
    for (size_t s = 0; s < first; s++) row += batch->seq_tokens[s];
    t->n = (int)count;
    t->max_tok = 0;
    for (size_t i = 0; i < count; i++) {
        size_t s = first + i;
        t->start[i] = (int)row;
        t->ntok[i] = (int)batch->seq_tokens[s];
        t->pos[i] = (int)batch->seq_pos[s];
        t->p0[i] = p0 ? p0[s] : NULL;
        t->p1[i] = p1 ? p1[s] : NULL;
        if (t->ntok[i] > t->max_tok) t->max_tok = t->ntok[i];
        row += batch->seq_tokens[s];
    }
}

/* Appends sequence i of `from` to t (t->n and t->max_tok kept up to date). */
static inline void ljc_seqs_push(ljc_seqs *t, const ljc_seqs *from, int i) {
    const int j = t->n++;
    t->start[j] = from->start[i];
    t->ntok[j] = from->ntok[i];
    t->pos[j] = from->pos[i];
    t->p0[j] = from->p0[i];
    t->p1[j] = from->p1[i];
    if (t->ntok[j] > t->max_tok) t->max_tok = t->ntok[j];
}

/* Element access for either activation type (bf16 fast path, fp32 precise path). */
__device__ __forceinline__ float ljc_ld(const float *p) { return *p; }
__device__ __forceinline__ float ljc_ld(const __nv_bfloat16 *p) { return __bfloat162float(*p); }
__device__ __forceinline__ void ljc_st(float *p, float v) { *p = v; }
__device__ __forceinline__ void ljc_st(__nv_bfloat16 *p, float v) { *p = __float2bfloat16(v); }
static inline int ljc_f32(const lj_backend *b) { return b->act_dtype == LJ_F32; }

__device__ __forceinline__ float ljc_silu(float v) { return v / (1.0f + __expf(-v)); }

static inline unsigned ljc_blocks(size_t n, unsigned per) { return (unsigned)((n + per - 1) / per); }

/* Op entry points (one file per op family), installed into the table by backend_cuda.cu. */
int ljc_embedding(lj_backend *b, const lj_embedding_params *p);
int ljc_matmul(lj_backend *b, const lj_matmul_params *p);
int ljc_rmsnorm(lj_backend *b, const lj_rmsnorm_params *p);
int ljc_silu_mul(lj_backend *b, const lj_silu_mul_params *p);
int ljc_add(lj_backend *b, const lj_add_params *p);
int ljc_argmax(lj_backend *b, const lj_argmax_params *p);
int ljc_conv1d(lj_backend *b, const lj_conv1d_params *p);
int ljc_scan(lj_backend *b, const lj_scan_params *p);
int ljc_attention(lj_backend *b, const lj_attention_params *p);
int ljc_moe(lj_backend *b, const lj_moe_params *p);

/* bf16 GEMM through cuBLAS on the backend's stream: C[M,N] (ldc, ctype) (+)= A[M,K] · W[N,K]ᵀ.
 * Row-major operands; beta 0 or 1. */
int ljc_gemm(lj_backend *b, const void *a, size_t lda, const void *w, size_t ldw, void *c, size_t ldc,
             cudaDataType_t ctype, size_t m, size_t n, size_t k, float beta);
/* The backend's activation / weight element type for cuBLAS. */
static inline cudaDataType_t ljc_cuda_type(const lj_backend *b) { return ljc_f32(b) ? CUDA_R_32F : CUDA_R_16BF; }

#endif
