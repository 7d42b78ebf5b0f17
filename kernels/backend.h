/* The backend interface: a table of ops that engine/model.c calls to run a Jamba forward pass.
 * A backend (kernels/cpu: fp32 reference; kernels/cuda: bf16/int8 on the GPU) knows buffers,
 * shapes and per-sequence state slots; it never sees a config, a checkpoint or a document.
 *
 * Memory. Every data pointer in a params struct is BACKEND memory (host memory for the CPU
 * backend, device memory for CUDA) obtained from `alloc`. The params structs themselves and their
 * small per-sequence arrays (seq_tokens, seq_pos, state pointer arrays) are HOST memory owned by
 * the caller and valid only during the call: a device backend copies what it needs (a few bytes
 * per sequence) before launching. Ops never read activation data on the host.
 *
 * Layout. Activations are row-major [rows, cols] in the backend's activation dtype (`act_dtype`,
 * LJ_F32 on the CPU) with an explicit row stride in elements (ld*), so that slices of a wider
 * tensor (x and z halves of in_proj's output, dt/B/C of x_proj's output) are used in place.
 * Weights are lj_tensor views [rows, cols] (nn.Linear layout: out_features x in_features) in the
 * backend's `weight_dtype` (what `upload` converted them to).
 *
 * Batching. A step packs the new tokens of n_seqs sequences one after another: sequence s owns
 * rows [sum(seq_tokens[0..s)), +seq_tokens[s]) of every activation. seq_pos[s] is the number of
 * tokens sequence s had processed before this step (its first new token's position). Ops with
 * state take arrays of per-sequence state pointers, so continuous batching (a prefill chunk of one
 * sequence beside single decode tokens of others) moves no state: the engine only passes pointers.
 *
 * Errors. Ops return 0, or -1 with a message in b->err (a device backend may report an
 * asynchronous failure at the next op or at `sync`). Ops are called from one thread at a time;
 * a backend may use its own worker threads or streams inside an op.
 *
 * Aliasing. Unless an op says "in place allowed", outputs must not overlap inputs. */
#ifndef LJ_KERNELS_BACKEND_H
#define LJ_KERNELS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {   /* included from CUDA sources */
#endif

typedef enum lj_dtype {
    LJ_F32 = 0,
    LJ_BF16 = 1,
    LJ_F16 = 2,
    LJ_I32 = 3,   /* token ids */
    LJ_I64 = 4,   /* only as an upload source (safetensors I64 ids) */
    LJ_I8 = 5,    /* quantised weights with per-row fp32 scales (lj_tensor.scale) */
} lj_dtype;

/* Bytes per element (0 for an unknown value). */
static inline size_t lj_dtype_size(lj_dtype t) {
    switch (t) {
    case LJ_F32: case LJ_I32: return 4;
    case LJ_BF16: case LJ_F16: return 2;
    case LJ_I64: return 8;
    case LJ_I8: return 1;
    }
    return 0;
}

/* A 2-D weight view in backend memory: row-major [rows, cols] (a 1-D vector is rows = 1). */
typedef struct lj_tensor {
    const void *data;
    lj_dtype dtype;
    size_t rows, cols;
    const float *scale;   /* [rows] per-output-row scales when dtype == LJ_I8, else NULL */
} lj_tensor;

/* The per-sequence batch layout shared by the stateful ops (see "Batching" above). */
typedef struct lj_seq_batch {
    size_t n_seqs;
    const size_t *seq_tokens;   /* [n_seqs] new tokens of each sequence in this step (>= 1) */
    const size_t *seq_pos;      /* [n_seqs] tokens each sequence had before this step */
    size_t n_tokens;            /* sum of seq_tokens: rows of every activation */
} lj_seq_batch;

/* out[t, :] = table[ids[t], :]. ids: backend LJ_I32 [T]; ids must be < table.rows (the engine
 * checks on the host before uploading). */
typedef struct lj_embedding_params {
    const int32_t *ids;     // [T]
    lj_tensor table;        // [V, H]
    void *out;              // [T, H]
    size_t n_tokens;
} lj_embedding_params;

/* y = x · Wᵀ (+ bias) (+ y when accumulate).   torch: y = F.linear(x, W, bias)
 * x: [M, K] stride ldx; W: [N, K]; bias: [N] fp32 or NULL; y: [M, N] stride ldy. */
typedef struct lj_matmul_params {
    const void *x; size_t ldx;     // [M, K]
    lj_tensor w;                   // [N, K]
    const float *bias;             // [N] or NULL
    void *y; size_t ldy;           // [M, N]
    size_t m;                      // rows of x (N = w.rows, K = w.cols)
    int accumulate;                // 1: y += x·Wᵀ (+ bias) — residual adds without a separate op
} lj_matmul_params;

/* y = x * rsqrt(mean(x², -1) + eps) * weight, per row, fp32 math. In place allowed (y == x).
 * torch: JambaRMSNorm.forward */
typedef struct lj_rmsnorm_params {
    const void *x; size_t ldx;     // [rows, n]
    const float *weight;           // [n]
    void *y; size_t ldy;           // [rows, n]
    size_t rows, n;
    float eps;
} lj_rmsnorm_params;

/* out = silu(a) * b elementwise.   torch: act_fn(gate_proj(x)) * up_proj(x)
 * In place allowed (out == a or out == b with the same stride). */
typedef struct lj_silu_mul_params {
    const void *a; size_t lda;     // [rows, n]
    const void *b; size_t ldb;     // [rows, n]
    void *out; size_t ldo;         // [rows, n]
    size_t rows, n;
} lj_silu_mul_params;

/* y = a + b over n contiguous elements. In place allowed. */
typedef struct lj_add_params {
    const void *a, *b;
    void *y;
    size_t n;
} lj_add_params;

/* Depthwise causal conv1d over time with a carried window, then SiLU, per sequence.
 *   torch: y = silu(conv1d(cat(window, x), weight[D,1,K], bias, groups=D)[..., :T])
 * window[s]: fp32 [K-1, D] (row j = the input K-1-j steps before the chunk's first token; zeros
 * for a new sequence); on return it holds the last K-1 inputs of the sequence (updated in place).
 * weight: fp32 [D, K]; bias: fp32 [D] or NULL. */
typedef struct lj_conv1d_params {
    lj_seq_batch batch;
    const void *x; size_t ldx;     // [T, D]
    const float *weight;           // [D, K]
    const float *bias;             // [D] or NULL
    float *const *window;          // [n_seqs] -> [K-1, D]
    void *y; size_t ldy;           // [T, D]
    size_t d, k;
} lj_conv1d_params;

/* Selective scan with carried SSM state, per sequence, fp32 math (mamba_ssm selective_scan_ref):
 *   delta = softplus(dt + dt_bias)            // [T, D]
 *   A     = -exp(A_log)                       // [D, N]
 *   h_t   = exp(delta_t ⊙ A) ⊙ h_{t-1} + (delta_t ⊙ x_t) ⊗ B_t       // [D, N]
 *   y_t   = h_t · C_t + Dskip ⊙ x_t           // [D]
 *   y_t  *= silu(z_t)
 * state[s]: fp32 [D, N], zeros for a new sequence, updated in place. */
typedef struct lj_scan_params {
    lj_seq_batch batch;
    const void *x; size_t ldx;     // [T, D] conv output
    const void *dt; size_t lddt;   // [T, D] dt_proj(dt) WITHOUT its bias
    const float *dt_bias;          // [D]
    const float *a_log;            // [D, N]
    const void *b; size_t ldb;     // [T, N]
    const void *c; size_t ldc;     // [T, N]
    const float *d_skip;           // [D]
    const void *z; size_t ldz;     // [T, D] gate
    float *const *state;           // [n_seqs] -> [D, N]
    void *y; size_t ldy;           // [T, D]
    size_t d, n;
} lj_scan_params;

/* Causal GQA attention over each sequence's KV cache plus this step's tokens, no positional
 * encoding. First appends k/v of the new tokens to k_cache[s]/v_cache[s] at rows
 * seq_pos[s] .. seq_pos[s]+seq_tokens[s]-1, then for each new token at position p:
 *   out[t, h] = softmax(scale · q[t, h] · K[0..p, h/group]ᵀ) · V[0..p, h/group]
 * Caches: [capacity, n_kv_heads * head_dim] in kv_dtype (the backend's), rows beyond the
 * sequence's length are ignored. The engine guarantees seq_pos + seq_tokens <= capacity. */
typedef struct lj_attention_params {
    lj_seq_batch batch;
    const void *q; size_t ldq;     // [T, n_heads * head_dim]
    const void *k; size_t ldk;     // [T, n_kv_heads * head_dim]
    const void *v; size_t ldv;     // [T, n_kv_heads * head_dim]
    void *const *k_cache;          // [n_seqs] -> [capacity, n_kv_heads * head_dim]
    void *const *v_cache;          // [n_seqs] -> [capacity, n_kv_heads * head_dim]
    void *out; size_t ldo;         // [T, n_heads * head_dim]
    size_t n_heads, n_kv_heads, head_dim;
    float scale;                   // head_dim^-0.5
} lj_attention_params;

/* Sparse MoE block (JambaSparseMoeBlock):
 *   logits  = x · routerᵀ                          // [T, E]
 *   probs   = softmax(logits, fp32)                // [T, E]
 *   topk    = top-k of probs (ties: lower expert index first), weights NOT renormalised
 *   out[t]  = Σ_j probs[t, e_j] · down_e(silu(gate_e(x[t])) ⊙ up_e(x[t]))
 * gate/up: [E] arrays of [I, H] tensors; down: [E] array of [H, I] tensors (host arrays of
 * views into backend memory). out is written (not accumulated).
 * Expert weights are either the backend's weight_dtype or LJ_I8 with per-output-row fp32 scales
 * in lj_tensor.scale (ExpertsInt8: w[r, :] = q[r, :] · scale[r]); a backend dequantises them on
 * the fly and never holds them dequantised in full. The engine stores an int8 expert's gate and up
 * back to back ([2I, H] int8, [2I] scales), so up.data = gate.data + I·H and up.scale = gate.scale
 * + I: a backend may run both as one [2I, H] GEMM.
 * Expert parallel: an expert whose gate.data is NULL is held by another rank; its share of the
 * routed tokens is left out here (the ranks' outputs are summed by the engine). Routing still
 * runs over all n_experts. */
typedef struct lj_moe_params {
    const void *x; size_t ldx;     // [T, H]
    lj_tensor router;              // [E, H]
    const lj_tensor *gate;         // [E] -> [I, H]
    const lj_tensor *up;           // [E] -> [I, H]
    const lj_tensor *down;         // [E] -> [H, I]
    void *out; size_t ldo;         // [T, H]
    size_t n_tokens, n_experts, top_k, hidden, inter;
} lj_moe_params;

/* ids[r] = argmax_j x[r, j] (lowest index on ties). ids: backend LJ_I32 [rows]. */
typedef struct lj_argmax_params {
    const void *x; size_t ldx;     // [rows, n]
    int32_t *ids;                  // [rows]
    size_t rows, n;
} lj_argmax_params;

typedef struct lj_backend lj_backend;
struct lj_backend {
    const char *name;          /* "cpu", "cuda" */
    lj_dtype act_dtype;        /* activations and scratch (LJ_F32 on the CPU) */
    lj_dtype weight_dtype;     /* what upload converts float weights to (LJ_F32 on the CPU) */
    lj_dtype kv_dtype;         /* KV cache element type */
    lj_dtype state_dtype;      /* conv window + SSM state (LJ_F32 everywhere) */
    int threads;               /* CPU worker threads (1 + pool); 0 for device backends */
    void *impl;                /* backend-private (thread pool, streams, handles, scratch) */
    char err[1024];            /* last op's error message */

    void (*destroy)(lj_backend *b);                                  /* frees b itself */

    /* Memory. alloc returns zeroed memory of at least `bytes` (aligned to 64 bytes). */
    int (*alloc)(lj_backend *b, size_t bytes, void **p);
    void (*free)(lj_backend *b, void *p);
    /* Host → backend with conversion: n elements of src_dtype to dst_dtype (F32/BF16/F16 among
     * themselves, I64/I32 → I32; same dtype = a copy). */
    int (*upload)(lj_backend *b, void *dst, lj_dtype dst_dtype, const void *src, lj_dtype src_dtype, size_t n);
    /* Backend → host fp32: n elements of src_dtype (act/kv dtype or LJ_I32 → int32). */
    int (*download)(lj_backend *b, void *dst, lj_dtype dst_dtype, const void *src, lj_dtype src_dtype, size_t n);
    int (*copy)(lj_backend *b, void *dst, const void *src, size_t bytes);   /* backend → backend (fork) */
    int (*zero)(lj_backend *b, void *dst, size_t bytes);
    int (*sync)(lj_backend *b);                                      /* wait for queued work */

    /* Ops (see each params struct). */
    int (*embedding)(lj_backend *b, const lj_embedding_params *p);
    int (*matmul)(lj_backend *b, const lj_matmul_params *p);
    int (*rmsnorm)(lj_backend *b, const lj_rmsnorm_params *p);
    int (*silu_mul)(lj_backend *b, const lj_silu_mul_params *p);
    int (*add)(lj_backend *b, const lj_add_params *p);
    int (*conv1d)(lj_backend *b, const lj_conv1d_params *p);
    int (*scan)(lj_backend *b, const lj_scan_params *p);
    int (*attention)(lj_backend *b, const lj_attention_params *p);
    int (*moe)(lj_backend *b, const lj_moe_params *p);
    int (*argmax)(lj_backend *b, const lj_argmax_params *p);

    /* Optional (NULL = unknown): bytes of backend memory free now and in total, for the memory
     * plan (engine/plan.h). */
    int (*mem_info)(lj_backend *b, size_t *free_bytes, size_t *total_bytes);
};

/* Constructors. threads: CPU worker count (0 = all online CPUs). The caller owns *out and frees
 * it with (*out)->destroy(*out). */
int lj_backend_cpu_new(int threads, lj_backend **out, char *err, size_t errlen);
#ifdef LONGJAM_HAVE_CUDA
int lj_backend_cuda_new(int gpu, lj_backend **out, char *err, size_t errlen);
#endif

/* Scalar conversions shared by host-side code (loader, tests). */
static inline float lj_bf16_to_f32(uint16_t h) {
    union { uint32_t u; float f; } v = {.u = (uint32_t)h << 16};
    return v.f;
}
float lj_f16_to_f32(uint16_t h);
uint16_t lj_f32_to_bf16(float f);   /* round to nearest even */

#ifdef __cplusplus
}
#endif

#endif
