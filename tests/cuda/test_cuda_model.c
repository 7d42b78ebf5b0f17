/* Model parity on the CUDA backend through the engine's load path with device "cuda" — the path
 * of `longjam logits --device cuda`. Two precisions (LONGJAM_CUDA_PRECISION):
 *   fp32: one pass and chunked prefill (chunk 1, 7, 64, T) logits within 2e-2 × max|reference|
 *         (the fixtures' GPU bound) and within 2e-2 of each other; greedy ids identical.
 *   bf16: the same runs within 0.2 × max|reference|. Why not 2e-2: rounding activations to bf16 is
 *         itself that far from the float64 reference on these fixtures — transformers' own
 *         JambaForCausalLM with every Linear output rounded to bf16 lands at 0.147 (tiny-bf16)
 *         and 0.038 (tiny-fp32) (bench/bf16_floor.py); greedy ids are reported, not asserted,
 *         since the fixtures' top-1 margins are below that error.
 * usage: test_cuda_model FIXTURE_DIR [bf16|fp32]. Without a GPU: prints why and returns 77. */
#include "engine/model.h"
#include "kernels/cuda/cuda_backend.h"
#include "tests/engine_ref.h"
#include "tests/test_util.h"

#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run_chunked(lj_model *m, const engine_ref *r, size_t chunk, float *logits, char *err) {
    lj_state *s;
    if (lj_state_new(m, r->T + r->N + 1, &s, err, LJ_ERRLEN)) return -1;
    int rc = 0;
    for (size_t i = 0; i < r->T && !rc; i += chunk) {
        size_t n = r->T - i < chunk ? r->T - i : chunk;
        lj_seq_step st = {.state = s, .tokens = r->input_ids + i, .n_tokens = n, .want_all_logits = 1};
        rc = lj_forward(m, &st, 1, logits + i * r->V, NULL, err, LJ_ERRLEN);
    }
    lj_state_free(s);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: test_cuda_model FIXTURE_DIR\n"); return 2; }
    char why[256], err[LJ_ERRLEN];
    if (!ljc_device_available(why, sizeof why)) { printf("SKIP test_cuda_model: %s\n", why); return TEST_SKIP; }
    const char *dir = argv[1], *prec = argc > 2 ? argv[2] : "fp32";
    int f32 = !strcmp(prec, "fp32");
    setenv("LONGJAM_CUDA_PRECISION", prec, 1);
    engine_ref r;
    if (engine_ref_load(dir, &r, err, sizeof err)) { printf("SKIP test_cuda_model: %s\n", err); return TEST_SKIP; }
    lj_load_opts o = {.device = "cuda"};
    lj_model *m;
    if (lj_model_load(dir, &o, &m, err, sizeof err)) { fprintf(stderr, "load: %s\n", err); return 1; }
    CHECK(!strncmp(lj_model_backend_name(m), "cuda", 4));
    printf("%s: backend %s\n", dir, lj_model_backend_name(m));
    const size_t T = r.T, V = r.V;
    float *lg1 = malloc(T * V * sizeof *lg1), *lg = malloc(T * V * sizeof *lg);
    const double tol = f32 ? 2e-2 : 0.2;
    CHECKF(run_chunked(m, &r, T, lg1, err) == 0, "%s", err);
    double e = rel_err(lg1, r.logits, T * V);
    printf("%s: cuda one pass: logits rel err %.3g (tol %.0e)\n", dir, e, tol);
    CHECKF(e <= tol, "one-pass logits rel err %.3g > %.0e", e, tol);
    size_t chunks[] = {1, 7, 64, T};
    for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
        CHECKF(run_chunked(m, &r, chunks[k], lg, err) == 0, "%s", err);
        double er = rel_err(lg, r.logits, T * V), e1 = rel_err(lg, lg1, T * V);
        printf("%s: cuda chunk %zu: logits rel err %.3g vs reference, %.3g vs one pass\n", dir, chunks[k], er, e1);
        CHECKF(er <= tol, "chunk %zu: rel err %.3g > %.0e", chunks[k], er, tol);
        CHECKF(e1 <= tol, "chunk %zu: differs from one pass by %.3g", chunks[k], e1);
    }
    if (r.greedy) {
        int32_t *ids = malloc(r.N * sizeof *ids);
        long same = engine_ref_greedy(m, r.input_ids, T, 7, r.greedy, r.N, ids, NULL, err, sizeof err);
        CHECKF(same >= 0, "%s", err);
        printf("%s: cuda greedy: %ld of %zu ids match\n", dir, same, r.N);
        if (f32) CHECKF(same == (long)r.N, "greedy: %ld of %zu ids match", same, r.N);
        free(ids);
    }
    free(lg1); free(lg);
    lj_model_free(m);
    engine_ref_free(&r);
    return test_finish("test_cuda_model");
}
