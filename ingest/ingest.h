/* ingest: documents (PDF, XML/JATS/TEI/DocBook/XHTML, HTML, text/Markdown) into clean text with
 * paragraph and page structure, and that text into token windows.
 *
 * Typical use (one document):
 *
 *   lj_doc d;  char err[LJ_ERRLEN];
 *   ingest_opts o;  ingest_opts_default(&o);
 *   if (ingest_extract(path, &o, &d, err, sizeof err) != 0) { report(path, err); }
 *   else {
 *       ingest_window *w;  size_t nw;
 *       ingest_windows(&d, ingest_count_tok, tok, 261120, 0, &w, &nw, err, sizeof err);
 *       ... d.text + w[i].byte_start .. w[i].byte_end is window i's text ...
 *       free(w);
 *       ingest_doc_free(&d);
 *   }
 *
 * Thread safety: call ingest_init() once (from the main thread) before using the library from
 * several threads; after that, ingest_extract and ingest_windows may run concurrently on
 * different documents. */
#ifndef LJ_INGEST_INGEST_H
#define LJ_INGEST_INGEST_H

#include <stddef.h>
#include <stdint.h>

typedef enum ingest_format {
    INGEST_AUTO = 0,     /* decide from the extension and the first bytes */
    INGEST_PDF,
    INGEST_XML,          /* any XML; JATS, TEI, DocBook and XHTML are recognised from the root */
    INGEST_HTML,
    INGEST_TEXT,         /* plain text and Markdown */
} ingest_format;

typedef struct ingest_opts {
    ingest_format format;    /* INGEST_AUTO unless the caller knows better */
    int references;          /* keep reference lists / bibliographies (JATS ref-list, DocBook bibliography) */
    int tables;              /* keep tables (JATS table-wrap, HTML/DocBook tables) */
    int keep_furniture;      /* PDF: keep running headers, footers and page numbers */
    int dehyphenate;         /* PDF: join words hyphenated at line ends (see pdf.c for the rule) */
    int latin1;              /* text: the file is declared Latin-1 (ISO 8859-1) */
    size_t max_bytes;        /* refuse files larger than this (0 = no limit) */
} ingest_opts;

void ingest_opts_default(ingest_opts *o);

/* One paragraph of the cleaned text: bytes [start, end) of lj_doc.text, on pages
 * page_first..page_last (1-based; 0 when the format has no pages). */
typedef struct ingest_para {
    size_t start, end;
    int page_first, page_last;
} ingest_para;

/* A cleaned document. All memory is owned by the struct; release it with ingest_doc_free. */
typedef struct lj_doc {
    char *path;              /* as given to ingest_extract */
    char id[20];             /* stable id derived from the path: "d" + 16 hex digits */
    ingest_format format;    /* the format actually used */
    char *text;              /* UTF-8 (NFKC for PDF/XML/HTML, NFC for text), NUL-terminated;
                              * paragraphs are separated by "\n\n" */
    size_t len;              /* bytes in text, without the NUL */
    ingest_para *paras;      /* n_paras paragraphs in reading order */
    size_t n_paras;
    size_t *page_start;      /* PDF: byte offset in text where page i+1 begins (n_pages entries) */
    int n_pages;             /* pages in the source (0 for formats without pages) */
    char **warnings;         /* non-fatal problems (invalid UTF-8 offsets, empty pages, ...) */
    size_t n_warnings;
} lj_doc;

/* Call once before threads use the library (initialises libxml2, installs the refusing
 * external-entity loader, quiets glib/poppler logging). Safe to call more than once. */
void ingest_init(void);

/* Extracts the text of one document. On success fills *out (caller releases with
 * ingest_doc_free) and returns 0. On failure returns -1, leaves *out empty (safe to free) and
 * writes "PATH: reason" into err: unreadable, encrypted, damaged, image-only (no text layer),
 * empty, refused XML (entity expansion, external entity), binary data, ... */
int ingest_extract(const char *path, const ingest_opts *o, lj_doc *out, char *err, size_t errlen);

/* Same, from memory (name is used in messages and for the id and format detection). */
int ingest_extract_mem(const char *name, const void *data, size_t len, const ingest_opts *o,
                       lj_doc *out, char *err, size_t errlen);

/* Streaming extraction: each paragraph goes to fn as soon as it is complete (text is only valid
 * during the call; fn returns 0 to go on, non-zero to stop with an error) and is not kept, so memory
 * stays bounded by the largest paragraph (XML is read with a streaming reader; PDF pages are still
 * held until the document is laid out). *meta receives everything but the text: path, id, format,
 * n_pages, page_start, warnings; meta->len is the length the text would have had. Release meta with
 * ingest_doc_free. Paragraphs already delivered stay delivered when an error follows. */
typedef int (*ingest_para_fn)(void *ctx, const char *text, size_t len, int page_first, int page_last);
int ingest_extract_stream(const char *path, const ingest_opts *o, ingest_para_fn fn, void *ctx, lj_doc *meta,
                          char *err, size_t errlen);

void ingest_doc_free(lj_doc *d);

/* Supported formats of this build, e.g. "pdf xml html text" (a build without poppler lacks pdf). */
const char *ingest_formats(void);
const char *ingest_format_name(ingest_format f);

/* ---- windowing ----------------------------------------------------------------------------- */

/* Counts the tokens of `len` bytes of UTF-8 text (no special tokens). Returns 0 / -1 + err. */
typedef int (*ingest_count_fn)(void *ctx, const char *text, size_t len, size_t *ntokens,
                               char *err, size_t errlen);

/* One window: bytes [byte_start, byte_end) of lj_doc.text (code points [char_start, char_end)),
 * ntokens tokens when that text is tokenized alone, covering tokens [tok_start, tok_end) of the
 * document's token stream (the document tokenized unit by unit, see window.c), pages
 * page_first..page_last (0 when no pages). */
typedef struct ingest_window {
    size_t index;
    size_t byte_start, byte_end;
    size_t char_start, char_end;
    size_t tok_start, tok_end;
    size_t ntokens;
    int page_first, page_last;
} ingest_window;

/* Cuts a document into windows of at most `window` tokens, at paragraph boundaries where
 * possible, then sentence, then whitespace/character boundaries for giant paragraphs; consecutive
 * windows share up to `overlap` tokens of whole units (overlap < window). *out is malloc'd (caller
 * frees), *n its length (0 for an empty document). */
int ingest_windows(const lj_doc *d, ingest_count_fn count, void *ctx, size_t window, size_t overlap,
                   ingest_window **out, size_t *n, char *err, size_t errlen);

/* An ingest_count_fn over an engine tokenizer: ctx is a `const lj_tokenizer *` (engine/tokenizer.h). */
int ingest_count_tok(void *ctx, const char *text, size_t len, size_t *ntokens, char *err, size_t errlen);

/* Default window: 262144 tokens minus the reserve for the prompt template and the answer. */
#define INGEST_CONTEXT_DEFAULT 262144
#define INGEST_RESERVE_DEFAULT 1024

#endif
