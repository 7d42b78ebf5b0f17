/* Model parity against a fixture's reference.safetensors (transformers, float64):
 *   - one pass: logits and every layer's hidden states within 1e-4 × max|reference|
 *   - chunked prefill (chunk 1, 7, 64, T): same bound against the reference, and within 1e-5
 *     relative of the one-pass result (fp32 reordering only)
 *   - greedy decoding with the state: ids identical to greedy_ids
 * usage: engine_parity FIXTURE_DIR [THREADS] */
#include "engine/model.h"
#include "engine_ref.h"
#include "test_util.h"

#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs the prompt in chunks with lj_forward, collecting all logits [T, V] and hidden [L+1, T, H]. */
static int run_chunked(lj_model *m, const engine_ref *r, size_t chunk, float *logits, float *hidden, char *err) {
    const lj_config *c = lj_model_config(m);
    size_t L1 = c->num_hidden_layers + 1, H = c->hidden_size, T = r->T;
    lj_state *s;
    if (lj_state_new(m, T + r->N + 1, &s, err, LJ_ERRLEN)) return -1;
    float *h = malloc(L1 * chunk * H * sizeof *h);
    int rc = 0;
    for (size_t i = 0; i < T && !rc; i += chunk) {
        size_t n = T - i < chunk ? T - i : chunk;
        lj_seq_step st = {.state = s, .tokens = r->input_ids + i, .n_tokens = n, .want_all_logits = 1};
        rc = lj_forward(m, &st, 1, logits + i * r->V, h, err, LJ_ERRLEN);
        for (size_t l = 0; l < L1 && !rc; l++) memcpy(hidden + (l * T + i) * H, h + l * n * H, n * H * sizeof *h);
    }
    free(h);
    lj_state_free(s);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: engine_parity FIXTURE_DIR [THREADS]\n"); return 2; }
    const char *dir = argv[1];
    char err[LJ_ERRLEN];
    engine_ref r;
    if (engine_ref_load(dir, &r, err, sizeof err)) { fprintf(stderr, "SKIP: %s\n", err); return TEST_SKIP; }
    lj_load_opts o = {.threads = argc > 2 ? atoi(argv[2]) : 2};
    lj_model *m;
    if (lj_model_load(dir, &o, &m, err, sizeof err)) {
        fprintf(stderr, "load: %s\n", err);
        return 1;
    }
    const lj_config *c = lj_model_config(m);
    const size_t T = r.T, V = r.V, H = c->hidden_size, L1 = c->num_hidden_layers + 1;
    CHECK(V == c->vocab_size);
    CHECK(!r.hidden || (r.L1 == L1 && r.H == H));
    float *lg1 = malloc(T * V * sizeof *lg1), *hs1 = malloc(L1 * T * H * sizeof *hs1);
    float *lg = malloc(T * V * sizeof *lg), *hs = malloc(L1 * T * H * sizeof *hs);

    /* one pass */
    CHECKF(run_chunked(m, &r, T, lg1, hs1, err) == 0, "%s", err);
    double e = rel_err(lg1, r.logits, T * V);
    printf("%s: one pass: logits rel err %.3g\n", dir, e);
    CHECKF(e <= 1e-4, "one-pass logits rel err %.3g > 1e-4", e);
    if (r.hidden) {
        double worst = 0;
        for (size_t l = 0; l < L1; l++) {   /* each layer relative to its own largest magnitude */
            double eh = rel_err(hs1 + l * T * H, r.hidden + l * T * H, T * H);
            CHECKF(eh <= 1e-4, "hidden_states[%zu] rel err %.3g > 1e-4", l, eh);
            worst = eh > worst ? eh : worst;
        }
        printf("%s: one pass: hidden_states worst layer rel err %.3g\n", dir, worst);
    }
    /* chunked */
    size_t chunks[] = {1, 7, 64, T};
    for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
        size_t ch = chunks[k];
        CHECKF(run_chunked(m, &r, ch, lg, hs, err) == 0, "%s", err);
        double er = rel_err(lg, r.logits, T * V), e1 = rel_err(lg, lg1, T * V);
        double eh = r.hidden ? rel_err(hs, r.hidden, L1 * T * H) : 0, eh1 = rel_err(hs, hs1, L1 * T * H);
        printf("%s: chunk %zu: logits rel err %.3g vs reference, %.3g vs one pass; hidden %.3g / %.3g\n", dir, ch, er,
               e1, eh, eh1);
        CHECKF(er <= 1e-4, "chunk %zu: logits rel err %.3g > 1e-4", ch, er);
        CHECKF(e1 <= 1e-5, "chunk %zu: logits differ from one pass by %.3g > 1e-5", ch, e1);
        CHECKF(eh <= 1e-4, "chunk %zu: hidden rel err %.3g > 1e-4", ch, eh);
        CHECKF(eh1 <= 1e-5, "chunk %zu: hidden differ from one pass by %.3g > 1e-5", ch, eh1);
    }
    /* greedy decode through the state (prefill in chunks of 7 to mix both paths) */
    if (r.greedy) {
        int32_t *ids = malloc(r.N * sizeof *ids);
        size_t len = 0;
        long same = engine_ref_greedy(m, r.input_ids, T, 7, r.greedy, r.N, ids, &len, err, sizeof err);
        CHECKF(same >= 0, "%s", err);
        CHECKF(same == (long)r.N, "greedy: %ld of %zu ids match", same, r.N);
        CHECK(len == T + r.N - 1);
        free(ids);
    }
    free(lg1); free(hs1); free(lg); free(hs);
    lj_model_free(m);
    engine_ref_free(&r);
    return test_finish("engine_parity");
}
