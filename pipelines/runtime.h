/* The shared batch runtime of run, summarize and qa:
 *
 *   reader (streams the input) ─▶ workers (validate, template, tokenize) ─▶ engine thread
 *   (scheduler: continuous batching) ─▶ writer (appends + flushes one JSON line per result)
 *
 * with bounded queues between the stages and a cap on tasks in flight, so neither a 10 GB request
 * file nor a million documents is ever held in memory.
 *
 * Data parallel: with o.replicas > 1 there is one model replica per engine thread (replica i on
 * GPU i for --device cuda), each with its own scheduler; they take tasks from the one ready queue,
 * so every replica stays busy, and a task's sequences run on the replica that started it. Results,
 * ordering, resume, progress and signals are shared: the output is the one replica's (greedy
 * decoding and per-request seeds do not depend on which replica ran a request). The pipeline-specific parts are tasks
 * (pl_task): a task submits sequences to the engine thread and, when they end, emits its line.
 *
 * Resume: the output (and errors file) is scanned first; complete lines give the keys already done,
 * a torn last line is cut off. Signals: the first SIGINT/SIGTERM stops admitting new work and lets
 * what is in flight finish; a second one aborts in-flight sequences (their lines are not written, so
 * a rerun redoes them). A --deadline expires what is unfinished with a top-level error line. */
#ifndef LJ_PIPELINES_RUNTIME_H
#define LJ_PIPELINES_RUNTIME_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/error.h"
#include "engine/scheduler.h"
#include "pipelines/backend.h"
#include "pipelines/keyset.h"
#include "pipelines/progress.h"
#include "pipelines/queue.h"

/* One output line (owned by whoever holds it; pl_result_free frees it). */
typedef struct pl_result {
    uint64_t seq;            /* order number among the lines of this run (--ordered) */
    char *line;              /* JSON text without the newline */
    int failed;              /* counts as failed; goes to the errors file when there is one */
    int no_count;            /* do not count in progress (e.g. a per-window line) */
    uint64_t tokens_in, tokens_out;
} pl_result;
pl_result *pl_result_new(uint64_t seq, json_t *obj, int failed);   /* takes obj's reference */
void pl_result_free(pl_result *r);

typedef struct pl_engine pl_engine;
typedef struct pl_task pl_task;
struct pl_task {
    uint64_t seq;
    /* Runs on the engine thread: submit sequences with pl_engine_submit. */
    void (*start)(pl_task *t, pl_engine *e);
    /* Frees a task that never started (shutdown). */
    void (*discard)(pl_task *t);
};

/* Why in-flight work ends early. */
enum { PL_RUNNING = 0, PL_STOPPING = 1, PL_ABORTING = 2, PL_EXPIRED = 3 };

typedef struct pl_runtime_opts {
    const char *output;        /* NULL or "-": stdout (no resume) */
    const char *errors_file;   /* failed lines go here when set */
    int ordered, overwrite, retry_errors, quiet;
    size_t max_seqs, budget_tokens, chunk, max_tasks, workers;
    double deadline;           /* seconds from start; 0 = none */
    size_t replicas;           /* model replicas (engine threads); 0/1 = the backend given */
    const char *model;         /* for replicas 1..: opened like the given one, on GPU i for cuda */
    pl_backend_opts backend;
} pl_runtime_opts;

typedef struct pl_runtime pl_runtime;

/* Resume key of one output line: fills *key (malloc'd) and flags. Returns -1 when the line has no
 * key (it is kept, but nothing is skipped for it). */
typedef int (*pl_key_fn)(json_t *line, char **key, int *is_error, int *is_dup);

struct pl_runtime {
    pl_runtime_opts o;
    pl_backend *b;            /* replica 0 (the caller's): also the tokenizer of the workers */
    lj_sched *sched;          /* replica 0's scheduler */
    size_t n_replicas;
    pl_backend **replica;     /* [n_replicas]; [0] = b; the others owned by the runtime */
    lj_sched **scheds;        /* [n_replicas] */
    pl_progress progress;
    pl_keyset *done;          /* keys in the output: value = 1 (result) + 2 * duplicate-error lines */
    FILE *out, *errf;
    pl_queue *work, *ready, *results;
    pthread_t writer;
    int writer_started;
    uint64_t next_seq;        /* reader-side numbering */
    uint64_t lines_written;
    double t0;
    char err[LJ_ERRLEN];
};

/* Opens outputs (resume scan with key_fn, or truncates with --overwrite), makes the scheduler and
 * queues, installs the signal handlers and starts the writer. */
int pl_runtime_open(pl_runtime *rt, const pl_runtime_opts *o, pl_backend *b, const char *what, pl_key_fn key_fn,
                    char *err, size_t errlen);
/* Starts rt->o.workers threads running `worker`, then one running `producer` (which joins the
 * workers when the input ends), all given `arg`; *workers (malloc'd, the caller frees) and
 * *n_workers are set before the producer starts, since it reads them. On failure closes the work
 * and ready queues, joins the workers that started, writes the message and returns -1; the caller
 * still closes the runtime and frees *workers. */
int pl_runtime_start(pl_runtime *rt, void *(*worker)(void *), void *(*producer)(void *), void *arg,
                     pthread_t **workers, size_t *n_workers, pthread_t *producer_thread, char *err, size_t errlen);
/* Runs the engine loops (one per replica: the calling thread runs replica 0) until `ready` is
 * closed and drained (or stop). */
void pl_runtime_engine(pl_runtime *rt);
/* Closes queues, joins the writer, prints the final count, frees everything. Returns the exit status
 * (0 all ok, 3 some failed, 4 interrupted, 1 all failed). */
int pl_runtime_close(pl_runtime *rt);

/* Queue a result line for the writer (takes r). */
void pl_runtime_emit(pl_runtime *rt, pl_result *r);
/* The next order number (reader thread). */
uint64_t pl_runtime_seq(pl_runtime *rt);

/* Engine thread helpers for tasks. */
pl_runtime *pl_engine_runtime(pl_engine *e);
pl_backend *pl_engine_backend(pl_engine *e);       /* the replica this engine thread runs */
lj_sched *pl_engine_sched(pl_engine *e);
void pl_engine_submit(pl_engine *e, lj_seq *q);     /* queued for admission; runs when it fits */
void pl_engine_task_done(pl_engine *e);             /* a started task has emitted its line(s) */
int pl_engine_state(pl_engine *e);                  /* PL_RUNNING / PL_STOPPING / PL_ABORTING / PL_EXPIRED */

/* Stop flags set by signals (0 running, 1 stop admitting, 2 abort). */
int pl_stop_level(void);
void pl_stop_request(int level);

/* Wall-clock ISO-free epoch seconds for "created". */
long pl_unix_time(void);

#endif
