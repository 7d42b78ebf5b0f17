/* Metric agreement with the official Python implementations: every line of metric_cases.jsonl
 * (made by tools/make_eval_metric_cases.py with SQuAD v1.1, LongBench, rouge, rouge-score,
 * fuzzywuzzy+python-Levenshtein, RULER) must be reproduced within 1e-9 — the computations are the
 * same IEEE double operations in the same order, so any difference is a semantic bug. Prints the
 * maximum absolute difference and the pair count per metric. */
#include "eval/metrics.h"
#include "eval/porter.h"
#include "tests/test_util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-9

typedef struct tally { char name[32]; size_t n; double maxdiff; } tally;

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "tests/eval/metric_cases.jsonl";
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return 1; }
    tally t_[32];
    size_t nt = 0, lineno = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        CHECKF(j != NULL, "%s:%zu: %s", path, lineno, je.text);
        if (!j) continue;
        const char *metric = json_string_value(json_object_get(j, "metric"));
        const char *pred = json_string_value(json_object_get(j, "pred"));
        const char *ref = json_string_value(json_object_get(j, "ref"));
        double want = json_number_value(json_object_get(j, "score")), got = NAN;
        json_t *refs = json_object_get(j, "refs"), *classes = json_object_get(j, "classes");
        const char *list[64];
        size_t nl = 0;
        json_t *arr = refs ? refs : classes;
        for (size_t i = 0; arr && i < json_array_size(arr) && i < 64; i++) list[nl++] = json_string_value(json_array_get(arr, i));
        if (!strcmp(metric, "squad_f1")) got = metric_qa_f1(pred, ref);
        else if (!strcmp(metric, "squad_em")) got = metric_exact_match(pred, ref);
        else if (!strcmp(metric, "longbench_rouge")) got = metric_rouge_l_longbench(pred, ref, NULL);
        else if (!strcmp(metric, "porter")) {
            char out[256];
            size_t n = strlen(pred) < 200 ? porter_stem(pred, strlen(pred), out) : 0;
            out[n] = 0;
            got = !strcmp(out, ref);
            CHECKF(got == 1, "porter(%s) = %s, NLTK: %s", pred, out, ref);
        } else if (!strcmp(metric, "rouge_google")) {
            /* {"rouge1": [p, r, f], ..., "rougeL_stem": [...]}: every type, with and without stemming */
            const char *type;
            json_t *prf;
            got = want = 0;
            json_object_foreach(json_object_get(j, "scores"), type, prf) {
                metric_prf p;
                char t[16];
                const char *st = strstr(type, "_stem");
                snprintf(t, sizeof t, "%.*s", st ? (int)(st - type) : (int)strlen(type), type);
                int rc = metric_rouge_google(t, ref, pred, st != NULL, &p);
                double e[3] = {fabs(p.precision - json_number_value(json_array_get(prf, 0))),
                               fabs(p.recall - json_number_value(json_array_get(prf, 1))),
                               fabs(p.fmeasure - json_number_value(json_array_get(prf, 2)))};
                double m = fmax(e[0], fmax(e[1], e[2]));
                CHECKF(rc == 0 && m <= TOL, "%s:%zu %s: p %.17g r %.17g f %.17g (diff %.3g)\n  pred=%.200s\n  ref=%.200s",
                       path, lineno, type, p.precision, p.recall, p.fmeasure, m, pred, ref);
                size_t k = 0;
                while (k < nt && strcmp(t_[k].name, type)) k++;
                if (k == nt && nt < 32) { snprintf(t_[nt].name, sizeof t_[nt].name, "%s", type); t_[nt].n = 0; t_[nt].maxdiff = 0; nt++; }
                if (k < nt) { t_[k].n++; if (!(m <= t_[k].maxdiff)) t_[k].maxdiff = m; }
            }
            json_decref(j);
            continue;
        } else if (!strcmp(metric, "string_match_all")) got = metric_string_match_all(pred, list, nl);
        else if (!strcmp(metric, "string_match_part")) got = metric_string_match_part(pred, list, nl);
        else if (!strcmp(metric, "fuzz_ratio")) got = metric_fuzz_ratio(pred, ref);
        else if (!strcmp(metric, "code_sim")) got = metric_code_sim(pred, ref);
        else if (!strcmp(metric, "classification")) got = metric_classification(pred, ref, list, nl);
        else if (!strcmp(metric, "retrieval")) metric_retrieval(pred, ref, 0, &got);
        else if (!strcmp(metric, "retrieval_zh")) metric_retrieval(pred, ref, 1, &got);
        else if (!strcmp(metric, "count")) got = metric_count(pred, ref);
        double d = fabs(got - want);
        CHECKF(d <= TOL, "%s:%zu %s: got %.17g want %.17g\n  pred=%.200s\n  ref=%.200s", path, lineno, metric, got, want,
               pred ? pred : "", ref ? ref : "");
        size_t k = 0;
        while (k < nt && strcmp(t_[k].name, metric)) k++;
        if (k == nt && nt < 32) { snprintf(t_[nt].name, sizeof t_[nt].name, "%s", metric); t_[nt].n = 0; t_[nt].maxdiff = 0; nt++; }
        if (k < nt) { t_[k].n++; if (!(d <= t_[k].maxdiff)) t_[k].maxdiff = d; }
        json_decref(j);
    }
    free(line);
    fclose(f);
    printf("%-20s %6s %s\n", "metric", "pairs", "max |ours - reference|");
    for (size_t k = 0; k < nt; k++) printf("%-20s %6zu %.3g\n", t_[k].name, t_[k].n, t_[k].maxdiff);
    return test_finish("eval_metrics");
}
