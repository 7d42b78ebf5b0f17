/* Fork-join pool: workers sleep on a condition variable, wake on a new generation, take chunks
 * from an atomic counter, and the last one to finish signals the caller. */
#include "kernels/cpu/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct cpu_pool {
    int threads;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    unsigned long generation;
    int busy;            /* workers still in the current job */
    int stop;
    /* current job */
    pool_fn fn;
    void *arg;
    size_t n, grain;
    atomic_size_t next;
};

static void run_chunks(cpu_pool *p) {
    for (;;) {
        size_t b = atomic_fetch_add(&p->next, p->grain);
        if (b >= p->n) break;
        size_t e = b + p->grain < p->n ? b + p->grain : p->n;
        p->fn(p->arg, b, e);
    }
}

static void *worker(void *arg) {
    cpu_pool *p = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_chunks(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

cpu_pool *pool_new(int threads) {
    if (threads < 1) threads = 1;
    cpu_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->tid = calloc((size_t)threads, sizeof *p->tid);
    if (!p->tid) { free(p); return NULL; }
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&p->tid[i], NULL, worker, p) != 0) {
            p->threads = i;   /* run with what started */
            break;
        }
    }
    return p;
}

void pool_free(cpu_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->threads; i++) pthread_join(p->tid[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->tid);
    free(p);
}

int pool_threads(const cpu_pool *p) { return p->threads; }

void pool_for(cpu_pool *p, size_t n, size_t grain, pool_fn fn, void *arg) {
    if (n == 0) return;
    if (grain == 0) grain = (n + (size_t)p->threads - 1) / (size_t)p->threads;
    if (p->threads == 1 || n <= grain) { fn(arg, 0, n); return; }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->grain = grain;
    atomic_store(&p->next, 0);
    p->busy = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_chunks(p);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
