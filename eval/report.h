/* Results of an evaluation: per-sample JSON objects (jansson), the markdown table (group x
 * column: task x length, or dataset x length bucket), the PNG plot of score against context length,
 * and the partial-results file used to resume an interrupted run.
 *
 * Ownership: functions taking json_t * borrow it; functions returning json_t * return a new
 * reference the caller decrefs. */
#ifndef LJ_EVAL_REPORT_H
#define LJ_EVAL_REPORT_H

#include <stdio.h>
#include <jansson.h>

/* Mean of "score" (times 100) over samples, grouped by the string field group_key (rows) and the
 * integer/string field col_key (columns; NULL = one column "score"). Rows/columns appear sorted
 * (columns numerically when integers); samples without col_key go to a column "score", or are
 * left out when require_col; an "average" row (mean over rows) closes the table. Returns
 * {"rows": [...], "cols": [...], "cells": {row: {col: value}}, "counts": ...}. */
json_t *eval_summary(json_t *samples, const char *group_key, const char *col_key, int require_col);
/* Prints the summary as a markdown table. */
void eval_table_print(FILE *f, json_t *summary, const char *row_title);

/* Writes a PNG (width x height) of score (0-100) against the column value (log2 x axis), one line
 * per row plus the average. Fails with a message when built without cairo. */
int eval_plot_png(const char *path, json_t *summary, const char *title, const char *xlabel, char *err, size_t errlen);

/* Resume: loads path (JSONL of finished samples) into an object keyed by each sample's "id";
 * a missing file gives an empty object. Lines that do not parse are skipped with a warning. */
json_t *eval_partial_load(const char *path);
/* Resume records of a run writing `output` (NULL: none): *path = "<output>.partial.jsonl"
 * (malloc'd, caller frees), *done = its finished samples (as eval_partial_load; never NULL),
 * *append = that file opened for appending (NULL with a warning when it cannot be opened). */
void eval_partial_open(const char *output, char **path, json_t **done, FILE **append);
/* The resumable record for id: one from the same model (its "model" field) or NULL. Borrowed. */
json_t *eval_partial_get(json_t *done, const char *id, const char *model);
/* Appends one sample as a JSON line and flushes. */
int eval_partial_append(FILE *f, json_t *sample);

/* Writes {"settings": settings, "summary": summary, "samples": samples} to path (pretty). */
int eval_results_write(const char *path, json_t *settings, json_t *summary, json_t *samples, char *err, size_t errlen);

#endif
