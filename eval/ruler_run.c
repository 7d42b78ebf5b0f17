/* longjam eval ruler: generate RULER-style samples at each length, run them, score them as RULER
 * does (postprocess_pred, string_match_all), report. */
#include "eval/eval.h"
#include "eval/metrics.h"
#include "eval/report.h"
#include "eval/ruler.h"
#include "eval/runner.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"

const char *eval_default_haystack(void) {
    static const char *cands[] = {"samples/haystack/licenses.txt",
#ifdef LONGJAM_SOURCE_DIR
                                  LONGJAM_SOURCE_DIR "/samples/haystack/licenses.txt",
#endif
                                  "/usr/share/common-licenses/GPL-3"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
        if (access(cands[i], R_OK) == 0) return cands[i];
    return cands[0];
}

json_t *eval_settings_common(const eval_model_opts *m, const eval_runner *r) {
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)eval_chat_template_hash());
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:b, s:s}, s:I, s:I, s:s}",
                     "longjam", "0.1.0", "model", m->model_dir, "tokenizer", r->tokenizer_path,
                     "chat_template", eval_chat_template_text(), "chat_template_fnv1a64", hash,
                     "decoding", "strategy", "greedy", "deterministic", 1, "tie_break", "lowest id",
                     "max_context", (json_int_t)r->max_context, "prefill_chunk", (json_int_t)r->chunk,
                     "backend", lj_model_backend_name(r->model));
}

int eval_ruler_run(const eval_ruler_opts *o, FILE *out, char *err, size_t errlen) {
    const char *hay_path = o->haystack ? o->haystack : eval_default_haystack();
    size_t hl;
    char *hay = lj_read_file(hay_path, &hl, err, errlen);
    if (!hay) return -1;
    const ruler_task **tasks = calloc(ruler_n_tasks + o->n_tasks + 1, sizeof *tasks);
    size_t nt = 0;
    if (o->n_tasks) {
        for (size_t i = 0; i < o->n_tasks; i++) {
            const ruler_task *t = ruler_task_find(o->tasks[i]);
            if (!t) {
                lj_errf(err, errlen, "--tasks: unknown task '%s' (known: niah_single_1..3, niah_multikey_1..3, niah_multivalue, niah_multiquery, vt, cwe, fwe)", o->tasks[i]);
                free(tasks); free(hay);
                return -1;
            }
            tasks[nt++] = t;
        }
    } else for (size_t i = 0; i < ruler_n_tasks; i++) tasks[nt++] = &ruler_tasks[i];

    eval_runner *r = NULL;
    if (eval_runner_open(o->m.model_dir, &o->m.load, o->m.max_context, o->m.chunk, &r, err, errlen)) { free(tasks); free(hay); return -1; }
    ruler_ctx c;
    if (ruler_ctx_init(&c, r->tok, hay, hl, o->seed, err, errlen)) { eval_runner_close(r); free(tasks); free(hay); return -1; }
    c.depths = o->depths;
    c.n_depths = o->n_depths;
    c.threads = 1;

    char *partial_path = NULL;
    json_t *done = json_object();
    FILE *pf = NULL;
    if (o->output) {
        size_t pl = strlen(o->output) + 32;
        partial_path = malloc(pl);
        snprintf(partial_path, pl, "%s.partial.jsonl", o->output);
        json_decref(done);
        done = eval_partial_load(partial_path);
        if (json_object_size(done)) fprintf(stderr, "resuming: %zu samples already in %s\n", json_object_size(done), partial_path);
        pf = fopen(partial_path, "a");
        if (!pf) fprintf(stderr, "warning: %s: cannot open for resume records\n", partial_path);
    }
    json_t *samples = json_array();
    int rc = 0;
    size_t total = o->n_lengths * nt * o->samples, k = 0;
    double t_start = lj_now();
    for (size_t li = 0; li < o->n_lengths && !rc; li++) {
        size_t L = o->lengths[li];
        if (L > r->max_context) fprintf(stderr, "warning: length %zu exceeds the context %zu: prompts will be truncated in the middle\n", L, r->max_context);
        for (size_t ti = 0; ti < nt && !rc; ti++) {
            const ruler_task *t = tasks[ti];
            for (size_t i = 0; i < o->samples; i++) {
                k++;
                char id[160];
                snprintf(id, sizeof id, "%s/%zu/%zu/seed%llu", t->name, L, i, (unsigned long long)o->seed);
                json_t *prev = json_object_get(done, id);
                if (prev) { json_array_append(samples, prev); continue; }
                ruler_sample s;
                if (ruler_sample_make(&c, t, L, i, &s, err, errlen)) { rc = -1; break; }
                eval_output go;
                if (eval_generate(r, s.prompt, (size_t)t->tokens_to_generate, NULL, 0, id, &go, err, errlen)) {
                    ruler_sample_free(&s); rc = -1; break;
                }
                char *pred = metric_ruler_postprocess(go.text ? go.text : "");
                double score = metric_string_match_all(pred ? pred : "", (const char *const *)s.outputs, s.n_outputs);
                json_t *outs = json_array(), *deps = json_array();
                for (size_t j = 0; j < s.n_outputs; j++) json_array_append_new(outs, json_string(s.outputs[j]));
                for (size_t j = 0; j < s.n_needles; j++) json_array_append_new(deps, json_real(s.depths[j]));
                json_t *rec = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:o, s:f, s:s, s:I, s:I, s:I, s:b, s:o, s:I, s:f}",
                                        "id", id, "task", t->name, "length", (json_int_t)L, "index", (json_int_t)i,
                                        "prediction", pred ? pred : "", "raw_output", go.text ? go.text : "",
                                        "outputs", outs, "score", score, "metric", "string_match_all",
                                        "prompt_tokens", (json_int_t)go.prompt_tokens,
                                        "output_tokens", (json_int_t)go.n_tokens,
                                        "max_new_tokens", (json_int_t)t->tokens_to_generate,
                                        "truncated", go.truncated, "needle_depths", deps,
                                        "haystack_units", (json_int_t)s.haystack_units, "seconds", go.seconds);
                if (rec) {
                    json_object_set_new(rec, "answer_prefix", json_string(s.answer_prefix));
                    json_array_append(samples, rec);
                    if (pf) eval_partial_append(pf, rec);
                    json_decref(rec);
                }
                fprintf(stderr, "[%zu/%zu] %s len %zu #%zu: score %.2f (%zu prompt + %zu new tokens, %.1f s; %.0f s total)\n",
                        k, total, t->name, L, i, score, go.prompt_tokens, go.n_tokens, go.seconds, lj_now() - t_start);
                free(pred);
                free(go.text);
                ruler_sample_free(&s);
            }
        }
    }
    if (pf) fclose(pf);
    if (!rc) {
        json_t *sum = eval_summary(samples, "task", "length", 1);
        eval_table_print(out, sum, "task");
        json_t *settings = eval_settings_common(&o->m, r);
        json_t *lens = json_array(), *tn = json_array();
        for (size_t i = 0; i < o->n_lengths; i++) json_array_append_new(lens, json_integer((json_int_t)o->lengths[i]));
        for (size_t i = 0; i < nt; i++) json_array_append_new(tn, json_string(tasks[i]->name));
        json_object_set_new(settings, "benchmark", json_string("ruler"));
        json_object_set_new(settings, "lengths", lens);
        json_object_set_new(settings, "tasks", tn);
        json_object_set_new(settings, "samples", json_integer((json_int_t)o->samples));
        json_object_set_new(settings, "seed", json_integer((json_int_t)o->seed));
        json_object_set_new(settings, "haystack", json_string(hay_path));
        json_object_set_new(settings, "haystack_bytes", json_integer((json_int_t)hl));
        json_object_set_new(settings, "metric", json_string("string_match_all (RULER scripts/eval/synthetic/constants.py), after postprocess_pred"));
        json_object_set_new(settings, "length_rule", json_string("chat-templated prompt tokens + tokens_to_generate <= length"));
        if (o->output) {
            if (eval_results_write(o->output, settings, sum, samples, err, errlen)) rc = -1;
            else if (partial_path) remove(partial_path);
        }
        if (!rc && o->plot) {
            char title[256];
            snprintf(title, sizeof title, "RULER-style tasks: %s", o->m.model_dir);
            if (eval_plot_png(o->plot, sum, title, "context length (tokens)", err, errlen)) rc = -1;
        }
        json_decref(settings);
        json_decref(sum);
    }
    json_decref(samples);
    json_decref(done);
    free(partial_path);
    ruler_ctx_free(&c);
    eval_runner_close(r);
    free(tasks);
    free(hay);
    return rc;
}
