/* config.json / generation_config.json parsing with jansson. Defaults mirror transformers'
 * JambaConfig (models/jamba/configuration_jamba.py). */
#include "engine/config.h"

#include "common/error.h"
#include "common/util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Reads a non-negative integer field; absent → def. Returns -1 on a bad value. */
static int get_size(json_t *root, const char *name, const char *file, bool required, size_t def,
                    size_t *out, char *err, size_t errlen) {
    json_t *v = json_object_get(root, name);
    if (!v || json_is_null(v)) {
        if (required) return lj_errf(err, errlen, "%s: required field \"%s\" is missing", file, name);
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return lj_errf(err, errlen, "%s: field \"%s\" must be a non-negative integer", file, name);
    *out = (size_t)json_integer_value(v);
    return 0;
}

static int get_bool(json_t *root, const char *name, const char *file, bool def, bool *out, char *err,
                    size_t errlen) {
    json_t *v = json_object_get(root, name);
    if (!v || json_is_null(v)) { *out = def; return 0; }
    if (!json_is_boolean(v)) return lj_errf(err, errlen, "%s: field \"%s\" must be true or false", file, name);
    *out = json_is_true(v);
    return 0;
}

static int get_id(json_t *root, const char *name, const char *file, long def, long *out, char *err,
                  size_t errlen) {
    json_t *v = json_object_get(root, name);
    if (!v) { *out = def; return 0; }
    if (json_is_null(v)) { *out = -1; return 0; }
    if (!json_is_integer(v)) return lj_errf(err, errlen, "%s: field \"%s\" must be an integer or null", file, name);
    *out = (long)json_integer_value(v);
    return 0;
}

/* eos_token_id: an int, a list of ints, or null. */
static int get_eos(json_t *v, const char *file, size_t *n, long *ids, char *err, size_t errlen) {
    *n = 0;
    if (json_is_null(v)) return 0;
    if (json_is_integer(v)) { ids[(*n)++] = (long)json_integer_value(v); return 0; }
    if (!json_is_array(v)) return lj_errf(err, errlen, "%s: eos_token_id must be an integer or a list", file);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_integer(e))
            return lj_errf(err, errlen, "%s: eos_token_id[%zu] is not an integer", file, i);
        if (*n >= LJ_MAX_EOS) return lj_errf(err, errlen, "%s: more than %d eos_token_id values", file, LJ_MAX_EOS);
        ids[(*n)++] = (long)json_integer_value(e);
    }
    return 0;
}

int config_parse(const char *text, const char *file, lj_config *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root) return lj_errf(err, errlen, "%s:%d:%d: not valid JSON: %s", file, je.line, je.column, je.text);
    int rc = -1;
    if (!json_is_object(root)) { lj_errf(err, errlen, "%s: top level is not a JSON object", file); goto done; }
    json_t *mt = json_object_get(root, "model_type");
    if (mt && json_is_string(mt) && strcmp(json_string_value(mt), "jamba") != 0) {
        lj_errf(err, errlen, "%s: model_type is \"%s\", expected \"jamba\"", file, json_string_value(mt));
        goto done;
    }
    json_t *act = json_object_get(root, "hidden_act");
    if (act && json_is_string(act) && strcmp(json_string_value(act), "silu") != 0 &&
        strcmp(json_string_value(act), "swish") != 0) {
        lj_errf(err, errlen, "%s: hidden_act \"%s\" is not supported (only silu)", file, json_string_value(act));
        goto done;
    }
#define SIZE(field, req, def) \
    if (get_size(root, #field, file, req, def, &c->field, err, errlen)) goto done;
    SIZE(hidden_size, true, 0)
    SIZE(vocab_size, true, 0)
    SIZE(intermediate_size, true, 0)
    SIZE(num_hidden_layers, true, 0)
    SIZE(num_attention_heads, true, 0)
    SIZE(attn_layer_period, false, 8)
    SIZE(attn_layer_offset, false, 4)
    SIZE(expert_layer_period, false, 2)
    SIZE(expert_layer_offset, false, 1)
    SIZE(num_experts, false, 16)
    SIZE(num_experts_per_tok, false, 2)
    SIZE(mamba_d_state, false, 16)
    SIZE(mamba_d_conv, false, 4)
    SIZE(mamba_expand, false, 2)
    SIZE(max_position_embeddings, false, 262144)
#undef SIZE
    {   /* num_key_value_heads: absent → 8 (the dataclass default), null → num_attention_heads */
        json_t *v = json_object_get(root, "num_key_value_heads");
        if (v && json_is_null(v)) c->num_key_value_heads = c->num_attention_heads;
        else if (get_size(root, "num_key_value_heads", file, false, 8, &c->num_key_value_heads, err, errlen))
            goto done;
    }
    if (c->num_attention_heads == 0 || c->hidden_size == 0 || c->vocab_size == 0 || c->num_hidden_layers == 0 ||
        c->intermediate_size == 0) {
        lj_errf(err, errlen, "%s: hidden_size, vocab_size, intermediate_size, num_hidden_layers and "
                "num_attention_heads must be positive", file);
        goto done;
    }
    {   /* head_dim: JambaAttention uses getattr(config, "head_dim", hidden // heads) */
        json_t *v = json_object_get(root, "head_dim");
        if (v && !json_is_null(v)) {
            if (get_size(root, "head_dim", file, false, 0, &c->head_dim, err, errlen)) goto done;
        } else {
            c->head_dim = c->hidden_size / c->num_attention_heads;
        }
    }
    {   /* mamba_dt_rank: integer or "auto" = ceil(hidden / 16) */
        json_t *v = json_object_get(root, "mamba_dt_rank");
        if (!v || json_is_null(v) || (json_is_string(v) && !strcmp(json_string_value(v), "auto"))) {
            c->mamba_dt_rank = (c->hidden_size + 15) / 16;
        } else if (json_is_integer(v) && json_integer_value(v) > 0) {
            c->mamba_dt_rank = (size_t)json_integer_value(v);
        } else {
            lj_errf(err, errlen, "%s: mamba_dt_rank must be a positive integer or \"auto\"", file);
            goto done;
        }
    }
    if (get_bool(root, "mamba_conv_bias", file, true, &c->mamba_conv_bias, err, errlen)) goto done;
    if (get_bool(root, "mamba_proj_bias", file, false, &c->mamba_proj_bias, err, errlen)) goto done;
    if (get_bool(root, "tie_word_embeddings", file, false, &c->tie_word_embeddings, err, errlen)) goto done;
    {
        json_t *v = json_object_get(root, "rms_norm_eps");
        if (!v || json_is_null(v)) c->rms_norm_eps = 1e-6;
        else if (json_is_number(v) && json_number_value(v) >= 0) c->rms_norm_eps = json_number_value(v);
        else { lj_errf(err, errlen, "%s: rms_norm_eps must be a non-negative number", file); goto done; }
    }
    {
        struct { const char *name; double def; double *dst; } nums[] = {
            {"initializer_range", 0.02, &c->initializer_range},
            {"router_aux_loss_coef", 0.001, &c->router_aux_loss_coef},
            {"attention_dropout", 0.0, &c->attention_dropout},
        };
        for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
            json_t *v = json_object_get(root, nums[i].name);
            if (!v || json_is_null(v)) *nums[i].dst = nums[i].def;
            else if (json_is_number(v)) *nums[i].dst = json_number_value(v);
            else { lj_errf(err, errlen, "%s: %s must be a number", file, nums[i].name); goto done; }
        }
    }
    if (get_id(root, "pad_token_id", file, 0, &c->pad_token_id, err, errlen)) goto done;
    if (get_id(root, "bos_token_id", file, 1, &c->bos_token_id, err, errlen)) goto done;
    {
        json_t *v = json_object_get(root, "eos_token_id");
        if (!v) { c->n_eos = 1; c->eos_token_id[0] = 2; }
        else if (get_eos(v, file, &c->n_eos, c->eos_token_id, err, errlen)) goto done;
    }
    /* Consistency (JambaConfig.validate_architecture and what the modules need). */
    if (c->attn_layer_period == 0 || c->attn_layer_offset >= c->attn_layer_period) {
        lj_errf(err, errlen, "%s: attn_layer_offset (%zu) must be smaller than attn_layer_period (%zu)", file,
                c->attn_layer_offset, c->attn_layer_period);
        goto done;
    }
    if (c->expert_layer_period == 0 || c->expert_layer_offset >= c->expert_layer_period) {
        lj_errf(err, errlen, "%s: expert_layer_offset (%zu) must be smaller than expert_layer_period (%zu)", file,
                c->expert_layer_offset, c->expert_layer_period);
        goto done;
    }
    if (c->num_experts == 0) { lj_errf(err, errlen, "%s: num_experts must be at least 1", file); goto done; }
    /* With num_experts == 1 every layer is dense and top-k is never used (transformers accepts any
     * num_experts_per_tok then, e.g. the default 2), so only MoE configs are checked. */
    if (c->num_experts > 1 && (c->num_experts_per_tok == 0 || c->num_experts_per_tok > c->num_experts)) {
        lj_errf(err, errlen, "%s: num_experts_per_tok (%zu) must be between 1 and num_experts (%zu)", file,
                c->num_experts_per_tok, c->num_experts);
        goto done;
    }
    if (c->num_key_value_heads == 0 || c->num_attention_heads % c->num_key_value_heads != 0) {
        lj_errf(err, errlen, "%s: num_attention_heads (%zu) must be a multiple of num_key_value_heads (%zu)", file,
                c->num_attention_heads, c->num_key_value_heads);
        goto done;
    }
    if (c->head_dim == 0 || c->mamba_d_state == 0 || c->mamba_d_conv == 0 || c->mamba_expand == 0) {
        lj_errf(err, errlen, "%s: head_dim, mamba_d_state, mamba_d_conv and mamba_expand must be positive", file);
        goto done;
    }
    if (c->num_hidden_layers > 100000 || c->num_experts > 100000 ||
        !lj_mul_ok(c->mamba_expand, c->hidden_size, &c->mamba_d_inner)) {
        lj_errf(err, errlen, "%s: sizes are implausibly large", file);
        goto done;
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

int config_load(const char *path, lj_config *c, char *err, size_t errlen) {
    char *text = lj_read_file(path, NULL, err, errlen);
    if (!text) return -1;
    int rc = config_parse(text, path, c, err, errlen);
    free(text);
    return rc;
}

int generation_config_load(const char *dir, const lj_config *c, lj_generation_config *g, char *err,
                           size_t errlen) {
    memset(g, 0, sizeof *g);
    g->n_eos = c->n_eos;
    memcpy(g->eos_token_id, c->eos_token_id, sizeof g->eos_token_id);
    char path[4096];
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    struct stat st;
    if (stat(path, &st) != 0) return 0;   /* optional */
    char *text = lj_read_file(path, NULL, err, errlen);
    if (!text) return -1;
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    free(text);
    if (!root) return lj_errf(err, errlen, "%s:%d:%d: not valid JSON: %s", path, je.line, je.column, je.text);
    int rc = -1;
    if (!json_is_object(root)) { lj_errf(err, errlen, "%s: top level is not a JSON object", path); goto done; }
    json_t *v = json_object_get(root, "eos_token_id");
    if (v && get_eos(v, path, &g->n_eos, g->eos_token_id, err, errlen)) goto done;
    if ((v = json_object_get(root, "temperature")) && json_is_number(v)) {
        g->has_temperature = true;
        g->temperature = json_number_value(v);
    }
    if ((v = json_object_get(root, "top_p")) && json_is_number(v)) { g->has_top_p = true; g->top_p = json_number_value(v); }
    if ((v = json_object_get(root, "top_k")) && json_is_integer(v)) {
        g->has_top_k = true;
        g->top_k = (long)json_integer_value(v);
    }
    if ((v = json_object_get(root, "max_new_tokens")) && json_is_integer(v)) {
        g->has_max_new_tokens = true;
        g->max_new_tokens = (long)json_integer_value(v);
    }
    if ((v = json_object_get(root, "do_sample")) && json_is_boolean(v)) g->do_sample = json_is_true(v);
    rc = 0;
done:
    json_decref(root);
    return rc;
}

bool config_is_eos(const lj_config *c, long id) {
    for (size_t i = 0; i < c->n_eos; i++)
        if (c->eos_token_id[i] == id) return true;
    return false;
}
