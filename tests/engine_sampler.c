/* Sampler: greedy = argmax; top-k 1 = argmax at any temperature; frequencies of 200000 draws
 * within 0.01 of the softmax probabilities; top-p never leaves the nucleus; same seed, same ids. */
#include "engine/sampler.h"
#include "test_util.h"

#include "common/error.h"

#include <math.h>
#include <stdio.h>

int main(void) {
    char err[LJ_ERRLEN];
    const float logits[5] = {0.0f, (float)log(2.0), (float)log(3.0), (float)log(4.0), -100.0f};   /* p ∝ 1,2,3,4,0 */
    lj_sampler *s;
    lj_sampler_params p = {.temperature = 0, .top_p = 1};
    CHECK(lj_sampler_new(&p, 5, &s, err, sizeof err) == 0);
    CHECK(lj_sampler_sample(s, logits) == 3);
    lj_sampler_free(s);

    p = (lj_sampler_params){.temperature = 2.5, .top_p = 1, .top_k = 1, .seed = 3};
    CHECK(lj_sampler_new(&p, 5, &s, err, sizeof err) == 0);
    int all3 = 1;
    for (int i = 0; i < 1000; i++) all3 &= lj_sampler_sample(s, logits) == 3;
    CHECK(all3);
    lj_sampler_free(s);

    p = (lj_sampler_params){.temperature = 1, .top_p = 1, .seed = 7};
    CHECK(lj_sampler_new(&p, 5, &s, err, sizeof err) == 0);
    int count[5] = {0};
    const int n = 200000;
    for (int i = 0; i < n; i++) count[lj_sampler_sample(s, logits)]++;
    for (int i = 0; i < 4; i++) CHECKF(fabs(count[i] / (double)n - (i + 1) / 10.0) < 0.01, "id %d: %d", i, count[i]);
    CHECK(count[4] == 0);
    lj_sampler_free(s);

    /* top_p 0.5: nucleus = {3 (0.4), 2 (0.3)}; renormalised 4/7 and 3/7 */
    p = (lj_sampler_params){.temperature = 1, .top_p = 0.5, .seed = 9};
    CHECK(lj_sampler_new(&p, 5, &s, err, sizeof err) == 0);
    int c2 = 0, c3 = 0, other = 0;
    for (int i = 0; i < n; i++) {
        int id = lj_sampler_sample(s, logits);
        c2 += id == 2; c3 += id == 3; other += id != 2 && id != 3;
    }
    CHECK(other == 0);
    CHECKF(fabs(c3 / (double)n - 4.0 / 7) < 0.01, "%d", c3);
    lj_sampler_free(s);

    /* determinism */
    lj_sampler *a, *b;
    p = (lj_sampler_params){.temperature = 0.8, .top_p = 0.9, .top_k = 4, .seed = 42};
    CHECK(lj_sampler_new(&p, 5, &a, err, sizeof err) == 0 && lj_sampler_new(&p, 5, &b, err, sizeof err) == 0);
    int same = 1;
    for (int i = 0; i < 100; i++) same &= lj_sampler_sample(a, logits) == lj_sampler_sample(b, logits);
    CHECK(same);
    lj_sampler_free(a);
    lj_sampler_free(b);

    p = (lj_sampler_params){.temperature = 1, .top_p = 1.5};
    CHECK(lj_sampler_new(&p, 5, &s, err, sizeof err) == -1 && test_contains(err, "top_p"));
    lj_generation_config g = {.do_sample = 1, .has_temperature = 1, .temperature = 0.7};
    lj_sampler_defaults(&g, &p);
    CHECK(p.temperature == 0.7 && p.top_p == 1 && p.top_k == 50);
    g.do_sample = 0;
    lj_sampler_defaults(&g, &p);
    CHECK(p.temperature == 0);
    return test_finish("engine_sampler");
}
