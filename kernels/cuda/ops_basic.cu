/* Row-wise and elementwise ops with fp32 math on bf16 (fast) or fp32 (precise) activations:
 * embedding gather, RMSNorm, SiLU·mul, add, argmax; and the GEMM op on cuBLAS (bf16 operands with
 * fp32 accumulation, or fp32 operands in the precise mode), or on the small-batch GEMV (gemv.cu)
 * for <= 2 rows of bf16. */
#include "kernels/cuda/cuda_internal.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/device_util.cuh"
#include "kernels/cuda/gemv.h"

typedef __nv_bfloat16 bf16;

/* ---- embedding ------------------------------------------------------------------------- */

template <typename T>
__global__ void embedding_kernel(const int32_t *ids, const T *table, T *out, size_t h) {
    size_t t = blockIdx.x;
    const T *src = table + (size_t)ids[t] * h;
    T *dst = out + t * h;
    for (size_t i = threadIdx.x; i < h; i += blockDim.x) dst[i] = src[i];
}

/* bf16 rows with h % 8 == 0: 16-byte copies */
__global__ void embedding_vec_kernel(const int32_t *ids, const uint4 *table, uint4 *out, size_t h8) {
    const uint4 *src = table + (size_t)ids[blockIdx.x] * h8;
    uint4 *dst = out + blockIdx.x * h8;
    for (size_t i = threadIdx.x; i < h8; i += blockDim.x) dst[i] = src[i];
}

int ljc_embedding(lj_backend *b, const lj_embedding_params *p) {
    if (p->table.dtype != b->act_dtype) return ljc_set_err(b, "cuda embedding: table dtype %d (want %d)", (int)p->table.dtype, (int)b->act_dtype);
    if (!p->n_tokens) return 0;
    cudaStream_t st = ljc_of(b)->stream;
    if (!ljc_f32(b) && p->table.cols % 8 == 0 && (uintptr_t)p->table.data % 16 == 0 && (uintptr_t)p->out % 16 == 0)
        embedding_vec_kernel<<<(unsigned)p->n_tokens, 256, 0, st>>>(p->ids, (const uint4 *)p->table.data, (uint4 *)p->out, p->table.cols / 8);
    else if (ljc_f32(b)) embedding_kernel<float><<<(unsigned)p->n_tokens, 256, 0, st>>>(p->ids, (const float *)p->table.data, (float *)p->out, p->table.cols);
    else embedding_kernel<bf16><<<(unsigned)p->n_tokens, 256, 0, st>>>(p->ids, (const bf16 *)p->table.data, (bf16 *)p->out, p->table.cols);
    LJC_LAUNCHED(b, "embedding");
    return 0;
}

/* ---- RMSNorm: one block per row ------------------------------------------------------- */

__device__ __forceinline__ float block_sum(float v, float *red) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int w = threadIdx.x / 32, l = threadIdx.x % 32, nw = blockDim.x / 32;
    __syncthreads();
    if (l == 0) red[w] = v;
    __syncthreads();
    float s = 0;
    for (int i = 0; i < nw; i++) s += red[i];
    return s;
}

template <typename T>
__global__ void rmsnorm_kernel(const T *x, size_t ldx, const float *wt, T *y, size_t ldy, size_t n, float eps) {
    __shared__ float red[32];
    const T *xr = x + blockIdx.x * ldx;
    T *yr = y + blockIdx.x * ldy;
    float ss = 0;
    for (size_t i = threadIdx.x; i < n; i += blockDim.x) {
        float v = ljc_ld(xr + i);
        ss += v * v;
    }
    float inv = rsqrtf(block_sum(ss, red) / (float)n + eps);
    __syncthreads();   /* in place: every read above happens before any write below */
    for (size_t i = threadIdx.x; i < n; i += blockDim.x) ljc_st(yr + i, ljc_ld(xr + i) * inv * wt[i]);
}

/* bf16 rows with n % 8 == 0 and n <= 8·V·blockDim: each thread issues all its 16-byte loads of the
 * row at once and keeps them in registers for the second pass. A decode step's norms are single
 * rows, where the strided loop above is a chain of dependent round trips to memory (7 us for 4,096
 * values, measured; this: ~2). */
template <int V>
__global__ void rmsnorm_vec_kernel(const bf16 *x, size_t ldx, const float *wt, bf16 *y, size_t ldy, size_t n, float eps) {
    __shared__ float red[32];
    const uint4 *xr = reinterpret_cast<const uint4 *>(x + blockIdx.x * ldx);
    uint4 *yr = reinterpret_cast<uint4 *>(y + blockIdx.x * ldy);
    const int pieces = (int)(n / 8);
    uint4 v[V];
    float ss = 0.0f;
#pragma unroll
    for (int i = 0; i < V; i++) {
        const int q = threadIdx.x + i * blockDim.x;
        v[i] = q < pieces ? xr[q] : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int i = 0; i < V; i++) {
        float f[8];
        ljc_bf16_unpack<8>(v[i], f);
#pragma unroll
        for (int j = 0; j < 8; j++) ss += f[j] * f[j];
    }
    const float inv = rsqrtf(block_sum(ss, red) / (float)n + eps);   /* in place: all reads are above */
#pragma unroll
    for (int i = 0; i < V; i++) {
        const int q = threadIdx.x + i * blockDim.x;
        if (q >= pieces) continue;
        float f[8];
        ljc_bf16_unpack<8>(v[i], f);
#pragma unroll
        for (int j = 0; j < 8; j++) f[j] = f[j] * inv * wt[8 * q + j];
        yr[q] = ljc_bf16_pack<8>(f);
    }
}

int ljc_rmsnorm(lj_backend *b, const lj_rmsnorm_params *p) {
    if (!p->rows || !p->n) return 0;
    unsigned th = p->n >= 1024 ? 256 : p->n >= 128 ? 128 : 32;
    cudaStream_t st = ljc_of(b)->stream;
    const size_t pieces = p->n / 8;
    if (!ljc_f32(b) && p->n % 8 == 0 && pieces <= 4 * 256 && p->ldx % 8 == 0 && p->ldy % 8 == 0 &&
        (uintptr_t)p->x % 16 == 0 && (uintptr_t)p->y % 16 == 0) {
        const unsigned v = pieces <= 256 ? 1 : pieces <= 512 ? 2 : 4;
        const unsigned t = (unsigned)((pieces + v - 1) / v + 31) / 32 * 32;
        const bf16 *x = (const bf16 *)p->x;
        bf16 *y = (bf16 *)p->y;
        if (v == 1) rmsnorm_vec_kernel<1><<<(unsigned)p->rows, t, 0, st>>>(x, p->ldx, p->weight, y, p->ldy, p->n, p->eps);
        else if (v == 2) rmsnorm_vec_kernel<2><<<(unsigned)p->rows, t, 0, st>>>(x, p->ldx, p->weight, y, p->ldy, p->n, p->eps);
        else rmsnorm_vec_kernel<4><<<(unsigned)p->rows, t, 0, st>>>(x, p->ldx, p->weight, y, p->ldy, p->n, p->eps);
    } else if (ljc_f32(b))
        rmsnorm_kernel<float><<<(unsigned)p->rows, th, 0, st>>>((const float *)p->x, p->ldx, p->weight, (float *)p->y, p->ldy, p->n, p->eps);
    else
        rmsnorm_kernel<bf16><<<(unsigned)p->rows, th, 0, st>>>((const bf16 *)p->x, p->ldx, p->weight, (bf16 *)p->y, p->ldy, p->n, p->eps);
    LJC_LAUNCHED(b, "rmsnorm");
    return 0;
}

/* ---- SiLU(a) * b, add -------------------------------------------------------------------- */

template <typename T>
__global__ void silu_mul_kernel(const T *a, size_t lda, const T *bb, size_t ldb, T *o, size_t ldo, size_t rows, size_t n) {
    for (size_t r = blockIdx.y; r < rows; r += gridDim.y)
        for (size_t c = blockIdx.x * (size_t)blockDim.x + threadIdx.x; c < n; c += (size_t)gridDim.x * blockDim.x)
            ljc_st(o + r * ldo + c, ljc_silu(ljc_ld(a + r * lda + c)) * ljc_ld(bb + r * ldb + c));
}

/* Row-wise, two columns per thread (bf16x2). */
__global__ void silu_mul2_kernel(const bf16 *a, size_t lda, const bf16 *bb, size_t ldb, bf16 *o, size_t ldo,
                                 size_t rows, size_t n2) {
    for (size_t r = blockIdx.y; r < rows; r += gridDim.y) {
        const __nv_bfloat162 *ar = (const __nv_bfloat162 *)(a + r * lda), *br = (const __nv_bfloat162 *)(bb + r * ldb);
        __nv_bfloat162 *orow = (__nv_bfloat162 *)(o + r * ldo);
        for (size_t c = blockIdx.x * (size_t)blockDim.x + threadIdx.x; c < n2; c += (size_t)gridDim.x * blockDim.x) {
            float2 av = __bfloat1622float2(ar[c]), bv = __bfloat1622float2(br[c]);
            orow[c] = __floats2bfloat162_rn(ljc_silu(av.x) * bv.x, ljc_silu(av.y) * bv.y);
        }
    }
}

/* Row-wise, eight columns per thread (16-byte loads and stores): the prefill's [T, 2I] gate|up
 * halves are ~350 MB a layer, which the 4-byte version streamed at ~55% of HBM (ncu) */
__global__ void silu_mul8_kernel(const uint4 *a, size_t lda8, const uint4 *bb, size_t ldb8, uint4 *o, size_t ldo8, size_t rows,
                                 size_t n8) {
    for (size_t r = blockIdx.y; r < rows; r += gridDim.y)
        for (size_t c = blockIdx.x * (size_t)blockDim.x + threadIdx.x; c < n8; c += (size_t)gridDim.x * blockDim.x) {
            float av[8], bv[8];
            ljc_bf16_unpack<8>(a[r * lda8 + c], av);
            ljc_bf16_unpack<8>(bb[r * ldb8 + c], bv);
#pragma unroll
            for (int i = 0; i < 8; i++) av[i] = ljc_silu(av[i]) * bv[i];
            o[r * ldo8 + c] = ljc_bf16_pack<8>(av);
        }
}

int ljc_silu_mul(lj_backend *b, const lj_silu_mul_params *p) {
    if (!p->rows || !p->n) return 0;
    cudaStream_t st = ljc_of(b)->stream;
    unsigned gy = p->rows < 65535 ? (unsigned)p->rows : 65535u;
    auto al16 = [](const void *q) { return (uintptr_t)q % 16 == 0; };
    if (!ljc_f32(b) && p->n % 8 == 0 && p->lda % 8 == 0 && p->ldb % 8 == 0 && p->ldo % 8 == 0 && al16(p->a) && al16(p->b) &&
        al16(p->out)) {
        size_t n8 = p->n / 8;
        unsigned gx = ljc_blocks(n8, 256);
        if (gx > 64) gx = 64;
        silu_mul8_kernel<<<dim3(gx, gy), 256, 0, st>>>((const uint4 *)p->a, p->lda / 8, (const uint4 *)p->b, p->ldb / 8,
                                                      (uint4 *)p->out, p->ldo / 8, p->rows, n8);
    } else if (!ljc_f32(b) && p->n % 2 == 0 && p->lda % 2 == 0 && p->ldb % 2 == 0 && p->ldo % 2 == 0 && (uintptr_t)p->a % 4 == 0 &&
        (uintptr_t)p->b % 4 == 0 && (uintptr_t)p->out % 4 == 0) {
        size_t n2 = p->n / 2;
        unsigned gx = ljc_blocks(n2, 256);
        if (gx > 64) gx = 64;
        silu_mul2_kernel<<<dim3(gx, gy), 256, 0, st>>>((const bf16 *)p->a, p->lda, (const bf16 *)p->b, p->ldb, (bf16 *)p->out,
                                                      p->ldo, p->rows, n2);
    } else {
        unsigned gx = ljc_blocks(p->n, 256);
        if (gx > 64) gx = 64;
        if (ljc_f32(b))
            silu_mul_kernel<float><<<dim3(gx, gy), 256, 0, st>>>((const float *)p->a, p->lda, (const float *)p->b, p->ldb,
                                                                (float *)p->out, p->ldo, p->rows, p->n);
        else
            silu_mul_kernel<bf16><<<dim3(gx, gy), 256, 0, st>>>((const bf16 *)p->a, p->lda, (const bf16 *)p->b, p->ldb,
                                                               (bf16 *)p->out, p->ldo, p->rows, p->n);
    }
    LJC_LAUNCHED(b, "silu_mul");
    return 0;
}

template <typename T>
__global__ void add_kernel(const T *a, const T *bb, T *y, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        ljc_st(y + i, ljc_ld(a + i) + ljc_ld(bb + i));
}

int ljc_add(lj_backend *b, const lj_add_params *p) {
    if (!p->n) return 0;
    unsigned g = ljc_blocks(p->n, 256);
    if (g > 65535u * 4) g = 65535u * 4;
    cudaStream_t st = ljc_of(b)->stream;
    if (ljc_f32(b)) add_kernel<float><<<g, 256, 0, st>>>((const float *)p->a, (const float *)p->b, (float *)p->y, p->n);
    else add_kernel<bf16><<<g, 256, 0, st>>>((const bf16 *)p->a, (const bf16 *)p->b, (bf16 *)p->y, p->n);
    LJC_LAUNCHED(b, "add");
    return 0;
}

/* ---- argmax: one block per row, lowest index on ties ---------------------------------- */

/* each thread's (best, idx) -> bv[0], bi[0] for the block (blockDim a power of two) */
__device__ __forceinline__ void argmax_block_reduce(float *bv, int *bi, float best, int idx) {
    bv[threadIdx.x] = best;
    bi[threadIdx.x] = idx;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) {
            float ov = bv[threadIdx.x + s];
            int oi = bi[threadIdx.x + s];
            if (ov > bv[threadIdx.x] || (ov == bv[threadIdx.x] && oi < bi[threadIdx.x])) {
                bv[threadIdx.x] = ov;
                bi[threadIdx.x] = oi;
            }
        }
        __syncthreads();
    }
}

template <typename T>
__global__ void argmax_kernel(const T *x, size_t ldx, int32_t *ids, size_t n) {
    __shared__ float bv[256];
    __shared__ int bi[256];
    const T *xr = x + blockIdx.x * ldx;
    float best = -INFINITY;
    int idx = 0x7fffffff;
    for (size_t i = threadIdx.x; i < n; i += blockDim.x) {
        float v = ljc_ld(xr + i);
        if (v > best) { best = v; idx = (int)i; }   /* strided: the first hit is the lowest index */
    }
    argmax_block_reduce(bv, bi, best, idx);
    if (threadIdx.x == 0) ids[blockIdx.x] = bi[0] == 0x7fffffff ? 0 : bi[0];
}

/* bf16 rows with n % 8 == 0: 16-byte loads, 8 in flight per thread (a 65,536-token vocabulary is
 * 8 per thread of 1,024: all issued at once; the scalar loop above takes 66 us for it). Lowest index
 * on ties as above: a thread's pieces and the values in a piece go in increasing order. */
__global__ void __launch_bounds__(1024) argmax_vec_kernel(const bf16 *x, size_t ldx, int32_t *ids, size_t n) {
    __shared__ float bv[1024];
    __shared__ int bi[1024];
    const uint4 *xr = reinterpret_cast<const uint4 *>(x + blockIdx.x * ldx);
    const int pieces = (int)(n / 8);
    float best = -INFINITY;
    int idx = 0x7fffffff;
    for (int q0 = threadIdx.x; q0 < pieces; q0 += 8 * blockDim.x) {
        uint4 v[8];
#pragma unroll
        for (int i = 0; i < 8; i++) {
            const int q = q0 + i * blockDim.x;
            if (q < pieces) v[i] = xr[q];
        }
#pragma unroll
        for (int i = 0; i < 8; i++) {
            const int q = q0 + i * blockDim.x;
            if (q >= pieces) break;
            float f[8];
            ljc_bf16_unpack<8>(v[i], f);
#pragma unroll
            for (int j = 0; j < 8; j++)
                if (f[j] > best) { best = f[j]; idx = 8 * q + j; }
        }
    }
    argmax_block_reduce(bv, bi, best, idx);
    if (threadIdx.x == 0) ids[blockIdx.x] = bi[0] == 0x7fffffff ? 0 : bi[0];
}

int ljc_argmax(lj_backend *b, const lj_argmax_params *p) {
    if (!p->rows) return 0;
    cudaStream_t st = ljc_of(b)->stream;
    if (!ljc_f32(b) && p->n % 8 == 0 && p->ldx % 8 == 0 && (uintptr_t)p->x % 16 == 0)
        argmax_vec_kernel<<<(unsigned)p->rows, 1024, 0, st>>>((const bf16 *)p->x, p->ldx, p->ids, p->n);
    else if (ljc_f32(b)) argmax_kernel<float><<<(unsigned)p->rows, 256, 0, st>>>((const float *)p->x, p->ldx, p->ids, p->n);
    else argmax_kernel<bf16><<<(unsigned)p->rows, 256, 0, st>>>((const bf16 *)p->x, p->ldx, p->ids, p->n);
    LJC_LAUNCHED(b, "argmax");
    return 0;
}

#ifndef LJC_GEMV_MAX_ROWS
#define LJC_GEMV_MAX_ROWS 2   /* rows of x up to which a GEMM runs on the GEMV (3 or 4: no faster than cuBLAS, measured) */
#endif

/* ---- GEMM ---------------------------------------------------------------------------------- */

int ljc_gemm(lj_backend *b, const void *a, size_t lda, const void *w, size_t ldw, void *c, size_t ldc,
             cudaDataType_t ctype, size_t m, size_t n, size_t k, float beta) {
    if (!m || !n) return 0;
    ljc_impl *im = ljc_of(b);
    /* decode: a weight stream; with more rows the FMAs per weight byte make cuBLAS's tensor cores faster */
    if (!ljc_f32(b) && m <= LJC_GEMV_MAX_ROWS && ldw == k && (beta == 0.0f || beta == 1.0f) && im->gemv_mode == LJC_GEMV_AUTO) {
        const ljc_gemv_args g = {1, NULL, NULL, NULL, NULL, w, NULL, a, lda, c, ldc, m, n, k, 0, ctype == CUDA_R_32F, beta != 0.0f};
        if (ljc_gemv_ok(&g)) {
            int rc = ljc_gemv(&g, im->num_sms, im->stream);
            return rc ? ljc_set_err(b, "cuda gemv %zux%zux%zu: %s", m, n, k, cudaGetErrorString((cudaError_t)rc)) : 0;
        }
    }
    float alpha = 1.0f;
    cudaDataType_t ab = ljc_cuda_type(b);
    /* Row-major C[M,N] = A[M,K] · W[N,K]ᵀ is column-major Cᵀ[N,M] = W(op T) · Aᵀ(op N). */
    LJC_CUBLAS(b, cublasGemmEx(ljc_of(b)->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)n, (int)m, (int)k, &alpha,
                               w, ab, (int)ldw, a, ab, (int)lda, &beta, c, ctype, (int)ldc,
                               CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return 0;
}

template <typename T>
__global__ void bias_add_kernel(T *y, size_t ldy, const float *bias, size_t rows, size_t n) {
    for (size_t r = blockIdx.y; r < rows; r += gridDim.y)
        for (size_t c = blockIdx.x * (size_t)blockDim.x + threadIdx.x; c < n; c += (size_t)gridDim.x * blockDim.x)
            ljc_st(y + r * ldy + c, ljc_ld(y + r * ldy + c) + bias[c]);
}

int ljc_matmul(lj_backend *b, const lj_matmul_params *p) {
    if (p->w.dtype != b->weight_dtype)
        return ljc_set_err(b, "cuda matmul: weight dtype %d (want %d)", (int)p->w.dtype, (int)b->weight_dtype);
    size_t n = p->w.rows, k = p->w.cols;
    if (ljc_gemm(b, p->x, p->ldx, p->w.data, k, p->y, p->ldy, ljc_cuda_type(b), p->m, n, k, p->accumulate ? 1.0f : 0.0f))
        return -1;
    if (p->bias && p->m) {
        unsigned gx = ljc_blocks(n, 256), gy = p->m < 65535 ? (unsigned)p->m : 65535u;
        if (gx > 64) gx = 64;
        cudaStream_t st = ljc_of(b)->stream;
        if (ljc_f32(b)) bias_add_kernel<float><<<dim3(gx, gy), 256, 0, st>>>((float *)p->y, p->ldy, p->bias, p->m, n);
        else bias_add_kernel<bf16><<<dim3(gx, gy), 256, 0, st>>>((bf16 *)p->y, p->ldy, p->bias, p->m, n);
        LJC_LAUNCHED(b, "matmul bias");
    }
    return 0;
}
