/* lj_comm for backend memory through the host: download as fp32, host collective, upload. */
#include "kernels/comm.h"

#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct staged_comm {
    lj_comm pub;
    lj_comm *host;
    lj_backend *b;
    float *buf;          /* host staging, grown to the largest collective */
    size_t cap;
} staged_comm;

static int fail(lj_comm *c, const char *what, const char *msg) {
    snprintf(c->err, sizeof c->err, "%s: %.200s", what, msg);
    return -1;
}

static float *stage(staged_comm *s, size_t n) {
    if (n <= s->cap) return s->buf;
    float *p = realloc(s->buf, (n ? n : 1) * sizeof *p);
    if (!p) return NULL;
    s->buf = p;
    s->cap = n;
    return p;
}

static int staged_all_reduce(lj_comm *c, void *buf, lj_dtype dt, size_t n) {
    staged_comm *s = (staged_comm *)c;
    float *h = stage(s, n);
    if (!h) { s->host->abort(s->host, "out of host memory"); return fail(c, "all-reduce", "out of host memory"); }
    if (s->b->download(s->b, h, LJ_F32, buf, dt, n) || s->b->sync(s->b)) {
        s->host->abort(s->host, s->b->err);
        return fail(c, "all-reduce", s->b->err);
    }
    if (s->host->all_reduce_sum(s->host, h, LJ_F32, n)) return fail(c, "all-reduce", s->host->err);
    if (s->b->upload(s->b, buf, dt, h, LJ_F32, n)) return fail(c, "all-reduce", s->b->err);
    return 0;
}

static int staged_all_gather(lj_comm *c, const void *in, void *out, lj_dtype dt, size_t n) {
    staged_comm *s = (staged_comm *)c;
    const size_t W = (size_t)c->world;
    float *h = stage(s, n + W * n);   /* [n] mine | [W, n] everyone's */
    if (!h) { s->host->abort(s->host, "out of host memory"); return fail(c, "all-gather", "out of host memory"); }
    if (s->b->download(s->b, h, LJ_F32, in, dt, n) || s->b->sync(s->b)) {
        s->host->abort(s->host, s->b->err);
        return fail(c, "all-gather", s->b->err);
    }
    if (s->host->all_gather(s->host, h, h + n, LJ_F32, n)) return fail(c, "all-gather", s->host->err);
    if (s->b->upload(s->b, out, dt, h + n, LJ_F32, W * n)) return fail(c, "all-gather", s->b->err);
    return 0;
}

static void staged_abort(lj_comm *c, const char *why) {
    staged_comm *s = (staged_comm *)c;
    s->host->abort(s->host, why);
}

static void staged_free(lj_comm *c) {
    if (!c) return;
    staged_comm *s = (staged_comm *)c;
    s->host->free(s->host);
    free(s->buf);
    free(s);
}

int lj_comm_staged(lj_comm *host, lj_backend *b, lj_comm **out, char *err, size_t errlen) {
    *out = NULL;
    staged_comm *s = calloc(1, sizeof *s);
    if (!s) return lj_errf(err, errlen, "communicator: out of memory");
    s->host = host;
    s->b = b;
    s->pub = (lj_comm){.rank = host->rank, .world = host->world, .all_reduce_sum = staged_all_reduce,
                       .all_gather = staged_all_gather, .abort = staged_abort, .free = staged_free};
    *out = &s->pub;
    return 0;
}
