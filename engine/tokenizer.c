/* Tokenizer: load, encode (added tokens -> normalizer -> pre-tokenizer -> BPE -> post-processor),
 * parallel encode, decode. See engine/tokenizer_internal.h for the pipeline. */
#include "engine/tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"
#include <stdio.h>
#include <time.h>
#include <utf8proc.h>

/* ---- added-token trie ------------------------------------------------------------------------------- */
int tk_trie_add(tk_trie *tr, const char *s, size_t n, int32_t token) {
    if (!n) return 0;                                   /* an empty token never matches */
    if (!tr->n) {
        tr->nodes = calloc(64, sizeof *tr->nodes);
        if (!tr->nodes) return -1;
        tr->cap = 64; tr->n = 1;
        tr->nodes[0] = (struct tk_trie_node){-1, -1, 0, -1};
    }
    tr->first[(uint8_t)s[0]] = 1;
    int32_t cur = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t c = tr->nodes[cur].next_first;
        while (c >= 0 && tr->nodes[c].byte != (uint8_t)s[i]) c = tr->nodes[c].sibling;
        if (c < 0) {
            if (tr->n == tr->cap) {
                struct tk_trie_node *v = realloc(tr->nodes, tr->cap * 2 * sizeof *v);
                if (!v) return -1;
                tr->nodes = v; tr->cap *= 2;
            }
            c = (int32_t)tr->n++;
            tr->nodes[c] = (struct tk_trie_node){-1, tr->nodes[cur].next_first, (uint8_t)s[i], -1};
            tr->nodes[cur].next_first = c;
        }
        cur = c;
    }
    if (tr->nodes[cur].token < 0) tr->nodes[cur].token = token;   /* first listed wins a duplicate */
    return 0;
}

void tk_trie_free(tk_trie *tr) { free(tr->nodes); memset(tr, 0, sizeof *tr); }

/* Longest pattern starting at s[i]: returns its added index (or -1) and its end in *end. */
static int32_t trie_longest(const tk_trie *tr, const char *s, size_t n, size_t i, size_t *end) {
    int32_t cur = 0, best = -1;
    for (size_t k = i; k < n; k++) {
        int32_t c = tr->nodes[cur].next_first;
        while (c >= 0 && tr->nodes[c].byte != (uint8_t)s[k]) c = tr->nodes[c].sibling;
        if (c < 0) break;
        cur = c;
        if (tr->nodes[cur].token >= 0) { best = tr->nodes[cur].token; *end = k + 1; }
    }
    return best;
}

static uint32_t char_before(const char *s, size_t at) {
    size_t st = at - 1;
    while (st > 0 && ((uint8_t)s[st] & 0xC0) == 0x80) st--;
    size_t l;
    return tk_utf8_next(s + st, at - st, &l);
}

/* AddedVocabulary::find_matches + split_with_indices over piece p of the arena: pushes pieces. */
static int split_added(const lj_tokenizer *t, const tk_trie *tr, const tk_buf *arena, const tk_piece *p,
                       tk_pieces *out) {
    const char *s = arena->p + p->off;
    size_t n = p->len, start_offset = 0;
    if (tr->n)
        for (size_t i = 0; i < n;) {
            if (!tr->first[(uint8_t)s[i]]) { i++; continue; }
            size_t mend;
            int32_t k = trie_longest(tr, s, n, i, &mend);
            if (k < 0) { i++; continue; }
            const tk_added *a = &t->added[k];
            size_t start = i, stop = mend;
            i = mend;                                   /* matching goes on after the match */
            if (a->single_word) {
                int start_space = start == 0 || !tk_is_word(char_before(s, start));
                size_t l;
                int stop_space = stop == n || !tk_is_word(tk_utf8_next(s + stop, n - stop, &l));
                if (!start_space || !stop_space) continue;
            }
            if (a->lstrip) {
                size_t ns = start;
                while (ns > 0) {
                    size_t st = ns - 1;
                    while (st > 0 && ((uint8_t)s[st] & 0xC0) == 0x80) st--;
                    size_t l;
                    if (!tk_is_whitespace(tk_utf8_next(s + st, ns - st, &l))) break;
                    ns = st;
                }
                start = ns > start_offset ? ns : start_offset;
            }
            if (a->rstrip)
                while (stop < n) {
                    size_t l; uint32_t c = tk_utf8_next(s + stop, n - stop, &l);
                    if (!tk_is_whitespace(c)) break;
                    stop += l;
                }
            if (start > start_offset &&
                tk_pieces_push(out, p->off + start_offset, start - start_offset, -1, tk_zsub(p->z, start_offset))) return -1;
            if (stop > start && tk_pieces_push(out, p->off + start, stop - start, a->id, 0)) return -1;
            start_offset = stop;
        }
    if (start_offset < n && tk_pieces_push(out, p->off + start_offset, n - start_offset, -1, tk_zsub(p->z, start_offset)))
        return -1;
    return 0;
}

/* ---- load ---------------------------------------------------------------------------------------------- */
void tok_free(lj_tokenizer *t) {
    if (!t) return;
    tk_bpe_free(&t->bpe);
    for (size_t i = 0; i < t->n_added; i++) {
        if (t->added[i].pattern != t->added[i].content) free(t->added[i].pattern);
        free(t->added[i].content);
    }
    free(t->added);
    tk_strmap_free(&t->added_map);
    free(t->added_by_id);
    tk_trie_free(&t->trie_raw); tk_trie_free(&t->trie_norm);
    tk_normalizer_free(t->normalizer); free(t->normalizer);
    tk_pretok_free(t->pretok); free(t->pretok);
    tk_postproc_free(t->postproc); free(t->postproc);
    tk_decoder_free(t->decoder); free(t->decoder);
    free(t);
}

int tok_load(const char *path, lj_tokenizer **out, char *err, size_t errlen) {
    char ebuf[LJ_ERRLEN];
    if (!err) { err = ebuf; errlen = sizeof ebuf; }
    *out = NULL;
    tk_bytelevel_init();
    lj_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return lj_errf(err, errlen, "out of memory");
    if (tk_load_json(t, path, err, errlen)) { tok_free(t); return -1; }
    /* ids of added tokens; the vocab size covers model and added ids */
    size_t maxid = t->bpe.n_vocab;
    for (size_t i = 0; i < t->n_added; i++) if ((size_t)t->added[i].id + 1 > maxid) maxid = (size_t)t->added[i].id + 1;
    t->vocab_size = maxid;
    t->added_by_id_n = maxid;
    t->added_by_id = malloc((maxid + 1) * sizeof *t->added_by_id);
    if (!t->added_by_id) { tok_free(t); return lj_errf(err, errlen, "out of memory"); }
    for (size_t i = 0; i < maxid; i++) t->added_by_id[i] = -1;
    for (size_t i = 0; i < t->n_added; i++) {
        tk_added *a = &t->added[i];
        t->added_by_id[a->id] = (int32_t)i;
        if (tk_strmap_put(&t->added_map, a->content, a->len, (int32_t)i)) { tok_free(t); return lj_errf(err, errlen, "out of memory"); }
        a->pattern = a->content; a->pattern_len = a->len;
        if (a->normalized && t->normalizer) {
            tk_buf b = {0};
            size_t z = 0;
            if (tk_normalize(t->normalizer, a->content, a->len, &b, &z, err, errlen) || tk_buf_append(&b, "", 0)) {
                free(b.p); tok_free(t);
                return lj_err_prefix(err, errlen, "%s: added token '%s'", path, a->content);
            }
            a->pattern = b.p; a->pattern_len = b.len;
        }
        if (tk_trie_add(a->normalized ? &t->trie_norm : &t->trie_raw, a->pattern, a->pattern_len, (int32_t)i)) {
            tok_free(t); return lj_errf(err, errlen, "out of memory");
        }
    }
    *out = t;
    return 0;
}

size_t tok_vocab_size(const lj_tokenizer *t) { return t->vocab_size; }

int32_t tok_token_to_id(const lj_tokenizer *t, const char *token) {
    size_t n = strlen(token);
    int32_t k = tk_strmap_get(&t->added_map, token, n);
    if (k >= 0) return t->added[k].id;
    return tk_strmap_get(&t->bpe.vocab, token, n);
}

const char *tok_id_to_token(const lj_tokenizer *t, int32_t id) {
    if (id < 0 || (size_t)id >= t->vocab_size) return NULL;
    if (t->added_by_id[id] >= 0) return t->added[t->added_by_id[id]].pattern;   /* normalized form, as HF */
    if ((size_t)id < t->bpe.n_vocab) return t->bpe.id_to_tok[id];
    return NULL;
}

int tok_is_special(const lj_tokenizer *t, int32_t id) {
    if (id < 0 || (size_t)id >= t->vocab_size || t->added_by_id[id] < 0) return 0;
    return t->added[t->added_by_id[id]].special;
}

/* ---- encode ---------------------------------------------------------------------------------------------- */
/* Steps 1-3: the pieces the model will see (added tokens carry their id). */
static int encode_pieces(const lj_tokenizer *t, const tk_pretok *pretok, const char *text, size_t len,
                         tk_buf *arena, tk_pieces *out, int threads, char *err, size_t errlen) {
    size_t bad = tk_utf8_invalid_at(text, len);
    if (bad != (size_t)-1) return lj_errf(err, errlen, "invalid UTF-8 at byte offset %zu", bad);
    /* room for the text, its normalized copy and pre-tokenizer output without regrowing */
    if (tk_buf_reserve(arena, len * 4 + 64) || tk_buf_append(arena, text, len)) return lj_errf(err, errlen, "out of memory");
    tk_pieces raw = {0}, norm = {0};
    int rc = -1;
    size_t first_len = 0;
    if (len) tk_utf8_next(text, len, &first_len);
    tk_piece whole = {0, len, -1, first_len};
    if (len && split_added(t, &t->trie_raw, arena, &whole, &raw)) goto oom;
    for (size_t i = 0; i < raw.n; i++) {
        tk_piece p = raw.v[i];
        if (p.id >= 0) { if (tk_pieces_push(&norm, p.off, p.len, p.id, 0)) goto oom; continue; }
        if (t->normalizer) {
            size_t off = arena->len;
            tk_buf nb = {0};
            if (tk_normalize(t->normalizer, arena->p + p.off, p.len, &nb, &p.z, err, errlen)) { free(nb.p); goto done; }
            int e = tk_buf_append(arena, nb.p, nb.len);
            free(nb.p);
            if (e) goto oom;
            p.off = off; p.len = arena->len - off;
        }
        if (!p.len) continue;
        if (split_added(t, &t->trie_norm, arena, &p, &norm)) goto oom;
    }
    if (pretok) {
        if (tk_pretokenize(pretok, arena, &norm, out, threads, err, errlen)) goto done;
    } else {
        for (size_t i = 0; i < norm.n; i++)
            if (tk_pieces_push(out, norm.v[i].off, norm.v[i].len, norm.v[i].id, norm.v[i].z)) goto oom;
    }
    rc = 0;
    goto done;
oom:
    lj_errf(err, errlen, "out of memory");
done:
    free(raw.v); free(norm.v);
    return rc;
}

/* Step 4 over pieces [a, b). */
static int model_pieces(const lj_tokenizer *t, const tk_buf *arena, const tk_piece *v, size_t a, size_t b,
                        tk_ids *ids, tk_scratch *sc, char *err, size_t errlen) {
    for (size_t i = a; i < b; i++) {
        if (v[i].id >= 0) { if (tk_ids_push(ids, v[i].id)) return lj_errf(err, errlen, "out of memory"); continue; }
        if (tk_bpe_word(&t->bpe, arena->p + v[i].off, v[i].len, ids, sc, err, errlen)) return -1;
    }
    return 0;
}

/* Step 5: the post-processor's single-sequence template. */
static int post_process(const tk_postproc *pp, tk_ids *ids) {
    switch (pp->type) {
    case PP_BYTELEVEL: return 0;
    case PP_SEQUENCE:
        for (size_t i = 0; i < pp->n_items; i++) if (post_process(&pp->items[i], ids)) return -1;
        return 0;
    case PP_BERT: case PP_ROBERTA: {
        if (tk_ids_push(ids, 0) || tk_ids_push(ids, pp->sep_id)) return -1;
        memmove(ids->v + 1, ids->v, (ids->n - 2) * sizeof *ids->v);
        ids->v[0] = pp->cls_id;
        return 0;
    }
    case PP_TEMPLATE: {
        tk_ids res = {0};
        for (size_t i = 0; i < pp->n_single; i++) {
            const struct tk_tpl_item *it = &pp->single[i];
            if (it->seq) { for (size_t k = 0; k < ids->n; k++) if (tk_ids_push(&res, ids->v[k])) goto oom; }
            else for (size_t k = 0; k < it->n_ids; k++) if (tk_ids_push(&res, it->ids[k])) goto oom;
        }
        free(ids->v);
        *ids = res;
        return 0;
    oom:
        free(res.v);
        return -1;
    }
    }
    return 0;
}

/* One thread's share: pieces [a, b); with `rest`, the remaining pre-tokenizer steps first (in the
 * thread's own arena, since they write new text). */
typedef struct par_job {
    const lj_tokenizer *t; const tk_buf *arena; const tk_piece *v; size_t a, b;
    const tk_pretok *rest;
    tk_ids ids; int rc; char err[LJ_ERRLEN];
    double cpu_s;                          /* this thread's CPU time (LJ_TOK_TIMING report) */
} par_job;

static double thread_cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *par_run_inner(par_job *j);
static void *par_run(void *arg) {
    par_job *j = arg;
    double c0 = thread_cpu_now();
    par_run_inner(j);
    j->cpu_s = thread_cpu_now() - c0;
    return NULL;
}

static void *par_run_inner(par_job *j) {
    tk_scratch *sc = tk_scratch_new();
    if (!sc) { j->rc = lj_errf(j->err, sizeof j->err, "out of memory"); return NULL; }
    tk_scratch_enable_l1(sc);
    if (!j->rest) {
        j->rc = model_pieces(j->t, j->arena, j->v, j->a, j->b, &j->ids, sc, j->err, sizeof j->err);
        tk_scratch_free(sc);
        return NULL;
    }
    tk_buf own = {0};
    tk_pieces in = {0}, out = {0};
    size_t bytes = 0;
    for (size_t i = j->a; i < j->b; i++) bytes += j->v[i].len;
    int rc = tk_buf_reserve(&own, bytes * 3 + 64);
    for (size_t i = j->a; i < j->b && !rc; i++) {
        const tk_piece *p = &j->v[i];
        size_t off = own.len;
        rc = tk_buf_append(&own, j->arena->p + p->off, p->len) || tk_pieces_push(&in, off, p->len, p->id, p->z);
    }
    if (rc) j->rc = lj_errf(j->err, sizeof j->err, "out of memory");
    else if ((j->rc = tk_pretokenize(j->rest, &own, &in, &out, 1, j->err, sizeof j->err)) == 0)
        j->rc = model_pieces(j->t, &own, out.v, 0, out.n, &j->ids, sc, j->err, sizeof j->err);
    free(own.p); free(in.v); free(out.v);
    tk_scratch_free(sc);
    return NULL;
}

/* Where a long piece may be cut, at or after the character boundary b (from = the start of the
 * character before b): a hard BPE boundary or a char-class pre-tokenizer's safe cut. */
typedef size_t (*cut_at_fn)(const void *ctx, const char *w, size_t len, size_t from, size_t b);

/* Cuts pieces longer than `chunk` (and than min_len) into parts of about `chunk` bytes at the
 * positions cut_at gives, so that threads can share a long word. keep_z: parts keep their offset
 * into the piece's z (normalisation alignment); else parts get none. */
static int cut_pieces(const tk_buf *arena, tk_pieces *ps, size_t chunk, size_t min_len, int keep_z,
                      cut_at_fn cut_at, const void *ctx) {
    tk_pieces out = {0};
    for (size_t i = 0; i < ps->n; i++) {
        tk_piece p = ps->v[i];
        if (p.id >= 0 || p.len <= chunk || p.len <= min_len) {
            if (tk_pieces_push(&out, p.off, p.len, p.id, p.z)) goto oom;
            continue;
        }
        const char *w = arena->p + p.off;
        size_t a = 0;
        while (a < p.len) {
            size_t b = a + chunk < p.len ? a + chunk : p.len;
            while (b < p.len && ((uint8_t)w[b] & 0xC0) == 0x80) b++;
            if (b < p.len) {
                /* back up one character so that the search starts before b */
                size_t from = b - 1;
                while (from > a && ((uint8_t)w[from] & 0xC0) == 0x80) from--;
                b = cut_at(ctx, w, p.len, from, b);
            }
            if (tk_pieces_push(&out, p.off + a, b - a, -1, keep_z ? tk_zsub(p.z, a) : 0)) goto oom;
            a = b;
        }
    }
    free(ps->v);
    *ps = out;
    return 0;
oom:
    free(out.v);
    return -1;
}

static size_t cut_at_bpe(const void *ctx, const char *w, size_t len, size_t from, size_t b) {
    (void)b;
    return tk_bpe_next_hard(&((const lj_tokenizer *)ctx)->bpe, w, len, from);
}

/* Cuts pieces longer than `chunk` at hard BPE boundaries. ignore_merges looks at the whole word:
 * only words longer than any token may be cut. */
static int cut_long_pieces(const lj_tokenizer *t, const tk_buf *arena, tk_pieces *ps, size_t chunk) {
    if (!t->bpe.hard_split_ok) return 0;
    return cut_pieces(arena, ps, chunk, t->bpe.max_tok_len, 0, cut_at_bpe, t);
}

/* Char-class pre-tokenizers (Digits, WhitespaceSplit, Whitespace, Punctuation) split a piece the
 * same way if it is first cut where the class changes in the right direction: there the sequential
 * result has a boundary, and neither side looks across it. Returns whether pt is such a one and,
 * if so, whether position p (between characters a and b) is a safe cut. */
static int cuttable(const tk_pretok *pt) {
    return pt->type == PT_DIGITS || pt->type == PT_WHITESPACE_SPLIT || pt->type == PT_WHITESPACE ||
           (pt->type == PT_PUNCTUATION && pt->behavior == SPLIT_ISOLATED);
}

static int is_number(uint32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    int cat = utf8proc_category((utf8proc_int32_t)c);
    return cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO;
}

static int safe_cut(const tk_pretok *pt, uint32_t a, uint32_t b) {
    switch (pt->type) {
    case PT_DIGITS: return !is_number(a) && is_number(b);
    case PT_WHITESPACE_SPLIT: case PT_WHITESPACE: return tk_is_whitespace(a) && !tk_is_whitespace(b);
    case PT_PUNCTUATION: return !tk_is_punctuation(a) && tk_is_punctuation(b);
    }
    return 0;
}

static size_t cut_at_class(const void *ctx, const char *w, size_t len, size_t from, size_t b) {
    size_t l;
    uint32_t prev = tk_utf8_next(w + from, len - from, &l);
    while (b < len) {                               /* walk on to the next safe cut */
        uint32_t c = tk_utf8_next(w + b, len - b, &l);
        if (safe_cut(ctx, prev, c)) break;
        prev = c; b += l;
    }
    return b;
}

/* Cuts pieces longer than `chunk` at safe positions for the char-class pre-tokenizer pt. */
static int cut_for_pretok(const tk_pretok *pt, const tk_buf *arena, tk_pieces *ps, size_t chunk) {
    return cut_pieces(arena, ps, chunk, 0, 1, cut_at_class, pt);
}

int tok_encode_parallel(const lj_tokenizer *t, const char *text, size_t len, int add_special, int threads,
                        int32_t **ids_out, size_t *n_out, char *err, size_t errlen) {
    char ebuf[LJ_ERRLEN];
    if (!err) { err = ebuf; errlen = sizeof ebuf; }
    *ids_out = NULL; *n_out = 0;
    tk_buf arena = {0};
    tk_pieces ps = {0};
    tk_ids ids = {0};
    int rc = -1;
    double t_start = getenv("LJ_TOK_TIMING") ? lj_now() : 0, cpu_start = t_start ? thread_cpu_now() : 0;
    if (threads > 64) threads = 64;
    int par = threads > 1 && len >= (1u << 16);
    /* In parallel, only the first pre-tokenizer step runs on the whole text (its regex spread over
     * threads); the other steps run per thread on its share of the pieces. */
    const tk_pretok *first = t->pretok, *rest = NULL;
    tk_pretok rest_seq = {0};
    const tk_pretok *head = t->pretok && t->pretok->type == PT_SEQUENCE && t->pretok->n_items ? &t->pretok->items[0] : t->pretok;
    int cut_text = par && head && cuttable(head);
    if (cut_text) {
        /* the whole pre-tokenizer runs in the threads, on the text cut where the first step splits anyway */
        first = NULL;
        rest = t->pretok;
    } else if (par && t->pretok && t->pretok->type == PT_SEQUENCE && t->pretok->n_items > 1) {
        first = &t->pretok->items[0];
        rest_seq.type = PT_SEQUENCE;
        rest_seq.items = t->pretok->items + 1;
        rest_seq.n_items = t->pretok->n_items - 1;
        rest = &rest_seq;
    }
    if (encode_pieces(t, first, text, len, &arena, &ps, threads, err, errlen)) goto done;
    if (cut_text && cut_for_pretok(head, &arena, &ps, 1u << 16)) { lj_errf(err, errlen, "out of memory"); goto done; }
    if (t_start) fprintf(stderr, "tokenizer: pre-tokenized %zu pieces in %.3f s (calling thread CPU %.3f s)\n", ps.n,
                         lj_now() - t_start, thread_cpu_now() - cpu_start);
    if (!par) {
        tk_scratch *sc = tk_scratch_new();
        if (!sc) { lj_errf(err, errlen, "out of memory"); goto done; }
        if (len >= 8192) tk_scratch_enable_l1(sc);
        int r = model_pieces(t, &arena, ps.v, 0, ps.n, &ids, sc, err, errlen);
        tk_scratch_free(sc);
        if (r) goto done;
    } else {
        /* long words may be cut where no merge can cross, but only when no pre-tokenizer step is left */
        if (!rest && cut_long_pieces(t, &arena, &ps, 16384)) { lj_errf(err, errlen, "out of memory"); goto done; }
        par_job *jobs = calloc((size_t)threads, sizeof *jobs);
        pthread_t *th = calloc((size_t)threads, sizeof *th);
        if (!jobs || !th) { free(jobs); free(th); lj_errf(err, errlen, "out of memory"); goto done; }
        /* contiguous ranges of pieces with about the same number of bytes */
        size_t total = 0;
        for (size_t i = 0; i < ps.n; i++) total += ps.v[i].len;
        for (int r = 0; r < threads; r++) jobs[r] = (par_job){.t = t, .arena = &arena, .v = ps.v, .rest = rest};
        size_t cum = 0, k = 0;
        jobs[0].a = 0;
        for (size_t q = 0; q < ps.n; q++) {
            cum += ps.v[q].len;
            while (k + 1 < (size_t)threads && cum >= total * (k + 1) / (size_t)threads) {
                jobs[k].b = q + 1;
                jobs[++k].a = q + 1;
            }
        }
        jobs[k].b = ps.n;
        for (size_t r = k + 1; r < (size_t)threads; r++) jobs[r].a = jobs[r].b = ps.n;
        for (int r = 1; r < threads; r++)
            if (pthread_create(&th[r], NULL, par_run, &jobs[r])) jobs[r].rc = -2;   /* run it here instead */
        par_run(&jobs[0]);
        for (int r = 1; r < threads; r++) {
            if (jobs[r].rc == -2) { jobs[r].rc = 0; par_run(&jobs[r]); }
            else pthread_join(th[r], NULL);
        }
        int bad = 0;
        for (int r = 0; r < threads; r++) {
            if (jobs[r].rc && !bad) { bad = 1; lj_errf(err, errlen, "%s", jobs[r].err); }
            if (!bad) for (size_t q = 0; q < jobs[r].ids.n; q++) if (tk_ids_push(&ids, jobs[r].ids.v[q])) { bad = 1; lj_errf(err, errlen, "out of memory"); break; }
            free(jobs[r].ids.v);
        }
        if (t_start) {
            double mx = 0;
            for (int r = 0; r < threads; r++) {
                fprintf(stderr, "tokenizer: thread %d: %zu pieces, CPU %.3f s\n", r, jobs[r].b - jobs[r].a, jobs[r].cpu_s);
                if (jobs[r].cpu_s > mx) mx = jobs[r].cpu_s;
            }
            fprintf(stderr, "tokenizer: critical path (sequential CPU + slowest thread) %.3f s\n",
                    thread_cpu_now() - cpu_start - jobs[0].cpu_s + mx);
        }
        free(jobs); free(th);
        if (bad) goto done;
    }
    if (t_start) fprintf(stderr, "tokenizer: encoded in %.3f s (calling thread CPU %.3f s)\n", lj_now() - t_start,
                         thread_cpu_now() - cpu_start);
    if (add_special && t->postproc && post_process(t->postproc, &ids)) { lj_errf(err, errlen, "out of memory"); goto done; }
    if (!ids.v && !(ids.v = malloc(sizeof *ids.v))) { lj_errf(err, errlen, "out of memory"); goto done; }
    *ids_out = ids.v; *n_out = ids.n;
    ids.v = NULL;
    rc = 0;
done:
    free(ids.v); free(ps.v); free(arena.p);
    return rc;
}

int tok_encode(const lj_tokenizer *t, const char *text, size_t len, int add_special,
               int32_t **ids, size_t *n, char *err, size_t errlen) {
    return tok_encode_parallel(t, text, len, add_special, 1, ids, n, err, errlen);
}

/* ---- decode ---------------------------------------------------------------------------------------------- */
int tok_decode(const lj_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
               char **text, char *err, size_t errlen) {
    size_t len;
    return tok_decode_n(t, ids, n, skip_special, text, &len, err, errlen);
}

int tok_decode_n(const lj_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                 char **text, size_t *text_len, char *err, size_t errlen) {
    char ebuf[LJ_ERRLEN];
    if (!err) { err = ebuf; errlen = sizeof ebuf; }
    *text = NULL;
    char **toks = malloc((n + 1) * sizeof *toks);
    size_t *lens = malloc((n + 1) * sizeof *lens);
    if (!toks || !lens) { free(toks); free(lens); return lj_errf(err, errlen, "out of memory"); }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || (size_t)id >= t->vocab_size) continue;            /* unknown ids are skipped, as HF */
        int32_t a = t->added_by_id[id];
        if (a >= 0) {
            /* as `tokenizers`: a normalized added token decodes from its normalized form, and
             * "special" is decided by that string */
            const tk_added *ad = &t->added[a];
            if (skip_special) {
                int32_t k = tk_strmap_get(&t->added_map, ad->pattern, ad->pattern_len);
                if (k >= 0 && t->added[k].special) continue;
            }
            toks[m] = ad->pattern; lens[m++] = ad->pattern_len;
        } else if ((size_t)id < t->bpe.n_vocab && t->bpe.id_to_tok[id]) {
            /* a model token whose text is also a special added token is skipped too */
            int32_t k = skip_special ? tk_strmap_get(&t->added_map, t->bpe.id_to_tok[id], t->bpe.tok_len[id]) : -1;
            if (k >= 0 && t->added[k].special) continue;
            toks[m] = t->bpe.id_to_tok[id]; lens[m++] = t->bpe.tok_len[id];
        }
    }
    tk_buf out = {0};
    int rc;
    if (t->decoder) rc = tk_decode_tokens(t->decoder, toks, lens, m, &out, err, errlen);
    else {
        rc = 0;
        for (size_t i = 0; i < m && !rc; i++)
            rc = (i && tk_buf_append(&out, " ", 1)) || tk_buf_append(&out, toks[i], lens[i]);
        if (rc) lj_errf(err, errlen, "out of memory");
    }
    if (!rc && tk_buf_append(&out, "", 0)) rc = lj_errf(err, errlen, "out of memory");
    free(toks); free(lens);
    if (rc) { free(out.p); return -1; }
    *text = out.p;
    *text_len = out.len;
    return 0;
}
