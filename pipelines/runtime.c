#include "pipelines/runtime.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"

/* ---- signals ------------------------------------------------------------------------------ */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
    (void)sig;
    if (g_stop < 2) g_stop++;
}

int pl_stop_level(void) { return g_stop; }
void pl_stop_request(int level) { if (g_stop < level) g_stop = level; }
long pl_unix_time(void) { return (long)time(NULL); }

static void install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    g_stop = 0;
}

/* ---- results ------------------------------------------------------------------------------ */

pl_result *pl_result_new(uint64_t seq, json_t *obj, int failed) {
    pl_result *r = lj_calloc(1, sizeof *r);
    if (r) {
        r->seq = seq;
        r->failed = failed;
        r->line = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    }
    json_decref(obj);
    if (r && !r->line) { free(r); r = NULL; }
    return r;
}

void pl_result_free(pl_result *r) {
    if (!r) return;
    free(r->line);
    free(r);
}

void pl_runtime_emit(pl_runtime *rt, pl_result *r) {
    if (!r) {   // out of memory building the line: count it so the run does not claim success
        pl_progress_done(&rt->progress, 1, 0, 0);
        return;
    }
    if (pl_queue_push(rt->results, r)) pl_result_free(r);
}

uint64_t pl_runtime_seq(pl_runtime *rt) { return rt->next_seq++; }

/* ---- resume -------------------------------------------------------------------------------- */

/* Reads `path` line by line: complete lines give done keys; a torn or unparsable last line is cut
 * off. With retry_errors the file is rewritten without its error lines. */
static int scan_output(pl_runtime *rt, const char *path, pl_key_fn key_fn, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 0;
        return lj_errf(err, errlen, "%s: %s", path, strerror(errno));
    }
    char tmp[4096];
    FILE *keep = NULL;
    if (rt->o.retry_errors) {
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        if (!(keep = fopen(tmp, "wb"))) { fclose(f); return lj_errf(err, errlen, "%s: %s", tmp, strerror(errno)); }
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, dropped = 0;
    ssize_t n;
    long good_end = 0;   // byte offset after the last good line
    int torn = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        long start = good_end;
        if (line[n - 1] != '\n') { torn = 1; break; }
        json_error_t je;
        json_t *j = json_loadb(line, (size_t)n, 0, &je);
        if (!j) {
            int c = fgetc(f);
            if (c == EOF) { torn = 1; break; }   // a broken last line: the write was cut
            ungetc(c, f);
            fprintf(stderr, "warning: %s: line %zu: not JSON (%s); kept as is\n", path, lineno, je.text);
            good_end = start + n;
            if (keep) fwrite(line, 1, (size_t)n, keep);
            continue;
        }
        char *key = NULL;
        int is_error = 0, is_dup = 0;
        int has_key = key_fn(j, &key, &is_error, &is_dup) == 0;
        json_decref(j);
        good_end = start + n;
        if (has_key && is_error && rt->o.retry_errors) { dropped++; free(key); continue; }
        if (keep) fwrite(line, 1, (size_t)n, keep);
        if (has_key) {
            int *v = pl_keyset_slot(rt->done, key);
            if (v) *v += is_dup ? 2 : ((*v & 1) ? 0 : 1);
        }
        free(key);
    }
    free(line);
    fclose(f);
    if (keep) {
        if (fclose(keep) || rename(tmp, path)) return lj_errf(err, errlen, "%s: rewrite: %s", path, strerror(errno));
        if (dropped) fprintf(stderr, "resume: %s: %zu error lines removed for --retry-errors\n", path, dropped);
    } else if (torn) {
        if (truncate(path, good_end)) return lj_errf(err, errlen, "%s: truncate torn last line: %s", path, strerror(errno));
        fprintf(stderr, "resume: %s: cut a torn last line at byte %ld\n", path, good_end);
    }
    return 0;
}

/* ---- writer -------------------------------------------------------------------------------- */

static void write_result(pl_runtime *rt, pl_result *r) {
    FILE *f = r->failed && rt->errf ? rt->errf : rt->out;
    size_t len = strlen(r->line);
    r->line[len] = '\n';   // one write per line, so a kill leaves at most one torn line
    if (fwrite(r->line, 1, len + 1, f) != len + 1 || fflush(f))
        fprintf(stderr, "error: writing output: %s\n", strerror(errno));
    r->line[len] = 0;
    rt->lines_written++;
    if (!r->no_count) pl_progress_done(&rt->progress, r->failed, r->tokens_in, r->tokens_out);
}

static void *writer_main(void *arg) {
    pl_runtime *rt = arg;
    pl_result **held = NULL;   // --ordered: results waiting for earlier ones, sorted by seq
    size_t nheld = 0, capheld = 0;
    uint64_t next = 0;
    for (;;) {
        int closed = 0;
        pl_result *r = pl_queue_trypop(rt->results, &closed);
        if (!r) {
            if (closed) break;
            pl_progress_tick(&rt->progress, 0);
            usleep(10000);
            continue;
        }
        if (!rt->o.ordered) { write_result(rt, r); pl_result_free(r); continue; }
        if (nheld == capheld) {
            size_t c = capheld ? capheld * 2 : 64;
            pl_result **p = realloc(held, c * sizeof *p);
            if (!p) { write_result(rt, r); pl_result_free(r); continue; }
            held = p;
            capheld = c;
        }
        size_t i = nheld;
        while (i > 0 && held[i - 1]->seq > r->seq) { held[i] = held[i - 1]; i--; }
        held[i] = r;
        nheld++;
        size_t k = 0;
        while (k < nheld && held[k]->seq == next) { write_result(rt, held[k]); pl_result_free(held[k]); k++; next++; }
        if (k) { memmove(held, held + k, (nheld - k) * sizeof *held); nheld -= k; }
    }
    for (size_t i = 0; i < nheld; i++) { write_result(rt, held[i]); pl_result_free(held[i]); }   // gaps: dropped on stop
    free(held);
    pl_progress_tick(&rt->progress, 1);
    return NULL;
}

/* ---- open / close -------------------------------------------------------------------------- */

int pl_runtime_open(pl_runtime *rt, const pl_runtime_opts *o, pl_backend *b, const char *what, pl_key_fn key_fn,
                    char *err, size_t errlen) {
    memset(rt, 0, sizeof *rt);
    rt->o = *o;
    rt->b = b;
    rt->t0 = lj_now();
    if (!rt->o.max_seqs) rt->o.max_seqs = 8;
    if (!rt->o.max_tasks) rt->o.max_tasks = rt->o.max_seqs * 4;
    if (!rt->o.workers) rt->o.workers = 2;
    pl_progress_init(&rt->progress, what, o->quiet);
    rt->done = pl_keyset_new();
    if (!rt->done) return lj_errf(err, errlen, "out of memory");
    int to_stdout = !o->output || !strcmp(o->output, "-");
    if (!to_stdout && !o->overwrite) {
        if (scan_output(rt, o->output, key_fn, err, errlen)) return -1;
        if (o->errors_file && scan_output(rt, o->errors_file, key_fn, err, errlen)) return -1;
    }
    const char *mode = o->overwrite ? "wb" : "ab";
    rt->out = to_stdout ? stdout : fopen(o->output, mode);
    if (!rt->out) return lj_errf(err, errlen, "%s: %s", o->output, strerror(errno));
    if (o->errors_file && !(rt->errf = fopen(o->errors_file, mode)))
        return lj_errf(err, errlen, "%s: %s", o->errors_file, strerror(errno));
    rt->n_replicas = rt->o.replicas > 1 ? rt->o.replicas : 1;
    rt->replica = lj_calloc(rt->n_replicas, sizeof *rt->replica);
    rt->scheds = lj_calloc(rt->n_replicas, sizeof *rt->scheds);
    if (!rt->replica || !rt->scheds) return lj_errf(err, errlen, "out of memory");
    rt->replica[0] = b;
    for (size_t i = 1; i < rt->n_replicas; i++) {
        pl_backend_opts bo = rt->o.backend;
        if (bo.device && !strcmp(bo.device, "cuda")) bo.gpu = (int)i;
        if (pl_backend_open(rt->o.model, &bo, &rt->replica[i], err, errlen))
            return lj_err_prefix(err, errlen, "replica %zu of %zu%s", i, rt->n_replicas,
                                 bo.device && !strcmp(bo.device, "cuda") ? " (GPU)" : "");
    }
    lj_sched_opts so = {rt->o.max_seqs, rt->o.budget_tokens, rt->o.chunk};
    for (size_t i = 0; i < rt->n_replicas; i++)
        if (lj_sched_new(&rt->replica[i]->model, &so, &rt->scheds[i], err, errlen)) return -1;
    rt->sched = rt->scheds[0];
    rt->work = pl_queue_new(64);
    rt->ready = pl_queue_new(rt->o.max_tasks);
    rt->results = pl_queue_new(256);
    if (!rt->work || !rt->ready || !rt->results) return lj_errf(err, errlen, "out of memory");
    install_signals();
    if (pthread_create(&rt->writer, NULL, writer_main, rt)) return lj_errf(err, errlen, "cannot start the writer thread");
    rt->writer_started = 1;
    return 0;
}

int pl_runtime_close(pl_runtime *rt) {
    if (rt->results) pl_queue_close(rt->results);
    if (rt->writer_started) pthread_join(rt->writer, NULL);
    int interrupted = pl_stop_level() > 0;
    pl_progress_final(&rt->progress, interrupted);
    if (rt->out && rt->out != stdout) fclose(rt->out);
    else if (rt->out) fflush(rt->out);
    if (rt->errf) fclose(rt->errf);
    for (size_t i = 0; rt->scheds && i < rt->n_replicas; i++) lj_sched_free(rt->scheds[i]);
    for (size_t i = 1; rt->replica && i < rt->n_replicas; i++) pl_backend_close(rt->replica[i]);
    free(rt->scheds);
    free(rt->replica);
    pl_queue_free(rt->work);
    pl_queue_free(rt->ready);
    pl_queue_free(rt->results);
    pl_keyset_free(rt->done);
    int rc = 0;
    if (interrupted) rc = 4;
    else if (rt->progress.failed && rt->progress.failed == rt->progress.completed) rc = 1;
    else if (rt->progress.failed) rc = 3;
    pl_progress_destroy(&rt->progress);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    return rc;
}

/* ---- engine loop --------------------------------------------------------------------------- */

struct pl_engine {
    pl_runtime *rt;
    pl_backend *b;        /* this engine thread's replica */
    lj_sched *sched;
    lj_seq **pend;        /* ring of sequences waiting for admission */
    size_t head, n, cap;
    size_t in_flight;     /* started tasks that have not called pl_engine_task_done */
    int state;
};

pl_runtime *pl_engine_runtime(pl_engine *e) { return e->rt; }
pl_backend *pl_engine_backend(pl_engine *e) { return e->b; }
lj_sched *pl_engine_sched(pl_engine *e) { return e->sched; }
int pl_engine_state(pl_engine *e) { return e->state; }
void pl_engine_task_done(pl_engine *e) { if (e->in_flight) e->in_flight--; }

void pl_engine_submit(pl_engine *e, lj_seq *q) {
    if (e->n == e->cap) {
        size_t c = e->cap ? e->cap * 2 : 64;
        lj_seq **p = malloc(c * sizeof *p);
        if (!p) {
            snprintf(q->err, sizeof q->err, "out of memory");
            q->finish = LJ_FINISH_ERROR;
            if (q->state) { e->b->model.state_free(e->b->model.ctx, q->state); q->state = NULL; }
            if (q->on_done) q->on_done(q);
            return;
        }
        for (size_t i = 0; i < e->n; i++) p[i] = e->pend[(e->head + i) % e->cap];
        free(e->pend);
        e->pend = p;
        e->head = 0;
        e->cap = c;
    }
    e->pend[(e->head + e->n) % e->cap] = q;
    e->n++;
}

static lj_seq *pend_front(pl_engine *e) { return e->n ? e->pend[e->head] : NULL; }
static void pend_pop(pl_engine *e) { e->head = (e->head + 1) % e->cap; e->n--; }

static void admit(pl_engine *e) {
    lj_sched *s = e->sched;
    lj_seq *q;
    while ((q = pend_front(e)) && (lj_sched_active(s) == 0 || lj_sched_can_admit(s, q->capacity))) {
        pend_pop(e);
        lj_sched_submit(s, q);   // may finish it at once (error), whose task may submit more
    }
}

/* Ends everything in flight: running and waiting sequences finish as aborted. */
static void abort_all(pl_engine *e) {
    lj_sched_abort_all(e->sched);
    while (e->n) {
        lj_seq *q = pend_front(e);
        pend_pop(e);
        snprintf(q->err, sizeof q->err, "aborted");
        q->finish = LJ_FINISH_ABORTED;
        if (q->state) { e->b->model.state_free(e->b->model.ctx, q->state); q->state = NULL; }
        if (q->on_done) q->on_done(q);
    }
}

int pl_runtime_start(pl_runtime *rt, void *(*worker)(void *), void *(*producer)(void *), void *arg,
                     pthread_t **workers, size_t *n_workers, pthread_t *producer_thread, char *err, size_t errlen) {
    size_t want = rt->o.workers, started = 0;
    *workers = lj_calloc(want, sizeof **workers);
    for (; *workers && started < want; started++)
        if (pthread_create(&(*workers)[started], NULL, worker, arg)) break;
    *n_workers = started;
    if (started && !pthread_create(producer_thread, NULL, producer, arg)) return 0;
    pl_queue_close(rt->work);
    pl_queue_close(rt->ready);
    for (size_t i = 0; i < started; i++) pthread_join((*workers)[i], NULL);
    return lj_errf(err, errlen, "cannot start threads");
}

typedef struct engine_arg { pl_runtime *rt; size_t replica; } engine_arg;
static void engine_loop(pl_runtime *rt, size_t replica);
static void *engine_main(void *p) {
    engine_arg *a = p;
    engine_loop(a->rt, a->replica);
    return NULL;
}

void pl_runtime_engine(pl_runtime *rt) {
    size_t n = rt->n_replicas ? rt->n_replicas : 1, started = 1;
    pthread_t *th = n > 1 ? lj_calloc(n, sizeof *th) : NULL;
    engine_arg *args = n > 1 ? lj_calloc(n, sizeof *args) : NULL;
    for (size_t i = 1; th && args && i < n; i++) {
        args[i] = (engine_arg){rt, i};
        if (pthread_create(&th[i], NULL, engine_main, &args[i])) {
            fprintf(stderr, "warning: replica %zu: cannot start its engine thread; going on with %zu\n", i, i);
            break;
        }
        started++;
    }
    engine_loop(rt, 0);
    for (size_t i = 1; i < started; i++) pthread_join(th[i], NULL);
    free(th);
    free(args);
}

static void engine_loop(pl_runtime *rt, size_t replica) {
    pl_engine e = {.rt = rt, .b = rt->replica ? rt->replica[replica] : rt->b,
                   .sched = rt->scheds ? rt->scheds[replica] : rt->sched};
    lj_sched *s = e.sched;
    for (;;) {
        int stop = pl_stop_level();
        if (stop >= 2 && e.state != PL_ABORTING) { e.state = PL_ABORTING; abort_all(&e); }
        else if (stop == 1 && e.state == PL_RUNNING) e.state = PL_STOPPING;
        if (rt->o.deadline > 0 && e.state == PL_RUNNING && lj_now() - rt->t0 > rt->o.deadline) {
            e.state = PL_EXPIRED;
            abort_all(&e);
        }
        admit(&e);
        if (e.state == PL_RUNNING || e.state == PL_EXPIRED) {
            // take new tasks while nothing waits for admission and the cap on tasks allows
            while (e.n == 0 && e.in_flight < rt->o.max_tasks) {
                pl_task *t = pl_queue_trypop(rt->ready, NULL);
                if (!t) break;
                e.in_flight++;
                t->start(t, &e);
                admit(&e);
            }
        }
        if (lj_sched_active(s) > 0) {
            lj_sched_step(s);
            pl_progress_tick(&rt->progress, 0);
            continue;
        }
        if (e.n > 0) continue;   // admit() takes the first one now that nothing runs
        if (e.state == PL_RUNNING || e.state == PL_EXPIRED) {
            pl_task *t = pl_queue_pop(rt->ready);   // idle: wait for work (NULL: input done)
            if (!t) break;
            if (pl_stop_level() > 0) { t->discard(t); continue; }
            e.in_flight++;
            t->start(t, &e);
            continue;
        }
        // stopping/aborting with nothing in flight: drop what was never started
        pl_task *t;
        while ((t = pl_queue_pop(rt->ready))) t->discard(t);
        break;
    }
    free(e.pend);
}
