/* A bounded blocking FIFO of pointers between pipeline stages (pthreads). Producers block while it
 * is full, consumers while it is empty; pl_queue_close wakes everyone: pops then drain what is left
 * and return NULL, pushes fail. Ownership: pl_queue_new/pl_queue_free; items stay the caller's. */
#ifndef LJ_PIPELINES_QUEUE_H
#define LJ_PIPELINES_QUEUE_H

#include <stddef.h>

typedef struct pl_queue pl_queue;

pl_queue *pl_queue_new(size_t capacity);
void pl_queue_free(pl_queue *q);
/* 0 when queued, -1 when the queue is closed. */
int pl_queue_push(pl_queue *q, void *item);
/* Next item; NULL when closed and empty. */
void *pl_queue_pop(pl_queue *q);
/* Next item or NULL at once when empty. *closed (may be NULL) says whether it is closed and empty. */
void *pl_queue_trypop(pl_queue *q, int *closed);
void pl_queue_close(pl_queue *q);
size_t pl_queue_length(pl_queue *q);

#endif
