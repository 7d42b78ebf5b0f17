/* LongBench scoring and prompt helpers; see longbench.h. */
#include "eval/longbench.h"
#include "eval/metrics.h"
#include "eval/strbuf.h"

#include <stdlib.h>
#include <string.h>

const lb_dataset *lb_dataset_find(const char *name) {
    for (size_t i = 0; name && i < lb_n_datasets; i++)
        if (!strcmp(lb_datasets[i].name, name)) return &lb_datasets[i];
    return NULL;
}

const char *lb_metric_name(lb_metric m) {
    static const char *n[] = {"qa_f1_score", "qa_f1_zh_score", "rouge_score", "rouge_zh_score", "classification_score",
                              "retrieval_score", "retrieval_zh_score", "count_score", "code_sim_score"};
    return n[m];
}

int lb_score(const lb_dataset *d, const char *pred, const char *const *answers, size_t n_answers,
             const char *const *classes, size_t n_classes, double *score) {
    *score = 0;
    if (d->metric == LB_QA_F1_ZH || d->metric == LB_ROUGE_ZH) return -1;
    char *p = NULL;
    if (d->first_line) {   /* prediction.lstrip('\n').split('\n')[0] */
        while (*pred == '\n') pred++;
        const char *nl = strchr(pred, '\n');
        p = strndup(pred, nl ? (size_t)(nl - pred) : strlen(pred));
        if (!p) return -1;
        pred = p;
    }
    double best = 0;
    int rc = 0;
    for (size_t i = 0; i < n_answers; i++) {
        double s = 0;
        switch (d->metric) {
        case LB_QA_F1: s = metric_qa_f1(pred, answers[i]); break;
        case LB_ROUGE: s = metric_rouge_l_longbench(pred, answers[i], NULL); break;
        case LB_CLASSIFICATION: s = metric_classification(pred, answers[i], classes, n_classes); break;
        case LB_RETRIEVAL: if (metric_retrieval(pred, answers[i], 0, &s)) rc = -1; break;
        case LB_RETRIEVAL_ZH: if (metric_retrieval(pred, answers[i], 1, &s)) rc = -1; break;
        case LB_COUNT: s = metric_count(pred, answers[i]); break;
        case LB_CODE_SIM: s = metric_code_sim(pred, answers[i]); break;
        default: break;
        }
        if (s > best) best = s;
    }
    free(p);
    *score = best;
    return rc;
}

char lb_v2_extract(const char *response) {
    /* response.replace('*', ''); re.search(r'The correct answer is \(([A-D])\)'), then without () */
    size_t n = strlen(response);
    char *r = malloc(n + 1);
    if (!r) return 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) if (response[i] != '*') r[k++] = response[i];
    r[k] = 0;
    static const char key[] = "The correct answer is ";
    char found = 0;
    for (const char *p = r; !found && (p = strstr(p, key)); p++) {
        const char *q = p + sizeof key - 1;
        if (q[0] == '(' && q[1] >= 'A' && q[1] <= 'D' && q[2] == ')') found = q[1];
    }
    for (const char *p = r; !found && (p = strstr(p, key)); p++) {
        const char *q = p + sizeof key - 1;
        if (q[0] >= 'A' && q[0] <= 'D') found = q[0];
    }
    free(r);
    return found;
}

char *lb_format(const char *t, const char *context, const char *input) {
    sbuf b = {0};
    for (const char *p = t; *p;) {
        if (!strncmp(p, "{context}", 9)) { sb_str(&b, context); p += 9; }
        else if (!strncmp(p, "{input}", 7)) { sb_str(&b, input); p += 7; }
        else { sb_add(&b, p, 1); p++; }
    }
    return sb_take(&b);
}
