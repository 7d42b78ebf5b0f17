/* longjam info: config summary, backend, layer plan, parameter and memory counts. It validates
 * the checkpoint (every tensor bound by name and shape) without loading the weights, so it is
 * cheap even for Jamba-1.5-Large. */
#include "cli/cli_engine.h"
#include "cli/commands.h"

#include "common/error.h"
#include "engine/model.h"
#include "engine/safetensors.h"
#include "engine/weights.h"
#include "kernels/backend.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: longjam info --model DIR [--context N] [--device cpu|cuda]\n\n"
               "Prints the model's config, the backend, the layer plan (attention/Mamba, MoE/dense per\n"
               "layer), parameter counts (total, active per token), bytes of weights, and the bytes of KV\n"
               "cache and recurrent (conv + SSM) state per token and per sequence of N tokens (default\n"
               "max_position_embeddings). The checkpoint is validated but its weights are not loaded.\n");
}

/* True when dir holds any *.safetensors other than reference.safetensors, or an index. */
static int has_weights(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 1;   /* let the loader report it */
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        found = (n > 12 && !strcmp(e->d_name + n - 12, ".safetensors") && strcmp(e->d_name, "reference.safetensors")) ||
                !strcmp(e->d_name, "model.safetensors.index.json");
    }
    closedir(d);
    return found;
}

static void human(char *buf, size_t n, double bytes) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (bytes >= 1024 && i < 4) { bytes /= 1024; i++; }
    snprintf(buf, n, i ? "%.2f %s" : "%.0f %s", bytes, u[i]);
}

int cmd_info(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    const char *model = NULL, *device = "cpu";
    size_t context = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--model") && v) { model = v; i++; }
        else if (!strcmp(a, "--device") && v) { device = v; i++; }
        else if (!strcmp(a, "--context")) { if (cli_parse_size(a, v, &context)) return CLI_USAGE; i++; }
        else { fprintf(stderr, "longjam info: unknown or incomplete option '%s'\n\n", a); usage(stderr); return CLI_USAGE; }
    }
    if (!model) { usage(stderr); return CLI_USAGE; }
    char err[LJ_ERRLEN], path[4096];
    lj_config c;
    lj_generation_config g;
    snprintf(path, sizeof path, "%s/config.json", model);
    if (config_load(path, &c, err, sizeof err) || generation_config_load(model, &c, &g, err, sizeof err)) {
        fprintf(stderr, "longjam info: %s\n", err);
        return CLI_FAILED;
    }
    /* A directory with config.json and no safetensors at all (a shape to plan for) is described
     * from the config alone; any checkpoint that is there must bind. */
    size_t disk = 0;
    const char *disk_dtype = NULL;
    if (has_weights(model)) {
        st_set *set;
        lj_checkpoint_tensors ct;
        if (st_set_open(model, &set, err, sizeof err)) { fprintf(stderr, "longjam info: %s\n", err); return CLI_FAILED; }
        if (weights_bind(&c, set, &ct, err, sizeof err)) {
            fprintf(stderr, "longjam info: %s: %s\n", model, err);
            st_set_close(set);
            return CLI_FAILED;
        }
        for (size_t i = 0; i < st_set_count(set); i++) disk += st_set_at(set, i)->nbytes;
        disk_dtype = st_dtype_name(ct.embed->dtype);
        weights_unbind(&ct);
        st_set_close(set);
    }
    lj_backend *b;
    int brc;
    if (!strcmp(device, "cuda")) {
#ifdef LONGJAM_HAVE_CUDA
        brc = lj_backend_cuda_new(0, &b, err, sizeof err);
#else
        brc = -1;
        snprintf(err, sizeof err, "device \"cuda\": this longjam was built without the CUDA backend");
#endif
    } else if (!strcmp(device, "cpu")) brc = lj_backend_cpu_new(1, &b, err, sizeof err);
    else { brc = -1; snprintf(err, sizeof err, "unknown device \"%s\" (expected cpu or cuda)", device); }
    if (brc) { fprintf(stderr, "longjam info: %s\n", err); return CLI_FAILED; }
    lj_model_sizes sz;
    lj_config_sizes(&c, lj_dtype_size(b->weight_dtype), &sz);
    sz.kv_bytes_per_token = sz.kv_bytes_per_token / 4 * lj_dtype_size(b->kv_dtype);   /* sizes count fp32 KV */
    if (!context) context = c.max_position_embeddings;

    printf("model: %s\n", model);
    printf("config: vocab %zu, hidden %zu, intermediate %zu, layers %zu, heads %zu/%zu (head_dim %zu)\n", c.vocab_size,
           c.hidden_size, c.intermediate_size, c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads,
           c.head_dim);
    printf("  attention: period %zu offset %zu; experts: %zu, top-%zu, period %zu offset %zu\n", c.attn_layer_period,
           c.attn_layer_offset, c.num_experts, c.num_experts_per_tok, c.expert_layer_period, c.expert_layer_offset);
    printf("  mamba: d_inner %zu, d_state %zu, d_conv %zu, dt_rank %zu, conv bias %s, proj bias %s\n", c.mamba_d_inner,
           c.mamba_d_state, c.mamba_d_conv, c.mamba_dt_rank, c.mamba_conv_bias ? "yes" : "no",
           c.mamba_proj_bias ? "yes" : "no");
    printf("  rms_norm_eps %g, tie_word_embeddings %s, max_position_embeddings %zu\n", c.rms_norm_eps,
           c.tie_word_embeddings ? "yes" : "no", c.max_position_embeddings);
    printf("  eos ids:");
    for (size_t i = 0; i < g.n_eos; i++) printf(" %ld", g.eos_token_id[i]);
    printf("\n");
    printf("backend: %s (weights %s, activations %s)\n", b->name, b->weight_dtype == LJ_F32 ? "fp32" : "bf16",
           b->act_dtype == LJ_F32 ? "fp32" : "bf16");
    printf("layer plan:\n");
    size_t n_att = 0, n_moe = 0;
    for (size_t l = 0; l < c.num_hidden_layers; l++) {
        int att = config_layer_is_attention(&c, l), moe = config_layer_is_moe(&c, l);
        n_att += att;
        n_moe += moe;
        printf("  %3zu  %-9s  %s\n", l, att ? "attention" : "mamba", moe ? "moe" : "dense");
    }
    printf("  (%zu attention + %zu mamba layers, %zu MoE + %zu dense FFNs)\n", n_att, c.num_hidden_layers - n_att, n_moe,
           c.num_hidden_layers - n_moe);
    char h1[32], h2[32], h3[32], h4[32];
    printf("parameters: %zu total, %zu active per token\n", sz.params_total, sz.params_active);
    human(h1, sizeof h1, (double)disk);
    human(h2, sizeof h2, (double)sz.weight_bytes);
    human(h3, sizeof h3, (double)sz.params_total * 2);
    if (disk_dtype)
        printf("weights: %zu bytes on disk (%s, %s); %zu bytes on the %s backend (%s)\n", disk, h1, disk_dtype,
               sz.weight_bytes, b->name, h2);
    else
        printf("weights: no safetensors in %s (sizes from config.json): %s in bf16, %zu bytes on the %s backend (%s)\n",
               model, h3, sz.weight_bytes, b->name, h2);
    human(h1, sizeof h1, (double)sz.kv_bytes_per_token);
    human(h2, sizeof h2, (double)sz.kv_bytes_per_token * (double)context);
    human(h3, sizeof h3, (double)sz.state_bytes_per_seq);
    human(h4, sizeof h4, (double)sz.kv_bytes_per_token * (double)context + (double)sz.state_bytes_per_seq);
    printf("kv cache: %zu bytes per token (%s); %s per sequence of %zu tokens\n", sz.kv_bytes_per_token, h1, h2, context);
    printf("recurrent state (conv + ssm): %zu bytes per sequence (%s), independent of length\n", sz.state_bytes_per_seq, h3);
    printf("per sequence of %zu tokens: %s\n", context, h4);
    b->destroy(b);
    return CLI_OK;
}
