/* ingest PDF: the cairo-made documents of make_pdfs (exact text, pages, furniture, de-hyphenation,
 * ligatures, two columns) and the PDFs that must fail with a clear reason. */
#include "common/error.h"
#include "common/util.h"
#include "ingest/ingest.h"
#include "tests/test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;

static char *path_of(const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void expect_error(const char *file, const char *needle) {
    lj_doc d;
    char err[LJ_ERRLEN] = "";
    int rc = ingest_extract(path_of(file), NULL, &d, err, sizeof err);
    CHECKF(rc != 0 && strstr(err, needle) && strstr(err, file), "%s: rc %d, error '%s' lacks '%s'", file, rc, err, needle);
    ingest_doc_free(&d);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: test_ingest_pdf DIR\n"); return 2; }
    dir = argv[1];
    if (!strstr(ingest_formats(), "pdf")) { fprintf(stderr, "no poppler in this build\n"); return TEST_SKIP; }
    ingest_init();
    char err[LJ_ERRLEN];
    size_t n;
    char *want = lj_read_file(path_of("columns.txt"), &n, err, sizeof err);
    if (!want) { fprintf(stderr, "%s\n", err); return 1; }
    while (n && want[n - 1] == '\n') want[--n] = 0;
    lj_doc d;
    int rc = ingest_extract(path_of("columns.pdf"), NULL, &d, err, sizeof err);
    if (rc != 0 && strstr(err, "empty PDF")) { fprintf(stderr, "no fonts for cairo here: %s\n", err); return TEST_SKIP; }
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        CHECKF(!strcmp(d.text, want), "columns.pdf text differs:\n--- got ---\n%s\n--- want ---\n%s", d.text, want);
        CHECK(d.n_pages == 3);
        CHECK(!strstr(d.text, "Proceedings of the Test Society"));   /* running header gone */
        CHECK(strstr(d.text, "extraordinary case") && strstr(d.text, "well-known habit") && strstr(d.text, "hyphenation for"));
        CHECK(strstr(d.text, "efficient reader") && !strstr(d.text, "\xEF\xAC\x81"));   /* ligature normalised */
        CHECK(d.n_paras > 10 && d.paras[0].page_first == 1 && d.paras[d.n_paras - 1].page_last == 3);
        int spans = 0;   /* paragraphs continued across a page: recorded with both pages */
        for (size_t i = 0; i < d.n_paras; i++) {
            CHECK(d.paras[i].page_first <= d.paras[i].page_last);
            if (i) CHECK(d.paras[i].page_first >= d.paras[i - 1].page_last);
            spans += d.paras[i].page_last > d.paras[i].page_first;
        }
        CHECK(spans >= 1);
        CHECK(d.page_start[0] == 0 && d.page_start[1] <= d.page_start[2] && d.page_start[2] < d.len);
    }
    ingest_doc_free(&d);
    free(want);

    /* with furniture kept, the header and the page numbers come back */
    ingest_opts o;
    ingest_opts_default(&o);
    o.keep_furniture = 1;
    if (ingest_extract(path_of("columns.pdf"), &o, &d, err, sizeof err) == 0)
        CHECK(strstr(d.text, "Proceedings of the Test Society, Volume 7"));
    ingest_doc_free(&d);

    /* damaged copies of columns.pdf: text or a clear error, never a crash */
    size_t pn;
    char *pdf = lj_read_file(path_of("columns.pdf"), &pn, err, sizeof err);
    if (pdf) {
        char *buf = malloc(pn);
        unsigned s = 99;
        for (int it = 0; it < 40; it++) {
            memcpy(buf, pdf, pn);
            for (int k = 0; k < 1 + it % 16; k++) { s = s * 1103515245u + 12345u; buf[(s >> 8) % pn] = (char)(s >> 20); }
            size_t len = pn;
            if (it % 4 == 3) { s = s * 1103515245u + 12345u; len = (s >> 8) % pn; }
            err[0] = 0;
            int r = ingest_extract_mem("damaged.pdf", buf, len, NULL, &d, err, sizeof err);
            CHECKF(r == 0 || strstr(err, "damaged.pdf:"), "iteration %d: error without a name: '%s'", it, err);
            ingest_doc_free(&d);
        }
        free(buf);
        free(pdf);
    }

    expect_error("image-only.pdf", "image-only PDF");
    expect_error("blank.pdf", "empty PDF");
    expect_error("encrypted.pdf", "encrypted PDF");
    expect_error("truncated.pdf", "damaged");
    expect_error("garbage.pdf", "damaged");
    return test_finish("ingest_pdf");
}
