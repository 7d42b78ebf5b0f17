/* The CUDA backend: one device, one stream, one cuBLAS handle. bf16 weights and activations,
 * fp32 accumulation, fp32 SSM state and conv windows, bf16 KV cache. Everything an op queues runs
 * on the backend's stream in order; only `sync`, `download` and the MoE op (expert counts for
 * cuBLAS's grouped GEMM sizes) wait for the device. */
#include "kernels/cuda/cuda_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "kernels/cuda/cuda_backend.h"
}

int ljc_set_err(lj_backend *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, sizeof b->err, fmt, ap);
    va_end(ap);
    return -1;
}

int ljc_scratch(lj_backend *b, size_t bytes, void **out) {
    ljc_impl *im = ljc_of(b);
    if (bytes > im->scratch_bytes) {
        if (im->scratch) {
            LJC_CUDA(b, cudaStreamSynchronize(im->stream));
            cudaFree(im->scratch);
            im->scratch = NULL;
            im->scratch_bytes = 0;
        }
        size_t want = bytes + bytes / 8;
        LJC_CUDA(b, cudaMalloc(&im->scratch, want));
        im->scratch_bytes = want;
    }
    *out = im->scratch;
    return 0;
}

int ljc_pinned(lj_backend *b, size_t bytes, void **out) {
    ljc_impl *im = ljc_of(b);
    if (bytes > im->pinned_bytes) {
        if (im->pinned) {
            LJC_CUDA(b, cudaStreamSynchronize(im->stream));
            cudaFreeHost(im->pinned);
            im->pinned = NULL;
            im->pinned_bytes = 0;
        }
        LJC_CUDA(b, cudaMallocHost(&im->pinned, bytes));
        im->pinned_bytes = bytes;
    }
    *out = im->pinned;
    return 0;
}

/* ---- the calling thread's device ---------------------------------------------------------
 * Every entry point of the table makes the backend's GPU current first: the engine calls a backend
 * from whichever thread runs its replica or tensor-parallel rank, and allocations, streams, cuBLAS
 * handles and launches all belong to one device (without it, a second GPU's rank allocated and
 * launched on the first). cudaGetDevice is a thread-local read; cudaSetDevice runs on a change. */
static int ljc_bind(lj_backend *b) {
    const int want = ljc_of(b)->device;
    int cur = -1;
    if (cudaGetDevice(&cur) == cudaSuccess && cur == want) return 0;
    cudaError_t e = cudaSetDevice(want);
    if (e == cudaSuccess) return 0;
    cudaGetLastError();
    return ljc_set_err(b, "cudaSetDevice(%d): %s", want, cudaGetErrorString(e));
}

/* ---- memory ----------------------------------------------------------------------------- */

static int cuda_alloc(lj_backend *b, size_t bytes, void **p) {
    *p = NULL;
    if (ljc_bind(b)) return -1;
    if (bytes == 0) bytes = 64;
    cudaError_t e = cudaMalloc(p, bytes);
    if (e != cudaSuccess) {
        size_t fr = 0, tot = 0;
        cudaMemGetInfo(&fr, &tot);
        *p = NULL;
        return ljc_set_err(b, "cuda alloc of %zu bytes failed: %s (free %zu of %zu)", bytes,
                           cudaGetErrorString(e), fr, tot);
    }
    LJC_CUDA(b, cudaMemsetAsync(*p, 0, bytes, ljc_of(b)->stream));
    return 0;
}

static void cuda_free(lj_backend *b, void *p) {
    if (!p) return;
    ljc_bind(b);
    cudaStreamSynchronize(ljc_of(b)->stream);
    cudaFree(p);
}

static inline uint16_t host_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);   /* NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
static inline float host_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static float host_f16_to_f32(uint16_t h) {
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff, u;
    if (e == 0) {
        if (m == 0) u = s;
        else {   /* subnormal: normalise */
            int sh = 0;
            while (!(m & 0x400)) { m <<= 1; sh++; }
            m &= 0x3ff;
            u = s | ((uint32_t)(127 - 15 - sh + 1) << 23) | (m << 13);
        }
    } else if (e == 31) u = s | 0x7f800000u | (m << 13);
    else u = s | ((e + 127 - 15) << 23) | (m << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int src_to_f32(const void *src, lj_dtype t, size_t i, float *out) {
    switch (t) {
    case LJ_F32: *out = ((const float *)src)[i]; return 0;
    case LJ_BF16: *out = host_bf16_to_f32(((const uint16_t *)src)[i]); return 0;
    case LJ_F16: *out = host_f16_to_f32(((const uint16_t *)src)[i]); return 0;
    default: return -1;
    }
}

/* Host → device with conversion on the host, in slices so that the staging buffer stays small. */
static int cuda_upload(lj_backend *b, void *dst, lj_dtype dt, const void *src, lj_dtype st, size_t n) {
    if (ljc_bind(b)) return -1;
    ljc_impl *im = ljc_of(b);
    size_t dsz = lj_dtype_size(dt);
    if (!dsz || !lj_dtype_size(st)) return ljc_set_err(b, "cuda upload: unknown dtype %d -> %d", (int)st, (int)dt);
    if (dt == st) {
        LJC_CUDA(b, cudaMemcpyAsync(dst, src, n * dsz, cudaMemcpyHostToDevice, im->stream));
        LJC_CUDA(b, cudaStreamSynchronize(im->stream));
        return 0;
    }
    const size_t slice = (size_t)1 << 22;
    void *stage;
    if (ljc_pinned(b, slice * dsz, &stage)) return -1;
    for (size_t off = 0; off < n; off += slice) {
        size_t cnt = n - off < slice ? n - off : slice;
        LJC_CUDA(b, cudaStreamSynchronize(im->stream));   /* the stage is free again */
        for (size_t i = 0; i < cnt; i++) {
            size_t k = off + i;
            if (dt == LJ_I32) {
                long long v;
                if (st == LJ_I64) v = ((const int64_t *)src)[k];
                else return ljc_set_err(b, "cuda upload: cannot convert dtype %d to I32", (int)st);
                if (v < INT32_MIN || v > INT32_MAX) return ljc_set_err(b, "cuda upload: id %lld at %zu out of int32", v, k);
                ((int32_t *)stage)[i] = (int32_t)v;
                continue;
            }
            float f;
            if (src_to_f32(src, st, k, &f)) return ljc_set_err(b, "cuda upload: cannot convert dtype %d to %d", (int)st, (int)dt);
            if (dt == LJ_F32) ((float *)stage)[i] = f;
            else if (dt == LJ_BF16) ((uint16_t *)stage)[i] = host_f32_to_bf16(f);
            else return ljc_set_err(b, "cuda upload: unsupported destination dtype %d", (int)dt);
        }
        LJC_CUDA(b, cudaMemcpyAsync((char *)dst + off * dsz, stage, cnt * dsz, cudaMemcpyHostToDevice, im->stream));
    }
    LJC_CUDA(b, cudaStreamSynchronize(im->stream));
    return 0;
}

static int cuda_download(lj_backend *b, void *dst, lj_dtype dt, const void *src, lj_dtype st, size_t n) {
    if (ljc_bind(b)) return -1;
    ljc_impl *im = ljc_of(b);
    size_t ssz = lj_dtype_size(st);
    if (!ssz) return ljc_set_err(b, "cuda download: unknown dtype %d", (int)st);
    if (dt == st) {
        LJC_CUDA(b, cudaMemcpyAsync(dst, src, n * ssz, cudaMemcpyDeviceToHost, im->stream));
        LJC_CUDA(b, cudaStreamSynchronize(im->stream));
        return 0;
    }
    if (dt != LJ_F32) return ljc_set_err(b, "cuda download: unsupported conversion %d -> %d", (int)st, (int)dt);
    const size_t slice = (size_t)1 << 22;
    void *stage;
    if (ljc_pinned(b, slice * ssz, &stage)) return -1;
    for (size_t off = 0; off < n; off += slice) {
        size_t cnt = n - off < slice ? n - off : slice;
        LJC_CUDA(b, cudaMemcpyAsync(stage, (const char *)src + off * ssz, cnt * ssz, cudaMemcpyDeviceToHost, im->stream));
        LJC_CUDA(b, cudaStreamSynchronize(im->stream));
        for (size_t i = 0; i < cnt; i++)
            if (src_to_f32(stage, st, i, (float *)dst + off + i))
                return ljc_set_err(b, "cuda download: cannot convert dtype %d to F32", (int)st);
    }
    return 0;
}

static int cuda_copy(lj_backend *b, void *dst, const void *src, size_t bytes) {
    if (ljc_bind(b)) return -1;
    LJC_CUDA(b, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ljc_of(b)->stream));
    return 0;
}

static int cuda_zero(lj_backend *b, void *dst, size_t bytes) {
    if (ljc_bind(b)) return -1;
    LJC_CUDA(b, cudaMemsetAsync(dst, 0, bytes, ljc_of(b)->stream));
    return 0;
}

cudaError_t ljc_smem_optin(const void *fn, int bytes) {
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static struct { const void *fn; int dev, bytes; } done[256];
    static int n;
    int dev;
    cudaError_t e = cudaGetDevice(&dev);
    if (e != cudaSuccess) return e;
    pthread_mutex_lock(&mu);
    int i = 0;
    while (i < n && !(done[i].fn == fn && done[i].dev == dev)) i++;
    if (i < n && done[i].bytes >= bytes) {
        pthread_mutex_unlock(&mu);
        return cudaSuccess;
    }
    e = cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
    if (e == cudaSuccess && i < 256) {   /* a full table only means setting it again next time */
        done[i].fn = fn;
        done[i].dev = dev;
        done[i].bytes = bytes;
        if (i == n) n++;
    }
    pthread_mutex_unlock(&mu);
    return e;
}

int ljc_device_sm90a(void) {
    static int known[64];   /* 0 unknown, 1 yes, 2 no */
    int dev = 0, major = 0, minor = 0;
    if (cudaGetDevice(&dev) != cudaSuccess) return 0;
    if (dev >= 0 && dev < 64 && known[dev]) return known[dev] == 1;
    int yes = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) == cudaSuccess &&
              cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) == cudaSuccess && major == 9 && minor == 0;
    if (dev >= 0 && dev < 64) known[dev] = yes ? 1 : 2;
    return yes;
}

static int cuda_sync(lj_backend *b) {
    if (ljc_bind(b)) return -1;
    LJC_CUDA(b, cudaStreamSynchronize(ljc_of(b)->stream));
    LJC_CUDA(b, cudaGetLastError());
    return 0;
}

static void cuda_destroy(lj_backend *b) {
    if (!b) return;
    ljc_impl *im = ljc_of(b);
    if (im) {
        ljc_bind(b);
        if (im->stream) cudaStreamSynchronize(im->stream);
        if (im->cublas) cublasDestroy(im->cublas);
        ljc_moe_free_tables(im);
        if (im->scratch) cudaFree(im->scratch);
        if (im->pinned) cudaFreeHost(im->pinned);
        if (im->stream) cudaStreamDestroy(im->stream);
        free(im);
    }
    free(b);
}

/* the ops (ops_*.cu) behind ljc_bind */
#define LJC_BOUND_OP(op, P) \
    static int bound_##op(lj_backend *b, const P *p) { return ljc_bind(b) ? -1 : ljc_##op(b, p); }
LJC_BOUND_OP(embedding, lj_embedding_params)
LJC_BOUND_OP(matmul, lj_matmul_params)
LJC_BOUND_OP(rmsnorm, lj_rmsnorm_params)
LJC_BOUND_OP(silu_mul, lj_silu_mul_params)
LJC_BOUND_OP(add, lj_add_params)
LJC_BOUND_OP(conv1d, lj_conv1d_params)
LJC_BOUND_OP(scan, lj_scan_params)
LJC_BOUND_OP(attention, lj_attention_params)
LJC_BOUND_OP(moe, lj_moe_params)
LJC_BOUND_OP(argmax, lj_argmax_params)

extern "C" int ljc_device_available(char *why, size_t whylen) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        snprintf(why, whylen, "no usable CUDA device (%s)",
                 e != cudaSuccess ? cudaGetErrorString(e) : "device count is 0");
        cudaGetLastError();
        return 0;
    }
    return 1;
}

/* Device memory for the memory plan (engine/plan.h). */
static int ljc_mem_info(lj_backend *b, size_t *free_bytes, size_t *total_bytes) {
    if (ljc_bind(b)) return -1;
    LJC_CUDA(b, cudaMemGetInfo(free_bytes, total_bytes));
    return 0;
}

extern "C" int lj_backend_cuda_new(int gpu, lj_backend **out, char *err, size_t errlen) {
    *out = NULL;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        snprintf(err, errlen, "cuda backend: no usable CUDA device (%s)",
                 e != cudaSuccess ? cudaGetErrorString(e) : "device count is 0");
        return -1;
    }
    if (gpu < 0 || gpu >= n) {
        snprintf(err, errlen, "cuda backend: device %d does not exist (%d present)", gpu, n);
        return -1;
    }
    lj_backend *b = (lj_backend *)calloc(1, sizeof *b);
    ljc_impl *im = (ljc_impl *)calloc(1, sizeof *im);
    if (!b || !im) { free(b); free(im); snprintf(err, errlen, "cuda backend: out of memory"); return -1; }
    b->impl = im;
    im->device = gpu;
    im->grouped_gemm_ok = 1;
    const char *mg = getenv("LJC_MOE_GEMM");
    im->moe_gemm_mode = mg && !strcmp(mg, "grouped") ? LJC_MOE_GROUPED : mg && !strcmp(mg, "loop") ? LJC_MOE_LOOP : LJC_MOE_AUTO;
    const char *w8 = getenv("LJC_W8A16");
    im->w8a16_force = !w8 ? 0 : !strcmp(w8, "mma") ? 1 : !strcmp(w8, "col") ? 2 : !strcmp(w8, "wgmma") ? 3 : 0;
    const char *sc = getenv("LJC_SCAN");
    im->scan_mode = !sc ? LJC_SCAN_AUTO : !strcmp(sc, "single") ? LJC_SCAN_SINGLE : !strcmp(sc, "chunked") ? LJC_SCAN_CHUNKED : LJC_SCAN_AUTO;
    const char *gv = getenv("LJC_GEMV");
    im->gemv_mode = gv && !strcmp(gv, "off") ? LJC_GEMV_OFF : LJC_GEMV_AUTO;
    cudaDeviceProp prop;
    if ((e = cudaSetDevice(gpu)) != cudaSuccess || (e = cudaGetDeviceProperties(&prop, gpu)) != cudaSuccess ||
        (e = cudaStreamCreateWithFlags(&im->stream, cudaStreamNonBlocking)) != cudaSuccess) {
        snprintf(err, errlen, "cuda backend: device %d: %s", gpu, cudaGetErrorString(e));
        cuda_destroy(b);
        return -1;
    }
    if (prop.major < 8) {
        snprintf(err, errlen, "cuda backend: device %d (%s) is compute %d.%d; bf16 tensor cores need 8.0+",
                 gpu, prop.name, prop.major, prop.minor);
        cuda_destroy(b);
        return -1;
    }
    im->num_sms = prop.multiProcessorCount;
    im->cc_major = prop.major;
    if (cublasCreate(&im->cublas) != CUBLAS_STATUS_SUCCESS || cublasSetStream(im->cublas, im->stream) != CUBLAS_STATUS_SUCCESS) {
        snprintf(err, errlen, "cuda backend: cublasCreate failed");
        cuda_destroy(b);
        return -1;
    }
    /* LONGJAM_CUDA_PRECISION=fp32: fp32 weights, activations and KV cache, fp32 GEMMs (a
     * precise mode for parity checks; ~2x the memory, far slower). Default: bf16. */
    const char *prec = getenv("LONGJAM_CUDA_PRECISION");
    int f32 = prec && (!strcmp(prec, "fp32") || !strcmp(prec, "f32"));
    if (prec && !f32 && strcmp(prec, "bf16")) {
        snprintf(err, errlen, "cuda backend: LONGJAM_CUDA_PRECISION=%s (expected bf16 or fp32)", prec);
        cuda_destroy(b);
        return -1;
    }
    b->name = f32 ? "cuda-fp32" : "cuda";
    b->act_dtype = f32 ? LJ_F32 : LJ_BF16;
    b->weight_dtype = f32 ? LJ_F32 : LJ_BF16;
    b->kv_dtype = f32 ? LJ_F32 : LJ_BF16;
    b->state_dtype = LJ_F32;
    b->threads = 0;
    b->destroy = cuda_destroy;
    b->alloc = cuda_alloc;
    b->free = cuda_free;
    b->upload = cuda_upload;
    b->download = cuda_download;
    b->copy = cuda_copy;
    b->zero = cuda_zero;
    b->sync = cuda_sync;
    b->embedding = bound_embedding;
    b->matmul = bound_matmul;
    b->rmsnorm = bound_rmsnorm;
    b->silu_mul = bound_silu_mul;
    b->add = bound_add;
    b->conv1d = bound_conv1d;
    b->scan = bound_scan;
    b->attention = bound_attention;
    b->moe = bound_moe;
    b->argmax = bound_argmax;
    b->mem_info = ljc_mem_info;
    *out = b;
    return 0;
}

extern "C" void ljc_set_moe_gemm(lj_backend *b, int mode) { ljc_of(b)->moe_gemm_mode = mode; }
extern "C" void ljc_set_scan_mode(lj_backend *b, int mode) { ljc_of(b)->scan_mode = mode; }

extern "C" int ljc_device_info(lj_backend *b, char *name, size_t namelen, size_t *used, size_t *total) {
    cudaDeviceProp prop;
    LJC_CUDA(b, cudaGetDeviceProperties(&prop, ljc_of(b)->device));
    if (name) snprintf(name, namelen, "%s", prop.name);
    size_t fr = 0, tot = 0;
    LJC_CUDA(b, cudaMemGetInfo(&fr, &tot));
    if (used) *used = tot - fr;
    if (total) *total = tot;
    return 0;
}

/* ---- synthetic data --------------------------------------------------------------------- */

__device__ __forceinline__ float hash_uniform(uint64_t seed, uint64_t i) {
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + i * 0xD1B54A32D192ED03ull + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) * (2.0f / 16777216.0f) - 1.0f;   /* [-1, 1) */
}

/* kind: 0 = fp32, 1 = bf16, 2 = int8 (round(offset + scale·u) clamped to [-127, 127], as the
 * ExpertsInt8 quantiser stores weights) */
__global__ void fill_random_kernel(void *dst, int kind, size_t n, uint64_t seed, float scale, float offset) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float v = offset + scale * hash_uniform(seed, i);
        if (kind == 1) ((__nv_bfloat16 *)dst)[i] = __float2bfloat16(v);
        else if (kind == 2) ((int8_t *)dst)[i] = (int8_t)fminf(127.0f, fmaxf(-127.0f, rintf(v)));
        else ((float *)dst)[i] = v;
    }
}

__global__ void fill_alog_kernel(float *dst, size_t n, size_t period) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = logf((float)(1 + i % period));
}

extern "C" int ljc_fill_random(lj_backend *b, void *dst, lj_dtype dtype, size_t n, uint64_t seed, float scale,
                               float offset) {
    if (dtype != LJ_F32 && dtype != LJ_BF16 && dtype != LJ_I8) return ljc_set_err(b, "ljc_fill_random: dtype %d", (int)dtype);
    if (!n) return 0;
    int kind = dtype == LJ_BF16 ? 1 : dtype == LJ_I8 ? 2 : 0;
    fill_random_kernel<<<4 * ljc_of(b)->num_sms * 8, 256, 0, ljc_of(b)->stream>>>(dst, kind, n, seed, scale, offset);
    LJC_LAUNCHED(b, "fill_random");
    return 0;
}

extern "C" int ljc_fill_alog(lj_backend *b, float *dst, size_t n, size_t period) {
    if (!n) return 0;
    fill_alog_kernel<<<ljc_of(b)->num_sms * 8, 256, 0, ljc_of(b)->stream>>>(dst, n, period ? period : 1);
    LJC_LAUNCHED(b, "fill_alog");
    return 0;
}

extern "C" int ljc_timer_start(lj_backend *b, ljc_timer *t) {
    cudaEvent_t a, c;
    LJC_CUDA(b, cudaEventCreate(&a));
    LJC_CUDA(b, cudaEventCreate(&c));
    t->start = a;
    t->stop = c;
    LJC_CUDA(b, cudaEventRecord(a, ljc_of(b)->stream));
    return 0;
}

extern "C" int ljc_timer_stop(lj_backend *b, ljc_timer *t, double *ms) {
    cudaEvent_t a = (cudaEvent_t)t->start, c = (cudaEvent_t)t->stop;
    LJC_CUDA(b, cudaEventRecord(c, ljc_of(b)->stream));
    LJC_CUDA(b, cudaEventSynchronize(c));
    float f = 0;
    LJC_CUDA(b, cudaEventElapsedTime(&f, a, c));
    *ms = f;
    cudaEventDestroy(a);
    cudaEventDestroy(c);
    return 0;
}
