/* Bad checkpoints: each case is built here from a good fixture (or from scratch) in a temporary
 * directory, and the loader must fail with a message naming the file, tensor and byte offset —
 * never crash (this test also runs under ASan/UBSan).
 * usage: engine_badinput FIXTURE_DIR (a one-file checkpoint, e.g. tiny-fp32) */
#include "engine/config.h"
#include "engine/model.h"
#include "engine/safetensors.h"
#include "test_util.h"

#include "common/error.h"
#include "common/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[256];

static const char *tpath(const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmp, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

/* A safetensors file with the given header text and `data_len` zero bytes after it. */
static void make_st(const char *path, const char *header, size_t data_len) {
    size_t hl = strlen(header);
    unsigned char *buf = calloc(1, 8 + hl + data_len);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, header, hl);
    write_bytes(path, buf, 8 + hl + data_len);
    free(buf);
}

/* st_open must fail and the message must contain every needle. */
static void expect_open_error(const char *what, const char *path, const char *const *needles) {
    char err[LJ_ERRLEN] = "";
    st_file *f = NULL;
    int rc = st_open(path, &f, err, sizeof err);
    CHECKF(rc == -1 && f == NULL, "%s: st_open accepted a bad file", what);
    for (size_t i = 0; needles[i]; i++) CHECKF(test_contains(err, needles[i]), "%s: '%s' not in: %s", what, needles[i], err);
    printf("%-28s -> %s\n", what, err);
    st_close(f);
}

static void expect_load_error(const char *what, const char *dir, const char *const *needles) {
    char err[LJ_ERRLEN] = "";
    lj_model *m = NULL;
    lj_load_opts o = {.threads = 1};
    int rc = lj_model_load(dir, &o, &m, err, sizeof err);
    CHECKF(rc == -1 && m == NULL, "%s: lj_model_load accepted a bad checkpoint", what);
    for (size_t i = 0; needles[i]; i++) CHECKF(test_contains(err, needles[i]), "%s: '%s' not in: %s", what, needles[i], err);
    printf("%-28s -> %.300s%s\n", what, err, strlen(err) > 300 ? "..." : "");
    lj_model_free(m);
}

#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *fx = argv[1];
    char err[LJ_ERRLEN], path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", fx);
    size_t good_len;
    char *good = lj_read_file(path, &good_len, err, sizeof err);
    snprintf(path, sizeof path, "%s/config.json", fx);
    char *config = lj_read_file(path, NULL, err, sizeof err);
    if (!good || !config) { fprintf(stderr, "SKIP: %s\n", err); free(good); free(config); return TEST_SKIP; }
    snprintf(tmp, sizeof tmp, "%s/lj-badinput-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 1; }

    /* ---- file-level structure ---- */
    write_bytes(tpath("short.safetensors"), good, 5);
    expect_open_error("truncated before header", tpath("short.safetensors"), NEEDLES("short.safetensors", "truncated: 5 bytes"));

    write_bytes(tpath("trunc.safetensors"), good, good_len / 2);
    expect_open_error("truncated data", tpath("trunc.safetensors"),
                      NEEDLES("trunc.safetensors", "tensor ", "outside the data section", "file offset"));

    {   /* header length 10^6 in a 100-byte file */
        unsigned char b[100] = {0x40, 0x42, 0x0f, 0, 0, 0, 0, 0};
        write_bytes(tpath("hlen.safetensors"), b, sizeof b);
        expect_open_error("header length > file", tpath("hlen.safetensors"),
                          NEEDLES("hlen.safetensors", "header length 1000000", "larger than the 92 bytes"));
    }
    make_st(tpath("notjson.safetensors"), "{\"a\": {\"dtype\": \"F32\", \"sha", 16);
    expect_open_error("header not JSON", tpath("notjson.safetensors"), NEEDLES("notjson.safetensors", "header is not JSON"));
    make_st(tpath("array.safetensors"), "[1, 2, 3]", 0);
    expect_open_error("header not an object", tpath("array.safetensors"), NEEDLES("not a JSON object"));

    make_st(tpath("outside.safetensors"),
            "{\"w\": {\"dtype\": \"F32\", \"shape\": [100], \"data_offsets\": [0, 400]}}", 16);
    expect_open_error("offsets outside data", tpath("outside.safetensors"),
                      NEEDLES("outside.safetensors", "tensor w", "[0, 400]", "16 bytes"));

    make_st(tpath("overlap.safetensors"),
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
            " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}", 24);
    expect_open_error("overlapping tensors", tpath("overlap.safetensors"),
                      NEEDLES("overlap.safetensors", "tensors a and b overlap", "file offset"));

    make_st(tpath("dtype.safetensors"), "{\"q\": {\"dtype\": \"Q4_K\", \"shape\": [4], \"data_offsets\": [0, 2]}}", 2);
    expect_open_error("unknown dtype", tpath("dtype.safetensors"), NEEDLES("dtype.safetensors", "tensor q", "unknown dtype \"Q4_K\""));

    make_st(tpath("size.safetensors"), "{\"s\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}", 16);
    expect_open_error("shape x dtype != bytes", tpath("size.safetensors"),
                      NEEDLES("size.safetensors", "tensor s", "12 bytes", "hold 16"));

    make_st(tpath("neg.safetensors"), "{\"n\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4);
    expect_open_error("negative shape", tpath("neg.safetensors"), NEEDLES("tensor n", "shape[0]"));

    make_st(tpath("huge.safetensors"),
            "{\"h\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 16], \"data_offsets\": [0, 4]}}", 4);
    expect_open_error("shape overflow", tpath("huge.safetensors"), NEEDLES("tensor h", "overflow"));

    {   /* random garbage must not crash, whatever it says */
        unsigned char g[4096];
        uint64_t x = 42;
        for (int round = 0; round < 200; round++) {
            size_t n = 8 + (size_t)(x % 400);
            for (size_t i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; g[i] = (unsigned char)x; }
            uint64_t hl = x % (n + 4);
            for (int i = 0; i < 8; i++) g[i] = (unsigned char)(hl >> (8 * i));
            write_bytes(tpath("garbage.safetensors"), g, n);
            st_file *f = NULL;
            if (st_open(tpath("garbage.safetensors"), &f, err, sizeof err) == 0) st_close(f);
        }
        CHECK(1);
    }

    /* ---- checkpoint-level: binding ---- */
    st_file *src;
    snprintf(path, sizeof path, "%s/model.safetensors", fx);
    if (st_open(path, &src, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    size_t n = st_count(src);
    st_out_tensor *ot = calloc(n + 1, sizeof *ot);
    size_t k = 0;
    static float extra[7];
    const char *dropped = "model.layers.4.self_attn.k_proj.weight", *reshaped = "model.layers.0.mamba.A_log";
    for (size_t i = 0; i < n; i++) {
        const st_tensor *t = st_at(src, i);
        if (!strcmp(t->name, dropped)) continue;
        ot[k] = (st_out_tensor){.name = t->name, .dtype = t->dtype, .ndim = t->ndim, .data = t->data};
        memcpy(ot[k].shape, t->shape, sizeof t->shape);
        if (!strcmp(t->name, reshaped)) {   /* same bytes, transposed shape */
            ot[k].shape[0] = t->shape[1];
            ot[k].shape[1] = t->shape[0];
        }
        k++;
    }
    ot[k++] = (st_out_tensor){.name = "model.layers.0.mamba.bonus", .dtype = ST_F32, .ndim = 1, .shape = {7}, .data = extra};
    CHECK(mkdir(tpath("ckpt"), 0700) == 0);
    write_bytes(tpath("ckpt/config.json"), config, strlen(config));
    CHECKF(st_write(tpath("ckpt/model.safetensors"), ot, k, err, sizeof err) == 0, "%s", err);
    expect_load_error("missing + misshaped + extra", tpath("ckpt"),
                      NEEDLES("3 problems", "missing tensor model.layers.4.self_attn.k_proj.weight",
                              "tensor model.layers.0.mamba.A_log", "has shape [16, 128], expected [128, 16]",
                              "unexpected tensor model.layers.0.mamba.bonus"));
    /* wrong dtype of a bound tensor */
    for (size_t i = 0; i < k; i++)
        if (!strcmp(ot[i].name, reshaped)) { ot[i].shape[0] = 128; ot[i].shape[1] = 16; ot[i].dtype = ST_I32; }
    k--;   /* drop the extra */
    ot[k++] = (st_out_tensor){.name = dropped, .dtype = ST_F32, .ndim = 2, .shape = {32, 64},
                              .data = st_find(src, dropped)->data};
    CHECKF(st_write(tpath("ckpt/model.safetensors"), ot, k, err, sizeof err) == 0, "%s", err);
    expect_load_error("wrong dtype", tpath("ckpt"), NEEDLES("1 problem", "model.layers.0.mamba.A_log", "dtype I32"));
    /* the same tensors with the right dtype load (the rewrite itself is sound) */
    for (size_t i = 0; i < k; i++)
        if (!strcmp(ot[i].name, reshaped)) ot[i].dtype = ST_F32;
    CHECKF(st_write(tpath("ckpt/model.safetensors"), ot, k, err, sizeof err) == 0, "%s", err);
    {
        lj_model *m = NULL;
        CHECKF(lj_model_load(tpath("ckpt"), NULL, &m, err, sizeof err) == 0, "rewritten good checkpoint: %s", err);
        lj_model_free(m);
    }
    /* truncated model file inside a checkpoint: the error names it */
    write_bytes(tpath("ckpt/model.safetensors"), good, good_len - 100);
    expect_load_error("truncated checkpoint", tpath("ckpt"), NEEDLES("ckpt/model.safetensors", "outside the data section"));

    /* index.json naming a shard that is not there */
    CHECK(mkdir(tpath("shards"), 0700) == 0);
    write_bytes(tpath("shards/config.json"), config, strlen(config));
    write_bytes(tpath("shards/model-00001-of-00002.safetensors"), good, good_len);
    const char *index = "{\"metadata\": {}, \"weight_map\": {\"model.embed_tokens.weight\": \"model-00001-of-00002.safetensors\","
                        " \"lm_head.weight\": \"model-00002-of-00002.safetensors\"}}";
    write_bytes(tpath("shards/model.safetensors.index.json"), index, strlen(index));
    expect_load_error("index names a missing shard", tpath("shards"),
                      NEEDLES("model.safetensors.index.json", "model-00002-of-00002.safetensors", "does not exist"));

    /* the same tensor in two shards */
    CHECK(mkdir(tpath("dup"), 0700) == 0);
    write_bytes(tpath("dup/config.json"), config, strlen(config));
    write_bytes(tpath("dup/a.safetensors"), good, good_len);
    write_bytes(tpath("dup/b.safetensors"), good, good_len);
    expect_load_error("tensor in two shards", tpath("dup"), NEEDLES("is in both", "dup/a.safetensors", "dup/b.safetensors"));

    /* ---- config.json ---- */
    lj_config c;
    CHECK(config_parse("{\"vocab_size\": 10, \"intermediate_size\": 4, \"num_hidden_layers\": 1, "
                       "\"num_attention_heads\": 1}", "cfg.json", &c, err, sizeof err) == -1);
    CHECKF(test_contains(err, "cfg.json") && test_contains(err, "\"hidden_size\" is missing"), "%s", err);
    printf("%-28s -> %s\n", "config without hidden_size", err);
    {   /* through the loader, with the fixture's config minus hidden_size */
        CHECK(mkdir(tpath("nohidden"), 0700) == 0);
        char *cfg2 = strdup(config), *h = strstr(cfg2, "\"hidden_size\"");
        CHECK(h != NULL);
        if (h) memcpy(h, "\"hidden_sizX\"", 13);
        write_bytes(tpath("nohidden/config.json"), cfg2, strlen(cfg2));
        write_bytes(tpath("nohidden/model.safetensors"), good, good_len);
        expect_load_error("config without hidden_size", tpath("nohidden"),
                          NEEDLES("nohidden/config.json", "required field \"hidden_size\" is missing"));
        free(cfg2);
    }
    CHECK(config_parse("{\"vocab_size\": 10, \"hidden_size\": 8, \"intermediate_size\": 4, \"num_hidden_layers\": 2, "
                       "\"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"num_experts\": 4, "
                       "\"num_experts_per_tok\": 5}", "cfg.json", &c, err, sizeof err) == -1);
    CHECKF(test_contains(err, "num_experts_per_tok (5)") && test_contains(err, "num_experts (4)"), "%s", err);
    printf("%-28s -> %s\n", "top-k > experts", err);
    CHECK(config_parse("{\"vocab_size\": 10, \"hidden_size\": 8", "cut.json", &c, err, sizeof err) == -1);
    CHECKF(test_contains(err, "cut.json") && test_contains(err, "not valid JSON"), "%s", err);
    CHECK(config_parse("{\"vocab_size\": 10, \"hidden_size\": \"big\", \"intermediate_size\": 4, \"num_hidden_layers\": 1,"
                       " \"num_attention_heads\": 1}", "cfg.json", &c, err, sizeof err) == -1);
    CHECKF(test_contains(err, "\"hidden_size\" must be a non-negative integer"), "%s", err);
    /* defaults as transformers' JambaConfig: dt_rank auto = ceil(hidden/16), kv heads 8, dense when 1 expert */
    CHECK(config_parse("{\"vocab_size\": 10, \"hidden_size\": 40, \"intermediate_size\": 4, \"num_hidden_layers\": 9,"
                       " \"num_attention_heads\": 8, \"num_experts\": 1, \"eos_token_id\": [2, 7]}", "d.json", &c, err,
                       sizeof err) == 0);
    CHECK(c.mamba_dt_rank == 3 && c.num_key_value_heads == 8 && c.head_dim == 5 && c.mamba_d_inner == 80);
    CHECK(c.mamba_conv_bias && !c.mamba_proj_bias && !c.tie_word_embeddings && c.rms_norm_eps == 1e-6);
    CHECK(c.num_experts_per_tok == 2 && c.attn_layer_period == 8 && c.attn_layer_offset == 4 && c.expert_layer_period == 2);
    CHECK(c.expert_layer_offset == 1 && c.mamba_d_state == 16 && c.mamba_d_conv == 4 && c.mamba_expand == 2);
    CHECK(c.max_position_embeddings == 262144 && c.pad_token_id == 0 && c.bos_token_id == 1);
    CHECK(c.initializer_range == 0.02 && c.router_aux_loss_coef == 0.001 && c.attention_dropout == 0.0);
    CHECK(c.n_eos == 2 && c.eos_token_id[1] == 7 && config_is_eos(&c, 7) && !config_is_eos(&c, 3));
    CHECK(config_layer_is_attention(&c, 4) && !config_layer_is_attention(&c, 5) && !config_layer_is_moe(&c, 1));

    /* generation_config.json: eos list, sampling defaults; a broken one is an error naming it */
    {
        CHECK(mkdir(tpath("gen"), 0700) == 0);
        const char *gc = "{\"eos_token_id\": [2, 7], \"temperature\": 0.6, \"top_p\": 0.9, \"top_k\": 20,"
                         " \"max_new_tokens\": 5, \"do_sample\": true}";
        write_bytes(tpath("gen/generation_config.json"), gc, strlen(gc));
        lj_generation_config g;
        CHECK(generation_config_load(tpath("gen"), &c, &g, err, sizeof err) == 0);
        CHECK(g.n_eos == 2 && g.eos_token_id[0] == 2 && g.eos_token_id[1] == 7);
        CHECK(g.has_temperature && g.temperature == 0.6 && g.has_top_p && g.top_p == 0.9 && g.has_top_k && g.top_k == 20);
        CHECK(g.has_max_new_tokens && g.max_new_tokens == 5 && g.do_sample);
        CHECK(generation_config_load(tpath("ckpt"), &c, &g, err, sizeof err) == 0);   /* absent: config's eos */
        CHECK(g.n_eos == c.n_eos && !g.has_temperature && !g.do_sample);
        const char *bad = "{\"eos_token_id\": \"x\"}";
        write_bytes(tpath("gen/generation_config.json"), bad, strlen(bad));
        CHECK(generation_config_load(tpath("gen"), &c, &g, err, sizeof err) == -1);
        CHECKF(test_contains(err, "gen/generation_config.json") && test_contains(err, "eos_token_id"), "%s", err);
    }

    free(ot);
    st_close(src);
    free(good);
    free(config);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return test_finish("engine_badinput");
}
