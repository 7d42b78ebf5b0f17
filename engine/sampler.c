#include "engine/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void lj_sampler_defaults(lj_sampler_params *p) {
    p->temperature = 0.0f;
    p->top_p = 1.0f;
    p->top_k = 0;
    p->seed = 0;
}

void lj_rng_seed(lj_rng *r, uint64_t seed) { r->s = seed ^ 0x9e3779b97f4a7c15ULL; }

uint64_t lj_rng_next(lj_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double lj_rng_uniform(lj_rng *r) { return (double)(lj_rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

int32_t lj_argmax(const float *logits, size_t vocab) {
    size_t best = 0;
    for (size_t i = 1; i < vocab; i++)
        if (logits[i] > logits[best]) best = i;
    return (int32_t)best;
}

size_t lj_sampler_work_bytes(size_t vocab) { return vocab * (sizeof(float) + sizeof(int32_t)); }

/* Sort candidates by probability, descending; ties by id so results never depend on qsort order. */
static _Thread_local const float *g_sort_p;
static int cmp_desc(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    float px = g_sort_p[x], py = g_sort_p[y];
    if (px > py) return -1;
    if (px < py) return 1;
    return (x > y) - (x < y);
}

int32_t lj_sample(const float *logits, size_t vocab, const lj_sampler_params *p, lj_rng *rng, void *work) {
    if (p->temperature <= 0.0f || p->top_k == 1 || vocab == 1) return lj_argmax(logits, vocab);
    float *prob = (float *)work;                          // [vocab]
    int32_t *idx = (int32_t *)(prob + vocab);             // [vocab]
    float mx = logits[lj_argmax(logits, vocab)];
    double sum = 0;
    for (size_t i = 0; i < vocab; i++) {
        prob[i] = expf((logits[i] - mx) / p->temperature);
        sum += prob[i];
        idx[i] = (int32_t)i;
    }
    for (size_t i = 0; i < vocab; i++) prob[i] = (float)(prob[i] / sum);
    size_t n = vocab;
    int need_sort = (p->top_k > 0 && (size_t)p->top_k < vocab) || (p->top_p > 0.0f && p->top_p < 1.0f);
    if (need_sort) {
        g_sort_p = prob;
        qsort(idx, vocab, sizeof *idx, cmp_desc);
        if (p->top_k > 0 && (size_t)p->top_k < n) n = (size_t)p->top_k;
        if (p->top_p > 0.0f && p->top_p < 1.0f) {
            double c = 0;
            size_t keep = n;
            for (size_t i = 0; i < n; i++) {
                c += prob[idx[i]];
                if (c >= p->top_p) { keep = i + 1; break; }
            }
            n = keep;
        }
    }
    double total = 0;
    for (size_t i = 0; i < n; i++) total += prob[idx[i]];
    double u = lj_rng_uniform(rng) * total, c = 0;
    for (size_t i = 0; i < n; i++) {
        c += prob[idx[i]];
        if (u < c) return idx[i];
    }
    return idx[n - 1];
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
    // partial selection: k is small (OpenAI caps top_logprobs at 20)
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
        size_t start = from >= sl ? from - sl + 1 : 0;   // a match must end past `from`
        if (from == 0) start = 0;
        for (size_t i = start; i + sl <= len && i < best; i++)
            if (!memcmp(text + i, stops[s], sl)) { best = i; break; }
    }
    return best;
}
