/* longjam summarize: map-reduce over token windows.
 *   map:    each window of the document → a summary (one call when the document fits one window);
 *   reduce: the summaries, joined, → one summary; when they do not fit one window they are combined
 *           in groups, level after level. Every summary is at most max_summary_tokens and a window
 *           holds at least two of them (checked up front), so each level strictly shrinks the list:
 *           the recursion always ends.
 * Inputs: document files (cut into windows here) or windows.jsonl from `longjam ingest`
 * ({"doc", "path", "window", "text", "tokens", "token_range", "char_range", "pages"}), whose
 * consecutive lines with the same "doc" form one document.
 * One line per document: {"doc", "path", "summary", "windows", "pages", "tokens_in", "tokens_out",
 * "seconds"} (plus "error" when it failed). Shards and resume go by the document's path. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"
#include "pipelines/docs.h"
#include "pipelines/pipelines.h"

typedef struct ids { int32_t *p; size_t n; } ids;

typedef struct sum_ctx {
    pl_runtime rt;
    const pl_common_opts *o;
    const pl_summarize_opts *so;
    pl_backend *b;
    size_t n_ctx, window;   /* window: tokens of content per prompt */
    ids map_pre, red_pre, suf, sep;
    char **paths;
    size_t n_paths;
    pthread_t producer, *workers;
    size_t n_workers;
    pl_keyset *offered;     /* paths handed out in this run: a path given twice is done once */
} sum_ctx;

typedef struct sum_doc sum_doc;
typedef struct sum_call {
    lj_seq q;
    sum_doc *d;
    size_t slot;
    ids prompt;
    ids out;
    size_t cap_out;
} sum_call;

struct sum_doc {
    pl_task task;
    sum_ctx *c;
    pl_engine *e;
    char *doc, *path;
    int pages;
    size_t n_windows;
    ids *parts;            /* current level's inputs (windows, then summaries) */
    size_t n_parts;
    sum_call *calls;
    size_t n_calls, remaining, level;
    uint64_t tokens_in, tokens_out;
    double t0;
    char err[600];
};

typedef struct sum_item {   /* reader → worker */
    char *path, *doc;
    int pages;
    char **texts;           /* windows.jsonl: the window texts; NULL for a document file */
    size_t n_texts;
} sum_item;

static int sum_key(json_t *line, char **key, int *is_error, int *is_dup) {
    json_t *p = json_object_get(line, "path"), *e = json_object_get(line, "error");
    *is_dup = 0;
    *is_error = e && !json_is_null(e);
    if (!json_is_string(p)) return -1;
    *key = strdup(json_string_value(p));
    return *key ? 0 : -1;
}

static void ids_free(ids *x) { free(x->p); x->p = NULL; x->n = 0; }

static int ids_cat(ids *dst, const ids *parts, size_t n) {
    size_t tot = 0;
    for (size_t i = 0; i < n; i++) tot += parts[i].n;
    int32_t *p = malloc((tot ? tot : 1) * sizeof *p);
    if (!p) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].n) memcpy(p + k, parts[i].p, parts[i].n * sizeof *p);   // an empty summary has no buffer
        k += parts[i].n;
    }
    dst->p = p;
    dst->n = tot;
    return 0;
}

static void calls_free(sum_doc *d) {
    for (size_t i = 0; i < d->n_calls; i++) { ids_free(&d->calls[i].prompt); ids_free(&d->calls[i].out); }
    free(d->calls);
    d->calls = NULL;
    d->n_calls = 0;
}

static void doc_free(sum_doc *d) {
    if (!d) return;
    calls_free(d);
    for (size_t i = 0; i < d->n_parts; i++) ids_free(&d->parts[i]);
    free(d->parts);
    free(d->doc);
    free(d->path);
    free(d);
}

static void doc_emit(sum_doc *d, const char *summary, const char *error) {
    json_t *o = json_object();
    json_object_set_new(o, "doc", json_string(d->doc));
    json_object_set_new(o, "path", json_string(d->path));
    json_object_set_new(o, "summary", summary ? json_string(summary) : json_null());
    json_object_set_new(o, "windows", json_integer((json_int_t)d->n_windows));
    json_object_set_new(o, "pages", json_integer(d->pages));
    json_object_set_new(o, "tokens_in", json_integer((json_int_t)d->tokens_in));
    json_object_set_new(o, "tokens_out", json_integer((json_int_t)d->tokens_out));
    json_object_set_new(o, "seconds", json_real(lj_now() - d->t0));
    if (error) json_object_set_new(o, "error", json_string(error));
    pl_result *r = pl_result_new(d->task.seq, o, error != NULL);
    if (r) { r->tokens_in = d->tokens_in; r->tokens_out = d->tokens_out; }
    pl_runtime_emit(&d->c->rt, r);
}

static void doc_end(sum_doc *d) {
    pl_engine_task_done(d->e);
    doc_free(d);
}

static int call_token(lj_seq *q, int32_t t, int is_eos, const float *logits) {
    sum_call *k = q->user;
    if (is_eos) return 0;
    if (k->out.n == k->cap_out) {
        size_t cap = k->cap_out ? k->cap_out * 2 : 64;
        int32_t *p = realloc(k->out.p, cap * sizeof *p);
        if (!p) return 1;
        k->out.p = p;
        k->cap_out = cap;
    }
    k->out.p[k->out.n++] = t;
    return 0;
}

static void call_done(lj_seq *q);

/* Submits one call per group of parts: each group's content fits one window. */
static void submit_level(sum_doc *d) {
    sum_ctx *c = d->c;
    int reduce = d->level > 0;
    const ids *pre = reduce ? &c->red_pre : &c->map_pre;
    // group the parts greedily; the map level has one part per call
    size_t *start = malloc((d->n_parts + 1) * sizeof *start), groups = 0;
    if (!start) { doc_emit(d, NULL, "out of memory"); doc_end(d); return; }
    for (size_t i = 0; i < d->n_parts;) {
        start[groups++] = i;
        size_t used = d->parts[i].n;
        i++;
        while (reduce && i < d->n_parts && used + c->sep.n + d->parts[i].n <= c->window) used += c->sep.n + d->parts[i++].n;
    }
    start[groups] = d->n_parts;
    d->calls = lj_calloc(groups, sizeof *d->calls);
    if (!d->calls) { free(start); doc_emit(d, NULL, "out of memory"); doc_end(d); return; }
    d->n_calls = groups;
    d->remaining = groups;
    for (size_t g = 0; g < groups; g++) {
        sum_call *k = &d->calls[g];
        ids pieces[2 + 2 * 64];
        ids *dyn = NULL, *pp = pieces;
        size_t np = 0, want = 2 + 2 * (start[g + 1] - start[g]);
        if (want > sizeof pieces / sizeof pieces[0]) pp = dyn = malloc(want * sizeof *dyn);
        if (!pp) { free(start); doc_emit(d, NULL, "out of memory"); d->remaining = 0; calls_free(d); doc_end(d); return; }
        pp[np++] = *pre;
        for (size_t i = start[g]; i < start[g + 1]; i++) {
            if (i > start[g]) pp[np++] = c->sep;
            pp[np++] = d->parts[i];
        }
        pp[np++] = c->suf;
        int rc = ids_cat(&k->prompt, pp, np);
        free(dyn);
        if (rc) { free(start); doc_emit(d, NULL, "out of memory"); d->remaining = 0; calls_free(d); doc_end(d); return; }
        k->d = d;
        k->slot = g;
        size_t max_new = c->so->max_summary_tokens;
        k->q = (lj_seq){.prompt = k->prompt.p, .n_prompt = k->prompt.n, .capacity = k->prompt.n + max_new,
                        .max_new = max_new, .sampling = c->b->defaults, .eos = c->b->eos, .n_eos = c->b->n_eos,
                        .on_token = call_token, .on_done = call_done, .user = k};
        d->tokens_in += k->prompt.n;
    }
    free(start);
    size_t n = d->n_calls;
    sum_call *calls = d->calls;
    for (size_t g = 0; g < n; g++) pl_engine_submit(d->e, &calls[g].q);
}

static void call_done(lj_seq *q) {
    sum_call *k = q->user;
    sum_doc *d = k->d;
    d->tokens_out += q->n_out;
    if (q->finish == LJ_FINISH_ERROR && !d->err[0]) snprintf(d->err, sizeof d->err, "%s", q->err);
    if (q->finish == LJ_FINISH_ABORTED && !d->err[0])
        snprintf(d->err, sizeof d->err, "%s", pl_engine_state(d->e) == PL_EXPIRED ? "deadline expired" : "\x01");
    if (--d->remaining) return;
    if (d->err[0]) {
        if (d->err[0] != 1) doc_emit(d, NULL, d->err);   // interrupted: no line, a rerun redoes it
        doc_end(d);
        return;
    }
    // this level's outputs become the next level's parts
    for (size_t i = 0; i < d->n_parts; i++) ids_free(&d->parts[i]);
    free(d->parts);
    d->n_parts = d->n_calls;
    d->parts = lj_calloc(d->n_parts, sizeof *d->parts);
    if (!d->parts) { d->n_parts = 0; doc_emit(d, NULL, "out of memory"); doc_end(d); return; }
    for (size_t i = 0; i < d->n_calls; i++) { d->parts[i] = d->calls[i].out; d->calls[i].out = (ids){0}; }
    calls_free(d);
    if (d->n_parts == 1 && (d->level > 0 || d->n_windows == 1)) {
        char *text = NULL, err[256];
        if (d->c->b->decode(d->c->b, d->parts[0].p, d->parts[0].n, &text, err, sizeof err)) doc_emit(d, NULL, err);
        else doc_emit(d, text, NULL);
        free(text);
        doc_end(d);
        return;
    }
    d->level++;
    submit_level(d);
}

static void doc_start(pl_task *t, pl_engine *e) {
    sum_doc *d = (sum_doc *)t;
    d->e = e;
    d->t0 = lj_now();
    if (d->err[0] || pl_engine_state(e) == PL_EXPIRED) {
        doc_emit(d, NULL, d->err[0] ? d->err : "deadline expired");
        doc_end(d);
        return;
    }
    submit_level(d);
}

static void doc_discard(pl_task *t) { doc_free((sum_doc *)t); }

/* Worker: tokenizes a document (or its windows) into window parts. */
static sum_doc *doc_prepare(sum_ctx *c, sum_item *it, uint64_t seq) {
    sum_doc *d = lj_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->c = c;
    d->task.seq = seq;
    d->task.start = doc_start;
    d->task.discard = doc_discard;
    d->doc = it->doc;
    d->path = it->path;
    it->doc = it->path = NULL;
    d->pages = it->pages;
    char err[LJ_ERRLEN];
    if (it->texts) {
        d->parts = lj_calloc(it->n_texts ? it->n_texts : 1, sizeof *d->parts);
        if (!d->parts) { snprintf(d->err, sizeof d->err, "out of memory"); return d; }
        for (size_t i = 0; i < it->n_texts; i++) {
            ids x;
            if (c->b->encode(c->b, it->texts[i], strlen(it->texts[i]), 0, &x.p, &x.n, err, sizeof err)) {
                snprintf(d->err, sizeof d->err, "window %zu: %.500s", i, err);
                return d;
            }
            if (x.n > c->window) x.n = c->window;   // a window cut for another context: keep what fits
            d->parts[d->n_parts++] = x;
        }
    } else {
        char **texts = NULL;
        size_t nt = 0;
        if (pl_doc_windows(d->path, c->b, c->window, c->so->overlap_tokens, &texts, &nt, &d->pages, err, sizeof err)) {
            snprintf(d->err, sizeof d->err, "%.590s", err);
            return d;
        }
        d->parts = lj_calloc(nt ? nt : 1, sizeof *d->parts);
        for (size_t i = 0; i < nt; i++) {
            ids x = {0};
            if (d->parts && !d->err[0] && c->b->encode(c->b, texts[i], strlen(texts[i]), 0, &x.p, &x.n, err, sizeof err))
                snprintf(d->err, sizeof d->err, "%s: window %zu: %.500s", d->path, i, err);
            else if (d->parts && !d->err[0]) {
                if (x.n > c->window) x.n = c->window;
                d->parts[d->n_parts++] = x;
                x.p = NULL;
            }
            free(x.p);
            free(texts[i]);
        }
        free(texts);
        if (!d->parts) snprintf(d->err, sizeof d->err, "out of memory");
        if (d->err[0]) return d;
    }
    d->n_windows = d->n_parts;
    if (d->n_parts == 0 || (d->n_parts == 1 && d->parts[0].n == 0)) snprintf(d->err, sizeof d->err, "%s: the document is empty", d->path);
    return d;
}

static void item_free(sum_item *it) {
    for (size_t i = 0; i < it->n_texts; i++) free(it->texts[i]);
    free(it->texts);
    free(it->path);
    free(it->doc);
    free(it);
}

typedef struct { sum_item *it; uint64_t seq; } sum_work;

static void *worker_main(void *arg) {
    sum_ctx *c = arg;
    sum_work *w;
    while ((w = pl_queue_pop(c->rt.work))) {
        if (pl_stop_level() == 0) {
            sum_doc *d = doc_prepare(c, w->it, w->seq);
            if (!d) pl_runtime_emit(&c->rt, NULL);
            else if (pl_queue_push(c->rt.ready, d)) doc_free(d);
        }
        item_free(w->it);
        free(w);
    }
    return NULL;
}

/* Hands one document to the workers unless a shard or the output already has it. */
static int offer(sum_ctx *c, sum_item *it, uint64_t *skipped) {
    if (!pl_shard_mine(it->path, strlen(it->path), c->o->shard_index, c->o->shard_count)) { item_free(it); return 0; }
    if (pl_keyset_get(c->rt.done, it->path) > 0) { (*skipped)++; item_free(it); return 0; }
    int *seen = c->offered ? pl_keyset_slot(c->offered, it->path) : NULL;
    if (seen && (*seen)++) {
        fprintf(stderr, "warning: %s given twice; summarized once\n", it->path);
        item_free(it);
        return 0;
    }
    sum_work *w = malloc(sizeof *w);
    if (!w) { item_free(it); return -1; }
    w->it = it;
    w->seq = pl_runtime_seq(&c->rt);
    pl_progress_add_total(&c->rt.progress, 1);
    if (pl_queue_push(c->rt.work, w)) { item_free(it); free(w); return -1; }
    return 0;
}

static int json_pages(json_t *p) {
    // "pages": [first, last] or a count
    if (json_is_integer(p)) return (int)json_integer_value(p);
    if (json_is_array(p) && json_array_size(p) >= 2 && json_is_integer(json_array_get(p, 1))) return (int)json_integer_value(json_array_get(p, 1));
    return 0;
}

/* windows.jsonl: consecutive lines with the same "doc" are one document. */
static void read_windows(sum_ctx *c, const char *file, uint64_t *skipped) {
    FILE *f = fopen(file, "rb");
    if (!f) { fprintf(stderr, "error: %s: cannot open\n", file); return; }
    char *line = NULL;
    size_t cap = 0, line_no = 0, tcap = 0;
    ssize_t n;
    sum_item *cur = NULL;
    while (pl_stop_level() == 0 && (n = getline(&line, &cap, f)) > 0) {
        line_no++;
        if (strspn(line, " \t\r\n") == (size_t)n) continue;
        json_error_t je;
        json_t *j = json_loadb(line, (size_t)n, 0, &je);
        json_t *doc = json_object_get(j, "doc"), *text = json_object_get(j, "text"), *path = json_object_get(j, "path");
        if (!j || !(json_is_string(doc) || json_is_integer(doc)) || !json_is_string(text)) {
            fprintf(stderr, "warning: %s: line %zu: not a window line ({\"doc\", \"text\", ...}); skipped\n", file, line_no);
            json_decref(j);
            continue;
        }
        char docb[64];
        const char *docs = json_is_string(doc) ? json_string_value(doc) : (snprintf(docb, sizeof docb, "%lld", (long long)json_integer_value(doc)), docb);
        if (cur && strcmp(cur->doc, docs)) { offer(c, cur, skipped); cur = NULL; }
        if (!cur) {
            cur = lj_calloc(1, sizeof *cur);
            if (!cur) { json_decref(j); break; }
            cur->doc = strdup(docs);
            cur->path = strdup(json_is_string(path) ? json_string_value(path) : docs);
            cur->texts = NULL;
            tcap = 0;
        }
        if (cur->n_texts == tcap) {
            tcap = tcap ? tcap * 2 : 8;
            char **p = realloc(cur->texts, tcap * sizeof *p);
            if (!p) { json_decref(j); break; }
            cur->texts = p;
        }
        cur->texts[cur->n_texts++] = strdup(json_string_value(text));
        int pg = json_pages(json_object_get(j, "pages"));
        if (pg > cur->pages) cur->pages = pg;
        json_decref(j);
    }
    if (cur) offer(c, cur, skipped);
    free(line);
    fclose(f);
}

static void *producer_main(void *arg) {
    sum_ctx *c = arg;
    uint64_t skipped = 0;
    c->offered = pl_keyset_new();
    for (size_t i = 0; i < c->n_paths && pl_stop_level() == 0; i++) {
        if (pl_doc_is_windows(c->paths[i])) { read_windows(c, c->paths[i], &skipped); continue; }
        sum_item *it = lj_calloc(1, sizeof *it);
        if (!it || !(it->path = strdup(c->paths[i])) || !(it->doc = pl_doc_id(c->paths[i]))) { if (it) item_free(it); break; }
        offer(c, it, &skipped);
    }
    pl_keyset_free(c->offered);
    c->offered = NULL;
    pl_progress_skipped(&c->rt.progress, skipped);
    if (skipped && !c->rt.o.quiet) fprintf(stderr, "resume: %llu documents already summarized in the output\n", (unsigned long long)skipped);
    if (pl_stop_level() == 0) pl_progress_set_total_known(&c->rt.progress);
    pl_queue_close(c->rt.work);
    for (size_t i = 0; i < c->n_workers; i++) pthread_join(c->workers[i], NULL);
    pl_queue_close(c->rt.ready);
    return NULL;
}

static int encode_str(pl_backend *b, const char *s, ids *out, char *err, size_t errlen) {
    return b->encode(b, s, strlen(s), 0, &out->p, &out->n, err, errlen);
}

int pl_summarize(const pl_common_opts *o, const pl_summarize_opts *so, char **paths, size_t n_paths) {
    char err[LJ_ERRLEN];
    sum_ctx c = {.o = o, .so = so, .paths = paths, .n_paths = n_paths};
    int rc = 1;
    pl_docs_init();
    if (pl_backend_open(o->model, &o->backend, &c.b, err, sizeof err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    c.n_ctx = o->max_context && o->max_context < c.b->n_ctx ? o->max_context : c.b->n_ctx;
    char pre[1024];
    snprintf(pre, sizeof pre, "%s%s\n\n", pl_chat_user_prefix(), so->instruction);
    if (encode_str(c.b, pre, &c.map_pre, err, sizeof err)) goto fail;
    snprintf(pre, sizeof pre, "%sCombine these partial summaries of one document into a single summary.\n\n", pl_chat_user_prefix());
    if (encode_str(c.b, pre, &c.red_pre, err, sizeof err)) goto fail;
    if (encode_str(c.b, pl_chat_user_suffix(), &c.suf, err, sizeof err)) goto fail;
    if (encode_str(c.b, "\n\n", &c.sep, err, sizeof err)) goto fail;
    size_t over = (c.map_pre.n > c.red_pre.n ? c.map_pre.n : c.red_pre.n) + c.suf.n + so->max_summary_tokens;
    if (over >= c.n_ctx) { lj_errf(err, sizeof err, "--max-summary-tokens %zu + the prompt (%zu) leave no room in the context of %zu", so->max_summary_tokens, over - so->max_summary_tokens, c.n_ctx); goto fail; }
    c.window = so->window_tokens ? so->window_tokens : c.n_ctx - over;
    if (c.window > c.n_ctx - over) c.window = c.n_ctx - over;
    // a window must hold two summaries, so that each reduce level shrinks the list
    if (c.window < 2 * so->max_summary_tokens + c.sep.n) {
        lj_errf(err, sizeof err, "window of %zu tokens cannot combine two summaries of %zu tokens (raise --window-tokens or lower --max-summary-tokens)",
                c.window, so->max_summary_tokens);
        goto fail;
    }
    pl_runtime_opts ro = o->rt;
    if (!ro.budget_tokens) ro.budget_tokens = c.n_ctx;
    if (!o->rt.quiet)
        fprintf(stderr, "summarize: windows of %zu tokens (overlap %zu), summaries up to %zu tokens, greedy unless generation_config says otherwise\n",
                c.window, so->overlap_tokens, so->max_summary_tokens);
    if (pl_runtime_open(&c.rt, &ro, c.b, "documents", sum_key, err, sizeof err)) {
        if (c.rt.writer_started) pl_runtime_close(&c.rt);
        goto fail;
    }
    if (pl_runtime_start(&c.rt, worker_main, producer_main, &c, &c.workers, &c.n_workers, &c.producer, err, sizeof err)) {
        pl_runtime_close(&c.rt);
        goto fail;
    }
    pl_runtime_engine(&c.rt);
    pthread_join(c.producer, NULL);
    rc = pl_runtime_close(&c.rt);
    goto out;
fail:
    fprintf(stderr, "error: %s\n", err);
out:
    free(c.workers);
    ids_free(&c.map_pre);
    ids_free(&c.red_pre);
    ids_free(&c.suf);
    ids_free(&c.sep);
    pl_backend_close(c.b);
    return rc;
}
