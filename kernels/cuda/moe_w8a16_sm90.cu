/* W8A16 grouped GEMM on Hopper's warpgroup MMA (sm_90a), the prefill path of moe_w8a16.h.
 *
 * Roles: the int8 weights are the MMA's A operand (64 output channels per warpgroup), held in
 * registers — each thread reads its own fragment bytes from the raw int8 tile in shared memory
 * and widens them to bf16 there, so no bf16 copy of the weights exists anywhere, not even in
 * shared memory; the activations (tokens) are the B operand, read by the tensor cores straight
 * from a 128B-swizzled shared tile through a descriptor (no ldmatrix). One block: 128 channels
 * (two warpgroups) x BT tokens of one expert, K in steps of 64 through a 4-stage cp.async
 * pipeline; each step issues 4 wgmma (k16) per warpgroup and, while they run, widens the next
 * step's weights into the other register buffer. Epilogue: per-channel scale, then a transpose
 * through shared memory so y is written in 16-byte rows.
 *
 * Widening cost per weight element: the same exact magic-number conversion as the mma.sync
 * kernel, but each element is widened once per block and never stored back — the tensor cores'
 * issue slots are no longer shared with ldmatrix and bf16 stores. */
#include "kernels/cuda/moe_w8a16.h"

#include <cuda_bf16.h>

#include <type_traits>

#include "kernels/cuda/cuda_internal.h"
#include "kernels/cuda/device_util.cuh"
#include "kernels/cuda/wgmma.cuh"

typedef __nv_bfloat16 bf16;

#define WG_BM 128                 /* output channels per block (2 warpgroups x 64) */
#define WG_BK 64                  /* K per pipeline step: one 128-byte swizzle row of bf16 */
#ifndef WG_STAGES
#define WG_STAGES 4
#endif
#define WG_THREADS 256
#define WG_QS 80                  /* byte row stride of the int8 tile: 16-bit fragment loads conflict-free */
#ifdef WG_NO_PROXY_FENCE   /* experiment only: measures what the fence costs (not correct without it) */
#define WG_PROXY_FENCE() ((void)0)
#else
#define WG_PROXY_FENCE() fence_proxy_async_smem()
#endif

template <int BT> struct wg_cfg {
    static constexpr int b_bytes = BT * 128;                          /* x tile [BT, 64] bf16, swizzled */
    static constexpr int q_bytes = WG_BM * WG_QS;                     /* weight tile [128, 64] int8 */
    static constexpr int stage_bytes = (b_bytes + q_bytes + 1023) / 1024 * 1024;
    static constexpr int y_stride = WG_BM + 8;                        /* epilogue tile [BT, 136] bf16 */
    static constexpr int smem = WG_STAGES * stage_bytes + 1024;       /* + alignment slack */
    static_assert(BT * y_stride * 2 <= WG_STAGES * stage_bytes, "epilogue tile fits the pipeline");
};

template <int BT>
__global__ void __launch_bounds__(WG_THREADS, 1) w8a16_wgmma_kernel(ljc_w8a16_args a) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
    typedef wg_cfg<BT> C;
    extern __shared__ unsigned char wg_dyn[];
    unsigned char *smem = (unsigned char *)(((uintptr_t)wg_dyn + 1023) & ~(uintptr_t)1023);   /* swizzle atoms */
    const int N = (int)a.n, K = (int)a.k, KT = K / WG_BK, CT = (N + WG_BM - 1) / WG_BM;
    /* block order: expert, then channel tile, then row tile fastest. A wave of blocks then covers
     * a few dozen channel tiles x all row tiles of one expert: the expert's rows (a few MB) stay in
     * L2 while its weights stream from HBM once. (Row tiles of all experts fastest, as the mma.sync
     * kernel orders them, re-reads every row of x from HBM for each channel tile.) */
    int e = 0, base = 0, tiles = 0;
    for (; e < a.n_experts; e++) {
        tiles = (a.cnt[e] + BT - 1) / BT;
        if ((int)blockIdx.x < base + tiles * CT) break;
        base += tiles * CT;
    }
    if (e == a.n_experts) return;   /* the grid is an upper bound: counts live on the device */
    const int local = (int)blockIdx.x - base, tile = local % tiles;
    const int rows = min(BT, a.cnt[e] - tile * BT);
    const size_t row0 = (size_t)a.offs[e] + (size_t)tile * BT;
    const int n0 = (local / tiles) * WG_BM;
    /* an expert's last tile often holds few rows: at most 128 of 256 runs the n128 MMA over half
     * the tile (per expert that halves the average padding work) */
    const bool half = BT == 256 && rows <= 128;   /* the main loop is compiled for both (no branch per MMA) */
    const int8_t *W = a.w[e];
    const bf16 *X = (const bf16 *)a.x;
    bf16 *Y = (bf16 *)a.y;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, q = lane % 4;
    if (!W) {   /* expert parallel: another rank's expert, its rows are zero here */
        for (int i = tid; i < rows * WG_BM; i += WG_THREADS) {
            int r = i / WG_BM, n = n0 + i % WG_BM;
            if (n < N) Y[(row0 + r) * a.ldy + n] = __float2bfloat16(0.0f);
        }
        return;
    }
    const uint32_t sbase = ljc_smem_u32(smem);

    /* Per-thread copy plan, fixed for the block (the loops below have constant trip counts and
     * the addresses only move by k0 per step): x rows r = tid/8 + 32j, chunk c = tid % 8 — the
     * swizzle term depends on r % 8 = (tid/8) % 8 only; weight rows tid/4 + 64j, chunk tid % 4. */
    const int xr = tid / 8, xc = tid % 8, nx = rows > xr ? (rows - xr + 31) / 32 : 0;   /* rows j < nx exist */
    const bf16 *xsrc = X + (row0 + (xr < rows ? xr : 0)) * a.ldx + xc * 8;
    const size_t xstep = 32 * a.ldx;
    const uint32_t xdst = sw128_offset(xr, xc);
    const int wr = tid / 4, wc = tid % 4;
    const int8_t *wsrc0 = W + (size_t)min(n0 + wr, N - 1) * K + wc * 16;
    const int8_t *wsrc1 = W + (size_t)min(n0 + wr + 64, N - 1) * K + wc * 16;
    const int wsz0 = n0 + wr < N ? 16 : 0, wsz1 = n0 + wr + 64 < N ? 16 : 0;
    const uint32_t wdst = C::b_bytes + wr * WG_QS + wc * 16;
    auto load = [&](int kt, auto half_c) {   /* step kt -> stage kt % STAGES; rows past the tile are zero-filled */
        const uint32_t st = sbase + (uint32_t)((kt % WG_STAGES) * C::stage_bytes);
        const int k0 = kt * WG_BK;
#pragma unroll
        for (int j = 0; j < BT / 32; j++)
            if (!decltype(half_c)::value || j < 4) ljc_cp_async16(st + xdst + j * 32 * 128, xsrc + (j < nx ? j * xstep : 0) + k0, j < nx ? 16 : 0);
        ljc_cp_async16(st + wdst, wsrc0 + k0, wsz0);
        ljc_cp_async16(st + wdst + 64 * WG_QS, wsrc1 + k0, wsz1);
    };
    /* this thread's A fragments of step kt: rows 16·warp + g (+8), k = 16s + 2q (+1, +8, +9) */
    const uint32_t qoff = C::b_bytes + (16 * warp + g) * WG_QS + 2 * q;
    auto widen = [&](int kt, uint32_t (*af)[4]) {
        const uint32_t qt = sbase + (uint32_t)((kt % WG_STAGES) * C::stage_bytes) + qoff;
#pragma unroll
        for (int s = 0; s < 4; s++) {
            const uint32_t p = qt + 16 * s;
            /* k = 16s + 2q, +1 (bytes 0-1) and 16s + 8 + 2q, +1 (bytes 2-3) of rows g and g+8 */
            ljc_widen_i8x4(ljc_lds_u16(p) | ljc_lds_u16(p + 8) << 16, &af[s][0], &af[s][2]);
            ljc_widen_i8x4(ljc_lds_u16(p + 8 * WG_QS) | ljc_lds_u16(p + 8 * WG_QS + 8) << 16, &af[s][1], &af[s][3]);
        }
    };

    /* one whole path (main loop and epilogue) per tile shape: a branch inside would make the
     * compiler serialise the MMAs (C7515) */
    auto run = [&](auto half_c) {
        float acc[BT / 2];
    #pragma unroll
        for (int i = 0; i < BT / 2; i++) acc[i] = 0.0f;
        uint32_t af0[4][4], af1[4][4];   /* A fragments of the step that runs and of the next (two names, not an
                                            index: a runtime index would put them in local memory) */

        auto step = [&](int kt, uint32_t (*cur)[4], uint32_t (*next)[4], auto half_c) {
            const uint32_t bst = sbase + (uint32_t)((kt % WG_STAGES) * C::stage_bytes);
    #pragma unroll
            for (int i = 0; i < BT / 2; i++) wgmma_pin(acc[i]);
            wgmma_fence();
    #pragma unroll
            for (int s = 0; s < 4; s++) {
                if (BT == 256 && !decltype(half_c)::value) wgmma_rs_m64n256(acc, cur[s], wgmma_desc_sw128(bst + 32 * s));
                else wgmma_rs_m64n128(acc, cur[s], wgmma_desc_sw128(bst + 32 * s));
            }
            wgmma_commit();
    #pragma unroll
            for (int i = 0; i < BT / 2; i++) wgmma_pin(acc[i]);
            if (kt + 1 < KT) {
                wgmma_wait<1>();                 /* step kt-1 done here: its A registers and stage are free */
                ljc_cp_async_wait<WG_STAGES - 3>();     /* this thread's part of step kt+1 landed */
                WG_PROXY_FENCE();
                __syncthreads();                 /* ... everyone's; and both warpgroups finished step kt-1 */
                if (kt + WG_STAGES - 1 < KT) load(kt + WG_STAGES - 1, half_c);
                ljc_cp_async_commit();
                widen(kt + 1, next);
            }
        };
        auto mainloop = [&](auto half_c) {
    #pragma unroll
            for (int s = 0; s < WG_STAGES - 1; s++) {
                if (s < KT) load(s, half_c);
                ljc_cp_async_commit();
            }
            ljc_cp_async_wait<WG_STAGES - 2>();
            WG_PROXY_FENCE();
            __syncthreads();
            widen(0, af0);
            for (int kt = 0; kt < KT; kt += 2) {
                step(kt, af0, af1, half_c);
                if (kt + 1 < KT) step(kt + 1, af1, af0, half_c);
            }
        };
        mainloop(half_c);
        wgmma_wait<0>();
    #pragma unroll
        for (int i = 0; i < BT / 2; i++) wgmma_pin(acc[i]);
        ljc_cp_async_wait<0>();
        __syncthreads();   /* the pipeline's shared memory becomes the output tile */

        /* epilogue: channel c = 16·warp + g (+8), token t = 8j + 2q (+1); scale, bf16, transpose */
        const float *S = a.scale[e];
        bf16 *ys = (bf16 *)smem;   /* [BT, y_stride] */
        const int c0 = 16 * warp + g;
        const float s0 = n0 + c0 < N ? S[n0 + c0] : 0.0f, s1 = n0 + c0 + 8 < N ? S[n0 + c0 + 8] : 0.0f;
    #pragma unroll
        for (int j = 0; j < BT / 8; j++) {
            if (decltype(half_c)::value && j >= 16) break;   /* tokens 128.. were not computed */
            const int t = 8 * j + 2 * q;
            ys[t * C::y_stride + c0] = __float2bfloat16(acc[4 * j] * s0);
            ys[(t + 1) * C::y_stride + c0] = __float2bfloat16(acc[4 * j + 1] * s0);
            ys[t * C::y_stride + c0 + 8] = __float2bfloat16(acc[4 * j + 2] * s1);
            ys[(t + 1) * C::y_stride + c0 + 8] = __float2bfloat16(acc[4 * j + 3] * s1);
        }
        __syncthreads();
        for (int i = tid; i < rows * (WG_BM / 8); i += WG_THREADS) {   /* 16-byte chunks of y rows */
            const int r = i / (WG_BM / 8), c = (i % (WG_BM / 8)) * 8;
            if (n0 + c >= N) continue;   /* N % 8 == 0: a chunk is all in or all out */
            *reinterpret_cast<uint4 *>(Y + (row0 + r) * a.ldy + n0 + c) = *reinterpret_cast<const uint4 *>(&ys[r * C::y_stride + c]);
        }
    };
    if (half) run(std::true_type{});
    else run(std::false_type{});
#elif defined(__CUDA_ARCH__)
    __trap();   /* this architecture has no wgmma: the host side never launches it here */
#endif
}

template <int BT> static int wg_launch(const ljc_w8a16_args *a, cudaStream_t stream) {
    cudaError_t err = ljc_smem_optin((const void *)w8a16_wgmma_kernel<BT>, wg_cfg<BT>::smem);
    if (err != cudaSuccess) return (int)err;
    const size_t blocks = ((a->rows + BT - 1) / BT + (size_t)a->n_experts) * ((a->n + WG_BM - 1) / WG_BM);
    if (blocks > 0x7fffffff) return (int)cudaErrorInvalidConfiguration;
    dim3 grid((unsigned)blocks);
    w8a16_wgmma_kernel<BT><<<grid, WG_THREADS, wg_cfg<BT>::smem, stream>>>(*a);
    return (int)cudaGetLastError();
}

extern "C" int ljc_w8a16_wgmma_ok(const ljc_w8a16_args *a) {
    return ljc_device_sm90a() && !a->act_fp32 && a->k % WG_BK == 0 && a->n % 8 == 0 && a->ldx % 8 == 0 &&
           a->ldy % 8 == 0 && (uintptr_t)a->x % 16 == 0 && (uintptr_t)a->y % 16 == 0;
}

extern "C" int ljc_w8a16_wgmma(const ljc_w8a16_args *a, cudaStream_t stream) {
    /* tokens per block: 256 when experts get that many rows on average (the weight tile is then
     * widened once per 256 tokens), else 128 so that fewer rows are padding */
    return a->rows >= (size_t)a->n_experts * 256 ? wg_launch<256>(a, stream) : wg_launch<128>(a, stream);
}
