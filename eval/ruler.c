/* RULER-style task generators; see ruler.h. Each generator mirrors the RULER script named above
 * it; "units" are what RULER's binary search counts (essay words, noise sentences, list words). */
#include "eval/ruler.h"
#include "eval/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "engine/chat.h"

extern const char *const ruler_adjectives[], *const ruler_nouns[], *const ruler_verbs[];
extern const size_t ruler_adjectives_n, ruler_nouns_n, ruler_verbs_n;

/* synthetic.yaml: task name, kind, tokens_to_generate (constants.py), arguments. */
const ruler_task ruler_tasks[] = {
    {"niah_single_1", RULER_NIAH, 128, "noise", "words", "numbers", 1, 1, 1, 0, 0, 0, 0, 0, 0},
    {"niah_single_2", RULER_NIAH, 128, "essay", "words", "numbers", 1, 1, 1, 0, 0, 0, 0, 0, 0},
    {"niah_single_3", RULER_NIAH, 128, "essay", "words", "uuids", 1, 1, 1, 0, 0, 0, 0, 0, 0},
    {"niah_multikey_1", RULER_NIAH, 128, "essay", "words", "numbers", 4, 1, 1, 0, 0, 0, 0, 0, 0},
    {"niah_multikey_2", RULER_NIAH, 128, "needle", "words", "numbers", 1, 1, 1, 0, 0, 0, 0, 0, 0},
    {"niah_multikey_3", RULER_NIAH, 128, "needle", "uuids", "uuids", 1, 1, 1, 0, 0, 0, 0, 0, 0},
    {"niah_multivalue", RULER_NIAH, 128, "essay", "words", "numbers", 1, 4, 1, 0, 0, 0, 0, 0, 0},
    {"niah_multiquery", RULER_NIAH, 128, "essay", "words", "numbers", 1, 1, 4, 0, 0, 0, 0, 0, 0},
    {"vt", RULER_VT, 30, "noise", NULL, NULL, 0, 0, 0, 1, 4, 0, 0, 0, 0},
    {"cwe", RULER_CWE, 120, NULL, NULL, NULL, 0, 0, 0, 0, 0, 30, 3, 10, 0},
    {"fwe", RULER_FWE, 50, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 2.0},
};
const size_t ruler_n_tasks = sizeof ruler_tasks / sizeof ruler_tasks[0];

const ruler_task *ruler_task_find(const char *name) {
    for (size_t i = 0; i < ruler_n_tasks; i++)
        if (!strcmp(ruler_tasks[i].name, name)) return &ruler_tasks[i];
    return NULL;
}

/* ---- chat template ------------------------------------------------------------------------ */

/* The engine's Jamba chat template (engine/chat.h) with one user message and the generation
 * prompt; RULER's answer prefix follows the assistant tag, as RULER appends it after its model
 * template. */
char *eval_chat_render(const char *user, const char *assistant_prefix) {
    lj_chat_message m = {"user", user};
    char *out = NULL, err[256];
    size_t n;
    if (chat_format(&m, 1, LJ_CHAT_JAMBA, 1, &out, &n, err, sizeof err)) return NULL;
    if (!assistant_prefix || !*assistant_prefix) return out;
    sbuf b = {0};
    sb_add(&b, out, n);
    sb_str(&b, assistant_prefix);
    free(out);
    return sb_take(&b);
}

/* The template as rendered for a placeholder conversation: what the JSON records and hashes. */
const char *eval_chat_template_text(void) {
    static char text[512];
    if (!text[0]) {
        char *r = eval_chat_render("{user}", "{answer_prefix}");
        snprintf(text, sizeof text, "%s", r ? r : "?");
        free(r);
    }
    return text;
}

uint64_t eval_chat_template_hash(void) {   /* FNV-1a 64 of eval_chat_template_text() */
    uint64_t h = 1469598103934665603ull;
    for (const char *p = eval_chat_template_text(); *p; p++) { h ^= (unsigned char)*p; h *= 1099511628211ull; }
    return h;
}

/* ---- deterministic random numbers (splitmix64) ----------------------------------------------- */

typedef struct rng { uint64_t s; } rng;

static uint64_t rng_next(rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static size_t rng_below(rng *r, size_t n) { return n ? (size_t)(rng_next(r) % n) : 0; }

static uint64_t hash_str(uint64_t h, const char *s) {
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ull; }
    return h;
}

static void shuffle_ptrs(rng *r, const char **a, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(r, i);
        const char *t = a[i - 1]; a[i - 1] = a[j]; a[j] = t;
    }
}

/* k distinct values of range(n), in sampling order (k <= n). */
static void sample_range(rng *r, size_t n, size_t k, size_t *out) {
    for (size_t i = 0; i < k; i++) {
        size_t v;
        int dup;
        do {
            v = rng_below(r, n);
            dup = 0;
            for (size_t j = 0; j < i; j++) dup |= out[j] == v;
        } while (dup);
        out[i] = v;
    }
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- context ---------------------------------------------------------------------------- */

int ruler_ctx_init(ruler_ctx *c, const lj_tokenizer *tok, const char *essay, size_t len, uint64_t seed,
                   char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->tok = tok;
    c->seed = seed;
    c->threads = 1;
    /* re.sub(r'\s+', " ", essay).split(" ") */
    c->essay = malloc(len + 1);
    c->word_start = malloc((len / 2 + 2) * sizeof *c->word_start);
    c->word_len = malloc((len / 2 + 2) * sizeof *c->word_len);
    if (!c->essay || !c->word_start || !c->word_len) { ruler_ctx_free(c); return lj_errf(err, errlen, "ruler: out of memory"); }
    memcpy(c->essay, essay, len);
    c->essay[len] = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (c->essay[i] == ' ' || (c->essay[i] >= 9 && c->essay[i] <= 13))) i++;
        if (i == len) break;
        size_t b = i;
        while (i < len && !(c->essay[i] == ' ' || (c->essay[i] >= 9 && c->essay[i] <= 13))) i++;
        c->word_start[c->n_words] = b;
        c->word_len[c->n_words++] = i - b;
    }
    if (!c->n_words) { ruler_ctx_free(c); return lj_errf(err, errlen, "ruler: the haystack text has no words"); }
    /* tokens of each word as it appears inside the text (after a space): needle depths are placed
     * by these, so that a needle at d% sits at d% of the haystack's tokens */
    c->word_tokens = malloc(c->n_words * sizeof *c->word_tokens);
    char *w = malloc(len + 2);
    if (!c->word_tokens || !w) { free(w); ruler_ctx_free(c); return lj_errf(err, errlen, "ruler: out of memory"); }
    for (size_t k = 0; k < c->n_words; k++) {
        w[0] = ' ';
        memcpy(w + 1, c->essay + c->word_start[k], c->word_len[k]);
        int32_t *ids = NULL;
        size_t n = 0;
        char e2[128];
        if (tok_encode(tok, w, c->word_len[k] + 1, 0, &ids, &n, e2, sizeof e2)) n = (c->word_len[k] + 4) / 4;
        free(ids);
        c->word_tokens[k] = n;
    }
    free(w);
    return 0;
}

void ruler_ctx_free(ruler_ctx *c) {
    free(c->essay); free(c->word_start); free(c->word_len); free(c->word_tokens);
    memset(c, 0, sizeof *c);
}

void ruler_sample_free(ruler_sample *s) {
    free(s->input); free(s->answer_prefix); free(s->prompt);
    for (size_t i = 0; i < s->n_outputs; i++) free(s->outputs[i]);
    free(s->outputs);
    for (size_t i = 0; i < s->n_needles; i++) free(s->needles[i]);
    free(s->needles);
    free(s->depths);
    memset(s, 0, sizeof *s);
}

/* ---- templates (scripts/data/synthetic/constants.py: template + answer_prefix) --------------- */

static const char NIAH_T[] =
    "Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. "
    "I will quiz you about the {type_needle_v} afterwards.\n{context}\nWhat are all the special magic "
    "{type_needle_v} for {query} mentioned in the provided text?";
static const char NIAH_P[] = " The special magic {type_needle_v} for {query} mentioned in the provided text are";
static const char VT_T[] =
    "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\n"
    "Question: Find all variables that are assigned the value {query} in the text above.";
static const char VT_P[] =
    " Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables are "
    "assigned the value {query}, they are: ";
static const char CWE_T[] =
    "Below is a numbered list of words. In these words, some appear more often than others. Memorize the "
    "ones that appear most often.\n{context}\nQuestion: What are the 10 most common words in the above list?";
static const char CWE_P[] = " Answer: The top 10 words that appear most often in the list are:";
static const char FWE_T[] =
    "Read the following coded text and track the frequency of each coded word. Find the three most "
    "frequently appeared coded words. {context}\nQuestion: Do not provide any explanation. Please ignore "
    "the dots '....'. What are the three most frequently appeared words in the above coded text?";
static const char FWE_P[] =
    " Answer: According to the coded text above, the three most frequently appeared words are:";
static const char NOISE[] = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";

/* str.replace(old, new) on a malloc'd string. */
static char *replace_all(char *s, const char *old, const char *new_) {
    if (!s) return NULL;
    sbuf b = {0};
    size_t ol = strlen(old);
    const char *p = s, *q;
    while ((q = strstr(p, old))) { sb_add(&b, p, (size_t)(q - p)); sb_str(&b, new_); p = q + ol; }
    sb_str(&b, p);
    free(s);
    return sb_take(&b);
}

/* str.format with named fields: {name} -> value; other text copied. */
static char *format_fields(const char *t, const char *const *names, const char *const *vals, size_t n) {
    sbuf b = {0};
    const char *p = t;
    while (*p) {
        if (*p == '{') {
            const char *e = strchr(p, '}');
            size_t k = 0;
            for (; e && k < n; k++)
                if (strlen(names[k]) == (size_t)(e - p - 1) && !strncmp(p + 1, names[k], (size_t)(e - p - 1))) break;
            if (e && k < n) { sb_str(&b, vals[k]); p = e + 1; continue; }
        }
        sb_add(&b, p, 1);
        p++;
    }
    return sb_take(&b);
}

/* ---- value generators (niah.py generate_random) ---------------------------------------------- */

static char *gen_value(rng *r, const char *type) {
    char buf[64];
    if (!strcmp(type, "numbers")) snprintf(buf, sizeof buf, "%zu", (size_t)1000000 + rng_below(r, 9000000));
    else if (!strcmp(type, "words"))
        snprintf(buf, sizeof buf, "%s-%s", ruler_adjectives[rng_below(r, ruler_adjectives_n)], ruler_nouns[rng_below(r, ruler_nouns_n)]);
    else {   /* uuid.UUID(int=getrandbits(128), version=4) */
        uint64_t a = rng_next(r), b = rng_next(r);
        a = (a & ~0xF000ull) | 0x4000ull;
        b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
        snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)((a >> 16) & 0xFFFF),
                 (unsigned)(a & 0xFFFF), (unsigned)(b >> 48), (unsigned long long)(b & 0xFFFFFFFFFFFFull));
    }
    return strdup(buf);
}

/* A built sample before tokenization. */
typedef struct built {
    char *input, *prefix;
    char **outputs; size_t n_outputs;
    char **needles; double *depths; size_t n_needles;
} built;

static void built_free(built *b) {
    free(b->input); free(b->prefix);
    for (size_t i = 0; i < b->n_outputs; i++) free(b->outputs[i]);
    for (size_t i = 0; i < b->n_needles; i++) free(b->needles[i]);
    free(b->outputs); free(b->needles); free(b->depths);
    memset(b, 0, sizeof *b);
}

/* Splits "template + answer prefix" text as RULER does: at the last occurrence of the prefix's
 * first 10 characters. */
static void split_prefix(built *b, char *full, const char *prefix_template) {
    char key[11];
    snprintf(key, sizeof key, "%s", prefix_template);
    char *at = NULL, *p = full;
    while ((p = strstr(p, key))) { at = p; p++; }
    if (!at) at = full + strlen(full);
    b->prefix = strdup(at);
    *at = 0;
    b->input = full;
}

/* Sentences of essay text (nltk sent_tokenize stand-in): ends after . ! ? followed by a space. */
static size_t split_sentences(const char *t, size_t **starts) {
    size_t n = 0, cap = 64;
    *starts = malloc(cap * sizeof **starts);
    if (!*starts) return 0;
    (*starts)[n++] = 0;
    for (size_t i = 0; t[i]; i++)
        if ((t[i] == '.' || t[i] == '!' || t[i] == '?') && t[i + 1] == ' ' && t[i + 2]) {
            if (n == cap) {
                size_t *s = realloc(*starts, (cap *= 2) * sizeof *s);
                if (!s) return n;
                *starts = s;
            }
            (*starts)[n++] = i + 2;
        }
    return n;
}

/* niah.py generate_input_output(num_haystack) */
static int build_niah(ruler_ctx *c, const ruler_task *t, uint64_t seed, size_t N, built *b) {
    rng r = {seed};
    size_t nk = (size_t)(t->num_k > t->num_q ? t->num_k : t->num_q), nv = (size_t)t->num_v, nq = (size_t)t->num_q;
    char **keys = calloc(nk, sizeof *keys), **vals = calloc(nk * nv, sizeof *vals);
    const char **needles = calloc(nk * nv, sizeof *needles);
    size_t nn = nk * nv;
    for (size_t k = 0; k < nk; k++) {
        keys[k] = gen_value(&r, t->type_k);
        for (size_t v = 0; v < nv; v++) {
            vals[k * nv + v] = gen_value(&r, t->type_v);
            sbuf s = {0};
            sb_printf(&s, "One of the special magic %s for %s is: %s.", t->type_v, keys[k], vals[k * nv + v]);
            needles[k * nv + v] = sb_take(&s);
        }
    }
    shuffle_ptrs(&r, needles, nn);
    b->needles = calloc(nn, sizeof *b->needles);
    b->depths = calloc(nn, sizeof *b->depths);
    b->n_needles = nn;
    size_t *pos = calloc(nn + 1, sizeof *pos);
    sbuf ctx = {0};
    if (!strcmp(t->haystack, "essay")) {
        /* DEPTHS = np.round(np.linspace(0, 100, 40)); positions int(n_sents * depth / 100) */
        double dep[64];
        size_t idx[64];
        if (c->n_depths) for (size_t i = 0; i < nn; i++) dep[i] = c->depths[i % c->n_depths];
        else {
            sample_range(&r, 40, nn, idx);
            for (size_t i = 0; i < nn; i++) dep[i] = nearbyint(100.0 * (double)idx[i] / 39.0);
        }
        sbuf text = {0};
        size_t *wpos = malloc((N + 1) * sizeof *wpos), *wtok = malloc((N + 1) * sizeof *wtok);
        if (!wpos || !wtok) { free(wpos); free(wtok); return -1; }
        size_t cum = 0;
        for (size_t w = 0; w < N; w++) {
            size_t k = w % c->n_words;
            if (w) sb_add(&text, " ", 1);
            wpos[w] = text.n;
            wtok[w] = cum;
            cum += c->word_tokens[k];
            sb_add(&text, c->essay + c->word_start[k], c->word_len[k]);
        }
        char *tx = sb_take(&text);
        size_t *ss = NULL, ns = tx ? split_sentences(tx, &ss) : 0;
        /* token offset of each sentence start (sentences start at word starts) */
        size_t *stok = malloc((ns + 1) * sizeof *stok);
        for (size_t k = 0, w = 0; stok && k < ns; k++) {
            while (w + 1 < N && wpos[w + 1] <= ss[k]) w++;
            stok[k] = wtok[w];
        }
        /* RULER puts a needle before sentence int(n_sents * depth / 100); the sentences of a
         * licence text vary a lot in length, so we take the sentence start nearest to depth% of
         * the haystack's tokens instead, or, when that is more than 1% of the haystack away (a
         * long sentence), the nearest word start. */
        size_t *ss2 = realloc(ss, (ns + nn + 1) * sizeof *ss2), *st2 = realloc(stok, (ns + nn + 1) * sizeof *st2);
        if (ss2) ss = ss2;
        if (st2) stok = st2;
        for (size_t pass = 0; pass < 2 && ss2 && st2; pass++)
            for (size_t i = 0; i < nn; i++) {
                double target = (double)cum * dep[i] / 100.0;
                size_t best = ns;
                double bd = fabs((double)cum - target);
                for (size_t k = 0; k < ns; k++) {
                    double d = fabs((double)stok[k] - target);
                    if (d < bd) { bd = d; best = k; }
                }
                pos[i] = best;
                if (pass == 1 || bd <= 0.01 * (double)cum) continue;
                size_t bw = 0;
                for (size_t w = 0; w < N; w++)
                    if (fabs((double)wtok[w] - target) < fabs((double)wtok[bw] - target)) bw = w;
                size_t at = 0;
                while (at < ns && ss[at] < wpos[bw]) at++;
                if (at < ns && ss[at] == wpos[bw]) continue;
                memmove(ss + at + 1, ss + at, (ns - at) * sizeof *ss);
                memmove(stok + at + 1, stok + at, (ns - at) * sizeof *stok);
                ss[at] = wpos[bw];
                stok[at] = wtok[bw];
                ns++;
            }
        qsort(pos, nn, sizeof *pos, cmp_size);
        size_t last = 0;
        for (size_t i = 0; i <= nn; i++) {
            size_t next = i < nn ? pos[i] : ns;
            /* " ".join(document_sents[last:next]) then the needle, all joined by " " */
            if (i) sb_add(&ctx, " ", 1);
            if (next > last) {
                size_t from = ss[last], to = next < ns ? ss[next] : strlen(tx);
                while (to > from && tx[to - 1] == ' ') to--;
                sb_add(&ctx, tx + from, to - from);
            }
            if (i < nn) {
                sb_add(&ctx, " ", 1);
                sb_str(&ctx, needles[i]);
                b->needles[i] = strdup(needles[i]);
                b->depths[i] = cum && stok ? (double)(pos[i] < ns ? stok[pos[i]] : cum) / (double)cum : 0;
            }
            last = next;
        }
        free(ss); free(stok); free(wpos); free(wtok);
        free(tx);
    } else {
        /* noise / needle haystack: N sentences joined by "\n", needles inserted at sampled indexes */
        if (c->n_depths) for (size_t i = 0; i < nn; i++) pos[i] = (size_t)((double)N * c->depths[i % c->n_depths] / 100.0);
        else sample_range(&r, N, nn < N ? nn : N, pos);
        qsort(pos, nn, sizeof *pos, cmp_size);
        /* sentences.insert(index, needle) for zip(indexes sorted descending, needles): needle i
         * lands before original sentence pos[nn-1-i] */
        size_t first = 1;
        for (size_t s = 0; s <= N; s++) {
            for (size_t i = 0; i < nn; i++) {
                size_t at = pos[nn - 1 - i];   /* zip(indexes_desc, needles): needle i at i-th largest */
                if (at != s) continue;
                if (!first) sb_add(&ctx, "\n", 1);
                first = 0;
                sb_str(&ctx, needles[i]);
                b->needles[i] = strdup(needles[i]);
                b->depths[i] = N ? (double)at / (double)N : 0;
            }
            if (s == N) break;
            if (!first) sb_add(&ctx, "\n", 1);
            first = 0;
            if (!strcmp(t->haystack, "noise")) sb_str(&ctx, NOISE);
            else {
                char *k = gen_value(&r, t->type_k), *v = gen_value(&r, t->type_v);
                sb_printf(&ctx, "One of the special magic %s for %s is: %s.", t->type_v, k, v);
                free(k); free(v);
            }
        }
    }
    /* query and answer */
    size_t qi[64];
    sample_range(&r, nk, nq, qi);
    sbuf q = {0};
    for (size_t i = 0; i < nq; i++) {
        if (i) sb_str(&q, i + 1 == nq ? ", and " : ", ");
        sb_str(&q, keys[qi[i]]);
    }
    b->n_outputs = nq * nv;
    b->outputs = calloc(b->n_outputs, sizeof *b->outputs);
    for (size_t i = 0; i < nq; i++)
        for (size_t v = 0; v < nv; v++) b->outputs[i * nv + v] = strdup(vals[qi[i] * nv + v]);
    sbuf tt = {0};
    sb_str(&tt, NIAH_T);
    sb_str(&tt, NIAH_P);
    char *tmpl = sb_take(&tt);
    char type_v[32];
    snprintf(type_v, sizeof type_v, "%s", t->type_v);
    if (nq * nv == 1) {
        tmpl = replace_all(tmpl, "Some", "A");
        tmpl = replace_all(tmpl, "are all", "is");
        tmpl = replace_all(tmpl, "are", "is");
        tmpl = replace_all(tmpl, "answers", "answer");
        type_v[strlen(type_v) - 1] = 0;
    }
    char *context = sb_take(&ctx), *query = sb_take(&q);
    const char *names[] = {"type_needle_v", "context", "query"};
    const char *vals3[] = {type_v, context ? context : "", query ? query : ""};
    char *full = tmpl ? format_fields(tmpl, names, vals3, 3) : NULL;
    char *pt = tmpl ? format_fields(NIAH_P, names, vals3, 3) : NULL;   /* only its first 10 chars matter */
    int rc = full && pt ? 0 : -1;
    if (!rc) split_prefix(b, full, " The speci");
    else free(full);
    free(pt); free(tmpl); free(context); free(query); free(pos);
    for (size_t k = 0; k < nk; k++) free(keys[k]);
    for (size_t i = 0; i < nn; i++) { free(vals[i]); free((char *)needles[i]); }
    free(keys); free(vals); free(needles);
    return rc;
}

/* variable_tracking.py generate_chains + generate_input_output (noise haystack) */
static char *vt_body(rng *r, const ruler_task *t, size_t N, built *b, int record) {
    size_t nvars = (size_t)((t->num_hops + 1) * t->num_chains);
    char (*vars)[6] = calloc(nvars, sizeof *vars);
    for (size_t i = 0; i < nvars; i++) {
        int dup;
        do {
            for (int k = 0; k < 5; k++) vars[i][k] = (char)('A' + rng_below(r, 26));
            vars[i][5] = 0;
            dup = 0;
            for (size_t j = 0; j < i; j++) dup |= !strcmp(vars[j], vars[i]);
        } while (dup);
    }
    size_t hops = (size_t)t->num_hops, L = hops + 1;
    char value[16];
    snprintf(value, sizeof value, "%zu", (size_t)10000 + rng_below(r, 89999));
    /* sentences: N noise lines with each chain's lines inserted at sorted sampled positions */
    size_t total = N + L * (size_t)t->num_chains;
    const char **lines = calloc(total, sizeof *lines);
    char **owned = calloc(L * (size_t)t->num_chains, sizeof *owned);
    size_t n = N;
    for (size_t i = 0; i < N; i++) lines[i] = NOISE;
    size_t *positions = calloc(L, sizeof *positions);
    for (size_t ch = 0; ch < (size_t)t->num_chains; ch++) {
        sample_range(r, n, L < n ? L : n, positions);
        qsort(positions, L, sizeof *positions, cmp_size);
        for (size_t j = 0; j < L; j++) {
            sbuf s = {0};
            if (j == 0) sb_printf(&s, "VAR %s = %s", vars[ch * L], value);
            else sb_printf(&s, "VAR %s = VAR %s ", vars[ch * L + j], vars[ch * L + j - 1]);
            char *line = sb_take(&s);
            owned[ch * L + j] = line;
            size_t at = positions[j] + j;
            memmove(lines + at + 1, lines + at, (n - at) * sizeof *lines);
            lines[at] = line;
            n++;
        }
    }
    sbuf ctx = {0};
    for (size_t i = 0; i < n; i++) {
        if (i) sb_add(&ctx, "\n", 1);
        sb_str(&ctx, lines[i]);
    }
    if (record) {
        b->n_needles = L;
        b->needles = calloc(L, sizeof *b->needles);
        b->depths = calloc(L, sizeof *b->depths);
        for (size_t j = 0; j < L; j++) {
            b->needles[j] = strdup(owned[j]);
            for (size_t i = 0; i < n; i++)
                if (lines[i] == owned[j]) b->depths[j] = (double)i / (double)n;
        }
        b->n_outputs = L;
        b->outputs = calloc(L, sizeof *b->outputs);
        for (size_t j = 0; j < L; j++) b->outputs[j] = strdup(vars[j]);
    }
    char *context = replace_all(sb_take(&ctx), ". \n", ".\n");
    char num_v[16];
    snprintf(num_v, sizeof num_v, "%zu", L);
    sbuf tt = {0};
    sb_str(&tt, VT_T);
    sb_str(&tt, VT_P);
    char *tmpl = sb_take(&tt);
    const char *names[] = {"context", "query", "num_v"};
    const char *vals[] = {context ? context : "", value, num_v};
    char *full = tmpl ? format_fields(tmpl, names, vals, 3) : NULL;
    if (!record && full) {   /* ICL example: input + answer prefix + " " + answers + "\n" */
        sbuf s = {0};
        sb_str(&s, full);
        sb_str(&s, " ");
        for (size_t j = 0; j < L; j++) { if (j) sb_str(&s, " "); sb_str(&s, vars[j]); }
        sb_str(&s, "\n");
        free(full);
        full = sb_take(&s);
    }
    for (size_t i = 0; i < L * (size_t)t->num_chains; i++) free(owned[i]);
    free(owned); free(lines); free(positions); free(vars); free(tmpl); free(context);
    return full;
}

/* One-shot example as RULER makes it: a chain in a noise haystack fitting 500 tokens. */
static size_t vt_icl_units(ruler_ctx *c, const ruler_task *t, uint64_t seed);

static int build_vt(ruler_ctx *c, const ruler_task *t, uint64_t seed, size_t N, built *b) {
    rng ri = {seed ^ 0x1C1C1C1Cull};
    char *icl = vt_body(&ri, t, vt_icl_units(c, t, seed), NULL, 0);
    rng r = {seed};
    char *full = vt_body(&r, t, N, b, 1);
    if (!icl || !full) { free(icl); free(full); return -1; }
    sbuf s = {0};
    sb_str(&s, icl);
    sb_str(&s, "\n");
    sb_str(&s, full);
    free(icl); free(full);
    char *all = sb_take(&s);
    if (!all) return -1;
    split_prefix(b, all, VT_P);
    return 0;
}

static size_t count_tokens(ruler_ctx *c, const char *text);

static size_t vt_icl_units(ruler_ctx *c, const ruler_task *t, uint64_t seed) {
    size_t lo = 5, hi = 200, best = 5;
    while (lo <= hi) {
        size_t mid = (lo + hi) / 2;
        rng r = {seed ^ 0x1C1C1C1Cull};
        char *x = vt_body(&r, t, mid, NULL, 0);
        size_t n = x ? count_tokens(c, x) : (size_t)-1;
        free(x);
        if (n <= 500) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best;
}

/* common_words_extraction.py get_example + generate_input_output */
static char *cwe_example(rng *r, size_t num_words, size_t rep_c, size_t rep_u, size_t num_cw, char ***common_out) {
    size_t pool_n = ruler_nouns_n + ruler_adjectives_n + ruler_verbs_n;
    const char **words = calloc(num_words, sizeof *words);
    char **made = NULL;
    /* our lists first (shuffled), then pronounceable made-up words when more are needed (RULER
     * switches to a 10k+ English word list there); the list prefix is the same for every N, so the
     * prompt grows monotonically with N */
    const char **pool = calloc(pool_n, sizeof *pool);
    size_t k0 = 0;
    for (size_t i = 0; i < ruler_nouns_n; i++) pool[k0++] = ruler_nouns[i];
    for (size_t i = 0; i < ruler_adjectives_n; i++) pool[k0++] = ruler_adjectives[i];
    for (size_t i = 0; i < ruler_verbs_n; i++) pool[k0++] = ruler_verbs[i];
    shuffle_ptrs(r, pool, pool_n);
    size_t from_pool = num_words < pool_n ? num_words : pool_n;
    memcpy(words, pool, from_pool * sizeof *words);
    free(pool);
    if (num_words > pool_n) {
        static const char *syl[] = {"ba", "ko", "mi", "tu", "re", "sa", "lo", "ni", "de", "pu", "ga", "fe", "zo", "hi", "vu", "ra"};
        made = calloc(num_words - pool_n, sizeof *made);
        for (size_t i = 0; i < num_words - pool_n; i++) {
            size_t v = i;
            char buf[64] = "";
            size_t k = 0;
            do { k += (size_t)snprintf(buf + k, sizeof buf - k, "%s", syl[v % 16]); v /= 16; } while (v || k < 6);
            made[i] = strdup(buf);
            words[pool_n + i] = made[i];
        }
    }
    size_t total = num_cw * rep_c + (num_words - num_cw) * rep_u;
    const char **list = calloc(total, sizeof *list);
    size_t k = 0;
    for (size_t rr = 0; rr < rep_c; rr++) for (size_t i = 0; i < num_cw; i++) list[k++] = words[i];
    for (size_t rr = 0; rr < rep_u; rr++) for (size_t i = num_cw; i < num_words; i++) list[k++] = words[i];
    shuffle_ptrs(r, list, total);
    sbuf s = {0};
    for (size_t i = 0; i < total; i++) sb_printf(&s, i ? " %zu. %s" : "%zu. %s", i + 1, list[i]);
    *common_out = calloc(num_cw, sizeof **common_out);
    for (size_t i = 0; i < num_cw; i++) (*common_out)[i] = strdup(words[i]);
    if (made) for (size_t i = 0; i < num_words - pool_n; i++) free(made[i]);
    free(made); free(words); free(list);
    return sb_take(&s);
}

static int build_cwe(ruler_ctx *c, const ruler_task *t, uint64_t seed, size_t N, size_t length, built *b) {
    rng r = {seed};
    size_t num_cw = (size_t)t->num_cw;
    if (N < num_cw + 1) N = num_cw + 1;
    int small = length < 4096;
    char **ex_common, **common;
    char *ex = cwe_example(&r, small ? 20 : 40, small ? 3 : 10, small ? 1 : 3, num_cw, &ex_common);
    char *ctx = cwe_example(&r, N, small ? 6 : (size_t)t->freq_cw, small ? 1 : (size_t)t->freq_ucw, num_cw, &common);
    sbuf tt = {0};
    sb_str(&tt, CWE_T);
    sb_str(&tt, CWE_P);
    char *tmpl = sb_take(&tt);
    const char *names[] = {"context", "query"};
    const char *v1[] = {ex ? ex : "", ""}, *v2[] = {ctx ? ctx : "", ""};
    char *few = format_fields(tmpl, names, v1, 2), *main_ = format_fields(tmpl, names, v2, 2);
    sbuf s = {0};
    sb_str(&s, few);
    sb_str(&s, " ");
    for (size_t i = 0; i < num_cw; i++) sb_printf(&s, i ? " %zu. %s" : "%zu. %s", i + 1, ex_common[i]);
    sb_str(&s, "\n");
    sb_str(&s, main_);
    char *all = sb_take(&s);
    b->outputs = common;
    b->n_outputs = num_cw;
    for (size_t i = 0; i < num_cw; i++) free(ex_common[i]);
    free(ex_common); free(ex); free(ctx); free(tmpl); free(few); free(main_);
    if (!all) return -1;
    split_prefix(b, all, CWE_P);
    return 0;
}

/* freq_words_extraction.py generate_input_output: Zipf(alpha) counts over a coded vocabulary */
static int build_fwe(ruler_ctx *c, const ruler_task *t, uint64_t seed, size_t N, size_t length, built *b) {
    rng r = {seed};
    size_t budget = length > (size_t)t->tokens_to_generate ? length - (size_t)t->tokens_to_generate : 1;
    size_t V = budget / 50;
    if (V < 8) V = 8;
    char (*vocab)[8] = calloc(V, sizeof *vocab);
    const char **order = calloc(V, sizeof *order);
    for (size_t i = 0; i < V; i++) {
        int dup;
        do {
            for (int k = 0; k < 6; k++) vocab[i][k] = (char)('a' + rng_below(&r, 26));
            vocab[i][6] = 0;
            dup = 0;
            for (size_t j = 0; j < i && !dup; j++) dup = !strcmp(vocab[j], vocab[i]);
        } while (dup);
        order[i] = vocab[i];
    }
    shuffle_ptrs(&r, order, V);
    order[0] = "...";   /* the top-ranked word is noise */
    const double zeta = t->alpha == 2.0 ? M_PI * M_PI / 6.0 : 1.0;
    size_t total = 0;
    size_t *cnt = calloc(V, sizeof *cnt);
    for (size_t k = 0; k < V; k++) { cnt[k] = (size_t)((double)N * pow((double)(k + 1), -t->alpha) / zeta); total += cnt[k]; }
    const char **words = calloc(total + 1, sizeof *words);
    size_t w = 0;
    for (size_t k = 0; k < V; k++) for (size_t i = 0; i < cnt[k]; i++) words[w++] = order[k];
    shuffle_ptrs(&r, words, total);
    sbuf s = {0};
    for (size_t i = 0; i < total; i++) { if (i) sb_add(&s, " ", 1); sb_str(&s, words[i]); }
    char *ctx = sb_take(&s);
    sbuf tt = {0};
    sb_str(&tt, FWE_T);
    sb_str(&tt, FWE_P);
    char *tmpl = sb_take(&tt);
    const char *names[] = {"context", "query"};
    const char *vals[] = {ctx ? ctx : "", ""};
    char *all = format_fields(tmpl, names, vals, 2);
    b->n_outputs = 3;
    b->outputs = calloc(3, sizeof *b->outputs);
    for (int i = 0; i < 3; i++) b->outputs[i] = strdup(order[1 + i]);
    free(vocab); free(order); free(cnt); free(words); free(ctx); free(tmpl);
    if (!all) return -1;
    split_prefix(b, all, FWE_P);
    return 0;
}

static int build(ruler_ctx *c, const ruler_task *t, uint64_t seed, size_t N, size_t length, built *b) {
    memset(b, 0, sizeof *b);
    switch (t->kind) {
    case RULER_NIAH: return build_niah(c, t, seed, N, b);
    case RULER_VT: return build_vt(c, t, seed, N, b);
    case RULER_CWE: return build_cwe(c, t, seed, N, length, b);
    case RULER_FWE: return build_fwe(c, t, seed, N, length, b);
    }
    return -1;
}

static size_t count_tokens(ruler_ctx *c, const char *text) {
    int32_t *ids = NULL;
    size_t n = 0;
    char err[256];
    int rc = c->threads > 1 ? tok_encode_parallel(c->tok, text, strlen(text), 0, c->threads, &ids, &n, err, sizeof err)
                            : tok_encode(c->tok, text, strlen(text), 0, &ids, &n, err, sizeof err);
    free(ids);
    return rc ? (size_t)-1 : n;
}

/* Tokens of the whole prompt for N units (SIZE_MAX when it cannot be built). */
static size_t prompt_tokens_for(ruler_ctx *c, const ruler_task *t, uint64_t seed, size_t N, size_t length, built *keep) {
    built b;
    if (build(c, t, seed, N, length, &b)) { built_free(&b); return (size_t)-1; }
    char *p = eval_chat_render(b.input, b.prefix);
    size_t n = p ? count_tokens(c, p) : (size_t)-1;
    free(p);
    if (keep) *keep = b;
    else built_free(&b);
    return n;
}

int ruler_sample_make(ruler_ctx *c, const ruler_task *t, size_t length, size_t index, ruler_sample *out,
                      char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    uint64_t seed = hash_str(c->seed * 0x100000001B3ull + 1469598103934665603ull, t->name);
    seed = seed * 31 + length;
    seed = seed * 131 + index;
    const size_t gen = (size_t)t->tokens_to_generate;
    if (length <= gen) return lj_errf(err, errlen, "ruler %s: length %zu leaves no room for %zu output tokens", t->name, length, gen);
    const size_t budget = length - gen;
    /* bracket the number of units: grow until the prompt exceeds the budget */
    size_t lo = 1, hi = 16;
    size_t n_lo = prompt_tokens_for(c, t, seed, lo, length, NULL);
    if (n_lo == (size_t)-1) return lj_errf(err, errlen, "ruler %s: cannot build a sample (tokenizer error or out of memory)", t->name);
    if (n_lo > budget) return lj_errf(err, errlen, "ruler %s: even the smallest prompt (%zu tokens) exceeds length %zu", t->name, n_lo + gen, length);
    for (;;) {
        size_t n = prompt_tokens_for(c, t, seed, hi, length, NULL);
        if (n == (size_t)-1) return lj_errf(err, errlen, "ruler %s: cannot build a sample of %zu units", t->name, hi);
        if (n > budget) break;
        lo = hi;
        /* extrapolate from tokens per unit, with margin, to keep the search short */
        double per = (double)(n - n_lo) / (double)(hi - 1 > 0 ? hi - 1 : 1);
        size_t guess = per > 0 ? (size_t)((double)(budget - n_lo) / per * 1.05) + 2 : hi * 2;
        hi = guess > hi ? guess : hi * 2;
    }
    while (hi - lo > 1) {   /* invariant: lo fits, hi does not */
        size_t mid = lo + (hi - lo) / 2;
        size_t n = prompt_tokens_for(c, t, seed, mid, length, NULL);
        if (n != (size_t)-1 && n <= budget) lo = mid; else hi = mid;
    }
    built b;
    size_t n = prompt_tokens_for(c, t, seed, lo, length, &b);
    if (n == (size_t)-1) return lj_errf(err, errlen, "ruler %s: cannot build the sample", t->name);
    out->input = b.input;
    out->answer_prefix = b.prefix;
    out->prompt = eval_chat_render(b.input, b.prefix);
    out->outputs = b.outputs; out->n_outputs = b.n_outputs;
    out->needles = b.needles; out->depths = b.depths; out->n_needles = b.n_needles;
    out->prompt_tokens = n;
    out->length = n + gen;
    out->haystack_units = lo;
    if (!out->prompt) { ruler_sample_free(out); return lj_errf(err, errlen, "ruler: out of memory"); }
    return 0;
}
