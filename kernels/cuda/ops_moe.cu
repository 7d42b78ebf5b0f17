/* Sparse MoE block (JambaSparseMoeBlock) on the GPU:
 *   router GEMM (fp32 out) → softmax + top-k per token (no renormalisation) → tokens grouped by
 *   expert (counting sort on the device) → one grouped GEMM for every expert's gate and up
 *   projections → SiLU·mul → one grouped GEMM for the down projections → each token's weighted
 *   sum of its k expert rows (a gather, no atomics: deterministic).
 * cuBLAS's grouped GEMM takes the group sizes on the host, so for prefill in bf16 the op copies the
 * E expert counts back and waits for them: the one synchronisation of a forward step outside its
 * result. Decode (<= 64 routed rows) and int8 experts keep the sizes on the device (gemv.h,
 * moe_w8a16.h). */
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/cuda_internal.h"
#include "kernels/cuda/device_util.cuh"
#include "kernels/cuda/gemv.h"
#include "kernels/cuda/moe_w8a16.h"

extern "C" {
#include "kernels/cuda/cuda_backend.h"
}

typedef __nv_bfloat16 bf16;

#define MOE_MAX_EXPERTS 256
#define MOE_MAX_TOPK 8

__global__ void moe_topk_kernel(const float *logits, size_t T, int E, int K, int *top_e, float *top_w, int *counts) {
    size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (t >= T) return;
    const float *lr = logits + t * E;
    float mx = -INFINITY;
    for (int e = 0; e < E; e++) mx = fmaxf(mx, lr[e]);
    float sum = 0.0f;
    for (int e = 0; e < E; e++) sum += expf(lr[e] - mx);
    /* top-k by repeated selection; ties: lower expert index (strict > keeps the first) */
    unsigned long long taken[MOE_MAX_EXPERTS / 64] = {0};
    for (int j = 0; j < K; j++) {
        int best = -1;
        float bv = -INFINITY;
        for (int e = 0; e < E; e++) {
            if (taken[e / 64] >> (e % 64) & 1ull) continue;
            if (best < 0 || lr[e] > bv) { bv = lr[e]; best = e; }
        }
        taken[best / 64] |= 1ull << (best % 64);
        top_e[t * K + j] = best;
        top_w[t * K + j] = expf(bv - mx) / sum;
        atomicAdd(&counts[best], 1);
    }
}

__global__ void moe_offsets_kernel(const int *counts, int *offsets, int *cursor, int E) {
    if (threadIdx.x == 0) {
        int acc = 0;
        for (int e = 0; e < E; e++) { offsets[e] = acc; acc += counts[e]; cursor[e] = 0; }
    }
}

__global__ void moe_scatter_kernel(const int *top_e, size_t TK, const int *offsets, int *cursor, int *perm, int *slot_of, int K) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= TK) return;
    int e = top_e[i];
    int slot = offsets[e] + atomicAdd(&cursor[e], 1);
    perm[slot] = (int)(i / K);
    slot_of[i] = slot;
}

template <typename T>
__global__ void moe_gather_kernel(const T *x, size_t ldx, const int *perm, T *xp, size_t H) {
    size_t slot = blockIdx.x;
    const size_t V = 16 / sizeof(T);
    if (H % V == 0 && ldx % V == 0 && ((uintptr_t)x % 16) == 0) {   /* 16-byte rows */
        const uint4 *src = (const uint4 *)(x + (size_t)perm[slot] * ldx);
        uint4 *dst = (uint4 *)(xp + slot * H);
        for (size_t i = threadIdx.x; i < H / V; i += blockDim.x) dst[i] = src[i];
        return;
    }
    const T *src = x + (size_t)perm[slot] * ldx;
    T *dst = xp + slot * H;
    for (size_t i = threadIdx.x; i < H; i += blockDim.x) dst[i] = src[i];
}

template <typename T>
__global__ void moe_combine_kernel(const T *yp, const int *slot_of, const float *top_w, int K, T *out, size_t ldo, size_t H) {
    size_t t = blockIdx.x;
    for (size_t c = threadIdx.x; c < H; c += blockDim.x) {
        float acc = 0.0f;
        for (int j = 0; j < K; j++) acc += top_w[t * K + j] * ljc_ld(yp + (size_t)slot_of[t * K + j] * H + c);
        ljc_st(out + t * ldo + c, acc);
    }
}

/* bf16, H % 8 == 0: a thread per 8 columns, grid (tokens, column blocks), the k rows' loads issued
 * together (one block per token looping over H was 14 us at decode, dependent loads in a chain) */
__global__ void moe_combine_vec_kernel(const bf16 *yp, const int *slot_of, const float *top_w, int K, bf16 *out, size_t ldo,
                                       size_t H) {
    const size_t t = blockIdx.x, q = blockIdx.y * (size_t)blockDim.x + threadIdx.x;
    if (q >= H / 8) return;
    float acc[8] = {};
    for (int j0 = 0; j0 < K; j0 += 4) {
        uint4 v[4];
        float w[4];
#pragma unroll
        for (int j = 0; j < 4; j++)
            if (j0 + j < K) {
                w[j] = top_w[t * K + j0 + j];
                v[j] = reinterpret_cast<const uint4 *>(yp + (size_t)slot_of[t * K + j0 + j] * H)[q];
            }
#pragma unroll
        for (int j = 0; j < 4; j++)
            if (j0 + j < K) {
                float f[8];
                ljc_bf16_unpack<8>(v[j], f);
#pragma unroll
                for (int i = 0; i < 8; i++) acc[i] += w[j] * f[i];
            }
    }
    reinterpret_cast<uint4 *>(out + t * ldo)[q] = ljc_bf16_pack<8>(acc);
}

static size_t align256(size_t v) { return (v + 255) & ~(size_t)255; }

/* C_g[n_g, m_g] = B_g[n_g, k] · A_g[m_g, k]ᵀ for each group (row-major terms; see ljc_gemm). */
typedef struct moe_groups {
    int n;
    cublasOperation_t ta[2 * MOE_MAX_EXPERTS], tb[2 * MOE_MAX_EXPERTS];
    int m[2 * MOE_MAX_EXPERTS], nn[2 * MOE_MAX_EXPERTS], k[2 * MOE_MAX_EXPERTS];
    int lda[2 * MOE_MAX_EXPERTS], ldb[2 * MOE_MAX_EXPERTS], ldc[2 * MOE_MAX_EXPERTS], size[2 * MOE_MAX_EXPERTS];
    float alpha[2 * MOE_MAX_EXPERTS], beta[2 * MOE_MAX_EXPERTS];
} moe_groups;

static void groups_add(moe_groups *g, const void **A, const void **B, void **C, const void *a, int lda,
                       const void *bm, int ldb, void *c, int ldc, int m, int n, int k) {
    int i = g->n++;
    g->ta[i] = CUBLAS_OP_T;
    g->tb[i] = CUBLAS_OP_N;
    g->m[i] = m; g->nn[i] = n; g->k[i] = k;
    g->lda[i] = lda; g->ldb[i] = ldb; g->ldc[i] = ldc;
    g->size[i] = 1;
    g->alpha[i] = 1.0f; g->beta[i] = 0.0f;
    A[i] = a; B[i] = bm; C[i] = c;
}

/* Runs the groups: one cublasGemmGroupedBatchedEx call (pointer arrays copied from `host_ptrs`
 * into `dev_ptrs`), or one cublasGemmEx per group where the grouped call is not supported. */
static int groups_run(lj_backend *b, moe_groups *g, const void **A, const void **B, void **C, void **dev_ptrs, int grouped) {
    ljc_impl *im = ljc_of(b);
    if (!g->n) return 0;
    if (grouped && im->grouped_gemm_ok) {
        LJC_CUDA(b, cudaMemcpyAsync(dev_ptrs, A, sizeof(void *) * g->n, cudaMemcpyHostToDevice, im->stream));
        LJC_CUDA(b, cudaMemcpyAsync(dev_ptrs + g->n, B, sizeof(void *) * g->n, cudaMemcpyHostToDevice, im->stream));
        LJC_CUDA(b, cudaMemcpyAsync(dev_ptrs + 2 * g->n, C, sizeof(void *) * g->n, cudaMemcpyHostToDevice, im->stream));
        cudaDataType_t ty = ljc_cuda_type(b);
        cublasStatus_t st = cublasGemmGroupedBatchedEx(
            im->cublas, g->ta, g->tb, g->m, g->nn, g->k, g->alpha, (const void *const *)dev_ptrs, ty, g->lda,
            (const void *const *)(dev_ptrs + g->n), ty, g->ldb, g->beta, (void *const *)(dev_ptrs + 2 * g->n),
            ty, g->ldc, g->n, g->size, CUBLAS_COMPUTE_32F);
        if (st == CUBLAS_STATUS_SUCCESS) return 0;
        if (st != CUBLAS_STATUS_NOT_SUPPORTED && st != CUBLAS_STATUS_INVALID_VALUE)
            return ljc_set_err(b, "cuda moe: cublasGemmGroupedBatchedEx: status %d", (int)st);
        fprintf(stderr, "cuda moe: grouped GEMM not supported here (status %d): one GEMM per expert\n", (int)st);
        im->grouped_gemm_ok = 0;
    }
    for (int i = 0; i < g->n; i++)
        LJC_CUBLAS(b, cublasGemmEx(im->cublas, g->ta[i], g->tb[i], g->m[i], g->nn[i], g->k[i], &g->alpha[i], A[i],
                                   ljc_cuda_type(b), g->lda[i], B[i], ljc_cuda_type(b), g->ldb[i], &g->beta[i], C[i],
                                   ljc_cuda_type(b), g->ldc[i], CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return 0;
}

/* Device copies of small host tables (int8 experts' pointer tables), keyed by their contents: a
 * layer's table is uploaded once, the first step that sees it, so a MoE step neither copies it nor
 * waits for the copy — one host synchronisation less per MoE layer per decode step. */
struct ljc_ptr_table {
    size_t bytes;
    void *host;   /* the contents */
    void *dev;    /* device copy */
    struct ljc_ptr_table *next;
};

void ljc_moe_free_tables(ljc_impl *im) {
    for (ljc_ptr_table *t = im->tables, *nx; t; t = nx) {
        nx = t->next;
        cudaFree(t->dev);
        free(t->host);
        free(t);
    }
    im->tables = NULL;
}

static int moe_device_table(lj_backend *b, const void *tab, size_t bytes, void **dev) {
    ljc_impl *im = ljc_of(b);
    for (ljc_ptr_table *t = im->tables; t; t = t->next)
        if (t->bytes == bytes && !memcmp(t->host, tab, bytes)) { *dev = t->dev; return 0; }
    ljc_ptr_table *t = (ljc_ptr_table *)calloc(1, sizeof *t);
    if (!t || !(t->host = malloc(bytes))) {
        free(t);
        return ljc_set_err(b, "cuda moe: out of host memory for a pointer table");
    }
    memcpy(t->host, tab, bytes);
    t->bytes = bytes;
    cudaError_t e = cudaMalloc(&t->dev, bytes);
    if (e == cudaSuccess) e = cudaMemcpy(t->dev, tab, bytes, cudaMemcpyHostToDevice);
    if (e != cudaSuccess) {
        cudaFree(t->dev);
        free(t->host);
        free(t);
        cudaGetLastError();
        return ljc_set_err(b, "cuda moe: pointer table: %s", cudaGetErrorString(e));
    }
    t->next = im->tables;
    im->tables = t;
    *dev = t->dev;
    return 0;
}

/* Decode (a few routed rows): the expert GEMMs on the grouped small-batch GEMV (gemv.h), which
 * reads the expert sizes on the device — no host wait for the counts, unlike cuBLAS's group sizes.
 * gate|up back to back in memory (the loader's layout, engine/model_load.c) go as one [2I, H] matrix. */
static int moe_experts_gemv(lj_backend *b, const lj_moe_params *p, size_t TK, const int *offs, const int *cnt,
                            const void *xp, char *gb, char *yp) {
    ljc_impl *im = ljc_of(b);
    const size_t E = p->n_experts, H = p->hidden, I = p->inter, es = 2;
    const void *tab[3 * MOE_MAX_EXPERTS];   /* not the pinned staging: queued copies of an earlier call may still read it */
    bool joined = true;
    for (size_t e = 0; e < E; e++) {
        tab[e] = p->gate[e].data;
        tab[E + e] = p->up[e].data;
        tab[2 * E + e] = p->down[e].data;
        if (p->gate[e].data && (const char *)p->up[e].data != (const char *)p->gate[e].data + I * H * es) joined = false;
    }
    void **dptr;
    if (moe_device_table(b, tab, 3 * E * sizeof *tab, (void **)&dptr)) return -1;
    const void *const *dw = (const void *const *)dptr;
    ljc_gemv_args g = {(int)E, offs, cnt, dw, NULL, NULL, NULL, xp, H, gb, 2 * I, TK, joined ? 2 * I : I, H, 0, 0, 0};
    int rc = ljc_gemv(&g, im->num_sms, im->stream);
    if (!rc && !joined) {
        g.w = dw + E;
        g.y = gb + I * es;
        rc = ljc_gemv(&g, im->num_sms, im->stream);
    }
    if (rc) return ljc_set_err(b, "cuda moe: gemv gate|up: %s", cudaGetErrorString((cudaError_t)rc));
    lj_silu_mul_params sm = {gb, 2 * I, gb + I * es, 2 * I, gb, 2 * I, TK, I};
    if (ljc_silu_mul(b, &sm)) return -1;
    const ljc_gemv_args d = {(int)E, offs, cnt, dw + 2 * E, NULL, NULL, NULL, gb, 2 * I, yp, H, TK, H, I, 0, 0, 0};
    rc = ljc_gemv(&d, im->num_sms, im->stream);
    if (rc) return ljc_set_err(b, "cuda moe: gemv down: %s", cudaGetErrorString((cudaError_t)rc));
    return 0;
}

int ljc_moe(lj_backend *b, const lj_moe_params *p) {
    ljc_impl *im = ljc_of(b);
    cudaStream_t st = im->stream;
    size_t T = p->n_tokens, E = p->n_experts, K = p->top_k, H = p->hidden, I = p->inter, TK = T * K;
    if (!T) return 0;
    if (E < 1 || E > MOE_MAX_EXPERTS || K < 1 || K > MOE_MAX_TOPK || K > E)
        return ljc_set_err(b, "cuda moe: %zu experts top-%zu not supported", E, K);
    lj_dtype wd = b->weight_dtype;
    size_t es = lj_dtype_size(b->act_dtype);
    if (p->router.dtype != wd) return ljc_set_err(b, "cuda moe: router dtype %d (want %d)", (int)p->router.dtype, (int)wd);
    /* ExpertsInt8: every expert int8 with per-row scales, gate|up back to back (engine layout).
     * Expert parallel: an expert with no data is another rank's; its rows get zeros. */
    size_t first = 0;
    while (first < E && !p->gate[first].data) first++;
    const bool i8 = first < E && p->gate[first].dtype == LJ_I8;
    for (size_t e = 0; e < E; e++) {
        if (!p->gate[e].data) continue;
        lj_dtype want = i8 ? LJ_I8 : wd;
        if (p->gate[e].dtype != want || p->up[e].dtype != want || p->down[e].dtype != want)
            return ljc_set_err(b, "cuda moe: expert %zu weights are not of dtype %d", e, (int)want);
        if (i8 && ((const int8_t *)p->up[e].data != (const int8_t *)p->gate[e].data + I * H ||
                   p->up[e].scale != p->gate[e].scale + I || !p->gate[e].scale || !p->down[e].scale))
            return ljc_set_err(b, "cuda moe: int8 expert %zu: gate and up must be one [2I, H] matrix with scales", e);
    }

    /* workspace */
    size_t off = 0, o_logits, o_tope, o_topw, o_cnt, o_offs, o_cur, o_perm, o_slot, o_xp, o_g, o_y, o_ptr;
    o_logits = off; off += align256(T * E * 4);
    o_tope = off; off += align256(TK * 4);
    o_topw = off; off += align256(TK * 4);
    o_cnt = off; off += align256(E * 4);
    o_offs = off; off += align256(E * 4);
    o_cur = off; off += align256(E * 4);
    o_perm = off; off += align256(TK * 4);
    o_slot = off; off += align256(TK * 4);
    o_xp = off; off += align256(TK * H * es);
    o_g = off; off += align256(TK * 2 * I * es);   /* [TK, 2I]: gate | up */
    o_y = off; off += align256(TK * H * es);
    o_ptr = off; off += align256(2 * 3 * 2 * E * sizeof(void *));
    char *ws;
    if (ljc_scratch(b, off, (void **)&ws)) return -1;
    float *logits = (float *)(ws + o_logits), *topw = (float *)(ws + o_topw);
    int *tope = (int *)(ws + o_tope), *cnt = (int *)(ws + o_cnt), *offs = (int *)(ws + o_offs), *cur = (int *)(ws + o_cur);
    int *perm = (int *)(ws + o_perm), *slot = (int *)(ws + o_slot);
    char *xp = ws + o_xp, *gb = ws + o_g, *yp = ws + o_y;   /* activation type */
    void **dptr = (void **)(ws + o_ptr);

    /* host staging: counts, then 2 × 3 pointer arrays */
    char *pin;
    size_t pin_bytes = align256(E * 4) + 2 * 3 * 2 * E * sizeof(void *);
    if (ljc_pinned(b, pin_bytes, (void **)&pin)) return -1;
    int *hcnt = (int *)pin;
    const void **hp = (const void **)(pin + align256(E * 4));

    if (ljc_gemm(b, p->x, p->ldx, p->router.data, H, logits, E, CUDA_R_32F, T, E, H, 0.0f)) return -1;
    LJC_CUDA(b, cudaMemsetAsync(cnt, 0, E * 4, st));
    moe_topk_kernel<<<ljc_blocks(T, 128), 128, 0, st>>>(logits, T, (int)E, (int)K, tope, topw, cnt);
    LJC_LAUNCHED(b, "moe topk");
    moe_offsets_kernel<<<1, 32, 0, st>>>(cnt, offs, cur, (int)E);
    LJC_LAUNCHED(b, "moe offsets");
    /* decode in bf16: the GEMV, expert sizes on the device */
    const bool gemv = !i8 && es == 2 && TK <= 64 && im->gemv_mode == LJC_GEMV_AUTO && im->moe_gemm_mode == LJC_MOE_AUTO &&
                      H % 8 == 0 && I % 8 == 0;
    if (!i8 && !gemv) LJC_CUDA(b, cudaMemcpyAsync(hcnt, cnt, E * 4, cudaMemcpyDeviceToHost, st));   /* cuBLAS group sizes */
    moe_scatter_kernel<<<ljc_blocks(TK, 256), 256, 0, st>>>(tope, TK, offs, cur, perm, slot, (int)K);
    LJC_LAUNCHED(b, "moe scatter");
    if (es == 4) moe_gather_kernel<float><<<(unsigned)TK, 256, 0, st>>>((const float *)p->x, p->ldx, perm, (float *)xp, H);
    else moe_gather_kernel<bf16><<<(unsigned)TK, 256, 0, st>>>((const bf16 *)p->x, p->ldx, perm, (bf16 *)xp, H);
    LJC_LAUNCHED(b, "moe gather");
    if (i8) {   /* W8A16 grouped GEMMs (moe_w8a16.cu): expert sizes stay on the device */
        const void *tab[4 * MOE_MAX_EXPERTS];   /* [4E]: gate|up weights, their scales, down weights, their scales
                                                   (not the pinned staging, which queued copies may still read) */
        for (size_t e = 0; e < E; e++) {   /* NULL for another rank's expert: the kernels write zeros */
            tab[e] = p->gate[e].data;
            tab[E + e] = p->gate[e].scale;
            tab[2 * E + e] = p->down[e].data;
            tab[3 * E + e] = p->down[e].scale;
        }
        if (moe_device_table(b, tab, 4 * E * sizeof *tab, (void **)&dptr)) return -1;
        ljc_w8a16_args ga = {(int)E, offs, cnt, (const int8_t *const *)dptr, (const float *const *)(dptr + E),
                             xp, H, gb, 2 * I, TK, 2 * I, H, es == 4, im->w8a16_force};
        int rc = ljc_w8a16_grouped(&ga, st);
        if (rc) return ljc_set_err(b, "cuda moe: w8a16 gate|up: %s", cudaGetErrorString((cudaError_t)rc));
        lj_silu_mul_params sm8 = {gb, 2 * I, gb + I * es, 2 * I, gb, 2 * I, TK, I};
        if (ljc_silu_mul(b, &sm8)) return -1;
        ljc_w8a16_args da = {(int)E, offs, cnt, (const int8_t *const *)(dptr + 2 * E), (const float *const *)(dptr + 3 * E),
                             gb, 2 * I, yp, H, TK, H, I, es == 4, im->w8a16_force};
        rc = ljc_w8a16_grouped(&da, st);
        if (rc) return ljc_set_err(b, "cuda moe: w8a16 down: %s", cudaGetErrorString((cudaError_t)rc));
    } else if (gemv) {
        if (moe_experts_gemv(b, p, TK, offs, cnt, xp, gb, yp)) return -1;
    } else {
    LJC_CUDA(b, cudaStreamSynchronize(st));   /* the expert counts, for the GEMM sizes */

    /* large; per thread: several backends (tensor-parallel ranks, data-parallel replicas) run their
     * MoE ops at once from their own threads */
    static __thread moe_groups g1, g2;
    g1.n = g2.n = 0;
    const void **A1 = hp, **B1 = hp + 2 * E;
    void **C1 = (void **)(hp + 4 * E);
    const void **A2 = hp + 6 * E, **B2 = hp + 8 * E;
    void **C2 = (void **)(hp + 10 * E);
    size_t row = 0, active = 0;
    const size_t I2 = 2 * I;
    for (size_t e = 0; e < E; e++) {
        int n = hcnt[e];
        if (n > 0 && !p->gate[e].data) {   /* another rank's expert: its rows contribute zero */
            LJC_CUDA(b, cudaMemsetAsync(yp + row * H * es, 0, (size_t)n * H * es, st));
        } else if (n > 0) {
            active++;
            char *ge = gb + row * I2 * es, *xe = xp + row * H * es;
            /* gate and up stored back to back ([2I, H] as one matrix): one GEMM for both */
            if ((const char *)p->up[e].data == (const char *)p->gate[e].data + I * H * es) {
                groups_add(&g1, A1, B1, C1, p->gate[e].data, (int)H, xe, (int)H, ge, (int)I2, (int)I2, n, (int)H);
            } else {
                groups_add(&g1, A1, B1, C1, p->gate[e].data, (int)H, xe, (int)H, ge, (int)I2, (int)I, n, (int)H);
                groups_add(&g1, A1, B1, C1, p->up[e].data, (int)H, xe, (int)H, ge + I * es, (int)I2, (int)I, n, (int)H);
            }
            groups_add(&g2, A2, B2, C2, p->down[e].data, (int)I, ge, (int)I2, yp + row * H * es, (int)H, (int)H, n, (int)I);
        }
        row += (size_t)(n > 0 ? n : 0);
    }
    if (row != TK) return ljc_set_err(b, "cuda moe: expert counts sum to %zu, expected %zu", row, TK);
    int grouped = es == 2 && (im->moe_gemm_mode == LJC_MOE_GROUPED || (im->moe_gemm_mode == LJC_MOE_AUTO && TK < 256 * active));
    if (groups_run(b, &g1, A1, B1, C1, dptr, grouped)) return -1;
    lj_silu_mul_params sm = {gb, I2, gb + I * es, I2, gb, I2, TK, I};
    if (ljc_silu_mul(b, &sm)) return -1;
    if (groups_run(b, &g2, A2, B2, C2, dptr + 6 * E, grouped)) return -1;
    }   /* bf16/fp32 experts */
    if (es == 4) moe_combine_kernel<float><<<(unsigned)T, 256, 0, st>>>((const float *)yp, slot, topw, (int)K, (float *)p->out, p->ldo, H);
    else if (H % 8 == 0 && p->ldo % 8 == 0 && (uintptr_t)p->out % 16 == 0)
        moe_combine_vec_kernel<<<dim3((unsigned)T, (unsigned)((H / 8 + 127) / 128)), 128, 0, st>>>((const bf16 *)yp, slot, topw, (int)K,
                                                                                                  (bf16 *)p->out, p->ldo, H);
    else moe_combine_kernel<bf16><<<(unsigned)T, 256, 0, st>>>((const bf16 *)yp, slot, topw, (int)K, (bf16 *)p->out, p->ldo, H);
    LJC_LAUNCHED(b, "moe combine");
    return 0;
}

/* The W8A16 grouped GEMM alone (benchmarks and tests): rows [offs[e], offs[e] + cnt[e]) of x go
 * through expert e's int8 matrix w[e] (all of one shape [N, K]); cnt on the host. */
extern "C" int ljc_w8a16_gemm(lj_backend *b, const lj_tensor *w, size_t E, const int *cnt, const void *x, size_t ldx,
                              void *y, size_t ldy) {
    ljc_impl *im = ljc_of(b);
    if (E < 1 || E > MOE_MAX_EXPERTS) return ljc_set_err(b, "ljc_w8a16_gemm: %zu experts", E);
    size_t rows = 0;
    for (size_t e = 0; e < E; e++) {
        if (w[e].dtype != LJ_I8 || !w[e].scale || w[e].rows != w[0].rows || w[e].cols != w[0].cols)
            return ljc_set_err(b, "ljc_w8a16_gemm: expert %zu is not int8 [%zu, %zu] with scales", e, w[0].rows, w[0].cols);
        rows += (size_t)cnt[e];
    }
    const void *tab[2 * MOE_MAX_EXPERTS];
    for (size_t e = 0; e < E; e++) { tab[e] = w[e].data; tab[E + e] = w[e].scale; }
    int hc[2 * MOE_MAX_EXPERTS];   /* offsets, counts */
    for (size_t e = 0, o = 0; e < E; o += (size_t)cnt[e], e++) { hc[e] = (int)o; hc[E + e] = cnt[e]; }
    void **dptr;
    int *dc;   /* cached like the pointer tables: a benchmark's repeated calls then wait for nothing */
    if (moe_device_table(b, tab, 2 * E * sizeof *tab, (void **)&dptr) || moe_device_table(b, hc, 2 * E * sizeof *hc, (void **)&dc))
        return -1;
    ljc_w8a16_args a = {(int)E, dc, dc + E, (const int8_t *const *)dptr, (const float *const *)(dptr + E), x, ldx, y, ldy,
                        rows, w[0].rows, w[0].cols, ljc_f32(b), im->w8a16_force};
    int rc = ljc_w8a16_grouped(&a, im->stream);
    if (rc) return ljc_set_err(b, "ljc_w8a16_gemm: %s", cudaGetErrorString((cudaError_t)rc));
    return 0;
}
