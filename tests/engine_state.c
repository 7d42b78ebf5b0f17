/* Sequence state: fork and continuous batching, against independent runs (fp32: 1e-5 relative),
 * plus the forward's refusals (capacity, shared state, bad token id).
 * usage: engine_state FIXTURE_DIR */
#include "engine/model.h"
#include "engine_ref.h"
#include "test_util.h"

#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Logits of every token of `tokens` after a fresh one-pass prefill. */
static float *independent(lj_model *m, const int32_t *tokens, size_t n, size_t V) {
    char err[LJ_ERRLEN];
    lj_state *s;
    float *lg = malloc(n * V * sizeof *lg);
    if (lj_state_new(m, n, &s, err, sizeof err) || lj_prefill(m, s, tokens, n, 0, 1, lg, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        free(lg);
        return NULL;
    }
    lj_state_free(s);
    return lg;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    char err[LJ_ERRLEN];
    engine_ref r;
    if (engine_ref_load(argv[1], &r, err, sizeof err)) { fprintf(stderr, "SKIP: %s\n", err); return TEST_SKIP; }
    lj_model *m;
    lj_load_opts o = {.threads = 2};
    if (lj_model_load(argv[1], &o, &m, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    const size_t V = lj_model_config(m)->vocab_size;
    const size_t T = r.T < 40 ? r.T : 40, P = T / 2, A = T - P;
    const int32_t *ids = r.input_ids;

    /* ---- fork: prefill P tokens, fork, continue each with different tokens ---- */
    int32_t *seq_a = malloc(T * sizeof *seq_a), *seq_b = malloc(T * sizeof *seq_b);
    memcpy(seq_a, ids, T * sizeof *seq_a);
    memcpy(seq_b, ids, P * sizeof *seq_b);
    for (size_t i = 0; i < A; i++) seq_b[P + i] = ids[T - 1 - i];   /* the tail reversed */
    float *ref_a = independent(m, seq_a, T, V), *ref_b = independent(m, seq_b, T, V);
    CHECK(ref_a && ref_b);
    lj_state *s, *f;
    CHECK(lj_state_new(m, T, &s, err, sizeof err) == 0);
    CHECKF(lj_prefill(m, s, ids, P, 5, 0, NULL, err, sizeof err) == 0, "%s", err);
    CHECKF(lj_state_fork(s, &f, err, sizeof err) == 0, "%s", err);
    CHECK(lj_state_length(f) == P && lj_state_capacity(f) == T);
    float *la = malloc(A * V * sizeof *la), *lb = malloc(A * V * sizeof *lb);
    /* continue the fork first, so a shallow copy would corrupt the original */
    CHECKF(lj_prefill(m, f, seq_b + P, A, 3, 1, lb, err, sizeof err) == 0, "%s", err);
    CHECKF(lj_prefill(m, s, seq_a + P, A, 4, 1, la, err, sizeof err) == 0, "%s", err);
    double ea = rel_err(la, ref_a + P * V, A * V), eb = rel_err(lb, ref_b + P * V, A * V);
    printf("fork: original %.3g, fork %.3g relative to independent runs\n", ea, eb);
    CHECKF(ea <= 1e-5, "forked original differs: %.3g", ea);
    CHECKF(eb <= 1e-5, "fork differs: %.3g", eb);
    lj_state_free(s);
    lj_state_free(f);

    /* ---- batching: a prefill chunk of one sequence beside decode tokens of others ---- */
    lj_state *x, *y, *z;
    CHECK(lj_state_new(m, T, &x, err, sizeof err) == 0 && lj_state_new(m, T, &y, err, sizeof err) == 0 &&
          lj_state_new(m, T, &z, err, sizeof err) == 0);
    /* x has seq_a[0..P) already; z has seq_b[0..P); y is new */
    CHECK(lj_prefill(m, x, seq_a, P, 0, 0, NULL, err, sizeof err) == 0);
    CHECK(lj_prefill(m, z, seq_b, P, 0, 0, NULL, err, sizeof err) == 0);
    size_t yi = 0, xi = P, zi = P;
    float *out = malloc((T + 2) * V * sizeof *out);
    double worst = 0;
    int steps = 0;
    while (xi < T || yi < T || zi < T) {
        lj_seq_step st[3];
        size_t n = 0, ychunk = T - yi < 6 ? T - yi : 6;
        if (xi < T) st[n++] = (lj_seq_step){.state = x, .tokens = seq_a + xi, .n_tokens = 1};
        if (yi < T) st[n++] = (lj_seq_step){.state = y, .tokens = seq_a + yi, .n_tokens = ychunk, .want_all_logits = 1};
        if (zi < T) st[n++] = (lj_seq_step){.state = z, .tokens = seq_b + zi, .n_tokens = 1};
        if (lj_forward(m, st, n, out, NULL, err, sizeof err)) { CHECKF(0, "%s", err); break; }
        size_t row = 0;
        for (size_t k = 0; k < n; k++) {
            if (st[k].state == x) { double e = rel_err(out + row * V, ref_a + xi * V, V); worst = e > worst ? e : worst; xi++; row++; }
            else if (st[k].state == y) {
                double e = rel_err(out + row * V, ref_a + yi * V, ychunk * V);
                worst = e > worst ? e : worst;
                yi += ychunk;
                row += ychunk;
            } else { double e = rel_err(out + row * V, ref_b + zi * V, V); worst = e > worst ? e : worst; zi++; row++; }
        }
        steps++;
    }
    printf("batching: %d steps, worst difference to separate runs %.3g\n", steps, worst);
    CHECKF(worst <= 1e-5, "batched logits differ from separate runs by %.3g", worst);

    /* ---- refusals ---- */
    int32_t one = ids[0], bad = (int32_t)V;
    lj_seq_step full = {.state = x, .tokens = &one, .n_tokens = 1};
    CHECK(lj_forward(m, &full, 1, out, NULL, err, sizeof err) == -1 && test_contains(err, "capacity"));
    lj_state *w;
    CHECK(lj_state_new(m, 4, &w, err, sizeof err) == 0);
    lj_seq_step two[2] = {{.state = w, .tokens = &one, .n_tokens = 1}, {.state = w, .tokens = &one, .n_tokens = 1}};
    CHECK(lj_forward(m, two, 2, out, NULL, err, sizeof err) == -1 && test_contains(err, "share a state"));
    lj_seq_step oob = {.state = w, .tokens = &bad, .n_tokens = 1};
    CHECK(lj_forward(m, &oob, 1, out, NULL, err, sizeof err) == -1 && test_contains(err, "outside the vocabulary"));
    CHECK(lj_state_length(w) == 0);   /* refused steps leave the state untouched */
    lj_state_free(w);

    lj_state_free(x); lj_state_free(y); lj_state_free(z);
    free(out); free(la); free(lb); free(ref_a); free(ref_b); free(seq_a); free(seq_b);
    lj_model_free(m);
    engine_ref_free(&r);
    return test_finish("engine_state");
}
