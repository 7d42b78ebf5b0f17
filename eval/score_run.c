/* longjam eval score: rescoring predictions made by any system, with the same metrics. */
#include "eval/eval.h"
#include "eval/longbench.h"
#include "eval/metrics.h"
#include "eval/report.h"
#include "eval/ruler.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

static const char *first_str(json_t *j, const char *a, const char *b) {
    const char *s = json_string_value(json_object_get(j, a));
    if (!s && b) s = json_string_value(json_object_get(j, b));
    return s;
}

/* Generic metrics by name, for lines that say "metric". */
static int score_named(const char *metric, const char *pred, const char *const *refs, size_t n, double *out) {
    double best = 0;
    if (!strcmp(metric, "string_match_all")) { *out = metric_string_match_all(pred, refs, n); return 0; }
    if (!strcmp(metric, "string_match_part")) { *out = metric_string_match_part(pred, refs, n); return 0; }
    for (size_t i = 0; i < n; i++) {
        double s;
        metric_prf p;
        if (!strcmp(metric, "qa_f1") || !strcmp(metric, "squad_f1") || !strcmp(metric, "qa_f1_score")) s = metric_qa_f1(pred, refs[i]);
        else if (!strcmp(metric, "exact_match") || !strcmp(metric, "squad_em")) s = metric_exact_match(pred, refs[i]);
        else if (!strcmp(metric, "rouge_score") || !strcmp(metric, "longbench_rouge")) s = metric_rouge_l_longbench(pred, refs[i], NULL);
        else if (!strncmp(metric, "rouge", 5) && strstr(metric, "_stem")) {
            char t[16];
            snprintf(t, sizeof t, "%.*s", (int)(strstr(metric, "_stem") - metric), metric);
            if (metric_rouge_google(t, refs[i], pred, 1, &p)) return -1;
            s = p.fmeasure;
        } else if (!strncmp(metric, "rouge", 5) && !metric_rouge_google(metric, refs[i], pred, 0, &p)) s = p.fmeasure;
        else if (!strcmp(metric, "code_sim") || !strcmp(metric, "code_sim_score")) s = metric_code_sim(pred, refs[i]);
        else if (!strcmp(metric, "fuzz_ratio")) s = metric_fuzz_ratio(pred, refs[i]) / 100.0;
        else return -1;
        if (s > best) best = s;
    }
    *out = best;
    return 0;
}

int eval_score_run(const char *path, const char *output, const char *plot, FILE *out, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) return lj_errf(err, errlen, "%s: cannot open", path);
    json_t *samples = json_array();
    char *line = NULL;
    size_t cap = 0, lineno = 0, skipped = 0;
    int any_len = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == strlen(line)) continue;
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!j) { fprintf(stderr, "warning: %s:%zu: not JSON (%s), skipped\n", path, lineno, je.text); skipped++; continue; }
        const char *group = first_str(j, "dataset", "task");
        const char *pred = first_str(j, "prediction", "pred");
        json_t *refs = json_object_get(j, "answers");
        if (!refs) refs = json_object_get(j, "outputs");
        const char *metric_field = json_string_value(json_object_get(j, "metric"));
        double score = 0;
        const char *metric = NULL;
        int ok = 0;
        json_t *rec = json_object();
        if (json_object_get(j, "choice_A") || (group && !strcmp(group, "longbench_v2"))) {
            /* LongBench v2: a letter in "pred" or a response to extract it from */
            const char *resp = first_str(j, "response", "prediction");
            const char *letter = json_string_value(json_object_get(j, "pred"));
            char lb[2] = {0, 0};
            if (resp && (!letter || strlen(letter) != 1)) { lb[0] = lb_v2_extract(resp); letter = lb[0] ? lb : NULL; }
            const char *ans = json_string_value(json_object_get(j, "answer"));
            if (ans) {
                score = letter && !strcmp(letter, ans);
                metric = "accuracy";
                ok = 1;
                group = "longbench_v2";
                json_object_set_new(rec, "difficulty", json_string(first_str(j, "difficulty", NULL) ? first_str(j, "difficulty", NULL) : ""));
                json_object_set_new(rec, "length", json_string(first_str(j, "length", NULL) ? first_str(j, "length", NULL) : ""));
            }
        } else if (group && pred && json_is_array(refs)) {
            size_t n = json_array_size(refs);
            const char **rv = calloc(n + 1, sizeof *rv);
            for (size_t i = 0; i < n; i++) rv[i] = json_string_value(json_array_get(refs, i)) ? json_string_value(json_array_get(refs, i)) : "";
            const lb_dataset *d = lb_dataset_find(group);
            if (metric_field) {
                metric = metric_field;
                ok = !score_named(metric_field, pred, rv, n, &score);
                if (!ok) fprintf(stderr, "warning: %s:%zu: unknown metric '%s'\n", path, lineno, metric_field);
            } else if (d) {
                json_t *classes = json_object_get(j, "all_classes");
                size_t nc = json_array_size(classes);
                const char **cv = calloc(nc + 1, sizeof *cv);
                for (size_t i = 0; i < nc; i++) cv[i] = json_string_value(json_array_get(classes, i)) ? json_string_value(json_array_get(classes, i)) : "";
                metric = lb_metric_name(d->metric);
                ok = !lb_score(d, pred, rv, n, cv, nc, &score);
                if (!ok) fprintf(stderr, "warning: %s:%zu: %s: %s is not available (needs jieba) or the reference has no paragraph id\n", path, lineno, group, metric);
                free(cv);
                json_t *len = json_object_get(j, "length");
                if (json_is_integer(len)) {
                    json_int_t L = json_integer_value(len);
                    json_object_set_new(rec, "bucket", json_string(L < 4000 ? "0-4k" : L < 8000 ? "4-8k" : "8k+"));
                }
            } else {
                /* RULER: postprocess_pred, then string_match_part for qa tasks, else string_match_all */
                char *pp = metric_ruler_postprocess(pred);
                int part = !strncmp(group, "qa", 2);
                metric = part ? "string_match_part" : "string_match_all";
                score = part ? metric_string_match_part(pp ? pp : "", rv, n) : metric_string_match_all(pp ? pp : "", rv, n);
                ok = 1;
                free(pp);
                json_t *len = json_object_get(j, "length");
                if (json_is_integer(len)) { json_object_set(rec, "length", len); any_len = 1; }
            }
            free(rv);
        }
        if (!ok) {
            if (!metric) fprintf(stderr, "warning: %s:%zu: needs dataset|task, prediction|pred and answers|outputs; skipped\n", path, lineno);
            skipped++;
            json_decref(rec);
            json_decref(j);
            continue;
        }
        json_object_set_new(rec, "id", json_sprintf("%s:%zu", path, lineno));
        json_object_set_new(rec, "group", json_string(group));
        json_object_set_new(rec, "prediction", json_string(pred ? pred : ""));
        json_object_set_new(rec, "metric", json_string(metric));
        json_object_set_new(rec, "score", json_real(score));
        json_array_append_new(samples, rec);
        json_decref(j);
    }
    free(line);
    fclose(f);
    if (!json_array_size(samples)) { json_decref(samples); return lj_errf(err, errlen, "%s: no scorable lines (%zu skipped)", path, skipped); }
    json_t *sum = eval_summary(samples, "group", any_len ? "length" : NULL, 0);
    eval_table_print(out, sum, "dataset / task");
    int rc = 0;
    if (output) {
        json_t *settings = json_pack("{s:s, s:s, s:I}", "benchmark", "score", "predictions", path, "skipped_lines", (json_int_t)skipped);
        rc = eval_results_write(output, settings, sum, samples, err, errlen);
        json_decref(settings);
    }
    if (!rc && plot) rc = eval_plot_png(plot, sum, "scores", any_len ? "context length (tokens)" : "", err, errlen);
    json_decref(sum);
    json_decref(samples);
    return rc;
}
