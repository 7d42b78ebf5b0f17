/* lj_comm over threads of one process: ranks publish their buffer pointers, meet at a barrier and
 * read each other's memory directly. All-reduce: rank r sums the r-th segment over all ranks in rank
 * order (deterministic), then writes it into every rank's buffer; three barriers in all. */
#include "kernels/comm.h"

#include "common/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMM_MAX_WORLD 64

typedef struct cpu_group {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int world, arrived, refs, aborted;
    unsigned long gen;                      /* barrier generation */
    char why[200];
    const void *src[COMM_MAX_WORLD];        /* per rank: the collective's input */
    void *dst[COMM_MAX_WORLD];              /* per rank: its output */
} cpu_group;

typedef struct cpu_comm {
    lj_comm pub;
    cpu_group *g;
} cpu_comm;

static int fail(lj_comm *c, const char *msg) {
    snprintf(c->err, sizeof c->err, "%s", msg);
    return -1;
}

/* Waits until every rank arrives; -1 when the group was aborted (before or while waiting). */
static int barrier(lj_comm *c) {
    cpu_group *g = ((cpu_comm *)c)->g;
    pthread_mutex_lock(&g->mu);
    if (!g->aborted) {
        unsigned long my = g->gen;
        if (++g->arrived == g->world) {
            g->arrived = 0;
            g->gen++;
            pthread_cond_broadcast(&g->cv);
        } else {
            while (g->gen == my && !g->aborted) pthread_cond_wait(&g->cv, &g->mu);
        }
    }
    int aborted = g->aborted;
    char why[sizeof g->why];
    memcpy(why, g->why, sizeof why);
    pthread_mutex_unlock(&g->mu);
    return aborted ? fail(c, why) : 0;
}

static int cpu_all_reduce_sum(lj_comm *c, void *buf, lj_dtype dt, size_t n) {
    cpu_group *g = ((cpu_comm *)c)->g;
    if (dt != LJ_F32) return fail(c, "cpu all-reduce: only fp32 buffers (the CPU backend's activations)");
    const size_t W = (size_t)g->world, r = (size_t)c->rank;
    const size_t a = n * r / W, b = n * (r + 1) / W;     /* this rank's segment [a, b) */
    float *sum = malloc((b - a ? b - a : 1) * sizeof *sum);
    if (!sum) { c->abort(c, "cpu all-reduce: out of memory"); return fail(c, "cpu all-reduce: out of memory"); }
    g->dst[r] = buf;
    int rc = barrier(c);
    if (!rc) {
        for (size_t i = a; i < b; i++) sum[i - a] = ((const float *)g->dst[0])[i];
        for (size_t q = 1; q < W; q++)
            for (size_t i = a; i < b; i++) sum[i - a] += ((const float *)g->dst[q])[i];
        rc = barrier(c);                                  /* every segment summed: buffers may change */
    }
    if (!rc) {
        for (size_t q = 0; q < W; q++) memcpy((float *)g->dst[q] + a, sum, (b - a) * sizeof *sum);
        rc = barrier(c);                                  /* every rank's buffer complete */
    }
    free(sum);
    return rc;
}

static int cpu_all_gather(lj_comm *c, const void *in, void *out, lj_dtype dt, size_t n) {
    cpu_group *g = ((cpu_comm *)c)->g;
    const size_t es = lj_dtype_size(dt), W = (size_t)g->world;
    if (!es) return fail(c, "cpu all-gather: unknown dtype");
    g->src[c->rank] = in;
    int rc = barrier(c);
    if (!rc) {
        for (size_t q = 0; q < W; q++) memcpy((char *)out + q * n * es, g->src[q], n * es);
        rc = barrier(c);                                  /* nobody reuses `in` before all have read it */
    }
    return rc;
}

static void cpu_abort(lj_comm *c, const char *why) {
    cpu_group *g = ((cpu_comm *)c)->g;
    pthread_mutex_lock(&g->mu);
    if (!g->aborted) {
        g->aborted = 1;
        snprintf(g->why, sizeof g->why, "aborted by rank %d: %s", c->rank, why ? why : "failed");
    }
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void cpu_free(lj_comm *c) {
    if (!c) return;
    cpu_group *g = ((cpu_comm *)c)->g;
    pthread_mutex_lock(&g->mu);
    int last = --g->refs == 0;
    pthread_mutex_unlock(&g->mu);
    if (last) {
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
        free(g);
    }
    free(c);
}

int lj_comm_cpu_group(int world, lj_comm **ranks, char *err, size_t errlen) {
    if (world < 1 || world > COMM_MAX_WORLD)
        return lj_errf(err, errlen, "communicator: %d ranks (want 1 to %d)", world, COMM_MAX_WORLD);
    cpu_group *g = calloc(1, sizeof *g);
    if (!g) return lj_errf(err, errlen, "communicator: out of memory");
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->world = world;
    for (int r = 0; r < world; r++) {
        cpu_comm *c = calloc(1, sizeof *c);
        if (!c) {
            for (int q = 0; q < r; q++) cpu_free(ranks[q]);
            if (r == 0) { pthread_mutex_destroy(&g->mu); pthread_cond_destroy(&g->cv); free(g); }
            return lj_errf(err, errlen, "communicator: out of memory");
        }
        c->g = g;
        c->pub = (lj_comm){.rank = r, .world = world, .all_reduce_sum = cpu_all_reduce_sum,
                           .all_gather = cpu_all_gather, .abort = cpu_abort, .free = cpu_free};
        g->refs++;
        ranks[r] = &c->pub;
    }
    return 0;
}
