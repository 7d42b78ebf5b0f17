/* Selective scan (Mamba-1, diagonal A) with carried fp32 state, two ways (ljc_set_scan_mode):
 * a single pass per block over the whole sequence when the channels alone fill the GPU (prefill of
 * a wide model; see scan_walk), else chunked over time:
 *   delta = softplus(dt + dt_bias); A = -exp(A_log)
 *   h_t = exp(delta_t A) ⊙ h_{t-1} + delta_t x_t B_t ;  y_t = (h_t · C_t + D x_t) · silu(z_t)
 * The recurrence is linear in h, so a chunk of L steps maps h_in to P ⊙ h_in + S, where
 * P = exp(A · Σ delta) and S is the chunk's state from h_in = 0. Three launches:
 *   1. chunk_state: every (chunk, channel) runs its L steps from zero → S, Σ delta   (parallel)
 *   2. chunk_carry: per (channel, state) walk the chunks: h_in(c) = P(c-1) h_in(c-1) + S(c-1)
 *   3. chunk_output: every chunk re-runs its steps from its true h_in and writes y
 * A thread owns one channel with its N states in registers; B_t, C_t of the chunk sit in shared
 * memory. A step with one chunk (decode, short prompts) runs launch 3 alone. */
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_internal.h"
#include "kernels/cuda/device_util.cuh"

typedef __nv_bfloat16 bf16;

#ifndef SCAN_THREADS
#define SCAN_THREADS 128
#endif
#ifndef SCAN_SUB_BYTES
#define SCAN_SUB_BYTES 32   /* bytes of x/dt/z per channel staged at a time (16 bf16 steps; 64: -4%) */
#endif

struct scan_args {
    const void *x, *dt, *b, *c, *z;   /* activation type T of the kernel */
    size_t ldx, lddt, ldb, ldc, ldz, ldy;
    const float *dt_bias, *a_log, *d_skip;
    void *y;
    size_t D, N;
    float *S;        /* [seq][chunk][D][N] chunk states, then chunk initial states */
    float *sumdt;    /* [seq][chunk][D] */
    int nch_max;
};

/* 2^x for x <= 0 (dt·A in log2 units). The hardware ex2 alone (2 ulp): exp2f adds range
 * fix-ups around it that the scan, with its arguments always <= 0, does not need. */
__device__ __forceinline__ float scan_ex2(float x) {
#ifdef SCAN_EXP2F
    return exp2f(x);
#else
    return ljc_ex2(x);
#endif
}

/* log(1 + e^v) from the hardware exp and log (2 MUFU + a few FMAs; log1pf is ~20 instructions):
 * below v = -5 the series e - e²/2 + e³/3 (relative error < e³/4), where log(1 + e) would round;
 * above, __logf's absolute error (~4e-7) is at most ~6e-5 of the result. Used on both precisions:
 * the fp32 test cases stay at NMSE ~1e-14 against the float64 reference. */
__device__ __forceinline__ float scan_softplus(float v) {
    const float e = __expf(v);
    const float small = e * (1.0f - e * (0.5f - e * (1.0f / 3.0f)));
    return v > 20.0f ? v : v < -5.0f ? small : __logf(1.0f + e);
}
/* v·sigmoid(v) with the hardware reciprocal (v < -88: e = inf, the quotient 0) */
__device__ __forceinline__ float scan_silu(float v) { return __fdividef(v, 1.0f + __expf(-v)); }

template <int NP> struct scan_chunk_len { static const int L = NP <= 16 ? 128 : 64; };

/* Loads B (and C) rows [t0, t0+len) of a sequence into shared memory as fp32 [L][NP], zero padded. */
template <int NP, bool WITH_C, typename T>
__device__ __forceinline__ void scan_load_bc(const scan_args &a, int row0, int len, float *bs, float *cs) {
    const int L = scan_chunk_len<NP>::L;
    for (int i = threadIdx.x; i < L * NP; i += blockDim.x) {
        int t = i / NP, n = i % NP;
        bool ok = t < len && n < (int)a.N;
        bs[i] = ok ? ljc_ld((const T *)a.b + (size_t)(row0 + t) * a.ldb + n) : 0.0f;
        if (WITH_C) cs[i] = ok ? ljc_ld((const T *)a.c + (size_t)(row0 + t) * a.ldc + n) : 0.0f;
    }
}

/* x, dt (and z) of SUB steps × the block's channels, staged in shared memory so that each thread
 * issues all its loads of a sub-chunk at once instead of one dependent load per step. */
template <int NP, typename T> struct scan_sub { static const int S = (NP <= 16 ? SCAN_SUB_BYTES : SCAN_SUB_BYTES / 2) / (int)sizeof(T); };

template <bool WITH_Z, typename T>
__device__ __forceinline__ void scan_stage(const scan_args &a, size_t row, int sl, int SUB, size_t d, bool act, T *xs,
                                           T *dts, T *zs) {
    const T zero = T(0.0f);
    const T *x = (const T *)a.x, *dt = (const T *)a.dt, *z = (const T *)a.z;
    for (int t = 0; t < SUB; t++) {
        bool ok = act && t < sl;
        size_t r = row + t;
        xs[t * SCAN_THREADS + threadIdx.x] = ok ? x[r * a.ldx + d] : zero;
        dts[t * SCAN_THREADS + threadIdx.x] = ok ? dt[r * a.lddt + d] : zero;
        if (WITH_Z) zs[t * SCAN_THREADS + threadIdx.x] = ok ? z[r * a.ldz + d] : zero;
    }
}

template <int NP, typename T>
__global__ void __launch_bounds__(SCAN_THREADS) scan_chunk_state(ljc_seqs seqs, scan_args a) {
    const int L = scan_chunk_len<NP>::L, SUB = scan_sub<NP, T>::S;
    __shared__ float bs[L * NP];
    __shared__ T xs[SUB * SCAN_THREADS], dts[SUB * SCAN_THREADS];
    int s = blockIdx.z, ch = blockIdx.y;
    int t0 = ch * L;
    if (t0 >= seqs.ntok[s]) return;   /* uniform over the block */
    int len = min(L, seqs.ntok[s] - t0), row0 = seqs.start[s] + t0;
    scan_load_bc<NP, false, T>(a, row0, len, bs, nullptr);
    size_t d = blockIdx.x * (size_t)SCAN_THREADS + threadIdx.x;
    bool act = d < a.D;
    float A[NP], h[NP];
#pragma unroll
    for (int n = 0; n < NP; n++) {
        A[n] = act && n < (int)a.N ? -__expf(a.a_log[d * a.N + n]) * 1.4426950408889634f : 0.0f;   /* log2 units */
        h[n] = 0.0f;
    }
    float bias = act ? a.dt_bias[d] : 0.0f, sum = 0.0f;
    for (int sub = 0; sub < len; sub += SUB) {
        int sl = min(SUB, len - sub);
        __syncthreads();
        scan_stage<false, T>(a, (size_t)(row0 + sub), sl, SUB, d, act, xs, dts, nullptr);
        __syncthreads();
        for (int t = 0; t < sl; t++) {
            float dv = scan_softplus(ljc_ld(&dts[t * SCAN_THREADS + threadIdx.x]) + bias);
            float dx = dv * ljc_ld(&xs[t * SCAN_THREADS + threadIdx.x]);
            sum += dv;
            const float *bt = bs + (sub + t) * NP;
#pragma unroll
            for (int n = 0; n < NP; n++) h[n] = scan_ex2(dv * A[n]) * h[n] + dx * bt[n];
        }
    }
    if (!act) return;
    size_t base = ((size_t)s * a.nch_max + ch) * a.D + d;
    a.sumdt[base] = sum;
#pragma unroll
    for (int n = 0; n < NP; n++)
        if (n < (int)a.N) a.S[base * a.N + n] = h[n];
}

#define CARRY_AHEAD 16

__global__ void scan_chunk_carry(ljc_seqs seqs, scan_args a, int L) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    int s = blockIdx.y;
    if (i >= a.D * a.N) return;
    size_t d = i / a.N;
    float *state = (float *)seqs.p0[s];
    float A = -__expf(a.a_log[i]);
    float h = state[i];
    int nch = (seqs.ntok[s] + L - 1) / L;
    /* CARRY_AHEAD chunks' loads are issued before any of their stores: one load per chunk waiting on
     * the store before it (the compiler cannot reorder them: same array) made this walk a third of
     * the whole scan in ncu (516 of ~1,800 us, long-scoreboard stalls) */
    const size_t cstride = a.D * a.N, n = i % a.N;
    float *sp = a.S + ((size_t)s * a.nch_max * a.D + d) * a.N + n;
    const float *dp = a.sumdt + (size_t)s * a.nch_max * a.D + d;
    for (int c0 = 0; c0 < nch; c0 += CARRY_AHEAD) {
        float sv[CARRY_AHEAD], dv[CARRY_AHEAD];
#pragma unroll
        for (int j = 0; j < CARRY_AHEAD; j++)
            if (c0 + j < nch) {
                sv[j] = sp[(size_t)(c0 + j) * cstride];
                dv[j] = dp[(size_t)(c0 + j) * a.D];
            }
#pragma unroll
        for (int j = 0; j < CARRY_AHEAD; j++)
            if (c0 + j < nch) {
                sp[(size_t)(c0 + j) * cstride] = h;   /* now: the chunk's initial state */
                h = __expf(A * dv[j]) * h + sv[j];
            }
    }
    state[i] = h;
}

template <int NP, typename T>
__global__ void __launch_bounds__(SCAN_THREADS) scan_chunk_output(ljc_seqs seqs, scan_args a, int single) {
    const int L = scan_chunk_len<NP>::L, SUB = scan_sub<NP, T>::S;
    __shared__ float bs[L * NP], cs[L * NP];
    __shared__ T xs[SUB * SCAN_THREADS], dts[SUB * SCAN_THREADS], zs[SUB * SCAN_THREADS];
    int s = blockIdx.z, ch = blockIdx.y;
    int t0 = ch * L;
    if (t0 >= seqs.ntok[s]) return;
    int len = min(L, seqs.ntok[s] - t0), row0 = seqs.start[s] + t0;
    scan_load_bc<NP, true, T>(a, row0, len, bs, cs);
    size_t d = blockIdx.x * (size_t)SCAN_THREADS + threadIdx.x;
    bool act = d < a.D;
    float *state = (float *)seqs.p0[s];
    const float *h0 = single ? state + d * a.N : a.S + (((size_t)s * a.nch_max + ch) * a.D + d) * a.N;
    float A[NP], h[NP];
#pragma unroll
    for (int n = 0; n < NP; n++) {
        bool ok = act && n < (int)a.N;
        A[n] = ok ? -__expf(a.a_log[d * a.N + n]) * 1.4426950408889634f : 0.0f;
        h[n] = ok ? h0[n] : 0.0f;
    }
    float bias = act ? a.dt_bias[d] : 0.0f, dsk = act ? a.d_skip[d] : 0.0f;
    for (int sub = 0; sub < len; sub += SUB) {
        int sl = min(SUB, len - sub);
        __syncthreads();
        scan_stage<true, T>(a, (size_t)(row0 + sub), sl, SUB, d, act, xs, dts, zs);
        __syncthreads();
        for (int t = 0; t < sl; t++) {
            float xv = ljc_ld(&xs[t * SCAN_THREADS + threadIdx.x]);
            float dv = scan_softplus(ljc_ld(&dts[t * SCAN_THREADS + threadIdx.x]) + bias);
            float dx = dv * xv, acc = 0.0f;
            const float *bt = bs + (sub + t) * NP, *ct = cs + (sub + t) * NP;
#pragma unroll
            for (int n = 0; n < NP; n++) {
                h[n] = scan_ex2(dv * A[n]) * h[n] + dx * bt[n];
                acc += h[n] * ct[n];
            }
            float zv = ljc_ld(&zs[t * SCAN_THREADS + threadIdx.x]);
            if (act) ljc_st((T *)a.y + (size_t)(row0 + sub + t) * a.ldy + d, (acc + dsk * xv) * scan_silu(zv));
        }
    }
    if (single && act) {
#pragma unroll
        for (int n = 0; n < NP; n++)
            if (n < (int)a.N) state[d * a.N + n] = h[n];
    }
}

/* ---- single pass for wide models: the lanes of a channel walk the whole sequence -------------
 * G = NP/4 lanes own a channel, 4 states each, and step through the sequence in order: one exp and
 * 5 instructions per (step, channel, state), where the chunked path needs two passes (2 exps, ~9
 * instructions). A block of SW_THREADS lanes covers SW_THREADS/G channels, so there are
 * ⌈D·G/SW_THREADS⌉ × seqs blocks: enough to fill the GPU only for wide models (Jamba-1.5-Mini,
 * D = 8192: 512 blocks), which is when auto picks it; narrow models and decode keep the chunks.
 * Inputs come in SW_TI-step tiles, the next tile's loads issued before this tile's math; delta,
 * delta·x, D·x and silu(z) are computed once per (step, channel) while staging. Measured on the
 * H100 (T = D = 8192, N = 16; kernels/cuda/NOTES.md): 1.07 ms (chunks) -> 0.69-0.74 ms. A
 * time-parallel single pass (sub-chunks scanned from zero, folded, re-run from the decays kept in
 * registers) was slower than the chunks, 1.27-1.29 ms: 24 instructions per state-step (ncu). This
 * one runs ~12 (the 5 above, bf16 unpacking, loads, the lane reduction, staging) at an IPC of 2.3:
 * 1,024 warps in all leave ~2 per scheduler to hide latency; the exps alone would allow ~0.3 ms. */
#ifndef SW_THREADS
#define SW_THREADS 64
#endif
#ifndef SW_TI
#define SW_TI 32   /* steps per staged tile */
#endif
#ifndef SW_UNROLL
#define SW_UNROLL 2   /* G-step groups of a tile unrolled together */
#endif

/* Column swizzles of the staging tiles (16-byte pieces XORed by row): the VEC stager writes 16-byte
 * pieces of 4 rows per quarter warp, which without them land on the same banks (7.2-way store
 * conflicts, ncu); the compute role reads one row at a time, where any permutation within the row
 * is conflict free. sw_f2: [row][float2 col], pieces of 2; sw_f4: [row][float col], pieces of 4. */
__device__ __forceinline__ int sw_f2(int row, int col) { return col ^ ((row & 3) << 1); }
__device__ __forceinline__ int sw_f4(int row, int col) { return col ^ (((row >> 1) & 1) << 2); }

/* VEC: bf16, N = 16, every row and pointer 16-byte aligned (Jamba's shapes): a thread stages one
 * 16-byte piece (8 channels or 8 states of a row) of each input with one load, instead of one
 * 2-byte load with its own address arithmetic per element (~1/3 of the kernel's instructions, ncu) */
template <int NP, typename T, bool VEC>
__global__ void __launch_bounds__(SW_THREADS) scan_walk(ljc_seqs seqs, scan_args a) {
    constexpr int G = NP / 4;                      /* lanes per channel: c·G .. c·G+G-1 */
    constexpr int CH = SW_THREADS / G;             /* channels per block */
    constexpr int LX = SW_TI * CH / SW_THREADS;    /* (step, channel) inputs a thread stages */
    constexpr int LB = SW_TI * NP / SW_THREADS;    /* B/C inputs a thread stages */
    constexpr int unroll_groups = SW_UNROLL;
    static_assert(NP % 4 == 0 && G <= 32 && SW_THREADS % CH == 0 && SW_TI % G == 0 && LX >= 1 && LB >= 1, "scan_walk shape");
    static_assert(!VEC || (sizeof(T) == 2 && NP == 16 && SW_TI * CH == 8 * SW_THREADS && SW_TI * NP == 8 * SW_THREADS),
                  "scan_walk VEC shape");
    __shared__ __align__(16) float2 dd_s[SW_TI][CH];   /* delta, delta·x */
    __shared__ __align__(16) float xy_s[SW_TI][CH];    /* D·x, then y in place */
    __shared__ __align__(16) float sz_s[SW_TI][CH];    /* silu(z) */
    __shared__ __align__(16) float b_s[SW_TI][VEC ? 1 : NP], c_s[SW_TI][VEC ? 1 : NP];
    /* VEC: B and C stay bf16 (exact: that is what they are), interleaved so that one 16-byte load
     * gives a lane its step's B[4g..4g+3] and C[4g..4g+3]; as two fp32 float4 loads they were half
     * of the kernel's shared-memory wavefronts, the limit after the staging fixes (ncu) */
    __shared__ __align__(16) uint4 bc_s[SW_TI][VEC ? G : 1];
    const int sq = blockIdx.y, len = seqs.ntok[sq];
    const size_t row0 = seqs.start[sq], c0 = (size_t)blockIdx.x * CH;
    float *state = (float *)seqs.p0[sq];
    /* staging role: element i = tid + k·SW_THREADS of [SW_TI][CH] is channel tid % CH for every k */
    const int lc = threadIdx.x % CH;
    const bool lact = c0 + lc < a.D;
    const float bias = lact ? a.dt_bias[c0 + lc] : 0.0f, dsk = lact ? a.d_skip[c0 + lc] : 0.0f;
    const T *x = (const T *)a.x, *dt = (const T *)a.dt, *z = (const T *)a.z, *bg = (const T *)a.b, *cg = (const T *)a.c;
    /* compute role: channel c, states 4g .. 4g+3 */
    const int c = threadIdx.x / G, g = threadIdx.x % G;
    const size_t d = c0 + c;
    const bool act = d < a.D;
    float A2[4], h[4];   /* A in log2 units (0 for a padding state: it stays 0); the state */
#pragma unroll
    for (int s = 0; s < 4; s++) {
        int n = 4 * g + s;
        bool ok = act && n < (int)a.N;
        A2[s] = ok ? -__expf(a.a_log[d * a.N + n]) * 1.4426950408889634f : 0.0f;
        h[s] = ok ? state[d * a.N + n] : 0.0f;
    }
    /* VEC staging role: row tid/2 of the tile, channels (or states) 8·(tid%2) .. +8 */
    const int vr = threadIdx.x / 2, v8 = 8 * (threadIdx.x % 2);
    const bool vact = c0 + v8 < a.D;
    float vbias[8], vdsk[8];
    if constexpr (VEC) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            vbias[j] = vact ? a.dt_bias[c0 + v8 + j] : 0.0f;
            vdsk[j] = vact ? a.d_skip[c0 + v8 + j] : 0.0f;
        }
    }
    uint4 xq, dq, zq, bq, cq;   /* VEC: the next tile's pieces */
    auto fetch_v = [&](int t0) {
        const bool ok = t0 + vr < len;
        const size_t row = row0 + t0 + vr;
        const uint4 z4 = make_uint4(0u, 0u, 0u, 0u);
        xq = ok && vact ? *(const uint4 *)(x + row * a.ldx + c0 + v8) : z4;
        dq = ok && vact ? *(const uint4 *)(dt + row * a.lddt + c0 + v8) : z4;
        zq = ok && vact ? *(const uint4 *)(z + row * a.ldz + c0 + v8) : z4;
        bq = ok ? *(const uint4 *)(bg + row * a.ldb + v8) : z4;
        cq = ok ? *(const uint4 *)(cg + row * a.ldc + v8) : z4;
    };
    auto stage_v = [&](int t0) {
        const bool ok = vact && t0 + vr < len;
        float xf[8], df[8], zf[8], xy[8], sz[8], dd[16];
        ljc_bf16_unpack<8>(xq, xf);
        ljc_bf16_unpack<8>(dq, df);
        ljc_bf16_unpack<8>(zq, zf);
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const float dv = ok ? scan_softplus(df[j] + vbias[j]) : 0.0f;
            dd[2 * j] = dv;
            dd[2 * j + 1] = dv * xf[j];
            xy[j] = vdsk[j] * xf[j];
            sz[j] = scan_silu(zf[j]);
        }
#pragma unroll
        for (int q = 0; q < 4; q++)
            *(float4 *)&dd_s[vr][sw_f2(vr, v8 + 2 * q)] = make_float4(dd[4 * q], dd[4 * q + 1], dd[4 * q + 2], dd[4 * q + 3]);
#pragma unroll
        for (int q = 0; q < 2; q++) {
            *(float4 *)&xy_s[vr][sw_f4(vr, v8 + 4 * q)] = make_float4(xy[4 * q], xy[4 * q + 1], xy[4 * q + 2], xy[4 * q + 3]);
            *(float4 *)&sz_s[vr][sw_f4(vr, v8 + 4 * q)] = make_float4(sz[4 * q], sz[4 * q + 1], sz[4 * q + 2], sz[4 * q + 3]);
        }
        const int sw = (vr >> 1) & 1;   /* sw_f4's swizzle, on 16-byte pieces */
        bc_s[vr][(v8 / 4) ^ sw] = make_uint4(bq.x, bq.y, cq.x, cq.y);
        bc_s[vr][(v8 / 4 + 1) ^ sw] = make_uint4(bq.z, bq.w, cq.z, cq.w);
    };
    auto store_v = [&](int t0) {
        if (vact && t0 + vr < len) {
            const float4 lo = *(const float4 *)&xy_s[vr][sw_f4(vr, v8)], hi = *(const float4 *)&xy_s[vr][sw_f4(vr, v8 + 4)];
            const float yv[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
            *(uint4 *)((T *)a.y + (row0 + t0 + vr) * a.ldy + c0 + v8) = ljc_bf16_pack<8>(yv);
        }
    };
    T xr[LX], dr[LX], zr[LX], br[LB], cr[LB];   /* the next tile, loaded during this one's math */
    const T zero = T(0.0f);
    auto fetch = [&](int t0) {
#pragma unroll
        for (int k = 0; k < LX; k++) {
            int r = (threadIdx.x + k * SW_THREADS) / CH;
            bool ok = lact && t0 + r < len;
            size_t row = row0 + t0 + r, ch = c0 + lc;
            xr[k] = ok ? x[row * a.ldx + ch] : zero;
            dr[k] = ok ? dt[row * a.lddt + ch] : zero;
            zr[k] = ok ? z[row * a.ldz + ch] : zero;
        }
#pragma unroll
        for (int k = 0; k < LB; k++) {
            int i = threadIdx.x + k * SW_THREADS, r = i / NP, n = i % NP;
            bool ok = t0 + r < len && n < (int)a.N;
            size_t row = row0 + t0 + r;
            br[k] = ok ? bg[row * a.ldb + n] : zero;
            cr[k] = ok ? cg[row * a.ldc + n] : zero;
        }
    };
    auto stage = [&](int t0) {
#pragma unroll
        for (int k = 0; k < LX; k++) {
            int r = (threadIdx.x + k * SW_THREADS) / CH;
            bool ok = lact && t0 + r < len;   /* padding steps: delta = 0, so decay 1 and no input */
            float xv = ljc_ld(&xr[k]), dv = ok ? scan_softplus(ljc_ld(&dr[k]) + bias) : 0.0f;
            dd_s[r][sw_f2(r, lc)] = make_float2(dv, dv * xv);
            xy_s[r][sw_f4(r, lc)] = dsk * xv;
            sz_s[r][sw_f4(r, lc)] = scan_silu(ljc_ld(&zr[k]));
        }
#pragma unroll
        for (int k = 0; k < LB; k++) {
            int i = threadIdx.x + k * SW_THREADS;
            b_s[i / NP][sw_f4(i / NP, i % NP)] = ljc_ld(&br[k]);
            c_s[i / NP][sw_f4(i / NP, i % NP)] = ljc_ld(&cr[k]);
        }
    };
    auto store_y = [&](int t0) {
#pragma unroll
        for (int k = 0; k < LX; k++) {
            int r = (threadIdx.x + k * SW_THREADS) / CH;
            if (lact && t0 + r < len) ljc_st((T *)a.y + (row0 + t0 + r) * a.ldy + c0 + lc, xy_s[r][sw_f4(r, lc)]);
        }
    };
    const int ntiles = (len + SW_TI - 1) / SW_TI;
    if constexpr (VEC) fetch_v(0); else fetch(0);
    for (int it = 0; it < ntiles; it++) {
        const int t0 = it * SW_TI;
        __syncthreads();                    /* the previous tile is done with the staging arrays */
        if (it > 0) {                       /* the elements this thread restages next: no hazard */
            if constexpr (VEC) store_v(t0 - SW_TI); else store_y(t0 - SW_TI);
        }
        if constexpr (VEC) stage_v(t0); else stage(t0);
        __syncthreads();
        if (it + 1 < ntiles) {
            if constexpr (VEC) fetch_v(t0 + SW_TI); else fetch(t0 + SW_TI);
        }
#pragma unroll unroll_groups
        for (int t = 0; t < SW_TI; t += G) {
            float p[G];   /* h·C over this lane's states, for steps t .. t+G-1 */
#pragma unroll
            for (int u = 0; u < G; u++) {
                const int r = t + u;
                const float2 dd = dd_s[r][sw_f2(r, c)];
                float4 bb, cc;
                if constexpr (VEC) {   /* bf16 → fp32: the high half of a word, or the low one shifted up */
                    const uint4 q = bc_s[r][g ^ ((r >> 1) & 1)];
                    bb = make_float4(__uint_as_float(q.x << 16), __uint_as_float(q.x & 0xffff0000u), __uint_as_float(q.y << 16),
                                     __uint_as_float(q.y & 0xffff0000u));
                    cc = make_float4(__uint_as_float(q.z << 16), __uint_as_float(q.z & 0xffff0000u), __uint_as_float(q.w << 16),
                                     __uint_as_float(q.w & 0xffff0000u));
                } else {
                    bb = *(const float4 *)&b_s[r][sw_f4(r, 4 * g)];
                    cc = *(const float4 *)&c_s[r][sw_f4(r, 4 * g)];
                }
                h[0] = fmaf(scan_ex2(dd.x * A2[0]), h[0], dd.y * bb.x);
                h[1] = fmaf(scan_ex2(dd.x * A2[1]), h[1], dd.y * bb.y);
                h[2] = fmaf(scan_ex2(dd.x * A2[2]), h[2], dd.y * bb.z);
                h[3] = fmaf(scan_ex2(dd.x * A2[3]), h[3], dd.y * bb.w);
                p[u] = fmaf(h[3], cc.w, fmaf(h[2], cc.z, fmaf(h[1], cc.y, h[0] * cc.x)));
            }
            /* reduce-scatter over the channel's G lanes: lane g ends with the sum for step t+g */
#pragma unroll
            for (int o = G / 2; o >= 1; o /= 2) {
                const bool upper = g & o;
#pragma unroll
                for (int i = 0; i < o; i++) {
                    float send = upper ? p[i] : p[i + o], keep = upper ? p[i + o] : p[i];
                    p[i] = keep + __shfl_xor_sync(0xffffffffu, send, o);
                }
            }
            const int ry = t + g, cy = sw_f4(ry, c);
            xy_s[ry][cy] = (p[0] + xy_s[ry][cy]) * sz_s[ry][cy];
        }
    }
    __syncthreads();
    if (ntiles > 0) {
        if constexpr (VEC) store_v((ntiles - 1) * SW_TI); else store_y((ntiles - 1) * SW_TI);
    }
    if (act) {
#pragma unroll
        for (int s = 0; s < 4; s++) {
            int n = 4 * g + s;
            if (n < (int)a.N) state[d * a.N + n] = h[s];
        }
    }
}

/* ---- decode: one token per sequence ----------------------------------------------------------
 * NP lanes per channel, one state each (NP <= 32): all loads of a (channel, state) are independent,
 * so the step is a couple of round trips to memory, where the chunk kernel staged a whole chunk
 * for one token (9.6 us per layer at decode, measured). Same math as the chunk kernel; the lanes'
 * h·C terms are summed by shuffles. */
#define SCAN_STEP_THREADS 256
template <int NP, typename T>
__global__ void __launch_bounds__(SCAN_STEP_THREADS) scan_step_kernel(ljc_seqs seqs, scan_args a) {
    const int s = blockIdx.y, n = threadIdx.x % NP;
    const size_t d = blockIdx.x * (size_t)(SCAN_STEP_THREADS / NP) + threadIdx.x / NP;
    const bool act = d < a.D && seqs.ntok[s] > 0, has_n = act && n < (int)a.N;
    const size_t row = (size_t)seqs.start[s];
    float *state = (float *)seqs.p0[s];
    float h = 0.0f, A = 0.0f, bn = 0.0f, cn = 0.0f, xv = 0.0f, dtv = 0.0f, zv = 0.0f, bias = 0.0f, dsk = 0.0f;
    if (has_n) {
        h = state[d * a.N + n];
        A = -__expf(a.a_log[d * a.N + n]) * 1.4426950408889634f;
        bn = ljc_ld((const T *)a.b + row * a.ldb + n);
        cn = ljc_ld((const T *)a.c + row * a.ldc + n);
    }
    if (act) {
        xv = ljc_ld((const T *)a.x + row * a.ldx + d);
        dtv = ljc_ld((const T *)a.dt + row * a.lddt + d);
        zv = ljc_ld((const T *)a.z + row * a.ldz + d);
        bias = a.dt_bias[d];
        dsk = a.d_skip[d];
    }
    const float dv = scan_softplus(dtv + bias);
    h = scan_ex2(dv * A) * h + dv * xv * bn;
    float acc = h * cn;
#pragma unroll
    for (int o = NP / 2; o > 0; o /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, o);   /* within the NP lanes */
    if (has_n) state[d * a.N + n] = h;
    if (act && n == 0) ljc_st((T *)a.y + row * a.ldy + d, (acc + dsk * xv) * scan_silu(zv));
}

template <int NP, typename T>
static int scan_launch(lj_backend *b, const lj_scan_params *p, const ljc_seqs *t) {
    const int L = scan_chunk_len<NP>::L;
    cudaStream_t st = ljc_of(b)->stream;
    scan_args a;
    a.x = p->x; a.dt = p->dt; a.b = p->b; a.c = p->c;
    a.z = p->z; a.y = p->y;
    a.ldx = p->ldx; a.lddt = p->lddt; a.ldb = p->ldb; a.ldc = p->ldc; a.ldz = p->ldz; a.ldy = p->ldy;
    a.dt_bias = p->dt_bias; a.a_log = p->a_log; a.d_skip = p->d_skip;
    a.D = p->d; a.N = p->n;
    int nch = (t->max_tok + L - 1) / L;
    a.nch_max = nch;
    a.S = NULL; a.sumdt = NULL;
    ljc_impl *im = ljc_of(b);
    if constexpr (NP <= 32) {
        if (t->max_tok == 1) {   /* decode */
            const unsigned per = SCAN_STEP_THREADS / NP;
            scan_step_kernel<NP, T><<<dim3((unsigned)((p->d + per - 1) / per), (unsigned)t->n), SCAN_STEP_THREADS, 0, st>>>(*t, a);
            LJC_LAUNCHED(b, "scan step");
            return 0;
        }
    }
    if constexpr (NP <= 16) {
        const size_t ch = SW_THREADS / (NP / 4), blocks = ljc_blocks(p->d, (unsigned)ch) * t->n;
        if (im->scan_mode == LJC_SCAN_SINGLE ||
            (im->scan_mode == LJC_SCAN_AUTO && nch > 1 && blocks >= 3 * (size_t)im->num_sms)) {
            const dim3 grid(ljc_blocks(p->d, (unsigned)ch), (unsigned)t->n);
            auto al = [](const void *q) { return (uintptr_t)q % 16 == 0; };
            const bool vec = sizeof(T) == 2 && NP == 16 && p->n == 16 && p->d % 8 == 0 && p->ldx % 8 == 0 && p->lddt % 8 == 0 &&
                             p->ldz % 8 == 0 && p->ldb % 8 == 0 && p->ldc % 8 == 0 && p->ldy % 8 == 0 && al(p->x) &&
                             al(p->dt) && al(p->z) && al(p->b) && al(p->c) && al(p->y);
            if (vec) scan_walk<NP, T, sizeof(T) == 2 && NP == 16><<<grid, SW_THREADS, 0, st>>>(*t, a);
            else scan_walk<NP, T, false><<<grid, SW_THREADS, 0, st>>>(*t, a);
            LJC_LAUNCHED(b, "scan walk");
            return 0;
        }
    }
    dim3 grid(ljc_blocks(p->d, SCAN_THREADS), (unsigned)nch, (unsigned)t->n);
    if (nch == 1) {
        scan_chunk_output<NP, T><<<grid, SCAN_THREADS, 0, st>>>(*t, a, 1);
        LJC_LAUNCHED(b, "scan");
        return 0;
    }
    size_t per = (size_t)t->n * nch * p->d;
    void *ws;
    if (ljc_scratch(b, per * (p->n + 1) * sizeof(float), &ws)) return -1;
    a.S = (float *)ws;
    a.sumdt = a.S + per * p->n;
    scan_chunk_state<NP, T><<<grid, SCAN_THREADS, 0, st>>>(*t, a);
    LJC_LAUNCHED(b, "scan chunk_state");
    dim3 g2(ljc_blocks(p->d * p->n, 256), (unsigned)t->n);
    scan_chunk_carry<<<g2, 256, 0, st>>>(*t, a, L);
    LJC_LAUNCHED(b, "scan chunk_carry");
    scan_chunk_output<NP, T><<<grid, SCAN_THREADS, 0, st>>>(*t, a, 0);
    LJC_LAUNCHED(b, "scan chunk_output");
    return 0;
}

template <typename T>
static int scan_dispatch(lj_backend *b, const lj_scan_params *p, const ljc_seqs *t) {
    if (p->n <= 8) return scan_launch<8, T>(b, p, t);
    if (p->n <= 16) return scan_launch<16, T>(b, p, t);
    if (p->n <= 32) return scan_launch<32, T>(b, p, t);
    return scan_launch<64, T>(b, p, t);
}

int ljc_scan(lj_backend *b, const lj_scan_params *p) {
    if (p->n < 1 || p->n > 64) return ljc_set_err(b, "cuda scan: d_state %zu not in 1..64", p->n);
    for (size_t first = 0; first < p->batch.n_seqs; first += LJC_MAX_SEQS) {
        size_t cnt = p->batch.n_seqs - first < LJC_MAX_SEQS ? p->batch.n_seqs - first : LJC_MAX_SEQS;
        ljc_seqs t;
        ljc_seqs_fill(&t, &p->batch, first, cnt, (void *const *)p->state, NULL);
        if (!t.max_tok) continue;
        int rc = ljc_f32(b) ? scan_dispatch<float>(b, p, &t) : scan_dispatch<bf16>(b, p, &t);
        if (rc) return rc;
    }
    return 0;
}

/* ---- the scan's arithmetic alone: the benchmark's roofline ------------------------------------
 * Per (step, state), what any exact scan must compute: dA = 2^(delta·A) (one FMUL and one MUFU
 * ex2), h = dA·h + delta·x·B and y += h·C (two FFMAs), here on values in registers — no loads, no
 * staging, no softplus/silu, no reduction. 4 states per thread as in scan_walk. Its time for a
 * problem's T·D·N state-steps bounds every one-exp-per-state-step design from below. */
__global__ void __launch_bounds__(256) scan_floor_kernel(long long steps, float *sink) {
    float h[4] = {0.0f, 0.0f, 0.0f, 0.0f}, y = 0.0f, dt = 1e-3f * (float)(threadIdx.x & 15);
    const float A2[4] = {-1.4427f, -2.8854f, -4.3281f, -5.7708f}, c = 0.5f;
    for (long long t = 0; t < steps; t++) {
        dt = fmaf(dt, 0.999f, 1e-3f);   /* a new delta (and delta·x·B, here dt) every step */
#pragma unroll
        for (int s = 0; s < 4; s++) {
            h[s] = fmaf(ljc_ex2(dt * A2[s]), h[s], dt);
            y = fmaf(h[s], c, y);
        }
    }
    if (y == -1.0f) *sink = y;   /* never true: keeps the work */
}

int ljc_scan_floor(lj_backend *b, size_t state_steps) {
    ljc_impl *im = ljc_of(b);
    const unsigned blocks = (unsigned)im->num_sms * 8;   /* 8 x 256 threads per SM */
    const long long per = (long long)(state_steps / ((size_t)blocks * 256 * 4));
    scan_floor_kernel<<<blocks, 256, 0, im->stream>>>(per, NULL);
    LJC_LAUNCHED(b, "scan floor");
    return 0;
}

