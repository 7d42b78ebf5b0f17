/* Continuous batching over one model: keeps several sequences in flight, admits a new one when the
 * memory plan allows (a budget of total state capacity in tokens and a maximum number of sequences),
 * and runs each forward step as the decode tokens of every running sequence beside at most one
 * prefill chunk of a new one. A state is freed (or handed back) as soon as its sequence ends.
 *
 * The scheduler reaches the model through lj_sched_model, a small table of functions; the engine's
 * binding (lj_model/lj_state/lj_forward) lives in pipelines/backend_engine.c, and tests may bind a
 * reference model. One thread drives a scheduler (lj_sched_* are not thread-safe).
 *
 * Ownership: lj_sched_new/lj_sched_free pair; a submitted lj_seq stays owned by the caller and must
 * live until its on_done callback has run. */
#ifndef LJ_ENGINE_SCHEDULER_H
#define LJ_ENGINE_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include "engine/sampler.h"

typedef struct lj_sched_entry {
    void *state;
    const int32_t *tokens;   /* [n_tokens] */
    size_t n_tokens;
} lj_sched_entry;

typedef struct lj_sched_model {
    void *ctx;
    size_t vocab;
    int (*state_new)(void *ctx, size_t capacity, void **out, char *err, size_t errlen);
    int (*state_fork)(void *ctx, const void *src, void **out, char *err, size_t errlen);
    void (*state_free)(void *ctx, void *state);
    /* One forward over n sequences; writes the last token's logits of each into logits [n, vocab]. */
    int (*forward)(void *ctx, const lj_sched_entry *steps, size_t n, float *logits, char *err, size_t errlen);
} lj_sched_model;

enum lj_finish {
    LJ_FINISH_NONE = 0,
    LJ_FINISH_STOP,      /* eos token or stop string */
    LJ_FINISH_LENGTH,    /* max_new reached or the state is full */
    LJ_FINISH_PREFILL,   /* max_new == 0: prompt consumed, state handed back */
    LJ_FINISH_ERROR,     /* forward or state allocation failed: seq->err says why */
    LJ_FINISH_ABORTED,   /* lj_sched_abort_all */
};

typedef struct lj_seq lj_seq;
struct lj_seq {
    /* ---- set by the caller before lj_sched_submit ---- */
    const int32_t *prompt;   /* [n_prompt] tokens to feed; at least 1 (caller-owned, kept alive) */
    size_t n_prompt;
    void *state;             /* NULL: the scheduler makes one of `capacity` tokens; else a state the
                                caller hands over (e.g. a fork), whose capacity the caller states */
    size_t capacity;         /* state capacity in tokens: what admission charges against the budget */
    size_t base_len;         /* tokens already in a handed-over or forked state (0 for a new one) */
    const void *fork_from;   /* state NULL and this set: the state is a fork of it, made at admission
                                (so forks take memory only when they run); capacity = the source's */
    size_t max_new;          /* tokens to generate; 0 = prefill only */
    int keep_state;          /* on finish, leave the state in seq->state for the caller, who frees it
                                and then calls lj_sched_release(capacity): until then it stays charged */
    lj_sampler_params sampling;
    const int32_t *eos;      /* [n_eos] end-of-sequence ids */
    size_t n_eos;
    /* Each sampled token with the logits it came from ([vocab], valid during the call); is_eos says
     * it is an end id. Return nonzero to end the sequence (e.g. a stop string matched). May be NULL. */
    int (*on_token)(lj_seq *s, int32_t token, int is_eos, const float *logits);
    void (*on_done)(lj_seq *s);   /* exactly once, after the state is freed or handed back */
    void *user;
    /* ---- filled by the scheduler ---- */
    size_t n_out;            /* tokens sampled so far */
    int finish;              /* enum lj_finish once done */
    char err[256];
    /* ---- private ---- */
    size_t fed, admitted_at;
    int decoding;
    int32_t last;
    lj_sampler *sampler;   /* made at admission from `sampling`, freed at the end */
    lj_seq *next;
};

typedef struct lj_sched_opts {
    size_t max_seqs;        /* sequences in flight at most (default 8) */
    size_t budget_tokens;   /* total state capacity of sequences in flight (0 = no limit) */
    size_t chunk;           /* prefill chunk in tokens (default 512) */
} lj_sched_opts;

typedef struct lj_sched lj_sched;

/* Allocates the step table, logits rows and sampler scratch once. */
int lj_sched_new(const lj_sched_model *m, const lj_sched_opts *o, lj_sched **out, char *err, size_t errlen);
void lj_sched_free(lj_sched *s);

/* True when a sequence of this capacity can be admitted now. Nothing in flight: always true when it
 * fits the budget at all (lj_sched_fits). */
int lj_sched_can_admit(const lj_sched *s, size_t capacity);
int lj_sched_fits(const lj_sched *s, size_t capacity);
/* Admits seq (the caller checked lj_sched_can_admit). A seq that cannot start (no state, empty
 * prompt, over budget) is finished at once with LJ_FINISH_ERROR through on_done. */
void lj_sched_submit(lj_sched *s, lj_seq *seq);
/* Runs one forward step; returns the number of sequences still in flight, or -1 when the forward
 * failed (the sequences of that step are finished with LJ_FINISH_ERROR and the others go on). */
int lj_sched_step(lj_sched *s);
size_t lj_sched_active(const lj_sched *s);
/* Uncharges a state handed back by a keep_state sequence once the caller has freed it. */
void lj_sched_release(lj_sched *s, size_t capacity);
/* Ends every sequence in flight with LJ_FINISH_ABORTED (states freed). */
void lj_sched_abort_all(lj_sched *s);

/* Counters for progress/benchmarks. */
typedef struct lj_sched_stats {
    uint64_t steps, prefill_tokens, decode_tokens;
    size_t max_active;       /* most sequences in flight in one step */
} lj_sched_stats;
lj_sched_stats lj_sched_get_stats(const lj_sched *s);

#endif
