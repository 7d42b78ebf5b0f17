/* longjam logits: run a prompt given as token ids in safetensors and write its logits (and
 * optionally every layer's hidden states) as safetensors. Parity tests and benchmarks rely on
 * this contract. */
#include "cli/cli_engine.h"
#include "cli/prompt.h"
#include "cli/commands.h"

#include "common/error.h"
#include "engine/model.h"
#include "engine/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: longjam logits --model DIR (--input FILE.safetensors | --prompt TEXT | --prompt-file FILE)\n"
               "                      --out OUT.safetensors [--chat [--system TEXT]] [--tokenizer FILE]\n"
               "                      [--chunk N] [--threads N] [--hidden] [--device cpu|cuda]\n"
               "                      [--experts auto|bf16|int8] [--tp N]\n\n"
               "Reads `input_ids` (I64 or I32 [T]) from --input, runs the model over them (in prefill\n"
               "chunks of N tokens with --chunk; default one pass) and writes `logits` F32 [T, V] to --out;\n"
               "with --hidden also `hidden_states` F32 [L+1, T, H] (embedding output, then each layer's).\n"
               "A text prompt (--prompt/--prompt-file) is encoded with --tokenizer FILE (default\n"
               "DIR/tokenizer.json), with the tokenizer's BOS, or with --chat as one user turn of the Jamba\n"
               "chat template; its ids are then also written to --out as `input_ids` I64 [T].\n"
               "--experts int8 quantises the MoE experts at load (per-output-channel int8, ExpertsInt8);\n"
               "the memory plan for T tokens is checked before any weight is loaded.\n"
               "--tp N splits the model over N tensor-parallel ranks (CPU: threads of this process;\n"
               "the logits equal one rank's up to the order of a few sums).\n");
}

int cmd_logits(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    const char *model = NULL, *input = NULL, *out = NULL, *device = "cpu", *experts = "auto";
    size_t chunk = 0, threads = 0, tp = 0;
    int want_hidden = 0, pr;
    cli_prompt prompt_opt = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--model") && v) { model = v; i++; }
        else if (!strcmp(a, "--input") && v) { input = v; i++; }
        else if (!strcmp(a, "--out") && v) { out = v; i++; }
        else if (!strcmp(a, "--device") && v) { device = v; i++; }
        else if (!strcmp(a, "--experts") && v) { experts = v; i++; }
        else if (!strcmp(a, "--chunk")) { if (cli_parse_size(a, v, &chunk)) return CLI_USAGE; i++; }
        else if (!strcmp(a, "--threads")) { if (cli_parse_size(a, v, &threads)) return CLI_USAGE; i++; }
        else if (!strcmp(a, "--tp")) { if (cli_parse_size(a, v, &tp)) return CLI_USAGE; i++; }
        else if (!strcmp(a, "--hidden")) want_hidden = 1;
        else if ((pr = cli_prompt_option(&prompt_opt, argc, argv, &i, "logits")) != 0) { if (pr < 0) return CLI_USAGE; }
        else { fprintf(stderr, "longjam logits: unknown or incomplete option '%s'\n\n", a); usage(stderr); return CLI_USAGE; }
    }
    if (!model || !out || !!input == !!cli_prompt_given(&prompt_opt)) { usage(stderr); return CLI_USAGE; }
    char err[LJ_ERRLEN];
    int32_t *ids = NULL;
    size_t T = 0;
    int64_t *ids64 = NULL;
    if (!input) {
        lj_tokenizer *tok;
        if (cli_prompt_encode(&prompt_opt, model, "logits", &tok, &ids, &T)) return CLI_FAILED;
        tok_free(tok);
        goto have_ids;
    }
    st_file *in;
    if (st_open(input, &in, err, sizeof err)) { fprintf(stderr, "longjam logits: %s\n", err); return CLI_FAILED; }
    const st_tensor *t = st_find(in, "input_ids");
    if (!t || (t->dtype != ST_I64 && t->dtype != ST_I32) || t->numel == 0) {
        fprintf(stderr, "longjam logits: %s: needs a non-empty tensor input_ids of dtype I64 or I32\n", input);
        st_close(in);
        return CLI_FAILED;
    }
    T = t->numel;
    ids = malloc(T * sizeof *ids);
    for (size_t i = 0; i < T; i++) {
        int64_t v = 0;
        if (t->dtype == ST_I64) memcpy(&v, (const char *)t->data + 8 * i, 8);
        else { int32_t w; memcpy(&w, (const char *)t->data + 4 * i, 4); v = w; }
        ids[i] = v < 0 || v > INT32_MAX ? -1 : (int32_t)v;
    }
    st_close(in);

have_ids: ;
    lj_load_opts o = {.device = device, .threads = (int)threads, .experts = experts, .tp = (int)tp, .context = T,
                      .chunk = chunk && chunk < T ? chunk : T, .seqs = 1};
    lj_model *m;
    if (lj_model_load(model, &o, &m, err, sizeof err)) {
        fprintf(stderr, "longjam logits: %s\n", err);
        free(ids);
        return CLI_FAILED;
    }
    const lj_config *c = lj_model_config(m);
    const size_t V = c->vocab_size, H = c->hidden_size, L1 = c->num_hidden_layers + 1;
    if (chunk == 0 || chunk > T) chunk = T;
    float *logits = malloc(T * V * sizeof *logits);
    float *hidden = want_hidden ? malloc(L1 * T * H * sizeof *hidden) : NULL;
    float *h = want_hidden ? malloc(L1 * chunk * H * sizeof *h) : NULL;
    lj_state *s = NULL;
    int rc = CLI_FAILED;
    if (!logits || (want_hidden && (!hidden || !h))) { fprintf(stderr, "longjam logits: out of memory\n"); goto done; }
    if (lj_state_new(m, T, &s, err, sizeof err)) { fprintf(stderr, "longjam logits: %s\n", err); goto done; }
    for (size_t i = 0; i < T; i += chunk) {
        size_t n = T - i < chunk ? T - i : chunk;
        lj_seq_step st = {.state = s, .tokens = ids + i, .n_tokens = n, .want_all_logits = 1};
        if (lj_forward(m, &st, 1, logits + i * V, h, err, sizeof err)) {
            fprintf(stderr, "longjam logits: %s: %s\n", input, err);
            goto done;
        }
        for (size_t l = 0; h && l < L1; l++) memcpy(hidden + (l * T + i) * H, h + l * n * H, n * H * sizeof *h);
    }
    st_out_tensor ot[3] = {{.name = "logits", .dtype = ST_F32, .ndim = 2, .shape = {T, V}, .data = logits},
                           {.name = "hidden_states", .dtype = ST_F32, .ndim = 3, .shape = {L1, T, H}, .data = hidden},
                           {.name = "input_ids", .dtype = ST_I64, .ndim = 1, .shape = {T}, .data = NULL}};
    size_t n_ot = want_hidden ? 2 : 1;
    if (!input) {
        /* a text prompt: keep the ids it became beside the logits */
        if (!(ids64 = malloc(T * sizeof *ids64))) { fprintf(stderr, "longjam logits: out of memory\n"); goto done; }
        for (size_t i = 0; i < T; i++) ids64[i] = ids[i];
        ot[2].data = ids64;
        if (!want_hidden) ot[1] = ot[2];
        n_ot++;
    }
    if (st_write(out, ot, n_ot, err, sizeof err)) { fprintf(stderr, "longjam logits: %s\n", err); goto done; }
    rc = CLI_OK;
done:
    lj_state_free(s);
    lj_model_free(m);
    free(ids);
    free(ids64);
    free(logits);
    free(hidden);
    free(h);
    return rc;
}
