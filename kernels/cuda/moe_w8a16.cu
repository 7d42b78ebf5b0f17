/* W8A16 grouped GEMM (see moe_w8a16.h): int8 expert weights widened to bf16 in registers. */
#include "kernels/cuda/moe_w8a16.h"

#include <cuda_bf16.h>

#include "kernels/cuda/cuda_internal.h"
#include "kernels/cuda/device_util.cuh"
#include "kernels/cuda/gemv.h"

typedef __nv_bfloat16 bf16;

/* ---- tiled tensor-core kernel (prefill) ------------------------------------------------------
 * Block tile BM x BN of y (BM rows of one expert, BN output channels), K in steps of BK (64), 8 warps
 * as 2 (M) x 4 (N), each 64 x 32 = 4 x 4 mma tiles of m16n8k16. A STAGES-deep cp.async pipeline
 * brings the bf16 x tile and the raw int8 weight tile of step k+STAGES-1 while step k computes.
 * Each step the int8 tile is widened once into a bf16 tile in shared memory (so the weights exist
 * in bf16 only there, one BN x BK tile at a time), with the exact magic-number conversion
 * (0x4B000000 | (q ^ 0x80) is the float 2^23 + 128 + q: one byte permute and one subtract, no
 * int-to-float instruction); fragments come from ldmatrix. The per-channel scale is applied in the
 * epilogue. */
#define W8_BM 128
#define W8_BN 128
#ifndef W8_BK
#define W8_BK 64
#endif
#define W8_STAGES 3
#define W8_THREADS 256
#define W8_AS (W8_BK + 8)    /* bf16 row stride of the x and widened weight tiles (ldmatrix conflict-free) */
#define W8_BS W8_BK          /* byte row stride of the raw int8 tile (the widening reads it conflict-free) */

__device__ __forceinline__ void w8_mma(float *d, const uint32_t *a, uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void w8_ldsm_x4(uint32_t *r, const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(ljc_smem_u32(p)));
}

struct w8_smem_t {
    bf16 a[W8_STAGES][W8_BM * W8_AS];       // x tiles [BM, BK]
    int8_t q[W8_STAGES][W8_BN * W8_BS];     // raw weight tiles [BN, BK]
    bf16 w[W8_BN * W8_AS];                  // the current weight tile widened to bf16
};

__global__ void __launch_bounds__(W8_THREADS, 2) w8a16_mma_kernel(ljc_w8a16_args a) {
    extern __shared__ __align__(128) unsigned char w8_dyn[];   /* ~98 KB: more than static shared allows */
    w8_smem_t &sm = *reinterpret_cast<w8_smem_t *>(w8_dyn);
    int e, tile;
    /* x: the row tile (fastest, so the blocks that share one weight tile run together and find it
     * in L2; an expert's rows, a few MB of bf16, stay there too), y: the output-channel tile */
    if (!w8_tile_of(a.cnt, a.n_experts, blockIdx.x, W8_BM, &e, &tile)) return;
    const int rows = min(W8_BM, a.cnt[e] - tile * W8_BM);
    const size_t row0 = (size_t)a.offs[e] + (size_t)tile * W8_BM;
    const int n0 = blockIdx.y * W8_BN, N = (int)a.n, K = (int)a.k, KT = K / W8_BK;
    const int8_t *W = a.w[e];
    const float *S = a.scale[e];
    const bf16 *X = (const bf16 *)a.x;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, tq = lane % 4;
    if (!W) {   /* expert parallel: another rank's expert, its rows are zero here */
        for (int i = tid; i < rows * W8_BN; i += W8_THREADS) {
            int r = i / W8_BN, n = n0 + i % W8_BN;
            if (n < N) ((bf16 *)a.y)[(row0 + r) * a.ldy + n] = __float2bfloat16(0.0f);
        }
        return;
    }
    const int wm = warp / 4, wn = warp % 4;   /* warp tile: rows wm*64.., channels wn*32.. */

    auto load = [&](int stage, int kt) {
        const int k0 = kt * W8_BK;
#pragma unroll
        for (int i = tid; i < W8_BM * W8_BK / 8; i += W8_THREADS) {   /* x: 128 rows x chunks of 8 bf16 */
            int r = i / (W8_BK / 8), c = (i % (W8_BK / 8)) * 8;
            bool ok = r < rows;
            ljc_cp_async16(ljc_smem_u32(&sm.a[stage][r * W8_AS + c]), X + (ok ? (row0 + r) * a.ldx + k0 + c : 0), ok ? 16 : 0);
        }
#pragma unroll
        for (int i = tid; i < W8_BN * W8_BK / 16; i += W8_THREADS) {   /* weights: 128 channels x chunks of 16 int8 */
            int r = i / (W8_BK / 16), c = (i % (W8_BK / 16)) * 16;
            bool ok = n0 + r < N;
            ljc_cp_async16(ljc_smem_u32(&sm.q[stage][r * W8_BS + c]), W + (ok ? (size_t)(n0 + r) * K + k0 + c : 0), ok ? 16 : 0);
        }
    };

    float acc[4][4][4] = {};
#pragma unroll
    for (int st = 0; st < W8_STAGES - 1; st++) {
        if (st < KT) load(st, st);
        ljc_cp_async_commit();
    }
    for (int kt = 0; kt < KT; kt++) {
        const int stage = kt % W8_STAGES;
        ljc_cp_async_wait<W8_STAGES - 2>();
        __syncthreads();   /* stage kt landed for every thread; step kt-1's reads of sm.w are done */
        {   /* widen: 128 x BK int8, BK/4 words per row */
#pragma unroll
            for (int i = tid; i < W8_BN * W8_BK / 4; i += W8_THREADS) {
                int r = i / (W8_BK / 4), c = (i % (W8_BK / 4)) * 4;
                uint32_t q = *reinterpret_cast<const uint32_t *>(&sm.q[stage][r * W8_BS + c]), lo, hi;
                ljc_widen_i8x4(q, &lo, &hi);
                *reinterpret_cast<uint2 *>(&sm.w[r * W8_AS + c]) = make_uint2(lo, hi);
            }
        }
        if (kt + W8_STAGES - 1 < KT) load((kt + W8_STAGES - 1) % W8_STAGES, kt + W8_STAGES - 1);
        ljc_cp_async_commit();
        __syncthreads();   /* sm.w complete */
        const bf16 *As = sm.a[stage];
#pragma unroll
        for (int ks = 0; ks < W8_BK; ks += 16) {
            uint32_t af[4][4], bfr[2][4];
#pragma unroll
            for (int mt = 0; mt < 4; mt++)
                w8_ldsm_x4(af[mt], &As[(wm * 64 + mt * 16 + (lane % 16)) * W8_AS + ks + (lane / 16) * 8]);
#pragma unroll
            for (int np = 0; np < 2; np++)   /* two n8 tiles per ldmatrix.x4 */
                w8_ldsm_x4(bfr[np], &sm.w[(wn * 32 + np * 16 + (lane % 8) + (lane / 16) * 8) * W8_AS + ks +
                                          ((lane / 8) % 2) * 8]);
#pragma unroll
            for (int mt = 0; mt < 4; mt++)
#pragma unroll
                for (int nt = 0; nt < 4; nt++)
                    w8_mma(acc[mt][nt], af[mt], bfr[nt / 2][(nt % 2) * 2], bfr[nt / 2][(nt % 2) * 2 + 1]);
        }
    }
    ljc_cp_async_wait<0>();
    /* epilogue: the per-output-channel scale, then bf16 */
    bf16 *Y = (bf16 *)a.y;
#pragma unroll
    for (int nt = 0; nt < 4; nt++) {
        const int n = n0 + wn * 32 + nt * 8 + tq * 2;
        const float s0 = n < N ? S[n] : 0.0f, s1 = n + 1 < N ? S[n + 1] : 0.0f;
#pragma unroll
        for (int mt = 0; mt < 4; mt++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                int r = wm * 64 + mt * 16 + g + h * 8;
                if (r >= rows || n >= N) continue;
                bf16 *yp = Y + (row0 + r) * a.ldy + n;
                float v0 = acc[mt][nt][h * 2] * s0, v1 = acc[mt][nt][h * 2 + 1] * s1;
                if (n + 1 < N && (((uintptr_t)yp) & 3) == 0) *reinterpret_cast<__nv_bfloat162 *>(yp) = __floats2bfloat162_rn(v0, v1);
                else {
                    yp[0] = __float2bfloat16(v0);
                    if (n + 1 < N) yp[1] = __float2bfloat16(v1);
                }
            }
    }
}

/* ---- warp-per-column kernel (decode; fp32 path) ----------------------------------------------
 * Each warp owns one output row n and, for every expert that has rows this step, streams that
 * expert's row n of weights once for up to W8_RC of its rows at a time (decode steps route one or
 * a few rows to each expert). The grid covers the output rows only — experts are a loop, so the
 * experts nobody chose cost a branch, not a block each (a block per expert made 16 x more blocks,
 * most of them empty). V int8 per lane per step: 8 (one 8-byte load) when K % 8 == 0. Since the
 * GEMV below, it runs the fp32 mode and the LJC_W8A16=col tests. */
#define W8_RC 4

__device__ __forceinline__ void w8_loadv(const bf16 *p, float *f, int v) {   /* v = 4 or 8, aligned */
    if (v == 8) {
        uint4 u = *reinterpret_cast<const uint4 *>(p);
        const __nv_bfloat162 *h = reinterpret_cast<const __nv_bfloat162 *>(&u);
#pragma unroll
        for (int i = 0; i < 4; i++) { float2 t = __bfloat1622float2(h[i]); f[2 * i] = t.x; f[2 * i + 1] = t.y; }
    } else {
        uint2 u = *reinterpret_cast<const uint2 *>(p);
        const __nv_bfloat162 *h = reinterpret_cast<const __nv_bfloat162 *>(&u);
#pragma unroll
        for (int i = 0; i < 2; i++) { float2 t = __bfloat1622float2(h[i]); f[2 * i] = t.x; f[2 * i + 1] = t.y; }
    }
}
__device__ __forceinline__ void w8_loadv(const float *p, float *f, int v) {
    for (int i = 0; i < v; i += 4) {
        float4 t = *reinterpret_cast<const float4 *>(p + i);
        f[i] = t.x; f[i + 1] = t.y; f[i + 2] = t.z; f[i + 3] = t.w;
    }
}
__device__ __forceinline__ void w8_store(bf16 *p, float v) { *p = __float2bfloat16(v); }
__device__ __forceinline__ void w8_store(float *p, float v) { *p = v; }

template <typename T, int V>
__global__ void w8a16_col_kernel(ljc_w8a16_args a) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int n = blockIdx.x * (blockDim.x / 32) + warp;
    if (n >= (int)a.n) return;
    const size_t K = a.k;
    const T *X = (const T *)a.x;
    T *Y = (T *)a.y;
    for (int e = 0; e < a.n_experts; e++) {
        const int cnt = a.cnt[e];
        if (cnt == 0) continue;
        const size_t row0 = (size_t)a.offs[e];
        if (!a.w[e]) {   /* expert parallel: another rank's expert, its rows are zero here */
            if (lane == 0)
                for (int r = 0; r < cnt; r++) w8_store(Y + (row0 + r) * a.ldy + n, 0.0f);
            continue;
        }
        const int8_t *q = a.w[e] + (size_t)n * K;
        const float s = a.scale[e][n];
        for (int r0 = 0; r0 < cnt; r0 += W8_RC) {
            const int nr = min(W8_RC, cnt - r0);
            float acc[W8_RC] = {};
#pragma unroll 4
            for (size_t k = lane * V; k < K; k += 32 * V) {
                float w[V], x[V];
                if (V == 8) {
                    uint2 u = *reinterpret_cast<const uint2 *>(q + k);
                    const int8_t *b = reinterpret_cast<const int8_t *>(&u);
#pragma unroll
                    for (int i = 0; i < V; i++) w[i] = (float)b[i];
                } else {
                    char4 w4 = *reinterpret_cast<const char4 *>(q + k);
                    w[0] = w4.x; w[1] = w4.y; w[2] = w4.z; w[3] = w4.w;
                }
#pragma unroll
                for (int r = 0; r < W8_RC; r++) {
                    if (r >= nr) break;
                    w8_loadv(X + (row0 + r0 + r) * a.ldx + k, x, V);
#pragma unroll
                    for (int i = 0; i < V; i++) acc[r] += w[i] * x[i];
                }
            }
#pragma unroll
            for (int r = 0; r < W8_RC; r++) {
                float v = acc[r];
                for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
                if (lane == 0 && r < nr) w8_store(Y + (row0 + r0 + r) * a.ldy + n, v * s);
            }
        }
    }
}

extern "C" int ljc_w8a16_grouped(const ljc_w8a16_args *a, cudaStream_t stream) {
    if (!a->rows || !a->n) return 0;
    if (a->k % 4) return (int)cudaErrorInvalidValue;
    const bool aligned = a->ldx % 8 == 0 && (uintptr_t)a->x % 16 == 0 && a->k % 16 == 0;
    bool mma = !a->act_fp32 && a->k % W8_BK == 0 && aligned && a->force != 2 &&
               (a->force == 1 || a->force == 3 || a->rows > 64);   /* a few rows per expert: the column kernel reads less */
    /* sm_90a when the GPU has it (forcing it elsewhere runs the mma.sync kernel) */
    if (mma && (a->force == 0 || a->force == 3) && ljc_w8a16_wgmma_ok(a)) return ljc_w8a16_wgmma(a, stream);
    if (mma) {
        dim3 grid((unsigned)((a->rows + W8_BM - 1) / W8_BM + a->n_experts), (unsigned)((a->n + W8_BN - 1) / W8_BN));
        cudaError_t err = ljc_smem_optin((const void *)w8a16_mma_kernel, (int)sizeof(w8_smem_t));
        if (err != cudaSuccess) return (int)err;
        w8a16_mma_kernel<<<grid, W8_THREADS, sizeof(w8_smem_t), stream>>>(*a);
    } else {
        /* 8 int8 per lane needs K % 8 and 16-byte aligned activation rows (32-byte for fp32) */
        const size_t xs = a->act_fp32 ? 4 : 2;
        const bool v8 = a->k % 8 == 0 && (a->ldx * xs) % 16 == 0 && (uintptr_t)a->x % 16 == 0;
        const bool v4 = (a->ldx * xs) % (4 * xs) == 0 && (uintptr_t)a->x % (4 * xs) == 0;
        if (!v4) return (int)cudaErrorMisalignedAddress;
        if (!a->act_fp32 && a->force != 2) {   /* the small-batch GEMV (gemv.cu), grouped by expert */
            const ljc_gemv_args g = {a->n_experts, a->offs, a->cnt, (const void *const *)a->w, a->scale, NULL, NULL,
                                     a->x, a->ldx, a->y, a->ldy, a->rows, a->n, a->k, 1, 0, 0};
            if (ljc_gemv_ok(&g)) {
                int dev, sms = 132;   /* per call: GPUs of different sizes may share a process */
                if (cudaGetDevice(&dev) == cudaSuccess) cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
                return ljc_gemv(&g, sms, stream);
            }
        }
        dim3 grid((unsigned)((a->n + 7) / 8));
        if (a->act_fp32) {
            if (v8) w8a16_col_kernel<float, 8><<<grid, 256, 0, stream>>>(*a);
            else w8a16_col_kernel<float, 4><<<grid, 256, 0, stream>>>(*a);
        } else {
            if (v8) w8a16_col_kernel<bf16, 8><<<grid, 256, 0, stream>>>(*a);
            else w8a16_col_kernel<bf16, 4><<<grid, 256, 0, stream>>>(*a);
        }
    }
    return (int)cudaGetLastError();
}
