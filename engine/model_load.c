/* lj_model_load: config.json → backend → bind every checkpoint tensor (errors before any upload)
 * → upload/convert each weight into backend memory. The mapped files are closed afterwards. */
#include "engine/model_internal.h"

#include "common/error.h"
#include "common/util.h"
#include "engine/plan.h"
#include "engine/quant.h"
#include "engine/safetensors.h"
#include "engine/weights.h"
#include "kernels/backend_open.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Streaming load. Binding makes views into the mapped shards; each weight's backend buffer is
 * allocated up front (so the plan's numbers are what gets allocated) and its conversion recorded
 * as a job. The jobs then run in file order — shard by shard, tensor by tensor — converting or
 * quantising straight from the mapping into the backend buffer, and the mapped pages of each
 * consumed tensor are dropped (st_set_release). Host memory holds at most one tensor's pages
 * plus one bounded staging block for int8, never the whole checkpoint. */
typedef struct load_job {
    const st_tensor *t;
    size_t first, rows, cols;   /* rows x cols elements of t from element `first`, */
    size_t ld;                  /* source rows `ld` elements apart (cols: contiguous) */
    void *dst;                  /* backend buffer */
    lj_dtype to;                /* its dtype (LJ_I8: quantised, scales in `scale`) */
    float *scale;               /* [rows] backend buffer when to == LJ_I8 */
} load_job;

typedef struct loader {
    load_job *jobs;
    size_t n, cap;
} loader;

/* A new backend buffer of `bytes` owned by the model (freed by lj_model_free). */
static int walloc(lj_model *m, const char *name, size_t bytes, void **out, char *err, size_t errlen) {
    lj_backend *b = m->be;
    if (m->n_allocs == m->cap_allocs) {
        size_t nc = m->cap_allocs ? 2 * m->cap_allocs : 256;
        void **na = realloc(m->allocs, nc * sizeof *na);
        if (!na) return lj_errf(err, errlen, "%s: out of memory", name);
        m->allocs = na;
        m->cap_allocs = nc;
    }
    void *p;
    if (b->alloc(b, bytes, &p)) return lj_errf(err, errlen, "%s: %s", name, b->err);
    m->allocs[m->n_allocs++] = p;
    m->weight_bytes += bytes;
    *out = p;
    return 0;
}

static int job_add(loader *ld, load_job j, char *err, size_t errlen) {
    if (ld->n == ld->cap) {
        size_t nc = ld->cap ? 2 * ld->cap : 512;
        load_job *nj = realloc(ld->jobs, nc * sizeof *nj);
        if (!nj) return lj_errf(err, errlen, "out of memory for the load plan");
        ld->jobs = nj;
        ld->cap = nc;
    }
    ld->jobs[ld->n++] = j;
    return 0;
}

/* fp32 vector of n elements from element `first` of t, or of parts (first, n) placed back to back. */
static int up_vec_parts(lj_model *m, loader *ld, const st_tensor *t, const size_t (*parts)[2], size_t n_parts,
                        float **out, char *err, size_t errlen) {
    if (!t) { *out = NULL; return 0; }
    size_t total = 0;
    for (size_t i = 0; i < n_parts; i++) total += parts[i][1];
    void *p;
    if (walloc(m, t->name, total * 4, &p, err, errlen)) return -1;
    *out = p;
    for (size_t i = 0, at = 0; i < n_parts; at += parts[i][1], i++)
        if (job_add(ld, (load_job){.t = t, .first = parts[i][0], .rows = 1, .cols = parts[i][1], .ld = parts[i][1],
                                   .dst = (float *)p + at, .to = LJ_F32}, err, errlen))
            return -1;
    return 0;
}

static int up_vec_part(lj_model *m, loader *ld, const st_tensor *t, size_t first, size_t n, float **out, char *err,
                       size_t errlen) {
    const size_t part[1][2] = {{first, n}};
    return up_vec_parts(m, ld, t, part, 1, out, err, errlen);
}

static int up_vec(lj_model *m, loader *ld, const st_tensor *t, float **out, char *err, size_t errlen) {
    return up_vec_part(m, ld, t, 0, t ? t->numel : 0, out, err, errlen);
}

/* A [rows, cols] weight in the backend's dtype: the block at rows [r0, +rows) and columns
 * [c0, +cols) of t seen as a matrix of `ld` columns, from element `first` of t. */
static int up_mat_block(lj_model *m, loader *ld, const st_tensor *t, size_t first, size_t ldt, size_t r0, size_t rows,
                        size_t c0, size_t cols, lj_tensor *out, char *err, size_t errlen) {
    const lj_dtype wd = m->be->weight_dtype;
    size_t bytes;
    if (!lj_mul_ok(rows * cols, lj_dtype_size(wd), &bytes)) return lj_errf(err, errlen, "%s: size overflows", t->name);
    void *p;
    if (walloc(m, t->name, bytes, &p, err, errlen)) return -1;
    *out = (lj_tensor){.data = p, .dtype = wd, .rows = rows, .cols = cols};
    return job_add(ld, (load_job){.t = t, .first = first + r0 * ldt + c0, .rows = rows, .cols = cols, .ld = ldt,
                                  .dst = p, .to = wd}, err, errlen);
}

static size_t mat_cols(const st_tensor *t) { return t->numel / (t->shape[0] ? t->shape[0] : 1); }

/* Rows [r0, +rows) of t, all columns (column-parallel), and columns [c0, +cols), all rows (row-parallel). */
static int up_mat_rows(lj_model *m, loader *ld, const st_tensor *t, size_t r0, size_t rows, lj_tensor *out, char *err,
                       size_t errlen) {
    return up_mat_block(m, ld, t, 0, mat_cols(t), r0, rows, 0, mat_cols(t), out, err, errlen);
}
static int up_mat_cols(lj_model *m, loader *ld, const st_tensor *t, size_t c0, size_t cols, lj_tensor *out, char *err,
                       size_t errlen) {
    return up_mat_block(m, ld, t, 0, mat_cols(t), 0, t->shape[0], c0, cols, out, err, errlen);
}

static int up_mat(lj_model *m, loader *ld, const st_tensor *t, lj_tensor *out, char *err, size_t errlen) {
    return up_mat_rows(m, ld, t, 0, t->shape[0], out, err, errlen);
}

/* Mamba in_proj [2D, H]: this rank's x rows [d0, +dn) and z rows [D + d0, +dn) as one [2dn, H]. */
static int up_in_proj(lj_model *m, loader *ld, const st_tensor *t, size_t D, const tp_split *sp, lj_tensor *out,
                      char *err, size_t errlen) {
    const size_t H = mat_cols(t), es = lj_dtype_size(m->be->weight_dtype);
    void *p;
    if (walloc(m, t->name, 2 * sp->dn * H * es, &p, err, errlen)) return -1;
    *out = (lj_tensor){.data = p, .dtype = m->be->weight_dtype, .rows = 2 * sp->dn, .cols = H};
    return job_add(ld, (load_job){.t = t, .first = sp->d0 * H, .rows = sp->dn, .cols = H, .ld = H, .dst = p,
                                  .to = m->be->weight_dtype}, err, errlen) ||
                   job_add(ld, (load_job){.t = t, .first = (D + sp->d0) * H, .rows = sp->dn, .cols = H, .ld = H,
                                          .dst = (char *)p + sp->dn * H * es, .to = m->be->weight_dtype}, err, errlen)
               ? -1 : 0;
}

/* One expert: gate and up back to back in one [2I, H] buffer (one GEMM — or, at decode, one GEMV
 * launch — serves both), down [H, I]; int8 experts (ExpertsInt8) with [2I] and [H] fp32 row scales
 * (see lj_moe_params). Sources: (tensor, first element) of each part. */
static int up_expert(lj_model *m, loader *ld, const st_tensor *g, size_t g0, const st_tensor *u, size_t u0,
                     const st_tensor *d, size_t d0, lj_tensor *gate, lj_tensor *up, lj_tensor *down, char *err,
                     size_t errlen) {
    const size_t I = m->cfg.intermediate_size, H = m->cfg.hidden_size;
    const bool i8 = m->expert_dtype == LJ_I8;
    const lj_dtype to = i8 ? LJ_I8 : m->be->weight_dtype;
    const size_t es = lj_dtype_size(to);
    void *gu, *dn, *gus = NULL, *dns = NULL;
    size_t ih, dbytes, gubytes;
    if (!lj_mul_ok(I, H, &ih) || !lj_mul_ok(ih, es, &dbytes) || !lj_mul_ok(dbytes, 2, &gubytes))
        return lj_errf(err, errlen, "%s: size overflows", g->name);
    if (walloc(m, g->name, gubytes, &gu, err, errlen) || walloc(m, d->name, dbytes, &dn, err, errlen)) return -1;
    if (i8 && (walloc(m, g->name, 2 * I * 4, &gus, err, errlen) || walloc(m, d->name, H * 4, &dns, err, errlen)))
        return -1;
    float *ups = i8 ? (float *)gus + I : NULL;
    *gate = (lj_tensor){.data = gu, .dtype = to, .rows = I, .cols = H, .scale = gus};
    *up = (lj_tensor){.data = (char *)gu + I * H * es, .dtype = to, .rows = I, .cols = H, .scale = ups};
    *down = (lj_tensor){.data = dn, .dtype = to, .rows = H, .cols = I, .scale = dns};
    return job_add(ld, (load_job){.t = g, .first = g0, .rows = I, .cols = H, .dst = gu, .ld = H, .to = to, .scale = gus}, err, errlen) ||
           job_add(ld, (load_job){.t = u, .first = u0, .rows = I, .cols = H, .ld = H, .dst = (char *)gu + I * H * es, .to = to,
                                  .scale = ups}, err, errlen) ||
           job_add(ld, (load_job){.t = d, .first = d0, .rows = H, .cols = I, .ld = I, .dst = dn, .to = to, .scale = dns}, err, errlen)
               ? -1 : 0;
}

/* One layer's weights, this rank's share of them (sp; everything at world 1). c is the full config. */
static int upload_layer(lj_model *m, loader *ld, const lj_config *c, const tp_split *sp, const lj_layer_tensors *t,
                        layer_weights *w, char *err, size_t errlen) {
    const size_t E = c->num_experts, I = c->intermediate_size, D = c->mamba_d_inner, N = c->mamba_d_state;
    const size_t K = c->mamba_d_conv, Dh = c->head_dim;
    w->attention = t->attention;
    w->moe = t->moe;
    int rc = up_vec(m, ld, t->input_norm, &w->input_norm, err, errlen) ||
             up_vec(m, ld, t->pre_ff_norm, &w->pre_ff_norm, err, errlen);
    if (t->attention) {
        rc = rc || up_mat_rows(m, ld, t->q, sp->q0 * Dh, sp->qn * Dh, &w->q, err, errlen) ||
             up_mat_rows(m, ld, t->k, sp->kv0 * Dh, sp->kvn * Dh, &w->k, err, errlen) ||
             up_mat_rows(m, ld, t->v, sp->kv0 * Dh, sp->kvn * Dh, &w->v, err, errlen) ||
             up_mat_cols(m, ld, t->o, sp->q0 * Dh, sp->qn * Dh, &w->o, err, errlen);
    } else {
        const size_t in_bias[2][2] = {{sp->d0, sp->dn}, {D + sp->d0, sp->dn}};
        rc = rc || up_in_proj(m, ld, t->in_proj, D, sp, &w->in_proj, err, errlen) ||
             up_vec_parts(m, ld, t->in_proj_bias, in_bias, 2, &w->in_proj_bias, err, errlen) ||
             up_vec_part(m, ld, t->conv_w, sp->d0 * K, sp->dn * K, &w->conv_w, err, errlen) ||
             up_vec_part(m, ld, t->conv_b, sp->d0, sp->dn, &w->conv_b, err, errlen) ||
             up_mat_cols(m, ld, t->x_proj, sp->d0, sp->dn, &w->x_proj, err, errlen) ||
             up_mat_rows(m, ld, t->dt_proj, sp->d0, sp->dn, &w->dt_proj, err, errlen) ||
             up_vec_part(m, ld, t->dt_proj_bias, sp->d0, sp->dn, &w->dt_bias, err, errlen) ||
             up_vec_part(m, ld, t->a_log, sp->d0 * N, sp->dn * N, &w->a_log, err, errlen) ||
             up_vec_part(m, ld, t->d_skip, sp->d0, sp->dn, &w->d_skip, err, errlen) ||
             up_mat_cols(m, ld, t->out_proj, sp->d0, sp->dn, &w->out_proj, err, errlen) ||
             /* a row-parallel bias is added once, by rank 0 */
             up_vec(m, ld, sp->rank == 0 ? t->out_proj_bias : NULL, &w->out_proj_bias, err, errlen) ||
             up_vec(m, ld, t->dt_norm, &w->dt_norm, err, errlen) || up_vec(m, ld, t->b_norm, &w->b_norm, err, errlen) ||
             up_vec(m, ld, t->c_norm, &w->c_norm, err, errlen);
    }
    if (rc) return -1;
    if (!t->moe)
        return up_mat_rows(m, ld, t->gate, sp->i0, sp->in, &w->gate, err, errlen) ||
               up_mat_rows(m, ld, t->up, sp->i0, sp->in, &w->up, err, errlen) ||
               up_mat_cols(m, ld, t->down, sp->i0, sp->in, &w->down, err, errlen) ? -1 : 0;
    if (up_mat(m, ld, t->router, &w->router, err, errlen)) return -1;
    w->e_gate = lj_calloc(E, sizeof *w->e_gate);
    w->e_up = lj_calloc(E, sizeof *w->e_up);
    w->e_down = lj_calloc(E, sizeof *w->e_down);
    if (!w->e_gate || !w->e_up || !w->e_down) return lj_errf(err, errlen, "out of memory for %zu experts", E);
    const size_t H = c->hidden_size;
    for (size_t e = sp->e0; e < sp->e0 + sp->en; e++) {   /* other ranks' experts stay empty views */
        if (t->fused_gate_up) {
            /* transformers v5: gate_up_proj [E, 2I, H] (gate rows first), down_proj [E, H, I] */
            const size_t g0 = e * 2 * I * H, u0 = g0 + I * H, d0 = e * H * I;
            if (up_expert(m, ld, t->fused_gate_up, g0, t->fused_gate_up, u0, t->fused_down, d0, &w->e_gate[e], &w->e_up[e],
                          &w->e_down[e], err, errlen))
                return -1;
        } else if (up_expert(m, ld, t->e_gate[e], 0, t->e_up[e], 0, t->e_down[e], 0, &w->e_gate[e], &w->e_up[e],
                             &w->e_down[e], err, errlen)) {
            return -1;
        }
    }
    return 0;
}

static lj_dtype lj_of_st(st_dtype t) {
    switch (t) {
    case ST_BF16: return LJ_BF16;
    case ST_F16: return LJ_F16;
    default: return LJ_F32;   /* binding admits only F32/BF16/F16 */
    }
}

static size_t job_offset(const load_job *j) { return j->t->file_offset + j->first * st_dtype_size(j->t->dtype); }
/* One past the job's last source byte in its file. */
static size_t job_end(const load_job *j) {
    return job_offset(j) + ((j->rows ? j->rows - 1 : 0) * j->ld + j->cols) * st_dtype_size(j->t->dtype);
}

static int cmp_job(const void *a, const void *b) {
    const load_job *x = a, *y = b;
    int c = strcmp(x->t->file, y->t->file);
    if (c) return c;
    size_t ox = job_offset(x), oy = job_offset(y);
    return ox < oy ? -1 : ox > oy;
}

/* Int8 staging block: rows are quantised on the host in blocks of about this many bytes. */
#define LOAD_I8_BLOCK ((size_t)16 << 20)

static int run_job(lj_model *m, const load_job *j, int8_t **stage, size_t *stage_cap, char *err, size_t errlen) {
    lj_backend *b = m->be;
    const st_tensor *t = j->t;
    const size_t es = st_dtype_size(t->dtype);
    const char *src = (const char *)t->data + j->first * es;
    const lj_dtype st = lj_of_st(t->dtype);
    if (j->to != LJ_I8) {
        if (j->ld == j->cols || j->rows == 1) {
            if (b->upload(b, j->dst, j->to, src, st, j->rows * j->cols))
                return lj_errf(err, errlen, "%s: %s", t->name, b->err);
            return 0;
        }
        /* a column block (row-parallel share): row by row */
        const size_t ds = lj_dtype_size(j->to);
        for (size_t r = 0; r < j->rows; r++)
            if (b->upload(b, (char *)j->dst + r * j->cols * ds, j->to, src + r * j->ld * es, st, j->cols))
                return lj_errf(err, errlen, "%s: %s", t->name, b->err);
        return 0;
    }
    if (j->ld != j->cols) return lj_errf(err, errlen, "%s: int8 weights load whole rows only", t->name);
    size_t block = LOAD_I8_BLOCK / (j->cols ? j->cols : 1);
    if (block == 0) block = 1;
    if (block > j->rows) block = j->rows;
    const size_t q_bytes = (block * j->cols + 15) & ~(size_t)15;   /* scales start aligned */
    size_t need = q_bytes + block * sizeof(float);
    if (need > *stage_cap) {
        int8_t *ns = realloc(*stage, need);
        if (!ns) return lj_errf(err, errlen, "%s: out of memory for an int8 staging block of %zu bytes", t->name, need);
        *stage = ns;
        *stage_cap = need;
    }
    int8_t *q = *stage;                          // [block, cols]
    float *sc = (float *)(*stage + q_bytes);     // [block]
    for (size_t r0 = 0; r0 < j->rows; r0 += block) {
        size_t n = j->rows - r0 < block ? j->rows - r0 : block, bad;
        if (quant_rows_i8(src + r0 * j->cols * es, st, n, j->cols, q, sc, &bad))
            return lj_errf(err, errlen, "%s: element %zu (byte offset %zu in %s) is not a finite number; cannot quantise",
                           t->name, j->first + r0 * j->cols + bad, job_offset(j) + (r0 * j->cols + bad) * es, t->file);
        if (b->upload(b, (int8_t *)j->dst + r0 * j->cols, LJ_I8, q, LJ_I8, n * j->cols) ||
            b->upload(b, j->scale + r0, LJ_F32, sc, LJ_F32, n) || b->sync(b))
            return lj_errf(err, errlen, "%s: %s", t->name, b->err);
    }
    return 0;
}

/* Runs the jobs in file order, dropping each consumed range of the mapping. */
static int run_jobs(lj_model *m, const st_set *set, loader *ld, char *err, size_t errlen) {
    qsort(ld->jobs, ld->n, sizeof *ld->jobs, cmp_job);
    int8_t *stage = NULL;
    size_t stage_cap = 0, released = 0;
    int rc = 0;
    for (size_t i = 0; i < ld->n && !rc; i++) {
        const load_job *j = &ld->jobs[i];
        if (i > 0 && strcmp(ld->jobs[i - 1].t->file, j->t->file)) {
            st_set_release(set, ld->jobs[i - 1].t->file, 0, SIZE_MAX);   /* shard done */
            released = 0;
        }
        rc = run_job(m, j, &stage, &stage_cap, err, errlen);
        /* the backend may still read the source (asynchronous copies): wait before dropping it */
        if (!rc && m->be->sync(m->be)) rc = lj_errf(err, errlen, "%s: %s", j->t->name, m->be->err);
        size_t end = job_end(j);
        if (!rc && end > released) {
            st_set_release(set, j->t->file, released, end);
            released = end;
        }
    }
    if (!rc && ld->n) st_set_release(set, ld->jobs[ld->n - 1].t->file, 0, SIZE_MAX);
    free(stage);
    return rc;
}

/* The memory plan for the model's backend and the load options; resolves the expert format. */
static int model_plan(lj_model *m, const lj_load_opts *o, char *err, size_t errlen) {
    lj_backend *b = m->be;
    lj_plan_device dev;
    if (lj_plan_device_of(b->name, &dev, err, errlen)) return -1;
    dev.weight = b->weight_dtype;
    dev.act = b->act_dtype;
    dev.kv = b->kv_dtype;
    dev.state = b->state_dtype;
    size_t memory = o->memory;
    if (!memory && b->mem_info) {
        size_t free_b, total_b;
        /* host: other processes' pages are reclaimable, plan for the machine; GPU: what is free */
        if (!b->mem_info(b, &free_b, &total_b)) memory = !strcmp(b->name, "cpu") ? total_b : free_b;
    }
    const char *ex = o->experts ? o->experts : "auto";
    lj_plan_request r = {.experts = ex, .context = o->context, .chunk = o->chunk, .seqs = o->seqs,
                         .memory = memory};
    if (o->context && !o->seqs) r.seqs = 1;
    if (lj_plan_compute(&m->cfg, &dev, &r, &m->plan, err, errlen)) return -1;
    m->expert_dtype = m->plan.experts_int8 ? LJ_I8 : b->weight_dtype;
    return lj_plan_check(&m->cfg, &m->plan, err, errlen);
}

int lj_model_load(const char *dir, const lj_load_opts *opts, lj_model **out, char *err, size_t errlen) {
    lj_load_opts def = {0};
    if (!opts) opts = &def;
    if (opts->tp > 1) return tp_group_load(dir, opts, out, err, errlen);
    tp_split all;
    *out = NULL;
    lj_config c;
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (config_load(path, &c, err, errlen) || tp_split_of(&c, 0, 1, &all, err, errlen)) return -1;
    return model_load_rank(dir, opts, &all, NULL, out, err, errlen);
}

int model_load_rank(const char *dir, const lj_load_opts *opts, const tp_split *sp, lj_comm *comm, lj_model **out,
                    char *err, size_t errlen) {
    *out = NULL;
    lj_model *m = lj_calloc(1, sizeof *m);
    if (!m) return lj_errf(err, errlen, "out of memory");
    st_set *set = NULL;
    lj_checkpoint_tensors ct = {0};
    loader ld = {0};
    lj_config full;
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (config_load(path, &full, err, errlen)) goto fail;
    if (generation_config_load(dir, &full, &m->gen, err, errlen)) goto fail;
    if (st_set_open(dir, &set, err, errlen)) goto fail;
    if (weights_bind(&full, set, &ct, err, errlen)) { lj_err_prefix(err, errlen, "%s", dir); goto fail; }
    /* this rank's dimensions: what its states, workspace and plan are sized by */
    m->cfg = full;
    m->cfg.num_attention_heads = sp->qn;
    m->cfg.num_key_value_heads = sp->kvn;
    m->cfg.mamba_d_inner = sp->dn;
    m->tp = *sp;
    m->comm = comm;

    const char *dev = opts->device ? opts->device : "cpu";
    if (lj_backend_open(dev, opts->threads, opts->gpu, &m->be, err, errlen)) goto fail;
    if (model_plan(m, opts, err, errlen)) { lj_err_prefix(err, errlen, "%s", dir); goto fail; }

    m->layers = lj_calloc(full.num_hidden_layers, sizeof *m->layers);
    if (!m->layers) { lj_errf(err, errlen, "out of memory"); goto fail; }
    if (up_mat(m, &ld, ct.embed, &m->embed, err, errlen) || up_vec(m, &ld, ct.final_norm, &m->final_norm, err, errlen))
        goto fail;
    if (full.tie_word_embeddings) {   /* this rank's vocabulary rows of the shared table */
        m->lm_head = m->embed;
        m->lm_head.data = (const char *)m->embed.data + sp->v0 * full.hidden_size * lj_dtype_size(m->embed.dtype);
        m->lm_head.rows = sp->vn;
    } else if (up_mat_rows(m, &ld, ct.lm_head, sp->v0, sp->vn, &m->lm_head, err, errlen)) {
        goto fail;
    }
    for (size_t l = 0; l < full.num_hidden_layers; l++)
        if (upload_layer(m, &ld, &full, sp, &ct.layers[l], &m->layers[l], err, errlen)) goto fail;
    if (run_jobs(m, set, &ld, err, errlen)) goto fail;
    if (m->be->sync(m->be)) { lj_errf(err, errlen, "%s", m->be->err); goto fail; }
    free(ld.jobs);
    weights_unbind(&ct);
    st_set_close(set);
    *out = m;
    return 0;
fail:
    free(ld.jobs);
    weights_unbind(&ct);
    st_set_close(set);
    m->comm = NULL;   /* the caller owns the communicator */
    lj_model_free(m);
    return -1;
}

static void ws_free(lj_model *m) {
    lj_backend *b = m->be;
    workspace *w = &m->ws;
    void *bufs[] = {w->ids, w->x, w->xn, w->q, w->k, w->v, w->att, w->xz, w->xc, w->dbc, w->dt, w->y,
                    w->g, w->u, w->mo, w->logits, w->logits_part};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) b->free(b, bufs[i]);
    memset(w, 0, sizeof *w);
    m->ws_bytes = 0;
}

void lj_model_free(lj_model *m) {
    if (!m) return;
    if (m->ranks) { tp_group_free(m); return; }
    if (m->be) {
        ws_free(m);
        for (size_t i = 0; i < m->n_allocs; i++) m->be->free(m->be, m->allocs[i]);
    }
    for (size_t l = 0; m->layers && l < m->cfg.num_hidden_layers; l++) {
        free(m->layers[l].e_gate);
        free(m->layers[l].e_up);
        free(m->layers[l].e_down);
    }
    free(m->layers);
    free(m->allocs);
    if (m->be) m->be->destroy(m->be);
    free(m);
}

/* Grows the workspace for a step of T tokens and `rows` logits rows. */
int model_workspace(lj_model *m, size_t T, size_t rows, char *err, size_t errlen) {
    workspace *w = &m->ws;
    if (T <= w->cap_tokens && rows <= w->cap_rows) return 0;
    if (T < w->cap_tokens) T = w->cap_tokens;
    if (rows < w->cap_rows) rows = w->cap_rows;
    /* the memory plan: growing beyond the planned workspace must fit beside what is held */
    size_t want = lj_plan_workspace_bytes(&m->cfg, &m->plan.dev, T, rows);
    size_t have = m->ws_bytes > m->plan.workspace ? m->ws_bytes : m->plan.workspace;
    if (want > have) {
        char what[96];
        snprintf(what, sizeof what, "the workspace of a step of %zu tokens", T);
        if (plan_model_reserve(m, want - have, what, err, errlen)) return -1;
    }
    ws_free(m);
    m->ws_bytes = want;
    const lj_config *c = &m->cfg;
    lj_backend *b = m->be;
    const size_t a = lj_dtype_size(b->act_dtype), H = c->hidden_size, D = c->mamba_d_inner;
    const size_t QD = c->num_attention_heads * c->head_dim, KVD = c->num_key_value_heads * c->head_dim;
    const size_t XP = c->mamba_dt_rank + 2 * c->mamba_d_state, I = c->intermediate_size;
    struct { void **p; size_t elems, esize; } plan[] = {
        {(void **)&w->ids, T, 4}, {&w->x, T * H, a}, {&w->xn, T * H, a}, {&w->q, T * QD, a}, {&w->k, T * KVD, a},
        {&w->v, T * KVD, a}, {&w->att, T * QD, a}, {&w->xz, T * 2 * D, a}, {&w->xc, T * D, a}, {&w->dbc, T * XP, a},
        {&w->dt, T * D, a}, {&w->y, T * D, a}, {&w->g, T * I, a}, {&w->u, T * I, a}, {&w->mo, T * H, a},
        {&w->logits, rows * c->vocab_size, a},
        {&w->logits_part, m->comm ? rows * m->lm_head.rows : 0, a},
    };
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        size_t bytes;
        if (!plan[i].elems) continue;
        if (!lj_mul_ok(plan[i].elems, plan[i].esize, &bytes) || b->alloc(b, bytes, plan[i].p)) {
            ws_free(m);
            return lj_errf(err, errlen, "workspace for %zu tokens: %s", T, b->err);
        }
    }
    w->cap_tokens = T;
    w->cap_rows = rows;
    return 0;
}

const lj_config *lj_model_config(const lj_model *m) { return &m->cfg; }
const char *lj_model_backend_name(const lj_model *m) { return m->ranks ? m->backend_name : m->be->name; }
const lj_generation_config *lj_model_generation_config(const lj_model *m) { return &m->gen; }

void lj_config_sizes(const lj_config *c, size_t dtype_bytes, lj_model_sizes *o) {
    memset(o, 0, sizeof *o);
    const size_t H = c->hidden_size, V = c->vocab_size, I = c->intermediate_size, D = c->mamba_d_inner;
    const size_t N = c->mamba_d_state, R = c->mamba_dt_rank, K = c->mamba_d_conv, E = c->num_experts;
    const size_t QD = c->num_attention_heads * c->head_dim, KVD = c->num_key_value_heads * c->head_dim;
    size_t total = V * H + H + (c->tie_word_embeddings ? 0 : V * H), active = total;
    for (size_t l = 0; l < c->num_hidden_layers; l++) {
        size_t mixer, ffn_total, ffn_active;
        if (config_layer_is_attention(c, l)) {
            mixer = 2 * QD * H + 2 * KVD * H;
            o->kv_bytes_per_token += 2 * KVD * 4;
        } else {
            mixer = 2 * D * H + D * K + (R + 2 * N) * D + D * R + D + D * N + D + H * D + R + 2 * N;
            if (c->mamba_conv_bias) mixer += D;
            if (c->mamba_proj_bias) mixer += 2 * D + H;
            o->state_bytes_per_seq += ((K - 1) * D + D * N) * 4;
        }
        if (config_layer_is_moe(c, l)) {
            ffn_total = E * H + E * 3 * I * H;
            ffn_active = E * H + c->num_experts_per_tok * 3 * I * H;
        } else {
            ffn_total = ffn_active = 3 * I * H;
        }
        total += 2 * H + mixer + ffn_total;
        active += 2 * H + mixer + ffn_active;
    }
    o->params_total = total;
    o->params_active = active;
    o->weight_bytes = total * dtype_bytes;
}

void lj_model_sizes_of(const lj_model *m, lj_model_sizes *o) {
    const lj_backend *be = m->ranks ? m->ranks[0]->be : m->be;   /* a group: the full config, every rank's bytes */
    lj_config_sizes(&m->cfg, lj_dtype_size(be->weight_dtype), o);
    o->weight_bytes = m->weight_bytes;
    size_t kvs = lj_dtype_size(be->kv_dtype);
    o->kv_bytes_per_token = o->kv_bytes_per_token / 4 * kvs;
}
