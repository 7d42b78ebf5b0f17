/* Collectives between the ranks of a tensor-parallel group (one rank per backend instance).
 * Buffers are BACKEND memory of the rank's backend (host memory for the CPU backend, device memory
 * for CUDA). Every rank calls the same collectives in the same order with the same sizes; a call
 * returns when this rank's result is in place.
 *
 * Implementations: kernels/cpu/comm_cpu.c (threads of one process over shared memory: the CPU
 * backend, and the reference the tensor-parallel math is tested against in CI); kernels/comm_staged.c
 * (the same through host copies, for device backends); kernels/cuda/comm_nccl.cu (NCCL for CUDA
 * ranks, one GPU each, collectives queued on each rank's stream; opt-in, LONGJAM_COMM=nccl, until
 * it has run on several GPUs).
 *
 * Determinism: the same bytes land on every rank, so replicated activations never drift apart
 * between ranks; the CPU and staged communicators also form each sum in rank order (rank 0 +
 * rank 1 + ...), NCCL in its own order (in fp32 for bf16 buffers).
 *
 * Failure: a rank that fails between collectives calls `abort`; every rank waiting in (or later
 * entering) a collective of the group then returns -1 with "aborted by rank r: <message>", so a
 * failing rank never leaves the others hanging. A group is not reusable after an abort. */
#ifndef LJ_KERNELS_COMM_H
#define LJ_KERNELS_COMM_H

#include <stddef.h>

#include "kernels/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lj_comm lj_comm;
struct lj_comm {
    int rank, world;
    /* buf[0..n) = Σ over ranks of every rank's buf[0..n), in place. */
    int (*all_reduce_sum)(lj_comm *c, void *buf, lj_dtype dt, size_t n);
    /* out[r*n .. (r+1)*n) = rank r's in[0..n) for every r; out holds world*n elements and must not
     * overlap in. */
    int (*all_gather)(lj_comm *c, const void *in, void *out, lj_dtype dt, size_t n);
    /* Releases every rank of the group from its collectives with an error naming this rank. */
    void (*abort)(lj_comm *c, const char *why);
    /* Frees this rank's handle (the group's shared part goes with the last rank's). */
    void (*free)(lj_comm *c);
    char err[256];   /* the message of the last failed call */
};

/* A CPU group of `world` ranks (threads of this process): ranks[r] for r < world. Each rank's
 * handle is used by one thread at a time. Returns 0, or -1 with a message. */
int lj_comm_cpu_group(int world, lj_comm **ranks, char *err, size_t errlen);

/* A rank of a host group (lj_comm_cpu_group) for buffers in backend b's memory, of any activation
 * dtype: each collective copies the rank's buffer to the host as fp32 (b->download), runs the
 * host collective, and copies the result back (b->upload). For device backends in one process
 * without NCCL (several ranks on one GPU, or GPUs without NVLink/NCCL): correct and slow, the
 * reference an NCCL communicator is checked against. Takes ownership of host (freed with it). */
int lj_comm_staged(lj_comm *host, lj_backend *b, lj_comm **out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
