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
/* max|a - ref| / max|ref| over n values */
double rel_err(const float *a, const float *ref, size_t n);

#endif
