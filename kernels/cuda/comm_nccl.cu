/* lj_comm over NCCL for the CUDA ranks of one process, one GPU per rank (kernels/comm.h).
 *
 * The group's communicators come from one ncclCommInitAll over the ranks' devices; each rank's
 * thread then issues its collectives on its backend's stream, so they are ordered with the rank's
 * kernels without a host wait (a call returns once the collective is queued: every reader of the
 * result is on that stream, and downloads synchronise it). bf16 sums go through fp32: the buffer
 * is widened into a per-rank fp32 scratch, reduced, and rounded once — as the host-staged
 * communicator does — instead of NCCL rounding to bf16 at every hop of its ring. NCCL hands every
 * rank the same bytes; the order of the sum is NCCL's, not rank order.
 *
 * Abort: the failing rank marks the group and aborts every communicator (ncclCommAbort may be
 * called from another thread), which ends collectives other ranks have queued or are waiting on;
 * their next call returns the message. A rank reads its communicator and queues its collective
 * under the group's lock, so an abort never frees a communicator under a call in progress; with
 * NCCL_RUNTIME_CONNECT=0 (connections made at init; unless the environment says otherwise) the
 * queueing never waits for peers while holding it. NVLink multicast stays off
 * (NCCL_NVLS_ENABLE=0 unless the environment already says otherwise): on shared hosts it can take
 * GPUs out of service.
 *
 * libnccl is opened when a group is first made (dlopen), not linked: a machine without NCCL
 * still runs the CUDA backend. Compiled where CMake (or bench/cuda_build_standalone.sh) finds
 * nccl.h (LONGJAM_HAVE_NCCL); otherwise ljc_comm_nccl_group says so. */
#include "kernels/comm.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>

/* err = the message, -1 (the plugin links no lj_common, so no lj_errf) */
static int group_err(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

#if defined(LONGJAM_HAVE_NCCL)
#include <dlfcn.h>
#include <nccl.h>
#include <pthread.h>

/* the NCCL functions used here, from libnccl.so.2 */
struct nccl_lib {
    ncclResult_t (*init_all)(ncclComm_t *, int, const int *);
    ncclResult_t (*all_reduce)(const void *, void *, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t, cudaStream_t);
    ncclResult_t (*all_gather)(const void *, void *, size_t, ncclDataType_t, ncclComm_t, cudaStream_t);
    ncclResult_t (*abort)(ncclComm_t);
    ncclResult_t (*destroy)(ncclComm_t);
    const char *(*error_string)(ncclResult_t);
    char why[160];   /* empty when loaded */
};
static const nccl_lib *nccl_load(void) {
    static const nccl_lib lib = [] {   /* C++ static: once, thread-safe */
        nccl_lib l;
        memset(&l, 0, sizeof l);
        void *h = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
        if (!h) h = dlopen("libnccl.so", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            snprintf(l.why, sizeof l.why, "cannot load libnccl: %s", dlerror());
            return l;
        }
        l.init_all = (ncclResult_t(*)(ncclComm_t *, int, const int *))dlsym(h, "ncclCommInitAll");
        l.all_reduce = (ncclResult_t(*)(const void *, void *, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t,
                                        cudaStream_t))dlsym(h, "ncclAllReduce");
        l.all_gather = (ncclResult_t(*)(const void *, void *, size_t, ncclDataType_t, ncclComm_t, cudaStream_t))dlsym(
            h, "ncclAllGather");
        l.abort = (ncclResult_t(*)(ncclComm_t))dlsym(h, "ncclCommAbort");
        l.destroy = (ncclResult_t(*)(ncclComm_t))dlsym(h, "ncclCommDestroy");
        l.error_string = (const char *(*)(ncclResult_t))dlsym(h, "ncclGetErrorString");
        if (!l.init_all || !l.all_reduce || !l.all_gather || !l.abort || !l.destroy || !l.error_string)
            snprintf(l.why, sizeof l.why, "libnccl lacks a function this build uses (%s)", dlerror());
        return l;
    }();
    return &lib;
}

struct nccl_group {
    int world, refs;
    ncclComm_t *comms;           /* [world] */
    pthread_mutex_t mu;
    int aborted;                 /* under mu */
    char why[200];
};

struct nccl_rank {
    lj_comm pub;
    nccl_group *g;
    lj_backend *b;
    float *wide;                 /* device fp32 scratch for bf16 sums, grown on demand */
    size_t cap;
};

static int nccl_fail(lj_comm *c, const char *what, const char *msg) {
    snprintf(c->err, sizeof c->err, "%s: %.200s", what, msg);
    return -1;
}

/* marks the group aborted and aborts every communicator; g->mu held */
static void nccl_abort_locked(nccl_group *g, int rank, const char *why) {
    if (g->aborted) return;
    g->aborted = 1;
    snprintf(g->why, sizeof g->why, "aborted by rank %d: %.150s", rank, why ? why : "");
    for (int i = 0; i < g->world; i++) nccl_load()->abort(g->comms[i]);   /* frees them too */
}

static void nccl_abort(lj_comm *c, const char *why) {
    nccl_rank *r = (nccl_rank *)c;
    pthread_mutex_lock(&r->g->mu);
    nccl_abort_locked(r->g, c->rank, why);
    pthread_mutex_unlock(&r->g->mu);
}

/* Queues call(this rank's communicator) under the group's lock, so that an abort cannot free the
 * communicator under it: -1 with the message when the group was aborted or NCCL fails (which
 * aborts the group), else 0. */
template <typename F> static int nccl_locked(nccl_rank *r, const char *what, F call) {
    nccl_group *g = r->g;
    char msg[200];
    pthread_mutex_lock(&g->mu);
    if (g->aborted) {
        snprintf(msg, sizeof msg, "%s", g->why);
    } else {
        const ncclResult_t res = call(g->comms[r->pub.rank]);
        if (res == ncclSuccess) {
            pthread_mutex_unlock(&g->mu);
            return 0;
        }
        snprintf(msg, sizeof msg, "NCCL: %s", nccl_load()->error_string(res));
        nccl_abort_locked(g, r->pub.rank, msg);
    }
    pthread_mutex_unlock(&g->mu);
    return nccl_fail(&r->pub, what, msg);
}

static ncclDataType_t nccl_type(lj_dtype dt) { return dt == LJ_BF16 ? ncclBfloat16 : ncclFloat32; }

__global__ void nccl_widen(const __nv_bfloat16 *in, float *out, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = __bfloat162float(in[i]);
}
__global__ void nccl_narrow(const float *in, __nv_bfloat16 *out, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = __float2bfloat16(in[i]);
}

/* What both collectives check first: -1 (error in c->err), 1 (nothing to do: n = 0) or 0 with the
 * rank's device current. */
static int nccl_begin(nccl_rank *r, const char *what, lj_dtype dt, size_t n) {
    if (dt != LJ_F32 && dt != LJ_BF16) return nccl_fail(&r->pub, what, "dtype other than f32/bf16");
    if (!n) return 1;
    if (cudaSetDevice(ljc_of(r->b)->device) != cudaSuccess) {
        cudaGetLastError();
        return nccl_fail(&r->pub, what, "cudaSetDevice failed");
    }
    return 0;
}

static int nccl_all_reduce(lj_comm *c, void *buf, lj_dtype dt, size_t n) {
    nccl_rank *r = (nccl_rank *)c;
    const int go = nccl_begin(r, "all-reduce", dt, n);
    if (go) return go < 0 ? -1 : 0;
    const nccl_lib *lib = nccl_load();
    cudaStream_t st = ljc_of(r->b)->stream;
    if (dt == LJ_F32)
        return nccl_locked(r, "all-reduce", [&](ncclComm_t comm) { return lib->all_reduce(buf, buf, n, ncclFloat32, ncclSum, comm, st); });
    if (n > r->cap) {
        cudaFree(r->wide);
        r->wide = NULL;
        r->cap = 0;
        if (cudaMalloc((void **)&r->wide, n * sizeof(float)) != cudaSuccess) {
            cudaGetLastError();
            nccl_abort(c, "out of GPU memory for the fp32 sum");
            return nccl_fail(c, "all-reduce", "out of GPU memory for the fp32 sum");
        }
        r->cap = n;
    }
    const unsigned blocks = (unsigned)(n / 256 + 1 < 4096 ? n / 256 + 1 : 4096);
    nccl_widen<<<blocks, 256, 0, st>>>((const __nv_bfloat16 *)buf, r->wide, n);
    float *w = r->wide;
    if (nccl_locked(r, "all-reduce", [&](ncclComm_t comm) { return lib->all_reduce(w, w, n, ncclFloat32, ncclSum, comm, st); }))
        return -1;
    nccl_narrow<<<blocks, 256, 0, st>>>(w, (__nv_bfloat16 *)buf, n);
    if (cudaGetLastError() != cudaSuccess) return nccl_fail(c, "all-reduce", "kernel launch failed");
    return 0;
}

static int nccl_all_gather(lj_comm *c, const void *in, void *out, lj_dtype dt, size_t n) {
    nccl_rank *r = (nccl_rank *)c;
    const int go = nccl_begin(r, "all-gather", dt, n);
    if (go) return go < 0 ? -1 : 0;
    const nccl_lib *lib = nccl_load();
    cudaStream_t st = ljc_of(r->b)->stream;
    return nccl_locked(r, "all-gather", [&](ncclComm_t comm) { return lib->all_gather(in, out, n, nccl_type(dt), comm, st); });
}

static void nccl_free(lj_comm *c) {
    if (!c) return;
    nccl_rank *r = (nccl_rank *)c;
    nccl_group *g = r->g;
    cudaFree(r->wide);
    pthread_mutex_lock(&g->mu);
    if (!g->aborted) nccl_load()->destroy(g->comms[c->rank]);   /* after an abort they are gone */
    const int last = --g->refs == 0;
    pthread_mutex_unlock(&g->mu);
    free(r);
    if (last) {
        pthread_mutex_destroy(&g->mu);
        free(g->comms);
        free(g);
    }
}

extern "C" int ljc_comm_nccl_group(int world, lj_backend *const *bes, lj_comm **ranks, char *err, size_t errlen) {
    if (world < 1) return group_err(err, errlen, "NCCL group of %d ranks", world);
    if (nccl_load()->why[0]) return group_err(err, errlen, "NCCL: %s", nccl_load()->why);
    for (int i = 0; i < world; i++)
        for (int j = 0; j < i; j++)
            if (ljc_of(bes[j])->device == ljc_of(bes[i])->device)
                return group_err(err, errlen, "NCCL: ranks %d and %d are both on GPU %d (NCCL takes one GPU per rank; "
                               "without LONGJAM_COMM=nccl the ranks share GPUs through host copies)",
                               j, i, ljc_of(bes[i])->device);
    /* everything that can fail to allocate, before NCCL starts */
    int *devs = (int *)calloc((size_t)world, sizeof *devs);
    nccl_group *g = (nccl_group *)calloc(1, sizeof *g);
    ncclComm_t *comms = (ncclComm_t *)calloc((size_t)world, sizeof *comms);
    nccl_rank **rs = (nccl_rank **)calloc((size_t)world, sizeof *rs);
    int ok = devs && g && comms && rs;
    for (int i = 0; ok && i < world; i++) ok = (rs[i] = (nccl_rank *)calloc(1, sizeof **rs)) != NULL;
    ncclResult_t res = ncclSuccess;
    if (ok) {
        for (int i = 0; i < world; i++) devs[i] = ljc_of(bes[i])->device;
        setenv("NCCL_NVLS_ENABLE", "0", 0);      /* multicast off unless the environment decided */
        setenv("NCCL_RUNTIME_CONNECT", "0", 0);  /* connect at init: no queueing waits for peers */
        res = nccl_load()->init_all(comms, world, devs);
    }
    free(devs);
    if (!ok || res != ncclSuccess) {
        for (int i = 0; rs && i < world; i++) free(rs[i]);
        free(rs); free(comms); free(g);
        return !ok ? group_err(err, errlen, "NCCL group: out of memory")
                   : group_err(err, errlen, "NCCL: ncclCommInitAll over %d GPUs: %s", world, nccl_load()->error_string(res));
    }
    pthread_mutex_init(&g->mu, NULL);
    g->world = g->refs = world;
    g->comms = comms;
    for (int i = 0; i < world; i++) {
        nccl_rank *r = rs[i];
        r->g = g;
        r->b = bes[i];
        r->pub.rank = i;
        r->pub.world = world;
        r->pub.all_reduce_sum = nccl_all_reduce;
        r->pub.all_gather = nccl_all_gather;
        r->pub.abort = nccl_abort;
        r->pub.free = nccl_free;
        ranks[i] = &r->pub;
    }
    free(rs);
    return 0;
}

#else

extern "C" int ljc_comm_nccl_group(int world, lj_backend *const *bes, lj_comm **ranks, char *err, size_t errlen) {
    (void)world; (void)bes; (void)ranks;
    return group_err(err, errlen, "this CUDA backend was built without NCCL (nccl.h and libnccl not found at build time)");
}

#endif
