/* Token sampling from one row of logits: greedy (temperature 0), or temperature + top-k + top-p
 * (nucleus) with a seeded generator, so a run is reproducible. */
#ifndef LJ_ENGINE_SAMPLER_H
#define LJ_ENGINE_SAMPLER_H

#include "engine/config.h"

#include <stddef.h>
#include <stdint.h>

typedef struct lj_sampler_params {
    double temperature;   /* <= 0: greedy (argmax, lowest id on ties) */
    double top_p;         /* (0, 1]; 1 = off */
    long top_k;           /* <= 0: off */
    uint64_t seed;
} lj_sampler_params;

/* Greedy unless generation_config.json says do_sample; then its temperature/top_p/top_k
 * (transformers' defaults 1.0 / 1.0 / 50 where absent). */
void lj_sampler_defaults(const lj_generation_config *g, lj_sampler_params *p);

typedef struct lj_sampler lj_sampler;
/* Caller owns *out (lj_sampler_free). Fails on a bad top_p or vocab 0. */
int lj_sampler_new(const lj_sampler_params *p, size_t vocab, lj_sampler **out, char *err, size_t errlen);
void lj_sampler_free(lj_sampler *s);
/* Picks the next token from logits [vocab]. */
int32_t lj_sampler_sample(lj_sampler *s, const float *logits);

/* ---- helpers for the batch pipelines (OpenAI logprobs, stop strings) ---- */

/* Index of the largest logit (lowest index on ties). */
int32_t lj_argmax(const float *logits, size_t vocab);
/* log softmax of logits at `id` (the raw distribution, temperature 1, as OpenAI reports it). */
float lj_logprob(const float *logits, size_t vocab, int32_t id);
/* The k most likely ids with their log-probabilities, most likely first (ties: lower id; k <= vocab). */
void lj_top_logprobs(const float *logits, size_t vocab, size_t k, int32_t *ids, float *logprobs);
/* Earliest byte offset in text[0..len) where any of the n stop strings starts, considering only
 * matches that end at or after byte `from` (an incremental caller rescans just the new tail);
 * len when none. Empty stop strings are ignored. */
size_t lj_stop_find(const char *text, size_t len, size_t from, const char *const *stops, size_t n);

#endif
