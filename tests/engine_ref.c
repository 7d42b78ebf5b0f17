#include "engine_ref.h"

#include "common/error.h"
#include "engine/model.h"
#include "engine/safetensors.h"
#include "engine/sampler.h"
#include "kernels/backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *read_f32(const st_tensor *t) {
    float *o = malloc(t->numel * sizeof *o);
    memcpy(o, t->data, t->numel * sizeof *o);
    return o;
}

static int32_t *read_ids(const st_tensor *t) {
    int32_t *o = malloc((t->numel ? t->numel : 1) * sizeof *o);
    for (size_t i = 0; i < t->numel; i++) {
        int64_t v;
        memcpy(&v, (const char *)t->data + 8 * i, 8);
        o[i] = (int32_t)v;
    }
    return o;
}

int engine_ref_load(const char *dir, engine_ref *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    char path[4096];
    snprintf(path, sizeof path, "%s/reference.safetensors", dir);
    st_file *f;
    if (st_open(path, &f, err, errlen)) return -1;
    const st_tensor *ids = st_find(f, "input_ids"), *lg = st_find(f, "logits"), *hs = st_find(f, "hidden_states"),
                    *gr = st_find(f, "greedy_ids");
    if (!ids || !lg || ids->dtype != ST_I64 || lg->dtype != ST_F32) {
        st_close(f);
        return lj_errf(err, errlen, "%s: needs input_ids I64 and logits F32", path);
    }
    r->T = ids->numel;
    r->input_ids = read_ids(ids);
    r->V = lg->shape[1];
    r->logits = read_f32(lg);
    if (hs && hs->dtype == ST_F32 && hs->ndim == 3) {
        r->L1 = hs->shape[0];
        r->H = hs->shape[2];
        r->hidden = read_f32(hs);
    }
    if (gr && gr->dtype == ST_I64) {
        r->N = gr->numel;
        r->greedy = read_ids(gr);
    }
    st_close(f);
    return 0;
}

void engine_ref_free(engine_ref *r) {
    free(r->input_ids);
    free(r->logits);
    free(r->hidden);
    free(r->greedy);
    memset(r, 0, sizeof *r);
}

double rel_err(const float *a, const float *ref, size_t n) {
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        if (!(d <= md)) md = d;   /* NaN propagates as a failure */
        if (fabs(ref[i]) > mr) mr = fabs(ref[i]);
    }
    return mr > 0 ? md / mr : md;
}

long engine_ref_greedy(lj_model *m, const int32_t *prompt, size_t T, size_t chunk, const int32_t *expected,
                       size_t N, int32_t *ids, size_t *state_len, char *err, size_t errlen) {
    size_t V = lj_model_config(m)->vocab_size;
    lj_state *s;
    if (lj_state_new(m, T + N, &s, err, errlen)) return -1;
    float *last = malloc(V * sizeof *last);   // [V]
    long same = -1;
    if (!last) { lj_errf(err, errlen, "out of memory"); goto out; }
    if (lj_prefill(m, s, prompt, T, chunk, 0, last, err, errlen)) goto out;
    same = 0;
    for (size_t i = 0; i < N; i++) {
        int32_t id = ids[i] = lj_argmax(last, V);
        if (id != expected[i]) { fprintf(stderr, "greedy token %zu: got %d, expected %d\n", i, id, expected[i]); break; }
        same++;
        if (i + 1 == N) break;
        lj_seq_step st = {.state = s, .tokens = &id, .n_tokens = 1};
        if (lj_forward(m, &st, 1, last, NULL, err, errlen)) { same = -1; break; }
    }
    if (state_len) *state_len = lj_state_length(s);
out:
    free(last);
    lj_state_free(s);
    return same;
}
