/* Progress on stderr: done of total, failed, tokens/s, requests/s, ETA. A bar redrawn in place when
 * stderr is a terminal, a plain line every few seconds otherwise, and a final
 * {"total", "completed", "failed", ...} line. Thread-safe counters; one thread calls pl_progress_tick. */
#ifndef LJ_PIPELINES_PROGRESS_H
#define LJ_PIPELINES_PROGRESS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pl_progress {
    pthread_mutex_t mu;
    const char *what;        /* "requests", "documents", "questions" */
    int quiet, tty, total_known;
    uint64_t total, completed, failed, skipped, tokens_in, tokens_out;
    double t0, last_print;
} pl_progress;

void pl_progress_init(pl_progress *p, const char *what, int quiet);
void pl_progress_destroy(pl_progress *p);
void pl_progress_add_total(pl_progress *p, uint64_t n);
void pl_progress_set_total_known(pl_progress *p);
void pl_progress_skipped(pl_progress *p, uint64_t n);
void pl_progress_done(pl_progress *p, int failed, uint64_t tokens_in, uint64_t tokens_out);
/* Prints when due (force: now). */
void pl_progress_tick(pl_progress *p, int force);
/* The final count line (printed even when quiet, as it is the run's summary). */
void pl_progress_final(pl_progress *p, int interrupted);

#endif
