/* Token sampling: greedy by default; temperature, top-k, top-p with a per-request deterministic RNG;
 * log-probabilities for OpenAI's logprobs; stop-string search.
 *
 * Nothing here allocates except where stated; `work` buffers are caller-owned scratch of the stated
 * size so that nothing is allocated inside the token loop. */
#ifndef LJ_ENGINE_SAMPLER_H
#define LJ_ENGINE_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

typedef struct lj_sampler_params {
    float temperature;   /* 0 = greedy (argmax, lowest id on ties) */
    float top_p;         /* 1 = off; keep the smallest set whose probability reaches top_p */
    int top_k;           /* 0 = off */
    uint64_t seed;       /* RNG seed: the same seed gives the same tokens */
} lj_sampler_params;

/* Defaults: greedy, top_p 1, top_k 0, seed 0. */
void lj_sampler_defaults(lj_sampler_params *p);

/* splitmix64: one 64-bit word of state, deterministic per request. */
typedef struct lj_rng { uint64_t s; } lj_rng;
void lj_rng_seed(lj_rng *r, uint64_t seed);
uint64_t lj_rng_next(lj_rng *r);
double lj_rng_uniform(lj_rng *r);   /* [0, 1) */

/* Index of the largest logit (lowest index on ties). */
int32_t lj_argmax(const float *logits, size_t vocab);

/* Picks one token from logits [vocab]. work: caller scratch of 2*vocab floats' worth (at least
 * lj_sampler_work_bytes(vocab) bytes); unused for greedy (may be NULL then). */
size_t lj_sampler_work_bytes(size_t vocab);
int32_t lj_sample(const float *logits, size_t vocab, const lj_sampler_params *p, lj_rng *rng, void *work);

/* log softmax of logits at `id` (of the raw distribution, temperature 1, as OpenAI reports). */
float lj_logprob(const float *logits, size_t vocab, int32_t id);

/* The k most likely ids with their log-probabilities, most likely first (k <= vocab). */
void lj_top_logprobs(const float *logits, size_t vocab, size_t k, int32_t *ids, float *logprobs);

/* Earliest byte offset in text[0..len) where any of the n stop strings starts, searching only
 * matches that end at or after `from` (so an incremental caller rescans just the new tail);
 * returns len when none. Empty stop strings are ignored. */
size_t lj_stop_find(const char *text, size_t len, size_t from, const char *const *stops, size_t n);

#endif
