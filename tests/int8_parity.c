/* ExpertsInt8 on the CPU path, against two references:
 *   1. tests/fixtures/int8/FIXTURE.safetensors (tools/make_int8_reference.py): transformers in
 *      float64 on the same checkpoint with every expert weight replaced by its int8 quantisation
 *      (dequantised). The engine must match it as the float engine matches the float reference:
 *      logits within 1e-4 × max|reference| and greedy ids identical. This proves the int8 path
 *      (quantiser, scales, kernels, gate|up layout) is exact, independent of how much the
 *      quantisation moves the model.
 *   2. the fixture's float reference: the effect of int8 on accuracy, bounded by TOL_FLOAT.
 *      Measured (engine and transformers agree to 1e-6): tiny-fp32 0.0405, tiny-bf16 0.0954,
 *      tiny-chat 0.0568 of max|logits|. These random fixtures are built so that every term
 *      matters and their rows have 64 (gate/up) or 128 (down) inputs, so the per-channel rounding
 *      (at most scale/2 = max|row|/254 per weight) moves their logits far more than it moves a
 *      trained 4096-wide model; TOL_FLOAT = 0.15 is the worst measured with a 1.5x margin and
 *      still fails on a wrong scale, a transposed scale vector or a dropped expert (errors of
 *      order 1). Greedy ids vs the float reference are printed, not asserted: on tiny-bf16 the
 *      float model's top-1 margin at the first new token is below the int8 error, and
 *      transformers' int8 model picks the same different token as we do (checked by 1.).
 * Also: chunked prefill (chunk 7) equals one pass within 1e-5; the float model (experts "bf16",
 * fp32 on the CPU) stays within 1e-4 of its reference; the memory plan's weight bytes equal what
 * the loader allocated for both formats.
 * usage: int8_parity FIXTURE_DIR INT8_REFERENCE.safetensors */
#include "engine/model.h"
#include "engine/plan.h"
#include "engine/safetensors.h"
#include "engine_ref.h"
#include "engine/sampler.h"
#include "test_util.h"

#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL_FLOAT 0.15
#define TOL_INT8_REF 1e-4

static int run(lj_model *m, const engine_ref *r, size_t chunk, float *logits, char *err) {
    lj_state *s;
    if (lj_state_new(m, r->T, &s, err, LJ_ERRLEN)) return -1;
    int rc = lj_prefill(m, s, r->input_ids, r->T, chunk, 1, logits, err, LJ_ERRLEN);
    lj_state_free(s);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: int8_parity FIXTURE_DIR INT8_REFERENCE.safetensors\n"); return 2; }
    const char *dir = argv[1];
    char err[LJ_ERRLEN];
    engine_ref r;
    if (engine_ref_load(dir, &r, err, sizeof err)) { fprintf(stderr, "SKIP: %s\n", err); return TEST_SKIP; }
    const size_t T = r.T, V = r.V;
    st_file *qf;
    if (st_open(argv[2], &qf, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    const st_tensor *ql = st_find(qf, "logits"), *qg = st_find(qf, "greedy_ids");
    if (!ql || ql->dtype != ST_F32 || ql->numel != T * V || !qg || qg->dtype != ST_I64 || qg->numel != r.N) {
        fprintf(stderr, "%s: needs logits F32 [%zu, %zu] and greedy_ids I64 [%zu]\n", argv[2], T, V, r.N);
        return 1;
    }
    float *qref = malloc(T * V * sizeof *qref);
    int32_t *qgreedy = malloc((r.N ? r.N : 1) * sizeof *qgreedy);
    memcpy(qref, ql->data, T * V * sizeof *qref);
    for (size_t i = 0; i < r.N; i++) { int64_t v; memcpy(&v, (const char *)qg->data + 8 * i, 8); qgreedy[i] = (int32_t)v; }
    st_close(qf);
    lj_model *mf = NULL, *mq = NULL;
    lj_load_opts of = {.threads = 2, .experts = "bf16"}, oq = {.threads = 2, .experts = "int8"};
    if (lj_model_load(dir, &of, &mf, err, sizeof err) || lj_model_load(dir, &oq, &mq, err, sizeof err)) {
        fprintf(stderr, "load: %s\n", err);
        return 1;
    }
    lj_model_sizes sf, sq;
    lj_model_sizes_of(mf, &sf);
    lj_model_sizes_of(mq, &sq);
    const lj_plan *pf = lj_model_plan(mf), *pq = lj_model_plan(mq);
    CHECKF(!pf->experts_int8 && pq->experts_int8, "plans: float %d, int8 %d", pf->experts_int8, pq->experts_int8);
    CHECKF(sf.weight_bytes == pf->weights, "float: loaded %zu weight bytes, plan %zu", sf.weight_bytes, pf->weights);
    CHECKF(sq.weight_bytes == pq->weights, "int8: loaded %zu weight bytes, plan %zu", sq.weight_bytes, pq->weights);
    printf("%s: weights %zu bytes float, %zu bytes with int8 experts\n", dir, sf.weight_bytes, sq.weight_bytes);

    float *lf = malloc(T * V * sizeof *lf), *lq = malloc(T * V * sizeof *lq), *lc = malloc(T * V * sizeof *lc);
    CHECKF(run(mf, &r, 0, lf, err) == 0, "%s", err);
    CHECKF(run(mq, &r, 0, lq, err) == 0, "%s", err);
    CHECKF(run(mq, &r, 7, lc, err) == 0, "%s", err);
    double ef = rel_err(lf, r.logits, T * V), eq = rel_err(lq, r.logits, T * V), ec = rel_err(lc, lq, T * V);
    double eqr = rel_err(lq, qref, T * V);
    size_t top1 = 0;   /* top-1 agreement with the float reference over the prompt (informative) */
    for (size_t t = 0; t < T; t++) top1 += lj_argmax(lq + t * V, V) == lj_argmax(r.logits + t * V, V);
    printf("%s: int8 experts: logits rel err %.3g vs the int8 reference (transformers), %.3g vs the float reference "
           "(float engine: %.3g); chunk 7 vs one pass %.3g; top-1 agreement with float %zu/%zu\n", dir, eqr, eq, ef, ec,
           top1, T);
    CHECKF(ef <= 1e-4, "float logits rel err %.3g > 1e-4", ef);
    CHECKF(eqr <= TOL_INT8_REF, "int8 logits vs the int8 reference: rel err %.3g > %g", eqr, TOL_INT8_REF);
    CHECKF(eq <= TOL_FLOAT, "int8 logits vs the float reference: rel err %.3g > %g", eq, TOL_FLOAT);
    CHECKF(eq > 1e-4, "int8 logits are as close as float ones to the float reference: quantisation did not run");
    CHECKF(ec <= 1e-5, "int8 chunked vs one pass %.3g > 1e-5", ec);

    if (r.greedy) {
        int32_t *ids = malloc(r.N * sizeof *ids);
        long same = engine_ref_greedy(mq, r.input_ids, T, 7, qgreedy, r.N, ids, NULL, err, sizeof err);
        CHECKF(same >= 0, "%s", err);
        size_t produced = same < 0 ? 0 : (size_t)same < r.N ? (size_t)same + 1 : r.N, same_float = 0;
        for (size_t i = 0; i < produced; i++) same_float += ids[i] == r.greedy[i];
        printf("%s: int8 greedy ids: %ld of %zu identical to the int8 reference, %zu to the float reference\n", dir,
               same, r.N, same_float);
        CHECKF(same == (long)r.N, "int8 greedy: %ld of %zu ids match the int8 reference", same, r.N);
        free(ids);
    }
    free(lf); free(lq); free(lc); free(qref); free(qgreedy);
    lj_model_free(mf);
    lj_model_free(mq);
    engine_ref_free(&r);
    return test_finish("int8_parity");
}
