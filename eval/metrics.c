/* Official-scorer-compatible metrics; see metrics.h. Each function names the Python it mirrors. */
#include "eval/metrics.h"
#include "eval/porter.h"
#include "eval/pytext.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- tokens as spans of a code-point buffer, and integer ids for them --------------------- */

typedef struct span {
    const uint32_t *p;
    size_t n;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    return py_cmp(x->p, x->n, y->p, y->n);
}

typedef struct idx_span {
    span s;
    size_t i;
} idx_span;

static int idx_span_cmp(const void *a, const void *b) {
    const idx_span *x = a, *y = b;
    return py_cmp(x->s.p, x->s.n, y->s.p, y->s.n);
}

/* ids[i] = dense id of toks[i] (equal strings get equal ids); returns the number of ids or -1. */
static long spans_to_ids(const span *toks, size_t n, uint32_t *ids) {
    if (!n) return 0;
    idx_span *t = malloc(n * sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < n; i++) { t[i].s = toks[i]; t[i].i = i; }
    qsort(t, n, sizeof *t, idx_span_cmp);
    long next = -1;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || span_cmp(&t[i - 1].s, &t[i].s)) next++;
        ids[t[i].i] = (uint32_t)next;
    }
    free(t);
    return next + 1;
}

static int is_ascii_punct(uint32_t c) {
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

/* ---- SQuAD normalize_answer ---------------------------------------------------------------- */

static int word_at(const uint32_t *s, size_t n, size_t i) { return i < n && py_isword(s[i]); }
static int boundary(const uint32_t *s, size_t n, size_t i) {
    return (i > 0 && py_isword(s[i - 1])) != word_at(s, n, i);
}

/* Normalizes into out (code points). */
static int normalize_cp(const char *s, py_str *out) {
    py_str raw, low;
    if (py_decode(s, strlen(s), &raw)) return -1;
    if (py_lower(&raw, &low)) { py_str_free(&raw); return -1; }
    py_str_free(&raw);
    /* remove_punc(lower(s)) */
    size_t k = 0;
    for (size_t i = 0; i < low.n; i++)
        if (!is_ascii_punct(low.c[i])) low.c[k++] = low.c[i];
    low.n = k;
    /* remove_articles: re.sub(r"\b(a|an|the)\b", " ", text), alternatives tried in order */
    static const char *arts[] = {"a", "an", "the"};
    uint32_t *t = malloc((low.n + 1) * sizeof *t);
    if (!t) { py_str_free(&low); return -1; }
    size_t tn = 0, i = 0;
    while (i < low.n) {
        size_t mlen = 0;
        if (boundary(low.c, low.n, i)) {
            for (int a = 0; a < 3 && !mlen; a++) {
                size_t L = strlen(arts[a]);
                if (i + L > low.n) continue;
                int ok = 1;
                for (size_t j = 0; j < L; j++) ok &= low.c[i + j] == (uint32_t)arts[a][j];
                if (ok && boundary(low.c, low.n, i + L)) mlen = L;
            }
        }
        if (mlen) { t[tn++] = ' '; i += mlen; }
        else t[tn++] = low.c[i++];
    }
    py_str_free(&low);
    /* white_space_fix: " ".join(text.split()) */
    size_t *st, *ln, cnt;
    if (py_split_ws(t, tn, &st, &ln, &cnt)) { free(t); free(st); free(ln); return -1; }
    out->c = malloc((tn + 1) * sizeof *out->c);
    out->n = 0;
    if (!out->c) { free(t); free(st); free(ln); return -1; }
    for (size_t w = 0; w < cnt; w++) {
        if (w) out->c[out->n++] = ' ';
        memcpy(out->c + out->n, t + st[w], ln[w] * sizeof *t);
        out->n += ln[w];
    }
    free(t); free(st); free(ln);
    return 0;
}

char *metric_normalize_answer(const char *s) {
    py_str n;
    if (normalize_cp(s, &n)) return NULL;
    char *o = py_encode(n.c, n.n);
    py_str_free(&n);
    return o;
}

double metric_exact_match(const char *pred, const char *ref) {
    py_str a, b;
    if (normalize_cp(pred, &a)) return 0;
    if (normalize_cp(ref, &b)) { py_str_free(&a); return 0; }
    double r = py_cmp(a.c, a.n, b.c, b.n) == 0;
    py_str_free(&a); py_str_free(&b);
    return r;
}

/* Counter(pred) & Counter(ref) summed, over token spans. */
static size_t common_count(span *a, size_t an, span *b, size_t bn) {
    qsort(a, an, sizeof *a, span_cmp);
    qsort(b, bn, sizeof *b, span_cmp);
    size_t i = 0, j = 0, same = 0;
    while (i < an && j < bn) {
        int c = span_cmp(&a[i], &b[j]);
        if (c < 0) i++;
        else if (c > 0) j++;
        else { same++; i++; j++; }
    }
    return same;
}

static span *split_spans(const py_str *s, size_t *n) {
    size_t *st, *ln;
    if (py_split_ws(s->c, s->n, &st, &ln, n)) { free(st); free(ln); return NULL; }
    span *o = malloc((*n + 1) * sizeof *o);
    if (o)
        for (size_t i = 0; i < *n; i++) { o[i].p = s->c + st[i]; o[i].n = ln[i]; }
    free(st); free(ln);
    return o;
}

double metric_qa_f1(const char *pred, const char *ref) {
    py_str a, b;
    if (normalize_cp(pred, &a)) return 0;
    if (normalize_cp(ref, &b)) { py_str_free(&a); return 0; }
    size_t an, bn;
    span *ta = split_spans(&a, &an), *tb = split_spans(&b, &bn);
    double f1 = 0;
    if (ta && tb) {
        size_t same = common_count(ta, an, tb, bn);
        if (same) {
            double precision = 1.0 * (double)same / (double)an;
            double recall = 1.0 * (double)same / (double)bn;
            f1 = (2 * precision * recall) / (precision + recall);
        }
    }
    free(ta); free(tb);
    py_str_free(&a); py_str_free(&b);
    return f1;
}

/* ---- `rouge` package (pltrdy) ROUGE-L, as LongBench calls it ------------------------------ */

/* hyp.split(".") keeping non-empty pieces, each " ".join(piece.split()); then every sentence's
 * words are sentence.split(" ") (so an all-space piece gives one empty word). Output: word spans
 * into `buf` (normalized text) and per-sentence word ranges. */
typedef struct sentences {
    py_str buf;
    span *words;
    size_t n_words;
    size_t *first;    /* [n_sent + 1] word index where each sentence starts */
    size_t n_sent;
} sentences;

static void sentences_free(sentences *s) {
    py_str_free(&s->buf);
    free(s->words);
    free(s->first);
}

static int sentences_make(const char *text, sentences *o) {
    memset(o, 0, sizeof *o);
    py_str s;
    if (py_decode(text, strlen(text), &s)) return -1;
    o->buf.c = malloc((s.n + 1) * sizeof *o->buf.c);
    o->words = malloc((s.n + 2) * sizeof *o->words);
    o->first = malloc((s.n + 2) * sizeof *o->first);
    if (!o->buf.c || !o->words || !o->first) { py_str_free(&s); sentences_free(o); return -1; }
    size_t i = 0;
    while (i <= s.n) {
        size_t b = i;
        while (i < s.n && s.c[i] != '.') i++;
        if (i > b) {   /* non-empty piece */
            o->first[o->n_sent++] = o->n_words;
            size_t *st, *ln, cnt;
            if (py_split_ws(s.c + b, i - b, &st, &ln, &cnt)) { free(st); free(ln); py_str_free(&s); sentences_free(o); return -1; }
            if (!cnt) {   /* "" -> [""] */
                o->words[o->n_words].p = o->buf.c + o->buf.n;
                o->words[o->n_words++].n = 0;
            }
            for (size_t w = 0; w < cnt; w++) {
                memcpy(o->buf.c + o->buf.n, s.c + b + st[w], ln[w] * sizeof *s.c);
                o->words[o->n_words].p = o->buf.c + o->buf.n;
                o->words[o->n_words++].n = ln[w];
                o->buf.n += ln[w];
            }
            free(st); free(ln);
        }
        i++;   /* past the '.' (or the end) */
    }
    o->first[o->n_sent] = o->n_words;
    py_str_free(&s);
    return 0;
}

double metric_rouge_l_longbench(const char *pred, const char *ref, int *raised) {
    if (raised) *raised = 0;
    sentences h, r;
    if (sentences_make(pred, &h)) return 0;
    if (sentences_make(ref, &r)) { sentences_free(&h); return 0; }
    double f = 0;
    int err = 0;
    uint32_t *ids = NULL;
    unsigned char *in_union = NULL, *seen = NULL;
    if (!h.n_sent || !r.n_sent) { err = 1; goto done; }   /* ValueError: empty collection */
    size_t nw = h.n_words + r.n_words;
    span *all = malloc(nw * sizeof *all);
    ids = malloc(nw * sizeof *ids);
    if (!all || !ids) { free(all); goto done; }
    memcpy(all, h.words, h.n_words * sizeof *all);
    memcpy(all + h.n_words, r.words, r.n_words * sizeof *all);
    long nid = spans_to_ids(all, nw, ids);
    free(all);
    if (nid < 0) goto done;
    const uint32_t *hid = ids, *rid = ids + h.n_words;
    in_union = calloc((size_t)nid + 1, 1);
    seen = calloc((size_t)nid + 1, 1);
    if (!in_union || !seen) goto done;
    size_t m = 0, n = 0;   /* unique words of reference / hypothesis */
    for (size_t i = 0; i < r.n_words; i++) if (!seen[rid[i]]) { seen[rid[i]] = 1; m++; }
    memset(seen, 0, (size_t)nid + 1);
    for (size_t i = 0; i < h.n_words; i++) if (!seen[hid[i]]) { seen[hid[i]] = 1; n++; }
    size_t llcs = 0;
    for (size_t rs = 0; rs < r.n_sent && !err; rs++) {
        const uint32_t *x = rid + r.first[rs];
        size_t xn = r.first[rs + 1] - r.first[rs];
        for (size_t hs = 0; hs < h.n_sent && !err; hs++) {
            const uint32_t *y = hid + h.first[hs];
            size_t yn = h.first[hs + 1] - h.first[hs];
            /* _recon makes at least min(xn, yn) + 1 nested calls */
            if ((xn < yn ? xn : yn) + 1 > METRIC_ROUGE_PY_MAX_CALLS) { err = 1; break; }
            size_t W = yn + 1;
            uint16_t *T = calloc((xn + 1) * W, sizeof *T);   // [xn+1, yn+1] LCS lengths
            if (!T) { err = 1; break; }
            for (size_t i = 1; i <= xn; i++)
                for (size_t j = 1; j <= yn; j++) {
                    if (x[i - 1] == y[j - 1]) T[i * W + j] = T[(i - 1) * W + j - 1] + 1;
                    else {
                        uint16_t u = T[(i - 1) * W + j], l = T[i * W + j - 1];
                        T[i * W + j] = u > l ? u : l;
                    }
                }
            /* _recon(i, j), iteratively, with its tie-break (up only when strictly greater) */
            size_t i = xn, j = yn, calls = 1;
            while (i > 0 && j > 0) {
                if (x[i - 1] == y[j - 1]) {
                    if (!in_union[x[i - 1]]) { in_union[x[i - 1]] = 1; llcs++; }
                    i--; j--;
                } else if (T[(i - 1) * W + j] > T[i * W + j - 1]) i--;
                else j--;
                calls++;
            }
            free(T);
            if (calls > METRIC_ROUGE_PY_MAX_CALLS) err = 1;
        }
    }
    if (!err) {
        double r_lcs = (double)llcs / (double)m;
        double p_lcs = (double)llcs / (double)n;
        f = 2.0 * ((p_lcs * r_lcs) / (p_lcs + r_lcs + 1e-8));
    }
done:
    if (err) { f = 0; if (raised) *raised = 1; }
    free(ids); free(in_union); free(seen);
    sentences_free(&h); sentences_free(&r);
    return f;
}

/* ---- Google rouge-score -------------------------------------------------------------------- */

/* tokenize(text, stemmer): lower, [^a-z0-9]+ -> " ", split, stem tokens longer than 3 when
 * stemming, keep ^[a-z0-9]+$ (= the runs of [a-z0-9]). Spans point into *low. */
static span *google_tokens(const char *text, int stem, py_str *low, size_t *n) {
    py_str raw;
    *n = 0;
    if (py_decode(text, strlen(text), &raw)) return NULL;
    int rc = py_lower(&raw, low);
    py_str_free(&raw);
    if (rc) return NULL;
    span *t = malloc((low->n + 1) * sizeof *t);
    if (!t) return NULL;
    size_t i = 0, w = 0;   /* stemmed tokens are written back into low at w (never longer) */
    char in[64], out[72];
    while (i < low->n) {
        uint32_t c = low->c[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            size_t b = i;
            while (i < low->n && ((low->c[i] >= 'a' && low->c[i] <= 'z') || (low->c[i] >= '0' && low->c[i] <= '9'))) i++;
            size_t len = i - b;
            if (stem && len > 3) {
                char *ib = len < sizeof in ? in : malloc(len + 1), *ob = len + 8 <= sizeof out ? out : malloc(len + 8);
                if (!ib || !ob) { if (ib != in) free(ib); if (ob != out) free(ob); free(t); return NULL; }
                for (size_t k = 0; k < len; k++) ib[k] = (char)low->c[b + k];
                size_t sl = porter_stem(ib, len, ob);
                if (sl > len) sl = len;   /* cannot happen: Porter never lengthens a word */
                for (size_t k = 0; k < sl; k++) low->c[w + k] = (uint32_t)(unsigned char)ob[k];
                if (ib != in) free(ib);
                if (ob != out) free(ob);
                t[*n].p = low->c + w;
                t[(*n)++].n = sl;
                w += sl;
            } else {
                memmove(low->c + w, low->c + b, len * sizeof *low->c);
                t[*n].p = low->c + w;
                t[(*n)++].n = len;
                w += len;
            }
        } else i++;
    }
    return t;
}

static double fmeasure(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

/* n-gram ids: each n-gram gets the id of its first token sequence in a sorted order. */
static int ngram_overlap(const uint32_t *tid, size_t tn, const uint32_t *pid, size_t pn, size_t N,
                         size_t *inter, size_t *tcount, size_t *pcount) {
    *inter = 0;
    *tcount = tn >= N ? tn - N + 1 : 0;
    *pcount = pn >= N ? pn - N + 1 : 0;
    size_t total = *tcount + *pcount;
    if (!*tcount || !*pcount) return 0;
    /* represent each n-gram as a span of token ids reinterpreted as code points */
    span *g = malloc(total * sizeof *g);
    uint32_t *gid = malloc(total * sizeof *gid);
    if (!g || !gid) { free(g); free(gid); return -1; }
    for (size_t i = 0; i < *tcount; i++) { g[i].p = tid + i; g[i].n = N; }
    for (size_t i = 0; i < *pcount; i++) { g[*tcount + i].p = pid + i; g[*tcount + i].n = N; }
    long ng = spans_to_ids(g, total, gid);
    size_t *ct = calloc((size_t)ng + 1, sizeof *ct), *cp = calloc((size_t)ng + 1, sizeof *cp);
    if (ng < 0 || !ct || !cp) { free(g); free(gid); free(ct); free(cp); return -1; }
    for (size_t i = 0; i < *tcount; i++) ct[gid[i]]++;
    for (size_t i = 0; i < *pcount; i++) cp[gid[*tcount + i]]++;
    for (long k = 0; k < ng; k++) *inter += ct[k] < cp[k] ? ct[k] : cp[k];
    free(g); free(gid); free(ct); free(cp);
    return 0;
}

int metric_rouge_google(const char *type, const char *target, const char *pred, int use_stemmer, metric_prf *out) {
    memset(out, 0, sizeof *out);
    int lcs_kind = !strcmp(type, "rougeL");
    long N = 0;
    if (!lcs_kind) {
        if (strncmp(type, "rouge", 5) || !type[5]) return -1;
        char *end;
        N = strtol(type + 5, &end, 10);
        if (*end || N < 1 || N > 9) return -1;
    }
    py_str lt = {0}, lp = {0};
    size_t tn, pn;
    span *tt = google_tokens(target, use_stemmer, &lt, &tn), *pt = google_tokens(pred, use_stemmer, &lp, &pn);
    uint32_t *ids = NULL;
    int rc = -1;
    if (!tt || !pt) goto done;
    ids = malloc((tn + pn + 1) * sizeof *ids);
    span *all = malloc((tn + pn + 1) * sizeof *all);
    if (!ids || !all) { free(all); goto done; }
    memcpy(all, tt, tn * sizeof *all);
    memcpy(all + tn, pt, pn * sizeof *all);
    long nid = spans_to_ids(all, tn + pn, ids);
    free(all);
    if (nid < 0) goto done;
    const uint32_t *tid = ids, *pid = ids + tn;
    if (lcs_kind) {
        rc = 0;
        if (!tn || !pn) goto done;
        size_t *prev = calloc(pn + 1, sizeof *prev), *cur = calloc(pn + 1, sizeof *cur);
        if (!prev || !cur) { free(prev); free(cur); rc = -1; goto done; }
        for (size_t i = 1; i <= tn; i++) {
            for (size_t j = 1; j <= pn; j++)
                cur[j] = tid[i - 1] == pid[j - 1] ? prev[j - 1] + 1 : (prev[j] > cur[j - 1] ? prev[j] : cur[j - 1]);
            size_t *t = prev; prev = cur; cur = t;
        }
        size_t lcs = prev[pn];
        free(prev); free(cur);
        out->precision = (double)lcs / (double)pn;
        out->recall = (double)lcs / (double)tn;
        out->fmeasure = fmeasure(out->precision, out->recall);
    } else {
        size_t inter, tc, pc;
        if (ngram_overlap(tid, tn, pid, pn, (size_t)N, &inter, &tc, &pc)) goto done;
        out->precision = (double)inter / (double)(pc > 1 ? pc : 1);
        out->recall = (double)inter / (double)(tc > 1 ? tc : 1);
        out->fmeasure = fmeasure(out->precision, out->recall);
        rc = 0;
    }
done:
    free(tt); free(pt); free(ids);
    py_str_free(&lt); py_str_free(&lp);
    return rc;
}

/* ---- RULER ------------------------------------------------------------------------------- */

static void py_strip(py_str *s) {
    size_t b = 0, e = s->n;
    while (b < e && py_isspace(s->c[b])) b++;
    while (e > b && py_isspace(s->c[e - 1])) e--;
    memmove(s->c, s->c + b, (e - b) * sizeof *s->c);
    s->n = e - b;
}

char *metric_ruler_postprocess(const char *pred) {
    py_str s;
    if (py_decode(pred, strlen(pred), &s)) return NULL;
    py_strip(&s);
    for (size_t i = 0; i < s.n; i++) if (s.c[i] <= 0x1f) s.c[i] = '\n';
    py_strip(&s);
    char *o = py_encode(s.c, s.n);
    py_str_free(&s);
    return o;
}

static double string_match(const char *pred, const char *const *refs, size_t n, int all) {
    if (!n) return 0;
    char *lp = py_lower_utf8(pred);
    if (!lp) return 0;
    double found = 0;
    for (size_t i = 0; i < n; i++) {
        char *lr = py_lower_utf8(refs[i]);
        if (lr && strstr(lp, lr)) found += 1.0;
        free(lr);
    }
    free(lp);
    if (all) return found / (double)n;
    return found > 0 ? 1.0 : 0.0;
}

double metric_string_match_all(const char *pred, const char *const *refs, size_t n) { return string_match(pred, refs, n, 1); }
double metric_string_match_part(const char *pred, const char *const *refs, size_t n) { return string_match(pred, refs, n, 0); }

/* ---- fuzzywuzzy / LongBench code ------------------------------------------------------------ */

int metric_fuzz_ratio(const char *a, const char *b) {
    if (!strcmp(a, b)) return 100;           /* check_for_equivalence */
    if (!*a || !*b) return 0;                 /* check_empty_string */
    py_str x, y;
    if (py_decode(a, strlen(a), &x)) return 0;
    if (py_decode(b, strlen(b), &y)) { py_str_free(&x); return 0; }
    size_t *prev = calloc(y.n + 1, sizeof *prev), *cur = calloc(y.n + 1, sizeof *cur);
    int r = 0;
    if (prev && cur) {
        for (size_t i = 1; i <= x.n; i++) {
            for (size_t j = 1; j <= y.n; j++)
                cur[j] = x.c[i - 1] == y.c[j - 1] ? prev[j - 1] + 1 : (prev[j] > cur[j - 1] ? prev[j] : cur[j - 1]);
            size_t *t = prev; prev = cur; cur = t;
        }
        size_t lensum = x.n + y.n, dist = lensum - 2 * prev[y.n];   /* Indel distance */
        double ratio = 1.0 - (double)dist / (double)lensum;
        r = (int)nearbyint(100 * ratio);   /* int(round(x)): half to even */
    }
    free(prev); free(cur);
    py_str_free(&x); py_str_free(&y);
    return r;
}

double metric_code_sim(const char *pred, const char *ref) {
    while (*pred == '\n') pred++;   /* lstrip('\n') */
    const char *line = "";
    size_t len = 0;
    const char *p = pred;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        int bad = memchr(p, '`', n) || memchr(p, '#', n);
        for (size_t i = 0; i + 1 < n && !bad; i++) bad = p[i] == '/' && p[i + 1] == '/';
        if (!bad) { line = p; len = n; break; }
        if (!nl) break;
        p = nl + 1;
    }
    char *l = strndup(line, len);
    if (!l) return 0;
    double s = metric_fuzz_ratio(l, ref) / 100.0;
    free(l);
    return s;
}

double metric_classification(const char *pred, const char *ref, const char *const *classes, size_t n) {
    const char **m = malloc((n + 1) * sizeof *m);
    if (!m) return 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strstr(pred, classes[i])) m[k++] = classes[i];
    /* for match_term in em_match_list: ... em_match_list.remove(match_term)
     * Python's list iterator walks indices 0, 1, 2... while remove() shifts the list. */
    for (size_t i = 0; i < k; i++) {
        const char *t = m[i];
        if (strstr(ref, t) && strcmp(t, ref)) {
            size_t f = 0;
            while (strcmp(m[f], t)) f++;   /* remove() drops the first equal element */
            memmove(m + f, m + f + 1, (k - f - 1) * sizeof *m);
            k--;
        }
    }
    double s = 0;
    for (size_t i = 0; i < k; i++)
        if (!strcmp(m[i], ref)) { s = 1.0 / (double)k; break; }
    free(m);
    return s;
}

/* re.findall(r"\d+", text) compared as strings with want (code points). */
static double digits_match(const char *text, const uint32_t *want, size_t wn) {
    py_str s;
    if (py_decode(text, strlen(text), &s)) return 0;
    size_t total = 0, right = 0, i = 0;
    while (i < s.n) {
        if (py_isdecimal(s.c[i])) {
            size_t b = i;
            while (i < s.n && py_isdecimal(s.c[i])) i++;
            total++;
            if (!py_cmp(s.c + b, i - b, want, wn)) right++;
        } else i++;
    }
    py_str_free(&s);
    return total ? (double)right / (double)total : 0.0;
}

int metric_retrieval(const char *pred, const char *ref, int zh, double *score) {
    *score = 0;
    py_str r;
    if (py_decode(ref, strlen(ref), &r)) return -1;
    static const uint32_t en[] = {'P', 'a', 'r', 'a', 'g', 'r', 'a', 'p', 'h', ' '};
    static const uint32_t cn[] = {0x6BB5, 0x843D};
    const uint32_t *pat = zh ? cn : en;
    size_t pn = zh ? 2 : 10;
    for (size_t i = 0; i + pn < r.n; i++) {
        if (memcmp(r.c + i, pat, pn * sizeof *pat) || !py_isdecimal(r.c[i + pn])) continue;
        size_t b = i + pn, e = b;
        while (e < r.n && py_isdecimal(r.c[e])) e++;
        *score = digits_match(pred, r.c + b, e - b);
        py_str_free(&r);
        return 0;
    }
    py_str_free(&r);
    return -1;
}

double metric_count(const char *pred, const char *ref) {
    py_str r;
    if (py_decode(ref, strlen(ref), &r)) return 0;
    double s = digits_match(pred, r.c, r.n);
    py_str_free(&r);
    return s;
}
