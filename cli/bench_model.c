/* longjam bench [model]: prefill and decode throughput of a checkpoint on the CPU backend, with
 * random (seeded) token ids. Prints figures; asserts nothing. */
#include "cli/cli_engine.h"
#include "cli/commands.h"

#include "common/error.h"
#include "common/util.h"
#include "engine/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: longjam bench [model] --model DIR [--prompt-tokens N] [--decode N] [--threads N]\n"
               "                     [--chunk N] [--seed S] [--repeat R] [--device cpu|cuda]\n"
               "                     [--experts auto|bf16|int8] [--tp N]\n\n"
               "Times a prefill of N random token ids (default 256; in chunks of --chunk, default one pass)\n"
               "and then --decode single-token steps (default 64) through the sequence state, and prints\n"
               "tokens/s for each (best of --repeat runs, default 3). Ids are drawn from the vocabulary\n"
               "with a seeded generator (--seed, default 1). --tp N: tensor parallel over N ranks.\n");
}

int bench_model_main(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    const char *model = NULL, *device = "cpu", *experts = "auto";
    size_t prompt = 256, decode = 64, threads = 0, chunk = 0, seed = 1, repeat = 3, tp = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t *dst = !strcmp(a, "--prompt-tokens") ? &prompt : !strcmp(a, "--decode") ? &decode
                    : !strcmp(a, "--threads") ? &threads : !strcmp(a, "--chunk") ? &chunk
                    : !strcmp(a, "--seed") ? &seed : !strcmp(a, "--repeat") ? &repeat
                    : !strcmp(a, "--tp") ? &tp : NULL;
        if (dst) { if (cli_parse_size(a, v, dst)) return CLI_USAGE; i++; }
        else if (!strcmp(a, "--model") && v) { model = v; i++; }
        else if (!strcmp(a, "--device") && v) { device = v; i++; }
        else if (!strcmp(a, "--experts") && v) { experts = v; i++; }
        else { fprintf(stderr, "longjam bench: unknown or incomplete option '%s'\n\n", a); usage(stderr); return CLI_USAGE; }
    }
    if (!model || prompt == 0) { usage(stderr); return CLI_USAGE; }
    if (repeat == 0) repeat = 1;
    char err[LJ_ERRLEN];
    lj_load_opts o = {.device = device, .threads = (int)threads, .experts = experts, .tp = (int)tp};
    lj_model *m;
    double t0 = lj_now();
    if (lj_model_load(model, &o, &m, err, sizeof err)) { fprintf(stderr, "longjam bench: %s\n", err); return CLI_FAILED; }
    double load_s = lj_now() - t0;
    const size_t V = lj_model_config(m)->vocab_size;
    int32_t *ids = malloc((prompt + decode) * sizeof *ids);
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < prompt + decode; i++) {   /* xorshift64* */
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        ids[i] = (int32_t)((x * 0x2545F4914F6CDD1Dull >> 33) % V);
    }
    float *logits = malloc(V * sizeof *logits);
    double best_pre = 1e30, best_dec = 1e30;
    int rc = CLI_OK;
    for (size_t r = 0; r < repeat && rc == CLI_OK; r++) {
        lj_state *s;
        if (lj_state_new(m, prompt + decode, &s, err, sizeof err)) { rc = CLI_FAILED; break; }
        double a = lj_now();
        if (lj_prefill(m, s, ids, prompt, chunk, 0, logits, err, sizeof err)) rc = CLI_FAILED;
        double b = lj_now();
        for (size_t i = 0; i < decode && rc == CLI_OK; i++) {
            lj_seq_step st = {.state = s, .tokens = &ids[prompt + i], .n_tokens = 1};
            if (lj_forward(m, &st, 1, logits, NULL, err, sizeof err)) rc = CLI_FAILED;
        }
        double c = lj_now();
        if (b - a < best_pre) best_pre = b - a;
        if (c - b < best_dec) best_dec = c - b;
        lj_state_free(s);
    }
    if (rc != CLI_OK) fprintf(stderr, "longjam bench: %s\n", err);
    else {
        const lj_config *c = lj_model_config(m);
        printf("model: %s (%zu layers, hidden %zu, vocab %zu), backend %s, threads %zu, load %.3f s\n", model,
               c->num_hidden_layers, c->hidden_size, V, lj_model_backend_name(m), threads ? threads : (size_t)lj_cpu_count(),
               load_s);
        printf("prefill: %zu tokens (chunk %zu) in %.4f s = %.1f tokens/s (best of %zu)\n", prompt,
               chunk ? chunk : prompt, best_pre, prompt / best_pre, repeat);
        if (decode)
            printf("decode:  %zu tokens in %.4f s = %.1f tokens/s (%.3f ms/token, best of %zu)\n", decode, best_dec,
                   decode / best_dec, 1e3 * best_dec / decode, repeat);
    }
    free(ids);
    free(logits);
    lj_model_free(m);
    return rc;
}
