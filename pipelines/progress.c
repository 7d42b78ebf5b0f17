#include "pipelines/progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

void pl_progress_init(pl_progress *p, const char *what, int quiet) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->what = what;
    p->quiet = quiet;
    p->tty = isatty(2);
    p->t0 = p->last_print = lj_now();
}

void pl_progress_destroy(pl_progress *p) { pthread_mutex_destroy(&p->mu); }

void pl_progress_add_total(pl_progress *p, uint64_t n) {
    pthread_mutex_lock(&p->mu);
    p->total += n;
    pthread_mutex_unlock(&p->mu);
}

void pl_progress_set_total_known(pl_progress *p) {
    pthread_mutex_lock(&p->mu);
    p->total_known = 1;
    pthread_mutex_unlock(&p->mu);
}

void pl_progress_skipped(pl_progress *p, uint64_t n) {
    pthread_mutex_lock(&p->mu);
    p->skipped += n;
    pthread_mutex_unlock(&p->mu);
}

void pl_progress_done(pl_progress *p, int failed, uint64_t tokens_in, uint64_t tokens_out) {
    pthread_mutex_lock(&p->mu);
    p->completed++;
    if (failed) p->failed++;
    p->tokens_in += tokens_in;
    p->tokens_out += tokens_out;
    pthread_mutex_unlock(&p->mu);
}

void pl_progress_tick(pl_progress *p, int force) {
    if (p->quiet) return;
    double now = lj_now();
    pthread_mutex_lock(&p->mu);
    double every = p->tty ? 0.25 : 5.0;
    if (!force && now - p->last_print < every) { pthread_mutex_unlock(&p->mu); return; }
    p->last_print = now;
    double el = now - p->t0 > 1e-9 ? now - p->t0 : 1e-9;
    double rps = p->completed / el, tps = p->tokens_out / el;
    char total[32], eta[32] = "?";
    if (p->total_known) {
        snprintf(total, sizeof total, "%llu", (unsigned long long)p->total);
        if (rps > 0) snprintf(eta, sizeof eta, "%.0fs", (double)(p->total - p->completed) / rps);
    } else {
        snprintf(total, sizeof total, "%llu+", (unsigned long long)p->total);
    }
    if (p->tty) {
        int width = 30, fill = p->total_known && p->total ? (int)(width * p->completed / p->total) : 0;
        char bar[64];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r[%s] %llu/%s %s, %llu failed, %.1f tok/s, %.2f req/s, ETA %s   ", bar,
                (unsigned long long)p->completed, total, p->what, (unsigned long long)p->failed, tps, rps, eta);
    } else {
        fprintf(stderr, "progress: %llu/%s %s done, %llu failed, %.1f tok/s, %.2f %s/s, ETA %s\n",
                (unsigned long long)p->completed, total, p->what, (unsigned long long)p->failed, tps, rps, p->what, eta);
    }
    pthread_mutex_unlock(&p->mu);
}

void pl_progress_final(pl_progress *p, int interrupted) {
    double el = lj_now() - p->t0;
    pthread_mutex_lock(&p->mu);
    if (p->tty && !p->quiet) fputc('\n', stderr);
    fprintf(stderr, "{\"total\": %llu, \"completed\": %llu, \"failed\": %llu, \"skipped\": %llu, "
                    "\"tokens_in\": %llu, \"tokens_out\": %llu, \"seconds\": %.3f, \"interrupted\": %s}\n",
            (unsigned long long)p->total, (unsigned long long)p->completed, (unsigned long long)p->failed,
            (unsigned long long)p->skipped, (unsigned long long)p->tokens_in, (unsigned long long)p->tokens_out,
            el, interrupted ? "true" : "false");
    pthread_mutex_unlock(&p->mu);
}
