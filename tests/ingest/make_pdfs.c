/* Generates the test PDFs with cairo's PDF surface, and the text a careful reader sees in each.
 *
 *   make_pdfs OUTDIR  →  columns.pdf + columns.txt (expected text), image-only.pdf, blank.pdf,
 *                         encrypted.pdf, truncated.pdf, garbage.pdf
 *
 * columns.pdf: 3 US-letter pages, two columns each, a running header and a page number on every
 * page, paragraphs separated by extra space, flowing across columns and pages. Line breaking is done
 * here (greedy by measured width), with three forced line-end hyphenations:
 *   "extra-|ordinary"  (the joined word occurs elsewhere → expected "extraordinary"),
 *   "well-|known"      (the hyphenated compound occurs elsewhere → expected "well-known"),
 *   "hyphen-|ation"    (no evidence, halves are not words → expected "hyphenation"),
 * the ligature U+FB01 "ﬁ" in "ﬁnal" and "efﬁcient" (expected "final", "efficient"), and a section
 * heading in a larger size that fills its line (a paragraph of its own). */
#include <cairo-pdf.h>
#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_W 612.0
#define PAGE_H 792.0
#define MARGIN 72.0
#define GUTTER 12.0   /* tight, like LaTeX twocolumn (\columnsep 10pt) */
#define FONT 11.0
#define LEAD 14.0
#define TOP 100.0
#define BOTTOM 700.0
#define NPAGES 3

static const char *words[] = {"reader", "column", "page", "text", "layout", "order", "document", "paragraph",
                              "sentence", "window", "model", "token", "careful", "printed", "margin", "line",
                              "header", "footer", "number", "structure"};

/* Paragraph p's text. Markers: '|' = forced line break with a hyphen after the preceding part. */
static void para_text(int p, char *out, size_t cap) {
    unsigned s = 12345u + (unsigned)p * 7919u;
    size_t o = 0;
    int nsent = 3 + p % 3;
    for (int k = 0; k < nsent; k++) {
        s = s * 1103515245u + 12345u;
        const char *a = words[(s >> 8) % 20];
        s = s * 1103515245u + 12345u;
        const char *b = words[(s >> 8) % 20];
        s = s * 1103515245u + 12345u;
        const char *c = words[(s >> 8) % 20];
        o += (size_t)snprintf(out + o, cap - o, "%sSentence %d of paragraph %d keeps the %s and the %s of each %s in view.",
                              k ? " " : "", k + 1, p + 1, a, b, c);
        if (p == 2 && k == 0) o += (size_t)snprintf(out + o, cap - o, " An extraordinary \xEF\xAC\x81nal line follows here.");
        if (p == 5 && k == 1) o += (size_t)snprintf(out + o, cap - o, " This is a well-known rule for the reader.");
        if (p == 9 && k == 0) o += (size_t)snprintf(out + o, cap - o, " The extra|ordinary case is handled.");
        if (p == 12 && k == 1) o += (size_t)snprintf(out + o, cap - o, " The well|known habit stays hyphenated.");
        if (p == 15 && k == 0) o += (size_t)snprintf(out + o, cap - o, " Typesetters use hyphen|ation for long words.");
        if (p == 18 && k == 1) o += (size_t)snprintf(out + o, cap - o, " An ef\xEF\xAC\x81\x63ient reader is glad.");
    }
}

/* Expected reading of a paragraph: markers resolved, ligatures decomposed (NFKC). */
static void expected_of(const char *src, char *out, size_t cap) {
    size_t o = 0;
    for (const char *p = src; *p && o + 2 < cap; p++) {
        if (*p == '|') {
            if (!strncmp(p + 1, "known", 5)) out[o++] = '-';   /* the compound keeps its hyphen */
            continue;
        }
        if (!strncmp(p, "\xEF\xAC\x81", 3)) { out[o++] = 'f'; out[o++] = 'i'; p += 2; continue; }
        out[o++] = *p;
    }
    out[o] = 0;
}

typedef struct cursor { cairo_t *cr; int page, col; double y; cairo_surface_t *surf; } cursor;

static void page_furniture(cursor *c) {
    cairo_t *cr = c->cr;
    cairo_set_font_size(cr, 9);
    cairo_move_to(cr, MARGIN, 50);
    cairo_show_text(cr, "Proceedings of the Test Society, Volume 7");
    char num[16];
    snprintf(num, sizeof num, "%d", c->page);
    cairo_text_extents_t e;
    cairo_text_extents(cr, num, &e);
    cairo_move_to(cr, PAGE_W / 2 - e.x_advance / 2, 750);
    cairo_show_text(cr, num);
    cairo_set_font_size(cr, FONT);
}

static void next_line(cursor *c) {
    c->y += LEAD;
    if (c->y > BOTTOM) {
        if (c->col == 0) { c->col = 1; c->y = TOP; return; }
        cairo_show_page(c->cr);
        c->page++;
        c->col = 0;
        c->y = TOP;
        page_furniture(c);
    }
}

/* Draws one line; justified lines spread their words over the column width, as typeset text does. */
static void draw_line(cursor *c, const char *s, int justify) {
    double x = MARGIN + c->col * ((PAGE_W - 2 * MARGIN - GUTTER) / 2 + GUTTER);
    double width = (PAGE_W - 2 * MARGIN - GUTTER) / 2;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    char *w[64];
    int n = 0;
    for (char *t = strtok(buf, " "); t && n < 64; t = strtok(NULL, " ")) w[n++] = t;
    double total = 0, adv[64];
    for (int i = 0; i < n; i++) {
        cairo_text_extents_t e;
        cairo_text_extents(c->cr, w[i], &e);
        adv[i] = e.x_advance;
        total += adv[i];
    }
    cairo_text_extents_t sp;
    cairo_text_extents(c->cr, " ", &sp);
    double gap = justify && n > 1 ? (width - total) / (n - 1) : sp.x_advance;
    for (int i = 0; i < n; i++) {
        cairo_move_to(c->cr, x, c->y);
        cairo_show_text(c->cr, w[i]);
        x += adv[i] + gap;
    }
    next_line(c);
}

/* Greedy line breaking of one paragraph; '|' forces "part-" at the end of a line. */
static void draw_para(cursor *c, const char *src) {
    double width = (PAGE_W - 2 * MARGIN - GUTTER) / 2;
    char line[1400] = "";
    const char *p = src;
    while (*p) {
        const char *e = p;
        while (*e && *e != ' ') e++;
        char word[128];
        size_t n = (size_t)(e - p) < sizeof word - 1 ? (size_t)(e - p) : sizeof word - 1;
        memcpy(word, p, n);
        word[n] = 0;
        char *bar = strchr(word, '|');
        if (bar) {
            /* forced hyphenation: finish this line with "part-", start the next with the rest */
            *bar = 0;
            char tmp[1400];
            snprintf(tmp, sizeof tmp, "%.1200s%s%s-", line, line[0] ? " " : "", word);
            draw_line(c, tmp, 0);
            snprintf(line, sizeof line, "%s", bar + 1);
        } else {
            char tmp[1400];
            snprintf(tmp, sizeof tmp, "%.1200s%s%s", line, line[0] ? " " : "", word);
            cairo_text_extents_t ext;
            cairo_text_extents(c->cr, tmp, &ext);
            if (ext.x_advance > width && line[0]) {
                draw_line(c, line, 1);
                snprintf(line, sizeof line, "%s", word);
            } else snprintf(line, sizeof line, "%s", tmp);
        }
        p = *e ? e + 1 : e;
    }
    if (line[0]) draw_line(c, line, 0);
    c->y += LEAD * 0.6;   /* paragraph spacing */
    if (c->y > BOTTOM) { c->y -= LEAD; next_line(c); }
}

static int write_file(const char *dir, const char *name, const void *data, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); return -1; }
    fwrite(data, 1, n, f);
    return fclose(f);
}

static char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)l + 1);
    *n = fread(b, 1, (size_t)l, f);
    fclose(f);
    return b;
}

/* A one-page PDF whose Standard security handler needs a user password (random /O and /U). */
static int write_encrypted(const char *dir) {
    char buf[4096];
    size_t off[6], o = 0;
    o += (size_t)snprintf(buf + o, sizeof buf - o, "%%PDF-1.4\n");
    off[1] = o; o += (size_t)snprintf(buf + o, sizeof buf - o, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    off[2] = o; o += (size_t)snprintf(buf + o, sizeof buf - o, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
    off[3] = o; o += (size_t)snprintf(buf + o, sizeof buf - o, "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>\nendobj\n");
    off[4] = o; o += (size_t)snprintf(buf + o, sizeof buf - o,
        "4 0 obj\n<< /Filter /Standard /V 1 /R 2 /P -44 "
        "/O <0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef> "
        "/U <fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210> >>\nendobj\n");
    size_t xref = o;
    o += (size_t)snprintf(buf + o, sizeof buf - o, "xref\n0 5\n0000000000 65535 f \n");
    for (int i = 1; i <= 4; i++) o += (size_t)snprintf(buf + o, sizeof buf - o, "%010zu 00000 n \n", off[i]);
    o += (size_t)snprintf(buf + o, sizeof buf - o,
        "trailer\n<< /Size 5 /Root 1 0 R /Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff><00112233445566778899aabbccddeeff>] >>\n"
        "startxref\n%zu\n%%%%EOF\n", xref);
    return write_file(dir, "encrypted.pdf", buf, o);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: make_pdfs OUTDIR\n"); return 2; }
    const char *dir = argv[1];
    char path[1024];

    /* columns.pdf + columns.txt */
    snprintf(path, sizeof path, "%s/columns.pdf", dir);
    cairo_surface_t *surf = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
    cairo_t *cr = cairo_create(surf);
    cairo_select_font_face(cr, "DejaVu Serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, FONT);
    cursor c = {cr, 1, 0, TOP, surf};
    page_furniture(&c);
    snprintf(path, sizeof path, "%s/columns.txt", dir);
    FILE *exp = fopen(path, "wb");
    if (!exp) { perror(path); return 1; }
    for (int p = 0; c.page <= NPAGES; p++) {
        char src[4096], want[4096];
        para_text(p, src, sizeof src);
        int page_before = c.page;
        /* stop before a paragraph that would spill onto page NPAGES+1: estimate by drawing height */
        if (c.page == NPAGES && c.col == 1 && c.y > BOTTOM - 10 * LEAD) break;
        if (p == 12) {
            /* a section heading set in a larger size, justified to the full column width and
             * followed at the normal leading: only the change of type size separates it */
            const char *head = "Method and results for columns";
            cairo_set_font_size(cr, 13);
            draw_line(&c, head, 1);
            cairo_set_font_size(cr, FONT);
            fprintf(exp, "\n\n%s", head);
        }
        draw_para(&c, src);
        (void)page_before;
        expected_of(src, want, sizeof want);
        fprintf(exp, "%s%s", p ? "\n\n" : "", want);
    }
    fputc('\n', exp);
    fclose(exp);
    cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_finish(surf);
    cairo_surface_destroy(surf);

    /* image-only.pdf: a scanned-looking page, no text */
    snprintf(path, sizeof path, "%s/image-only.pdf", dir);
    surf = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
    cr = cairo_create(surf);
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 64, 64);
    cairo_t *ic = cairo_create(img);
    cairo_set_source_rgb(ic, 0.2, 0.4, 0.6);
    cairo_paint(ic);
    cairo_set_source_rgb(ic, 1, 1, 1);
    cairo_rectangle(ic, 10, 10, 20, 30);
    cairo_fill(ic);
    cairo_destroy(ic);
    cairo_scale(cr, 5, 5);
    cairo_set_source_surface(cr, img, 10, 10);
    cairo_paint(cr);
    cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_destroy(img);
    cairo_surface_finish(surf);
    cairo_surface_destroy(surf);

    /* blank.pdf: one page, nothing on it */
    snprintf(path, sizeof path, "%s/blank.pdf", dir);
    surf = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
    cr = cairo_create(surf);
    cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_finish(surf);
    cairo_surface_destroy(surf);

    if (write_encrypted(dir) != 0) return 1;

    /* truncated.pdf: the first 40% of columns.pdf; garbage.pdf: a PDF header and noise */
    snprintf(path, sizeof path, "%s/columns.pdf", dir);
    size_t n;
    char *all = read_all(path, &n);
    if (!all) { perror(path); return 1; }
    if (write_file(dir, "truncated.pdf", all, n * 2 / 5) != 0) return 1;
    unsigned s = 42;
    for (size_t i = 9; i < n; i++) { s = s * 1103515245u + 12345u; all[i] = (char)(s >> 16); }
    memcpy(all, "%PDF-1.5\n", 9);
    if (write_file(dir, "garbage.pdf", all, n < 20000 ? n : 20000) != 0) return 1;
    free(all);
    return 0;
}
