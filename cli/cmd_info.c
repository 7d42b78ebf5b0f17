/* longjam info: config summary, backend, layer plan, parameter and memory counts. It validates
 * the checkpoint (every tensor bound by name and shape) without loading the weights, so it is
 * cheap even for Jamba-1.5-Large. */
#include "cli/cli_engine.h"
#include "cli/commands.h"

#include "common/error.h"
#include "engine/model.h"
#include "engine/plan.h"
#include "engine/safetensors.h"
#include "engine/weights.h"
#include "kernels/backend.h"
#include "kernels/backend_open.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f, "usage: longjam info --model DIR | --shape NAME [--context N] [--device cpu|cuda] [--chunk N]\n"
               "                    [--seqs N] [--experts auto|bf16|int8] [--gpu-memory GIB]\n\n"
               "Prints the model's config, the backend, the layer plan (attention/Mamba, MoE/dense per\n"
               "layer), parameter counts (total, active per token), bytes of weights, and the bytes of KV\n"
               "cache and recurrent (conv + SSM) state per token and per sequence of N tokens (default\n"
               "max_position_embeddings). The checkpoint is validated but its weights are not loaded.\n\n"
               "Then the memory plan on --device (default cpu): weights (experts in int8 or the device's\n"
               "float dtype), KV caches and Mamba states of --seqs sequences (default 1) of --context\n"
               "tokens, the workspace of one step of --chunk tokens (default 2048), the runtime reserve,\n"
               "against the device's memory (--gpu-memory GiB; default for cuda: an 80 GB H100 as CUDA\n"
               "reports it, 81559 MiB; for cpu: this host's RAM), and the largest context that fits.\n"
               "--shape plans a named shape without a checkpoint: jamba-1.5-mini, jamba-1.5-large,\n"
               "jamba-v0.1. With --device, exits with status 1 and says what to change when the plan does\n"
               "not fit (without it the CPU plan's verdict is a note).\n");
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

/* The memory plan table, the largest context that fits, and the refusal when it does not fit. */
static int print_plan(const lj_config *c, const char *device, const char *experts, size_t context, size_t chunk,
                      size_t seqs, double gpu_gib, int strict) {
    char err[LJ_ERRLEN];
    lj_plan_device dev;
    if (lj_plan_device_of(device, &dev, err, sizeof err)) { fprintf(stderr, "longjam info: %s\n", err); return CLI_USAGE; }
    size_t memory;
    const char *mem_from;
    if (gpu_gib > 0) {
        memory = (size_t)(gpu_gib * (double)(1ull << 30));
        mem_from = "--gpu-memory";
    } else if (!strcmp(device, "cuda")) {
        memory = (size_t)81559 << 20;
        mem_from = "an 80 GB H100 (81559 MiB)";
    } else {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        memory = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : 0;
        mem_from = "this host's RAM";
    }
    lj_plan_request r = {.experts = experts, .context = context, .chunk = chunk, .seqs = seqs, .memory = memory};
    lj_plan p;
    if (lj_plan_compute(c, &dev, &r, &p, err, sizeof err)) { fprintf(stderr, "longjam info: %s\n", err); return CLI_USAGE; }
    printf("\n");
    lj_plan_print(&p, stdout);
    printf("  (device memory from %s)\n", mem_from);
    size_t maxc = lj_plan_max_context(c, &dev, &r);
    if (maxc) printf("largest context that fits (experts %s, %zu sequence%s, chunk %zu): %zu tokens\n",
                     p.experts_int8 ? "int8" : lj_dtype_size(dev.weight) == 4 ? "fp32" : "bf16", seqs,
                     seqs == 1 ? "" : "s", chunk, maxc);
    else printf("largest context that fits: none (the weights, workspace and reserve alone exceed the memory)\n");
    if (lj_plan_check(c, &p, err, sizeof err)) {
        /* a plan asked for with --device fails the command; the default CPU plan is a note */
        if (!strict) { printf("note: %s\n", err); return CLI_OK; }
        fprintf(stderr, "longjam info: %s\n", err);
        return CLI_FAILED;
    }
    return CLI_OK;
}

int cmd_info(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    const char *model = NULL, *shape = NULL, *device = "cpu", *experts = "auto";
    size_t context = 0, chunk = 2048, seqs = 1;
    double gpu_gib = 0;
    int device_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--model") && v) { model = v; i++; }
        else if (!strcmp(a, "--shape") && v) { shape = v; i++; }
        else if (!strcmp(a, "--device") && v) { device = v; device_given = 1; i++; }
        else if (!strcmp(a, "--experts") && v) { experts = v; i++; }
        else if (!strcmp(a, "--context")) { if (cli_parse_size(a, v, &context)) return CLI_USAGE; i++; }
        else if (!strcmp(a, "--chunk")) { if (cli_parse_size(a, v, &chunk)) return CLI_USAGE; i++; }
        else if (!strcmp(a, "--seqs")) { if (cli_parse_size(a, v, &seqs)) return CLI_USAGE; i++; }
        else if (!strcmp(a, "--gpu-memory") && v) {
            char *end;
            gpu_gib = strtod(v, &end);
            if (end == v || *end || !(gpu_gib > 0) || gpu_gib > 1e6) {
                fprintf(stderr, "longjam info: --gpu-memory: '%s' is not a positive number of GiB\n", v);
                return CLI_USAGE;
            }
            i++;
        }
        else { fprintf(stderr, "longjam info: unknown or incomplete option '%s'\n\n", a); usage(stderr); return CLI_USAGE; }
    }
    if (!model == !shape) { usage(stderr); return CLI_USAGE; }
    if (chunk == 0 || seqs == 0) { fprintf(stderr, "longjam info: --chunk and --seqs must be at least 1\n"); return CLI_USAGE; }
    char err[LJ_ERRLEN], path[4096];
    lj_config c;
    lj_generation_config g;
    if (shape) {
        if (lj_config_named(shape, &c, err, sizeof err)) { fprintf(stderr, "longjam info: %s\n", err); return CLI_USAGE; }
        memset(&g, 0, sizeof g);
        g.n_eos = c.n_eos;
        memcpy(g.eos_token_id, c.eos_token_id, sizeof g.eos_token_id);
        model = shape;
    } else {
        snprintf(path, sizeof path, "%s/config.json", model);
        if (config_load(path, &c, err, sizeof err) || generation_config_load(model, &c, &g, err, sizeof err)) {
            fprintf(stderr, "longjam info: %s\n", err);
            return CLI_FAILED;
        }
    }
    /* A directory with config.json and no safetensors at all (a shape to plan for) is described
     * from the config alone; any checkpoint that is there must bind. */
    size_t disk = 0;
    const char *disk_dtype = NULL;
    if (!shape && has_weights(model)) {
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
    brc = lj_backend_open(device, 1, 0, &b, err, sizeof err);
    /* Planning for a GPU this machine does not have: describe it by the CUDA backend's dtypes. */
    lj_plan_device prof;
    const char *no_gpu = NULL;
    char why[LJ_ERRLEN];
    if (brc && !strcmp(device, "cuda") && !lj_plan_device_of("cuda", &prof, why, sizeof why)) {
        snprintf(why, sizeof why, "%s", err);
        no_gpu = why;
        b = NULL;
    } else if (brc) {
        fprintf(stderr, "longjam info: %s\n", err);
        return CLI_FAILED;
    } else {
        prof = (lj_plan_device){.name = b->name, .weight = b->weight_dtype, .act = b->act_dtype, .kv = b->kv_dtype};
    }
    lj_model_sizes sz;
    lj_config_sizes(&c, lj_dtype_size(prof.weight), &sz);
    sz.kv_bytes_per_token = sz.kv_bytes_per_token / 4 * lj_dtype_size(prof.kv);   /* sizes count fp32 KV */
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
    printf("backend: %s (weights %s, activations %s)%s%s\n", prof.name, prof.weight == LJ_F32 ? "fp32" : "bf16",
           prof.act == LJ_F32 ? "fp32" : "bf16", no_gpu ? "; not available here, planned from its dtypes: " : "",
           no_gpu ? no_gpu : "");
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
               sz.weight_bytes, prof.name, h2);
    else
        printf("weights: no safetensors in %s (sizes from config.json): %s in bf16, %zu bytes on the %s backend (%s)\n",
               model, h3, sz.weight_bytes, prof.name, h2);
    human(h1, sizeof h1, (double)sz.kv_bytes_per_token);
    human(h2, sizeof h2, (double)sz.kv_bytes_per_token * (double)context);
    human(h3, sizeof h3, (double)sz.state_bytes_per_seq);
    human(h4, sizeof h4, (double)sz.kv_bytes_per_token * (double)context + (double)sz.state_bytes_per_seq);
    printf("kv cache: %zu bytes per token (%s); %s per sequence of %zu tokens\n", sz.kv_bytes_per_token, h1, h2, context);
    printf("recurrent state (conv + ssm): %zu bytes per sequence (%s), independent of length\n", sz.state_bytes_per_seq, h3);
    printf("per sequence of %zu tokens: %s\n", context, h4);
    if (b) b->destroy(b);
    return print_plan(&c, device, experts, context, chunk, seqs, gpu_gib, device_given);
}
