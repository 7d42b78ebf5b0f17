/* Jamba model configuration (Hugging Face config.json of JambaForCausalLM) and the generation
 * defaults of generation_config.json. Absent fields default exactly as transformers' JambaConfig
 * does; core sizes are required. */
#ifndef LJ_ENGINE_CONFIG_H
#define LJ_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define LJ_MAX_EOS 16

typedef struct lj_config {
    /* required core sizes */
    size_t vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads;
    /* attention */
    size_t num_key_value_heads;   /* default 8; JSON null = num_attention_heads */
    size_t head_dim;              /* default hidden_size / num_attention_heads */
    /* layer plan */
    size_t attn_layer_period, attn_layer_offset;       /* defaults 8, 4 */
    size_t expert_layer_period, expert_layer_offset;   /* defaults 2, 1 */
    size_t num_experts, num_experts_per_tok;           /* defaults 16, 2; num_experts 1 = dense */
    /* mamba */
    size_t mamba_d_state, mamba_d_conv, mamba_expand;  /* defaults 16, 4, 2 */
    size_t mamba_dt_rank;                              /* "auto" (default) = ceil(hidden / 16) */
    size_t mamba_d_inner;                              /* mamba_expand * hidden_size */
    bool mamba_conv_bias;                              /* default true */
    bool mamba_proj_bias;                              /* default false */
    /* misc */
    double rms_norm_eps;                               /* default 1e-6 */
    bool tie_word_embeddings;                          /* default false */
    size_t max_position_embeddings;                    /* default 262144 */
    long pad_token_id, bos_token_id;                   /* -1 when null */
    size_t n_eos;
    long eos_token_id[LJ_MAX_EOS];                     /* default [2] */
    /* training-only (read for the trainer; inference ignores them) */
    double initializer_range;                          /* default 0.02 */
    double router_aux_loss_coef;                       /* default 0.001 */
    double attention_dropout;                          /* default 0.0 */
} lj_config;

/* generation_config.json (all optional): has_* say which sampling fields were given. */
typedef struct lj_generation_config {
    size_t n_eos;
    long eos_token_id[LJ_MAX_EOS];   /* from generation_config.json, else config.json's */
    bool has_temperature, has_top_p, has_top_k, has_max_new_tokens, do_sample;
    double temperature, top_p;
    long top_k, max_new_tokens;
} lj_generation_config;

/* Parses config.json at path (the file named in errors). Returns 0 or -1 with a message. */
int config_load(const char *path, lj_config *c, char *err, size_t errlen);
/* Parses a JSON text (name used in messages). */
int config_parse(const char *json, const char *name, lj_config *c, char *err, size_t errlen);
/* Reads dir/generation_config.json when present (eos ids default to c's). */
int generation_config_load(const char *dir, const lj_config *c, lj_generation_config *g, char *err, size_t errlen);

/* Layer plan. */
static inline bool config_layer_is_attention(const lj_config *c, size_t i) {
    return i % c->attn_layer_period == c->attn_layer_offset;
}
static inline bool config_layer_is_moe(const lj_config *c, size_t i) {
    return c->num_experts > 1 && i % c->expert_layer_period == c->expert_layer_offset;
}
/* True when id is one of the end-of-sequence ids of c. */
bool config_is_eos(const lj_config *c, long id);

#endif
