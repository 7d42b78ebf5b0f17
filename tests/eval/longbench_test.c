/* LongBench helpers against values worked out from LongBench's code by hand: the dataset table
 * (21 datasets, dataset2maxlen values, the six that skip the chat template), prompt formatting,
 * the middle cut of pred.py (tokens[:half] + tokens[-half:], half = int(max_length / 2)),
 * LongBench v2's extract_answer regexes, and eval.py's first-line rule and max over answers. */
#include "eval/longbench.h"
#include "eval/runner.h"
#include "tests/test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    CHECK(lb_n_datasets == 21);
    const lb_dataset *g = lb_dataset_find("gov_report"), *t = lb_dataset_find("trec"), *h = lb_dataset_find("hotpotqa");
    CHECK(g && g->max_new_tokens == 512 && g->metric == LB_ROUGE && !g->no_chat);
    CHECK(t && t->max_new_tokens == 64 && t->metric == LB_CLASSIFICATION && t->no_chat && t->first_line);
    CHECK(h && h->max_new_tokens == 32 && h->metric == LB_QA_F1 && !h->first_line);
    CHECK(lb_dataset_find("lcc") && lb_dataset_find("lcc")->no_chat && !lb_dataset_find("lcc")->first_line);
    CHECK(lb_dataset_find("nope") == NULL);

    char *p = lb_format("A {context} B {input} {other}", "ctx", "in");
    CHECK(p && !strcmp(p, "A ctx B in {other}"));
    free(p);

    int32_t ids[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    size_t n = eval_truncate_middle(ids, 10, 5);
    CHECK(n == 4 && ids[0] == 0 && ids[1] == 1 && ids[2] == 8 && ids[3] == 9);
    int32_t ids2[4] = {1, 2, 3, 4};
    CHECK(eval_truncate_middle(ids2, 4, 8) == 4);

    CHECK(lb_v2_extract("The correct answer is (B)") == 'B');
    CHECK(lb_v2_extract("**The correct answer is C**.") == 'C');
    CHECK(lb_v2_extract("the correct answer is (A)") == 0);
    CHECK(lb_v2_extract("The correct answer is (E)") == 0);
    CHECK(lb_v2_extract("The correct answer is D, not (A). The correct answer is (A)") == 'A');   /* () form first */
    CHECK(lb_v2_extract("") == 0);

    /* trec: prediction.lstrip('\n').split('\n')[0] before classification */
    const char *classes[] = {"City", "Location", "Number"};
    const char *ans[] = {"City"};
    double s;
    CHECK(lb_score(t, "\n\nCity\nLocation", ans, 1, classes, 3, &s) == 0 && s == 1.0);
    CHECK(lb_score(t, "Location\nCity", ans, 1, classes, 3, &s) == 0 && s == 0.0);
    /* max over answers */
    const char *two[] = {"Paris France", "Paris"};
    CHECK(lb_score(h, "paris", two, 2, NULL, 0, &s) == 0 && fabs(s - 1.0) < 1e-12);
    /* Chinese metrics are not available */
    CHECK(lb_score(lb_dataset_find("dureader"), "x", ans, 1, NULL, 0, &s) == -1);
    return test_finish("eval_longbench");
}
