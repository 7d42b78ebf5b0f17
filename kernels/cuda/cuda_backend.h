/* CUDA backend extras beyond the lj_backend table (kernels/backend.h): device probing, memory
 * figures and seeded random fills for synthetic-weight benchmarks. C callable; present only when
 * LONGJAM_HAVE_CUDA is defined. */
#ifndef LJ_KERNELS_CUDA_BACKEND_H
#define LJ_KERNELS_CUDA_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when a CUDA device can be used; otherwise 0 with the reason in why (e.g. "no CUDA device"). */
int ljc_device_available(char *why, size_t whylen);

/* Device name and memory in use on the backend's device (total - free, bytes): what the process
 * and anyone else holds. */
int ljc_device_info(lj_backend *b, char *name, size_t namelen, size_t *used, size_t *total);

/* dst[i] = offset + scale * u_i with u_i uniform in [-1, 1) from a counter-based hash of (seed, i):
 * the same seed gives the same values on any launch shape. dtype LJ_F32 or LJ_BF16. */
int ljc_fill_random(lj_backend *b, void *dst, lj_dtype dtype, size_t n, uint64_t seed, float scale,
                    float offset);

/* dst[i] = log(1 + i % period) (A_log of a fresh Mamba layer: A = -(1..N) per channel), fp32. */
int ljc_fill_alog(lj_backend *b, float *dst, size_t n, size_t period);

/* How the MoE op runs its expert GEMMs: one cuBLAS grouped GEMM call per projection, one GEMM per
 * expert, or auto (grouped when experts get few rows each, as in decode; per expert otherwise). */
enum { LJC_MOE_AUTO = 0, LJC_MOE_GROUPED = 1, LJC_MOE_LOOP = 2 };
void ljc_set_moe_gemm(lj_backend *b, int mode);

/* How the selective scan runs a prefill: one pass over the whole sequence, a block per 16 channels
 * (32 when d_state <= 8), the lanes of a channel stepping through it (d_state <= 16; auto picks it
 * when those blocks fill the GPU), or chunks of the sequence in parallel with the state carried
 * between them (any d_state, any width). */
/* Decode steps (one token per sequence, d_state <= 32) take a step kernel whatever the mode. */
enum { LJC_SCAN_AUTO = 0, LJC_SCAN_SINGLE = 1, LJC_SCAN_CHUNKED = 2 };
void ljc_set_scan_mode(lj_backend *b, int mode);

/* Whether GEMMs of <= 2 bf16 rows (decode) and the MoE op's expert GEMMs at <= 64 routed rows run
 * on the small-batch GEMV (gemv.h; auto) or on cuBLAS (off: env LJC_GEMV=off). */
enum { LJC_GEMV_AUTO = 0, LJC_GEMV_OFF = 1 };

/* The W8A16 grouped GEMM alone (moe_w8a16.h): rows [Σ_{j<e} cnt[j], + cnt[e]) of x [R, K] times
 * expert e's int8 matrix w[e] [N, K] (scales in w[e].scale) into y [R, N]; cnt on the host (the
 * MoE op keeps them on the device). For benchmarks and tests. Queued on the backend's stream. */
int ljc_w8a16_gemm(lj_backend *b, const lj_tensor *w, size_t E, const int *cnt, const void *x, size_t ldx, void *y,
                   size_t ldy);

/* The selective scan's arithmetic alone for state_steps (T·D·N) state-steps — per state-step one
 * hardware exp and three FMA-pipe operations on registers, nothing loaded — queued on the stream:
 * the floor under any scan that computes each decay with one exp (the benchmark's roofline). */
int ljc_scan_floor(lj_backend *b, size_t state_steps);

/* An NCCL group over the backends bes[0..world) (one GPU each, in this process): ranks[r] for
 * r < world, their collectives on each backend's stream (comm_nccl.cu). Returns 0, or -1 with a
 * message (ranks sharing a GPU, NCCL missing at build time, NCCL's own errors). */
struct lj_comm;
int ljc_comm_nccl_group(int world, lj_backend *const *bes, struct lj_comm **ranks, char *err, size_t errlen);

/* Milliseconds of GPU time between two points of the backend's stream: ljc_timer_mark records an
 * event; ljc_timer_elapsed waits for the later one. Events are owned by the caller's handle. */
typedef struct ljc_timer { void *start, *stop; } ljc_timer;
int ljc_timer_start(lj_backend *b, ljc_timer *t);
int ljc_timer_stop(lj_backend *b, ljc_timer *t, double *ms);

#ifdef __cplusplus
}
#endif

#endif
