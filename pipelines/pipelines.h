/* The batch commands as library calls (the CLI parses options and calls these). Each returns a
 * process exit status: 0 all done, 1 failed (or every item failed), 3 some items have error lines,
 * 4 interrupted by SIGINT/SIGTERM after flushing (see cli/commands.h). Messages go to stderr. */
#ifndef LJ_PIPELINES_PIPELINES_H
#define LJ_PIPELINES_PIPELINES_H

#include <stddef.h>

#include "pipelines/backend.h"
#include "pipelines/runtime.h"

typedef struct pl_common_opts {
    const char *model;
    pl_backend_opts backend;
    pl_runtime_opts rt;
    int shard_index, shard_count;   /* count 0/1 = no sharding */
    size_t max_context;             /* cap on tokens per sequence (0 = the model's) */
} pl_common_opts;

/* longjam run: an OpenAI batch file (/v1/chat/completions, /v1/completions). input "-" = stdin. */
int pl_run(const pl_common_opts *o, const char *input);

typedef struct pl_summarize_opts {
    size_t window_tokens;     /* tokens of document per window prompt (0 = fit the context) */
    size_t overlap_tokens;    /* overlap between windows cut here */
    size_t max_summary_tokens;
    const char *instruction;  /* the summarization instruction */
} pl_summarize_opts;
/* longjam summarize: documents or windows.jsonl files. */
int pl_summarize(const pl_common_opts *o, const pl_summarize_opts *so, char **paths, size_t n_paths);

typedef struct pl_qa_opts {
    size_t max_answer_tokens;
    const char *instruction;  /* text between the document and the question */
} pl_qa_opts;
/* longjam qa: questions {"id", "doc", "question"} over documents (by id or path). */
int pl_qa(const pl_common_opts *o, const pl_qa_opts *qo, char **docs, size_t n_docs, const char *questions);

/* longjam merge: joins shard outputs into out, dropping duplicate keys (a success beats an error
 * line); with input (requests / questions / a list of documents), lists the keys missing. */
int pl_merge(const char *out, char **shards, size_t n_shards, const char *input, int quiet);

#endif
