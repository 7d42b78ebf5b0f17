/* Small-batch GEMV (see gemv.h). CPU reference: the matmul op of kernels/cpu (and, grouped, the
 * MoE op's expert GEMMs).
 *
 * A block owns GC output channels (rows of W) of one group; its warps split K in 16-byte pieces
 * per lane (8 bf16 or 16 int8 weights), so each lane keeps GC independent 16-byte weight loads in
 * flight, and the matching activations (from L1/L2: every block reads the same few rows) are
 * loaded once for the GC rows. Activation rows go RB at a time (RB <= rows of the group), so a
 * decode batch of 8 reads each weight once. The RB·GC partial sums of a warp are reduced by a
 * transposing butterfly (each shuffle step halves the values a lane holds: RB·GC - 1 shuffles in
 * all instead of 5 per value), then across warps in shared memory. */
#include "kernels/cuda/gemv.h"

#include <cuda_bf16.h>
#include <stdint.h>

#include "kernels/cuda/device_util.cuh"

typedef __nv_bfloat16 bf16;

#define GEMV_MAX_WARPS 8

/* 16 bytes of weights read once: no L1 allocation (the activations live there) */
__device__ __forceinline__ uint4 gemv_ld_stream(const uint4 *p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
}

/* Σ of one 16-byte load of weights times its activations: 8 bf16 (bf16 -> fp32 is a shift or a
 * mask) or 16 int8 (exact, full-rate: ljc_i8_float) */
template <bool I8>
__device__ __forceinline__ float gemv_dot(uint4 w, const float *xf, float acc) {
    const uint32_t u[4] = {w.x, w.y, w.z, w.w};
    if constexpr (I8) {
#pragma unroll
        for (int i = 0; i < 16; i++) acc = fmaf(ljc_i8_float(u[i / 4] ^ 0x80808080u, i % 4), xf[i], acc);
    } else {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            acc = fmaf(__uint_as_float(u[i] << 16), xf[2 * i], acc);
            acc = fmaf(__uint_as_float(u[i] & 0xffff0000u), xf[2 * i + 1], acc);
        }
    }
    return acc;
}

/* One step of the reduction below: CNT values per lane -> CNT/2, trading the half this lane gives
 * away with the lane OFF away (templates keep every index a constant: v stays in registers). */
template <int CNT, int OFF>
__device__ __forceinline__ void gemv_reduce_step(float *v, int lane, int *base) {
    if constexpr (CNT > 1) {
        const bool upper = lane & OFF;
#pragma unroll
        for (int i = 0; i < CNT / 2; i++) {
            const float send = upper ? v[i] : v[i + CNT / 2];
            const float keep = upper ? v[i + CNT / 2] : v[i];
            v[i] = keep + __shfl_xor_sync(0xffffffffu, send, OFF);
        }
        if (upper) *base += CNT / 2;
        gemv_reduce_step<CNT / 2, OFF / 2>(v, lane, base);
    } else {
#pragma unroll
        for (int off = OFF; off > 0; off /= 2) v[0] += __shfl_xor_sync(0xffffffffu, v[0], off);
    }
}

/* M values per lane (M a power of two <= 32) -> the warp sums of all M: lane l ends up holding the
 * sum of value `*idx`, the same in each run of 32/M lanes. Each step trades half of a lane's values
 * with the lane `off` away and keeps the half its `off` bit selects: M - 1 + log2(32/M) shuffles. */
template <int M>
__device__ __forceinline__ float gemv_warp_reduce(float *v, int lane, int *idx) {
    static_assert(M >= 1 && M <= 32 && (M & (M - 1)) == 0, "a power of two up to the warp's 32 lanes");
    *idx = 0;
    gemv_reduce_step<M, 16>(v, lane, idx);
    return v[0];
}

/* Which group block row `want` serves: the want-th group with rows (all lanes of a warp agree);
 * -1 when fewer groups have rows. */
__device__ __forceinline__ int gemv_group_of(const int *cnt, int n_groups, int want, int lane) {
    for (int base = 0; base < n_groups; base += 32) {
        const int e = base + lane;
        const unsigned m = __ballot_sync(0xffffffffu, e < n_groups && cnt[e] > 0);
        const int c = __popc(m);
        if (want < c) {
            unsigned mm = m;
            for (int i = 0; i < want; i++) mm &= mm - 1;
            return base + __ffs(mm) - 1;
        }
        want -= c;
    }
    return -1;
}

template <bool I8, int GC, int RB>
__global__ void __launch_bounds__(GEMV_MAX_WARPS * 32) gemv_kernel(ljc_gemv_args a) {
    constexpr int EPL = I8 ? 16 : 8;   /* weights per 16-byte load */
    constexpr int M = GC * RB;
    __shared__ float part[GEMV_MAX_WARPS][M];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    const int N = (int)a.n;
    const size_t K = a.k, pieces = K / EPL;

    int g = 0;
    size_t r0 = 0, r1 = a.rows;
    if (a.cnt) {
        g = gemv_group_of(a.cnt, a.n_groups, blockIdx.y, lane);
        if (g < 0) return;
        r0 = (size_t)a.offs[g];
        r1 = r0 + (size_t)a.cnt[g];
    }
    const void *wg = a.w ? a.w[g] : a.w0;
    const int n0 = blockIdx.x * GC;
    if (!wg) {   /* expert parallel: another rank's expert, its rows add nothing */
        if (a.accumulate) return;
        for (size_t i = threadIdx.x; i < (r1 - r0) * GC; i += blockDim.x) {
            const size_t o = (r0 + i / GC) * a.ldy + n0 + i % GC;
            if (n0 + (int)(i % GC) >= N) continue;
            if (a.y_f32) ((float *)a.y)[o] = 0.0f;
            else ((bf16 *)a.y)[o] = __float2bfloat16(0.0f);
        }
        return;
    }
    const float *sc = I8 ? (a.scale ? a.scale[g] : a.scale0) : nullptr;
    const uint4 *wrow[GC];   /* channels past N read row N-1 again and are not stored */
#pragma unroll
    for (int c = 0; c < GC; c++)
        wrow[c] = reinterpret_cast<const uint4 *>((const char *)wg + (size_t)min(n0 + c, N - 1) * K * (I8 ? 1 : 2));

    for (size_t rb = r0; rb < r1; rb += RB) {
        const int nr = (int)min((size_t)RB, r1 - rb);
        float acc[M];
#pragma unroll
        for (int i = 0; i < M; i++) acc[i] = 0.0f;
#pragma unroll 2
        for (size_t p = (size_t)warp * 32 + lane; p < pieces; p += (size_t)warps * 32) {
            uint4 w[GC];
#pragma unroll
            for (int c = 0; c < GC; c++) w[c] = gemv_ld_stream(wrow[c] + p);
#pragma unroll
            for (int r = 0; r < RB; r++) {
                if (r >= nr) continue;   /* the block's last pass of a group: fewer rows */
                const uint4 *xp = reinterpret_cast<const uint4 *>((const bf16 *)a.x + (rb + r) * a.ldx + p * EPL);
                float xf[EPL];
#pragma unroll
                for (int h = 0; h < EPL / 8; h++) {
                    const uint4 xv = __ldg(xp + h);
                    const uint32_t u[4] = {xv.x, xv.y, xv.z, xv.w};
#pragma unroll
                    for (int i = 0; i < 4; i++) {
                        xf[8 * h + 2 * i] = __uint_as_float(u[i] << 16);
                        xf[8 * h + 2 * i + 1] = __uint_as_float(u[i] & 0xffff0000u);
                    }
                }
#pragma unroll
                for (int c = 0; c < GC; c++) acc[r * GC + c] = gemv_dot<I8>(w[c], xf, acc[r * GC + c]);
            }
        }
        int idx;
        const float v = gemv_warp_reduce<M>(acc, lane, &idx);
        if (lane % (32 / M) == 0) part[warp][idx] = v;
        __syncthreads();
        if ((int)threadIdx.x < M) {
            const int r = threadIdx.x / GC, n = n0 + (int)threadIdx.x % GC;
            if (r < nr && n < N) {
                float s = 0.0f;
                for (int i = 0; i < warps; i++) s += part[i][threadIdx.x];
                if (I8) s *= sc[n];
                const size_t o = (rb + r) * a.ldy + n;
                if (a.y_f32) ((float *)a.y)[o] = s + (a.accumulate ? ((float *)a.y)[o] : 0.0f);
                else ((bf16 *)a.y)[o] = __float2bfloat16(s + (a.accumulate ? __bfloat162float(((bf16 *)a.y)[o]) : 0.0f));
            }
        }
        __syncthreads();
    }
}

extern "C" int ljc_gemv_ok(const ljc_gemv_args *a) {
    const size_t epl = a->w_int8 ? 16 : 8;
    return a->k % epl == 0 && a->ldx % 8 == 0 && (uintptr_t)a->x % 16 == 0 && (!a->w0 || (uintptr_t)a->w0 % 16 == 0) &&
           a->n > 0 && a->n <= 0x7fffffff && a->n_groups >= 1;
}

template <bool I8>
static void gemv_launch(const ljc_gemv_args *a, int rb, int gc, dim3 grid, unsigned threads, cudaStream_t st) {
    if (rb == 1 && gc == 2) gemv_kernel<I8, 2, 1><<<grid, threads, 0, st>>>(*a);
    else if (rb == 1 && gc == 4) gemv_kernel<I8, 4, 1><<<grid, threads, 0, st>>>(*a);
    else if (rb == 1) gemv_kernel<I8, 8, 1><<<grid, threads, 0, st>>>(*a);
    else if (rb == 2) gemv_kernel<I8, 8, 2><<<grid, threads, 0, st>>>(*a);
    else if (rb == 4) gemv_kernel<I8, 8, 4><<<grid, threads, 0, st>>>(*a);
    else gemv_kernel<I8, 4, 8><<<grid, threads, 0, st>>>(*a);
}

extern "C" int ljc_gemv(const ljc_gemv_args *a, int sms, cudaStream_t stream) {
    if (!a->rows || !a->n) return 0;
    if (!ljc_gemv_ok(a)) return (int)cudaErrorInvalidValue;
    /* blocks per column of channel groups: the groups that have rows (at most one per row) */
    const size_t gy = a->cnt ? (a->rows < (size_t)a->n_groups ? a->rows : (size_t)a->n_groups) : 1;
    /* rows per pass: a plain matrix's all (<= 8); a group's, from the average (rows past RB take
     * another pass, rows short of it cost nothing: the block skips them) */
    const size_t per = (a->rows + gy - 1) / gy;
    const int rb = !a->cnt ? (per <= 1 ? 1 : per <= 2 ? 2 : per <= 4 ? 4 : 8) : (a->rows <= 2 ? 1 : per <= 2 ? 4 : 8);
    int gc = rb == 8 ? 4 : 8;
    /* one row per pass: narrower blocks where 8-channel ones would not give every SM 8 of them
     * (4,096 channels: 512 blocks of 8 are 3 or 4 per SM, and the SMs with 4 finish last) */
    if (rb == 1 && (a->n + 7) / 8 * gy < 8 * (size_t)sms) gc = (a->n + 3) / 4 * gy >= 4 * (size_t)sms ? 4 : 2;
    const size_t bx = (a->n + gc - 1) / gc;
    /* warps split K: up to 8 (enough loads in flight when the blocks are few), 4 when there are
     * blocks enough to fill the GPU several times over (less reduction per byte) */
    const size_t pieces = a->k / (a->w_int8 ? 16 : 8);
    size_t warps = (pieces + 31) / 32;
    const size_t cap = bx * gy >= 4 * (size_t)sms ? 4 : GEMV_MAX_WARPS;
    if (warps > cap) warps = cap;
    if (warps < 1) warps = 1;
    if (bx > 0x7fffffff || gy > 65535) return (int)cudaErrorInvalidConfiguration;
    dim3 grid((unsigned)bx, (unsigned)gy);
    if (a->w_int8) gemv_launch<true>(a, rb, gc, grid, (unsigned)warps * 32, stream);
    else gemv_launch<false>(a, rb, gc, grid, (unsigned)warps * 32, stream);
    return (int)cudaGetLastError();
}
