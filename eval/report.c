/* Tables, plots, resume files; see report.h. */
#include "eval/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#ifdef LONGJAM_HAVE_CAIRO
#include <cairo.h>
#endif
#ifdef LONGJAM_HAVE_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif

static int cmp_json_str(const void *a, const void *b) {
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}
static int cmp_col(const void *a, const void *b) {
    const char *x = json_string_value(*(json_t *const *)a), *y = json_string_value(*(json_t *const *)b);
    char *ex, *ey;
    double dx = strtod(x, &ex), dy = strtod(y, &ey);
    if (!*ex && !*ey && *x && *y) return dx < dy ? -1 : dx > dy;
    return strcmp(x, y);
}

static void col_name(json_t *v, char *buf, size_t n) {
    if (json_is_integer(v)) snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v)) snprintf(buf, n, "%s", json_string_value(v));
    else snprintf(buf, n, "score");
}

json_t *eval_summary(json_t *samples, const char *group_key, const char *col_key, int require_col) {
    json_t *sums = json_object(), *counts = json_object(), *cols = json_object();
    size_t i;
    json_t *s;
    json_array_foreach(samples, i, s) {
        const char *g = json_string_value(json_object_get(s, group_key));
        json_t *sc = json_object_get(s, "score");
        if (!g || !json_is_number(sc)) continue;
        if (require_col && col_key && !json_object_get(s, col_key)) continue;
        char c[64];
        col_name(col_key ? json_object_get(s, col_key) : NULL, c, sizeof c);
        json_object_set_new(cols, c, json_true());
        json_t *row = json_object_get(sums, g), *crow = json_object_get(counts, g);
        if (!row) { row = json_object(); json_object_set_new(sums, g, row); crow = json_object(); json_object_set_new(counts, g, crow); }
        json_object_set_new(row, c, json_real(json_number_value(json_object_get(row, c)) + json_number_value(sc)));
        json_object_set_new(crow, c, json_integer(json_integer_value(json_object_get(crow, c)) + 1));
    }
    json_t *rows = json_array(), *colv = json_array(), *cells = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(sums, k, v) json_array_append_new(rows, json_string(k));
    json_object_foreach(cols, k, v) json_array_append_new(colv, json_string(k));
    /* sort rows and columns */
    size_t nr = json_array_size(rows), nc = json_array_size(colv);
    json_t **rv = malloc((nr + 1) * sizeof *rv), **cv = malloc((nc + 1) * sizeof *cv);
    for (size_t r = 0; r < nr; r++) rv[r] = json_array_get(rows, r);
    for (size_t c = 0; c < nc; c++) cv[c] = json_array_get(colv, c);
    qsort(rv, nr, sizeof *rv, cmp_json_str);
    qsort(cv, nc, sizeof *cv, cmp_col);
    json_t *rows2 = json_array(), *cols2 = json_array();
    for (size_t r = 0; r < nr; r++) json_array_append(rows2, rv[r]);
    for (size_t c = 0; c < nc; c++) json_array_append(cols2, cv[c]);
    json_t *avg = json_object();
    for (size_t c = 0; c < nc; c++) {
        const char *cn = json_string_value(cv[c]);
        double tot = 0;
        size_t have = 0;
        for (size_t r = 0; r < nr; r++) {
            const char *rn = json_string_value(rv[r]);
            json_t *sum = json_object_get(json_object_get(sums, rn), cn);
            json_int_t cnt = json_integer_value(json_object_get(json_object_get(counts, rn), cn));
            if (!json_object_get(cells, rn)) json_object_set_new(cells, rn, json_object());
            if (!sum || !cnt) continue;
            double mean = 100.0 * json_number_value(sum) / (double)cnt;
            json_object_set_new(json_object_get(cells, rn), cn, json_real(mean));
            tot += mean;
            have++;
        }
        if (have) json_object_set_new(avg, cn, json_real(tot / (double)have));
    }
    free(rv); free(cv);
    json_decref(rows); json_decref(colv); json_decref(sums); json_decref(cols);
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "rows", rows2, "cols", cols2, "cells", cells, "average", avg,
                     "counts", counts);
}

void eval_table_print(FILE *f, json_t *sum, const char *row_title) {
    json_t *rows = json_object_get(sum, "rows"), *cols = json_object_get(sum, "cols"), *cells = json_object_get(sum, "cells");
    size_t i, j;
    json_t *r, *c;
    fprintf(f, "| %s |", row_title);
    json_array_foreach(cols, j, c) fprintf(f, " %s |", json_string_value(c));
    fprintf(f, "\n|---|");
    json_array_foreach(cols, j, c) fprintf(f, "---:|");
    fprintf(f, "\n");
    json_array_foreach(rows, i, r) {
        fprintf(f, "| %s |", json_string_value(r));
        json_array_foreach(cols, j, c) {
            json_t *v = json_object_get(json_object_get(cells, json_string_value(r)), json_string_value(c));
            if (v) fprintf(f, " %.2f |", json_number_value(v));
            else fprintf(f, " – |");
        }
        fprintf(f, "\n");
    }
    fprintf(f, "| **average** |");
    json_array_foreach(cols, j, c) {
        json_t *v = json_object_get(json_object_get(sum, "average"), json_string_value(c));
        if (v) fprintf(f, " **%.2f** |", json_number_value(v));
        else fprintf(f, " – |");
    }
    fprintf(f, "\n");
}

#ifdef LONGJAM_HAVE_CAIRO
static void line_color(size_t i, double *r, double *g, double *b) {
    static const double pal[][3] = {{0.12, 0.47, 0.71}, {1.0, 0.50, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
                                    {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50},
                                    {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81}, {0.35, 0.35, 0.85}, {0.85, 0.55, 0.35}};
    const double *p = pal[i % 12];
    *r = p[0]; *g = p[1]; *b = p[2];
}
#endif

int eval_plot_png(const char *path, json_t *sum, const char *title, const char *xlabel, char *err, size_t errlen) {
#ifndef LONGJAM_HAVE_CAIRO
    (void)sum; (void)title; (void)xlabel;
    return lj_errf(err, errlen, "%s: this longjam was built without cairo (install libcairo2-dev and rebuild)", path);
#else
    json_t *rows = json_object_get(sum, "rows"), *cols = json_object_get(sum, "cols"), *cells = json_object_get(sum, "cells");
    size_t nc = json_array_size(cols), nr = json_array_size(rows);
    if (!nc) return lj_errf(err, errlen, "%s: no results to plot", path);
    double *x = malloc(nc * sizeof *x);
    int numeric = 1;
    for (size_t j = 0; j < nc; j++) {
        char *e;
        const char *s = json_string_value(json_array_get(cols, j));
        double v = strtod(s, &e);
        if (*e || v <= 0) numeric = 0;
        x[j] = v;
    }
    double xmin, xmax;
    for (size_t j = 0; j < nc; j++) x[j] = numeric ? log2(x[j]) : (double)j;
    xmin = x[0]; xmax = x[nc - 1];
    if (xmax - xmin < 1e-9) { xmin -= 1; xmax += 1; }
    const int W = 960, H = 600, L = 70, R = 220, T = 50, B = 60;
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(sf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    double pw = W - L - R, ph = H - T - B;
#define PX(v) (L + ((v) - xmin) / (xmax - xmin) * pw)
#define PY(v) (T + ph - (v) / 100.0 * ph)
    /* grid and axes */
    cairo_set_font_size(cr, 12);
    cairo_set_line_width(cr, 1);
    for (int yv = 0; yv <= 100; yv += 20) {
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, L, PY(yv)); cairo_line_to(cr, L + pw, PY(yv)); cairo_stroke(cr);
        char b[16];
        snprintf(b, sizeof b, "%d", yv);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, L - 30, PY(yv) + 4); cairo_show_text(cr, b);
    }
    for (size_t j = 0; j < nc; j++) {
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, PX(x[j]), T); cairo_line_to(cr, PX(x[j]), T + ph); cairo_stroke(cr);
        const char *s = json_string_value(json_array_get(cols, j));
        char b[32];
        double v = atof(s);
        if (numeric && v >= 1024 && fmod(v, 1024) == 0) snprintf(b, sizeof b, "%.0fK", v / 1024);
        else snprintf(b, sizeof b, "%s", s);
        cairo_text_extents_t te;
        cairo_text_extents(cr, b, &te);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, PX(x[j]) - te.width / 2, T + ph + 18); cairo_show_text(cr, b);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, L, T, pw, ph); cairo_stroke(cr);
    cairo_set_font_size(cr, 16);
    cairo_move_to(cr, L, T - 18); cairo_show_text(cr, title ? title : "");
    cairo_set_font_size(cr, 13);
    cairo_move_to(cr, L + pw / 2 - 60, H - 15); cairo_show_text(cr, xlabel ? xlabel : "");
    cairo_save(cr);
    cairo_move_to(cr, 22, T + ph / 2 + 30); cairo_rotate(cr, -M_PI / 2); cairo_show_text(cr, "score (%)");
    cairo_restore(cr);
    /* one line per row, then the average */
    cairo_set_font_size(cr, 12);
    for (size_t i = 0; i <= nr; i++) {
        json_t *row = i < nr ? json_object_get(cells, json_string_value(json_array_get(rows, i))) : json_object_get(sum, "average");
        double r, g, b;
        if (i < nr) { line_color(i, &r, &g, &b); cairo_set_line_width(cr, 1.8); }
        else { r = g = b = 0; cairo_set_line_width(cr, 3.5); }
        cairo_set_source_rgb(cr, r, g, b);
        int started = 0;
        for (size_t j = 0; j < nc; j++) {
            json_t *v = json_object_get(row, json_string_value(json_array_get(cols, j)));
            if (!v) { started = 0; continue; }
            double px = PX(x[j]), py = PY(json_number_value(v));
            if (started) cairo_line_to(cr, px, py); else cairo_move_to(cr, px, py);
            started = 1;
        }
        cairo_stroke(cr);
        for (size_t j = 0; j < nc; j++) {
            json_t *v = json_object_get(row, json_string_value(json_array_get(cols, j)));
            if (!v) continue;
            cairo_arc(cr, PX(x[j]), PY(json_number_value(v)), i < nr ? 3 : 4.5, 0, 2 * M_PI);
            cairo_fill(cr);
        }
        double ly = T + 10 + 18.0 * (double)i;
        cairo_rectangle(cr, L + pw + 15, ly - 8, 18, 4); cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, L + pw + 40, ly - 2);
        cairo_show_text(cr, i < nr ? json_string_value(json_array_get(rows, i)) : "average");
    }
#undef PX
#undef PY
    cairo_status_t st = cairo_surface_write_to_png(sf, path);
    cairo_destroy(cr);
    cairo_surface_destroy(sf);
    cairo_debug_reset_static_data();   /* drop cairo's and fontconfig's caches (leak checkers) */
#ifdef LONGJAM_HAVE_FONTCONFIG
    FcFini();
#endif
    free(x);
    if (st != CAIRO_STATUS_SUCCESS) return lj_errf(err, errlen, "%s: cannot write the PNG: %s", path, cairo_status_to_string(st));
    return 0;
#endif
}

void eval_partial_open(const char *output, char **path, json_t **done, FILE **append) {
    *path = NULL;
    *append = NULL;
    if (!output) { *done = json_object(); return; }
    size_t len = strlen(output) + sizeof ".partial.jsonl";
    *path = malloc(len);
    if (!*path) { *done = json_object(); return; }
    snprintf(*path, len, "%s.partial.jsonl", output);
    *done = eval_partial_load(*path);
    if (json_object_size(*done)) fprintf(stderr, "resuming: %zu samples already in %s\n", json_object_size(*done), *path);
    *append = fopen(*path, "a");
    if (!*append) fprintf(stderr, "warning: %s: cannot open for resume records\n", *path);
}

json_t *eval_partial_load(const char *path) {
    json_t *done = json_object();
    FILE *f = fopen(path, "r");
    if (!f) return done;
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        const char *id = json_string_value(json_object_get(j, "id"));
        if (!j || !id) {
            fprintf(stderr, "warning: %s:%zu: skipped (%s)\n", path, lineno, j ? "no \"id\"" : je.text);
            json_decref(j);
            continue;
        }
        json_object_set_new(done, id, j);
    }
    free(line);
    fclose(f);
    return done;
}

json_t *eval_partial_get(json_t *done, const char *id, const char *model) {
    json_t *r = json_object_get(done, id);
    const char *m = json_string_value(json_object_get(r, "model"));
    if (r && m && model && strcmp(m, model)) {
        fprintf(stderr, "warning: %s: the partial result came from model %s, not %s: run again\n", id, m, model);
        return NULL;
    }
    return r;
}

int eval_partial_append(FILE *f, json_t *sample) {
    char *s = json_dumps(sample, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!s) return -1;
    int rc = fprintf(f, "%s\n", s) < 0 || fflush(f) ? -1 : 0;
    free(s);
    return rc;
}

int eval_results_write(const char *path, json_t *settings, json_t *summary, json_t *samples, char *err, size_t errlen) {
    json_t *doc = json_pack("{s:O, s:O, s:O}", "settings", settings, "summary", summary, "samples", samples);
    int rc = json_dump_file(doc, path, JSON_INDENT(1) | JSON_ENSURE_ASCII);
    json_decref(doc);
    return rc ? lj_errf(err, errlen, "%s: cannot write the results", path) : 0;
}
