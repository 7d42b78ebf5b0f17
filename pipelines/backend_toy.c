/* "toy[:VOCAB]": a deterministic stand-in model for pipeline tests. Its state is a 64-bit hash of
 * every token it has seen; logits are a pseudo-random function of that hash, with the end id (2)
 * likely about one step in 24, so sequences end at varied lengths. The tokenizer maps bytes to
 * ids 3..258; ids 0/1/2 are pad/bos/eos. Greedy output depends only on a sequence's own tokens. */
#include "pipelines/backend.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

typedef struct toy_state { uint64_t h; size_t len, cap; } toy_state;

static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int toy_state_new(void *ctx, size_t cap, void **out, char *err, size_t errlen) {
    toy_state *s = lj_calloc(1, sizeof *s);
    if (!s) return lj_errf(err, errlen, "toy: out of memory");
    s->h = 0x1234567;
    s->cap = cap;
    *out = s;
    return 0;
}

static int toy_state_fork(void *ctx, const void *src, void **out, char *err, size_t errlen) {
    toy_state *s = malloc(sizeof *s);
    if (!s) return lj_errf(err, errlen, "toy: out of memory");
    *s = *(const toy_state *)src;
    *out = s;
    return 0;
}

static void toy_state_free(void *ctx, void *s) { free(s); }

static int toy_forward(void *ctx, const lj_sched_entry *steps, size_t n, float *logits, char *err, size_t errlen) {
    size_t vocab = *(size_t *)ctx;
    for (size_t i = 0; i < n; i++) {
        toy_state *s = steps[i].state;
        if (s->len + steps[i].n_tokens > s->cap)
            return lj_errf(err, errlen, "toy: state full (%zu + %zu > %zu)", s->len, steps[i].n_tokens, s->cap);
        for (size_t t = 0; t < steps[i].n_tokens; t++) s->h = mix(s->h ^ (uint64_t)(uint32_t)steps[i].tokens[t]) + 1;
        s->len += steps[i].n_tokens;
        float *row = logits + i * vocab;   // [vocab]
        for (size_t v = 0; v < vocab; v++)
            row[v] = (float)(mix(s->h + v * 0x9e3779b97f4a7c15ULL) >> 40) / (float)(1 << 24) * 8.0f - 4.0f;
        row[0] = row[1] = -30.0f;
        row[2] = (s->h % 24 == 0) ? 30.0f : -3.0f;
    }
    return 0;
}

static int toy_encode(pl_backend *b, const char *text, size_t len, int add_special, int32_t **ids, size_t *n,
                      char *err, size_t errlen) {
    *ids = malloc((len + 1) * sizeof **ids);
    if (!*ids) return lj_errf(err, errlen, "toy: out of memory");
    size_t k = 0;
    if (add_special) (*ids)[k++] = 1;   // BOS
    for (size_t i = 0; i < len; i++) (*ids)[k++] = 3 + (unsigned char)text[i];
    *n = k;
    return 0;
}

/* Printable ASCII for every id, so outputs are valid UTF-8 whatever is sampled. */
static int toy_decode(pl_backend *b, const int32_t *ids, size_t n, char **text, char *err, size_t errlen) {
    char *s = malloc(n + 1);
    if (!s) return lj_errf(err, errlen, "toy: out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 3) continue;
        int c = ids[i] - 3;
        s[k++] = (char)(c >= 32 && c < 127 ? c : 32 + c % 95);
    }
    s[k] = 0;
    *text = s;
    return 0;
}

static void toy_close(pl_backend *b) {
    free(b->impl);
    free(b);
}

int pl_backend_open_toy(const char *spec, pl_backend **out, char *err, size_t errlen) {
    size_t vocab = 512;
    if (spec[3] == ':') {
        char *end;
        long v = strtol(spec + 4, &end, 10);
        if (*end || v < 260 || v > 1 << 20) return lj_errf(err, errlen, "--model %s: toy vocab must be in [260, 1048576]", spec);
        vocab = (size_t)v;
    }
    pl_backend *b = lj_calloc(1, sizeof *b);
    size_t *ctx = malloc(sizeof *ctx);
    if (!b || !ctx) { free(b); free(ctx); return lj_errf(err, errlen, "toy: out of memory"); }
    *ctx = vocab;
    b->impl = ctx;
    b->model = (lj_sched_model){ctx, vocab, toy_state_new, toy_state_fork, toy_state_free, toy_forward};
    strcpy(b->name, "toy");
    b->n_ctx = 4096;
    b->eos[0] = 2;
    b->n_eos = 1;
    lj_sampler_defaults(NULL, &b->defaults);
    b->encode = toy_encode;
    b->decode = toy_decode;
    b->close = toy_close;
    *out = b;
    return 0;
}
