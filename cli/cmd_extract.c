/* longjam extract FILE: the cleaned plain text of one document on stdout. */
#include "cli/commands.h"
#include "common/error.h"
#include "ingest/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: longjam extract [OPTIONS] FILE\n\n"
            "Prints the cleaned text of one document (reading order, no page furniture,\n"
            "paragraphs separated by blank lines) to stdout.\n\n"
            "options:\n"
            "  --pages            print a line \"\\f[page N]\" before the first paragraph of each PDF page\n"
            "  --paragraphs       print paragraph records \"[para I pages A-B]\" before each paragraph\n"
            "  --no-references    drop reference lists (JATS ref-list, DocBook bibliography, TEI listBibl)\n"
            "  --no-tables        drop tables\n"
            "  --keep-furniture   PDF: keep running headers, footers and page numbers\n"
            "  --no-dehyphenate   PDF: keep line-end hyphens as they are\n"
            "  --format F         pdf | xml | html | text (default: from extension and content)\n"
            "  --latin1           text: the file is Latin-1\n"
            "  --warnings         print warnings to stderr\n\n"
            "supported formats in this build: %s\n"
            "exit status: 0 ok, 1 the document could not be extracted (file and reason on stderr), 2 usage\n",
            ingest_formats());
}

typedef struct out_ctx { int pages, paras, page; size_t n; } out_ctx;

static int print_para(void *ctx, const char *text, size_t len, int page_first, int page_last) {
    out_ctx *c = ctx;
    if (c->n) fputs("\n\n", stdout);
    if (c->pages)   /* markers for the pages that begin up to this paragraph's first page */
        while (c->page < page_first) printf("\f[page %d]\n", ++c->page);
    if (c->paras) printf("[para %zu pages %d-%d]\n", c->n, page_first, page_last);
    c->n++;
    return fwrite(text, 1, len, stdout) == len ? 0 : -1;
}

int cmd_extract(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    ingest_opts o;
    ingest_opts_default(&o);
    const char *path = NULL;
    int pages = 0, paras = 0, warnings = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--pages")) pages = 1;
        else if (!strcmp(a, "--paragraphs")) paras = 1;
        else if (!strcmp(a, "--no-references")) o.references = 0;
        else if (!strcmp(a, "--no-tables")) o.tables = 0;
        else if (!strcmp(a, "--keep-furniture")) o.keep_furniture = 1;
        else if (!strcmp(a, "--no-dehyphenate")) o.dehyphenate = 0;
        else if (!strcmp(a, "--latin1")) o.latin1 = 1;
        else if (!strcmp(a, "--warnings")) warnings = 1;
        else if (!strcmp(a, "--format") && i + 1 < argc) {
            const char *f = argv[++i];
            if (!strcmp(f, "pdf")) o.format = INGEST_PDF;
            else if (!strcmp(f, "xml")) o.format = INGEST_XML;
            else if (!strcmp(f, "html")) o.format = INGEST_HTML;
            else if (!strcmp(f, "text")) o.format = INGEST_TEXT;
            else { fprintf(stderr, "longjam extract: unknown format '%s'\n", f); return CLI_USAGE; }
        } else if (a[0] == '-' && a[1]) { fprintf(stderr, "longjam extract: unknown option '%s'\n", a); usage(stderr); return CLI_USAGE; }
        else if (!path) path = a;
        else { fprintf(stderr, "longjam extract: one FILE only\n"); return CLI_USAGE; }
    }
    if (!path) { usage(stderr); return CLI_USAGE; }
    ingest_init();
    /* streamed: each paragraph is printed when complete, so memory stays bounded on huge XML */
    out_ctx c = {pages, paras, 0, 0};
    lj_doc meta;
    char err[LJ_ERRLEN];
    int rc = ingest_extract_stream(path, &o, print_para, &c, &meta, err, sizeof err);
    if (fflush(stdout) != 0 && rc == 0) { snprintf(err, sizeof err, "%s: cannot write stdout", path); rc = -1; }
    if (rc != 0) {
        fprintf(stderr, "longjam extract: %s\n", err);
        return CLI_FAILED;
    }
    if (c.n) fputc('\n', stdout);
    if (pages)
        while (c.page < meta.n_pages) printf("\f[page %d]\n", ++c.page);
    if (warnings)
        for (size_t i = 0; i < meta.n_warnings; i++) fprintf(stderr, "longjam extract: %s: warning: %s\n", path, meta.warnings[i]);
    ingest_doc_free(&meta);
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAILED;
}
