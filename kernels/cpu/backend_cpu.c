/* The CPU backend: host memory, dtype conversion, and the op table. fp32 everywhere; matmuls go
 * through OpenBLAS when it is installed, one single-threaded call per pool thread. */
#include "kernels/cpu/cpu.h"

#include "common/error.h"
#include "common/util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef LONGJAM_HAVE_OPENBLAS
#include <cblas.h>
#endif

int cpu_fail(lj_backend *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, sizeof b->err, fmt, ap);
    va_end(ap);
    return -1;
}

float *cpu_scratch(lj_backend *b, size_t n) {
    cpu_impl *im = b->impl;
    if (n > im->scratch_floats) {
        float *ns = realloc(im->scratch, n * sizeof *ns);
        if (!ns) { cpu_fail(b, "cpu: out of memory for %zu floats of scratch", n); return NULL; }
        im->scratch = ns;
        im->scratch_floats = n;
    }
    return im->scratch;
}

/* ---- scalar conversions ---- */

float lj_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0) {
        if (man == 0) u = sign;
        else {   /* subnormal: value = man * 2^-24 */
            float f = (float)man * 5.9604644775390625e-8f;
            return sign ? -f : f;
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (man << 13);
    } else {
        u = sign | ((exp + 112) << 23) | (man << 13);
    }
    union { uint32_t u; float f; } v = {.u = u};
    return v.f;
}

uint16_t lj_f32_to_bf16(float f) {
    union { float f; uint32_t u; } v = {.f = f};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40);   /* NaN stays NaN */
    uint32_t r = v.u + 0x7fffu + ((v.u >> 16) & 1);
    return (uint16_t)(r >> 16);
}

static float load_as_f32(const void *src, lj_dtype t, size_t i) {
    const unsigned char *p = src;
    switch (t) {
    case LJ_F32: { float f; memcpy(&f, p + 4 * i, 4); return f; }
    case LJ_BF16: { uint16_t h; memcpy(&h, p + 2 * i, 2); return lj_bf16_to_f32(h); }
    case LJ_F16: { uint16_t h; memcpy(&h, p + 2 * i, 2); return lj_f16_to_f32(h); }
    default: return 0;
    }
}

/* ---- memory ---- */

static int cpu_alloc(lj_backend *b, size_t bytes, void **p) {
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded < bytes) return cpu_fail(b, "cpu: allocation of %zu bytes overflows", bytes);
    void *q = aligned_alloc(64, rounded ? rounded : 64);
    if (!q) return cpu_fail(b, "cpu: out of memory allocating %zu bytes", bytes);
    memset(q, 0, rounded ? rounded : 64);
    *p = q;
    return 0;
}

static void cpu_free(lj_backend *b, void *p) { free(p); }

static int cpu_upload(lj_backend *b, void *dst, lj_dtype dt, const void *src, lj_dtype st, size_t n) {
    if (dt == st && dt != LJ_I64) { memcpy(dst, src, n * lj_dtype_size(dt)); return 0; }
    if (dt == LJ_I32 && st == LJ_I64) {
        int32_t *d = dst;
        for (size_t i = 0; i < n; i++) {
            int64_t v;
            memcpy(&v, (const char *)src + 8 * i, 8);
            if (v < INT32_MIN || v > INT32_MAX) return cpu_fail(b, "cpu: upload: I64 value %lld at %zu does not fit I32", (long long)v, i);
            d[i] = (int32_t)v;
        }
        return 0;
    }
    if (dt == LJ_F32 && (st == LJ_BF16 || st == LJ_F16)) {
        float *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = load_as_f32(src, st, i);
        return 0;
    }
    if (dt == LJ_BF16 && (st == LJ_F32 || st == LJ_F16)) {
        uint16_t *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = lj_f32_to_bf16(load_as_f32(src, st, i));
        return 0;
    }
    return cpu_fail(b, "cpu: upload from dtype %d to dtype %d is not supported", (int)st, (int)dt);
}

static int cpu_download(lj_backend *b, void *dst, lj_dtype dt, const void *src, lj_dtype st, size_t n) {
    if (dt == st) { memcpy(dst, src, n * lj_dtype_size(dt)); return 0; }
    if (dt == LJ_F32 && (st == LJ_BF16 || st == LJ_F16)) {
        float *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = load_as_f32(src, st, i);
        return 0;
    }
    return cpu_fail(b, "cpu: download from dtype %d to dtype %d is not supported", (int)st, (int)dt);
}

static int cpu_copy(lj_backend *b, void *dst, const void *src, size_t bytes) {
    memmove(dst, src, bytes);
    return 0;
}

static int cpu_zero(lj_backend *b, void *dst, size_t bytes) {
    memset(dst, 0, bytes);
    return 0;
}

static int cpu_sync(lj_backend *b) { return 0; }

static void cpu_destroy(lj_backend *b) {
    if (!b) return;
    cpu_impl *im = b->impl;
    if (im) {
        pool_free(im->pool);
        free(im->scratch);
        free(im);
    }
    free(b);
}

int lj_backend_cpu_new(int threads, lj_backend **out, char *err, size_t errlen) {
    *out = NULL;
    if (threads <= 0) threads = lj_cpu_count();
    lj_backend *b = lj_calloc(1, sizeof *b);
    cpu_impl *im = lj_calloc(1, sizeof *im);
    if (!b || !im) { free(b); free(im); return lj_errf(err, errlen, "cpu backend: out of memory"); }
    im->pool = pool_new(threads);
    if (!im->pool) { free(b); free(im); return lj_errf(err, errlen, "cpu backend: cannot start %d threads", threads); }
#ifdef LONGJAM_HAVE_OPENBLAS
    openblas_set_num_threads(1);   /* the pool splits matmuls; see matmul.c */
#endif
    b->name = "cpu";
    b->act_dtype = b->weight_dtype = b->kv_dtype = b->state_dtype = LJ_F32;
    b->threads = pool_threads(im->pool);
    b->impl = im;
    b->destroy = cpu_destroy;
    b->alloc = cpu_alloc;
    b->free = cpu_free;
    b->upload = cpu_upload;
    b->download = cpu_download;
    b->copy = cpu_copy;
    b->zero = cpu_zero;
    b->sync = cpu_sync;
    b->embedding = cpu_embedding;
    b->matmul = cpu_matmul;
    b->rmsnorm = cpu_rmsnorm;
    b->silu_mul = cpu_silu_mul;
    b->add = cpu_add;
    b->conv1d = cpu_conv1d;
    b->scan = cpu_scan;
    b->attention = cpu_attention;
    b->moe = cpu_moe;
    b->argmax = cpu_argmax;
    *out = b;
    return 0;
}
