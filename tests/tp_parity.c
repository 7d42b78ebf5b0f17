/* Tensor + expert parallel on the CPU (engine/tp.c over kernels/cpu/comm_cpu.c): a fixture split
 * over each world size given gives the single-rank engine's logits and the fixture's reference.
 *   - one pass, every token's logits: within 1e-5 × max|logit| of the single-rank engine (only the
 *     order of a few sums changes) and within the fixtures' fp32 bound 1e-4 of the reference;
 *   - chunked prefill (chunks 1, 7, T) within 1e-5 of the single-rank one pass;
 *   - greedy ids through the state identical to the fixture's greedy_ids;
 *   - a forked state continues like its source, and a step mixing one sequence's prefill chunk with
 *     another's decode token equals running them apart;
 *   - a world that does not divide the model (3 ranks) is refused with a message naming the
 *     dimension.
 * usage: tp_parity FIXTURE_DIR WORLD...
 * TP_PARITY_DEVICE=cuda runs both sides on the CUDA backend (with LONGJAM_CUDA_PRECISION=fp32 for
 * these bounds; ranks share GPUs through host copies, or use NCCL with LONGJAM_COMM=nccl, which
 * needs a GPU per rank): skipped without a GPU, or with fewer GPUs than ranks under NCCL. */
#include "engine/model.h"
#include "engine_ref.h"
#include "test_util.h"

#include "common/error.h"
#include "kernels/backend_open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL_RANKS 1e-5
#define TOL_REF 1e-4

/* Every token's logits [T, V] of a prefill in chunks of `chunk`. */
static int prefill_all(lj_model *m, const engine_ref *r, size_t chunk, float *logits, char *err) {
    lj_state *s;
    if (lj_state_new(m, r->T + 8, &s, err, LJ_ERRLEN)) return -1;
    int rc = lj_prefill(m, s, r->input_ids, r->T, chunk, 1, logits, err, LJ_ERRLEN);
    lj_state_free(s);
    return rc;
}

/* Fork after T-1 tokens; both copies take the last token: each gives the one-pass last row. A step
 * of two sequences (the second's first 5 prompt tokens beside the first copy's last token) gives
 * what the two give alone. */
static void check_fork_and_batch(lj_model *m, const engine_ref *r, const float *ref_last, const char *what) {
    char err[LJ_ERRLEN];
    const size_t T = r->T, V = r->V;
    lj_state *a, *b, *c;
    float *la = malloc(V * sizeof *la), *lb = malloc(V * sizeof *lb), *both = malloc(2 * V * sizeof *both);
    CHECKF(!lj_state_new(m, T + 8, &a, err, sizeof err) && !lj_prefill(m, a, r->input_ids, T - 1, 0, 0, NULL, err, sizeof err) &&
               !lj_state_fork(a, &b, err, sizeof err) && !lj_state_new(m, T + 8, &c, err, sizeof err),
           "%s: states: %s", what, err);
    lj_seq_step st = {.state = b, .tokens = r->input_ids + T - 1, .n_tokens = 1};
    CHECKF(!lj_forward(m, &st, 1, lb, NULL, err, sizeof err), "%s: fork step: %s", what, err);
    double e = rel_err(lb, ref_last, V);
    CHECKF(e <= TOL_RANKS, "%s: forked state's last logits differ by %.3g", what, e);
    lj_seq_step two[2] = {{.state = a, .tokens = r->input_ids + T - 1, .n_tokens = 1},
                          {.state = c, .tokens = r->input_ids, .n_tokens = 5}};
    CHECKF(!lj_forward(m, two, 2, both, NULL, err, sizeof err), "%s: mixed step: %s", what, err);
    e = rel_err(both, ref_last, V);
    CHECKF(e <= TOL_RANKS, "%s: mixed step, decode entry differs by %.3g", what, e);
    CHECKF(lj_state_length(a) == T && lj_state_length(c) == 5, "%s: lengths %zu, %zu", what, lj_state_length(a),
           lj_state_length(c));
    lj_state *d;
    CHECKF(!lj_state_new(m, T + 8, &d, err, sizeof err) && !lj_prefill(m, d, r->input_ids, 5, 0, 0, la, err, sizeof err),
           "%s: %s", what, err);
    e = rel_err(both + V, la, V);
    CHECKF(e <= TOL_RANKS, "%s: mixed step, prefill entry differs from alone by %.3g", what, e);
    lj_state_free(a); lj_state_free(b); lj_state_free(c); lj_state_free(d);
    free(la); free(lb); free(both);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: tp_parity FIXTURE_DIR WORLD...\n"); return 2; }
    const char *dir = argv[1];
    char err[LJ_ERRLEN];
    engine_ref r;
    if (engine_ref_load(dir, &r, err, sizeof err)) { fprintf(stderr, "SKIP: %s\n", err); return TEST_SKIP; }
    const size_t T = r.T, V = r.V;
    const char *device = getenv("TP_PARITY_DEVICE");
    if (device && strcmp(device, "cpu")) {
        const int n = lj_backend_device_count(device, err, sizeof err);
        const char *comm = getenv("LONGJAM_COMM");
        int need = 1;
        for (int i = 2; i < argc; i++)
            if (comm && !strcmp(comm, "nccl") && atoi(argv[i]) > need) need = atoi(argv[i]);
        if (n < need) {
            fprintf(stderr, "SKIP: %d %s device(s), %d needed%s%s\n", n < 0 ? 0 : n, device, need, n < 0 ? ": " : "",
                    n < 0 ? err : "");
            engine_ref_free(&r);
            return TEST_SKIP;
        }
    }
    lj_model *one;
    lj_load_opts o1 = {.threads = 1, .device = device};
    if (lj_model_load(dir, &o1, &one, err, sizeof err)) { fprintf(stderr, "load: %s\n", err); return 1; }
    float *l1 = malloc(T * V * sizeof *l1), *lw = malloc(T * V * sizeof *lw);
    CHECKF(!prefill_all(one, &r, 0, l1, err), "single rank: %s", err);
    printf("%s: single rank vs reference %.3g\n", dir, rel_err(l1, r.logits, T * V));

    for (int i = 2; i < argc; i++) {
        const int W = atoi(argv[i]);
        lj_model *m;
        lj_load_opts ow = {.threads = W, .tp = W, .device = device};
        if (lj_model_load(dir, &ow, &m, err, sizeof err)) {
            if (strstr(err, "built without NCCL") || strstr(err, "cannot load libnccl")) {   /* nothing to test */
                fprintf(stderr, "SKIP: %s\n", err);
                lj_model_free(one);
                free(l1); free(lw);
                engine_ref_free(&r);
                return TEST_SKIP;
            }
            CHECKF(0, "--tp %d: %s", W, err);
            continue;
        }
        char what[64];
        snprintf(what, sizeof what, "tp %d", W);
        CHECKF(strstr(lj_model_backend_name(m), "tensor parallel") != NULL, "%s: backend %s", what,
               lj_model_backend_name(m));
        CHECKF(!prefill_all(m, &r, 0, lw, err), "%s: %s", what, err);
        double e1 = rel_err(lw, l1, T * V), er = rel_err(lw, r.logits, T * V);
        printf("%s: one pass vs single rank %.3g, vs reference %.3g\n", what, e1, er);
        CHECKF(e1 <= TOL_RANKS, "%s: one pass differs from the single rank by %.3g", what, e1);
        CHECKF(er <= TOL_REF, "%s: one pass differs from the reference by %.3g", what, er);
        const size_t chunks[] = {1, 7, T};
        for (size_t k = 0; k < 3; k++) {
            CHECKF(!prefill_all(m, &r, chunks[k], lw, err), "%s chunk %zu: %s", what, chunks[k], err);
            double e = rel_err(lw, l1, T * V);
            printf("%s: chunk %zu vs single rank %.3g\n", what, chunks[k], e);
            CHECKF(e <= TOL_RANKS, "%s: chunk %zu differs by %.3g", what, chunks[k], e);
        }
        if (r.N) {
            int32_t *ids = malloc(r.N * sizeof *ids);
            long same = engine_ref_greedy(m, r.input_ids, T, 7, r.greedy, r.N, ids, NULL, err, sizeof err);
            CHECKF(same == (long)r.N, "%s: greedy ids: %ld of %zu match (%s)", what, same, r.N, same < 0 ? err : "");
            free(ids);
        }
        check_fork_and_batch(m, &r, l1 + (T - 1) * V, what);
        lj_model_free(m);
    }
    /* a world that does not divide: refused, naming the dimension */
    lj_model *bad = NULL;
    lj_load_opts o3 = {.threads = 1, .tp = 3, .device = device};
    int rc = lj_model_load(dir, &o3, &bad, err, sizeof err);
    CHECKF(rc != 0 && bad == NULL && strstr(err, "is not a multiple of 3"), "--tp 3: rc %d, message: %s", rc, rc ? err : "");
    if (rc) printf("--tp 3: %s\n", err);
    lj_model_free(bad);
    lj_model_free(one);
    free(l1); free(lw);
    engine_ref_free(&r);
    return test_finish("tp_parity");
}
