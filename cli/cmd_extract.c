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
            "  --pages            print a line \"\\f[page N]\" where each PDF page begins\n"
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
    lj_doc d;
    char err[LJ_ERRLEN];
    if (ingest_extract(path, &o, &d, err, sizeof err) != 0) {
        fprintf(stderr, "longjam extract: %s\n", err);
        return CLI_FAILED;
    }
    if (warnings)
        for (size_t i = 0; i < d.n_warnings; i++) fprintf(stderr, "longjam extract: %s: warning: %s\n", path, d.warnings[i]);
    int page = 0;
    for (size_t i = 0; i < d.n_paras; i++) {
        const ingest_para *p = &d.paras[i];
        if (pages)   /* pages that begin at or before this paragraph (paragraph granularity) */
            while (page < d.n_pages && d.page_start[page] <= p->start) printf("\f[page %d]\n", ++page);
        if (paras) printf("[para %zu pages %d-%d]\n", i, p->page_first, p->page_last);
        fwrite(d.text + p->start, 1, p->end - p->start, stdout);
        fputs(i + 1 < d.n_paras ? "\n\n" : "\n", stdout);
    }
    int rc = fflush(stdout) == 0 ? CLI_OK : CLI_FAILED;
    ingest_doc_free(&d);
    return rc;
}
