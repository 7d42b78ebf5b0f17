#include "pipelines/queue.h"

#include <pthread.h>
#include <stdlib.h>

#include "common/util.h"

struct pl_queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    void **items;   // ring of cap
    size_t cap, head, len;
    int closed;
};

pl_queue *pl_queue_new(size_t capacity) {
    pl_queue *q = lj_calloc(1, sizeof *q);
    if (!q) return NULL;
    q->cap = capacity ? capacity : 1;
    q->items = lj_calloc(q->cap, sizeof *q->items);
    if (!q->items) { free(q); return NULL; }
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    return q;
}

void pl_queue_free(pl_queue *q) {
    if (!q) return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->items);
    free(q);
}

int pl_queue_push(pl_queue *q, void *item) {
    pthread_mutex_lock(&q->mu);
    while (q->len == q->cap && !q->closed) pthread_cond_wait(&q->not_full, &q->mu);
    if (q->closed) { pthread_mutex_unlock(&q->mu); return -1; }
    q->items[(q->head + q->len) % q->cap] = item;
    q->len++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

static void *take(pl_queue *q) {
    void *it = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    pthread_cond_signal(&q->not_full);
    return it;
}

void *pl_queue_pop(pl_queue *q) {
    pthread_mutex_lock(&q->mu);
    while (q->len == 0 && !q->closed) pthread_cond_wait(&q->not_empty, &q->mu);
    void *it = q->len ? take(q) : NULL;
    pthread_mutex_unlock(&q->mu);
    return it;
}

void *pl_queue_trypop(pl_queue *q, int *closed) {
    pthread_mutex_lock(&q->mu);
    void *it = q->len ? take(q) : NULL;
    if (closed) *closed = !it && q->closed;
    pthread_mutex_unlock(&q->mu);
    return it;
}

void pl_queue_close(pl_queue *q) {
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

size_t pl_queue_length(pl_queue *q) {
    pthread_mutex_lock(&q->mu);
    size_t n = q->len;
    pthread_mutex_unlock(&q->mu);
    return n;
}
