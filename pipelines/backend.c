#include "pipelines/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

int pl_backend_open(const char *model, const pl_backend_opts *o, pl_backend **out, char *err, size_t errlen) {
    *out = NULL;
    if (!model || !*model) return lj_errf(err, errlen, "--model: required (a model directory, or toy)");
    if (!strncmp(model, "toy", 3) && (model[3] == 0 || model[3] == ':')) return pl_backend_open_toy(model, out, err, errlen);
    return pl_backend_open_engine(model, o, out, err, errlen);
}

void pl_backend_close(pl_backend *b) {
    if (b && b->close) b->close(b);
}

static void add_eos(pl_backend *b, json_t *v) {
    if (json_is_integer(v)) {
        int32_t id = (int32_t)json_integer_value(v);
        for (size_t i = 0; i < b->n_eos; i++)
            if (b->eos[i] == id) return;
        if (b->n_eos < sizeof b->eos / sizeof b->eos[0]) b->eos[b->n_eos++] = id;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) add_eos(b, e);
    }
}

int pl_read_generation_config(const char *dir, pl_backend *b, char *err, size_t errlen) {
    char path[4096];
    json_error_t je;
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_t *cfg = json_load_file(path, 0, &je);
    if (!cfg) return lj_errf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
    add_eos(b, json_object_get(cfg, "eos_token_id"));
    json_t *mp = json_object_get(cfg, "max_position_embeddings");
    if (json_is_integer(mp) && json_integer_value(mp) > 0) b->n_ctx = (size_t)json_integer_value(mp);
    json_decref(cfg);
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;   // optional
    fclose(f);
    json_t *g = json_load_file(path, 0, &je);
    if (!g) return lj_errf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
    json_t *eos = json_object_get(g, "eos_token_id");
    if (eos) { b->n_eos = 0; add_eos(b, eos); }   // generation_config's list is the complete one
    // transformers' rule: greedy unless do_sample; then temperature/top_p/top_k (defaults 1/1/50)
    json_t *v;
    if (json_is_true(json_object_get(g, "do_sample"))) {
        b->defaults.temperature = json_is_number(v = json_object_get(g, "temperature")) ? json_number_value(v) : 1.0;
        b->defaults.top_p = json_is_number(v = json_object_get(g, "top_p")) ? json_number_value(v) : 1.0;
        b->defaults.top_k = json_is_integer(v = json_object_get(g, "top_k")) ? (long)json_integer_value(v) : 50;
    }
    if (json_is_integer(v = json_object_get(g, "max_new_tokens")) && json_integer_value(v) > 0)
        b->default_max_new = (size_t)json_integer_value(v);
    json_decref(g);
    return 0;
}
