/* The memory plan against hand-computed numbers, its refusals, and the loaded model's admission:
 *   - tiny-fp32's config on the CPU (fp32 everything), int8 and float experts: every item by hand
 *     (the loaded model's bytes are checked against the plan in int8_parity);
 *   - Jamba-1.5-Mini on CUDA at 262144 tokens: KV 4 GiB, Mamba 17 MiB, weights 54.1 GiB with int8
 *     experts / 96.1 GiB with bf16, workspace of a 2048-token chunk; fits an 80 GB H100 with
 *     int8, not with bf16 (and the message says --experts int8); "auto" picks int8 there;
 *   - refusals name what to change with values that fit (checked by planning them);
 *   - a loaded model refuses at load, at lj_state_new and at a step's workspace growth when its
 *     plan has no room, leaving states untouched; lj_plan_admits / lj_plan_free_bytes agree.
 * usage: int8_plan FIXTURE_DIR (tiny-fp32) */
#include "engine/model.h"
#include "engine/plan.h"
#include "test_util.h"

#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB ((size_t)1 << 30)

static void test_tiny(const char *dir) {
    char err[LJ_ERRLEN], path[4096];
    lj_config c;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (config_load(path, &c, err, sizeof err)) { CHECKF(0, "%s", err); return; }
    lj_plan_device cpu;
    CHECK(lj_plan_device_of("cpu", &cpu, err, sizeof err) == 0);
    lj_plan_request r = {.experts = "int8", .context = 100, .chunk = 16, .seqs = 3};
    lj_plan p;
    CHECK(lj_plan_compute(&c, &cpu, &r, &p, err, sizeof err) == 0);
    /* H 64, V 512, I 128, 8 layers (attention: 4; MoE: 1 3 5 7), D 128, N 16, R 8, K 4, E 4,
     * q 4 x 16, kv 2 x 16; fp32 = 4 B */
    CHECK(p.w_embed == 512 * 64 * 4 && p.w_lm_head == 512 * 64 * 4);
    CHECK(p.w_attention == (2 * 64 * 64 + 2 * 32 * 64) * 4);
    /* 7 Mamba layers: in/x/dt/out_proj + conv w, conv b, dt bias, A_log, D, dt/B/C norms */
    CHECKF(p.w_mamba == 7 * ((256 * 64 + 40 * 128 + 128 * 8 + 64 * 128) * 4 + (512 + 128 + 128 + 2048 + 128 + 8 + 16 + 16) * 4),
           "mamba %zu", p.w_mamba);
    CHECK(p.w_dense_ffn == 4 * 3 * 128 * 64 * 4);
    CHECK(p.w_router == 4 * 4 * 64 * 4);
    CHECK(p.w_experts == 4 * 4 * 3 * 128 * 64);             /* int8: 1 B */
    CHECK(p.w_expert_scales == 4 * 4 * (2 * 128 + 64) * 4); /* one fp32 per output row */
    CHECK(p.w_norms == (2 * 8 + 1) * 64 * 4);
    CHECKF(p.weights == 2070368, "int8 weights %zu", p.weights);
    CHECK(p.kv_per_token == 1 * 2 * 32 * 4 && p.kv_per_seq == 256 * 100);
    CHECK(p.mamba_per_seq == 7 * (3 * 128 + 128 * 16) * 4);
    CHECK(p.states == 3 * (25600 + 68096));
    CHECKF(p.ws_activations == 16 * 4 + 4 * 16 * (3 * 64 + 2 * 64 + 2 * 32 + 5 * 128 + 40 + 2 * 128), "act %zu", p.ws_activations);
    CHECKF(p.ws_moe == (16 * 4 + 2 * 16 * 64 + 2 * 16 * 128) * 4 + 32 * (sizeof(size_t) + 4) + 16 * (sizeof(size_t) + 4),
           "moe %zu", p.ws_moe);
    CHECK(p.ws_logits == 3 * 512 * 4);
    CHECK(p.total == p.weights + p.states + p.workspace && p.fits);
    r.experts = "bf16";
    CHECK(lj_plan_compute(&c, &cpu, &r, &p, err, sizeof err) == 0);
    CHECKF(p.weights == 3229536 && !p.experts_int8 && p.w_expert_scales == 0, "float weights %zu", p.weights);
    r.experts = "auto";   /* CPU: auto keeps float experts */
    CHECK(lj_plan_compute(&c, &cpu, &r, &p, err, sizeof err) == 0 && !p.experts_int8);
    r.experts = "int4";
    CHECK(lj_plan_compute(&c, &cpu, &r, &p, err, sizeof err) == -1 && test_contains(err, "int4"));
}

static void test_mini(void) {
    char err[LJ_ERRLEN];
    lj_config c;
    CHECK(lj_config_named("jamba-1.5-mini", &c, err, sizeof err) == 0);
    CHECK(lj_config_named("jamba-2", &c, err, sizeof err) == -1 && test_contains(err, "jamba-1.5-mini"));
    CHECK(lj_config_named("jamba-1.5-mini", &c, err, sizeof err) == 0);
    lj_model_sizes sz;
    lj_config_sizes(&c, 2, &sz);
    CHECKF(sz.params_total == 51570323328ull, "Mini params %zu", sz.params_total);   /* = Jamba-v0.1 (engine_info) */
    lj_plan_device cuda;
    CHECK(lj_plan_device_of("cuda", &cuda, err, sizeof err) == 0);
    {   /* the precise mode's backend name (LONGJAM_CUDA_PRECISION=fp32) is the same device: a
         * model loaded on it must plan, not fail with "unknown device" (found on the H100) */
        lj_plan_device f32;
        CHECKF(lj_plan_device_of("cuda-fp32", &f32, err, sizeof err) == 0 && f32.reserve == cuda.reserve,
               "cuda-fp32: %s", err);
        CHECK(lj_plan_device_of("tpu", &f32, err, sizeof err) == -1 && strstr(err, "unknown device"));
    }
    const size_t h100 = (size_t)81559 << 20;
    lj_plan_request r = {.experts = "int8", .context = 262144, .chunk = 2048, .seqs = 1, .memory = h100};
    lj_plan p;
    CHECK(lj_plan_compute(&c, &cuda, &r, &p, err, sizeof err) == 0);
    CHECKF(p.kv_per_seq == 4 * GIB, "KV %zu", p.kv_per_seq);   /* 4 layers x 2 x 8 x 128 x 2 B x 262144 */
    CHECK(p.mamba_per_seq == 28ull * (3 * 8192 + 8192 * 16) * 4);   /* 17 MiB */
    CHECK(p.w_experts == 16ull * 16 * 3 * 14336 * 4096);        /* 42 GiB of int8 */
    CHECK(p.w_expert_scales == 16ull * 16 * (2 * 14336 + 4096) * 4);
    size_t other = 2ull * 65536 * 4096 * 2                                       /* embed + lm_head */
                   + 4ull * (2 * 4096 * 4096 + 2 * 1024 * 4096) * 2               /* attention */
                   + 28ull * ((2 * 8192 * 4096 + 288 * 8192 + 8192 * 256 + 4096 * 8192) * 2 +
                              (8192 * 4 + 8192 + 8192 * 16 + 8192 + 256 + 32 + 8192) * 4)   /* mamba */
                   + 16ull * 3 * 14336 * 4096 * 2                                 /* dense FFN */
                   + 16ull * 16 * 4096 * 2 + 65ull * 4096 * 4;                    /* routers, norms */
    CHECKF(p.weights == other + p.w_experts + p.w_expert_scales, "weights %zu", p.weights);
    CHECK(p.ws_activations == 2048 * 4 + 2ull * 2048 * (3 * 4096 + 2 * 4096 + 2 * 1024 + 5 * 8192 + 288 + 2 * 14336));
    CHECK(p.fits && lj_plan_check(&c, &p, err, sizeof err) == 0);
    printf("Mini int8 @262144: weights %.2f GiB, total %.2f GiB of %.2f\n", (double)p.weights / GIB,
           (double)p.total / GIB, (double)h100 / GIB);
    CHECK(p.total > 59 * GIB && p.total < 60 * GIB);
    /* bf16 experts: 96 GiB of weights do not fit 80 GB; the message says int8 fits */
    r.experts = "bf16";
    CHECK(lj_plan_compute(&c, &cuda, &r, &p, err, sizeof err) == 0);
    CHECK(p.weights == other + 16ull * 16 * 3 * 14336 * 4096 * 2 && !p.fits);
    CHECK(lj_plan_check(&c, &p, err, sizeof err) == -1);
    printf("refusal: %s\n", err);
    CHECK(test_contains(err, "--experts int8") && test_contains(err, "does not fit"));
    CHECK(lj_plan_max_context(&c, &cuda, &r) == 0);
    /* auto picks int8 on an 80 GB GPU, bf16 on a 141 GB one */
    r.experts = "auto";
    CHECK(lj_plan_compute(&c, &cuda, &r, &p, err, sizeof err) == 0 && p.experts_int8 && p.fits);
    r.memory = (size_t)140 * GIB;
    CHECK(lj_plan_compute(&c, &cuda, &r, &p, err, sizeof err) == 0 && !p.experts_int8 && p.fits);
    size_t mc = lj_plan_max_context(&c, &cuda, &r);
    lj_plan_request r2 = r;
    r2.context = mc;
    CHECK(lj_plan_compute(&c, &cuda, &r2, &p, err, sizeof err) == 0 && p.fits && !p.experts_int8);
    r2.context = mc + 1;
    lj_plan_request r3 = r2;
    r3.experts = "bf16";
    CHECK(lj_plan_compute(&c, &cuda, &r3, &p, err, sizeof err) == 0 && !p.fits);
    printf("Mini bf16 on 140 GiB: largest context %zu\n", mc);
    /* 8 sequences x 256K with int8 on 80 GB: the message names fewer sequences and a shorter
     * context, with values that fit */
    r = (lj_plan_request){.experts = "int8", .context = 262144, .chunk = 8192, .seqs = 8, .memory = h100};
    CHECK(lj_plan_compute(&c, &cuda, &r, &p, err, sizeof err) == 0 && !p.fits);
    CHECK(lj_plan_check(&c, &p, err, sizeof err) == -1);
    printf("refusal: %s\n", err);
    const char *s = strstr(err, "--seqs ");
    CHECK(s != NULL);
    if (s) {
        lj_plan_request q = r;
        q.seqs = strtoul(s + 7, NULL, 10);
        CHECK(q.seqs >= 1 && lj_plan_compute(&c, &cuda, &q, &p, err, sizeof err) == 0 && p.fits);
        q.seqs++;
        CHECK(lj_plan_compute(&c, &cuda, &q, &p, err, sizeof err) == 0 && !p.fits);
    }
    /* one 256K sequence in a single chunk: the workspace is the problem; the message says --chunk */
    r = (lj_plan_request){.experts = "int8", .context = 262144, .chunk = 262144, .seqs = 1, .memory = h100};
    CHECK(lj_plan_compute(&c, &cuda, &r, &p, err, sizeof err) == 0 && !p.fits);
    CHECK(lj_plan_check(&c, &p, err, sizeof err) == -1 && test_contains(err, "--chunk "));
    printf("refusal: %s\n", err);
}

static void test_model(const char *dir) {
    char err[LJ_ERRLEN];
    lj_model *m;
    /* a budget below the weights: refused at load, naming the plan */
    lj_load_opts o = {.threads = 1, .experts = "int8", .memory = 1000000};
    CHECK(lj_model_load(dir, &o, &m, err, sizeof err) == -1);
    CHECKF(test_contains(err, "memory plan does not fit"), "%s", err);
    /* weights 2070368 + one state of 1000 tokens (324096) + a 64-token step (~440000) + a little */
    o = (lj_load_opts){.threads = 1, .experts = "int8", .context = 1000, .chunk = 64, .seqs = 1, .memory = 3000000};
    if (lj_model_load(dir, &o, &m, err, sizeof err)) { CHECKF(0, "%s", err); return; }
    const lj_plan *p = lj_model_plan(m);
    CHECK(p->experts_int8 && p->fits);
    size_t free0 = lj_plan_free_bytes(m), one = lj_plan_state_bytes_of(m, 1000);
    CHECK(one == 1000 * 256 + 68096);
    CHECK(lj_plan_admits(m, 1000));
    lj_state *s1 = NULL, *s2 = NULL;
    CHECKF(lj_state_new(m, 1000, &s1, err, sizeof err) == 0, "%s", err);
    CHECK(lj_plan_free_bytes(m) == free0 - one);
    /* a larger one does not fit (3 MB budget): refused before allocating, the message says why */
    size_t big = 1000 + lj_plan_free_bytes(m) / 256;
    CHECK(!lj_plan_admits(m, big));
    CHECK(lj_state_new(m, big, &s2, err, sizeof err) == -1 && s2 == NULL);
    printf("state refusal: %s\n", err);
    CHECK(test_contains(err, "memory plan") && test_contains(err, "shorter context"));
    /* a step larger than the planned chunk grows the workspace only when it fits */
    int32_t *ids = calloc(1000, sizeof *ids);
    lj_seq_step st = {.state = s1, .tokens = ids, .n_tokens = 1000};
    CHECK(lj_forward(m, &st, 1, NULL, NULL, err, sizeof err) == -1);
    printf("step refusal: %s\n", err);
    CHECK(test_contains(err, "workspace") && lj_state_length(s1) == 0);
    st.n_tokens = 64;
    CHECKF(lj_forward(m, &st, 1, NULL, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(lj_state_length(s1) == 64);
    lj_state_free(s1);
    CHECK(lj_plan_free_bytes(m) == free0);
    free(ids);
    lj_model_free(m);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: int8_plan FIXTURE_DIR\n"); return 2; }
    test_tiny(argv[1]);
    test_mini();
    test_model(argv[1]);
    return test_finish("int8_plan");
}
