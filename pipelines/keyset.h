/* A string-keyed hash map of small counters (open addressing, FNV-1a 64): the set of ids already in
 * an output (resume), of custom_ids seen (duplicates) and of keys in merged shards. The keys are
 * copied; memory grows with the number of distinct keys only, never with the input size. */
#ifndef LJ_PIPELINES_KEYSET_H
#define LJ_PIPELINES_KEYSET_H

#include <stddef.h>
#include <stdint.h>

uint64_t pl_fnv1a64(const void *data, size_t len);

typedef struct pl_keyset pl_keyset;
pl_keyset *pl_keyset_new(void);
void pl_keyset_free(pl_keyset *k);
/* The counter slot of key (created at 0 when absent; NULL only when out of memory). */
int *pl_keyset_slot(pl_keyset *k, const char *key);
/* The counter of key, or -1 when absent. */
int pl_keyset_get(const pl_keyset *k, const char *key);
size_t pl_keyset_count(const pl_keyset *k);
/* Iterates: returns the i-th occupied key for i in [0, capacity) or NULL for an empty slot. */
size_t pl_keyset_capacity(const pl_keyset *k);
const char *pl_keyset_at(const pl_keyset *k, size_t i, int *value);

/* --shard: "i/n" (0 <= i < n), or "slurm" (SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT, minus
 * SLURM_ARRAY_TASK_MIN when set). Fails with a message on anything else. */
int pl_shard_parse(const char *spec, int *index, int *count, char *err, size_t errlen);
/* True when key belongs to shard index of count (count <= 1: always). */
int pl_shard_mine(const char *key, size_t len, int index, int count);

#endif
