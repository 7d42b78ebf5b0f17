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

#endif
