/* Documents for summarize and qa: the text of one document file, and its id.
 * TODO(ingest branch): PDF/XML/HTML through ingest/ingest.h once it lands; until then only plain
 * text and Markdown are read here (other kinds give a per-document error line), and windows.jsonl
 * from `longjam ingest` is read by summarize. */
#ifndef LJ_PIPELINES_DOCS_H
#define LJ_PIPELINES_DOCS_H

#include <stddef.h>

/* Reads the document's text (malloc'd, caller frees) and its page count (1 for plain text). */
int pl_doc_load(const char *path, char **text, size_t *len, int *pages, char *err, size_t errlen);
/* The id of a document: its file name without directory and extension (malloc'd). */
char *pl_doc_id(const char *path);
/* True when the path names a windows.jsonl (a file ending in .jsonl). */
int pl_doc_is_windows(const char *path);

#endif
