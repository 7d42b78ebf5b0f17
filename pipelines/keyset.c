#include "pipelines/keyset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

uint64_t pl_fnv1a64(const void *data, size_t len) {
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
    return h;
}

typedef struct { char *key; uint64_t hash; int value; } slot;
struct pl_keyset { slot *s; size_t cap, n; };

pl_keyset *pl_keyset_new(void) {
    pl_keyset *k = lj_calloc(1, sizeof *k);
    if (!k) return NULL;
    k->cap = 64;
    k->s = lj_calloc(k->cap, sizeof *k->s);
    if (!k->s) { free(k); return NULL; }
    return k;
}

void pl_keyset_free(pl_keyset *k) {
    if (!k) return;
    for (size_t i = 0; i < k->cap; i++) free(k->s[i].key);
    free(k->s);
    free(k);
}

static size_t find(const slot *s, size_t cap, const char *key, uint64_t h) {
    size_t i = h & (cap - 1);
    while (s[i].key && (s[i].hash != h || strcmp(s[i].key, key))) i = (i + 1) & (cap - 1);
    return i;
}

static int grow(pl_keyset *k) {
    size_t cap = k->cap * 2;
    slot *s = lj_calloc(cap, sizeof *s);
    if (!s) return -1;
    for (size_t i = 0; i < k->cap; i++)
        if (k->s[i].key) s[find(s, cap, k->s[i].key, k->s[i].hash)] = k->s[i];
    free(k->s);
    k->s = s;
    k->cap = cap;
    return 0;
}

int *pl_keyset_slot(pl_keyset *k, const char *key) {
    if ((k->n + 1) * 2 > k->cap && grow(k)) return NULL;
    uint64_t h = pl_fnv1a64(key, strlen(key));
    size_t i = find(k->s, k->cap, key, h);
    if (!k->s[i].key) {
        if (!(k->s[i].key = strdup(key))) return NULL;
        k->s[i].hash = h;
        k->s[i].value = 0;
        k->n++;
    }
    return &k->s[i].value;
}

int pl_keyset_get(const pl_keyset *k, const char *key) {
    size_t i = find(k->s, k->cap, key, pl_fnv1a64(key, strlen(key)));
    return k->s[i].key ? k->s[i].value : -1;
}

size_t pl_keyset_count(const pl_keyset *k) { return k->n; }
size_t pl_keyset_capacity(const pl_keyset *k) { return k->cap; }
const char *pl_keyset_at(const pl_keyset *k, size_t i, int *value) {
    if (i >= k->cap || !k->s[i].key) return NULL;
    if (value) *value = k->s[i].value;
    return k->s[i].key;
}

static int parse_int(const char *s, long *v) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return errno || *end ? -1 : 0;
}

int pl_shard_parse(const char *spec, int *index, int *count, char *err, size_t errlen) {
    long i, n;
    if (!spec || !*spec) return lj_errf(err, errlen, "--shard: empty (want I/N or slurm)");
    if (!strcmp(spec, "slurm")) {
        const char *id = getenv("SLURM_ARRAY_TASK_ID"), *cnt = getenv("SLURM_ARRAY_TASK_COUNT");
        const char *mn = getenv("SLURM_ARRAY_TASK_MIN");
        if (parse_int(id, &i)) return lj_errf(err, errlen, "--shard slurm: SLURM_ARRAY_TASK_ID is unset or not a number ('%s')", id ? id : "");
        if (parse_int(cnt, &n)) return lj_errf(err, errlen, "--shard slurm: SLURM_ARRAY_TASK_COUNT is unset or not a number ('%s')", cnt ? cnt : "");
        long m = 0;
        if (mn && parse_int(mn, &m)) return lj_errf(err, errlen, "--shard slurm: SLURM_ARRAY_TASK_MIN is not a number ('%s')", mn);
        i -= m;
    } else {
        const char *slash = strchr(spec, '/');
        if (!slash) return lj_errf(err, errlen, "--shard '%s': want I/N (e.g. 0/4) or slurm", spec);
        char a[32];
        size_t la = (size_t)(slash - spec);
        if (la == 0 || la >= sizeof a) return lj_errf(err, errlen, "--shard '%s': bad index", spec);
        memcpy(a, spec, la);
        a[la] = 0;
        if (parse_int(a, &i) || parse_int(slash + 1, &n)) return lj_errf(err, errlen, "--shard '%s': want I/N with integers", spec);
    }
    if (n < 1 || n > 1000000) return lj_errf(err, errlen, "--shard: shard count %ld out of range [1, 1000000]", n);
    if (i < 0 || i >= n) return lj_errf(err, errlen, "--shard: index %ld out of range [0, %ld)", i, n);
    *index = (int)i;
    *count = (int)n;
    return 0;
}

int pl_shard_mine(const char *key, size_t len, int index, int count) {
    if (count <= 1) return 1;
    return pl_fnv1a64(key, len) % (uint64_t)count == (uint64_t)index;
}
