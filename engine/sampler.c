/* Sampling: probabilities = softmax(logits / T) in double; top-k and then top-p keep the most
 * probable tokens (ties by lower id); one uniform draw from a splitmix64 stream picks among them. */
#include "engine/sampler.h"

#include "common/error.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct lj_sampler {
    lj_sampler_params p;
    size_t vocab;
    uint64_t state;
    struct cand { double p; int32_t id; } *c;   /* [vocab] sorted by probability */
};

void lj_sampler_defaults(const lj_generation_config *g, lj_sampler_params *p) {
    *p = (lj_sampler_params){.temperature = 0, .top_p = 1, .top_k = 0, .seed = 0};
    if (!g || !g->do_sample) return;
    p->temperature = g->has_temperature ? g->temperature : 1.0;
    p->top_p = g->has_top_p ? g->top_p : 1.0;
    p->top_k = g->has_top_k ? g->top_k : 50;
}

int lj_sampler_new(const lj_sampler_params *p, size_t vocab, lj_sampler **out, char *err, size_t errlen) {
    *out = NULL;
    if (vocab == 0) return lj_errf(err, errlen, "sampler: vocabulary is empty");
    if (p->temperature > 0 && !(p->top_p > 0 && p->top_p <= 1))
        return lj_errf(err, errlen, "sampler: top_p %g must be in (0, 1]", p->top_p);
    lj_sampler *s = lj_calloc(1, sizeof *s);
    if (!s) return lj_errf(err, errlen, "sampler: out of memory");
    s->p = *p;
    s->vocab = vocab;
    s->state = p->seed;
    s->c = malloc(vocab * sizeof *s->c);
    if (!s->c) { lj_sampler_free(s); return lj_errf(err, errlen, "sampler: out of memory"); }
    *out = s;
    return 0;
}

void lj_sampler_free(lj_sampler *s) {
    if (!s) return;
    free(s->c);
    free(s);
}

static double uniform(lj_sampler *s) {   /* splitmix64 → [0, 1) */
    uint64_t z = (s->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static int cmp_desc(const void *a, const void *b) {
    const struct cand *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return x->id < y->id ? -1 : 1;
}

int32_t lj_sampler_sample(lj_sampler *s, const float *logits) {
    const size_t V = s->vocab;
    if (s->p.temperature <= 0) {
        size_t best = 0;
        for (size_t i = 1; i < V; i++)
            if (logits[i] > logits[best]) best = i;
        return (int32_t)best;
    }
    double mx = logits[0];
    for (size_t i = 1; i < V; i++) mx = logits[i] > mx ? logits[i] : mx;
    for (size_t i = 0; i < V; i++) s->c[i] = (struct cand){exp(((double)logits[i] - mx) / s->p.temperature), (int32_t)i};
    qsort(s->c, V, sizeof *s->c, cmp_desc);
    size_t keep = V;
    if (s->p.top_k > 0 && (size_t)s->p.top_k < keep) keep = (size_t)s->p.top_k;
    double total = 0;
    for (size_t i = 0; i < keep; i++) total += s->c[i].p;
    if (s->p.top_p < 1) {   /* smallest prefix whose mass reaches top_p */
        double acc = 0;
        for (size_t i = 0; i < keep; i++) {
            acc += s->c[i].p;
            if (acc >= s->p.top_p * total) { keep = i + 1; total = acc; break; }
        }
    }
    double u = uniform(s) * total, acc = 0;
    for (size_t i = 0; i < keep; i++) {
        acc += s->c[i].p;
        if (u < acc) return s->c[i].id;
    }
    return s->c[keep - 1].id;
}

int32_t lj_argmax(const float *logits, size_t vocab) {
    size_t best = 0;
    for (size_t i = 1; i < vocab; i++)
        if (logits[i] > logits[best]) best = i;
    return (int32_t)best;
}

static double log_sum_exp(const float *logits, size_t vocab, float *mx_out) {
    float mx = logits[lj_argmax(logits, vocab)];
    double s = 0;
    for (size_t i = 0; i < vocab; i++) s += exp((double)logits[i] - mx);
    *mx_out = mx;
    return log(s);
}

float lj_logprob(const float *logits, size_t vocab, int32_t id) {
    float mx;
    double lse = log_sum_exp(logits, vocab, &mx);
    return (float)((double)logits[id] - mx - lse);
}

void lj_top_logprobs(const float *logits, size_t vocab, size_t k, int32_t *ids, float *logprobs) {
    float mx;
    double lse = log_sum_exp(logits, vocab, &mx);
    // insertion into a sorted list of k: k is small (OpenAI caps top_logprobs at 20)
    for (size_t j = 0; j < k; j++) ids[j] = -1;
    for (size_t i = 0; i < vocab; i++) {
        size_t pos = k;
        while (pos > 0 && (ids[pos - 1] < 0 || logits[i] > logits[ids[pos - 1]])) pos--;
        if (pos >= k) continue;
        memmove(ids + pos + 1, ids + pos, (k - pos - 1) * sizeof *ids);
        ids[pos] = (int32_t)i;
    }
    for (size_t j = 0; j < k; j++) logprobs[j] = (float)((double)logits[ids[j]] - mx - lse);
}

size_t lj_stop_find(const char *text, size_t len, size_t from, const char *const *stops, size_t n) {
    size_t best = len;
    for (size_t s = 0; s < n; s++) {
        size_t sl = strlen(stops[s]);
        if (sl == 0 || sl > len) continue;
        size_t start = from >= sl ? from - sl + 1 : 0;   // a match must end at or after `from`
        for (size_t i = start; i + sl <= len && i < best; i++)
            if (!memcmp(text + i, stops[s], sl)) { best = i; break; }
    }
    return best;
}
