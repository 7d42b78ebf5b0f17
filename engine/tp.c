/* Tensor + expert parallelism inside one process: a group model holds `world` rank models, each
 * with its own backend and its share of the weights (tp_split), joined by a communicator
 * (kernels/comm.h). Every public call on the group fans out to the ranks, one thread each, which
 * run the ordinary forward (model.c) with its collectives:
 *
 *   attention  q/k/v column-parallel by head (whole GQA groups), o_proj row-parallel → all-reduce
 *   Mamba      in_proj column-parallel (x and z halves), conv/scan per channel, x_proj row-parallel
 *              → all-reduce before the dt/B/C norms, out_proj row-parallel → all-reduce
 *   dense MLP  gate/up column-parallel, down row-parallel → all-reduce
 *   MoE        router replicated, experts split between ranks → all-reduce of the block's output
 *   lm_head    split by vocabulary → all-gather
 *
 * The residual stream, norms and embeddings are replicated, and every all-reduce lands the same
 * bytes on every rank, so ranks never drift apart. A sequence state of the group is one state per
 * rank (each rank's KV heads and Mamba channels). */
#include "engine/model_internal.h"

#include "common/error.h"
#include "common/util.h"
#include "kernels/backend_open.h"
#include "kernels/cuda/cuda_plugin.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool any_layer(const lj_config *c, bool (*is)(const lj_config *, size_t)) {
    for (size_t l = 0; l < c->num_hidden_layers; l++)
        if (is(c, l)) return true;
    return false;
}
static bool is_mamba(const lj_config *c, size_t l) { return !config_layer_is_attention(c, l); }
static bool is_dense(const lj_config *c, size_t l) { return !config_layer_is_moe(c, l); }

/* count / world for rank r, or an error naming the dimension. */
static int share(size_t count, int rank, int world, const char *what, size_t *first, size_t *n, char *err,
                 size_t errlen) {
    if (count % (size_t)world)
        return lj_errf(err, errlen, "tensor parallel over %d ranks: %s (%zu) is not a multiple of %d", world, what,
                       count, world);
    *n = count / (size_t)world;
    *first = (size_t)rank * *n;
    return 0;
}

int tp_split_of(const lj_config *c, int rank, int world, tp_split *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    s->rank = rank;
    s->world = world;
    const size_t QH = c->num_attention_heads, KVH = c->num_key_value_heads;
    if (any_layer(c, config_layer_is_attention)) {
        if (share(QH, rank, world, "num_attention_heads", &s->q0, &s->qn, err, errlen)) return -1;
        const size_t group = QH / KVH;   /* query heads per KV head (config.c checks KVH divides QH) */
        if (s->qn % group == 0) {         /* whole GQA groups per rank */
            s->kvn = s->qn / group;
            s->kv0 = s->q0 / group;
        } else if (group % s->qn == 0) {  /* more ranks than KV heads: each rank keeps the one it needs */
            s->kvn = 1;
            s->kv0 = s->q0 / group;
        } else {
            return lj_errf(err, errlen,
                           "tensor parallel over %d ranks: %zu query heads per rank split the GQA groups of %zu "
                           "heads unevenly (num_attention_heads %zu, num_key_value_heads %zu)",
                           world, s->qn, group, QH, KVH);
        }
    } else {   /* no attention layer: the head counts size nothing */
        s->qn = QH;
        s->kvn = KVH;
    }
    if (any_layer(c, is_mamba)) {
        if (share(c->mamba_d_inner, rank, world, "mamba_d_inner (mamba_expand x hidden_size)", &s->d0, &s->dn, err,
                  errlen))
            return -1;
    } else {
        s->dn = c->mamba_d_inner;
    }
    if (any_layer(c, is_dense)) {
        if (share(c->intermediate_size, rank, world, "intermediate_size", &s->i0, &s->in, err, errlen)) return -1;
    } else {
        s->in = c->intermediate_size;
    }
    if (any_layer(c, config_layer_is_moe)) {
        if (share(c->num_experts, rank, world, "num_experts", &s->e0, &s->en, err, errlen)) return -1;
    } else {
        s->en = c->num_experts;
    }
    return share(c->vocab_size, rank, world, "vocab_size", &s->v0, &s->vn, err, errlen);
}

/* ---- group load / free ------------------------------------------------------------------------- */

void tp_group_free(lj_model *g) {
    for (int r = 0; r < g->tp.world; r++) {
        if (!g->ranks[r]) continue;
        lj_comm *c = g->ranks[r]->comm;
        lj_model_free(g->ranks[r]);
        if (c) c->free(c);
    }
    free(g->ranks);
    free(g);
}

/* LONGJAM_COMM=nccl: the device ranks' host-staged communicators are replaced by an NCCL group
 * (the CUDA plugin's comm_nccl.cu; one GPU per rank). Opt-in: it has not yet run on a machine
 * with several GPUs; unset, or any other value, keeps the host copies. An explicit request that
 * cannot be met is an error, not a silent fallback. */
static int use_nccl(lj_model *g, int W, const char *dev, char *err, size_t errlen) {
    const char *want = getenv("LONGJAM_COMM");
    if (!want || strcmp(want, "nccl")) return 0;
    if (strcmp(dev, "cuda"))
        return lj_errf(err, errlen, "LONGJAM_COMM=nccl: device %s (NCCL serves --device cuda)", dev);
    const ljc_api *api = ljc_api_get(err, errlen);
    if (!api) return -1;
    lj_backend **bes = lj_calloc((size_t)W, sizeof *bes);
    lj_comm **nc = lj_calloc((size_t)W, sizeof *nc);
    if (!bes || !nc) { free(bes); free(nc); return lj_errf(err, errlen, "out of memory"); }
    for (int r = 0; r < W; r++) bes[r] = g->ranks[r]->be;
    int rc = api->comm_nccl_group(W, bes, nc, err, errlen);
    if (!rc)
        for (int r = 0; r < W; r++) {   /* the staged ones (and their host group) go */
            lj_comm *old = g->ranks[r]->comm;
            g->ranks[r]->comm = nc[r];
            if (old) old->free(old);
        }
    free(bes);
    free(nc);
    return rc;
}

int tp_group_load(const char *dir, const lj_load_opts *o, lj_model **out, char *err, size_t errlen) {
    *out = NULL;
    const int W = o->tp;
    const char *dev = o->device ? o->device : "cpu";
    const bool host = !strcmp(dev, "cpu");
    /* device ranks: rank r on GPU (gpu + r) mod the visible count; their collectives go through
     * host copies (lj_comm_staged) — correct on any number of GPUs, one included — or, with
     * LONGJAM_COMM=nccl and one GPU per rank, through NCCL (see use_nccl) */
    int n_dev = 1;
    if (!host && (n_dev = lj_backend_device_count(dev, err, errlen)) < 1)
        return n_dev < 0 ? -1 : lj_errf(err, errlen, "--tp %d --device %s: no device visible", W, dev);
    lj_model *g = lj_calloc(1, sizeof *g);
    lj_comm **comms = lj_calloc((size_t)W, sizeof *comms);
    if (!g || !comms || !(g->ranks = lj_calloc((size_t)W, sizeof *g->ranks))) {
        free(g ? g->ranks : NULL); free(g); free(comms);
        return lj_errf(err, errlen, "out of memory");
    }
    g->tp.world = W;
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (config_load(path, &g->cfg, err, errlen) || generation_config_load(dir, &g->cfg, &g->gen, err, errlen)) goto fail;
    tp_split sp[64];
    if (W > 64) { lj_errf(err, errlen, "--tp %d: at most 64 ranks", W); goto fail; }
    for (int r = 0; r < W; r++)
        if (tp_split_of(&g->cfg, r, W, &sp[r], err, errlen)) { lj_err_prefix(err, errlen, "%s", dir); goto fail; }
    if (lj_comm_cpu_group(W, comms, err, errlen)) goto fail;
    lj_load_opts ro = *o;
    ro.tp = 0;
    ro.threads = o->threads > 0 ? (o->threads + W - 1) / W : 0;
    if (!ro.threads) {
        int n = lj_cpu_count() / W;
        ro.threads = n > 0 ? n : 1;
    }
    for (int r = 0; r < W; r++) {
        ro.gpu = (o->gpu + r) % n_dev;
        if (model_load_rank(dir, &ro, &sp[r], host ? comms[r] : NULL, &g->ranks[r], err, errlen) ||
            (!host && lj_comm_staged(comms[r], g->ranks[r]->be, &g->ranks[r]->comm, err, errlen))) {
            lj_err_prefix(err, errlen, "tensor-parallel rank %d of %d", r, W);
            goto fail;
        }
        comms[r] = NULL;   /* owned by the rank model now (freed by tp_group_free) */
    }
    if (!host && use_nccl(g, W, dev, err, errlen)) {
        lj_err_prefix(err, errlen, "--tp %d", W);
        goto fail;
    }
    g->expert_dtype = g->ranks[0]->expert_dtype;
    g->plan = g->ranks[0]->plan;
    for (int r = 0; r < W; r++) g->weight_bytes += g->ranks[r]->weight_bytes;
    snprintf(g->backend_name, sizeof g->backend_name, "%s x%d (tensor parallel)", g->ranks[0]->be->name, W);
    free(comms);
    *out = g;
    return 0;
fail:
    /* comms not yet handed to a rank model */
    for (int r = 0; r < W; r++) {
        if (!comms[r]) continue;
        if (g->ranks[r]) g->ranks[r]->comm = NULL;
        comms[r]->free(comms[r]);
    }
    free(comms);
    tp_group_free(g);
    return -1;
}

/* ---- group forward ----------------------------------------------------------------------------- */

typedef struct rank_job {
    lj_model *m;
    lj_seq_step *steps;
    size_t n_steps;
    float *logits, *hidden;
    int want_logits, rc;
    char err[LJ_ERRLEN];
} rank_job;

static void *rank_run(void *arg) {
    rank_job *j = arg;
    j->rc = model_forward(j->m, j->steps, j->n_steps, j->logits, j->want_logits, j->hidden, j->err, sizeof j->err);
    return NULL;
}

int tp_group_forward(lj_model *g, lj_seq_step *steps, size_t n_steps, float *logits, float *hidden, char *err,
                     size_t errlen) {
    const int W = g->tp.world;
    if (g->broken) return lj_errf(err, errlen, "forward: this tensor-parallel model failed earlier: load it again");
    if (n_steps == 0) return 0;
    for (size_t s = 0; s < n_steps; s++)
        if (!steps[s].state || steps[s].state->m != g)
            return lj_errf(err, errlen, "forward: entry %zu has no state of this model", s);
    rank_job *jobs = lj_calloc((size_t)W, sizeof *jobs);
    lj_seq_step *rs = lj_calloc((size_t)W * n_steps, sizeof *rs);
    pthread_t *th = lj_calloc((size_t)W, sizeof *th);
    bool *started = lj_calloc((size_t)W, sizeof *started);
    if (!jobs || !rs || !th || !started) {
        free(jobs); free(rs); free(th); free(started);
        return lj_errf(err, errlen, "forward: out of memory");
    }
    for (int r = 0; r < W; r++) {
        for (size_t s = 0; s < n_steps; s++) {
            rs[(size_t)r * n_steps + s] = steps[s];
            rs[(size_t)r * n_steps + s].state = steps[s].state->ranks[r];
        }
        /* rank 0 hands back logits and hidden states: the residual stream is replicated */
        jobs[r] = (rank_job){.m = g->ranks[r], .steps = rs + (size_t)r * n_steps, .n_steps = n_steps,
                             .logits = r == 0 ? logits : NULL, .hidden = r == 0 ? hidden : NULL,
                             .want_logits = logits != NULL};
    }
    for (int r = 1; r < W; r++) {
        started[r] = pthread_create(&th[r], NULL, rank_run, &jobs[r]) == 0;
        if (!started[r]) {   /* without this rank the others would wait forever: release them */
            g->ranks[r]->comm->abort(g->ranks[r]->comm, "could not start its thread");
            snprintf(jobs[r].err, sizeof jobs[r].err, "could not start its thread");
            jobs[r].rc = -1;
        }
    }
    rank_run(&jobs[0]);
    for (int r = 1; r < W; r++)
        if (started[r]) pthread_join(th[r], NULL);
    int rc = 0, first = -1;
    for (int r = 0; r < W; r++) {
        if (!jobs[r].rc) continue;
        rc = -1;
        /* report the rank that failed, not the ranks it released */
        if (first < 0 || (strstr(jobs[first].err, "aborted by rank") && !strstr(jobs[r].err, "aborted by rank")))
            first = r;
    }
    if (rc) {
        lj_errf(err, errlen, "%s", jobs[first].err);
        int failed = 0;
        for (int r = 0; r < W; r++) {
            failed += jobs[r].rc != 0;
            if (strstr(jobs[r].err, "aborted by rank")) g->broken = 1;
        }
        /* some ranks finished the step and others did not: their states no longer agree (under
         * NCCL a rank whose collectives were queued before an abort returns without an error) */
        if (failed < W) g->broken = 1;
    } else {
        for (size_t s = 0; s < n_steps; s++) steps[s].state->len += steps[s].n_tokens;
    }
    free(jobs); free(rs); free(th); free(started);
    return rc;
}

/* ---- group states ------------------------------------------------------------------------------ */

void tp_state_free(lj_state *s) {
    for (int r = 0; r < s->m->tp.world; r++) lj_state_free(s->ranks[r]);
    free(s->ranks);
    free(s);
}

int tp_state_new(lj_model *g, size_t max_tokens, const lj_state *src, lj_state **out, char *err, size_t errlen) {
    *out = NULL;
    const int W = g->tp.world;
    lj_state *s = lj_calloc(1, sizeof *s);
    if (!s || !(s->ranks = lj_calloc((size_t)W, sizeof *s->ranks))) { free(s); return lj_errf(err, errlen, "state: out of memory"); }
    s->m = g;
    s->cap = max_tokens;
    for (int r = 0; r < W; r++) {
        int rc = src ? lj_state_fork(src->ranks[r], &s->ranks[r], err, errlen)
                     : lj_state_new(g->ranks[r], max_tokens, &s->ranks[r], err, errlen);
        if (rc) {
            lj_err_prefix(err, errlen, "tensor-parallel rank %d", r);
            tp_state_free(s);
            return -1;
        }
    }
    if (src) s->len = src->len;
    *out = s;
    return 0;
}
