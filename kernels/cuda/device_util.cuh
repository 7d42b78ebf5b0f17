/* Small device helpers shared by the CUDA kernels (inline PTX): shared-window addresses, 16-byte
 * asynchronous copies, base-2 exponent, bf16 pairs and vectors, and the exact int8 -> bf16
 * widening. */
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

__device__ __forceinline__ uint32_t ljc_smem_u32(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

/* 16 bytes global -> shared (a shared-window address); `bytes` 0 zero-fills the destination */
__device__ __forceinline__ void ljc_cp_async16(uint32_t dst, const void *src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes));
}
__device__ __forceinline__ void ljc_cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void ljc_cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

/* 16 bits from a shared-window address (an LDS; a generic pointer into shared memory compiles
 * to a slower generic load) */
__device__ __forceinline__ uint32_t ljc_lds_u16(uint32_t addr) {
    unsigned short v;
    asm volatile("ld.shared.u16 %0, [%1];\n" : "=h"(v) : "r"(addr));
    return v;
}

/* 2^x by the SFU (MUFU.EX2); 2^-inf = 0 */
__device__ __forceinline__ float ljc_ex2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

__device__ __forceinline__ uint32_t ljc_pack_bf16(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}

/* C bf16 in one register-sized vector (C = 2, 4, 8: 4-, 8-, 16-byte loads and stores) <-> C floats */
template <int C> struct ljc_bf16vec;
template <> struct ljc_bf16vec<8> { typedef uint4 t; };
template <> struct ljc_bf16vec<4> { typedef uint2 t; };
template <> struct ljc_bf16vec<2> { typedef uint32_t t; };
template <int C> __device__ __forceinline__ void ljc_bf16_unpack(const typename ljc_bf16vec<C>::t &v, float *f) {
    const __nv_bfloat162 *h = reinterpret_cast<const __nv_bfloat162 *>(&v);
#pragma unroll
    for (int i = 0; i < C / 2; i++) {
        const float2 t = __bfloat1622float2(h[i]);
        f[2 * i] = t.x;
        f[2 * i + 1] = t.y;
    }
}
template <int C> __device__ __forceinline__ typename ljc_bf16vec<C>::t ljc_bf16_pack(const float *f) {
    typename ljc_bf16vec<C>::t v;
    __nv_bfloat162 *h = reinterpret_cast<__nv_bfloat162 *>(&v);
#pragma unroll
    for (int i = 0; i < C / 2; i++) h[i] = __floats2bfloat162_rn(f[2 * i], f[2 * i + 1]);
    return v;
}

/* int8 byte i (0..3) of a word as a float, exactly: 0x4B000000 | (q ^ 0x80) is the float
 * 2^23 + 128 + q (one byte permute and one subtract; the int-to-float instruction is quarter-rate).
 * `u` is the word with every byte's sign bit flipped (q ^ 0x80808080: q + 128 as unsigned bytes). */
__device__ __forceinline__ float ljc_i8_float(uint32_t u, int i) {
    return __uint_as_float(__byte_perm(u, 0x4B000000u, 0x7540u + (uint32_t)i)) - 8388736.0f;
}

/* four int8 (one 32-bit word, byte 0 first) -> two bf16x2, exactly (|q| <= 127 fits bf16's 8-bit
 * significand) */
__device__ __forceinline__ void ljc_widen_i8x4(uint32_t q, uint32_t *lo, uint32_t *hi) {
    const uint32_t u = q ^ 0x80808080u;
    float f[4];
#pragma unroll
    for (int i = 0; i < 4; i++) f[i] = ljc_i8_float(u, i);
    *lo = ljc_pack_bf16(f[0], f[1]);
    *hi = ljc_pack_bf16(f[2], f[3]);
}
