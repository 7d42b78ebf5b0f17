/* Prefill + greedy decode over the engine API; see runner.h. */
#include "eval/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

int eval_runner_open(const char *dir, const lj_load_opts *o, size_t max_context, size_t chunk, eval_runner **out,
                     char *err, size_t errlen) {
    *out = NULL;
    eval_runner *r = calloc(1, sizeof *r);
    if (!r) return lj_errf(err, errlen, "out of memory");
    size_t pl = strlen(dir) + 32;
    r->tokenizer_path = malloc(pl);
    if (!r->tokenizer_path) { free(r); return lj_errf(err, errlen, "out of memory"); }
    snprintf(r->tokenizer_path, pl, "%s/tokenizer.json", dir);
    if (tok_load(r->tokenizer_path, &r->tok, err, errlen)) { eval_runner_close(r); return -1; }
    if (lj_model_load(dir, o, &r->model, err, errlen)) { eval_runner_close(r); return -1; }
    const lj_config *c = lj_model_config(r->model);
    r->max_context = max_context ? max_context : (c->max_position_embeddings ? c->max_position_embeddings : 262144);
    r->chunk = chunk;
    r->threads = o ? o->threads : 0;
    *out = r;
    return 0;
}

void eval_runner_close(eval_runner *r) {
    if (!r) return;
    lj_model_free(r->model);
    tok_free(r->tok);
    free(r->tokenizer_path);
    free(r);
}

size_t eval_truncate_middle(int32_t *ids, size_t n, size_t keep) {
    if (n <= keep) return n;
    size_t half = keep / 2;
    memmove(ids + half, ids + n - half, half * sizeof *ids);
    return 2 * half;
}

int eval_generate(eval_runner *r, const char *prompt, size_t max_new, const int32_t *extra_stop, size_t n_extra,
                  const char *label, eval_output *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    double t0 = lj_now();
    int32_t *ids = NULL;
    size_t n = 0;
    if (tok_encode(r->tok, prompt, strlen(prompt), 0, &ids, &n, err, errlen)) return lj_err_prefix(err, errlen, "%s: encoding the prompt", label);
    if (max_new >= r->max_context) { free(ids); return lj_errf(err, errlen, "%s: %zu output tokens do not fit a %zu-token context", label, max_new, r->max_context); }
    size_t room = r->max_context - max_new;
    if (n > room) {
        fprintf(stderr, "warning: %s: prompt of %zu tokens truncated in the middle to %zu (context %zu, %zu output tokens)\n",
                label, n, room - room % 2, r->max_context, max_new);
        n = eval_truncate_middle(ids, n, room);
        out->truncated = 1;
    }
    out->prompt_tokens = n;
    const lj_config *c = lj_model_config(r->model);
    const lj_generation_config *g = lj_model_generation_config(r->model);
    size_t V = c->vocab_size;
    float *logits = malloc(V * sizeof *logits);
    int32_t *gen = malloc((max_new + 1) * sizeof *gen);
    lj_state *s = NULL;
    int rc = -1;
    if (!logits || !gen) { lj_errf(err, errlen, "%s: out of memory", label); goto done; }
    if (lj_state_new(r->model, n + max_new + 1, &s, err, errlen) ||
        lj_prefill(r->model, s, ids, n, r->chunk, 0, logits, err, errlen)) {
        lj_err_prefix(err, errlen, "%s", label);
        goto done;
    }
    size_t k = 0;
    while (k < max_new) {
        int32_t id = 0;   /* argmax, lowest id on ties */
        for (size_t j = 1; j < V; j++)
            if (logits[j] > logits[id]) id = (int32_t)j;
        int stop = 0;
        for (size_t e = 0; e < g->n_eos; e++) stop |= g->eos_token_id[e] == id;
        for (size_t e = 0; e < n_extra; e++) stop |= extra_stop[e] == id;
        if (stop) break;
        gen[k++] = id;
        if (k == max_new) break;
        lj_seq_step st = {.state = s, .tokens = &id, .n_tokens = 1};
        if (lj_forward(r->model, &st, 1, logits, NULL, err, errlen)) { lj_err_prefix(err, errlen, "%s: decoding", label); goto done; }
    }
    out->n_tokens = k;
    if (tok_decode(r->tok, gen, k, 1, &out->text, err, errlen)) { lj_err_prefix(err, errlen, "%s: decoding the output", label); goto done; }
    rc = 0;
done:
    out->seconds = lj_now() - t0;
    lj_state_free(s);
    free(logits); free(gen); free(ids);
    return rc;
}
