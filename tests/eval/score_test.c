/* `longjam eval score` against LongBench's eval.py scorer() and RULER's evaluate (string_match_all
 * / part after postprocess_pred) on the prediction file tests/eval/score_preds.jsonl: per-dataset
 * and per-task-and-length results must equal score_expected.json (made by
 * tools/make_eval_metric_cases.py --score-cases with the official code) to its 2 decimals
 * (|ours - expected| <= 0.005 + 1e-9: the official figures are rounded). */
#include "eval/eval.h"
#include "tests/test_util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: eval_score PRED.jsonl EXPECTED.json\n"); return 2; }
    char out[] = "/tmp/lj_eval_score_XXXXXX";
    int fd = mkstemp(out);
    if (fd < 0) return 1;
    close(fd);
    char err[LJ_ERRLEN];
    FILE *devnull = fopen("/dev/null", "w");
    int rc = eval_score_run(argv[1], out, NULL, devnull ? devnull : stdout, err, sizeof err);
    if (devnull) fclose(devnull);
    CHECKF(rc == 0, "%s", err);
    json_error_t je;
    json_t *res = json_load_file(out, 0, &je), *want = json_load_file(argv[2], 0, &je);
    CHECK(res && want);
    json_t *cells = json_object_get(json_object_get(res, "summary"), "cells");
    const char *k;
    json_t *v;
    size_t n = 0;
    json_object_foreach(want, k, v) {
        char name[128], col[32] = "score";
        snprintf(name, sizeof name, "%s", k);
        char *at = strchr(name, '@');
        if (at) { *at = 0; snprintf(col, sizeof col, "%s", at + 1); }
        json_t *got = json_object_get(json_object_get(cells, name), col);
        CHECKF(got != NULL, "%s: missing", k);
        if (!got) continue;
        double d = fabs(json_number_value(got) - json_number_value(v));
        CHECKF(d <= 0.005 + 1e-9, "%s: ours %.6f, official %.2f", k, json_number_value(got), json_number_value(v));
        n++;
    }
    printf("%zu dataset/task results compared\n", n);
    json_decref(res);
    json_decref(want);
    remove(out);
    return test_finish("eval_score");
}
