/* LongBench (THUDM/LongBench): datasets' prompt templates, output lengths and metrics, the
 * per-sample scorer of eval.py, and LongBench v2's multiple-choice prompt and answer extraction. */
#ifndef LJ_EVAL_LONGBENCH_H
#define LJ_EVAL_LONGBENCH_H

#include <stddef.h>

typedef enum {
    LB_QA_F1, LB_QA_F1_ZH, LB_ROUGE, LB_ROUGE_ZH, LB_CLASSIFICATION, LB_RETRIEVAL, LB_RETRIEVAL_ZH,
    LB_COUNT, LB_CODE_SIM
} lb_metric;

typedef struct lb_dataset {
    const char *name;
    int max_new_tokens;     /* dataset2maxlen.json */
    lb_metric metric;       /* eval.py dataset2metric */
    int no_chat;            /* pred.py: these skip the chat template */
    int first_line;         /* eval.py: prediction.lstrip('\n').split('\n')[0] before scoring */
    const char *prompt;     /* dataset2prompt.json, with {context} and {input} */
} lb_dataset;

extern const lb_dataset lb_datasets[];
extern const size_t lb_n_datasets;
extern const char lb_v2_template[];   /* prompts/0shot.txt: $DOC$ $Q$ $C_A$ .. $C_D$ */

const lb_dataset *lb_dataset_find(const char *name);
const char *lb_metric_name(lb_metric m);

/* eval.py scorer for one sample: max over answers of the dataset's metric (after the first-line
 * cut for trec/triviaqa/samsum/lsht). Returns -1 (score unset) for the Chinese metrics that need
 * jieba word segmentation (qa_f1_zh, rouge_zh), which longjam does not implement, and for a
 * retrieval reference without a paragraph id (LongBench raises there). */
int lb_score(const lb_dataset *d, const char *pred, const char *const *answers, size_t n_answers,
             const char *const *classes, size_t n_classes, double *score);

/* LongBench v2 pred.py extract_answer: the letter A-D after "The correct answer is", or 0. */
char lb_v2_extract(const char *response);

/* str.format-style {name} substitution for the prompt templates. malloc'd. */
char *lb_format(const char *tmpl, const char *context, const char *input);

#endif
