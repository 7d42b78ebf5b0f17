/* Evaluation prompts through the scheduler; see runner.h. */
#include "eval/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

int eval_runner_open(const char *dir, const lj_load_opts *o, size_t max_context, size_t chunk, size_t batch,
                     eval_runner **out, char *err, size_t errlen) {
    *out = NULL;
    eval_runner *r = calloc(1, sizeof *r);
    if (!r) return lj_errf(err, errlen, "out of memory");
    size_t pl = strlen(dir) + 32;
    r->tokenizer_path = malloc(pl);
    if (!r->tokenizer_path) { free(r); return lj_errf(err, errlen, "out of memory"); }
    snprintf(r->tokenizer_path, pl, "%s/tokenizer.json", dir);
    r->device = o && o->device ? o->device : "cpu";
    if (tok_load(r->tokenizer_path, &r->tok, err, errlen)) { eval_runner_close(r); return -1; }
    pl_backend_opts bo = {.device = r->device, .threads = o ? o->threads : 0};
    if (pl_backend_open(dir, &bo, &r->backend, err, errlen)) { eval_runner_close(r); return -1; }
    r->max_context = max_context && max_context < r->backend->n_ctx ? max_context : r->backend->n_ctx;
    r->chunk = chunk ? chunk : 512;
    r->batch = batch ? batch : 4;
    lj_sched_opts so = {.max_seqs = r->batch, .budget_tokens = 0, .chunk = r->chunk};
    if (lj_sched_new(&r->backend->model, &so, &r->sched, err, errlen)) { eval_runner_close(r); return -1; }
    *out = r;
    return 0;
}

void eval_runner_close(eval_runner *r) {
    if (!r) return;
    if (r->sched) lj_sched_free(r->sched);
    if (r->backend) pl_backend_close(r->backend);
    tok_free(r->tok);
    free(r->tokenizer_path);
    free(r);
}

size_t eval_truncate_middle(int32_t *ids, size_t n, size_t keep) {
    if (n <= keep) return n;
    size_t half = keep / 2;
    memmove(ids + half, ids + n - half, half * sizeof *ids);
    return 2 * half;
}

typedef struct batch_ctx {
    eval_runner *r;
    void (*on_done)(eval_job *, void *);
    void *user;
    size_t finished;
} batch_ctx;

static int job_token(lj_seq *s, int32_t token, int is_eos, const float *logits) {
    (void)logits;
    eval_job *j = s->user;
    if (is_eos) return 1;
    for (size_t e = 0; e < j->n_extra; e++)
        if (j->extra_stop[e] == token) return 1;
    j->gen[j->out.n_tokens++] = token;
    return 0;
}

static void job_done(lj_seq *s) {
    eval_job *j = s->user;
    batch_ctx *c = j->batch;
    j->out.seconds = lj_now() - j->t0;
    if (s->finish == LJ_FINISH_ERROR || s->finish == LJ_FINISH_ABORTED) {
        j->failed = 1;
        snprintf(j->err, sizeof j->err, "%.200s: %.256s", j->label, s->err[0] ? s->err : "aborted");
    } else {
        char e2[256];
        if (c->r->backend->decode(c->r->backend, j->gen, j->out.n_tokens, &j->out.text, e2, sizeof e2)) {
            j->failed = 1;
            snprintf(j->err, sizeof j->err, "%.200s: decoding the output: %.256s", j->label, e2);
        }
    }
    free(j->ids); j->ids = NULL;
    free(j->gen); j->gen = NULL;
    c->finished++;
    if (c->on_done) c->on_done(j, c->user);
}

int eval_generate_batch(eval_runner *r, eval_job *jobs, size_t n, void (*on_done)(eval_job *, void *), void *user,
                        char *err, size_t errlen) {
    batch_ctx c = {r, on_done, user, 0};
    pl_backend *b = r->backend;
    size_t next = 0;
    while (c.finished < n) {
        /* admit what fits */
        while (next < n) {
            eval_job *j = &jobs[next];
            if (!j->ids) {   /* prepare: encode and truncate */
                memset(&j->out, 0, sizeof j->out);
                j->failed = 0;
                j->err[0] = 0;
                char e2[256];
                if (j->max_new + 1 >= r->max_context) {
                    j->failed = 1;
                    snprintf(j->err, sizeof j->err, "%s: %zu output tokens do not fit a %zu-token context", j->label, j->max_new, r->max_context);
                } else if (b->encode(b, j->prompt, strlen(j->prompt), 0, &j->ids, &j->n_ids, e2, sizeof e2) || !j->n_ids) {
                    j->failed = 1;
                    snprintf(j->err, sizeof j->err, "%.200s: encoding the prompt: %.256s", j->label, j->n_ids ? e2 : "empty prompt");
                }
                if (j->failed) {
                    free(j->ids); j->ids = NULL;
                    c.finished++;
                    if (on_done) on_done(j, user);
                    next++;
                    continue;
                }
                size_t room = r->max_context - j->max_new - 1;
                if (j->n_ids > room) {
                    fprintf(stderr, "warning: %s: prompt of %zu tokens truncated in the middle to %zu (context %zu, %zu output tokens)\n",
                            j->label, j->n_ids, room - room % 2, r->max_context, j->max_new);
                    j->n_ids = eval_truncate_middle(j->ids, j->n_ids, room);
                    j->out.truncated = 1;
                }
                j->out.prompt_tokens = j->n_ids;
                j->gen = malloc((j->max_new + 1) * sizeof *j->gen);
                memset(&j->seq, 0, sizeof j->seq);
                j->seq.prompt = j->ids;
                j->seq.n_prompt = j->n_ids;
                j->seq.capacity = j->n_ids + j->max_new + 1;
                j->seq.max_new = j->max_new;
                j->seq.sampling = (lj_sampler_params){.temperature = 0, .top_p = 1, .top_k = 0, .seed = 0};
                j->seq.eos = b->eos;
                j->seq.n_eos = b->n_eos;
                j->seq.on_token = job_token;
                j->seq.on_done = job_done;
                j->seq.user = j;
                j->batch = &c;
                if (!j->gen) { lj_errf(err, errlen, "out of memory"); return -1; }
            }
            if (lj_sched_active(r->sched) && !lj_sched_can_admit(r->sched, j->seq.capacity)) break;
            j->t0 = lj_now();
            lj_sched_submit(r->sched, &j->seq);
            next++;
        }
        if (lj_sched_active(r->sched)) lj_sched_step(r->sched);
        else if (next >= n && c.finished < n) return lj_errf(err, errlen, "scheduler stopped with %zu of %zu samples unfinished", n - c.finished, n);
    }
    return 0;
}

int eval_generate(eval_runner *r, const char *prompt, size_t max_new, const int32_t *extra_stop, size_t n_extra,
                  const char *label, eval_output *out, char *err, size_t errlen) {
    eval_job j = {.prompt = prompt, .max_new = max_new, .extra_stop = extra_stop, .n_extra = n_extra, .label = label};
    if (eval_generate_batch(r, &j, 1, NULL, NULL, err, errlen)) return -1;
    *out = j.out;
    if (j.failed) { free(out->text); out->text = NULL; return lj_errf(err, errlen, "%s", j.err); }
    return 0;
}
