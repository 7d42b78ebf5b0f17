/* longjam eval longbench: LongBench (v1, -E) and LongBench v2 JSONL through the model, scored as
 * LongBench's eval.py / result.py do. */
#include "eval/eval.h"
#include "eval/longbench.h"
#include "eval/report.h"
#include "eval/ruler.h"
#include "eval/runner.h"
#include "eval/strbuf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

static char *strip_dup(const char *s) {
    while (*s == ' ' || (*s >= 9 && *s <= 13)) s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || (s[n - 1] >= 9 && s[n - 1] <= 13))) n--;
    return strndup(s, n);
}

/* Truncates text in the middle to `keep` tokens (LongBench pred.py: decode(first half) +
 * decode(last half), skipping special tokens). Returns a malloc'd text, or NULL on error. */
static char *truncate_text(const lj_tokenizer *tok, const char *text, size_t keep, const char *label, int *cut,
                           char *err, size_t errlen) {
    int32_t *ids = NULL;
    size_t n = 0;
    *cut = 0;
    if (tok_encode(tok, text, strlen(text), 0, &ids, &n, err, errlen)) return NULL;
    if (n <= keep) { free(ids); return strdup(text); }
    size_t half = keep / 2;
    char *a = NULL, *b = NULL;
    if (tok_decode(tok, ids, half, 1, &a, err, errlen) || tok_decode(tok, ids + n - half, half, 1, &b, err, errlen)) {
        free(a); free(ids);
        return NULL;
    }
    fprintf(stderr, "warning: %s: prompt of %zu tokens truncated in the middle to %zu\n", label, n, 2 * half);
    *cut = 1;
    sbuf s = {0};
    sb_str(&s, a);
    sb_str(&s, b);
    free(a); free(b); free(ids);
    return sb_take(&s);
}

static const char *str_field(json_t *j, const char *k) {
    const char *s = json_string_value(json_object_get(j, k));
    return s ? s : "";
}

typedef struct pending {
    json_t *j;
    char id[256];
    int is_v2, cut;
    const lb_dataset *d;
    size_t max_new;
    char *prompt;
    const char *model;
} pending;

/* Scores one finished sample the way LongBench's eval.py (v1) or pred.py/result.py (v2) does. */
static void record(pending *pp, const eval_output *o, json_t *samples, FILE *pf, size_t *nrun, double t0) {
    json_t *j = pp->j;
    const char *ds_name = pp->is_v2 ? "longbench_v2" : pp->d->name, *id = pp->id;
    const lb_dataset *d = pp->d;
    int is_v2 = pp->is_v2, cut = pp->cut;
    size_t max_new = pp->max_new;
    const eval_output go = *o;
    const char *model = pp->model;
    const char *pred = go.text ? go.text : "";
    json_t *rec;
    if (is_v2) {
        char *resp = strip_dup(pred);
        char letter = lb_v2_extract(resp ? resp : "");
        char ls[2] = {letter, 0};
        int judge = letter && !strcmp(ls, str_field(j, "answer"));
        rec = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:f}", "id", id, "dataset", ds_name, "prediction",
                        resp ? resp : "", "answer", str_field(j, "answer"),
                        "pred", letter ? json_string(ls) : json_null(), "difficulty", str_field(j, "difficulty"),
                        "length", str_field(j, "length"), "metric", "accuracy", "score", judge ? 1.0 : 0.0);
        free(resp);
    } else {
        json_t *answers = json_object_get(j, "answers"), *classes = json_object_get(j, "all_classes");
        size_t na = json_array_size(answers), nc = json_array_size(classes);
        const char **av = calloc(na + 1, sizeof *av), **cv = calloc(nc + 1, sizeof *cv);
        for (size_t i = 0; i < na; i++) av[i] = json_string_value(json_array_get(answers, i)) ? json_string_value(json_array_get(answers, i)) : "";
        for (size_t i = 0; i < nc; i++) cv[i] = json_string_value(json_array_get(classes, i)) ? json_string_value(json_array_get(classes, i)) : "";
        double score;
        int srec = lb_score(d, pred, av, na, cv, nc, &score);
        rec = json_pack("{s:s, s:s, s:s, s:O, s:s}", "id", id, "dataset", ds_name, "prediction", pred,
                        "answers", answers ? answers : json_array(), "metric", lb_metric_name(d->metric));
        if (rec) {
            json_object_set_new(rec, "score", srec ? json_null() : json_real(score));
            if (srec && (d->metric == LB_QA_F1_ZH || d->metric == LB_ROUGE_ZH))
                json_object_set_new(rec, "score_note", json_string("needs jieba word segmentation: not implemented; use `longjam eval score` output with LongBench's eval.py"));
            if (classes) json_object_set(rec, "all_classes", classes);
            json_t *len = json_object_get(j, "length");
            if (json_is_integer(len)) {
                json_int_t L = json_integer_value(len);
                json_object_set(rec, "length", len);
                json_object_set_new(rec, "bucket", json_string(L < 4000 ? "0-4k" : L < 8000 ? "4-8k" : "8k+"));
            }
        }
        free(av); free(cv);
    }
    if (rec) {
        json_object_set_new(rec, "model", json_string(model));
        json_object_set_new(rec, "prompt_tokens", json_integer((json_int_t)go.prompt_tokens));
        json_object_set_new(rec, "output_tokens", json_integer((json_int_t)go.n_tokens));
        json_object_set_new(rec, "max_new_tokens", json_integer((json_int_t)max_new));
        json_object_set_new(rec, "truncated", json_boolean(cut || go.truncated));
        json_object_set_new(rec, "seconds", json_real(go.seconds));
        json_array_append(samples, rec);
        if (pf) eval_partial_append(pf, rec);
        fprintf(stderr, "[%zu] %s: score %s%.3f (%zu prompt + %zu new tokens, %.1f s; %.0f s total)\n",
                ++*nrun, id, json_is_null(json_object_get(rec, "score")) ? "n/a " : "",
                json_number_value(json_object_get(rec, "score")), go.prompt_tokens, go.n_tokens, go.seconds, lj_now() - t0);
        json_decref(rec);
    }
}

static int run_group(eval_runner *r, pending *pend, size_t *np, int32_t nl_id, json_t *samples, FILE *pf, size_t *nrun,
                     double t0, char *err, size_t errlen) {
    eval_job *jobs = calloc(*np + 1, sizeof *jobs);
    if (!jobs) return lj_errf(err, errlen, "out of memory");
    for (size_t q = 0; q < *np; q++) {
        int stop_nl = !pend[q].is_v2 && !strcmp(pend[q].d->name, "samsum") && nl_id >= 0;
        jobs[q] = (eval_job){.prompt = pend[q].prompt, .max_new = pend[q].max_new, .label = pend[q].id};
        if (stop_nl) { jobs[q].extra_stop = &nl_id; jobs[q].n_extra = 1; }
    }
    int rc = eval_generate_batch(r, jobs, *np, NULL, NULL, err, errlen);
    for (size_t q = 0; q < *np; q++) {
        if (!rc && jobs[q].failed) rc = lj_errf(err, errlen, "%s", jobs[q].err);
        if (!rc) record(&pend[q], &jobs[q].out, samples, pf, nrun, t0);
        free(jobs[q].out.text);
        free(pend[q].prompt);
        json_decref(pend[q].j);
    }
    free(jobs);
    *np = 0;
    return rc;
}

int eval_longbench_run(const eval_longbench_opts *o, FILE *out, char *err, size_t errlen) {
    FILE *f = fopen(o->data, "r");
    if (!f) return lj_errf(err, errlen, "%s: cannot open", o->data);
    eval_runner *r = NULL;
    if (eval_runner_open(o->m.model_dir, &o->m.load, o->m.max_context, o->m.chunk, o->m.batch, &r, err, errlen)) { fclose(f); return -1; }
    /* samsum stops at "\n" too: tokenizer.encode("\n", add_special_tokens=False)[-1] */
    int32_t nl_id = -1, *ids = NULL;
    size_t nids = 0;
    char e2[256];
    if (!tok_encode(r->tok, "\n", 1, 0, &ids, &nids, e2, sizeof e2) && nids) nl_id = ids[nids - 1];
    free(ids);

    char *partial_path;
    json_t *done;
    FILE *pf;
    eval_partial_open(o->output, &partial_path, &done, &pf);
    json_t *samples = json_array(), *per_ds = json_object();
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    int rc = 0, v2 = 0;
    double t0 = lj_now();
    size_t group = 4 * r->batch, np = 0, nrun = 0;   /* lines read ahead and run together */
    pending *pend = calloc(group, sizeof *pend);
    if (!pend) rc = lj_errf(err, errlen, "out of memory");
    while (!rc && getline(&line, &cap, f) > 0) {
        lineno++;
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!j) {
            if (strspn(line, " \t\r\n") == strlen(line)) continue;
            fprintf(stderr, "warning: %s:%zu: not JSON (%s), skipped\n", o->data, lineno, je.text);
            continue;
        }
        int is_v2 = json_object_get(j, "choice_A") != NULL;
        v2 |= is_v2;
        const char *ds_name = is_v2 ? "longbench_v2" : str_field(j, "dataset");
        const lb_dataset *d = is_v2 ? NULL : lb_dataset_find(ds_name);
        if (!is_v2 && !d) {
            fprintf(stderr, "warning: %s:%zu: unknown dataset '%s', skipped\n", o->data, lineno, ds_name);
            json_decref(j);
            continue;
        }
        int wanted = !o->n_datasets;
        for (size_t i = 0; i < o->n_datasets; i++) wanted |= !strcmp(o->datasets[i], ds_name);
        json_int_t seen = json_integer_value(json_object_get(per_ds, ds_name));
        if (!wanted || (o->limit && (size_t)seen >= o->limit)) { json_decref(j); continue; }
        json_object_set_new(per_ds, ds_name, json_integer(seen + 1));
        char id[256];
        const char *sid = str_field(j, "_id");
        if (*sid) snprintf(id, sizeof id, "%s/%s", ds_name, sid);
        else snprintf(id, sizeof id, "%s/line%zu", ds_name, lineno);
        json_t *prev = eval_partial_get(done, id, o->m.model_dir);
        if (prev) { json_array_append(samples, prev); json_decref(j); continue; }

        size_t max_new = is_v2 ? 128 : (size_t)d->max_new_tokens;
        if (max_new + 8 >= r->max_context) { rc = lj_errf(err, errlen, "context %zu too small for %zu output tokens", r->max_context, max_new); json_decref(j); break; }
        size_t keep = r->max_context - max_new - 8;   /* room for the chat template's tokens */
        char *raw;
        if (is_v2) {
            char *ctx = strip_dup(str_field(j, "context")), *q = strip_dup(str_field(j, "question"));
            char *ca = strip_dup(str_field(j, "choice_A")), *cb = strip_dup(str_field(j, "choice_B"));
            char *cc = strip_dup(str_field(j, "choice_C")), *cd = strip_dup(str_field(j, "choice_D"));
            sbuf s = {0};
            for (const char *p = lb_v2_template; *p;) {
                const char *rep = NULL;
                size_t k = 0;
                if (!strncmp(p, "$DOC$", 5)) { rep = ctx; k = 5; }
                else if (!strncmp(p, "$Q$", 3)) { rep = q; k = 3; }
                else if (!strncmp(p, "$C_A$", 5)) { rep = ca; k = 5; }
                else if (!strncmp(p, "$C_B$", 5)) { rep = cb; k = 5; }
                else if (!strncmp(p, "$C_C$", 5)) { rep = cc; k = 5; }
                else if (!strncmp(p, "$C_D$", 5)) { rep = cd; k = 5; }
                if (rep) { sb_str(&s, rep); p += k; } else { sb_add(&s, p, 1); p++; }
            }
            raw = sb_take(&s);
            free(ctx); free(q); free(ca); free(cb); free(cc); free(cd);
        } else raw = lb_format(d->prompt, str_field(j, "context"), str_field(j, "input"));
        int cut = 0;
        char *text = raw ? truncate_text(r->tok, raw, keep, id, &cut, err, errlen) : NULL;
        free(raw);
        if (!text) { rc = -1; json_decref(j); break; }
        char *prompt;
        if (!is_v2 && d->no_chat) {
            sbuf s = {0};
            sb_str(&s, "<|startoftext|>");
            sb_str(&s, text);
            prompt = sb_take(&s);
        } else prompt = eval_chat_render(text, NULL);
        free(text);
        if (!prompt) { rc = lj_errf(err, errlen, "%s: out of memory", id); json_decref(j); break; }
        pending *pp = &pend[np++];
        *pp = (pending){.j = j, .is_v2 = is_v2, .d = d, .cut = cut, .max_new = max_new, .prompt = prompt, .model = o->m.model_dir};
        snprintf(pp->id, sizeof pp->id, "%s", id);
        if (np == group) rc = run_group(r, pend, &np, nl_id, samples, pf, &nrun, t0, err, errlen);
    }
    if (!rc && np) rc = run_group(r, pend, &np, nl_id, samples, pf, &nrun, t0, err, errlen);
    for (size_t q = 0; q < np; q++) { free(pend[q].prompt); json_decref(pend[q].j); }
    free(pend);
    free(line);
    fclose(f);
    if (pf) fclose(pf);
    if (!rc) {
        json_t *sum = eval_summary(samples, "dataset", NULL, 0);
        eval_table_print(out, sum, "dataset");
        json_t *by_bucket = eval_summary(samples, "dataset", "bucket", 1);
        if (json_array_size(json_object_get(by_bucket, "rows"))) {
            fprintf(out, "\nLongBench-E length buckets (words/characters as in the data's \"length\"):\n\n");
            eval_table_print(out, by_bucket, "dataset");
        }
        if (v2) {
            json_t *v2s = json_array();
            size_t i;
            json_t *x;
            json_array_foreach(samples, i, x)
                if (!strcmp(json_string_value(json_object_get(x, "dataset")), "longbench_v2")) json_array_append(v2s, x);
            json_t *by_diff = eval_summary(v2s, "dataset", "difficulty", 1), *by_len = eval_summary(v2s, "dataset", "length", 1);
            json_decref(v2s);
            fprintf(out, "\nLongBench v2 by difficulty:\n\n");
            eval_table_print(out, by_diff, "dataset");
            fprintf(out, "\nLongBench v2 by length:\n\n");
            eval_table_print(out, by_len, "dataset");
            json_object_set_new(sum, "v2_by_difficulty", by_diff);
            json_object_set_new(sum, "v2_by_length", by_len);
        }
        json_object_set_new(sum, "by_length_bucket", by_bucket);
        json_t *settings = eval_settings_common(&o->m, r);
        json_object_set_new(settings, "benchmark", json_string("longbench"));
        json_object_set_new(settings, "data", json_string(o->data));
        json_object_set_new(settings, "truncation", json_string("prompt cut in the middle to max_context - max_new_tokens - 8 tokens (first half + last half, LongBench pred.py)"));
        json_object_set_new(settings, "chat_template_skipped_for", json_pack("[ssssss]", "trec", "triviaqa", "samsum", "lsht", "lcc", "repobench-p"));
        if (o->output) {
            if (eval_results_write(o->output, settings, sum, samples, err, errlen)) rc = -1;
            else if (partial_path) remove(partial_path);
        }
        if (!rc && o->plot) {
            json_t *p = json_object_get(sum, "by_length_bucket");
            if (eval_plot_png(o->plot, p, "LongBench", "length bucket", err, errlen)) rc = -1;
        }
        json_decref(settings);
        json_decref(sum);
    }
    json_decref(samples);
    json_decref(per_ds);
    json_decref(done);
    free(partial_path);
    eval_runner_close(r);
    return rc;
}
