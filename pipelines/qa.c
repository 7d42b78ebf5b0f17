/* longjam qa: each document is prefilled once as `<chat prefix + document + instruction>` and its
 * state forked for each of its questions, which feed only their own tokens (question + the end of
 * the user turn + the assistant prompt). One line per question: {"id", "doc", "question", "answer"}.
 * Documents are streamed one at a time through the workers; the questions file is read up front
 * (grouped by document). Shards split by document, so a document's questions stay together. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"
#include "pipelines/docs.h"
#include "pipelines/pipelines.h"

typedef struct qa_question { char *id, *doc_ref, *question; int doc; uint64_t seq; } qa_question;

typedef struct qa_ctx {
    pl_runtime rt;
    const pl_common_opts *o;
    const pl_qa_opts *qo;
    pl_backend *b;
    size_t n_ctx;
    char **docs;
    size_t n_docs;
    char **doc_ids;
    qa_question *qs;
    size_t n_qs;
    size_t *order;       /* pending question indices grouped by document */
    size_t *first;       /* [n_docs + 1]: document i's questions are order[first[i] .. first[i + 1]) */
    pthread_t producer, *workers;
    size_t n_workers;
} qa_ctx;

typedef struct qa_doc qa_doc;
typedef struct qa_ask {
    lj_seq q;
    qa_doc *d;
    qa_question *qq;
    int32_t *prompt;
    size_t n_prompt;
    int32_t *out;
    size_t n_out, cap_out;
} qa_ask;

struct qa_doc {
    pl_task task;
    qa_ctx *c;
    pl_engine *e;
    int index;
    int32_t *prefix;
    size_t n_prefix;
    lj_seq pre;
    qa_ask *asks;
    size_t n_asks, remaining;
    char doc_err[512];
};

static int qa_key(json_t *line, char **key, int *is_error, int *is_dup) {
    json_t *id = json_object_get(line, "id");
    *is_dup = 0;
    json_t *e = json_object_get(line, "error");
    *is_error = e && !json_is_null(e);
    if (!json_is_string(id)) return -1;
    *key = strdup(json_string_value(id));
    return *key ? 0 : -1;
}

static void doc_free(qa_doc *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n_asks; i++) { free(d->asks[i].prompt); free(d->asks[i].out); }
    free(d->asks);
    free(d->prefix);
    free(d);
}

static void emit_answer(qa_doc *d, qa_ask *a, const char *answer, const char *error) {
    qa_ctx *c = d->c;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(a->qq->id));
    json_object_set_new(o, "doc", json_string(c->doc_ids[d->index]));
    json_object_set_new(o, "question", json_string(a->qq->question));
    json_object_set_new(o, "answer", answer ? json_string(answer) : json_null());
    if (error) json_object_set_new(o, "error", json_string(error));
    pl_result *r = pl_result_new(a->qq->seq, o, error != NULL);
    if (r) { r->tokens_in = a->n_prompt + (d->c->qo->prefill_each ? 0 : d->n_prefix); r->tokens_out = a->q.n_out; }
    pl_runtime_emit(&c->rt, r);
}

static void doc_finish(qa_doc *d) {
    if (d->pre.state) {
        pl_backend *b = pl_engine_backend(d->e);   /* the replica that holds the document's state */
        b->model.state_free(b->model.ctx, d->pre.state);
        lj_sched_release(pl_engine_sched(d->e), d->pre.capacity);
    }
    d->pre.state = NULL;
    pl_engine_task_done(d->e);
    doc_free(d);
}

static int ask_token(lj_seq *q, int32_t t, int is_eos, const float *logits) {
    qa_ask *a = q->user;
    if (is_eos) return 0;
    if (a->n_out == a->cap_out) {
        size_t cap = a->cap_out ? a->cap_out * 2 : 32;
        int32_t *p = realloc(a->out, cap * sizeof *p);
        if (!p) return 1;
        a->out = p;
        a->cap_out = cap;
    }
    a->out[a->n_out++] = t;
    return 0;
}

static void ask_done(lj_seq *q) {
    qa_ask *a = q->user;
    qa_doc *d = a->d;
    pl_backend *b = d->c->b;
    int state = pl_engine_state(d->e);
    if (q->finish == LJ_FINISH_ABORTED && state == PL_EXPIRED) emit_answer(d, a, NULL, "deadline expired before the answer was done");
    else if (q->finish == LJ_FINISH_ERROR) emit_answer(d, a, NULL, q->err);
    else if (q->finish != LJ_FINISH_ABORTED) {
        char *text = NULL, err[256];
        if (b->decode(b, a->out, a->n_out, &text, err, sizeof err)) emit_answer(d, a, NULL, err);
        else emit_answer(d, a, text, NULL);
        free(text);
    }
    if (--d->remaining == 0) doc_finish(d);
}

static void pre_done(lj_seq *q) {
    qa_doc *d = q->user;
    int state = pl_engine_state(d->e);
    if (q->finish != LJ_FINISH_PREFILL) {
        const char *why = q->finish == LJ_FINISH_ERROR ? q->err : "deadline expired";
        for (size_t i = 0; i < d->n_asks; i++)
            if (q->finish == LJ_FINISH_ERROR || state == PL_EXPIRED) emit_answer(d, &d->asks[i], NULL, why);
        doc_finish(d);
        return;
    }
    size_t n = d->n_asks;
    d->remaining = n;
    if (n == 0) { doc_finish(d); return; }
    // each question forks the prefilled state when it is admitted; d is freed after the last ends
    for (size_t i = 0; i < n; i++) d->asks[i].q.fork_from = d->pre.state;
    for (size_t i = 0; i < n; i++) pl_engine_submit(d->e, &d->asks[i].q);
}

static void doc_start(pl_task *t, pl_engine *e) {
    qa_doc *d = (qa_doc *)t;
    d->e = e;
    if (d->doc_err[0] || pl_engine_state(e) == PL_EXPIRED) {
        for (size_t i = 0; i < d->n_asks; i++)
            emit_answer(d, &d->asks[i], NULL, d->doc_err[0] ? d->doc_err : "deadline expired");
        pl_engine_task_done(e);
        doc_free(d);
        return;
    }
    if (d->c->qo->prefill_each) {
        size_t n = d->n_asks;
        d->remaining = n;
        for (size_t i = 0; i < n; i++) pl_engine_submit(e, &d->asks[i].q);
        return;
    }
    pl_engine_submit(e, &d->pre);
}

static void doc_discard(pl_task *t) { doc_free((qa_doc *)t); }

/* Worker: reads and tokenizes one document and its questions into a task. */
static qa_doc *doc_prepare(qa_ctx *c, int index) {
    qa_doc *d = lj_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->c = c;
    d->index = index;
    d->task.start = doc_start;
    d->task.discard = doc_discard;
    d->n_asks = c->first[index + 1] - c->first[index];
    d->asks = lj_calloc(d->n_asks ? d->n_asks : 1, sizeof *d->asks);
    if (!d->asks) { free(d); return NULL; }
    for (size_t k = 0; k < d->n_asks; k++) { d->asks[k].d = d; d->asks[k].qq = &c->qs[c->order[c->first[index] + k]]; }
    char err[LJ_ERRLEN];
    char *text = NULL;
    size_t len;
    int pages;
    if (pl_doc_load(c->docs[index], &text, &len, &pages, err, sizeof err)) {
        snprintf(d->doc_err, sizeof d->doc_err, "%.500s", err);
        return d;
    }
    // the shared prefix: chat prefix + document + instruction; the question follows it
    const char *pre = pl_chat_user_prefix();
    const char *ins = c->qo->instruction;
    size_t lp = strlen(pre), li = strlen(ins);
    char *buf = malloc(lp + len + li + 1);
    if (!buf) { free(text); snprintf(d->doc_err, sizeof d->doc_err, "out of memory"); return d; }
    memcpy(buf, pre, lp);
    memcpy(buf + lp, text, len);
    memcpy(buf + lp + len, ins, li + 1);
    free(text);
    int rc = c->b->encode(c->b, buf, lp + len + li, 0, &d->prefix, &d->n_prefix, err, sizeof err);
    free(buf);
    if (rc) { snprintf(d->doc_err, sizeof d->doc_err, "%s: %.400s", c->docs[index], err); return d; }
    size_t longest = 0;
    const char *suf = pl_chat_user_suffix();
    for (size_t i = 0; i < d->n_asks; i++) {
        qa_ask *a = &d->asks[i];
        size_t lq = strlen(a->qq->question), ls = strlen(suf);
        char *qb = malloc(lq + ls + 1);
        if (!qb) { snprintf(d->doc_err, sizeof d->doc_err, "out of memory"); return d; }
        memcpy(qb, a->qq->question, lq);
        memcpy(qb + lq, suf, ls + 1);
        rc = c->b->encode(c->b, qb, lq + ls, 0, &a->prompt, &a->n_prompt, err, sizeof err);
        free(qb);
        if (rc) { snprintf(d->doc_err, sizeof d->doc_err, "question %s: %.400s", a->qq->id, err); return d; }
        if (a->n_prompt > longest) longest = a->n_prompt;
    }
    size_t cap = d->n_prefix + longest + c->qo->max_answer_tokens;
    if (cap > c->n_ctx) {
        snprintf(d->doc_err, sizeof d->doc_err, "%s: document (%zu tokens) + question (%zu) + answer (%zu) exceed the context of %zu",
                 c->docs[index], d->n_prefix, longest, c->qo->max_answer_tokens, c->n_ctx);
        return d;
    }
    d->pre = (lj_seq){.prompt = d->prefix, .n_prompt = d->n_prefix, .capacity = cap, .max_new = 0, .keep_state = 1,
                      .on_done = pre_done, .user = d};
    for (size_t i = 0; i < d->n_asks; i++) {
        qa_ask *a = &d->asks[i];
        a->q = (lj_seq){.prompt = a->prompt, .n_prompt = a->n_prompt, .capacity = cap, .base_len = d->n_prefix,
                        .fork_from = NULL, .max_new = c->qo->max_answer_tokens, .sampling = c->b->defaults,
                        .eos = c->b->eos, .n_eos = c->b->n_eos, .on_token = ask_token, .on_done = ask_done, .user = a};
        if (c->qo->prefill_each) {   // the whole prompt, document first, in a state of its own
            int32_t *all = malloc((d->n_prefix + a->n_prompt) * sizeof *all);
            if (!all) { snprintf(d->doc_err, sizeof d->doc_err, "out of memory"); return d; }
            memcpy(all, d->prefix, d->n_prefix * sizeof *all);
            memcpy(all + d->n_prefix, a->prompt, a->n_prompt * sizeof *all);
            free(a->prompt);
            a->prompt = all;
            a->n_prompt += d->n_prefix;
            a->q.prompt = all;
            a->q.n_prompt = a->n_prompt;
            a->q.base_len = 0;
            a->q.capacity = a->n_prompt + c->qo->max_answer_tokens;
        }
    }
    return d;
}

static void *worker_main(void *arg) {
    qa_ctx *c = arg;
    void *it;
    while ((it = pl_queue_pop(c->rt.work))) {
        int index = (int)(intptr_t)it - 1;
        if (pl_stop_level() > 0) continue;
        qa_doc *d = doc_prepare(c, index);
        if (!d) { pl_runtime_emit(&c->rt, NULL); continue; }
        if (pl_queue_push(c->rt.ready, d)) doc_free(d);
    }
    return NULL;
}

static void *producer_main(void *arg) {
    qa_ctx *c = arg;
    for (size_t i = 0; i < c->n_docs && pl_stop_level() == 0; i++) {
        if (c->first[i + 1] == c->first[i]) continue;   // no pending question
        if (pl_queue_push(c->rt.work, (void *)(intptr_t)(i + 1))) break;
    }
    if (pl_stop_level() == 0) pl_progress_set_total_known(&c->rt.progress);
    pl_queue_close(c->rt.work);
    for (size_t i = 0; i < c->n_workers; i++) pthread_join(c->workers[i], NULL);
    pl_queue_close(c->rt.ready);
    return NULL;
}

/* Reads the questions and resolves each one's document (by id, path or file name). */
static int read_questions(qa_ctx *c, const char *path, char *err, size_t errlen) {
    // every name of each document (id, path, file name, file name without extension) -> index + 1;
    // the first document given wins a name two share
    pl_keyset *names = pl_keyset_new();
    if (!names) return lj_errf(err, errlen, "out of memory");
    for (size_t d = c->n_docs; d-- > 0;) {
        const char *base = strrchr(c->docs[d], '/');
        base = base ? base + 1 : c->docs[d];
        const char *dot = strrchr(base, '.');
        char stem[1024];
        snprintf(stem, sizeof stem, "%.*s", (int)(dot && dot > base ? (size_t)(dot - base) : strlen(base)), base);
        const char *keys[4] = {c->doc_ids[d], c->docs[d], base, stem};
        for (int k = 0; k < 4; k++) {
            int *v = pl_keyset_slot(names, keys[k]);
            if (!v) { pl_keyset_free(names); return lj_errf(err, errlen, "out of memory"); }
            *v = (int)d + 1;
        }
    }
    FILE *f = fopen(path, "rb");
    if (!f) { pl_keyset_free(names); return lj_errf(err, errlen, "%s: cannot open", path); }
    char *line = NULL;
    size_t cap = 0, line_no = 0, qcap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        line_no++;
        if (strspn(line, " \t\r\n") == (size_t)n) continue;
        json_error_t je;
        json_t *j = json_loadb(line, (size_t)n, 0, &je);
        json_t *id = json_object_get(j, "id"), *doc = json_object_get(j, "doc"), *q = json_object_get(j, "question");
        if (!j || !json_is_string(doc) || !json_is_string(q) || !(json_is_string(id) || json_is_integer(id))) {
            rc = lj_errf(err, errlen, "%s: line %zu: want {\"id\", \"doc\", \"question\"} (%s)", path, line_no, j ? "missing or mistyped field" : je.text);
            json_decref(j);
            break;
        }
        if (c->n_qs == qcap) {
            qcap = qcap ? qcap * 2 : 64;
            qa_question *p = realloc(c->qs, qcap * sizeof *p);
            if (!p) { json_decref(j); rc = lj_errf(err, errlen, "out of memory"); break; }
            c->qs = p;
        }
        qa_question *qq = &c->qs[c->n_qs++];
        char idb[32];
        if (json_is_integer(id)) snprintf(idb, sizeof idb, "%lld", (long long)json_integer_value(id));
        qq->id = strdup(json_is_string(id) ? json_string_value(id) : idb);
        qq->doc_ref = strdup(json_string_value(doc));
        qq->question = strdup(json_string_value(q));
        qq->seq = 0;
        json_decref(j);
        int at = pl_keyset_get(names, qq->doc_ref);
        qq->doc = at > 0 ? at - 1 : -1;
    }
    free(line);
    fclose(f);
    pl_keyset_free(names);
    return rc;
}

int pl_qa(const pl_common_opts *o, const pl_qa_opts *qo, char **docs, size_t n_docs, const char *questions) {
    char err[LJ_ERRLEN];
    qa_ctx c = {.o = o, .qo = qo, .docs = docs, .n_docs = n_docs};
    int rc = 1;
    pl_docs_init();
    c.doc_ids = lj_calloc(n_docs ? n_docs : 1, sizeof *c.doc_ids);
    for (size_t i = 0; c.doc_ids && i < n_docs; i++) c.doc_ids[i] = pl_doc_id(docs[i]);
    if (!c.doc_ids || read_questions(&c, questions, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    if (pl_backend_open(o->model, &o->backend, &c.b, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    c.n_ctx = o->max_context && o->max_context < c.b->n_ctx ? o->max_context : c.b->n_ctx;
    pl_runtime_opts ro = o->rt;
    if (!ro.budget_tokens) ro.budget_tokens = c.n_ctx;
    if (!o->rt.quiet)
        fprintf(stderr, "qa: %zu questions over %zu documents; answers up to %zu tokens, greedy unless generation_config says otherwise\n",
                c.n_qs, n_docs, qo->max_answer_tokens);
    if (pl_runtime_open(&c.rt, &ro, c.b, "questions", qa_key, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        if (c.rt.writer_started) pl_runtime_close(&c.rt);
        goto out;
    }
    // resume, shards and unknown documents, decided up front; seq = output order
    uint64_t skipped = 0;
    for (size_t i = 0; i < c.n_qs; i++) {
        qa_question *qq = &c.qs[i];
        const char *shard_key = qq->doc >= 0 ? docs[qq->doc] : qq->doc_ref;
        if (!pl_shard_mine(shard_key, strlen(shard_key), o->shard_index, o->shard_count)) { qq->seq = UINT64_MAX; continue; }
        if (pl_keyset_get(c.rt.done, qq->id) > 0) { qq->seq = UINT64_MAX; skipped++; continue; }
        qq->seq = pl_runtime_seq(&c.rt);
        pl_progress_add_total(&c.rt.progress, 1);
        if (qq->doc < 0) {
            json_t *ol = json_object();
            json_object_set_new(ol, "id", json_string(qq->id));
            json_object_set_new(ol, "doc", json_string(qq->doc_ref));
            json_object_set_new(ol, "question", json_string(qq->question));
            json_object_set_new(ol, "answer", json_null());
            char m[600];
            snprintf(m, sizeof m, "document '%.500s' is not among --docs", qq->doc_ref);
            json_object_set_new(ol, "error", json_string(m));
            pl_runtime_emit(&c.rt, pl_result_new(qq->seq, ol, 1));
        }
    }
    // group the pending questions by document (counting sort, question order kept)
    c.first = lj_calloc(n_docs + 2, sizeof *c.first);
    c.order = lj_calloc(c.n_qs ? c.n_qs : 1, sizeof *c.order);
    if (!c.first || !c.order) { fprintf(stderr, "error: out of memory\n"); pl_runtime_close(&c.rt); goto out; }
    for (size_t i = 0; i < c.n_qs; i++)
        if (c.qs[i].doc >= 0 && c.qs[i].seq != UINT64_MAX) c.first[c.qs[i].doc + 1]++;
    for (size_t d = 0; d < n_docs; d++) c.first[d + 1] += c.first[d];
    {
        size_t *fill = lj_calloc(n_docs ? n_docs : 1, sizeof *fill);
        if (!fill) { fprintf(stderr, "error: out of memory\n"); pl_runtime_close(&c.rt); goto out; }
        for (size_t i = 0; i < c.n_qs; i++)
            if (c.qs[i].doc >= 0 && c.qs[i].seq != UINT64_MAX) c.order[c.first[c.qs[i].doc] + fill[c.qs[i].doc]++] = i;
        free(fill);
    }
    pl_progress_skipped(&c.rt.progress, skipped);
    if (skipped && !o->rt.quiet) fprintf(stderr, "resume: %llu questions already answered in the output\n", (unsigned long long)skipped);
    if (pl_runtime_start(&c.rt, worker_main, producer_main, &c, &c.workers, &c.n_workers, &c.producer, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        pl_runtime_close(&c.rt);
        goto out;
    }
    pl_runtime_engine(&c.rt);
    pthread_join(c.producer, NULL);
    rc = pl_runtime_close(&c.rt);
out:
    free(c.workers);
    free(c.first);
    free(c.order);
    if (c.b) pl_backend_close(c.b);
    for (size_t i = 0; i < c.n_qs; i++) { free(c.qs[i].id); free(c.qs[i].doc_ref); free(c.qs[i].question); }
    free(c.qs);
    for (size_t i = 0; c.doc_ids && i < n_docs; i++) free(c.doc_ids[i]);
    free(c.doc_ids);
    return rc;
}
