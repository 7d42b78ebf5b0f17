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

json_t *eval_settings_common(const struct eval_model_opts *m, const eval_runner *r) {
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)eval_chat_template_hash());
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:f, s:b, s:s}, s:I, s:I, s:I, s:s, s:s}",
                     "longjam", "0.1.0", "model", m->model_dir, "tokenizer", r->tokenizer_path,
                     "chat_template", eval_chat_template_text(), "chat_template_fnv1a64", hash,
                     "decoding", "strategy", "greedy", "temperature", 0.0, "deterministic", 1, "tie_break", "lowest id",
                     "max_context", (json_int_t)r->max_context, "prefill_chunk", (json_int_t)r->chunk,
                     "batch", (json_int_t)r->batch, "device", r->device,
                     "runner", "engine/scheduler.h continuous batching over pipelines/backend.h");
}

typedef struct run_state {
    FILE *pf;
    const char *model;
    size_t total, done;
    double t_start;
    ruler_sample *gen;
    eval_job *jobs;
    json_t **recs;
    const ruler_task **jt;
    size_t *jl, *ji, *slot;
} run_state;

/* A sample finished: score it as RULER does, record it, append it to the resume file. */
static void ruler_job_done(eval_job *j, void *user) {
    run_state *st = user;
    size_t q = (size_t)(j - st->jobs);
    const ruler_task *t = st->jt[q];
    ruler_sample *s = &st->gen[q];
    st->done++;
    if (j->failed) { fprintf(stderr, "error: %s\n", j->err); return; }
    char *pred = metric_ruler_postprocess(j->out.text ? j->out.text : "");
    double score = ruler_score(t, pred ? pred : "", (const char *const *)s->outputs, s->n_outputs);
    json_t *outs = json_array(), *deps = json_array();
    for (size_t i = 0; i < s->n_outputs; i++) json_array_append_new(outs, json_string(s->outputs[i]));
    for (size_t i = 0; i < s->n_needles; i++) json_array_append_new(deps, json_real(s->depths[i]));
    json_t *rec = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:o, s:f, s:s, s:I, s:I, s:I, s:b, s:o, s:I, s:f, s:s}",
                            "id", j->label, "task", t->name, "length", (json_int_t)st->jl[q], "index", (json_int_t)st->ji[q],
                            "prediction", pred ? pred : "", "raw_output", j->out.text ? j->out.text : "",
                            "outputs", outs, "score", score, "metric", ruler_metric_name(t),
                            "prompt_tokens", (json_int_t)j->out.prompt_tokens, "output_tokens", (json_int_t)j->out.n_tokens,
                            "max_new_tokens", (json_int_t)t->tokens_to_generate, "truncated", j->out.truncated,
                            "needle_depths", deps, "haystack_units", (json_int_t)s->haystack_units, "seconds", j->out.seconds,
                            "answer_prefix", s->answer_prefix ? s->answer_prefix : "");
    if (rec) {
        json_object_set_new(rec, "model", json_string(st->model));
        st->recs[st->slot[q]] = rec;
        if (st->pf) eval_partial_append(st->pf, rec);
    }
    fprintf(stderr, "[%zu/%zu] %s len %zu #%zu: score %.2f (%zu prompt + %zu new tokens, %.1f s; %.0f s total)\n",
            st->done, st->total, t->name, st->jl[q], st->ji[q], score, j->out.prompt_tokens, j->out.n_tokens, j->out.seconds,
            lj_now() - st->t_start);
    free(pred);
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
                lj_errf(err, errlen, "--tasks: unknown task '%s' (known: niah_single_1..3, niah_multikey_1..3, niah_multivalue, niah_multiquery, vt, cwe, fwe, qa_1, qa_2)", o->tasks[i]);
                free(tasks); free(hay);
                return -1;
            }
            tasks[nt++] = t;
        }
    } else
        for (size_t i = 0; i < ruler_n_tasks; i++) {
            const ruler_task *t = &ruler_tasks[i];
            if (t->kind == RULER_QA && !(t->haystack[0] == 'h' ? o->qa_hotpotqa : o->qa_squad)) continue;
            tasks[nt++] = t;
        }

    eval_runner *r = NULL;
    if (eval_runner_open(o->m.model_dir, &o->m.load, o->m.max_context, o->m.chunk, o->m.batch, &r, err, errlen)) { free(tasks); free(hay); return -1; }
    ruler_ctx c;
    if (ruler_ctx_init(&c, r->tok, hay, hl, o->seed, err, errlen)) { eval_runner_close(r); free(tasks); free(hay); return -1; }
    if ((o->qa_squad && ruler_qa_load(&c, 0, o->qa_squad, err, errlen)) ||
        (o->qa_hotpotqa && ruler_qa_load(&c, 1, o->qa_hotpotqa, err, errlen))) {
        ruler_ctx_free(&c); eval_runner_close(r); free(tasks); free(hay);
        return -1;
    }
    c.depths = o->depths;
    c.n_depths = o->n_depths;
    c.threads = 1;

    char *partial_path;
    json_t *done;
    FILE *pf;
    eval_partial_open(o->output, &partial_path, &done, &pf);
    json_t *samples = json_array();
    int rc = 0;
    size_t per_len = nt * o->samples, total = o->n_lengths * per_len;
    run_state st = {.pf = pf, .model = o->m.model_dir, .total = total, .t_start = lj_now()};
    ruler_sample *gen = calloc(per_len + 1, sizeof *gen);
    eval_job *jobs = calloc(per_len + 1, sizeof *jobs);
    json_t **recs = calloc(per_len + 1, sizeof *recs);
    char (*ids)[160] = calloc(per_len + 1, sizeof *ids);
    const ruler_task **jt = calloc(per_len + 1, sizeof *jt);
    size_t *jl = calloc(per_len + 1, sizeof *jl), *ji = calloc(per_len + 1, sizeof *ji), *slot = calloc(per_len + 1, sizeof *slot);
    if (!gen || !jobs || !recs || !ids || !jt || !jl || !ji || !slot) rc = lj_errf(err, errlen, "out of memory");
    for (size_t li = 0; li < o->n_lengths && !rc; li++) {
        size_t L = o->lengths[li];
        if (L > r->max_context) fprintf(stderr, "warning: length %zu exceeds the context %zu: prompts will be truncated in the middle\n", L, r->max_context);
        /* generate this length's samples (all tasks), then run them through the scheduler together */
        size_t nj = 0, k = 0;
        for (size_t ti = 0; ti < nt && !rc; ti++)
            for (size_t i = 0; i < o->samples && !rc; i++, k++) {
                const ruler_task *t = tasks[ti];
                snprintf(ids[k], sizeof ids[k], "%s/%zu/%zu/seed%llu", t->name, L, i, (unsigned long long)o->seed);
                json_t *prev = eval_partial_get(done, ids[k], o->m.model_dir);
                recs[k] = prev ? json_incref(prev) : NULL;
                if (prev) { st.done++; continue; }
                if (ruler_sample_make(&c, t, L, i, &gen[nj], err, errlen)) { rc = -1; break; }
                jobs[nj] = (eval_job){.prompt = gen[nj].prompt, .max_new = (size_t)t->tokens_to_generate, .label = ids[k]};
                jt[nj] = t; jl[nj] = L; ji[nj] = i; slot[nj] = k;
                nj++;
            }
        st.gen = gen; st.jobs = jobs; st.recs = recs; st.jt = jt; st.jl = jl; st.ji = ji; st.slot = slot;
        if (!rc && nj && eval_generate_batch(r, jobs, nj, ruler_job_done, &st, err, errlen)) rc = -1;
        for (size_t q = 0; q < nj; q++) {
            if (!rc && jobs[q].failed) rc = lj_errf(err, errlen, "%s", jobs[q].err);
            free(jobs[q].out.text);
            ruler_sample_free(&gen[q]);
        }
        for (size_t q = 0; q < k; q++) {
            if (recs[q]) json_array_append_new(samples, recs[q]);
            recs[q] = NULL;
        }
    }
    free(gen); free(jobs); free(recs); free(ids); free(jt); free(jl); free(ji); free(slot);
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
        if (o->qa_squad) json_object_set_new(settings, "qa_squad", json_string(o->qa_squad));
        if (o->qa_hotpotqa) json_object_set_new(settings, "qa_hotpotqa", json_string(o->qa_hotpotqa));
        json_object_set_new(settings, "metric", json_string("string_match_all (qa: string_match_part), RULER scripts/eval/synthetic/constants.py, after postprocess_pred"));
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
