/* ingest: XML schemas, HTML, text encodings, hostile XML, windows, garbage survival.
 * Expected texts are written out by hand from the sample files in tests/ingest/. */
#include "common/error.h"
#include "common/util.h"
#include "ingest/ingest.h"
#include "tests/test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer.h"

static const char *dir;

static char *path_of(const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void expect_text(const char *file, const ingest_opts *o, const char *want) {
    lj_doc d;
    char err[LJ_ERRLEN] = "";
    int rc = ingest_extract(path_of(file), o, &d, err, sizeof err);
    CHECKF(rc == 0, "%s: %s", file, err);
    if (rc == 0) CHECKF(!strcmp(d.text, want), "%s:\n--- got ---\n%s\n--- want ---\n%s", file, d.text, want);
    ingest_doc_free(&d);
}

static void expect_error(const char *name, const void *data, size_t len, const char *needle) {
    lj_doc d;
    char err[LJ_ERRLEN] = "";
    int rc = ingest_extract_mem(name, data, len, NULL, &d, err, sizeof err);
    CHECKF(rc != 0, "%s: expected an error containing '%s'", name, needle);
    CHECKF(rc != 0 && strstr(err, needle) && strstr(err, name), "%s: error '%s' lacks '%s'", name, err, needle);
    ingest_doc_free(&d);
}

static void expect_file_error(const char *file, const char *needle) {
    lj_doc d;
    char err[LJ_ERRLEN] = "";
    int rc = ingest_extract(path_of(file), NULL, &d, err, sizeof err);
    CHECKF(rc != 0 && strstr(err, needle), "%s: rc %d, error '%s' lacks '%s'", file, rc, err, needle);
    ingest_doc_free(&d);
}

static void test_xml(void) {
    ingest_opts o;
    ingest_opts_default(&o);
    expect_text("jats.xml", &o,
                "Streaming Extraction of Structured Text\n\nWe extract text from documents & windows.\n\n"
                "Introduction\n\nFirst paragraph with a citation [1] inline.\n\nSecond paragraph.\n\nResults\n\n"
                "Table caption.\n\nName | Value\n\nalpha | 1\n\nFinal remark.\n\nReferences\n\nSmith J A paper 2001");
    o.references = 0; o.tables = 0;
    expect_text("jats.xml", &o,
                "Streaming Extraction of Structured Text\n\nWe extract text from documents & windows.\n\n"
                "Introduction\n\nFirst paragraph with a citation [1] inline.\n\nSecond paragraph.\n\nResults\n\n"
                "Final remark.");
    ingest_opts_default(&o);
    expect_text("tei.xml", &o,
                "The Test Poem\n\nAnon\n\nCanto One\n\nThe first line of verse,\n\nthe second line of verse.\n\n"
                "A prose paragraph with a spelling fix and a hyphenated word across a line break.\n\nLast paragraph.");
    expect_text("docbook.xml", &o,
                "DocBook Sample\n\nGetting Started\n\nRun the make command.\n\nItem one.\n\nItem two.\n\n"
                "int main(void) {\n    return 0;\n}");
    expect_text("page.html", &o,
                "Main Heading\n\nA paragraph with bold and a link.\n\nSecond paragraph\n\nafter a break.\n\nc1 | c2");
    expect_text("generic.xml", &o, "Foo\n\nBar\n\nSome mixed content here.");

    /* entities of an unloaded DTD (JATS uses HTML's names): read as HTML defines them */
    const char ent[] = "<?xml version=\"1.0\"?>\n<!DOCTYPE article PUBLIC \"-//NLM//DTD JATS (Z39.96) Journal "
                       "Archiving and Interchange DTD v1.2 20190208//EN\" \"JATS-archivearticle1.dtd\">\n"
                       "<article article-type=\"x\"><body><p>a&nbsp;b&mdash;c &amp; d&#x2014;e</p></body></article>\n";
    lj_doc d;
    char err[LJ_ERRLEN];
    CHECK(ingest_extract_mem("ent.xml", ent, sizeof ent - 1, NULL, &d, err, sizeof err) == 0);
    CHECKF(d.text && !strcmp(d.text, "a b\xe2\x80\x94" "c & d\xe2\x80\x94" "e"), "got '%s'", d.text ? d.text : "");
    ingest_doc_free(&d);
    /* XHTML goes to the HTML parser */
    const char xh[] = "<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>T</title></head>"
                      "<body><nav>menu</nav><p>x&nbsp;y</p></body></html>\n";
    CHECK(ingest_extract_mem("page.xhtml", xh, sizeof xh - 1, NULL, &d, err, sizeof err) == 0);
    CHECKF(d.text && !strcmp(d.text, "x y") && d.format == INGEST_HTML, "got '%s'", d.text ? d.text : "");
    ingest_doc_free(&d);
}

static void test_hostile_xml(void) {
    expect_file_error("billion-laughs.xml", "entity expansion refused");
    expect_file_error("xxe.xml", "XXE");
    expect_file_error("xxe.xml", "file:///etc/passwd");
    expect_file_error("xxe-param.xml", "XXE");
    expect_file_error("truncated.xml", "malformed XML at line");
    /* quadratic blowup: one 64 KiB entity referenced 4000 times (256 MB if expanded) */
    size_t cap = 70000 + 4000 * 6 + 256;
    char *x = malloc(cap);
    size_t n = (size_t)snprintf(x, cap, "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY a \"");
    for (int i = 0; i < 65536; i++) x[n++] = 'a';
    n += (size_t)snprintf(x + n, cap - n, "\">]>\n<r>");
    for (int i = 0; i < 4000; i++) n += (size_t)snprintf(x + n, cap - n, "&a;");
    n += (size_t)snprintf(x + n, cap - n, "</r>\n");
    expect_error("quadratic.xml", x, n, "entity expansion refused");
    free(x);
    expect_error("empty.xml", "", 0, "");
    expect_error("notxml.xml", "<<<>>>", 6, "malformed XML");
}

static void test_text(void) {
    lj_doc d;
    char err[LJ_ERRLEN];
    const char utf8bad[] = "caf\xc3\xa9 ok\xff\xfe end\n\nsecond  para\nline two\n";
    CHECK(ingest_extract_mem("bad.txt", utf8bad, sizeof utf8bad - 1, NULL, &d, err, sizeof err) == 0);
    CHECKF(!strcmp(d.text, "caf\xc3\xa9 ok\xef\xbf\xbd\xef\xbf\xbd end\n\nsecond  para\nline two"), "got '%s'", d.text);
    CHECK(d.n_paras == 2);
    CHECKF(d.n_warnings == 1 && strstr(d.warnings[0], "offset(s) 8, 9"), "warning '%s'", d.n_warnings ? d.warnings[0] : "");
    ingest_doc_free(&d);

    const char latin1[] = "caf\xe9 na\xefve\n";
    CHECK(ingest_extract_mem("l1.txt", latin1, sizeof latin1 - 1, NULL, &d, err, sizeof err) == 0);
    CHECKF(!strcmp(d.text, "caf\xc3\xa9 na\xc3\xafve"), "got '%s'", d.text);
    CHECK(d.n_warnings == 1 && strstr(d.warnings[0], "Latin-1"));
    ingest_doc_free(&d);

    char bin[256];
    memset(bin, 0, sizeof bin);
    memcpy(bin, "abc", 3);
    expect_error("blob.txt", bin, sizeof bin, "binary");

    const char u16[] = "\xff\xfe" "c\0a\0f\0\xe9\0 \0=\xd8\x00\xde\n\0";   /* "café 😀\n", UTF-16LE */
    CHECK(ingest_extract_mem("u16.txt", u16, sizeof u16 - 1, NULL, &d, err, sizeof err) == 0);
    CHECKF(!strcmp(d.text, "caf\xc3\xa9 \xf0\x9f\x98\x80"), "got '%s'", d.text);
    ingest_doc_free(&d);

    const char md[] = "# Title\n\nSome *markdown* text\nwrapped.\n\r\n- item\n";
    CHECK(ingest_extract_mem("a.md", md, sizeof md - 1, NULL, &d, err, sizeof err) == 0);
    CHECKF(!strcmp(d.text, "# Title\n\nSome *markdown* text\nwrapped.\n\n- item"), "got '%s'", d.text);
    CHECK(d.n_paras == 3 && d.paras[1].start == 9 && d.paras[1].end == 9 + 29);
    ingest_doc_free(&d);
}

/* token counter for the window tests: whitespace-separated words */
static int count_words(void *ctx, const char *t, size_t n, size_t *out, char *err, size_t errlen) {
    size_t c = 0;
    int in = 0;
    for (size_t i = 0; i < n; i++) {
        int sp = t[i] == ' ' || t[i] == '\n';
        if (!sp && !in) c++;
        in = !sp;
    }
    (*(int *)ctx)++;
    *out = c;
    return 0;
}

static void test_windows(void) {
    /* 10 paragraphs of 7 words */
    char buf[4096];
    size_t n = 0;
    for (int p = 0; p < 10; p++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%sw%d a b c d e f.", p ? "\n\n" : "", p);
    lj_doc d;
    char err[LJ_ERRLEN];
    int calls = 0;
    CHECK(ingest_extract_mem("w.txt", buf, n, NULL, &d, err, sizeof err) == 0);
    ingest_window *w;
    size_t nw;
    CHECK(ingest_windows(&d, count_words, &calls, 20, 0, &w, &nw, err, sizeof err) == 0);
    CHECKF(nw == 5, "nw %zu", nw);
    for (size_t i = 0; i < nw; i++) {
        CHECK(w[i].ntokens == 14 && w[i].tok_start == 14 * i && w[i].tok_end == 14 * (i + 1));
        CHECK(w[i].byte_start == d.paras[2 * i].start && w[i].byte_end == d.paras[2 * i + 1].end);
        CHECK(w[i].char_start == w[i].byte_start && w[i].index == i);
    }
    free(w);
    CHECK(ingest_windows(&d, count_words, &calls, 20, 7, &w, &nw, err, sizeof err) == 0);
    CHECKF(nw == 9, "overlap nw %zu", nw);
    for (size_t i = 0; nw == 9 && i < nw; i++) CHECK(w[i].tok_start == 7 * i && w[i].ntokens == 14);
    free(w);
    /* an overlap smaller than a paragraph starts the next window inside the previous one's last
     * paragraph, at a word: "d e f." repeated */
    CHECK(ingest_windows(&d, count_words, &calls, 20, 3, &w, &nw, err, sizeof err) == 0);
    CHECKF(nw >= 3 && w[1].ntokens == 17 && !strncmp(d.text + w[1].byte_start, "d e f.\n\nw2", 10),
           "nw %zu, w1 %zu tokens at '%.12s'", nw, nw > 1 ? w[1].ntokens : 0, nw > 1 ? d.text + w[1].byte_start : "");
    CHECK(nw >= 2 && w[0].byte_end - 6 == w[1].byte_start && w[1].tok_start == 11);
    for (size_t i = 0; i < nw; i++) CHECK(w[i].ntokens <= 20 && (i == 0 || w[i].byte_start < w[i - 1].byte_end));
    CHECK(w[nw - 1].byte_end == d.len);
    free(w);
    CHECK(ingest_windows(&d, count_words, &calls, 20, 20, &w, &nw, err, sizeof err) != 0);   /* overlap >= window */
    ingest_doc_free(&d);

    /* a paragraph too big to share a window with the overlap: no creeping, the next window starts
     * after the previous one */
    const char two[] = "a b c d e f g\n\n1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19";
    CHECK(ingest_extract_mem("two.txt", two, sizeof two - 1, NULL, &d, err, sizeof err) == 0);
    CHECK(ingest_windows(&d, count_words, &calls, 20, 5, &w, &nw, err, sizeof err) == 0);
    CHECKF(nw == 2 && w[0].ntokens == 7 && w[1].ntokens == 19, "nw %zu", nw);
    free(w);
    ingest_doc_free(&d);

    /* a giant paragraph: 5 sentences of 10 words → sentence units; then a 45-word run-on sentence */
    n = 0;
    for (int s = 0; s < 5; s++) n += (size_t)snprintf(buf + n, sizeof buf - n, "%sS%d one two three four five six seven eight nine.", s ? " " : "", s);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\n\n");
    for (int k = 0; k < 45; k++) n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\xc3\xa9%d", k ? " " : "", k);
    CHECK(ingest_extract_mem("g.txt", buf, n, NULL, &d, err, sizeof err) == 0);
    CHECK(ingest_windows(&d, count_words, &calls, 20, 0, &w, &nw, err, sizeof err) == 0);
    /* 5 sentences → 3 windows (20, 20, 10); 45 words → pieces of 20, 20, 5 → with greedy packing
     * the 10-word window takes no 20-word piece: 6 windows */
    CHECKF(nw == 6, "giant nw %zu", nw);
    size_t covered = 0;
    for (size_t i = 0; i < nw; i++) {
        CHECKF(w[i].ntokens <= 20, "window %zu has %zu tokens", i, w[i].ntokens);
        covered += w[i].ntokens;
        /* char offsets: count code points of the prefix */
        size_t cps = 0;
        for (size_t b = 0; b < w[i].byte_start; b++) cps += ((unsigned char)d.text[b] & 0xC0) != 0x80;
        CHECK(w[i].char_start == cps);
        CHECK(w[i].char_end - w[i].char_start <= w[i].byte_end - w[i].byte_start);
    }
    CHECKF(covered == 95, "covered %zu", covered);
    if (nw == 6) CHECK(w[3].ntokens == 20 && w[5].ntokens == 5 && !strncmp(d.text + w[3].byte_start, "\xc3\xa9" "0 ", 4));
    free(w);
    ingest_doc_free(&d);

    /* empty document: no windows */
    CHECK(ingest_extract_mem("e.txt", "\n\n", 2, NULL, &d, err, sizeof err) == 0);
    CHECK(ingest_windows(&d, count_words, &calls, 20, 0, &w, &nw, err, sizeof err) == 0 && nw == 0);
    free(w);
    ingest_doc_free(&d);
}

static void test_windows_tokenizer(void) {
    lj_tokenizer *t;
    char err[LJ_ERRLEN];
    if (tok_load(test_fixture("tokenizers/mistral/tokenizer.json"), &t, err, sizeof err) != 0) {
        fprintf(stderr, "skipping tokenizer windows: %s\n", err);
        return;
    }
    lj_doc d;
    const char text[] = "Streaming Extraction of Structured Text\n\nWe extract text from documents & windows.\n\n"
                        "First paragraph with a citation [1] inline, and a second clause that makes it longer "
                        "than one window of sixteen tokens. Second sentence.\n\nÉtude naïve — café.\n";
    CHECK(ingest_extract_mem("tok.txt", text, sizeof text - 1, NULL, &d, err, sizeof err) == 0);
    ingest_window *w = NULL;
    size_t nw = 0;
    CHECK(ingest_windows(&d, ingest_count_tok, t, 16, 4, &w, &nw, err, sizeof err) == 0);
    CHECK(nw > 3);
    for (size_t i = 0; i < nw; i++) {
        int32_t *ids;
        size_t n;
        CHECK(tok_encode(t, d.text + w[i].byte_start, w[i].byte_end - w[i].byte_start, 0, &ids, &n, err, sizeof err) == 0);
        CHECKF(n == w[i].ntokens && n <= 16, "window %zu: %zu vs %zu", i, n, w[i].ntokens);
        free(ids);
    }
    CHECK(nw && w[nw - 1].byte_end == d.len);
    free(w);
    ingest_doc_free(&d);
    tok_free(t);
}

/* Random damage to real inputs: every call returns 0 or an error with a message, never crashes. */
static void test_garbage(void) {
    const char *files[] = {"jats.xml", "tei.xml", "page.html", "docbook.xml"};
    unsigned s = 7;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t n;
        char err[LJ_ERRLEN];
        char *orig = lj_read_file(path_of(files[f]), &n, err, sizeof err);
        CHECK(orig != NULL);
        if (!orig) continue;
        char *buf = malloc(n + 1);
        for (int it = 0; it < 60; it++) {
            memcpy(buf, orig, n);
            size_t len = n;
            int flips = 1 + it % 8;
            for (int k = 0; k < flips; k++) { s = s * 1103515245u + 12345u; buf[(s >> 8) % n] = (char)(s >> 20); }
            if (it % 3 == 0) { s = s * 1103515245u + 12345u; len = (s >> 8) % n; }
            lj_doc d;
            err[0] = 0;
            int rc = ingest_extract_mem(files[f], buf, len, NULL, &d, err, sizeof err);
            CHECKF(rc == 0 || err[0], "%s iteration %d: error without message", files[f], it);
            ingest_doc_free(&d);
        }
        free(buf);
        free(orig);
    }
}

int main(int argc, char **argv) {
    dir = argc > 1 ? argv[1] : "tests/ingest";
    ingest_init();
    if (strstr(ingest_formats(), "xml")) {
        test_xml();
        test_hostile_xml();
        test_garbage();
    } else {
        fprintf(stderr, "no libxml2 in this build: XML/HTML tests skipped\n");
    }
    test_text();
    test_windows();
    test_windows_tokenizer();
    return test_finish("ingest");
}
