/* The CUDA MoE op with int8 experts (W8A16 grouped GEMMs, kernels/cuda/moe_w8a16.cu) against the
 * CPU backend's MoE op on the same int8 weights (the reference: fp32 math on the dequantised
 * rows). Every kernel — mma.sync, the sm_90a wgmma kernel, the column kernel (LJC_W8A16=mma|
 * wgmma|col) — and the auto choice, for decode-sized (1, 3, 20 tokens) and prefill-sized (100, 700,
 * 1100 tokens) steps; and the fp32
 * precision mode (LONGJAM_CUDA_PRECISION=fp32). Tolerance: 2e-2 x max|reference| for bf16
 * activations (bf16 rounding of x, the gate|up output and the SiLU product, as the fixtures'
 * bf16 bound), 1e-4 in the fp32 mode. Skips (77) without a GPU.
 * usage: int8_cuda */
#include "engine/quant.h"
#include "kernels/backend.h"
#include "test_util.h"

#include "common/error.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LONGJAM_HAVE_CUDA
int main(void) {
    fprintf(stderr, "SKIP: built without the CUDA backend\n");
    return TEST_SKIP;
}
#else
#define E 8
#define H 256
#define I 512
#define TOPK 2

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}
static float bfr(float v) { return lj_bf16_to_f32(lj_f32_to_bf16(v)); }   /* bf16-representable */

typedef struct host_moe {
    float router[E * H];
    int8_t gu[E][2 * I * H], dn[E][H * I];
    float gus[E][2 * I], dns[E][H];
} host_moe;

typedef struct dev_moe { void *router, *gu[E], *gus[E], *dn[E], *dns[E]; lj_tensor r, g[E], u[E], d[E]; } dev_moe;

static int dev_make(lj_backend *b, const host_moe *h, dev_moe *d) {
    lj_dtype wd = b->weight_dtype;
    if (b->alloc(b, E * H * lj_dtype_size(wd), &d->router) || b->upload(b, d->router, wd, h->router, LJ_F32, E * H)) return -1;
    d->r = (lj_tensor){.data = d->router, .dtype = wd, .rows = E, .cols = H};
    for (int e = 0; e < E; e++) {
        if (b->alloc(b, 2 * I * H, &d->gu[e]) || b->upload(b, d->gu[e], LJ_I8, h->gu[e], LJ_I8, 2 * I * H) ||
            b->alloc(b, 2 * I * 4, &d->gus[e]) || b->upload(b, d->gus[e], LJ_F32, h->gus[e], LJ_F32, 2 * I) ||
            b->alloc(b, H * I, &d->dn[e]) || b->upload(b, d->dn[e], LJ_I8, h->dn[e], LJ_I8, H * I) ||
            b->alloc(b, H * 4, &d->dns[e]) || b->upload(b, d->dns[e], LJ_F32, h->dns[e], LJ_F32, H))
            return -1;
        d->g[e] = (lj_tensor){.data = d->gu[e], .dtype = LJ_I8, .rows = I, .cols = H, .scale = d->gus[e]};
        d->u[e] = (lj_tensor){.data = (int8_t *)d->gu[e] + I * H, .dtype = LJ_I8, .rows = I, .cols = H,
                              .scale = (float *)d->gus[e] + I};
        d->d[e] = (lj_tensor){.data = d->dn[e], .dtype = LJ_I8, .rows = H, .cols = I, .scale = d->dns[e]};
    }
    return 0;
}

static void dev_free(lj_backend *b, dev_moe *d) {
    b->free(b, d->router);
    for (int e = 0; e < E; e++) { b->free(b, d->gu[e]); b->free(b, d->gus[e]); b->free(b, d->dn[e]); b->free(b, d->dns[e]); }
}

/* out [T, H] fp32 of the backend's moe op on x [T, H] */
static int run(lj_backend *b, const dev_moe *d, const float *x, size_t T, float *out) {
    size_t as = lj_dtype_size(b->act_dtype);
    void *dx, *dout;
    if (b->alloc(b, T * H * as, &dx) || b->alloc(b, T * H * as, &dout)) return -1;
    int rc = b->upload(b, dx, b->act_dtype, x, LJ_F32, T * H);
    lj_moe_params p = {.x = dx, .ldx = H, .router = d->r, .gate = d->g, .up = d->u, .down = d->d, .out = dout, .ldo = H,
                       .n_tokens = T, .n_experts = E, .top_k = TOPK, .hidden = H, .inter = I};
    if (!rc) rc = b->moe(b, &p);
    if (!rc) rc = b->download(b, out, LJ_F32, dout, b->act_dtype, T * H);
    if (!rc) rc = b->sync(b);
    b->free(b, dx);
    b->free(b, dout);
    return rc;
}

int main(void) {
    char err[LJ_ERRLEN];
    lj_backend *probe;
    if (lj_backend_cuda_new(0, &probe, err, sizeof err)) { fprintf(stderr, "SKIP: %s\n", err); return TEST_SKIP; }
    probe->destroy(probe);
    static host_moe h;
    for (int i = 0; i < E * H; i++) h.router[i] = bfr(frand() * 0.5f);
    float *w = malloc(2 * I * H * sizeof *w);
    size_t bad;
    for (int e = 0; e < E; e++) {
        for (int i = 0; i < 2 * I * H; i++) w[i] = frand() * 0.1f;
        CHECK(quant_rows_i8(w, LJ_F32, 2 * I, H, h.gu[e], h.gus[e], &bad) == 0);
        for (int i = 0; i < H * I; i++) w[i] = frand() * 0.1f;
        CHECK(quant_rows_i8(w, LJ_F32, H, I, h.dn[e], h.dns[e], &bad) == 0);
    }
    free(w);
    lj_backend *cpu;
    if (lj_backend_cpu_new(2, &cpu, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    dev_moe dc;
    CHECKF(dev_make(cpu, &h, &dc) == 0, "cpu: %s", cpu->err);
    struct { const char *kernel, *precision; double tol; } modes[] = {
        {"", "bf16", 2e-2}, {"mma", "bf16", 2e-2}, {"wgmma", "bf16", 2e-2}, {"col", "bf16", 2e-2}, {"", "fp32", 1e-4}};
    /* 1, 3 and 20 tokens: the decode GEMV at 1, 4 and 8 rows per pass; 700 and 1100 tokens: several
     * full row tiles per expert (the sm_90a kernel takes 128 rows per tile below 256 rows per expert
     * on average, 256 above) */
    size_t Ts[] = {1, 3, 20, 100, 700, 1100};
    for (size_t mi = 0; mi < sizeof modes / sizeof modes[0]; mi++) {
        setenv("LJC_W8A16", modes[mi].kernel, 1);
        setenv("LONGJAM_CUDA_PRECISION", modes[mi].precision, 1);
        lj_backend *g;
        if (lj_backend_cuda_new(0, &g, err, sizeof err)) { CHECKF(0, "%s", err); continue; }
        dev_moe dg;
        CHECKF(dev_make(g, &h, &dg) == 0, "cuda: %s", g->err);
        for (size_t ti = 0; ti < sizeof Ts / sizeof Ts[0]; ti++) {
            size_t T = Ts[ti];
            float *x = malloc(T * H * sizeof *x), *ref = malloc(T * H * sizeof *ref), *got = malloc(T * H * sizeof *got);
            for (size_t i = 0; i < T * H; i++) x[i] = bfr(frand());
            CHECKF(run(cpu, &dc, x, T, ref) == 0, "cpu moe: %s", cpu->err);
            CHECKF(run(g, &dg, x, T, got) == 0, "cuda moe: %s", g->err);
            double mx = 0, d = 0;
            for (size_t i = 0; i < T * H; i++) { mx = fmax(mx, fabs(ref[i])); d = fmax(d, fabs((double)got[i] - ref[i])); }
            printf("int8 moe cuda (kernel %s, %s) vs cpu, %zu tokens: rel err %.3g (max|ref| %.3g)\n",
                   *modes[mi].kernel ? modes[mi].kernel : "auto", modes[mi].precision, T, d / mx, mx);
            CHECKF(mx > 0 && d / mx <= modes[mi].tol, "kernel %s %s T=%zu: rel err %.3g > %g", modes[mi].kernel,
                   modes[mi].precision, T, d / mx, modes[mi].tol);
            free(x); free(ref); free(got);
        }
        dev_free(g, &dg);
        g->destroy(g);
    }
    dev_free(cpu, &dc);
    cpu->destroy(cpu);
    return test_finish("int8_cuda");
}
#endif
