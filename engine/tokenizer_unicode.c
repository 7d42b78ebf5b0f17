/* UTF-8, character classes, patterns (literal / PCRE2) and the GPT-2 byte map for the tokenizer. */
#define _GNU_SOURCE
#include "engine/tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/error.h"

int tk_buf_reserve(tk_buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p; b->cap = cap;
    return 0;
}

int tk_buf_append(tk_buf *b, const void *s, size_t n) {
    if (tk_buf_reserve(b, n + 1)) return -1;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

int tk_pieces_push(tk_pieces *ps, size_t off, size_t len, int32_t id, size_t z) {
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 64;
        tk_piece *v = realloc(ps->v, cap * sizeof *v);
        if (!v) return -1;
        ps->v = v; ps->cap = cap;
    }
    ps->v[ps->n++] = (tk_piece){off, len, id, z};
    return 0;
}

int tk_ids_push(tk_ids *ids, int32_t id) {
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 64;
        int32_t *v = realloc(ids->v, cap * sizeof *v);
        if (!v) return -1;
        ids->v = v; ids->cap = cap;
    }
    ids->v[ids->n++] = id;
    return 0;
}

/* ---- UTF-8 ----------------------------------------------------------------------------------- */
uint32_t tk_utf8_next(const char *s, size_t n, size_t *len) {
    const uint8_t *u = (const uint8_t *)s;
    uint8_t c = u[0];
    if (c < 0x80 || n < 2) { *len = 1; return c; }
    if (c < 0xE0) { *len = 2; return ((uint32_t)(c & 0x1F) << 6) | (u[1] & 0x3F); }
    if (c < 0xF0 || n < 4) {
        *len = n < 3 ? n : 3;
        if (n < 3) return 0xFFFD;
        return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    }
    *len = 4;
    return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) |
           ((uint32_t)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
}

size_t tk_utf8_put(uint32_t c, char *out) {
    uint8_t *o = (uint8_t *)out;
    if (c < 0x80) { o[0] = (uint8_t)c; return 1; }
    if (c < 0x800) { o[0] = 0xC0 | (c >> 6); o[1] = 0x80 | (c & 0x3F); return 2; }
    if (c < 0x10000) {
        o[0] = 0xE0 | (c >> 12); o[1] = 0x80 | ((c >> 6) & 0x3F); o[2] = 0x80 | (c & 0x3F);
        return 3;
    }
    o[0] = 0xF0 | (c >> 18); o[1] = 0x80 | ((c >> 12) & 0x3F);
    o[2] = 0x80 | ((c >> 6) & 0x3F); o[3] = 0x80 | (c & 0x3F);
    return 4;
}

/* Length of the valid UTF-8 sequence at u[0..n), or 0 when it is invalid. */
static size_t utf8_valid_len(const uint8_t *u, size_t n) {
    uint8_t c = u[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return n >= 2 && (u[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && u[1] < 0xA0) return 0;     /* overlong */
        if (c == 0xED && u[1] >= 0xA0) return 0;    /* surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80 || (u[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && u[1] < 0x90) return 0;
        if (c == 0xF4 && u[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

size_t tk_utf8_invalid_at(const char *s, size_t n) {
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        /* ASCII fast path, 8 bytes at a time */
        while (i + 8 <= n) {
            uint64_t w; memcpy(&w, u + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        size_t l = utf8_valid_len(u + i, n - i);
        if (!l) return i;
        i += l;
    }
    return (size_t)-1;
}

/* ---- character classes --------------------------------------------------------------------------- */
int tk_is_whitespace(uint32_t c) {
    if (c < 0x80) return c == ' ' || (c >= 9 && c <= 13);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

int tk_is_word(uint32_t c) {
    if (c < 0x80) return c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
    if (c == 0x200C || c == 0x200D) return 1;
    /* Other_Alphabetic symbols (circled and squared letters) are Alphabetic, hence \w */
    if ((c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
        (c >= 0x1F170 && c <= 0x1F189)) return 1;
    int cat = utf8proc_category((utf8proc_int32_t)c);
    return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
           (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME) ||
           cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_PC;
}

int tk_is_punctuation(uint32_t c) {
    if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
                         (c >= 123 && c <= 126);
    int cat = utf8proc_category((utf8proc_int32_t)c);
    return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

/* ---- patterns -------------------------------------------------------------------------------------- */
int tk_pattern_compile_regex(tk_pattern *p, const char *src, char *err, size_t errlen) {
    int ec; PCRE2_SIZE eo;
    p->is_regex = 1;
    /* Oniguruma's Ruby syntax (what `tokenizers` uses) treats ^ and $ as line anchors. */
    p->re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE | PCRE2_NO_UTF_CHECK, &ec, &eo, NULL);
    if (!p->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return lj_errf(err, errlen, "regex '%s' at offset %zu: %s", src, (size_t)eo, (char *)msg);
    }
    pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE);   /* falls back to the interpreter when absent */
    return 0;
}

void tk_pattern_free(tk_pattern *p) {
    free(p->lit);
    if (p->re) pcre2_code_free(p->re);
    memset(p, 0, sizeof *p);
}

/* Leftmost match at or after `from`: 1 found, 0 none, -1 error. */
static int pattern_find(const tk_pattern *p, const char *s, size_t n, size_t from, pcre2_match_data *md,
                        pcre2_match_context **mctx, pcre2_jit_stack **js, size_t *ms, size_t *me) {
    if (!p->is_regex) {
        if (p->lit_len == 0) { *ms = *me = from; return from <= n; }
        if (from > n || n - from < p->lit_len) return 0;
        const char *hit = memmem(s + from, n - from, p->lit, p->lit_len);
        if (!hit) return 0;
        *ms = (size_t)(hit - s); *me = *ms + p->lit_len;
        return 1;
    }
    for (;;) {
        int rc = pcre2_match(p->re, (PCRE2_SPTR)s, n, from, PCRE2_NO_UTF_CHECK, md, *mctx);
        if (rc == PCRE2_ERROR_NOMATCH) return 0;
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !*js) {
            *js = pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, NULL);
            *mctx = pcre2_match_context_create(NULL);
            if (!*js || !*mctx) return -1;
            pcre2_jit_stack_assign(*mctx, NULL, *js);
            continue;
        }
        if (rc < 0) return -1;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        *ms = ov[0]; *me = ov[1];
        return 1;
    }
}

/* A search over s[0..n) that resumes where the last taken match ended, as the Rust `onig` crate
 * iterates: an empty match right at the previous match's end is skipped by one character. */
typedef struct matcher {
    const tk_pattern *p; const char *s; size_t n;
    size_t last_end, last_match_end;
    pcre2_match_data *md; pcre2_match_context *mctx; pcre2_jit_stack *js;
} matcher;

static int matcher_init(matcher *m, const tk_pattern *p, const char *s, size_t n, size_t from) {
    *m = (matcher){.p = p, .s = s, .n = n, .last_end = from, .last_match_end = (size_t)-1};
    if (p->is_regex && !(m->md = pcre2_match_data_create(1, NULL))) return -1;
    return 0;
}

static void matcher_free(matcher *m) {
    if (m->md) pcre2_match_data_free(m->md);
    if (m->mctx) pcre2_match_context_free(m->mctx);
    if (m->js) pcre2_jit_stack_free(m->js);
}

/* The next match (1, its bounds in ms and me, not yet taken), 0 at the end, -1 on error. */
static int matcher_next(matcher *m, size_t *ms, size_t *me) {
    while (m->last_end <= m->n) {
        int f = pattern_find(m->p, m->s, m->n, m->last_end, m->md, &m->mctx, &m->js, ms, me);
        if (f <= 0) return f;
        if (*ms != *me || m->last_match_end != *me) return 1;
        if (m->last_end >= m->n) return 0;
        size_t cl; tk_utf8_next(m->s + m->last_end, m->n - m->last_end, &cl);
        m->last_end += cl;
    }
    return 0;
}

/* The search resumes at the end of a match taken at `me`. */
static void matcher_take(matcher *m, size_t me) { m->last_end = me; m->last_match_end = me; }

int tk_pattern_each(const tk_pattern *p, const char *s, size_t n, tk_match_fn fn, void *ctx) {
    matcher m;
    if (matcher_init(&m, p, s, n, 0)) return -1;
    int rc = 0, f;
    size_t ms, me;
    while ((f = matcher_next(&m, &ms, &me)) > 0) {
        matcher_take(&m, me);
        if (fn(ms, me, ctx)) { rc = -1; break; }
    }
    if (f < 0) rc = -1;
    matcher_free(&m);
    return rc;
}

/* ---- GPT-2 bytes_to_unicode ------------------------------------------------------------------------ */
static uint32_t byte_to_char[256];
static int16_t char_to_byte[324];
static pthread_once_t bytemap_once = PTHREAD_ONCE_INIT;

uint8_t tk_bl_utf8[256][2], tk_bl_len[256];

static void bytemap_init(void) {
    uint32_t extra = 0;
    for (int i = 0; i < 324; i++) char_to_byte[i] = -1;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        byte_to_char[b] = printable ? (uint32_t)b : 256 + extra++;
        char_to_byte[byte_to_char[b]] = (int16_t)b;
        char u[4];
        tk_bl_len[b] = (uint8_t)tk_utf8_put(byte_to_char[b], u);
        memcpy(tk_bl_utf8[b], u, tk_bl_len[b]);
    }
}

void tk_bytelevel_init(void) { pthread_once(&bytemap_once, bytemap_init); }

void tk_bytelevel_char(uint8_t b, char out[2], size_t *len) {
    pthread_once(&bytemap_once, bytemap_init);
    char tmp[4];
    *len = tk_utf8_put(byte_to_char[b], tmp);
    memcpy(out, tmp, *len);
}

int tk_bytelevel_byte(uint32_t c) {
    pthread_once(&bytemap_once, bytemap_init);
    return c < 324 ? char_to_byte[c] : -1;
}

/* ---- parallel matching -------------------------------------------------------------------------
 * Each thread finds the matches of its chunk as if the search started at the chunk's first
 * character; then the chunks are stitched in order. The search is memoryless apart from where it
 * resumes, so once the true sequence resumes at the end of a speculative match, the rest of that
 * chunk's speculative matches are the true ones; before that point the true matches are found
 * again sequentially. The result is exactly tk_pattern_each's. */
typedef struct par_chunk {
    const tk_pattern *p; const char *s; size_t n, from, to;   /* search from `from`; keep starts < to */
    size_t *m; size_t nm, cap; int rc;
} par_chunk;

static int chunk_cb(size_t ms, size_t me, void *vctx) {
    par_chunk *c = vctx;
    if (ms >= c->to) return 1;                  /* past the chunk: stop (not an error) */
    if (c->nm == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        size_t *m = realloc(c->m, cap * 2 * sizeof *m);
        if (!m) { c->rc = -1; return 1; }
        c->m = m; c->cap = cap;
    }
    c->m[2 * c->nm] = ms; c->m[2 * c->nm + 1] = me;
    c->nm++;
    return 0;
}

static void *chunk_run(void *arg) {
    par_chunk *c = arg;
    matcher m;
    if (matcher_init(&m, c->p, c->s, c->n, c->from)) { c->rc = -1; return NULL; }
    int f;
    size_t ms, me;
    while ((f = matcher_next(&m, &ms, &me)) > 0) {
        matcher_take(&m, me);
        if (chunk_cb(ms, me, c)) break;
    }
    if (f < 0) c->rc = -1;
    matcher_free(&m);
    return NULL;
}

/* Is `pos` the end of one of chunk c's matches at index >= *k? Advances *k past smaller ends. */
static int chunk_has_end(const par_chunk *c, size_t *k, size_t pos) {
    while (*k < c->nm && c->m[2 * *k + 1] < pos) (*k)++;
    return *k < c->nm && c->m[2 * *k + 1] == pos;
}

int tk_pattern_each_par(const tk_pattern *p, const char *s, size_t n, int threads, tk_match_fn fn, void *ctx) {
    if (threads <= 1 || n < (1u << 18)) return tk_pattern_each(p, s, n, fn, ctx);
    if (threads > 64) threads = 64;
    par_chunk *c = calloc((size_t)threads, sizeof *c);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    int rc = -1;
    if (!c || !th) goto done;
    for (int k = 0; k < threads; k++) {
        size_t a = n * (size_t)k / (size_t)threads, b = n * (size_t)(k + 1) / (size_t)threads;
        while (a < n && ((uint8_t)s[a] & 0xC0) == 0x80) a++;          /* character boundaries */
        while (b < n && ((uint8_t)s[b] & 0xC0) == 0x80) b++;
        c[k] = (par_chunk){.p = p, .s = s, .n = n, .from = a, .to = k + 1 == threads ? n + 1 : b};
    }
    for (int k = 1; k < threads; k++) if (pthread_create(&th[k], NULL, chunk_run, &c[k])) c[k].rc = -2;
    chunk_run(&c[0]);
    for (int k = 1; k < threads; k++) { if (c[k].rc == -2) { c[k].rc = 0; chunk_run(&c[k]); } else pthread_join(th[k], NULL); }
    for (int k = 0; k < threads; k++) if (c[k].rc) goto done;
    /* stitch: chunk 0 is true; then resume each chunk at the true position */
    matcher m;
    if (matcher_init(&m, p, s, n, 0)) goto done;
    int bad = 0, f;
    size_t ms, me;
    for (int k = 0; k < threads && !bad; k++) {
        size_t i = 0;
        if (k > 0) {
            /* sequential search from the true position until it meets one of chunk k's ends */
            size_t kk = 0;
            int synced = m.last_match_end != (size_t)-1 && chunk_has_end(&c[k], &kk, m.last_end) &&
                         m.last_end == m.last_match_end;
            while (!synced && m.last_end <= n) {
                f = matcher_next(&m, &ms, &me);
                if (f < 0) { bad = 1; break; }
                if (!f) { m.last_end = n + 1; break; }
                if (ms >= c[k].to) break;             /* the next match is beyond chunk k: emit it later */
                matcher_take(&m, me);
                if (fn(ms, me, ctx)) { bad = 1; break; }
                synced = chunk_has_end(&c[k], &kk, me);
            }
            if (bad) break;
            if (!synced) continue;                    /* chunk k gave nothing usable: next chunk */
            i = kk + 1;                               /* matches after the synced one */
        }
        for (; i < c[k].nm; i++) {
            matcher_take(&m, c[k].m[2 * i + 1]);
            if (fn(c[k].m[2 * i], c[k].m[2 * i + 1], ctx)) { bad = 1; break; }
        }
    }
    /* after the last chunk (or when stitching stopped early), finish sequentially */
    while (!bad && (f = matcher_next(&m, &ms, &me)) != 0) {
        if (f < 0) { bad = 1; break; }
        matcher_take(&m, me);
        if (fn(ms, me, ctx)) bad = 1;
    }
    matcher_free(&m);
    rc = bad ? -1 : 0;
done:
    if (c) for (int k = 0; k < threads; k++) free(c[k].m);
    free(c); free(th);
    return rc;
}
