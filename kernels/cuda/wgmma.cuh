/* Hopper (sm_90a) warpgroup MMA helpers: shared-memory matrix descriptors for the 128-byte
 * swizzled K-major layout, the fence / commit / wait that order wgmma.mma_async against ordinary
 * instructions, and (wgmma_gen.cuh) the MMA wrappers themselves.
 *
 * Layout the descriptor describes (one "atom" per 8 rows): a tile of R rows of 64 bf16 (128 bytes)
 * each, row r at byte r*128, its 16-byte chunk c stored at chunk c ^ (r % 8); the tile base
 * 1024-byte aligned. A k16 slice starting at element 16s of every row is the descriptor of
 * base + 32s: the hardware applies the XOR to the address bits, so the offset composes. */
#pragma once
#include <stdint.h>

#include "kernels/cuda/wgmma_gen.cuh"

/* byte offset of 16-byte chunk c (0..7) of row r in a 128B-swizzled tile */
__device__ __forceinline__ uint32_t sw128_offset(int r, int c) { return (uint32_t)(r * 128 + ((c ^ (r & 7)) << 4)); }

/* descriptor of a K-major bf16 operand at shared address `saddr` (128B swizzle, 8-row atoms 1024
 * bytes apart): start >> 4 in bits 0-13, leading offset 16 B (unused by swizzled K-major), stride
 * offset 1024 B in bits 32-45, layout 1 = SWIZZLE_128B in bits 62-63 */
__device__ __forceinline__ uint64_t wgmma_desc_sw128(uint32_t saddr) {
    return (uint64_t)((saddr & 0x3FFFF) >> 4) | ((uint64_t)(16 >> 4) << 16) | ((uint64_t)(1024 >> 4) << 32) |
           ((uint64_t)1 << 62);
}

/* descriptor of an MN-major bf16 B operand (N contiguous; imm-trans-b = 1) in the same storage:
 * 128-byte rows are K (8 rows = one 1024-byte atom, atoms SBO = 1024 bytes apart along K), each row
 * 64 elements of N; the next 64 of N live `n_stride` bytes further (LBO) */
__device__ __forceinline__ uint64_t wgmma_desc_sw128_mn(uint32_t saddr, uint32_t n_stride) {
    return (uint64_t)((saddr & 0x3FFFF) >> 4) | ((uint64_t)((n_stride & 0x3FFFF) >> 4) << 16) |
           ((uint64_t)(1024 >> 4) << 32) | ((uint64_t)1 << 62);
}

/* before the first wgmma that reads registers (accumulators, A fragments) written by ordinary code */
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void wgmma_wait() {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
/* shared memory written through the generic proxy (st.shared, cp.async) is read by wgmma through
 * the async proxy: each writer fences before the barrier that publishes the data */
__device__ __forceinline__ void fence_proxy_async_smem() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }

/* keeps the compiler from moving reads/writes of an accumulator across wgmma issue/wait points */
__device__ __forceinline__ void wgmma_pin(float &x) { asm volatile("" : "+f"(x)::"memory"); }
