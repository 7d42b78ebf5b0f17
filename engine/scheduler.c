#include "engine/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

struct lj_sched {
    lj_sched_model m;
    lj_sched_opts o;
    lj_seq *head, *tail;         /* in flight, in admission order */
    size_t active, used_tokens;
    lj_sched_entry *steps;        /* [max_seqs + 1] */
    lj_seq **step_seq;           /* [max_seqs + 1] */
    float *logits;               /* [max_seqs + 1, vocab] */
    lj_sched_stats stats;
};

int lj_sched_new(const lj_sched_model *m, const lj_sched_opts *o, lj_sched **out, char *err, size_t errlen) {
    *out = NULL;
    if (!m || !m->forward || !m->state_new || !m->state_free || m->vocab == 0)
        return lj_errf(err, errlen, "scheduler: incomplete model binding");
    lj_sched *s = lj_calloc(1, sizeof *s);
    if (!s) return lj_errf(err, errlen, "scheduler: out of memory");
    s->m = *m;
    s->o.max_seqs = o && o->max_seqs ? o->max_seqs : 8;
    s->o.budget_tokens = o ? o->budget_tokens : 0;
    s->o.chunk = o && o->chunk ? o->chunk : 512;
    size_t rows = s->o.max_seqs + 1, nlog;
    if (!lj_mul_ok(rows, m->vocab, &nlog)) { free(s); return lj_errf(err, errlen, "scheduler: size overflow"); }
    s->steps = lj_calloc(rows, sizeof *s->steps);
    s->step_seq = lj_calloc(rows, sizeof *s->step_seq);
    s->logits = lj_calloc(nlog, sizeof *s->logits);
    if (!s->steps || !s->step_seq || !s->logits) {
        lj_sched_free(s);
        return lj_errf(err, errlen, "scheduler: out of memory for %zu rows of %zu logits", rows, m->vocab);
    }
    *out = s;
    return 0;
}

void lj_sched_free(lj_sched *s) {
    if (!s) return;
    lj_sched_abort_all(s);
    free(s->steps);
    free(s->step_seq);
    free(s->logits);
    free(s);
}

int lj_sched_fits(const lj_sched *s, size_t capacity) {
    return s->o.budget_tokens == 0 || capacity <= s->o.budget_tokens;
}

int lj_sched_can_admit(const lj_sched *s, size_t capacity) {
    if (s->active == 0) return lj_sched_fits(s, capacity);
    if (s->active >= s->o.max_seqs) return 0;
    return s->o.budget_tokens == 0 || s->used_tokens + capacity <= s->o.budget_tokens;
}

size_t lj_sched_active(const lj_sched *s) { return s->active; }

void lj_sched_release(lj_sched *s, size_t capacity) {
    s->used_tokens = capacity < s->used_tokens ? s->used_tokens - capacity : 0;
}
lj_sched_stats lj_sched_get_stats(const lj_sched *s) { return s->stats; }

static void unlink_seq(lj_sched *s, lj_seq *q, int keep_charge) {
    lj_seq **pp = &s->head, *prev = NULL;
    while (*pp && *pp != q) { prev = *pp; pp = &(*pp)->next; }
    if (!*pp) return;
    *pp = q->next;
    if (s->tail == q) s->tail = prev;
    q->next = NULL;
    s->active--;
    if (!keep_charge) s->used_tokens -= q->capacity;
}

/* Ends a sequence: frees or hands back its state, then tells the caller. */
static void finish_seq(lj_sched *s, lj_seq *q, int why, int linked) {
    int keep = q->keep_state && (why == LJ_FINISH_PREFILL || why == LJ_FINISH_STOP || why == LJ_FINISH_LENGTH);
    if (linked) unlink_seq(s, q, keep);   // a state handed back stays charged until lj_sched_release
    q->finish = why;
    lj_sampler_free(q->sampler);
    q->sampler = NULL;
    if (q->state && !keep) {
        s->m.state_free(s->m.ctx, q->state);
        q->state = NULL;
    }
    if (q->on_done) q->on_done(q);
}

void lj_sched_submit(lj_sched *s, lj_seq *q) {
    q->n_out = 0;
    q->finish = LJ_FINISH_NONE;
    q->err[0] = 0;
    q->fed = 0;
    q->decoding = 0;
    q->next = NULL;
    q->sampler = NULL;
    if (q->n_prompt == 0 || q->base_len + q->n_prompt > q->capacity) {
        if (q->n_prompt == 0) snprintf(q->err, sizeof q->err, "empty prompt");
        else snprintf(q->err, sizeof q->err, "prompt of %zu tokens does not fit a state of %zu (%zu used)",
                      q->n_prompt, q->capacity, q->base_len);
        if (q->state) { s->m.state_free(s->m.ctx, q->state); q->state = NULL; }
        finish_seq(s, q, LJ_FINISH_ERROR, 0);
        return;
    }
    if (!lj_sched_fits(s, q->capacity)) {
        snprintf(q->err, sizeof q->err, "needs %zu tokens of state, over the budget of %zu", q->capacity,
                 s->o.budget_tokens);
        finish_seq(s, q, LJ_FINISH_ERROR, 0);
        return;
    }
    if (!q->state && q->fork_from) {
        if (!s->m.state_fork || s->m.state_fork(s->m.ctx, q->fork_from, &q->state, q->err, sizeof q->err)) {
            if (!s->m.state_fork) snprintf(q->err, sizeof q->err, "the model cannot fork states");
            q->state = NULL;
            finish_seq(s, q, LJ_FINISH_ERROR, 0);
            return;
        }
    } else if (!q->state && s->m.state_new(s->m.ctx, q->capacity, &q->state, q->err, sizeof q->err)) {
        q->state = NULL;
        finish_seq(s, q, LJ_FINISH_ERROR, 0);
        return;
    }
    if (lj_sampler_new(&q->sampling, s->m.vocab, &q->sampler, q->err, sizeof q->err)) {
        q->sampler = NULL;
        finish_seq(s, q, LJ_FINISH_ERROR, 0);
        return;
    }
    q->admitted_at = s->stats.steps;
    if (s->tail) s->tail->next = q; else s->head = q;
    s->tail = q;
    s->active++;
    s->used_tokens += q->capacity;
}

static int is_eos(const lj_seq *q, int32_t t) {
    for (size_t i = 0; i < q->n_eos; i++)
        if (q->eos[i] == t) return 1;
    return 0;
}

/* A token was sampled for q from `row`: report it and decide whether q goes on. */
static void emit(lj_sched *s, lj_seq *q, const float *row) {
    int32_t t = lj_sampler_sample(q->sampler, row);
    q->n_out++;
    int eos = is_eos(q, t);
    int stop = q->on_token ? q->on_token(q, t, eos, row) : 0;
    if (eos || stop) { finish_seq(s, q, LJ_FINISH_STOP, 1); return; }
    // the next step feeds t, which needs one more slot of state
    if (q->n_out >= q->max_new || q->base_len + q->fed + 1 > q->capacity) { finish_seq(s, q, LJ_FINISH_LENGTH, 1); return; }
    q->last = t;
    q->decoding = 1;
}

int lj_sched_step(lj_sched *s) {
    size_t n = 0;
    lj_seq *pre = NULL;
    for (lj_seq *q = s->head; q; q = q->next) {
        if (q->decoding) {
            s->steps[n] = (lj_sched_entry){q->state, &q->last, 1};
            s->step_seq[n++] = q;
        } else if (!pre) {
            pre = q;   // the oldest sequence still prefilling gets this step's chunk
        }
    }
    if (pre) {
        size_t c = pre->n_prompt - pre->fed;
        if (c > s->o.chunk) c = s->o.chunk;
        s->steps[n] = (lj_sched_entry){pre->state, pre->prompt + pre->fed, c};
        s->step_seq[n++] = pre;
    }
    if (n == 0) return (int)s->active;
    if (n > s->stats.max_active) s->stats.max_active = n;
    char err[LJ_ERRLEN];
    int rc = s->m.forward(s->m.ctx, s->steps, n, s->logits, err, sizeof err);
    s->stats.steps++;
    if (rc) {
        for (size_t i = 0; i < n; i++) {
            snprintf(s->step_seq[i]->err, sizeof s->step_seq[i]->err, "forward: %.240s", err);
            finish_seq(s, s->step_seq[i], LJ_FINISH_ERROR, 1);
        }
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        lj_seq *q = s->step_seq[i];
        const float *row = s->logits + i * s->m.vocab;
        q->fed += s->steps[i].n_tokens;
        if (q->decoding) {
            s->stats.decode_tokens++;
            emit(s, q, row);
            continue;
        }
        s->stats.prefill_tokens += s->steps[i].n_tokens;
        if (q->fed < q->n_prompt) continue;
        if (q->max_new == 0) finish_seq(s, q, LJ_FINISH_PREFILL, 1);
        else emit(s, q, row);
    }
    return (int)s->active;
}

void lj_sched_abort_all(lj_sched *s) {
    while (s->head) {
        lj_seq *q = s->head;
        snprintf(q->err, sizeof q->err, "aborted");
        finish_seq(s, q, LJ_FINISH_ABORTED, 1);
    }
}
