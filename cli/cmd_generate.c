/* longjam generate: greedy (or, with --temperature, sampled) continuation of a prompt given as
 * token ids, printed as ids on one line of stdout. */
#include "cli/cli_engine.h"
#include "cli/prompt.h"
#include "cli/commands.h"

#include "common/error.h"
#include "engine/model.h"
#include "engine/sampler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: longjam generate --model DIR (--ids 1,2,3 | --prompt TEXT | --prompt-file FILE)\n"
               "                        [--chat [--system TEXT]] [--tokenizer FILE] [--max-new-tokens N]\n"
               "                        [--chunk N] [--threads N] [--ignore-eos] [--device cpu|cuda]\n"
               "                        [--experts auto|bf16|int8] [--tp N]\n"
               "                        [--temperature T [--top-p P] [--top-k K] [--seed S]]\n\n"
               "Decodes greedily (argmax) from the prompt token ids and prints the new ids, space-separated,\n"
               "on one line of stdout. The prompt is prefilled in chunks of --chunk tokens (default one pass),\n"
               "then each new token is decoded through the sequence state. Generation stops after an\n"
               "end-of-sequence id (generation_config.json, else config.json eos_token_id; the eos id is\n"
               "printed) unless --ignore-eos is given, or after N new tokens (default: generation_config.json's\n"
               "max_new_tokens, else 16). --temperature T > 0 samples instead (softmax(logits / T), then\n"
               "--top-k and --top-p nucleus filtering; --seed makes it reproducible, default 0).\n\n"
               "A text prompt (--prompt or --prompt-file) is encoded with --tokenizer FILE (default\n"
               "DIR/tokenizer.json), with the tokenizer's BOS; --chat formats it as one user turn of the\n"
               "Jamba chat template (after --system TEXT if given) ending with the assistant prompt. With a\n"
               "text prompt, a second line of stdout holds the decoded new text (special tokens skipped).\n");
}

int cmd_generate(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    const char *model = NULL, *ids_text = NULL, *device = "cpu", *experts = "auto";
    size_t max_new = 0, chunk = 0, threads = 0, tp = 0;
    int have_max = 0, ignore_eos = 0, pr;
    cli_prompt prompt_opt = {0};
    lj_sampler_params sp = {.temperature = 0, .top_p = 1, .top_k = 0, .seed = 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--model") && v) { model = v; i++; }
        else if (!strcmp(a, "--ids") && v) { ids_text = v; i++; }
        else if (!strcmp(a, "--device") && v) { device = v; i++; }
        else if (!strcmp(a, "--experts") && v) { experts = v; i++; }
        else if (!strcmp(a, "--max-new-tokens")) { if (cli_parse_size(a, v, &max_new)) return CLI_USAGE; have_max = 1; i++; }
        else if (!strcmp(a, "--chunk")) { if (cli_parse_size(a, v, &chunk)) return CLI_USAGE; i++; }
        else if (!strcmp(a, "--threads")) { if (cli_parse_size(a, v, &threads)) return CLI_USAGE; i++; }
        else if (!strcmp(a, "--tp")) { if (cli_parse_size(a, v, &tp)) return CLI_USAGE; i++; }
        else if (!strcmp(a, "--ignore-eos")) ignore_eos = 1;
        else if ((!strcmp(a, "--temperature") || !strcmp(a, "--top-p")) && v) {
            char *end;
            double d = strtod(v, &end);
            if (end == v || *end) { fprintf(stderr, "longjam generate: %s: '%s' is not a number\n", a, v); return CLI_USAGE; }
            if (a[2] == 't' && a[3] == 'e') sp.temperature = d; else sp.top_p = d;
            i++;
        } else if (!strcmp(a, "--top-k") || !strcmp(a, "--seed")) {
            size_t val;
            if (cli_parse_size(a, v, &val)) return CLI_USAGE;
            if (a[2] == 's') sp.seed = val; else sp.top_k = (long)val;
            i++;
        }
        else if ((pr = cli_prompt_option(&prompt_opt, argc, argv, &i, "generate")) != 0) {
            if (pr < 0) return CLI_USAGE;
        } else { fprintf(stderr, "longjam generate: unknown or incomplete option '%s'\n\n", a); usage(stderr); return CLI_USAGE; }
    }
    if (!model || !!ids_text == !!cli_prompt_given(&prompt_opt)) { usage(stderr); return CLI_USAGE; }
    int32_t *prompt;
    size_t n;
    lj_tokenizer *tok = NULL;
    if (ids_text && cli_parse_ids(ids_text, &prompt, &n)) return CLI_USAGE;
    if (!ids_text && cli_prompt_encode(&prompt_opt, model, "generate", &tok, &prompt, &n)) return CLI_FAILED;
    int32_t *out_ids = malloc(sizeof *out_ids);
    size_t n_out = 0;
    char err[LJ_ERRLEN];
    lj_load_opts o = {.device = device, .threads = (int)threads, .experts = experts, .tp = (int)tp};
    lj_model *m;
    if (lj_model_load(model, &o, &m, err, sizeof err)) {
        fprintf(stderr, "longjam generate: %s\n", err);
        free(prompt);
        return CLI_FAILED;
    }
    const lj_config *c = lj_model_config(m);
    const lj_generation_config *g = lj_model_generation_config(m);
    if (!have_max) max_new = g->has_max_new_tokens && g->max_new_tokens > 0 ? (size_t)g->max_new_tokens : 16;
    const size_t V = c->vocab_size;
    float *logits = malloc(V * sizeof *logits);
    lj_state *s = NULL;
    lj_sampler *sampler = NULL;
    int rc = CLI_FAILED;
    if (lj_sampler_new(&sp, V, &sampler, err, sizeof err)) { fprintf(stderr, "longjam generate: %s\n", err); goto done; }
    if (lj_state_new(m, n + max_new, &s, err, sizeof err) || lj_prefill(m, s, prompt, n, chunk, 0, logits, err, sizeof err)) {
        fprintf(stderr, "longjam generate: %s\n", err);
        goto done;
    }
    for (size_t i = 0; i < max_new; i++) {
        int32_t id = lj_sampler_sample(sampler, logits);
        printf(i ? " %d" : "%d", id);
        int32_t *grown = realloc(out_ids, (n_out + 1) * sizeof *out_ids);
        if (grown) { out_ids = grown; out_ids[n_out++] = id; }
        fflush(stdout);
        int eos = 0;
        for (size_t e = 0; e < g->n_eos; e++) eos |= g->eos_token_id[e] == id;
        if ((eos && !ignore_eos) || i + 1 == max_new) break;
        lj_seq_step st = {.state = s, .tokens = &id, .n_tokens = 1};
        if (lj_forward(m, &st, 1, logits, NULL, err, sizeof err)) {
            printf("\n");
            fprintf(stderr, "longjam generate: %s\n", err);
            goto done;
        }
    }
    printf("\n");
    if (tok) {
        char *text;
        if (tok_decode(tok, out_ids, n_out, 1, &text, err, sizeof err)) { fprintf(stderr, "longjam generate: %s\n", err); goto done; }
        printf("%s\n", text);
        free(text);
    }
    rc = CLI_OK;
done:
    tok_free(tok);
    free(out_ids);
    lj_sampler_free(sampler);
    lj_state_free(s);
    lj_model_free(m);
    free(logits);
    free(prompt);
    return rc;
}
