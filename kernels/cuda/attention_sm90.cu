/* Flash-attention prefill on Hopper wgmma (sm_90a), head dim 128 — see attention_sm90.h.
 *
 * A block: 128 queries of one head, two warpgroups of 64. Q stays in registers as the MMA's A
 * operand for S = Q·Kᵀ; K and V tiles of 128 keys come by cp.async into 128B-swizzled shared
 * memory (two 64-column halves each), three stages, and are read by the tensor cores through
 * descriptors: K as a K-major B operand, V as an MN-major one (trans-b), so neither is ever
 * rearranged. The online softmax runs on the S accumulators in registers; P (bf16) becomes the A
 * operand of O += P·V straight from those registers (the accumulator layout is the A-fragment
 * layout). Never a T×T matrix; masked (causal, cache end) only on tiles that need it. */
#include "kernels/cuda/attention_sm90.h"

#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/device_util.cuh"
#include "kernels/cuda/wgmma.cuh"

#include <type_traits>

typedef __nv_bfloat16 bf16;

#define F3_BM 128
#define F3_BN 128
#define F3_HD 128
#define F3_THREADS 256
#define F3_HALF (F3_BN * 128)        /* bytes of a 64-column half tile: 128 rows x 128 bytes */
#define F3_TILE (2 * F3_HALF)        /* one K or V tile */
#define F3_STAGE (2 * F3_TILE)       /* K then V */
#define F3_STAGES 3
#define F3_SMEM (F3_STAGES * F3_STAGE + 1024 + 64)   /* + alignment slack + the stage barriers */

/* stage barriers (mbarrier, 256 arrivals a phase): "full" completes when every thread's copies
 * into the stage have landed, "empty" when every thread is done reading it. They replace a
 * block-wide barrier per tile, which kept the two warpgroups in lockstep (the top stall in ncu:
 * 1.7 cycles per instruction waiting at it); now a warpgroup may run up to a tile ahead. */
__device__ __forceinline__ void f3_bar_init(uint32_t bar, int count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count));
}
__device__ __forceinline__ void f3_bar_arrive(uint32_t bar) {
    asm volatile("{\n.reg .b64 st;\nmbarrier.arrive.shared::cta.b64 st, [%0];\n}\n" ::"r"(bar) : "memory");
}
/* arrives when all of this thread's earlier cp.async copies have landed */
__device__ __forceinline__ void f3_bar_arrive_copies(uint32_t bar) {
    asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];\n" ::"r"(bar) : "memory");
}
__device__ __forceinline__ void f3_bar_wait(uint32_t bar, uint32_t parity) {
    asm volatile("{\n.reg .pred done;\nF3_WAIT_%=:\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
                 "@!done bra F3_WAIT_%=;\n}\n" ::"r"(bar), "r"(parity) : "memory");
}

/* named barriers 1 and 2: "warpgroup 0 / 1 may issue its MMAs" (FA3's ping-pong: the MMAs of one
 * warpgroup run while the other does its softmax) */
__device__ __forceinline__ void f3_named_sync(int id) { asm volatile("bar.sync %0, 256;\n" ::"r"(id) : "memory"); }
__device__ __forceinline__ void f3_named_arrive(int id) { asm volatile("bar.arrive %0, 256;\n" ::"r"(id) : "memory"); }


__global__ void __launch_bounds__(F3_THREADS, 1) fa3_prefill_kernel(ljc_seqs seqs, fa3_args a) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
    extern __shared__ unsigned char f3_dyn[];
    const uint32_t sbase = ((uint32_t)__cvta_generic_to_shared(f3_dyn) + 1023) & ~1023u;   /* swizzle atoms */
    /* heavy (late) query tiles first; blocks start in x order (see ljc_fa3_prefill) */
    const int s = blockIdx.z, h = a.head_major ? blockIdx.x : blockIdx.y,
              qt = a.n_qtiles - 1 - (a.head_major ? blockIdx.y : blockIdx.x);
    const int ntok = seqs.ntok[s], pos = seqs.pos[s];
    if (qt * F3_BM >= ntok) return;
    const int kvh = h / a.group, kv_len = pos + ntok;
    const int q_end = min(ntok, (qt + 1) * F3_BM), kv_end = min(kv_len, pos + q_end);
    const int nkv = (kv_end + F3_BN - 1) / F3_BN;
    const bf16 *kc = (const bf16 *)seqs.p0[s] + (size_t)kvh * F3_HD, *vc = (const bf16 *)seqs.p1[s] + (size_t)kvh * F3_HD;
    const bf16 *qb = a.q + (size_t)seqs.start[s] * a.ldq + (size_t)h * F3_HD;
    const int tid = threadIdx.x, warp = tid / 32, wg = warp / 4, lane = tid % 32, g = lane / 4, q4 = lane % 4;
    const int row0 = qt * F3_BM + warp * 16 + g, row1 = row0 + 8;   /* this thread's two query rows */

    /* Q as A fragments: slice t covers head dims 16t..16t+15 */
    uint32_t qf[F3_HD / 16][4];
#pragma unroll
    for (int t = 0; t < F3_HD / 16; t++) {
        const int c = 16 * t + 2 * q4;
        qf[t][0] = row0 < ntok ? *(const uint32_t *)(qb + (size_t)row0 * a.ldq + c) : 0u;
        qf[t][1] = row1 < ntok ? *(const uint32_t *)(qb + (size_t)row1 * a.ldq + c) : 0u;
        qf[t][2] = row0 < ntok ? *(const uint32_t *)(qb + (size_t)row0 * a.ldq + c + 8) : 0u;
        qf[t][3] = row1 < ntok ? *(const uint32_t *)(qb + (size_t)row1 * a.ldq + c + 8) : 0u;
    }

    /* copy plan: key rows tid/16 + 16i, 16-byte chunk tid % 16 of the 256-byte row (half = chunk / 8) */
    const int lr = tid / 16, lc = tid % 16;
    const uint32_t ldst = (uint32_t)((lc / 8) * F3_HALF) + sw128_offset(lr, lc % 8);
    auto load = [&](int j, int stage) {
        const uint32_t kd = sbase + (uint32_t)(stage * F3_STAGE) + ldst;
#pragma unroll
        for (int i = 0; i < F3_BN / 16; i++) {
            const int key = j * F3_BN + lr + 16 * i;
            const bool ok = key < kv_len;
            const size_t off = ok ? (size_t)key * a.kvdim + lc * 8 : 0;
            ljc_cp_async16(kd + i * 16 * 128, kc + off, ok ? 16 : 0);
            ljc_cp_async16(kd + F3_TILE + i * 16 * 128, vc + off, ok ? 16 : 0);
        }
    };

    float o[F3_HD / 2], sc[F3_BN / 2];
#pragma unroll
    for (int i = 0; i < F3_HD / 2; i++) o[i] = 0.0f;
    uint32_t pf[F3_BN / 16][4];   /* P of the previous tile as A fragments: slice t = keys 16t..16t+15 */
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f;
    const int qpos0 = pos + row0, qpos1 = pos + row1;
    auto stage_addr = [&](int j) { return sbase + (uint32_t)((j % F3_STAGES) * F3_STAGE); };
    const uint32_t full = sbase + F3_STAGES * F3_STAGE, empty = full + 8 * F3_STAGES;   /* [STAGES] each */

    /* Tile j: S_j = Q·K_jᵀ and O += P_{j-1}·V_{j-1} are issued together; the softmax of S_j runs
     * while the P·V MMA does (FA3's intra-warpgroup overlap), in place on the S registers (P_{j-1}'s
     * registers are still being read); then O is rescaled and S_j packed into P_j. Three stages:
     * tile j+1 loads while tiles j (K) and j-1 (V) are read. */
    auto tile = [&](int j, auto first_c) {
        constexpr bool first = decltype(first_c)::value;
        f3_bar_wait(full + 8 * (j % F3_STAGES), (uint32_t)(j / F3_STAGES) & 1);   /* tile j landed */
        fence_proxy_async_smem();   /* copies (generic proxy) before the MMAs' reads (async proxy) */
#ifndef F3_NO_PINGPONG
        f3_named_sync(1 + wg);
#endif
#pragma unroll
        for (int i = 0; i < F3_BN / 2; i++) sc[i] = 0.0f;
#pragma unroll
        for (int i = 0; i < F3_BN / 2; i++) wgmma_pin(sc[i]);
#pragma unroll
        for (int i = 0; i < F3_HD / 2; i++) wgmma_pin(o[i]);
        wgmma_fence();
        const uint32_t kt = stage_addr(j);
#pragma unroll
        for (int t = 0; t < F3_HD / 16; t++)
            wgmma_rs_m64n128(sc, qf[t], wgmma_desc_sw128(kt + (uint32_t)((t / 4) * F3_HALF + 32 * (t % 4))));
        wgmma_commit();
        if (!first) {   /* V is MN-major (head dims contiguous): 16 keys = 2048 bytes per slice */
            const uint32_t vt = stage_addr(j - 1) + F3_TILE;
#pragma unroll
            for (int t = 0; t < F3_BN / 16; t++)
                wgmma_rs_m64n128_tb(o, pf[t], wgmma_desc_sw128_mn(vt + (uint32_t)(t * 2048), F3_HALF));
            wgmma_commit();
        }
#ifndef F3_NO_PINGPONG
        f3_named_arrive(2 - wg);   /* the other warpgroup's turn */
#endif
        if (j + 1 < nkv) {   /* tile j+1 into the stage of tile j-2, once every thread is done with it */
            const int ns = (j + 1) % F3_STAGES;
            if (j >= 2) f3_bar_wait(empty + 8 * ns, (uint32_t)((j - 2) / F3_STAGES) & 1);
            load(j + 1, ns);
            f3_bar_arrive_copies(full + 8 * ns);
        }
        if (!first) wgmma_wait<1>();   /* S_j done; P·V may still run */
        else wgmma_wait<0>();
#pragma unroll
        for (int i = 0; i < F3_BN / 2; i++) wgmma_pin(sc[i]);

        /* mask: keys after the query's position, or past the cache */
        const int key0 = j * F3_BN;
        if (key0 + F3_BN - 1 > pos + qt * F3_BM || key0 + F3_BN > kv_len) {
#pragma unroll
            for (int jj = 0; jj < F3_BN / 8; jj++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int key = key0 + 8 * jj + 2 * q4 + (e & 1), qp = e < 2 ? qpos0 : qpos1;
                    if (key > qp || key >= kv_len) sc[4 * jj + e] = -INFINITY;
                }
        }
        /* online softmax, base 2: rows g (elements 0,1) and g+8 (2,3) */
        float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
        for (int jj = 0; jj < F3_BN / 8; jj++) {
            mx0 = fmaxf(mx0, fmaxf(sc[4 * jj], sc[4 * jj + 1]));
            mx1 = fmaxf(mx1, fmaxf(sc[4 * jj + 2], sc[4 * jj + 3]));
        }
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
        const float mn0 = fmaxf(m0, mx0 * a.scale_log2), mn1 = fmaxf(m1, mx1 * a.scale_log2);
        const float mu0 = mn0 == -INFINITY ? 0.0f : mn0, mu1 = mn1 == -INFINITY ? 0.0f : mn1;
        const float al0 = ljc_ex2(m0 - mu0), al1 = ljc_ex2(m1 - mu1);
        float s0 = 0.0f, s1 = 0.0f;
#pragma unroll
        for (int jj = 0; jj < F3_BN / 8; jj++) {
            sc[4 * jj] = ljc_ex2(sc[4 * jj] * a.scale_log2 - mu0);
            sc[4 * jj + 1] = ljc_ex2(sc[4 * jj + 1] * a.scale_log2 - mu0);
            sc[4 * jj + 2] = ljc_ex2(sc[4 * jj + 2] * a.scale_log2 - mu1);
            sc[4 * jj + 3] = ljc_ex2(sc[4 * jj + 3] * a.scale_log2 - mu1);
            s0 += sc[4 * jj] + sc[4 * jj + 1];
            s1 += sc[4 * jj + 2] + sc[4 * jj + 3];
        }
        l0 = l0 * al0 + s0;
        l1 = l1 * al1 + s1;
        m0 = mn0;
        m1 = mn1;
        if (!first) {
            wgmma_wait<0>();   /* P_{j-1}·V_{j-1} done: O and P's registers are ours again */
#pragma unroll
            for (int i = 0; i < F3_HD / 2; i++) wgmma_pin(o[i]);
            f3_bar_arrive(empty + 8 * ((j - 1) % F3_STAGES));   /* tile j-1 (its K and V) no longer read here */
        }
#pragma unroll
        for (int jj = 0; jj < F3_HD / 8; jj++) {
            o[4 * jj] *= al0; o[4 * jj + 1] *= al0;
            o[4 * jj + 2] *= al1; o[4 * jj + 3] *= al1;
        }
#pragma unroll
        for (int t = 0; t < F3_BN / 16; t++) {
            pf[t][0] = ljc_pack_bf16(sc[8 * t], sc[8 * t + 1]);
            pf[t][1] = ljc_pack_bf16(sc[8 * t + 2], sc[8 * t + 3]);
            pf[t][2] = ljc_pack_bf16(sc[8 * t + 4], sc[8 * t + 5]);
            pf[t][3] = ljc_pack_bf16(sc[8 * t + 6], sc[8 * t + 7]);
        }
    };

    if (tid == 0)
        for (int i = 0; i < F3_STAGES; i++) {
            f3_bar_init(full + 8 * i, F3_THREADS);
            f3_bar_init(empty + 8 * i, F3_THREADS);
        }
    __syncthreads();   /* barriers initialised before anyone arrives */
#ifndef F3_NO_PINGPONG
    if (wg == 1) f3_named_arrive(1);   /* warpgroup 0 issues first */
#endif
    load(0, 0);
    f3_bar_arrive_copies(full);
    tile(0, std::true_type{});
    for (int j = 1; j < nkv; j++) tile(j, std::false_type{});
    {   /* the last tile's P·V */
#pragma unroll
        for (int i = 0; i < F3_HD / 2; i++) wgmma_pin(o[i]);
#ifndef F3_NO_PINGPONG
        f3_named_sync(1 + wg);
#endif
        wgmma_fence();
        const uint32_t vt = stage_addr(nkv - 1) + F3_TILE;
#pragma unroll
        for (int t = 0; t < F3_BN / 16; t++) wgmma_rs_m64n128_tb(o, pf[t], wgmma_desc_sw128_mn(vt + (uint32_t)(t * 2048), F3_HALF));
        wgmma_commit();
#ifndef F3_NO_PINGPONG
        if (wg == 0) f3_named_arrive(2);   /* warpgroup 1's last turn; every arrive has its sync */
#endif
        wgmma_wait<0>();
#pragma unroll
        for (int i = 0; i < F3_HD / 2; i++) wgmma_pin(o[i]);
    }
    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
    const float i0 = l0 > 0 ? 1.0f / l0 : 0.0f, i1 = l1 > 0 ? 1.0f / l1 : 0.0f;
    bf16 *ob = a.out + (size_t)seqs.start[s] * a.ldo + (size_t)h * F3_HD;
#pragma unroll
    for (int jj = 0; jj < F3_HD / 8; jj++) {
        const int col = 8 * jj + 2 * q4;
        if (row0 < ntok) *(__nv_bfloat162 *)(ob + (size_t)row0 * a.ldo + col) = __floats2bfloat162_rn(o[4 * jj] * i0, o[4 * jj + 1] * i0);
        if (row1 < ntok) *(__nv_bfloat162 *)(ob + (size_t)row1 * a.ldo + col) = __floats2bfloat162_rn(o[4 * jj + 2] * i1, o[4 * jj + 3] * i1);
    }
#elif defined(__CUDA_ARCH__)
    __trap();   /* this architecture has no wgmma: the host side never launches it here */
#endif
}

int ljc_fa3_ok(void) {
    const char *env = getenv("LJC_FA3");   /* "off": A/B against the mma.sync kernel */
    return ljc_device_sm90a() && !(env && !strcmp(env, "off"));
}

cudaError_t ljc_fa3_prefill(const ljc_seqs *pre, const fa3_args *a, int n_heads, cudaStream_t st) {
    cudaError_t e = ljc_smem_optin((const void *)fa3_prefill_kernel, F3_SMEM);
    if (e != cudaSuccess) return e;
    /* Block order. Query-tile major (each head's tiles heavy to light, head after head) keeps one
     * kv head's K/V hot in L2 while its tiles run: best for long sequences. With few tiles (a few
     * waves of blocks) the heaviest tiles of all heads must start first or the last wave is long:
     * head major there. H100, 32/8 heads, three rounds in one call: 4K 80-81% -> 85-88% of SDPA
     * head major; 32K 88-91% query-tile major vs 85-87%; 16K within its run-to-run spread. */
    fa3_args b = *a;
    b.head_major = a->n_qtiles <= 32;
    dim3 grid = b.head_major ? dim3((unsigned)n_heads, (unsigned)a->n_qtiles, (unsigned)pre->n)
                             : dim3((unsigned)a->n_qtiles, (unsigned)n_heads, (unsigned)pre->n);
    fa3_prefill_kernel<<<grid, F3_THREADS, F3_SMEM, st>>>(*pre, b);
    return cudaGetLastError();
}
