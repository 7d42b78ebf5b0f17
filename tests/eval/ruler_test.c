/* RULER generator properties with the tiny-chat tokenizer: every task's prompt + output budget is
 * within 1% below the requested token count; every reference value is in the prompt; needles land
 * at the requested depths (token position inside the haystack, within 2 points: sentence
 * granularity); the same seed gives the same sample and another seed a different one. */
#include "eval/ruler.h"
#include "tests/test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

static size_t ntok(const lj_tokenizer *t, const char *s, size_t len) {
    int32_t *ids = NULL;
    size_t n = 0;
    char err[256];
    if (tok_encode(t, s, len, 0, &ids, &n, err, sizeof err)) n = 0;
    free(ids);
    return n;
}

int main(int argc, char **argv) {
    const char *hay_path = argc > 1 ? argv[1] : "samples/haystack/licenses.txt";
    char err[LJ_ERRLEN];
    lj_tokenizer *tok;
    if (tok_load(test_fixture("models/tiny-chat/tokenizer.json"), &tok, err, sizeof err)) {
        fprintf(stderr, "skip: %s\n", err);
        return TEST_SKIP;
    }
    size_t hl;
    char *hay = lj_read_file(hay_path, &hl, err, sizeof err);
    CHECKF(hay != NULL, "%s", err);
    if (!hay) return test_finish("eval_ruler");
    ruler_ctx c;
    CHECK(ruler_ctx_init(&c, tok, hay, hl, 7, err, sizeof err) == 0);
    const size_t lengths[] = {4096, 16384};
    for (size_t li = 0; li < 2; li++) {
        for (size_t ti = 0; ti < ruler_n_tasks; ti++) {
            const ruler_task *t = &ruler_tasks[ti];
            if (li == 1 && strcmp(t->name, "niah_single_2") && strcmp(t->name, "niah_multikey_2") && strcmp(t->name, "cwe") &&
                strcmp(t->name, "vt") && strcmp(t->name, "fwe")) continue;
            size_t L = lengths[li];
            double t0 = lj_now();
            ruler_sample s;
            int rc = ruler_sample_make(&c, t, L, 0, &s, err, sizeof err);
            CHECKF(rc == 0, "%s@%zu: %s", t->name, L, err);
            if (rc) continue;
            size_t real = ntok(tok, s.prompt, strlen(s.prompt));
            CHECKF(real == s.prompt_tokens, "%s: recorded %zu tokens, prompt has %zu", t->name, s.prompt_tokens, real);
            CHECKF(s.length <= L && s.length >= L - L / 100, "%s@%zu: length %zu not within 1%% below", t->name, L, s.length);
            CHECKF(s.n_outputs > 0, "%s: no outputs", t->name);
            for (size_t i = 0; i < s.n_outputs; i++)
                CHECKF(strstr(s.input, s.outputs[i]) != NULL, "%s: answer '%s' not in the input", t->name, s.outputs[i]);
            printf("%-16s %6zu: %6zu tokens (%zu units), %zu answers, %.2f s\n", t->name, L, s.length,
                   s.haystack_units, s.n_outputs, lj_now() - t0);
            ruler_sample_free(&s);
        }
    }
    /* depths: forced needle depths, measured in tokens inside the haystack */
    const char *depth_tasks[] = {"niah_single_2", "niah_single_1", "niah_multikey_1"};
    const double want[][4] = {{0, 0, 0, 0}, {10, 10, 10, 10}, {50, 50, 50, 50}, {90, 90, 90, 90}, {100, 100, 100, 100},
                              {5, 35, 65, 95}, {25, 50, 75, 99}};
    for (size_t k = 0; k < 3; k++) {
        const ruler_task *t = ruler_task_find(depth_tasks[k]);
        for (size_t d = 0; d < sizeof want / sizeof want[0]; d++) {
            c.depths = want[d];
            c.n_depths = 4;
            ruler_sample s;
            if (ruler_sample_make(&c, t, 4096, d, &s, err, sizeof err)) { CHECKF(0, "%s", err); continue; }
            const char *open = strstr(s.input, "afterwards.\n"), *close = strstr(s.input, "\nWhat ");
            CHECK(open && close);
            if (!open || !close) { ruler_sample_free(&s); continue; }
            open += strlen("afterwards.\n");
            size_t total = ntok(tok, open, (size_t)(close - open));
            for (size_t i = 0; i < s.n_needles; i++) {
                const char *at = strstr(open, s.needles[i]);
                CHECKF(at && at < close, "%s: needle %zu missing", t->name, i);
                if (!at) continue;
                /* the first needle at a depth; later ones at the same depth follow it */
                int first = 1;
                for (size_t j = 0; j < s.n_needles; j++)
                    if (j != i && fabs(s.depths[j] - s.depths[i]) < 1e-12 && strstr(open, s.needles[j]) < at) first = 0;
                if (!first) continue;
                /* haystack tokens only: other needles' tokens are taken out of both counts */
                double before = (double)ntok(tok, open, (size_t)(at - open)), all = (double)total;
                for (size_t j = 0; j < s.n_needles; j++) {
                    double nt = (double)ntok(tok, s.needles[j], strlen(s.needles[j])) + 1;
                    const char *aj = strstr(open, s.needles[j]);
                    all -= nt;
                    if (aj && aj < at) before -= nt;
                }
                double got = 100.0 * before / all;
                double asked = -1e9;
                for (size_t j = 0; j < 4; j++)
                    if (fabs(want[d][j] - 100.0 * s.depths[i]) < fabs(asked - 100.0 * s.depths[i])) asked = want[d][j];
                CHECKF(fabs(100.0 * s.depths[i] - asked) <= 2.0, "%s: recorded depth %.2f%%, asked %.0f%%", t->name, 100.0 * s.depths[i], asked);
                CHECKF(fabs(got - asked) <= 2.0, "%s: needle at %.2f%% of the haystack (tokens), asked %.0f%%", t->name, got, asked);
            }
            ruler_sample_free(&s);
        }
    }
    c.depths = NULL;
    c.n_depths = 0;
    /* determinism */
    ruler_sample a, b, d;
    const ruler_task *t = ruler_task_find("niah_multivalue");
    CHECK(ruler_sample_make(&c, t, 4096, 3, &a, err, sizeof err) == 0);
    CHECK(ruler_sample_make(&c, t, 4096, 3, &b, err, sizeof err) == 0);
    CHECK(a.prompt && b.prompt && !strcmp(a.prompt, b.prompt));
    ruler_ctx c2;
    CHECK(ruler_ctx_init(&c2, tok, hay, hl, 8, err, sizeof err) == 0);
    CHECK(ruler_sample_make(&c2, t, 4096, 3, &d, err, sizeof err) == 0);
    CHECK(a.prompt && d.prompt && strcmp(a.prompt, d.prompt));
    ruler_sample_free(&a); ruler_sample_free(&b); ruler_sample_free(&d);
    ruler_ctx_free(&c2);
    ruler_ctx_free(&c);
    free(hay);
    tok_free(tok);
    return test_finish("eval_ruler");
}
