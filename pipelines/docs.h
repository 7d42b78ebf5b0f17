/* Documents for summarize and qa, through ingest/ingest.h (PDF, XML/HTML, text): the cleaned text,
 * its windows, and the document id ("d" + FNV-1a 64 of the path, as `longjam ingest` writes it). */
#ifndef LJ_PIPELINES_DOCS_H
#define LJ_PIPELINES_DOCS_H

#include <stddef.h>

#include "pipelines/backend.h"

/* Call once from the main thread before workers load documents. */
void pl_docs_init(void);
/* Reads the document's cleaned text (malloc'd, caller frees) and its page count (0 when the
 * format has no pages). Errors name the path and the reason. */
int pl_doc_load(const char *path, char **text, size_t *len, int *pages, char *err, size_t errlen);
/* Cuts a document into windows of at most `window` tokens of backend b (at paragraph, then
 * sentence boundaries), sharing up to `overlap` tokens. *texts: malloc'd array of malloc'd window
 * texts (caller frees all); *pages the page count. */
int pl_doc_windows(const char *path, pl_backend *b, size_t window, size_t overlap, char ***texts, size_t *n,
                   int *pages, char *err, size_t errlen);
/* The id of a document path (malloc'd): "d" + 16 hex digits of FNV-1a 64 of the path. */
char *pl_doc_id(const char *path);
/* True when the path names a windows.jsonl (a file ending in .jsonl). */
int pl_doc_is_windows(const char *path);

#endif
