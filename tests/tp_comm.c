/* The CPU communicator (kernels/cpu/comm_cpu.c), against hand-computed values:
 *   - all-reduce over 1, 2, 3 and 4 ranks, sizes 0, 1, 7 (not a multiple of the world) and 4099:
 *     rank r holds buf[i] = (r + 1) * 1000 + i, so every rank must end with
 *     Σ_r (r + 1) * 1000 + world * i, exactly (small integers in fp32);
 *   - results bitwise identical on every rank for values whose sum depends on order;
 *   - all-gather: out[r * n + i] = rank r's in[i];
 *   - abort: a rank that fails while the others wait in an all-reduce releases them with an error
 *     naming it, and later collectives fail at once (no hang: the test would time out);
 *   - the same sums and gathers through lj_comm_staged (host copies of backend memory, what device
 *     ranks use), here over CPU backends. */
#include "kernels/backend_open.h"
#include "kernels/comm.h"
#include "test_util.h"

#include "common/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rank_arg {
    lj_comm *c;
    size_t n;
    int fail_rank;      /* this rank aborts instead of reducing (-1: none) */
    float *buf, *gathered;
    int rc_reduce, rc_gather, rc_after;
    char err[256];
} rank_arg;

static void *rank_main(void *p) {
    rank_arg *a = p;
    const int r = a->c->rank;
    for (size_t i = 0; i < a->n; i++) a->buf[i] = (float)((r + 1) * 1000 + (int)i);
    if (r == a->fail_rank) {
        a->c->abort(a->c, "disk on fire");
        a->rc_reduce = -1;
        return NULL;
    }
    a->rc_reduce = a->c->all_reduce_sum(a->c, a->buf, LJ_F32, a->n);
    snprintf(a->err, sizeof a->err, "%s", a->c->err);
    if (a->fail_rank >= 0) { a->rc_after = a->c->all_reduce_sum(a->c, a->buf, LJ_F32, a->n); return NULL; }
    float *mine = malloc((a->n ? a->n : 1) * sizeof *mine);
    for (size_t i = 0; i < a->n; i++) mine[i] = (float)(r * 100000 + (int)i);
    a->rc_gather = a->c->all_gather(a->c, mine, a->gathered, LJ_F32, a->n);
    free(mine);
    return NULL;
}

static void run_group(int world, size_t n, int fail_rank, int staged) {
    char err[LJ_ERRLEN];
    lj_comm *c[8];
    lj_backend *be[8] = {0};
    CHECKF(!lj_comm_cpu_group(world, c, err, sizeof err), "group of %d: %s", world, err);
    for (int r = 0; staged && r < world; r++) {
        lj_comm *host = c[r];
        CHECKF(!lj_backend_open("cpu", 1, 0, &be[r], err, sizeof err) && !lj_comm_staged(host, be[r], &c[r], err, sizeof err),
               "staged rank %d: %s", r, err);
    }
    rank_arg a[8];
    pthread_t th[8];
    for (int r = 0; r < world; r++) {
        a[r] = (rank_arg){.c = c[r], .n = n, .fail_rank = fail_rank};
        a[r].buf = malloc((n ? n : 1) * sizeof(float));
        a[r].gathered = malloc((world * n > 0 ? (size_t)world * n : 1) * sizeof(float));
        pthread_create(&th[r], NULL, rank_main, &a[r]);
    }
    for (int r = 0; r < world; r++) pthread_join(th[r], NULL);
    for (int r = 0; r < world; r++) {
        if (fail_rank >= 0) {
            if (r == fail_rank) continue;
            CHECKF(a[r].rc_reduce == -1 && strstr(a[r].err, "aborted by rank") && strstr(a[r].err, "disk on fire"),
                   "world %d: rank %d after rank %d aborted: rc %d, '%s'", world, r, fail_rank, a[r].rc_reduce, a[r].err);
            CHECKF(a[r].rc_after == -1, "world %d: rank %d: a collective after the abort did not fail", world, r);
            continue;
        }
        CHECKF(a[r].rc_reduce == 0 && a[r].rc_gather == 0, "world %d n %zu rank %d: rc %d/%d (%s)", world, n, r,
               a[r].rc_reduce, a[r].rc_gather, a[r].err);
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
            float want = (float)(1000 * world * (world + 1) / 2 + world * (int)i);
            if (a[r].buf[i] != want) bad++;
            for (int q = 0; q < world; q++)
                if (a[r].gathered[(size_t)q * n + i] != (float)(q * 100000 + (int)i)) bad++;
        }
        CHECKF(!bad, "world %d n %zu rank %d: %d wrong values", world, n, r, bad);
    }
    for (int r = 0; r < world; r++) {
        free(a[r].buf); free(a[r].gathered); c[r]->free(c[r]);
        if (be[r]) be[r]->destroy(be[r]);
    }
}

/* Values whose fp32 sum depends on the order: every rank must still get the same bits. */
typedef struct order_arg { lj_comm *c; float v[64]; int rc; } order_arg;
static void *order_main(void *p) {
    order_arg *a = p;
    for (int i = 0; i < 64; i++) a->v[i] = (a->c->rank % 2 ? 1e8f : 1.0f) / (float)(i + 1 + a->c->rank);
    a->rc = a->c->all_reduce_sum(a->c, a->v, LJ_F32, 64);
    return NULL;
}

int main(void) {
    for (int world = 1; world <= 4; world++) {
        const size_t sizes[] = {0, 1, 7, 4099};
        for (size_t k = 0; k < 4; k++) run_group(world, sizes[k], -1, 0);
        run_group(world, 1031, -1, 1);
    }
    run_group(4, 1000, 2, 0);
    run_group(2, 10, 0, 0);
    run_group(3, 100, 1, 1);

    char err[LJ_ERRLEN];
    lj_comm *c[4];
    CHECKF(!lj_comm_cpu_group(4, c, err, sizeof err), "%s", err);
    order_arg a[4];
    pthread_t th[4];
    for (int r = 0; r < 4; r++) { a[r].c = c[r]; pthread_create(&th[r], NULL, order_main, &a[r]); }
    for (int r = 0; r < 4; r++) pthread_join(th[r], NULL);
    for (int r = 0; r < 4; r++) {
        CHECKF(a[r].rc == 0, "order: rank %d failed", r);
        CHECKF(!memcmp(a[r].v, a[0].v, sizeof a[0].v), "order: rank %d's sums differ from rank 0's", r);
    }
    for (int r = 0; r < 4; r++) c[r]->free(c[r]);
    CHECKF(lj_comm_cpu_group(0, c, err, sizeof err) == -1 && strstr(err, "0 ranks"), "a group of 0 ranks: %s", err);
    return test_finish("tp_comm");
}
