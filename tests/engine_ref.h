/* Shared helpers for the engine tests: a fixture's reference.safetensors read into host arrays,
 * and the relative-error measure the tests use (max|a-b| / max|ref|). */
#ifndef LJ_TESTS_ENGINE_REF_H
#define LJ_TESTS_ENGINE_REF_H

#include <stddef.h>
#include <stdint.h>

typedef struct engine_ref {
    int32_t *input_ids;   size_t T;    // [T]
    float *logits;        size_t V;    // [T, V]
    float *hidden;        size_t L1, H;   // [L+1, T, H] (NULL when absent)
    int32_t *greedy;      size_t N;    // [N]
} engine_ref;

int engine_ref_load(const char *dir, engine_ref *r, char *err, size_t errlen);
void engine_ref_free(engine_ref *r);
typedef struct lj_model lj_model;
/* Greedy decoding through a sequence state, as the fixtures' greedy_ids were made: prefills the
 * T-token prompt in chunks of `chunk`, then takes the argmax and feeds it back, up to N ids or
 * until one differs from expected[] (printed; the continuations diverge from there). ids[] gets
 * the ids produced; returns how many match expected (the common prefix), or -1 with err on an
 * engine error. *state_len (may be NULL) gets the state's length at the end. */
long engine_ref_greedy(lj_model *m, const int32_t *prompt, size_t T, size_t chunk, const int32_t *expected,
                       size_t N, int32_t *ids, size_t *state_len, char *err, size_t errlen);
/* max|a - ref| / max|ref| over n values */
double rel_err(const float *a, const float *ref, size_t n);

#endif
