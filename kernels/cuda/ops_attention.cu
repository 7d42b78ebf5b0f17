/* Causal GQA attention over a per-sequence bf16 KV cache, no positional encoding.
 *  - append: the step's k/v rows go to the caches at each sequence's positions.
 *  - prefill (a sequence with > 1 new token): flash-attention style, tensor cores (mma.sync
 *    m16n8k16 bf16, fp32 accumulate), online softmax; a block owns 128 queries (8 warps × 16) of one head and walks
 *    the cache in 64-key tiles (cp.async double buffering, XOR-swizzled shared memory for
 *    ldmatrix); never a T×T matrix.
 *  - decode (one new token): split-K over the cache; a block owns (sequence, kv head, key range)
 *    and all query heads of that group, so each K/V row is read once; a second launch merges the
 *    splits with their max/sum. */
#include <stdlib.h>

#include "kernels/cuda/cuda_internal.h"
#include "kernels/cuda/attention_sm90.h"
#include "kernels/cuda/device_util.cuh"

typedef __nv_bfloat16 bf16;

#define LOG2E 1.4426950408889634f

/* ---- append ------------------------------------------------------------------------------ */

template <typename T>
__global__ void kv_append_kernel(ljc_seqs seqs, const T *k, size_t ldk, const T *v, size_t ldv, size_t kvdim) {
#if __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;");   /* decode attention may launch; it waits for this grid's end */
#endif
    int s = blockIdx.y, t = blockIdx.x;
    if (t >= seqs.ntok[s]) return;
    size_t row = (size_t)(seqs.start[s] + t), dst = (size_t)(seqs.pos[s] + t) * kvdim;
    T *kc = (T *)seqs.p0[s], *vc = (T *)seqs.p1[s];
    for (size_t i = threadIdx.x; i < kvdim; i += blockDim.x) {
        kc[dst + i] = k[row * ldk + i];
        vc[dst + i] = v[row * ldv + i];
    }
}

/* bf16 rows of kvdim % 8 == 0, 16-byte aligned: each thread's K and V pieces loaded before either
 * store (the loop above may not hoist a load over a store to a possibly aliasing cache row, and a
 * decode step's append was a chain of dependent round trips ahead of the attention that waits
 * for it) */
__global__ void kv_append_vec_kernel(ljc_seqs seqs, const uint4 *__restrict__ k, size_t ldk8, const uint4 *__restrict__ v,
                                     size_t ldv8, size_t kv8) {
#if __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;");
#endif
    const int s = blockIdx.y, t = blockIdx.x;
    if (t >= seqs.ntok[s]) return;
    const size_t row = (size_t)(seqs.start[s] + t), dst = (size_t)(seqs.pos[s] + t) * kv8;
    uint4 *__restrict__ kc = (uint4 *)seqs.p0[s];
    uint4 *__restrict__ vc = (uint4 *)seqs.p1[s];
    for (size_t i = threadIdx.x; i < kv8; i += blockDim.x) {
        const uint4 kv = k[row * ldk8 + i], vv = v[row * ldv8 + i];
        kc[dst + i] = kv;
        vc[dst + i] = vv;
    }
}

/* ---- prefill: flash attention on mma.sync ------------------------------------------------ */

#define FA_WARPS 8
#define FA_BM (16 * FA_WARPS)
#define FA_BN 64
#define FA_THREADS (32 * FA_WARPS)

struct fa_args {
    const bf16 *q;
    size_t ldq;
    bf16 *out;
    size_t ldo;
    int n_heads, group;      /* query heads, query heads per kv head */
    size_t kvdim;            /* n_kv_heads * head_dim: a cache row */
    float scale_log2;
    int n_qtiles;
};


__device__ __forceinline__ void ldsm_x4(uint32_t &r0, uint32_t &r1, uint32_t &r2, uint32_t &r3, const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(ljc_smem_u32(p)));
}
__device__ __forceinline__ void ldsm_x4_t(uint32_t &r0, uint32_t &r1, uint32_t &r2, uint32_t &r3, const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(ljc_smem_u32(p)));
}
/* d (16x8 fp32) += a (16x16 bf16, row) · b (16x8 bf16, col) */
__device__ __forceinline__ void mma_bf16(float *d, const uint32_t *a, uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* Element offset of (row, 16-byte chunk) in a swizzled [rows][HD] bf16 tile. */
template <int HD>
__device__ __forceinline__ int swz(int row, int chunk) {
    const int CH = HD / 8, M = CH - 1 < 7 ? CH - 1 : 7;
    return row * HD + ((chunk ^ (row & M)) << 3);
}

/* rows [row0, row0+ROWS) of a [*, ld] bf16 matrix → swizzled tile; rows at or past `limit` are
 * zero-filled. */
template <int HD, int ROWS>
__device__ __forceinline__ void fa_load_tile(bf16 *tile, const bf16 *base, size_t ld, int row0, int limit) {
    const int CH = HD / 8;
    for (int i = threadIdx.x; i < ROWS * CH; i += FA_THREADS) {
        int r = i / CH, c = i % CH;
        bool ok = row0 + r < limit;
        const bf16 *src = base + (ok ? (size_t)(row0 + r) * ld : 0) + c * 8;
        ljc_cp_async16(ljc_smem_u32(tile + swz<HD>(r, c)), src, ok ? 16 : 0);
    }
}

/* One online-softmax step (base 2) on mma.sync accumulators, rows g (r = 0) and g+8 (r = 1):
 * NT score tiles sc[NT][4] (q·k, made probabilities in place), this thread's running max m[2] and
 * partial sum l[2], and NO output tiles o[NO][4] rescaled to the new max. */
template <int NT, int NO>
__device__ __forceinline__ void flash_softmax_step(float (*sc)[4], float (*o)[4], float *m, float *l, float scale_log2) {
#pragma unroll
    for (int r = 0; r < 2; r++) {
        float mx = -INFINITY;
#pragma unroll
        for (int nt = 0; nt < NT; nt++) mx = fmaxf(mx, fmaxf(sc[nt][2 * r], sc[nt][2 * r + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        float mnew = fmaxf(m[r], mx * scale_log2);
        float muse = mnew == -INFINITY ? 0.0f : mnew;
        float alpha = ljc_ex2(m[r] - muse);
        float sum = 0.0f;
#pragma unroll
        for (int nt = 0; nt < NT; nt++) {
            float p0 = ljc_ex2(sc[nt][2 * r] * scale_log2 - muse);
            float p1 = ljc_ex2(sc[nt][2 * r + 1] * scale_log2 - muse);
            sc[nt][2 * r] = p0;
            sc[nt][2 * r + 1] = p1;
            sum += p0 + p1;
        }
        l[r] = l[r] * alpha + sum;
        m[r] = mnew;
#pragma unroll
        for (int dt = 0; dt < NO; dt++) {
            o[dt][2 * r] *= alpha;
            o[dt][2 * r + 1] *= alpha;
        }
    }
}

template <int HD>
__global__ void __launch_bounds__(FA_THREADS) flash_prefill_kernel(ljc_seqs seqs, fa_args a) {
    extern __shared__ __align__(16) unsigned char fa_smem[];
    bf16 *Qs = (bf16 *)fa_smem;
    bf16 *Ks = Qs + FA_BM * HD;            /* [2][BN*HD] */
    bf16 *Vs = Ks + 2 * FA_BN * HD;        /* [2][BN*HD] */

    int s = blockIdx.z, h = blockIdx.y;
    int qt = a.n_qtiles - 1 - blockIdx.x;  /* heavy (late) tiles first */
    int ntok = seqs.ntok[s], pos = seqs.pos[s];
    if (qt * FA_BM >= ntok) return;
    int kvh = h / a.group;
    int kv_len = pos + ntok;
    int q_end = min(ntok, (qt + 1) * FA_BM);
    int kv_end = min(kv_len, pos + q_end);          /* keys any query of this tile may see */
    int nkv = (kv_end + FA_BN - 1) / FA_BN;
    const bf16 *kc = (const bf16 *)seqs.p0[s] + kvh * HD;
    const bf16 *vc = (const bf16 *)seqs.p1[s] + kvh * HD;
    const bf16 *qb = a.q + (size_t)seqs.start[s] * a.ldq + (size_t)h * HD;

    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, tq = lane % 4;

    fa_load_tile<HD, FA_BM>(Qs, qb, a.ldq, qt * FA_BM, ntok);
    fa_load_tile<HD, FA_BN>(Ks, kc, a.kvdim, 0, kv_len);
    fa_load_tile<HD, FA_BN>(Vs, vc, a.kvdim, 0, kv_len);
    ljc_cp_async_commit();

    uint32_t qf[HD / 16][4];
    float o[HD / 8][4];
#pragma unroll
    for (int i = 0; i < HD / 8; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
    int qi0 = qt * FA_BM + warp * 16 + g;      /* query index (within the step) of rows g and g+8 */
    int qpos0 = pos + qi0, qpos1 = qpos0 + 8;

    for (int j = 0; j < nkv; j++) {
        if (j + 1 < nkv) {
            int buf = (j + 1) & 1;
            fa_load_tile<HD, FA_BN>(Ks + buf * FA_BN * HD, kc, a.kvdim, (j + 1) * FA_BN, kv_len);
            fa_load_tile<HD, FA_BN>(Vs + buf * FA_BN * HD, vc, a.kvdim, (j + 1) * FA_BN, kv_len);
        }
        ljc_cp_async_commit();
        ljc_cp_async_wait<1>();
        __syncthreads();
        if (j == 0) {
#pragma unroll
            for (int kk = 0; kk < HD / 16; kk++)
                ldsm_x4(qf[kk][0], qf[kk][1], qf[kk][2], qf[kk][3], Qs + swz<HD>(warp * 16 + (lane % 16), kk * 2 + lane / 16));
        }
        const bf16 *Kt = Ks + (j & 1) * FA_BN * HD, *Vt = Vs + (j & 1) * FA_BN * HD;

        float sc[FA_BN / 8][4];
#pragma unroll
        for (int nt = 0; nt < FA_BN / 8; nt++) sc[nt][0] = sc[nt][1] = sc[nt][2] = sc[nt][3] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < HD / 16; kk++) {
#pragma unroll
            for (int np = 0; np < FA_BN / 16; np++) {
                uint32_t b0, b1, b2, b3;
                int mi = lane / 8, r = lane % 8;
                ldsm_x4(b0, b1, b2, b3, Kt + swz<HD>(np * 16 + r + (mi / 2) * 8, kk * 2 + (mi % 2)));
                mma_bf16(sc[2 * np], qf[kk], b0, b1);
                mma_bf16(sc[2 * np + 1], qf[kk], b2, b3);
            }
        }
        /* mask: key > query position, or past the cache */
        int key0 = j * FA_BN;
        if (key0 + FA_BN - 1 > pos + qt * FA_BM || key0 + FA_BN > kv_len) {
#pragma unroll
            for (int nt = 0; nt < FA_BN / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    int key = key0 + nt * 8 + 2 * tq + (e & 1);
                    int qp = e < 2 ? qpos0 : qpos1;
                    if (key > qp || key >= kv_len) sc[nt][e] = -INFINITY;
                }
        }
        flash_softmax_step<FA_BN / 8, HD / 8>(sc, o, m, l, a.scale_log2);
        /* O += P · V */
#pragma unroll
        for (int kk = 0; kk < FA_BN / 16; kk++) {
            uint32_t pa[4];
            pa[0] = ljc_pack_bf16(sc[2 * kk][0], sc[2 * kk][1]);
            pa[1] = ljc_pack_bf16(sc[2 * kk][2], sc[2 * kk][3]);
            pa[2] = ljc_pack_bf16(sc[2 * kk + 1][0], sc[2 * kk + 1][1]);
            pa[3] = ljc_pack_bf16(sc[2 * kk + 1][2], sc[2 * kk + 1][3]);
#pragma unroll
            for (int dp = 0; dp < HD / 16; dp++) {
                uint32_t b0, b1, b2, b3;
                int mi = lane / 8, r = lane % 8;
                ldsm_x4_t(b0, b1, b2, b3, Vt + swz<HD>(kk * 16 + r + (mi % 2) * 8, dp * 2 + mi / 2));
                mma_bf16(o[2 * dp], pa, b0, b1);
                mma_bf16(o[2 * dp + 1], pa, b2, b3);
            }
        }
        __syncthreads();   /* this buffer is refilled two tiles later */
    }
    ljc_cp_async_wait<0>();

#pragma unroll
    for (int r = 0; r < 2; r++) {
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    }
    float inv0 = l[0] > 0 ? 1.0f / l[0] : 0.0f, inv1 = l[1] > 0 ? 1.0f / l[1] : 0.0f;
    bf16 *ob = a.out + (size_t)seqs.start[s] * a.ldo + (size_t)h * HD;
#pragma unroll
    for (int dt = 0; dt < HD / 8; dt++) {
        int col = dt * 8 + 2 * tq;
        if (qi0 < ntok)
            *(__nv_bfloat162 *)(ob + (size_t)qi0 * a.ldo + col) = __floats2bfloat162_rn(o[dt][0] * inv0, o[dt][1] * inv0);
        if (qi0 + 8 < ntok)
            *(__nv_bfloat162 *)(ob + (size_t)(qi0 + 8) * a.ldo + col) = __floats2bfloat162_rn(o[dt][2] * inv1, o[dt][3] * inv1);
    }
}

/* ---- decode: split-K ------------------------------------------------------------------- */

#define DEC_THREADS 128
#define DEC_MAXG 8

struct dec_args {
    const bf16 *q;
    size_t ldq;
    bf16 *out;
    size_t ldo;
    int n_heads, n_kv, group, split, nsplit;
    size_t kvdim;
    float scale_log2;
    float *opart;   /* [seq][head][split][HD] */
    float *ml;      /* [seq][head][split][2] */
};

template <int HD>
__global__ void __launch_bounds__(DEC_THREADS) decode_split_kernel(ljc_seqs seqs, dec_args a) {
    extern __shared__ float dsm[];
    const int G = a.group;
    float *qs = dsm;                    /* [G][HD] */
    float *ps = qs + G * HD;            /* [G][split] scores, then probabilities */
    float *red = ps + G * a.split;      /* [KG][G][HD] partial sums */
    __shared__ float mg[DEC_MAXG], lg[DEC_MAXG];

    int sp = blockIdx.x, kvh = blockIdx.y, s = blockIdx.z;
    int kv_len = seqs.pos[s] + 1;
    int k0 = sp * a.split, k1 = min(kv_len, k0 + a.split), len = k1 - k0;
    size_t pbase = ((size_t)s * a.n_heads + (size_t)kvh * G) * a.nsplit + sp;   /* head stride nsplit */
    if (len <= 0) {
        for (int i = threadIdx.x; i < G * HD; i += DEC_THREADS) {
            int gg = i / HD;
            a.opart[(pbase + (size_t)gg * a.nsplit) * HD + i % HD] = 0.0f;
        }
        if (threadIdx.x < G) {
            a.ml[(pbase + (size_t)threadIdx.x * a.nsplit) * 2] = -INFINITY;
            a.ml[(pbase + (size_t)threadIdx.x * a.nsplit) * 2 + 1] = 0.0f;
        }
        return;
    }
    const bf16 *qrow = a.q + (size_t)seqs.start[s] * a.ldq + (size_t)kvh * G * HD;
    for (int i = threadIdx.x; i < G * HD; i += DEC_THREADS) qs[i] = __bfloat162float(qrow[i]) * a.scale_log2;
    __syncthreads();
    const bf16 *kc = (const bf16 *)seqs.p0[s] + kvh * HD;
    const bf16 *vc = (const bf16 *)seqs.p1[s] + kvh * HD;

    /* scores: a thread per key, its K row in registers */
    for (int kk = threadIdx.x; kk < len; kk += DEC_THREADS) {
        const uint4 *kr = (const uint4 *)(kc + (size_t)(k0 + kk) * a.kvdim);
        float kf[HD];
#pragma unroll
        for (int c = 0; c < HD / 8; c++) {
            uint4 u = kr[c];
            const __nv_bfloat162 *h2 = (const __nv_bfloat162 *)&u;
#pragma unroll
            for (int e = 0; e < 4; e++) {
                float2 f = __bfloat1622float2(h2[e]);
                kf[c * 8 + 2 * e] = f.x;
                kf[c * 8 + 2 * e + 1] = f.y;
            }
        }
        for (int gg = 0; gg < G; gg++) {
            float acc = 0.0f;
#pragma unroll
            for (int d = 0; d < HD; d++) acc += kf[d] * qs[gg * HD + d];
            ps[gg * a.split + kk] = acc;
        }
    }
    __syncthreads();
    /* softmax pieces per query head: a warp per head */
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    for (int gg = warp; gg < G; gg += DEC_THREADS / 32) {
        float mx = -INFINITY;
        for (int i = lane; i < len; i += 32) mx = fmaxf(mx, ps[gg * a.split + i]);
        for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
        float sum = 0.0f;
        for (int i = lane; i < len; i += 32) {
            float p = exp2f(ps[gg * a.split + i] - mx);
            ps[gg * a.split + i] = p;
            sum += p;
        }
        for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
        if (lane == 0) { mg[gg] = mx; lg[gg] = sum; }
    }
    __syncthreads();
    /* O_partial[g] = Σ_k p[g,k] V[k]: thread (key group kg, column pair dp) */
    const int DP = HD / 2, KG = DEC_THREADS / DP;
    int dp = threadIdx.x % DP, kg = threadIdx.x / DP;
    float acc[DEC_MAXG][2];
#pragma unroll
    for (int gg = 0; gg < DEC_MAXG; gg++) acc[gg][0] = acc[gg][1] = 0.0f;
#pragma unroll 8
    for (int kk = kg; kk < len; kk += KG) {
        float2 v = __bfloat1622float2(*(const __nv_bfloat162 *)(vc + (size_t)(k0 + kk) * a.kvdim + 2 * dp));
#pragma unroll
        for (int gg = 0; gg < DEC_MAXG; gg++)
            if (gg < G) {
                float p = ps[gg * a.split + kk];
                acc[gg][0] += p * v.x;
                acc[gg][1] += p * v.y;
            }
    }
#pragma unroll
    for (int gg = 0; gg < DEC_MAXG; gg++)
        if (gg < G) {
            red[((size_t)kg * G + gg) * HD + 2 * dp] = acc[gg][0];
            red[((size_t)kg * G + gg) * HD + 2 * dp + 1] = acc[gg][1];
        }
    __syncthreads();
    for (int i = threadIdx.x; i < G * HD; i += DEC_THREADS) {
        float sum = 0.0f;
        for (int q = 0; q < KG; q++) sum += red[(size_t)q * G * HD + i];
        int gg = i / HD;
        a.opart[(pbase + (size_t)gg * a.nsplit) * HD + i % HD] = sum;
    }
    if (threadIdx.x < G) {
        a.ml[(pbase + (size_t)threadIdx.x * a.nsplit) * 2] = mg[threadIdx.x];
        a.ml[(pbase + (size_t)threadIdx.x * a.nsplit) * 2 + 1] = lg[threadIdx.x];
    }
}

/* ---- decode, head dim 128: tensor cores over staged K/V tiles -------------------------------
 * Same split-K contract as decode_split_kernel (unnormalised partial O per split, with its max and
 * sum, merged by decode_combine_kernel). A block (split, kv head, sequence) streams its key range
 * in 64-key tiles through a 3-stage cp.async pipeline (two tiles in flight: 64 KB), so the cache
 * reads overlap; each of the 4 warps takes 16 keys of a tile and runs a flash-attention step on
 * mma.sync with the group's query heads as the rows of the A operand (G <= 8 of 16 rows used —
 * the tensor cores have the throughput to spare; memory is the limit). The warps' partial
 * results are merged in shared memory at the end. The thread-per-key kernel it replaces for head
 * dim 128 read 44-66% of HBM bandwidth. */
#define DT_THREADS 128
#define DT_BN 64
#ifndef DT_STAGES
#define DT_STAGES 3
#endif
#ifndef DEC_BLOCKS_PER_SM
#define DEC_BLOCKS_PER_SM 2   /* split count aims at this many blocks per SM */
#endif
#define DT_HD 128
#define DT_SMEM (2 * DT_STAGES * DT_BN * DT_HD * 2)

__global__ void __launch_bounds__(DT_THREADS) decode_tc_kernel(ljc_seqs seqs, dec_args a) {
    extern __shared__ __align__(16) unsigned char dt_smem[];
#if __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;");   /* the merge may launch now; it waits for this grid's end */
    /* launched early behind the KV append (programmatic dependent launch): the cache's new row is
     * there once that grid has finished */
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
    bf16 *Ks = (bf16 *)dt_smem;                      /* [STAGES][BN * HD], swizzled rows */
    bf16 *Vs = Ks + DT_STAGES * DT_BN * DT_HD;       /* [STAGES][BN * HD] */
    const int G = a.group, sp = blockIdx.x, kvh = blockIdx.y, s = blockIdx.z;
    const int kv_len = seqs.pos[s] + 1;
    const int k0 = sp * a.split, k1 = min(kv_len, k0 + a.split), len = k1 - k0;
    const size_t pbase = ((size_t)s * a.n_heads + (size_t)kvh * G) * a.nsplit + sp;   /* head stride nsplit */
    if (len <= 0) {
        for (int i = threadIdx.x; i < G * DT_HD; i += DT_THREADS)
            a.opart[(pbase + (size_t)(i / DT_HD) * a.nsplit) * DT_HD + i % DT_HD] = 0.0f;
        if (threadIdx.x < G) {
            a.ml[(pbase + (size_t)threadIdx.x * a.nsplit) * 2] = -INFINITY;
            a.ml[(pbase + (size_t)threadIdx.x * a.nsplit) * 2 + 1] = 0.0f;
        }
        return;
    }
    const bf16 *kc = (const bf16 *)seqs.p0[s] + (size_t)kvh * DT_HD, *vc = (const bf16 *)seqs.p1[s] + (size_t)kvh * DT_HD;
    const bf16 *qrow = a.q + (size_t)seqs.start[s] * a.ldq + (size_t)kvh * G * DT_HD;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, tq = lane % 4;

    /* A fragments: row r = query head r of the group (rows >= G are zero) */
    uint32_t qf[DT_HD / 16][4];
#pragma unroll
    for (int kk = 0; kk < DT_HD / 16; kk++) {
        const int c = 16 * kk + 2 * tq;
        qf[kk][0] = g < G ? *(const uint32_t *)(qrow + (size_t)g * DT_HD + c) : 0u;
        qf[kk][1] = g + 8 < G ? *(const uint32_t *)(qrow + (size_t)(g + 8) * DT_HD + c) : 0u;
        qf[kk][2] = g < G ? *(const uint32_t *)(qrow + (size_t)g * DT_HD + c + 8) : 0u;
        qf[kk][3] = g + 8 < G ? *(const uint32_t *)(qrow + (size_t)(g + 8) * DT_HD + c + 8) : 0u;
    }
    const int ntiles = (len + DT_BN - 1) / DT_BN;
    auto load = [&](int t, int stage) {   /* keys past the split or the cache are zero-filled */
#pragma unroll
        for (int i = 0; i < DT_BN * (DT_HD / 8) / DT_THREADS; i++) {
            const int idx = tid + i * DT_THREADS, r = idx / (DT_HD / 8), c = idx % (DT_HD / 8), key = k0 + t * DT_BN + r;
            const bool ok = key < k1;
            const size_t off = ok ? (size_t)key * a.kvdim + c * 8 : 0;
            ljc_cp_async16(ljc_smem_u32(Ks + stage * DT_BN * DT_HD + swz<DT_HD>(r, c)), kc + off, ok ? 16 : 0);
            ljc_cp_async16(ljc_smem_u32(Vs + stage * DT_BN * DT_HD + swz<DT_HD>(r, c)), vc + off, ok ? 16 : 0);
        }
    };
#pragma unroll
    for (int st = 0; st < DT_STAGES - 1; st++) {
        if (st < ntiles) load(st, st);
        ljc_cp_async_commit();
    }

    float o[DT_HD / 8][4];
#pragma unroll
    for (int i = 0; i < DT_HD / 8; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
    const int mi = lane / 8, r8 = lane % 8;
    for (int t = 0; t < ntiles; t++) {
        ljc_cp_async_wait<DT_STAGES - 2>();
        __syncthreads();   /* tile t landed for all; everyone is past tile t-1, whose stage is refilled now */
        if (t + DT_STAGES - 1 < ntiles) load(t + DT_STAGES - 1, (t + DT_STAGES - 1) % DT_STAGES);
        ljc_cp_async_commit();
        const bf16 *Kt = Ks + (t % DT_STAGES) * DT_BN * DT_HD, *Vt = Vs + (t % DT_STAGES) * DT_BN * DT_HD;

        float sc[2][4] = {};   /* this warp's 16 keys: two n8 tiles */
#pragma unroll
        for (int kk = 0; kk < DT_HD / 16; kk++) {
            uint32_t b0, b1, b2, b3;
            ldsm_x4(b0, b1, b2, b3, Kt + swz<DT_HD>(warp * 16 + r8 + (mi / 2) * 8, kk * 2 + (mi % 2)));
            mma_bf16(sc[0], qf[kk], b0, b1);
            mma_bf16(sc[1], qf[kk], b2, b3);
        }
        const int key0 = k0 + t * DT_BN + warp * 16;
        if (key0 + 16 > k1) {
#pragma unroll
            for (int nt = 0; nt < 2; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++)
                    if (key0 + nt * 8 + 2 * tq + (e & 1) >= k1) sc[nt][e] = -INFINITY;
        }
        flash_softmax_step<2, DT_HD / 8>(sc, o, m, l, a.scale_log2);   /* rows g, g+8 = query heads */
        uint32_t pa[4] = {ljc_pack_bf16(sc[0][0], sc[0][1]), ljc_pack_bf16(sc[0][2], sc[0][3]),
                          ljc_pack_bf16(sc[1][0], sc[1][1]), ljc_pack_bf16(sc[1][2], sc[1][3])};
#pragma unroll
        for (int dp = 0; dp < DT_HD / 16; dp++) {
            uint32_t b0, b1, b2, b3;
            ldsm_x4_t(b0, b1, b2, b3, Vt + swz<DT_HD>(warp * 16 + r8 + (mi % 2) * 8, dp * 2 + mi / 2));
            mma_bf16(o[2 * dp], pa, b0, b1);
            mma_bf16(o[2 * dp + 1], pa, b2, b3);
        }
    }
    ljc_cp_async_wait<0>();
    __syncthreads();   /* the stages become the merge buffer */

    /* merge the 4 warps: per head, M = max m_w, O = Σ 2^(m_w - M) O_w, L = Σ 2^(m_w - M) l_w */
    float *ro = (float *)dt_smem;                   /* [4 warps][8 heads][HD] */
    float *rml = ro + 4 * DEC_MAXG * DT_HD;         /* [4][8][2] */
#pragma unroll
    for (int r = 0; r < 2; r++) {
        float lr = l[r];
        lr += __shfl_xor_sync(0xffffffffu, lr, 1);
        lr += __shfl_xor_sync(0xffffffffu, lr, 2);
        const int h = g + 8 * r;
        if (h < G) {
#pragma unroll
            for (int dt = 0; dt < DT_HD / 8; dt++) {
                ro[((size_t)warp * DEC_MAXG + h) * DT_HD + dt * 8 + 2 * tq] = o[dt][2 * r];
                ro[((size_t)warp * DEC_MAXG + h) * DT_HD + dt * 8 + 2 * tq + 1] = o[dt][2 * r + 1];
            }
            if (tq == 0) {
                rml[(warp * DEC_MAXG + h) * 2] = m[r];
                rml[(warp * DEC_MAXG + h) * 2 + 1] = lr;
            }
        }
    }
    __syncthreads();
    for (int i = tid; i < G * DT_HD; i += DT_THREADS) {
        const int h = i / DT_HD, d = i % DT_HD;
        float M = -INFINITY;
#pragma unroll
        for (int w = 0; w < 4; w++) M = fmaxf(M, rml[(w * DEC_MAXG + h) * 2]);
        float num = 0.0f, den = 0.0f;
#pragma unroll
        for (int w = 0; w < 4; w++) {
            const float mw = rml[(w * DEC_MAXG + h) * 2];
            if (mw == -INFINITY) continue;   /* a warp with no key in range */
            const float wt = ljc_ex2(mw - M);
            num += wt * ro[((size_t)w * DEC_MAXG + h) * DT_HD + d];
            den += wt * rml[(w * DEC_MAXG + h) * 2 + 1];
        }
        a.opart[(pbase + (size_t)h * a.nsplit) * DT_HD + d] = num;
        if (d == 0) {
            a.ml[(pbase + (size_t)h * a.nsplit) * 2] = M;
            a.ml[(pbase + (size_t)h * a.nsplit) * 2 + 1] = den;
        }
    }
}

/* Reduces v over the block (blockDim.x a multiple of 32, at most 32 warps) with op; every thread
 * gets the result. red: 32 floats of shared memory, free on entry and on return. */
template <typename Op>
__device__ __forceinline__ float dec_block_reduce(float v, float *red, Op op) {
#pragma unroll
    for (int o = 16; o >= 1; o /= 2) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    const int nw = blockDim.x / 32;
    if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = v;
    __syncthreads();
    v = red[0];
    for (int w = 1; w < nw; w++) v = op(v, red[w]);
    __syncthreads();
    return v;
}

/* out = Σ_i 2^(m_i - M) O_i / Σ_i 2^(m_i - M) l_i over the splits i of a (head, sequence). The
 * split weights are formed once, in parallel, into shared memory, and each output element's
 * partials are loaded 8 at a time, not one dependent load per split per thread as before: decode
 * attention at 32K keys, batch 1 (33 splits) 69-71% -> 71-74% of HBM on the H100 (~2 of ~63 us). */
#ifndef DEC_COMBINE_REGS
#define DEC_COMBINE_REGS 48   /* splits whose partials a thread keeps in registers (32K keys at batch 1: 33) */
#endif
template <int HD>
__global__ void decode_combine_kernel(ljc_seqs seqs, dec_args a) {
    extern __shared__ float wsplit[];   /* [nsplit] */
    __shared__ float red[32];
#if __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");   /* launched early (programmatic dependent launch): wait for the splits */
#endif
    const int h = blockIdx.x, s = blockIdx.y, n = a.nsplit;
    const size_t base = ((size_t)s * a.n_heads + h) * n;
    /* up to DEC_COMBINE_REGS splits: this thread's partials (one output element) all loaded now, in
     * flight together with the split maxima below, instead of 8 at a time after them */
    const int d0 = threadIdx.x;
    float o[DEC_COMBINE_REGS];
    if (n <= DEC_COMBINE_REGS && HD <= 128 && d0 < HD) {
#pragma unroll
        for (int i = 0; i < DEC_COMBINE_REGS; i++)
            if (i < n) o[i] = a.opart[(base + i) * HD + d0];
    }
    float M = -INFINITY;
    for (int i = threadIdx.x; i < n; i += blockDim.x) M = fmaxf(M, a.ml[(base + i) * 2]);
    M = dec_block_reduce(M, red, [](float x, float y) { return fmaxf(x, y); });
    float den = 0.0f;
    const int npad = (n + 7) / 8 * 8;   /* wsplit is allocated to a multiple of 8, the tail zero */
    for (int i = threadIdx.x; i < npad; i += blockDim.x) {
        float w = 0.0f;
        if (i < n) {
            const float mi = a.ml[(base + i) * 2];
            w = mi == -INFINITY ? 0.0f : exp2f(mi - M);   /* -inf: a split with no key */
            den += w * a.ml[(base + i) * 2 + 1];
        }
        wsplit[i] = w;
    }
    den = dec_block_reduce(den, red, [](float x, float y) { return x + y; });   /* its barriers publish wsplit */
    if (n <= DEC_COMBINE_REGS && HD <= 128) {   /* the partials were loaded above, with the weights' inputs */
        if (d0 < HD) {
            float num = 0.0f;
#pragma unroll
            for (int i = 0; i < DEC_COMBINE_REGS; i++)
                if (i < n) num += wsplit[i] * o[i];
            a.out[(size_t)seqs.start[s] * a.ldo + (size_t)h * HD + d0] = __float2bfloat16(den > 0 ? num / den : 0.0f);
        }
        return;
    }
    for (int d = threadIdx.x; d < HD; d += blockDim.x) {
        const float *op = a.opart + base * HD + d;
        float num = 0.0f;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            float o[8];
#pragma unroll
            for (int j = 0; j < 8; j++) o[j] = op[(size_t)(i + j) * HD];
#pragma unroll
            for (int j = 0; j < 8; j++) num += wsplit[i + j] * o[j];
        }
        for (; i < n; i++) num += wsplit[i] * op[(size_t)i * HD];
        a.out[(size_t)seqs.start[s] * a.ldo + (size_t)h * HD + d] = __float2bfloat16(den > 0 ? num / den : 0.0f);
    }
}

/* ---- any head_dim (small test shapes): a warp per (query, head), online softmax ----------- */

#define GEN_MAXD 8   /* head_dim <= 32 * GEN_MAXD */

template <typename T>
__global__ void attention_generic_kernel(ljc_seqs seqs, const T *q, size_t ldq, T *out, size_t ldo, int n_heads,
                                         int group, int hd, size_t kvdim, float scale_log2) {
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int t = blockIdx.x * (blockDim.x / 32) + warp, h = blockIdx.y, s = blockIdx.z;
    if (t >= seqs.ntok[s]) return;
    size_t row = (size_t)(seqs.start[s] + t);
    int P = seqs.pos[s] + t, kvh = h / group;
    const T *kc = (const T *)seqs.p0[s] + kvh * hd, *vc = (const T *)seqs.p1[s] + kvh * hd;
    float qv[GEN_MAXD], acc[GEN_MAXD];
#pragma unroll
    for (int i = 0; i < GEN_MAXD; i++) {
        int d = lane + 32 * i;
        qv[i] = d < hd ? ljc_ld(q + row * ldq + (size_t)h * hd + d) * scale_log2 : 0.0f;
        acc[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    for (int j = 0; j <= P; j++) {
        float dot = 0.0f;
#pragma unroll
        for (int i = 0; i < GEN_MAXD; i++) {
            int d = lane + 32 * i;
            if (d < hd) dot += qv[i] * ljc_ld(kc + (size_t)j * kvdim + d);
        }
        for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
        float mn = fmaxf(m, dot), alpha = exp2f(m - mn), p = exp2f(dot - mn);
        l = l * alpha + p;
#pragma unroll
        for (int i = 0; i < GEN_MAXD; i++) {
            int d = lane + 32 * i;
            acc[i] = acc[i] * alpha + (d < hd ? p * ljc_ld(vc + (size_t)j * kvdim + d) : 0.0f);
        }
        m = mn;
    }
#pragma unroll
    for (int i = 0; i < GEN_MAXD; i++) {
        int d = lane + 32 * i;
        if (d < hd) ljc_st(out + row * ldo + (size_t)h * hd + d, acc[i] / l);
    }
}

/* ---- launch ------------------------------------------------------------------------------ */

/* Launches fn(seqs, a) as a programmatic dependent launch on sm_90+ (it may start while the
 * kernel before it runs, and waits for that one's results in griddepcontrol.wait); a plain
 * launch elsewhere. */
static cudaError_t dec_launch_pdl(const ljc_impl *im, const void *fn, dim3 grid, dim3 block, size_t smem, cudaStream_t st,
                                  ljc_seqs seqs, dec_args a) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = st;
    cudaLaunchAttribute pdl;
    pdl.id = cudaLaunchAttributeProgrammaticStreamSerialization;
    pdl.val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = &pdl;
    cfg.numAttrs = im->cc_major >= 9 ? 1 : 0;   /* griddepcontrol is sm_90+ */
    void *args[2] = {&seqs, &a};
    return cudaLaunchKernelExC(&cfg, fn, args);
}

template <int HD>
static int attention_launch(lj_backend *b, const lj_attention_params *p, const ljc_seqs *all) {
    ljc_impl *im = ljc_of(b);
    cudaStream_t st = im->stream;
    int group = (int)(p->n_heads / p->n_kv_heads);
    float sl2 = p->scale * LOG2E;
    /* split the table: prefill sequences (> 1 token) and decode sequences (1 token) */
    ljc_seqs pre, dec;
    pre.n = dec.n = 0;
    pre.max_tok = dec.max_tok = 0;
    int dec_kv_max = 0;
    for (int i = 0; i < all->n; i++) {
        ljc_seqs_push(all->ntok[i] > 1 ? &pre : &dec, all, i);
        if (all->ntok[i] <= 1 && all->pos[i] + 1 > dec_kv_max) dec_kv_max = all->pos[i] + 1;   /* as dec's */
    }
    int pre_done = 0;
    if (pre.n && HD == 128 && ljc_fa3_ok()) {   /* Hopper: the wgmma kernel (attention_sm90.cu) */
        fa3_args f = {(const bf16 *)p->q, p->ldq, (bf16 *)p->out, p->ldo, group, p->n_kv_heads * HD, sl2,
                      (pre.max_tok + 127) / 128, 0};   /* head_major: ljc_fa3_prefill sets it */
        cudaError_t e = ljc_fa3_prefill(&pre, &f, (int)p->n_heads, st);
        if (e != cudaErrorNotSupported) {   /* not supported: no TMA descriptor, the kernel below */
            LJC_CUDA(b, e);
            pre_done = 1;
        }
    }
    if (pre.n && !pre_done) {
        fa_args a;
        a.q = (const bf16 *)p->q; a.ldq = p->ldq; a.out = (bf16 *)p->out; a.ldo = p->ldo;
        a.n_heads = (int)p->n_heads; a.group = group; a.kvdim = p->n_kv_heads * HD;
        a.scale_log2 = sl2;
        a.n_qtiles = (pre.max_tok + FA_BM - 1) / FA_BM;
        size_t smem = (size_t)(FA_BM + 4 * FA_BN) * HD * sizeof(bf16);
        LJC_CUDA(b, ljc_smem_optin((const void *)flash_prefill_kernel<HD>, (int)smem));
        dim3 grid((unsigned)a.n_qtiles, (unsigned)p->n_heads, (unsigned)pre.n);
        flash_prefill_kernel<HD><<<grid, FA_THREADS, smem, st>>>(pre, a);
        LJC_LAUNCHED(b, "attention prefill");
    }
    if (dec.n) {
        if (group > DEC_MAXG) return ljc_set_err(b, "cuda attention: %d query heads per kv head (at most %d)", group, DEC_MAXG);
        dec_args a;
        a.q = (const bf16 *)p->q; a.ldq = p->ldq; a.out = (bf16 *)p->out; a.ldo = p->ldo;
        a.n_heads = (int)p->n_heads; a.n_kv = (int)p->n_kv_heads; a.group = group;
        a.kvdim = p->n_kv_heads * HD;
        a.scale_log2 = sl2;
        int units = dec.n * a.n_kv;
        int want = (DEC_BLOCKS_PER_SM * im->num_sms + units - 1) / units;
        int split_max = 16384 / group;
        int nsplit = want < 1 ? 1 : want;
        int split = (dec_kv_max + nsplit - 1) / nsplit;
        split = (split + 63) / 64 * 64;
        if (split < 128) split = 128;
        if (split > split_max) split = split_max / 64 * 64;
        nsplit = (dec_kv_max + split - 1) / split;
        a.split = split;
        a.nsplit = nsplit;
        size_t npart = (size_t)dec.n * p->n_heads * nsplit;
        void *ws;
        if (ljc_scratch(b, npart * (HD + 2) * sizeof(float), &ws)) return -1;
        a.opart = (float *)ws;
        a.ml = a.opart + npart * HD;
        dim3 grid((unsigned)nsplit, (unsigned)a.n_kv, (unsigned)dec.n);
        if (HD == DT_HD && !getenv("LJC_DECODE_OLD")) {   /* env: A/B against the thread-per-key kernel */
            LJC_CUDA(b, ljc_smem_optin((const void *)decode_tc_kernel, DT_SMEM));
            LJC_CUDA(b, dec_launch_pdl(im, (const void *)decode_tc_kernel, grid, dim3(DT_THREADS), DT_SMEM, st, dec, a));
        } else {
            const int KG = DEC_THREADS / (HD / 2);
            size_t smem = ((size_t)group * HD + (size_t)group * split + (size_t)KG * group * HD) * sizeof(float);
            if (smem > 48 * 1024) LJC_CUDA(b, ljc_smem_optin((const void *)decode_split_kernel<HD>, (int)smem));
            decode_split_kernel<HD><<<grid, DEC_THREADS, smem, st>>>(dec, a);
        }
        LJC_LAUNCHED(b, "attention decode");
        dim3 g2((unsigned)p->n_heads, (unsigned)dec.n);
        /* programmatic dependent launch: the merge's launch overlaps the split kernel's tail (a few of
         * the ~60 us at 32K keys, batch 1); it waits in griddepcontrol.wait for the split results */
        LJC_CUDA(b, dec_launch_pdl(im, (const void *)decode_combine_kernel<HD>, g2, dim3(HD < 128 ? (HD + 31) / 32 * 32 : 128),
                                   (size_t)(nsplit + 7) / 8 * 8 * sizeof(float), st, dec, a));
        LJC_LAUNCHED(b, "attention decode combine");
    }
    return 0;
}

int ljc_attention(lj_backend *b, const lj_attention_params *p) {
    size_t hd = p->head_dim;
    if (!p->n_kv_heads || p->n_heads % p->n_kv_heads)
        return ljc_set_err(b, "cuda attention: %zu heads not a multiple of %zu kv heads", p->n_heads, p->n_kv_heads);
    if (!hd || hd > 32 * GEN_MAXD) return ljc_set_err(b, "cuda attention: head_dim %zu not supported (at most %d)", hd, 32 * GEN_MAXD);
    /* tensor-core kernels: head_dim 16/32/64/128 with 16-byte aligned q rows and 4-byte output pairs */
    int fast = !ljc_f32(b) && (hd == 16 || hd == 32 || hd == 64 || hd == 128) && p->ldq % 8 == 0 && p->ldo % 2 == 0 &&
               (uintptr_t)p->q % 16 == 0 && (uintptr_t)p->out % 4 == 0 && p->n_heads / p->n_kv_heads <= DEC_MAXG;
    for (size_t i = 0; fast && i < p->batch.n_seqs; i++)
        fast = (uintptr_t)p->k_cache[i] % 16 == 0 && (uintptr_t)p->v_cache[i] % 16 == 0;
    for (size_t first = 0; first < p->batch.n_seqs; first += LJC_MAX_SEQS) {
        size_t cnt = p->batch.n_seqs - first < LJC_MAX_SEQS ? p->batch.n_seqs - first : LJC_MAX_SEQS;
        ljc_seqs t;
        ljc_seqs_fill(&t, &p->batch, first, cnt, (void *const *)p->k_cache, (void *const *)p->v_cache);
        if (!t.max_tok) continue;
        size_t kvdim = p->n_kv_heads * hd;
        dim3 g((unsigned)t.max_tok, (unsigned)t.n);
        if (ljc_f32(b))
            kv_append_kernel<float><<<g, 128, 0, ljc_of(b)->stream>>>(t, (const float *)p->k, p->ldk, (const float *)p->v, p->ldv, kvdim);
        else if (fast && kvdim % 8 == 0 && p->ldk % 8 == 0 && p->ldv % 8 == 0 && (uintptr_t)p->k % 16 == 0 && (uintptr_t)p->v % 16 == 0)
            kv_append_vec_kernel<<<g, 128, 0, ljc_of(b)->stream>>>(t, (const uint4 *)p->k, p->ldk / 8, (const uint4 *)p->v, p->ldv / 8,
                                                                  kvdim / 8);
        else
            kv_append_kernel<bf16><<<g, 128, 0, ljc_of(b)->stream>>>(t, (const bf16 *)p->k, p->ldk, (const bf16 *)p->v, p->ldv, kvdim);
        LJC_LAUNCHED(b, "attention kv append");
        int rc;
        if (!fast) {
            dim3 gg(ljc_blocks((size_t)t.max_tok, 4), (unsigned)p->n_heads, (unsigned)t.n);
            if (ljc_f32(b))
                attention_generic_kernel<float><<<gg, 128, 0, ljc_of(b)->stream>>>(
                    t, (const float *)p->q, p->ldq, (float *)p->out, p->ldo, (int)p->n_heads,
                    (int)(p->n_heads / p->n_kv_heads), (int)hd, kvdim, p->scale * LOG2E);
            else
                attention_generic_kernel<bf16><<<gg, 128, 0, ljc_of(b)->stream>>>(
                    t, (const bf16 *)p->q, p->ldq, (bf16 *)p->out, p->ldo, (int)p->n_heads,
                    (int)(p->n_heads / p->n_kv_heads), (int)hd, kvdim, p->scale * LOG2E);
            LJC_LAUNCHED(b, "attention (generic head_dim)");
            continue;
        }
        switch (hd) {
        case 16: rc = attention_launch<16>(b, p, &t); break;
        case 32: rc = attention_launch<32>(b, p, &t); break;
        case 64: rc = attention_launch<64>(b, p, &t); break;
        default: rc = attention_launch<128>(b, p, &t); break;
        }
        if (rc) return rc;
    }
    return 0;
}
