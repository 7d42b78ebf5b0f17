/* Flash-attention prefill on Hopper wgmma (sm_90a), head dim 128 — see attention_sm90.h.
 *
 * A block: 128 queries of one head, two consumer warpgroups of 64 queries and one producer
 * warpgroup whose single thread issues TMA copies (FA3's warp specialisation). Q arrives once by
 * TMA and moves into registers as the MMA's A operand for S = Q·Kᵀ; K and V tiles of 128 keys
 * arrive by TMA into 128B-swizzled shared memory (two 64-column halves each), three stages, and
 * are read by the tensor cores through descriptors: K as a K-major B operand, V as an MN-major one
 * (trans-b), so neither is ever rearranged. The online softmax runs on the S accumulators in
 * registers; P (bf16) becomes the A operand of O += P·V straight from those registers (the
 * accumulator layout is the A-fragment layout). Never a T×T matrix; masked (causal, cache end)
 * only on tiles that need it. */
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
#define F3_CONSUMERS 256             /* two warpgroups of MMA and softmax */
#define F3_THREADS (F3_CONSUMERS + 128)   /* + the producer warpgroup */
#define F3_HALF (F3_BN * 128)        /* bytes of a 64-column half tile: 128 rows x 128 bytes */
#define F3_TILE (2 * F3_HALF)        /* one K or V tile */
#define F3_STAGE (2 * F3_TILE)       /* K then V */
#ifndef F3_STAGES
#define F3_STAGES 3
#endif
#define F3_QBYTES (F3_BM * F3_HD * 2)   /* the block's Q tile, two swizzled halves */
#define F3_SMEM (F3_QBYTES + F3_STAGES * F3_STAGE + 1024 + 64)   /* + alignment slack + barriers */
#ifndef F3_SLACK
#define F3_SLACK 8.0f   /* log2 units the softmax's exponent base may lag a row's maximum (see tile) */
#endif

/* stage barriers (mbarrier): "full" (one arrival, the producer's, plus the TMA's bytes) completes
 * when the stage's K and V have landed, "empty" (256 arrivals) when every consumer thread is done
 * reading it. With every consumer thread issuing cp.async copies instead (before), each thread
 * waited for "empty" ahead of its softmax, coupling the two warpgroups' softmaxes; the copies and
 * that wait cost 18% of the kernel at 16K (locked clocks, loads removed as a probe). */
__device__ __forceinline__ void f3_bar_init(uint32_t bar, int count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count));
}
__device__ __forceinline__ void f3_bar_arrive(uint32_t bar) {
    asm volatile("{\n.reg .b64 st;\nmbarrier.arrive.shared::cta.b64 st, [%0];\n}\n" ::"r"(bar) : "memory");
}
/* the producer's arrival, announcing the bytes the TMA will deliver to this phase */
__device__ __forceinline__ void f3_bar_expect(uint32_t bar, uint32_t bytes) {
    asm volatile("{\n.reg .b64 st;\nmbarrier.arrive.expect_tx.shared::cta.b64 st, [%0], %1;\n}\n" ::"r"(bar), "r"(bytes) : "memory");
}
/* box (64 columns x 128 rows) at element coordinates (col, row) of `map` into swizzled smem */
__device__ __forceinline__ void f3_tma_load(uint32_t dst, const CUtensorMap *map, int col, int row, uint32_t bar) {
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n"
                 ::"r"(dst), "l"((uint64_t)map), "r"(col), "r"(row), "r"(bar) : "memory");
}
__device__ __forceinline__ void f3_bar_wait(uint32_t bar, uint32_t parity) {
    asm volatile("{\n.reg .pred done;\nF3_WAIT_%=:\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
                 "@!done bra F3_WAIT_%=;\n}\n" ::"r"(bar), "r"(parity) : "memory");
}

/* named barriers 1 and 2: "warpgroup 0 / 1 may issue its MMAs" (FA3's ping-pong: the MMAs of one
 * warpgroup run while the other does its softmax); the consumers' 256 threads only */
__device__ __forceinline__ void f3_named_sync(int id) { asm volatile("bar.sync %0, 256;\n" ::"r"(id) : "memory"); }
__device__ __forceinline__ void f3_named_arrive(int id) { asm volatile("bar.arrive %0, 256;\n" ::"r"(id) : "memory"); }
/* the producer needs few registers, the consumers all they can get (65,536 per SM: 128 x 24 +
 * 256 x 240 = 64,512) */
template <int N> __device__ __forceinline__ void f3_regs_dec() { asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N)); }
template <int N> __device__ __forceinline__ void f3_regs_inc() { asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N)); }


__global__ void __launch_bounds__(F3_THREADS, 1) fa3_prefill_kernel(ljc_seqs seqs, fa3_args a, const __grid_constant__ fa3_maps maps) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
    extern __shared__ unsigned char f3_dyn[];
    const uint32_t qbase = ((uint32_t)__cvta_generic_to_shared(f3_dyn) + 1023) & ~1023u;   /* swizzle atoms */
    const uint32_t sbase = qbase + F3_QBYTES;
    /* heavy (late) query tiles first; blocks start in x order (see ljc_fa3_prefill) */
    const int s = blockIdx.z, h = a.head_major ? blockIdx.x : blockIdx.y,
              qt = a.n_qtiles - 1 - (a.head_major ? blockIdx.y : blockIdx.x);
    const int ntok = seqs.ntok[s], pos = seqs.pos[s];
    if (qt * F3_BM >= ntok) return;
    const int kvh = h / a.group, kv_len = pos + ntok;
    const int q_end = min(ntok, (qt + 1) * F3_BM), kv_end = min(kv_len, pos + q_end);
    const int nkv = (kv_end + F3_BN - 1) / F3_BN;
    const int tid = threadIdx.x, warp = tid / 32, wg = warp / 4, lane = tid % 32, g = lane / 4, q4 = lane % 4;
    const uint32_t full = sbase + F3_STAGES * F3_STAGE, empty = full + 8 * F3_STAGES, qfull = empty + 8 * F3_STAGES;
    if (tid == 0) {
        for (int i = 0; i < F3_STAGES; i++) {
            f3_bar_init(full + 8 * i, 1);
            f3_bar_init(empty + 8 * i, F3_CONSUMERS);
        }
        f3_bar_init(qfull, 1);
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");   /* visible to the TMA unit */
    }
    __syncthreads();   /* barriers initialised before anyone arrives; the last block-wide barrier */

    if (wg == 2) {   /* producer: one thread issues every copy */
        f3_regs_dec<24>();
        if (tid == F3_CONSUMERS) {
            const int qrow = seqs.start[s] + qt * F3_BM;
            f3_bar_expect(qfull, F3_QBYTES);
            f3_tma_load(qbase, &maps.q, h * F3_HD, qrow, qfull);
            f3_tma_load(qbase + F3_HALF, &maps.q, h * F3_HD + 64, qrow, qfull);
            for (int j = 0; j < nkv; j++) {
                const int st = j % F3_STAGES;
                if (j >= F3_STAGES) f3_bar_wait(empty + 8 * st, (uint32_t)(j / F3_STAGES - 1) & 1);   /* tile j-STAGES read */
                const uint32_t kd = sbase + (uint32_t)(st * F3_STAGE);
                f3_bar_expect(full + 8 * st, F3_STAGE);
                /* rows past the cache (kv_len) arrive as zeros: the tensor map's extent */
                f3_tma_load(kd, &maps.k[s], kvh * F3_HD, j * F3_BN, full + 8 * st);
                f3_tma_load(kd + F3_HALF, &maps.k[s], kvh * F3_HD + 64, j * F3_BN, full + 8 * st);
                f3_tma_load(kd + F3_TILE, &maps.v[s], kvh * F3_HD, j * F3_BN, full + 8 * st);
                f3_tma_load(kd + F3_TILE + F3_HALF, &maps.v[s], kvh * F3_HD + 64, j * F3_BN, full + 8 * st);
            }
        }
        return;
    }
    f3_regs_inc<240>();
    const int row0 = qt * F3_BM + warp * 16 + g, row1 = row0 + 8;   /* this thread's two query rows */

    /* Q as A fragments from the swizzled tile: slice t covers head dims 16t..16t+15 (16-byte chunk
     * 2t % 8 of half t / 4, and the chunk after it); rows past the sequence are never stored */
    f3_bar_wait(qfull, 0);
    uint32_t qf[F3_HD / 16][4];
#pragma unroll
    for (int t = 0; t < F3_HD / 16; t++) {
        const uint32_t hb = qbase + (uint32_t)((t / 4) * F3_HALF) + 4 * q4;
        const int r0 = warp * 16 + g, r1 = r0 + 8, c = (2 * t) % 8;
        asm volatile("ld.shared.b32 %0, [%1];" : "=r"(qf[t][0]) : "r"(hb + sw128_offset(r0, c)));
        asm volatile("ld.shared.b32 %0, [%1];" : "=r"(qf[t][1]) : "r"(hb + sw128_offset(r1, c)));
        asm volatile("ld.shared.b32 %0, [%1];" : "=r"(qf[t][2]) : "r"(hb + sw128_offset(r0, c + 1)));
        asm volatile("ld.shared.b32 %0, [%1];" : "=r"(qf[t][3]) : "r"(hb + sw128_offset(r1, c + 1)));
    }

    float o[F3_HD / 2], sc[F3_BN / 2];
#pragma unroll
    for (int i = 0; i < F3_HD / 2; i++) o[i] = 0.0f;
    uint32_t pf[F3_BN / 16][4];   /* P of the previous tile as A fragments: slice t = keys 16t..16t+15 */
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f;
    const int qpos0 = pos + row0, qpos1 = pos + row1;
    auto stage_addr = [&](int j) { return sbase + (uint32_t)((j % F3_STAGES) * F3_STAGE); };

    /* Tile j: S_j = Q·K_jᵀ and O += P_{j-1}·V_{j-1} are issued together; the softmax of S_j runs
     * while the P·V MMA does (FA3's intra-warpgroup overlap), in place on the S registers (P_{j-1}'s
     * registers are still being read); then O is rescaled and S_j packed into P_j. Three stages:
     * the producer fills the stage of tile j+1 while tiles j (K) and j-1 (V) are read. */
    auto tile = [&](int j, auto first_c) {
        constexpr bool first = decltype(first_c)::value;
        f3_bar_wait(full + 8 * (j % F3_STAGES), (uint32_t)(j / F3_STAGES) & 1);   /* tile j landed */
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
        /* online softmax, base 2: rows g (elements 0,1) and g+8 (2,3). Maxima and sums in 4
         * independent partials each (chains 8 deep instead of 32, between S_j's completion and
         * the next MMA issue); with the lazy rescale below about 1% at 16K (locked clocks). */
        float pm0[4], pm1[4];
#pragma unroll
        for (int k = 0; k < 4; k++) {
            pm0[k] = fmaxf(sc[4 * k], sc[4 * k + 1]);
            pm1[k] = fmaxf(sc[4 * k + 2], sc[4 * k + 3]);
        }
#pragma unroll
        for (int jj = 4; jj < F3_BN / 8; jj++) {
            pm0[jj % 4] = fmaxf(pm0[jj % 4], fmaxf(sc[4 * jj], sc[4 * jj + 1]));
            pm1[jj % 4] = fmaxf(pm1[jj % 4], fmaxf(sc[4 * jj + 2], sc[4 * jj + 3]));
        }
        float mx0 = fmaxf(fmaxf(pm0[0], pm0[1]), fmaxf(pm0[2], pm0[3]));
        float mx1 = fmaxf(fmaxf(pm1[0], pm1[1]), fmaxf(pm1[2], pm1[3]));
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
        /* Lazy rescale: the exponent base m moves only when the tile's maximum exceeds it by more
         * than F3_SLACK (log2 units), so P <= 2^F3_SLACK — exact in bf16's relative precision, far
         * from fp32's range in O and l — and O, whose rescale waits for P_{j-1}·V_{j-1} and so sat
         * right before the next MMA issue, is rescaled only when a row of the warp moved (the
         * first tile or two of a row in practice). The result is the same ratio O / l. */
        const float c0 = mx0 * a.scale_log2, c1 = mx1 * a.scale_log2;
        const bool up0 = c0 > m0 + F3_SLACK, up1 = c1 > m1 + F3_SLACK;
        const float mn0 = up0 ? c0 : m0, mn1 = up1 ? c1 : m1;
        const float mu0 = mn0 == -INFINITY ? 0.0f : mn0, mu1 = mn1 == -INFINITY ? 0.0f : mn1;
        const float al0 = up0 ? ljc_ex2(m0 - mu0) : 1.0f, al1 = up1 ? ljc_ex2(m1 - mu1) : 1.0f;
        const bool rescale = !first && __any_sync(0xffffffffu, up0 || up1);   /* warp-uniform */
        float ps0[4] = {0.0f, 0.0f, 0.0f, 0.0f}, ps1[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
        for (int jj = 0; jj < F3_BN / 8; jj++) {
            sc[4 * jj] = ljc_ex2(sc[4 * jj] * a.scale_log2 - mu0);
            sc[4 * jj + 1] = ljc_ex2(sc[4 * jj + 1] * a.scale_log2 - mu0);
            sc[4 * jj + 2] = ljc_ex2(sc[4 * jj + 2] * a.scale_log2 - mu1);
            sc[4 * jj + 3] = ljc_ex2(sc[4 * jj + 3] * a.scale_log2 - mu1);
            ps0[jj % 4] += sc[4 * jj] + sc[4 * jj + 1];
            ps1[jj % 4] += sc[4 * jj + 2] + sc[4 * jj + 3];
        }
        l0 = l0 * al0 + ((ps0[0] + ps0[1]) + (ps0[2] + ps0[3]));
        l1 = l1 * al1 + ((ps1[0] + ps1[1]) + (ps1[2] + ps1[3]));
        m0 = mn0;
        m1 = mn1;
        if (!first) {
            wgmma_wait<0>();   /* P_{j-1}·V_{j-1} done: O and P's registers are ours again */
#pragma unroll
            for (int i = 0; i < F3_HD / 2; i++) wgmma_pin(o[i]);
            f3_bar_arrive(empty + 8 * ((j - 1) % F3_STAGES));   /* tile j-1 (its K and V) no longer read here */
        }
        if (rescale) {   /* the first tile's O is still zero */
#pragma unroll
            for (int jj = 0; jj < F3_HD / 8; jj++) {
                o[4 * jj] *= al0; o[4 * jj + 1] *= al0;
                o[4 * jj + 2] *= al1; o[4 * jj + 3] *= al1;
            }
        }
#pragma unroll
        for (int t = 0; t < F3_BN / 16; t++) {
            pf[t][0] = ljc_pack_bf16(sc[8 * t], sc[8 * t + 1]);
            pf[t][1] = ljc_pack_bf16(sc[8 * t + 2], sc[8 * t + 3]);
            pf[t][2] = ljc_pack_bf16(sc[8 * t + 4], sc[8 * t + 5]);
            pf[t][3] = ljc_pack_bf16(sc[8 * t + 6], sc[8 * t + 7]);
        }
    };

#ifndef F3_NO_PINGPONG
    if (wg == 1) f3_named_arrive(1);   /* warpgroup 0 issues first */
#endif
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

/* cuTensorMapEncodeTiled from the driver, found through the runtime (no libcuda link) */
typedef CUresult (*f3_encode_fn)(CUtensorMap *, CUtensorMapDataType, cuuint32_t, void *, const cuuint64_t *, const cuuint64_t *,
                                 const cuuint32_t *, const cuuint32_t *, CUtensorMapInterleave, CUtensorMapSwizzle,
                                 CUtensorMapL2promotion, CUtensorMapFloatOOBfill);
static f3_encode_fn f3_encoder(void) {
    static const f3_encode_fn fn = [] {   /* C++ static: initialised once, thread-safe */
        void *p = NULL;
        cudaDriverEntryPointQueryResult q;
        if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &q) != cudaSuccess ||
            q != cudaDriverEntryPointSuccess) {
            p = NULL;
            cudaGetLastError();   /* not left pending for the fallback kernel's launch check */
        }
        return (f3_encode_fn)p;
    }();
    return fn;
}

/* A bf16 matrix [rows][cols] with rows row_bytes apart, read in 128-row x 64-column boxes into
 * 128B-swizzled shared memory (the layout the MMA descriptors expect); rows past `rows` read as
 * zeros. 0 when the driver refuses it (alignment), and the caller falls back. */
static int f3_map(CUtensorMap *m, const void *base, size_t cols, size_t rows, size_t row_bytes) {
    f3_encode_fn enc = f3_encoder();
    if (!enc || rows == 0) return 0;
    const cuuint64_t dim[2] = {cols, rows}, stride[1] = {row_bytes};
    const cuuint32_t box[2] = {64, F3_BN}, step[2] = {1, 1};
    return enc(m, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, (void *)base, dim, stride, box, step, CU_TENSOR_MAP_INTERLEAVE_NONE,
               CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

cudaError_t ljc_fa3_prefill(const ljc_seqs *pre, const fa3_args *a, int n_heads, cudaStream_t st) {
    static_assert(F3_BM == F3_BN, "one box shape (F3_BN rows) serves Q and K/V");
    cudaError_t e = ljc_smem_optin((const void *)fa3_prefill_kernel, F3_SMEM);
    if (e != cudaSuccess) return e;
    /* The tensor maps travel as kernel parameters: F3_MAX_SEQS sequences per launch. All of them
     * are made before anything is launched, so a refusal leaves no work done twice. */
    enum { GROUPS = (LJC_MAX_SEQS + F3_MAX_SEQS - 1) / F3_MAX_SEQS };
    ljc_seqs sub[GROUPS];
    fa3_maps maps[GROUPS];
    memset(maps, 0, sizeof maps);   /* slots past a group's sequences: never read */
    const int ngroups = (pre->n + F3_MAX_SEQS - 1) / F3_MAX_SEQS;
    for (int gi = 0; gi < ngroups; gi++) {
        const int first = gi * F3_MAX_SEQS;
        ljc_seqs *u = &sub[gi];
        u->n = u->max_tok = 0;
        const int cnt = pre->n - first < F3_MAX_SEQS ? pre->n - first : F3_MAX_SEQS;
        int rows = 0;   /* rows of the Q buffer this launch may touch */
        for (int i = 0; i < cnt; i++) {
            ljc_seqs_push(u, pre, first + i);
            if (u->start[i] + u->ntok[i] > rows) rows = u->start[i] + u->ntok[i];
            const size_t kv_len = (size_t)(u->pos[i] + u->ntok[i]);
            if (!f3_map(&maps[gi].k[i], u->p0[i], a->kvdim, kv_len, a->kvdim * 2) ||
                !f3_map(&maps[gi].v[i], u->p1[i], a->kvdim, kv_len, a->kvdim * 2))
                return cudaErrorNotSupported;
        }
        if (!f3_map(&maps[gi].q, a->q, (size_t)n_heads * F3_HD, (size_t)rows, a->ldq * 2)) return cudaErrorNotSupported;
    }
    for (int gi = 0; gi < ngroups; gi++) {
        /* Block order. Query-tile major (each head's tiles heavy to light, head after head) keeps
         * one kv head's K/V hot in L2 while its tiles run: best for long sequences. With few tiles
         * (a few waves of blocks) the heaviest tiles of all heads must start first or the last wave
         * is long: head major there. H100, 32/8 heads, locked clocks: 4K 380 -> 345 us head major;
         * 16K 4.69 ms query-tile major, 4.85 head major, 4.75 kv-group major (each group's query
         * heads back to back); 32K query-tile major and kv-group major alike. */
        fa3_args b = *a;
        b.n_qtiles = (sub[gi].max_tok + F3_BM - 1) / F3_BM;
        b.head_major = b.n_qtiles <= 32;
        dim3 grid = b.head_major ? dim3((unsigned)n_heads, (unsigned)b.n_qtiles, (unsigned)sub[gi].n)
                                 : dim3((unsigned)b.n_qtiles, (unsigned)n_heads, (unsigned)sub[gi].n);
        fa3_prefill_kernel<<<grid, F3_THREADS, F3_SMEM, st>>>(sub[gi], b, maps[gi]);
        e = cudaGetLastError();
        if (e != cudaSuccess) return e;
    }
    return cudaSuccess;
}
