/* The BPE model of tokenizer.json: vocab and merge tables, the merge loop (a binary heap over merge
 * ranks, as `tokenizers`' Word::merge_all), byte fallback, unk fusing, and a thread-safe cache.
 *
 * Speed-up that keeps results identical: a word is cut at "hard boundaries" before merging. A
 * boundary between characters x and y is hard when both are single tokens of the vocab and no merge
 * (a, b) has a ending in x and b starting in y: no merge can ever join across it, so the two sides
 * merge independently, and each side can be cached. A Mistral-style text with no pre-tokenizer
 * (one giant "word") becomes ordinary words this way. */
#include "engine/tokenizer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* ---- hashing and the string map --------------------------------------------------------------- */
uint64_t tk_hash(const char *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w; memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    uint64_t w = 0;
    memcpy(&w, s + i, n - i);
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

static int strmap_grow(tk_strmap *m) {
    size_t nslots = m->mask ? (m->mask + 1) * 2 : 1024;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < m->n; i++) {
        size_t h = tk_hash(m->keys[i], m->key_lens[i]) & (nslots - 1);
        while (slots[h]) h = (h + 1) & (nslots - 1);
        slots[h] = (uint32_t)(i + 1);
    }
    free(m->slots);
    m->slots = slots; m->mask = nslots - 1;
    return 0;
}

int tk_strmap_put(tk_strmap *m, const char *key, size_t len, int32_t val) {
    if ((m->n + 1) * 2 > (m->mask ? m->mask + 1 : 0) && strmap_grow(m)) return -1;
    size_t h = tk_hash(key, len) & m->mask;
    while (m->slots[h]) {
        uint32_t k = m->slots[h] - 1;
        if (m->key_lens[k] == len && !memcmp(m->keys[k], key, len)) { m->vals[k] = val; return 0; }
        h = (h + 1) & m->mask;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        const char **keys = realloc(m->keys, cap * sizeof *keys);
        if (!keys) return -1;
        m->keys = keys;
        size_t *lens = realloc(m->key_lens, cap * sizeof *lens);
        if (!lens) return -1;
        m->key_lens = lens;
        int32_t *vals = realloc(m->vals, cap * sizeof *vals);
        if (!vals) return -1;
        m->vals = vals;
        m->cap = cap;
    }
    m->keys[m->n] = key; m->key_lens[m->n] = len; m->vals[m->n] = val;
    m->slots[h] = (uint32_t)(++m->n);
    return 0;
}

int32_t tk_strmap_get(const tk_strmap *m, const char *key, size_t len) {
    if (!m->n) return -1;
    size_t h = tk_hash(key, len) & m->mask;
    while (m->slots[h]) {
        uint32_t k = m->slots[h] - 1;
        if (m->key_lens[k] == len && !memcmp(m->keys[k], key, len)) return m->vals[k];
        h = (h + 1) & m->mask;
    }
    return -1;
}

void tk_strmap_free(tk_strmap *m) {
    free(m->slots); free(m->keys); free(m->key_lens); free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- merges: (left id, right id) -> (rank, new id) --------------------------------------------- */
static inline size_t pair_slot(uint64_t key, size_t mask) { return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & mask; }

static int merges_grow(tk_bpe *m) {
    size_t nslots = m->merge_mask ? (m->merge_mask + 1) * 2 : 1024;
    tk_merge *t = malloc(nslots * sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < nslots; i++) t[i].new_id = -1;
    if (m->merges)
        for (size_t i = 0; i <= m->merge_mask; i++) {
            if (m->merges[i].new_id < 0) continue;
            size_t h = pair_slot(m->merges[i].key, nslots - 1);
            while (t[h].new_id >= 0) h = (h + 1) & (nslots - 1);
            t[h] = m->merges[i];
        }
    free(m->merges);
    m->merges = t; m->merge_mask = nslots - 1;
    return 0;
}

int tk_bpe_add_merge(tk_bpe *m, int32_t a, int32_t b, int32_t rank, int32_t new_id) {
    if ((m->n_merges + 1) * 2 > (m->merges ? m->merge_mask + 1 : 0) && merges_grow(m)) return -1;
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t h = pair_slot(key, m->merge_mask);
    while (m->merges[h].new_id >= 0) {
        if (m->merges[h].key == key) { m->merges[h].rank = rank; m->merges[h].new_id = new_id; return 0; }
        h = (h + 1) & m->merge_mask;
    }
    m->merges[h] = (tk_merge){key, rank, new_id};
    m->n_merges++;
    return 0;
}

static inline const tk_merge *merge_get(const tk_bpe *m, int32_t a, int32_t b) {
    if (!m->n_merges) return NULL;
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t h = pair_slot(key, m->merge_mask);
    while (m->merges[h].new_id >= 0) {
        if (m->merges[h].key == key) return &m->merges[h];
        h = (h + 1) & m->merge_mask;
    }
    return NULL;
}

/* ---- hard boundaries ------------------------------------------------------------------------------ */
static int pairset_has(const tk_bpe *m, uint32_t a, uint32_t b) {
    if (a < 128 && b < 128) return (m->ascii_pair[a][b >> 3] >> (b & 7)) & 1;
    if (!m->pair_set) return 0;
    uint64_t key = (((uint64_t)a << 32) | b) + 1;
    size_t h = pair_slot(key, m->pair_mask);
    while (m->pair_set[h]) {
        if (m->pair_set[h] == key) return 1;
        h = (h + 1) & m->pair_mask;
    }
    return 0;
}

static int pairset_add(tk_bpe *m, uint32_t a, uint32_t b, size_t *n) {
    if (a < 128 && b < 128) { m->ascii_pair[a][b >> 3] |= (uint8_t)(1u << (b & 7)); return 0; }
    if ((*n + 1) * 2 > (m->pair_set ? m->pair_mask + 1 : 0)) {
        size_t nslots = m->pair_set ? (m->pair_mask + 1) * 2 : 1024;
        uint64_t *t = calloc(nslots, sizeof *t);
        if (!t) return -1;
        if (m->pair_set)
            for (size_t i = 0; i <= m->pair_mask; i++) {
                if (!m->pair_set[i]) continue;
                size_t h = pair_slot(m->pair_set[i], nslots - 1);
                while (t[h]) h = (h + 1) & (nslots - 1);
                t[h] = m->pair_set[i];
            }
        free(m->pair_set);
        m->pair_set = t; m->pair_mask = nslots - 1;
    }
    uint64_t key = (((uint64_t)a << 32) | b) + 1;
    size_t h = pair_slot(key, m->pair_mask);
    while (m->pair_set[h]) { if (m->pair_set[h] == key) return 0; h = (h + 1) & m->pair_mask; }
    m->pair_set[h] = key;
    (*n)++;
    return 0;
}

static uint32_t last_char(const char *s, size_t n) {
    size_t st = n - 1;
    while (st > 0 && ((uint8_t)s[st] & 0xC0) == 0x80) st--;
    size_t l;
    return tk_utf8_next(s + st, n - st, &l);
}

/* Is the single character c (UTF-8 at s, l bytes) a token of the vocab? */
static inline int char_in_vocab(const tk_bpe *m, uint32_t c, const char *s, size_t l) {
    if (c < 0x10000) return (m->bmp_char_ok[c >> 3] >> (c & 7)) & 1;
    return tk_strmap_get(&m->vocab, s, l) >= 0;
}

size_t tk_bpe_next_hard(const tk_bpe *m, const char *w, size_t n, size_t from) {
    if (!m->hard_split_ok || from >= n) return n;
    size_t l; uint32_t prev = tk_utf8_next(w + from, n - from, &l);
    int prev_ok = char_in_vocab(m, prev, w + from, l);
    size_t i = from + l;
    while (i < n) {
        uint32_t c = tk_utf8_next(w + i, n - i, &l);
        int ok = char_in_vocab(m, c, w + i, l);
        if (ok && prev_ok && !pairset_has(m, prev, c)) return i;
        prev = c; prev_ok = ok;
        i += l;
    }
    return n;
}

/* ---- cache: sharded, one mutex per shard ------------------------------------------------------- */
#define CACHE_SHARDS 64
#define CACHE_SLOTS 4096          /* per shard, power of two; filled to half at most */
#define CACHE_MAX_WORD 64         /* bytes; longer words are not cached */
typedef struct cache_entry { uint64_t hash; uint16_t klen, nids; char *data; } cache_entry;  /* data: key, then ids */
struct tk_cache {
    struct cache_shard { pthread_mutex_t mu; size_t n; cache_entry slots[CACHE_SLOTS]; } shards[CACHE_SHARDS];
};

static int cache_get(tk_cache *c, uint64_t h, const char *w, size_t n, tk_ids *out) {
    struct cache_shard *sh = &c->shards[h & (CACHE_SHARDS - 1)];
    size_t i = (h >> 8) & (CACHE_SLOTS - 1);
    int found = 0;
    pthread_mutex_lock(&sh->mu);
    while (sh->slots[i].data) {
        cache_entry *e = &sh->slots[i];
        if (e->hash == h && e->klen == n && !memcmp(e->data, w, n)) {
            found = 1;
            if (out->n + e->nids > out->cap) {
                size_t cap = out->cap ? out->cap : 64;
                while (cap < out->n + e->nids) cap *= 2;
                int32_t *v = realloc(out->v, cap * sizeof *v);
                if (!v) { found = -1; break; }
                out->v = v; out->cap = cap;
            }
            memcpy(out->v + out->n, e->data + n, e->nids * sizeof(int32_t));
            out->n += e->nids;
            break;
        }
        i = (i + 1) & (CACHE_SLOTS - 1);
    }
    pthread_mutex_unlock(&sh->mu);
    return found;
}

static void cache_put(tk_cache *c, uint64_t h, const char *w, size_t n, const int32_t *ids, size_t nids) {
    struct cache_shard *sh = &c->shards[h & (CACHE_SHARDS - 1)];
    if (nids > 65535) return;
    char *data = malloc(n + nids * sizeof(int32_t));
    if (!data) return;
    memcpy(data, w, n);
    memcpy(data + n, ids, nids * sizeof(int32_t));
    size_t i = (h >> 8) & (CACHE_SLOTS - 1);
    pthread_mutex_lock(&sh->mu);
    if (sh->n >= CACHE_SLOTS / 2) { pthread_mutex_unlock(&sh->mu); free(data); return; }   /* full: as HF, stop adding */
    while (sh->slots[i].data) {
        cache_entry *e = &sh->slots[i];
        if (e->hash == h && e->klen == n && !memcmp(e->data, w, n)) { pthread_mutex_unlock(&sh->mu); free(data); return; }
        i = (i + 1) & (CACHE_SLOTS - 1);
    }
    sh->slots[i] = (cache_entry){h, (uint16_t)n, (uint16_t)nids, data};
    sh->n++;
    pthread_mutex_unlock(&sh->mu);
}

static void cache_free(tk_cache *c) {
    if (!c) return;
    for (int s = 0; s < CACHE_SHARDS; s++) {
        for (size_t i = 0; i < CACHE_SLOTS; i++) free(c->shards[s].slots[i].data);
        pthread_mutex_destroy(&c->shards[s].mu);
    }
    free(c);
}

/* ---- the merge loop ------------------------------------------------------------------------------------- */
typedef struct sym { int32_t id, prev, next; uint32_t len; } sym;
/* heap entry: (rank << 32) | position, so that one comparison orders by rank, then position */
typedef uint64_t hent;
/* Per-thread, lock-free first-level cache of short words (direct mapped, overwritten on conflict). */
#define L1_SLOTS 4096
#define L1_KEY 22
#define L1_IDS 6
typedef struct l1_entry { uint64_t hash; uint8_t klen, nids; char key[L1_KEY]; int32_t ids[L1_IDS]; } l1_entry;
struct tk_scratch { sym *syms; size_t syms_cap; hent *heap; size_t heap_cap; l1_entry *l1; int l1_on; };

tk_scratch *tk_scratch_new(void) { return calloc(1, sizeof(tk_scratch)); }
void tk_scratch_enable_l1(tk_scratch *s) { s->l1_on = 1; }
void tk_scratch_free(tk_scratch *s) { if (s) { free(s->syms); free(s->heap); free(s->l1); free(s); } }

static inline int hent_less(hent a, hent b) { return a < b; }
static inline hent hent_make(int32_t rank, int32_t pos) { return ((uint64_t)(uint32_t)rank << 32) | (uint32_t)pos; }

static void heap_push(hent *h, size_t *n, hent e) {
    size_t i = (*n)++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (!hent_less(e, h[p])) break;
        h[i] = h[p]; i = p;
    }
    h[i] = e;
}

static hent heap_pop(hent *h, size_t *n) {
    hent top = h[0], last = h[--(*n)];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && hent_less(h[c + 1], h[c])) c++;
        if (!hent_less(h[c], last)) break;
        h[i] = h[c]; i = c;
    }
    if (m) h[i] = last;
    return top;
}

static int sym_add(tk_scratch *sc, size_t *ns, int32_t id, size_t len) {
    if (*ns == sc->syms_cap) {
        size_t cap = sc->syms_cap ? sc->syms_cap * 2 : 64;
        sym *v = realloc(sc->syms, cap * sizeof *v);
        if (!v) return -1;
        sc->syms = v; sc->syms_cap = cap;
    }
    int32_t i = (int32_t)*ns;
    sc->syms[*ns] = (sym){id, i - 1, i + 1, (uint32_t)len};
    (*ns)++;
    return 0;
}

/* Word::merge_word + merge_all of `tokenizers`, appending the resulting ids to out. */
static int merge_segment(const tk_bpe *m, const char *w, size_t n, int first, int last, tk_ids *out,
                         tk_scratch *sc, char *err, size_t errlen) {
    size_t ns = 0;
    int32_t unk_id = -1; size_t unk_len = 0; int have_unk = 0;
    char tmpbuf[64];
    for (size_t i = 0; i < n;) {
        size_t l; tk_utf8_next(w + i, n - i, &l);
        int is_first = first && i == 0, is_last = last && i + l == n;
        const char *s = w + i; size_t sl = l;
        char *heap_s = NULL;
        if ((!is_first && m->prefix) || (is_last && m->suffix)) {
            size_t need = l + (!is_first && m->prefix ? m->prefix_len : 0) + (is_last && m->suffix ? m->suffix_len : 0);
            char *b = need <= sizeof tmpbuf ? tmpbuf : (heap_s = malloc(need));
            if (!b) return lj_errf(err, errlen, "out of memory");
            size_t k = 0;
            if (!is_first && m->prefix) { memcpy(b, m->prefix, m->prefix_len); k += m->prefix_len; }
            memcpy(b + k, w + i, l); k += l;
            if (is_last && m->suffix) { memcpy(b + k, m->suffix, m->suffix_len); k += m->suffix_len; }
            s = b; sl = k;
        }
        int32_t id = tk_strmap_get(&m->vocab, s, sl);
        if (id >= 0) {
            if (have_unk) { if (sym_add(sc, &ns, unk_id, unk_len)) goto oom; have_unk = 0; }
            if (sym_add(sc, &ns, id, l)) goto oom;
        } else {
            int done = 0;
            if (m->byte_fallback) {
                int all = 1;
                for (size_t k = 0; k < sl; k++) if (m->byte_ids[(uint8_t)s[k]] < 0) { all = 0; break; }
                if (all) {
                    /* as in `tokenizers`, a pending unk is not flushed before the bytes */
                    for (size_t k = 0; k < sl; k++) if (sym_add(sc, &ns, m->byte_ids[(uint8_t)s[k]], 1)) goto oom;
                    done = 1;
                }
            }
            if (!done && m->unk_token) {
                if (m->unk_id < 0) { free(heap_s); return lj_errf(err, errlen, "unk token '%s' is not in the vocab", m->unk_token); }
                if (have_unk && m->fuse_unk) unk_len += l;
                else {
                    if (have_unk && sym_add(sc, &ns, unk_id, unk_len)) goto oom;
                    unk_id = m->unk_id; unk_len = l; have_unk = 1;
                }
            }
        }
        free(heap_s);
        i += l;
        continue;
    oom:
        free(heap_s);
        return lj_errf(err, errlen, "out of memory");
    }
    if (have_unk && sym_add(sc, &ns, unk_id, unk_len)) return lj_errf(err, errlen, "out of memory");
    if (!ns) return 0;
    sym *sy = sc->syms;
    sy[ns - 1].next = -1;
    /* heap of candidate merges: every adjacent pair, then new pairs as merges happen */
    if (sc->heap_cap < 2 * ns + 16) {
        hent *h = realloc(sc->heap, (2 * ns + 16) * sizeof *h);
        if (!h) return lj_errf(err, errlen, "out of memory");
        sc->heap = h; sc->heap_cap = 2 * ns + 16;
    }
    hent *heap = sc->heap; size_t hn = 0;
    for (size_t i = 0; i + 1 < ns; i++) {
        const tk_merge *mg = merge_get(m, sy[i].id, sy[i + 1].id);
        if (mg) heap_push(heap, &hn, hent_make(mg->rank, (int32_t)i));
    }
    while (hn) {
        hent top = heap_pop(heap, &hn);
        int32_t top_pos = (int32_t)(uint32_t)top, top_rank = (int32_t)(top >> 32);
        sym *cur = &sy[top_pos];
        if (cur->len == 0 || cur->next < 0) continue;
        int32_t next_pos = cur->next;
        sym right = sy[next_pos];
        const tk_merge *mg = merge_get(m, cur->id, right.id);
        /* stale entry: the pair at this position changed. (`tokenizers` compares the new id; a pair
         * that changed always has another merge, so comparing ranks is the same test.) */
        if (!mg || mg->rank != top_rank) continue;
        cur->id = mg->new_id;
        cur->len += right.len;
        cur->next = right.next;
        sy[next_pos].len = 0;
        if (right.next >= 0) sy[right.next].prev = top_pos;
        /* each merge adds at most two entries; the heap was sized for that (one pop per push) */
        if (hn + 2 > sc->heap_cap) {
            hent *h = realloc(sc->heap, sc->heap_cap * 2 * sizeof *h);
            if (!h) return lj_errf(err, errlen, "out of memory");
            sc->heap = heap = h; sc->heap_cap *= 2;
        }
        if (cur->prev >= 0) {
            const tk_merge *pm = merge_get(m, sy[cur->prev].id, cur->id);
            if (pm) heap_push(heap, &hn, hent_make(pm->rank, cur->prev));
        }
        if (cur->next >= 0) {
            const tk_merge *nm = merge_get(m, cur->id, sy[cur->next].id);
            if (nm) heap_push(heap, &hn, hent_make(nm->rank, top_pos));
        }
    }
    for (size_t i = 0; i < ns; i++)
        if (sy[i].len && tk_ids_push(out, sy[i].id)) return lj_errf(err, errlen, "out of memory");
    return 0;
}

static int encode_segment(const tk_bpe *m, const char *w, size_t n, int first, int last, tk_ids *out,
                          tk_scratch *sc, char *err, size_t errlen) {
    int cacheable = n <= CACHE_MAX_WORD && m->cache && first && last;
    /* with no prefix/suffix, first/last do not change the result: cache every segment */
    if (!m->prefix && !m->suffix) cacheable = n <= CACHE_MAX_WORD && m->cache;
    uint64_t h = 0;
    l1_entry *e = NULL;
    if (cacheable) {
        h = tk_hash(w, n);
        if (n <= L1_KEY && sc->l1_on) {
            if (!sc->l1) sc->l1 = calloc(L1_SLOTS, sizeof *sc->l1);
            if (sc->l1) {
                e = &sc->l1[(h >> 20) & (L1_SLOTS - 1)];
                if (e->hash == h && e->klen == n && e->nids && !memcmp(e->key, w, n)) {
                    for (int i = 0; i < e->nids; i++) if (tk_ids_push(out, e->ids[i])) return lj_errf(err, errlen, "out of memory");
                    return 0;
                }
            }
        }
        size_t before = out->n;
        int f = cache_get(m->cache, h, w, n, out);
        if (f > 0 && e && out->n - before <= L1_IDS) {
            e->hash = h; e->klen = (uint8_t)n; e->nids = (uint8_t)(out->n - before);
            memcpy(e->key, w, n); memcpy(e->ids, out->v + before, e->nids * sizeof(int32_t));
        }
        if (f < 0) return lj_errf(err, errlen, "out of memory");
        if (f) return 0;
    }
    size_t before = out->n;
    if (merge_segment(m, w, n, first, last, out, sc, err, errlen)) return -1;
    if (cacheable) cache_put(m->cache, h, w, n, out->v + before, out->n - before);
    if (e && out->n - before <= L1_IDS && out->n > before) {
        e->hash = h; e->klen = (uint8_t)n; e->nids = (uint8_t)(out->n - before);
        memcpy(e->key, w, n); memcpy(e->ids, out->v + before, e->nids * sizeof(int32_t));
    }
    return 0;
}

int tk_bpe_word(const tk_bpe *m, const char *w, size_t n, tk_ids *out, tk_scratch *sc, char *err, size_t errlen) {
    if (!n) return 0;
    if (m->ignore_merges && n <= m->max_tok_len) {
        int32_t id = tk_strmap_get(&m->vocab, w, n);
        if (id >= 0) return tk_ids_push(out, id) ? lj_errf(err, errlen, "out of memory") : 0;
    }
    if (!m->hard_split_ok) return encode_segment(m, w, n, 1, 1, out, sc, err, errlen);
    for (size_t a = 0; a < n;) {
        size_t b = tk_bpe_next_hard(m, w, n, a);
        if (encode_segment(m, w + a, b - a, a == 0, b == n, out, sc, err, errlen)) return -1;
        a = b;
    }
    return 0;
}

int tk_bpe_finish_load(tk_bpe *m, char *err, size_t errlen) {
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        m->byte_ids[b] = tk_strmap_get(&m->vocab, name, 6);
    }
    m->bmp_char_ok = calloc(65536 / 8, 1);
    if (!m->bmp_char_ok) return lj_errf(err, errlen, "out of memory");
    for (size_t i = 0; i < m->n_vocab; i++) {
        const char *s = m->id_to_tok[i];
        if (!s) continue;
        size_t n = m->tok_len[i];
        if (n > m->max_tok_len) m->max_tok_len = n;
        size_t l;
        if (!n) continue;
        uint32_t c = tk_utf8_next(s, n, &l);
        if (l == n && c < 0x10000) m->bmp_char_ok[c >> 3] |= (uint8_t)(1u << (c & 7));
    }
    /* pairs (last char of left, first char of right) over every merge */
    m->hard_split_ok = !m->prefix && !m->suffix;
    size_t npairs = 0;
    if (m->hard_split_ok && m->merges)
        for (size_t i = 0; i <= m->merge_mask; i++) {
            if (m->merges[i].new_id < 0) continue;
            int32_t a = (int32_t)(m->merges[i].key >> 32), b = (int32_t)(uint32_t)m->merges[i].key;
            const char *sa = m->id_to_tok[a], *sb = m->id_to_tok[b];
            size_t l;
            uint32_t ca = last_char(sa, m->tok_len[a]);
            uint32_t cb = tk_utf8_next(sb, m->tok_len[b], &l);
            if (pairset_add(m, ca, cb, &npairs)) return lj_errf(err, errlen, "out of memory");
        }
    m->cache = calloc(1, sizeof *m->cache);
    if (!m->cache) return lj_errf(err, errlen, "out of memory");
    for (int s = 0; s < CACHE_SHARDS; s++) pthread_mutex_init(&m->cache->shards[s].mu, NULL);
    return 0;
}

void tk_bpe_free(tk_bpe *m) {
    for (size_t i = 0; i < m->n_vocab; i++) free(m->id_to_tok[i]);
    free(m->id_to_tok); free(m->tok_len);
    tk_strmap_free(&m->vocab);
    free(m->merges); free(m->pair_set); free(m->bmp_char_ok);
    free(m->unk_token); free(m->prefix); free(m->suffix);
    cache_free(m->cache);
}
