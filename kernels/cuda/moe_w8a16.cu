/* W8A16 grouped GEMM (see moe_w8a16.h): int8 expert weights widened to bf16 in registers. */
#include "kernels/cuda/moe_w8a16.h"

#include <cuda_bf16.h>

typedef __nv_bfloat16 bf16;

/* ---- tiled tensor-core kernel (prefill) ------------------------------------------------------
 * Block tile BM x BN of y, K in steps of BK; 4 warps as 2 x 2, each 32 x 32 = 2 x 4 mma tiles of
 * m16n8k16. x tile bf16 [BM, BK] and weight tile int8 [BN, BK] staged in shared memory; the B
 * fragments are read as int8 pairs and converted to bf16x2 right before the mma. */
#define W8_BM 64
#define W8_BN 64
#define W8_BK 32
#define W8_AS (W8_BK + 8)    /* bf16 row stride of the x tile (80 B: 16-byte aligned rows) */
#define W8_BS (W8_BK + 16)   /* byte row stride of the weight tile (48 B) */

__device__ __forceinline__ uint32_t w8_pair_bf16x2(const int8_t *p) {
    /* two consecutive int8 (k, k+1) -> bf16x2 with k in the low half; exact for |q| <= 127 */
    __nv_bfloat162 v = __floats2bfloat162_rn((float)p[0], (float)p[1]);
    return *reinterpret_cast<uint32_t *>(&v);
}

__device__ __forceinline__ void w8_mma(float *d, const uint32_t *a, uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* Which expert and which BM-row tile of it block row `t` computes (tiles of all experts in
 * order); false when t is past the last tile (the grid has an upper bound of R/BM + E rows). */
__device__ __forceinline__ bool w8_tile(const int *cnt, int E, int t, int *e_out, int *tile_out) {
    int acc = 0;
    for (int e = 0; e < E; e++) {
        int tiles = (cnt[e] + W8_BM - 1) / W8_BM;
        if (t < acc + tiles) { *e_out = e; *tile_out = t - acc; return true; }
        acc += tiles;
    }
    return false;
}

__global__ void __launch_bounds__(128) w8a16_mma_kernel(ljc_w8a16_args a) {
    __shared__ __align__(16) bf16 As[W8_BM * W8_AS];
    __shared__ __align__(16) int8_t Bs[W8_BN * W8_BS];
    int e, tile;
    if (!w8_tile(a.cnt, a.n_experts, blockIdx.y, &e, &tile)) return;
    const int rows = min(W8_BM, a.cnt[e] - tile * W8_BM);
    const size_t row0 = (size_t)a.offs[e] + (size_t)tile * W8_BM;
    const int n0 = blockIdx.x * W8_BN, N = (int)a.n, K = (int)a.k;
    const int8_t *W = a.w[e];
    const float *S = a.scale[e];
    const bf16 *X = (const bf16 *)a.x;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, tq = lane % 4;
    const int wm = warp / 2, wn = warp % 2;
    float acc[2][4][4] = {};
    for (int k0 = 0; k0 < K; k0 += W8_BK) {
        /* x tile: 64 rows x 32 bf16 = 256 x 16 B, two per thread */
        for (int i = tid; i < W8_BM * W8_BK / 8; i += 128) {
            int r = i / (W8_BK / 8), c = (i % (W8_BK / 8)) * 8;
            uint4 v = make_uint4(0, 0, 0, 0);
            if (r < rows) v = *reinterpret_cast<const uint4 *>(X + (row0 + r) * a.ldx + k0 + c);
            *reinterpret_cast<uint4 *>(&As[r * W8_AS + c]) = v;
        }
        /* weight tile: 64 output rows x 32 int8 = 128 x 16 B, one per thread */
        {
            int r = tid / (W8_BK / 16), c = (tid % (W8_BK / 16)) * 16;
            uint4 v = make_uint4(0, 0, 0, 0);
            if (n0 + r < N) v = *reinterpret_cast<const uint4 *>(W + (size_t)(n0 + r) * K + k0 + c);
            *reinterpret_cast<uint4 *>(&Bs[r * W8_BS + c]) = v;
        }
        __syncthreads();
#pragma unroll
        for (int ks = 0; ks < W8_BK; ks += 16) {
            uint32_t af[2][4];
#pragma unroll
            for (int mt = 0; mt < 2; mt++) {
                const bf16 *p = &As[(wm * 32 + mt * 16 + g) * W8_AS + ks + tq * 2];
                af[mt][0] = *reinterpret_cast<const uint32_t *>(p);
                af[mt][1] = *reinterpret_cast<const uint32_t *>(p + 8 * W8_AS);
                af[mt][2] = *reinterpret_cast<const uint32_t *>(p + 8);
                af[mt][3] = *reinterpret_cast<const uint32_t *>(p + 8 * W8_AS + 8);
            }
#pragma unroll
            for (int nt = 0; nt < 4; nt++) {
                const int8_t *q = &Bs[(wn * 32 + nt * 8 + g) * W8_BS + ks + tq * 2];
                uint32_t b0 = w8_pair_bf16x2(q), b1 = w8_pair_bf16x2(q + 8);   // dequantised in registers
#pragma unroll
                for (int mt = 0; mt < 2; mt++) w8_mma(acc[mt][nt], af[mt], b0, b1);
            }
        }
        __syncthreads();
    }
    /* epilogue: the per-output-channel scale, then bf16 */
    bf16 *Y = (bf16 *)a.y;
#pragma unroll
    for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                int r = wm * 32 + mt * 16 + g + h * 8;
                if (r >= rows) continue;
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    int n = n0 + wn * 32 + nt * 8 + tq * 2 + j;
                    if (n < N) Y[(row0 + r) * a.ldy + n] = __float2bfloat16(acc[mt][nt][h * 2 + j] * S[n]);
                }
            }
}

/* ---- warp-per-column kernel (decode; fp32 path) ----------------------------------------------
 * Each warp owns one output row n of expert e's weights and streams it once for up to W8_RC of
 * the expert's rows at a time (decode steps route one or a few rows to each expert). */
#define W8_RC 4

__device__ __forceinline__ float w8_load(const bf16 *p) { return __bfloat162float(*p); }
__device__ __forceinline__ float w8_load(const float *p) { return *p; }
__device__ __forceinline__ void w8_store(bf16 *p, float v) { *p = __float2bfloat16(v); }
__device__ __forceinline__ void w8_store(float *p, float v) { *p = v; }

template <typename T>
__global__ void w8a16_col_kernel(ljc_w8a16_args a) {
    const int e = blockIdx.y, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int n = blockIdx.x * (blockDim.x / 32) + warp;
    const int cnt = a.cnt[e];
    if (n >= (int)a.n || cnt == 0) return;
    const size_t K = a.k, row0 = (size_t)a.offs[e];
    const int8_t *q = a.w[e] + (size_t)n * K;
    const float s = a.scale[e][n];
    const T *X = (const T *)a.x;
    T *Y = (T *)a.y;
    for (int r0 = 0; r0 < cnt; r0 += W8_RC) {
        const int nr = min(W8_RC, cnt - r0);
        float acc[W8_RC] = {};
        for (size_t k = lane * 4; k < K; k += 32 * 4) {   /* 4 int8 per lane per step (K % 4 == 0) */
            char4 w4 = *reinterpret_cast<const char4 *>(q + k);
            float w[4] = {(float)w4.x, (float)w4.y, (float)w4.z, (float)w4.w};
#pragma unroll
            for (int r = 0; r < W8_RC; r++) {
                if (r >= nr) break;
                const T *xr = X + (row0 + r0 + r) * a.ldx + k;
                acc[r] += w[0] * w8_load(xr) + w[1] * w8_load(xr + 1) + w[2] * w8_load(xr + 2) + w[3] * w8_load(xr + 3);
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

extern "C" int ljc_w8a16_grouped(const ljc_w8a16_args *a, cudaStream_t stream) {
    if (!a->rows || !a->n) return 0;
    if (a->k % 4) return (int)cudaErrorInvalidValue;
    const bool aligned = a->ldx % 8 == 0 && (uintptr_t)a->x % 16 == 0;
    bool mma = !a->act_fp32 && a->k % W8_BK == 0 && aligned && a->force != 2 &&
               (a->force == 1 || a->rows > 64);   /* a few rows per expert: the column kernel reads less */
    if (mma) {
        dim3 grid((unsigned)((a->n + W8_BN - 1) / W8_BN), (unsigned)((a->rows + W8_BM - 1) / W8_BM + a->n_experts));
        w8a16_mma_kernel<<<grid, 128, 0, stream>>>(*a);
    } else {
        dim3 grid((unsigned)((a->n + 7) / 8), (unsigned)a->n_experts);
        if (a->act_fp32) w8a16_col_kernel<float><<<grid, 256, 0, stream>>>(*a);
        else w8a16_col_kernel<bf16><<<grid, 256, 0, stream>>>(*a);
    }
    return (int)cudaGetLastError();
}
