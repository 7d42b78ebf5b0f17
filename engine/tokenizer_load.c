/* Reads tokenizer.json (jansson) into the tokenizer structures. Every component type that is not
 * implemented is an error naming it: nothing is silently ignored. */
#include "engine/tokenizer_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) { memcpy(d, s, n); d[n] = 0; }
    return d;
}

static int get_bool(json_t *o, const char *key, int def) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return def;
    return json_is_true(v);
}

static const char *type_of(json_t *o) {
    json_t *t = json_object_get(o, "type");
    return json_is_string(t) ? json_string_value(t) : NULL;
}

/* {"String": "..."} or {"Regex": "..."} */
static int parse_pattern(json_t *o, tk_pattern *p, const char *what, char *err, size_t errlen) {
    json_t *s = json_object_get(o, "String"), *r = json_object_get(o, "Regex");
    if (json_is_string(s)) {
        p->is_regex = 0;
        p->lit_len = json_string_length(s);
        p->lit = dup_n(json_string_value(s), p->lit_len);
        return p->lit ? 0 : lj_errf(err, errlen, "out of memory");
    }
    if (json_is_string(r)) {
        if (tk_pattern_compile_regex(p, json_string_value(r), err, errlen)) return lj_err_prefix(err, errlen, "%s", what);
        return 0;
    }
    return lj_errf(err, errlen, "%s: pattern must be {\"String\": ...} or {\"Regex\": ...}", what);
}

/* A one-character string (Metaspace replacement, Strip content). */
static int one_char(json_t *v, uint32_t *c, char *buf, size_t *len, const char *what, char *err, size_t errlen) {
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 4)
        return lj_errf(err, errlen, "%s: expected a one-character string", what);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), l;
    *c = tk_utf8_next(s, n, &l);
    if (l != n) return lj_errf(err, errlen, "%s: expected a one-character string", what);
    if (buf) { memcpy(buf, s, n); *len = n; }
    return 0;
}

static int parse_prepend_scheme(json_t *o, int *scheme, const char *what, char *err, size_t errlen) {
    json_t *ps = json_object_get(o, "prepend_scheme");
    if (json_is_string(ps)) {
        const char *s = json_string_value(ps);
        if (!strcmp(s, "always")) *scheme = PREPEND_ALWAYS;
        else if (!strcmp(s, "first")) *scheme = PREPEND_FIRST;
        else if (!strcmp(s, "never")) *scheme = PREPEND_NEVER;
        else return lj_errf(err, errlen, "%s: unknown prepend_scheme '%s'", what, s);
    } else {
        /* older files: add_prefix_space */
        *scheme = get_bool(o, "add_prefix_space", 1) ? PREPEND_ALWAYS : PREPEND_NEVER;
    }
    return 0;
}

/* ---- normalizers ------------------------------------------------------------------------------------ */
static int parse_normalizer(json_t *o, tk_normalizer *nm, char *err, size_t errlen) {
    const char *t = type_of(o);
    if (!t) return lj_errf(err, errlen, "normalizer: missing \"type\"");
    if (!strcmp(t, "Sequence")) {
        nm->type = NORM_SEQUENCE;
        json_t *a = json_object_get(o, "normalizers");
        if (!json_is_array(a)) return lj_errf(err, errlen, "normalizer Sequence: missing \"normalizers\"");
        nm->items = calloc(json_array_size(a) + 1, sizeof *nm->items);
        if (!nm->items) return lj_errf(err, errlen, "out of memory");
        for (size_t i = 0; i < json_array_size(a); i++) {
            nm->n_items = i + 1;
            if (parse_normalizer(json_array_get(a, i), &nm->items[i], err, errlen)) return -1;
        }
        return 0;
    }
    if (!strcmp(t, "Prepend") || !strcmp(t, "Replace")) {
        int prep = t[0] == 'P';
        nm->type = prep ? NORM_PREPEND : NORM_REPLACE;
        json_t *c = json_object_get(o, prep ? "prepend" : "content");
        if (!json_is_string(c)) return lj_errf(err, errlen, "normalizer %s: missing \"%s\"", t, prep ? "prepend" : "content");
        nm->content_len = json_string_length(c);
        if (!(nm->content = dup_n(json_string_value(c), nm->content_len))) return lj_errf(err, errlen, "out of memory");
        if (!prep) return parse_pattern(json_object_get(o, "pattern"), &nm->pattern, "normalizer Replace", err, errlen);
        return 0;
    }
    static const struct { const char *name; int type; } simple[] = {
        {"NFC", NORM_NFC}, {"NFKC", NORM_NFKC}, {"NFD", NORM_NFD}, {"NFKD", NORM_NFKD},
        {"Lowercase", NORM_LOWERCASE}, {"StripAccents", NORM_STRIP_ACCENTS}, {"ByteLevel", NORM_BYTELEVEL}};
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (!strcmp(t, simple[i].name)) { nm->type = simple[i].type; return 0; }
    if (!strcmp(t, "Strip")) {
        nm->type = NORM_STRIP;
        nm->left = get_bool(o, "strip_left", 1);
        nm->right = get_bool(o, "strip_right", 1);
        return 0;
    }
    return lj_errf(err, errlen, "unsupported normalizer '%s'", t);
}

/* ---- pre-tokenizers ---------------------------------------------------------------------------------- */
static int parse_behavior(json_t *o, int def, int *out, const char *what, char *err, size_t errlen) {
    json_t *b = json_object_get(o, "behavior");
    if (!b || json_is_null(b)) { *out = def; return 0; }
    static const char *names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
    const char *s = json_is_string(b) ? json_string_value(b) : "";
    for (int i = 0; i < 5; i++) if (!strcmp(s, names[i])) { *out = i; return 0; }
    return lj_errf(err, errlen, "%s: unknown behavior '%s'", what, s);
}

static int parse_pretok(json_t *o, tk_pretok *pt, char *err, size_t errlen) {
    const char *t = type_of(o);
    if (!t) return lj_errf(err, errlen, "pre_tokenizer: missing \"type\"");
    if (!strcmp(t, "Sequence")) {
        pt->type = PT_SEQUENCE;
        json_t *a = json_object_get(o, "pretokenizers");
        if (!json_is_array(a)) return lj_errf(err, errlen, "pre_tokenizer Sequence: missing \"pretokenizers\"");
        pt->items = calloc(json_array_size(a) + 1, sizeof *pt->items);
        if (!pt->items) return lj_errf(err, errlen, "out of memory");
        for (size_t i = 0; i < json_array_size(a); i++) {
            pt->n_items = i + 1;
            if (parse_pretok(json_array_get(a, i), &pt->items[i], err, errlen)) return -1;
        }
        return 0;
    }
    if (!strcmp(t, "Metaspace")) {
        pt->type = PT_METASPACE;
        if (one_char(json_object_get(o, "replacement"), &pt->rep_char, pt->rep, &pt->rep_len,
                     "pre_tokenizer Metaspace replacement", err, errlen)) return -1;
        pt->split = get_bool(o, "split", 1);
        return parse_prepend_scheme(o, &pt->prepend_scheme, "pre_tokenizer Metaspace", err, errlen);
    }
    if (!strcmp(t, "Split")) {
        pt->type = PT_SPLIT;
        pt->invert = get_bool(o, "invert", 0);
        if (parse_behavior(o, SPLIT_REMOVED, &pt->behavior, "pre_tokenizer Split", err, errlen)) return -1;
        if (!json_object_get(o, "behavior")) return lj_errf(err, errlen, "pre_tokenizer Split: missing \"behavior\"");
        return parse_pattern(json_object_get(o, "pattern"), &pt->pattern, "pre_tokenizer Split", err, errlen);
    }
    if (!strcmp(t, "Digits")) { pt->type = PT_DIGITS; pt->individual_digits = get_bool(o, "individual_digits", 0); return 0; }
    if (!strcmp(t, "ByteLevel")) {
        pt->type = PT_BYTELEVEL;
        pt->add_prefix_space = get_bool(o, "add_prefix_space", 1);
        pt->use_regex = get_bool(o, "use_regex", 1);
        return 0;
    }
    if (!strcmp(t, "Whitespace")) { pt->type = PT_WHITESPACE; return 0; }
    if (!strcmp(t, "WhitespaceSplit")) { pt->type = PT_WHITESPACE_SPLIT; return 0; }
    if (!strcmp(t, "Punctuation")) {
        pt->type = PT_PUNCTUATION;
        return parse_behavior(o, SPLIT_ISOLATED, &pt->behavior, "pre_tokenizer Punctuation", err, errlen);
    }
    if (!strcmp(t, "CharDelimiterSplit")) {
        pt->type = PT_CHAR_DELIMITER;
        return one_char(json_object_get(o, "delimiter"), &pt->rep_char, NULL, NULL,
                        "pre_tokenizer CharDelimiterSplit delimiter", err, errlen);
    }
    return lj_errf(err, errlen, "unsupported pre_tokenizer '%s'", t);
}

/* ---- post-processors ---------------------------------------------------------------------------------- */
static int token_pair(json_t *v, const char *what, int32_t *id, char *err, size_t errlen) {
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(json_array_get(v, 1)))
        return lj_errf(err, errlen, "post_processor: \"%s\" must be [token, id]", what);
    *id = (int32_t)json_integer_value(json_array_get(v, 1));
    return 0;
}

static int parse_postproc(json_t *o, tk_postproc *pp, char *err, size_t errlen) {
    const char *t = type_of(o);
    if (!t) return lj_errf(err, errlen, "post_processor: missing \"type\"");
    if (!strcmp(t, "ByteLevel")) { pp->type = PP_BYTELEVEL; return 0; }
    if (!strcmp(t, "Sequence")) {
        pp->type = PP_SEQUENCE;
        json_t *a = json_object_get(o, "processors");
        if (!json_is_array(a)) return lj_errf(err, errlen, "post_processor Sequence: missing \"processors\"");
        pp->items = calloc(json_array_size(a) + 1, sizeof *pp->items);
        if (!pp->items) return lj_errf(err, errlen, "out of memory");
        for (size_t i = 0; i < json_array_size(a); i++) {
            pp->n_items = i + 1;
            if (parse_postproc(json_array_get(a, i), &pp->items[i], err, errlen)) return -1;
        }
        return 0;
    }
    if (!strcmp(t, "BertProcessing") || !strcmp(t, "RobertaProcessing")) {
        pp->type = t[0] == 'B' ? PP_BERT : PP_ROBERTA;
        if (token_pair(json_object_get(o, "cls"), "cls", &pp->cls_id, err, errlen)) return -1;
        return token_pair(json_object_get(o, "sep"), "sep", &pp->sep_id, err, errlen);
    }
    if (!strcmp(t, "TemplateProcessing")) {
        pp->type = PP_TEMPLATE;
        json_t *single = json_object_get(o, "single"), *specials = json_object_get(o, "special_tokens");
        if (!json_is_array(single)) return lj_errf(err, errlen, "post_processor TemplateProcessing: missing \"single\"");
        pp->single = calloc(json_array_size(single) + 1, sizeof *pp->single);
        if (!pp->single) return lj_errf(err, errlen, "out of memory");
        for (size_t i = 0; i < json_array_size(single); i++) {
            json_t *it = json_array_get(single, i);
            pp->n_single = i + 1;
            if (json_object_get(it, "Sequence")) { pp->single[i].seq = 1; continue; }
            json_t *sp = json_object_get(it, "SpecialToken");
            const char *name = json_string_value(json_object_get(sp, "id"));
            if (!name) return lj_errf(err, errlen, "post_processor TemplateProcessing: bad item %zu in \"single\"", i);
            json_t *ids = json_object_get(json_object_get(specials, name), "ids");
            if (!json_is_array(ids))
                return lj_errf(err, errlen, "post_processor TemplateProcessing: special token '%s' missing from \"special_tokens\"", name);
            pp->single[i].n_ids = json_array_size(ids);
            pp->single[i].ids = calloc(pp->single[i].n_ids + 1, sizeof(int32_t));
            if (!pp->single[i].ids) return lj_errf(err, errlen, "out of memory");
            for (size_t k = 0; k < pp->single[i].n_ids; k++) pp->single[i].ids[k] = (int32_t)json_integer_value(json_array_get(ids, k));
        }
        return 0;
    }
    return lj_errf(err, errlen, "unsupported post_processor '%s'", t);
}

void tk_postproc_free(tk_postproc *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n_items; i++) tk_postproc_free(&p->items[i]);
    free(p->items);
    for (size_t i = 0; i < p->n_single; i++) free(p->single[i].ids);
    free(p->single);
}

/* ---- decoders ------------------------------------------------------------------------------------------ */
static int parse_decoder(json_t *o, tk_decoder *d, char *err, size_t errlen) {
    const char *t = type_of(o);
    if (!t) return lj_errf(err, errlen, "decoder: missing \"type\"");
    if (!strcmp(t, "Sequence")) {
        d->type = DEC_SEQUENCE;
        json_t *a = json_object_get(o, "decoders");
        if (!json_is_array(a)) return lj_errf(err, errlen, "decoder Sequence: missing \"decoders\"");
        d->items = calloc(json_array_size(a) + 1, sizeof *d->items);
        if (!d->items) return lj_errf(err, errlen, "out of memory");
        for (size_t i = 0; i < json_array_size(a); i++) {
            d->n_items = i + 1;
            if (parse_decoder(json_array_get(a, i), &d->items[i], err, errlen)) return -1;
        }
        return 0;
    }
    if (!strcmp(t, "Replace")) {
        d->type = DEC_REPLACE;
        json_t *c = json_object_get(o, "content");
        if (!json_is_string(c)) return lj_errf(err, errlen, "decoder Replace: missing \"content\"");
        d->content_len = json_string_length(c);
        if (!(d->content = dup_n(json_string_value(c), d->content_len))) return lj_errf(err, errlen, "out of memory");
        return parse_pattern(json_object_get(o, "pattern"), &d->pattern, "decoder Replace", err, errlen);
    }
    if (!strcmp(t, "ByteFallback")) { d->type = DEC_BYTEFALLBACK; return 0; }
    if (!strcmp(t, "Fuse")) { d->type = DEC_FUSE; return 0; }
    if (!strcmp(t, "ByteLevel")) { d->type = DEC_BYTELEVEL; return 0; }
    if (!strcmp(t, "Strip")) {
        d->type = DEC_STRIP;
        if (one_char(json_object_get(o, "content"), &d->strip_char, NULL, NULL, "decoder Strip content", err, errlen)) return -1;
        json_t *a = json_object_get(o, "start"), *b = json_object_get(o, "stop");
        if (!json_is_integer(a) || !json_is_integer(b) || json_integer_value(a) < 0 || json_integer_value(b) < 0)
            return lj_errf(err, errlen, "decoder Strip: \"start\" and \"stop\" must be non-negative integers");
        d->start = (size_t)json_integer_value(a); d->stop = (size_t)json_integer_value(b);
        return 0;
    }
    if (!strcmp(t, "Metaspace")) {
        d->type = DEC_METASPACE;
        if (one_char(json_object_get(o, "replacement"), &d->rep_char, NULL, NULL, "decoder Metaspace replacement", err, errlen)) return -1;
        return parse_prepend_scheme(o, &d->prepend_scheme, "decoder Metaspace", err, errlen);
    }
    return lj_errf(err, errlen, "unsupported decoder '%s'", t);
}

void tk_decoder_free(tk_decoder *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n_items; i++) tk_decoder_free(&d->items[i]);
    free(d->items); free(d->content);
    tk_pattern_free(&d->pattern);
}

/* ---- model ---------------------------------------------------------------------------------------------- */
static int parse_model(json_t *o, tk_bpe *m, char *err, size_t errlen) {
    if (!json_is_object(o)) return lj_errf(err, errlen, "missing \"model\"");
    const char *t = type_of(o);
    if (t && strcmp(t, "BPE")) return lj_errf(err, errlen, "unsupported model '%s' (only BPE)", t);
    json_t *vocab = json_object_get(o, "vocab"), *merges = json_object_get(o, "merges");
    if (!json_is_object(vocab)) return lj_errf(err, errlen, "model: missing \"vocab\"");
    if (!json_is_array(merges)) return lj_errf(err, errlen, "model: missing \"merges\"%s", t ? "" : " (only BPE models are supported)");
    json_t *dropout = json_object_get(o, "dropout");
    if (dropout && !json_is_null(dropout) && !(json_is_number(dropout) && json_number_value(dropout) == 0.0))
        return lj_errf(err, errlen, "model: BPE dropout is not supported (must be null)");
    m->fuse_unk = get_bool(o, "fuse_unk", 0);
    m->byte_fallback = get_bool(o, "byte_fallback", 0);
    m->ignore_merges = get_bool(o, "ignore_merges", 0);
    json_t *v;
    /* an empty prefix or suffix (GPT-2's files have "") is the same as none */
    if (json_is_string(v = json_object_get(o, "continuing_subword_prefix")) && json_string_length(v)) {
        m->prefix_len = json_string_length(v); m->prefix = dup_n(json_string_value(v), m->prefix_len);
    }
    if (json_is_string(v = json_object_get(o, "end_of_word_suffix")) && json_string_length(v)) {
        m->suffix_len = json_string_length(v); m->suffix = dup_n(json_string_value(v), m->suffix_len);
    }
    /* vocab: ids may have gaps; n_vocab = max id + 1 */
    const char *key; json_t *val;
    int64_t max_id = -1;
    json_object_foreach(vocab, key, val) {
        if (!json_is_integer(val) || json_integer_value(val) < 0 || json_integer_value(val) > INT32_MAX - 1)
            return lj_errf(err, errlen, "model: vocab entry '%s' has no valid id", key);
        if (json_integer_value(val) > max_id) max_id = json_integer_value(val);
    }
    m->n_vocab = (size_t)(max_id + 1);
    m->id_to_tok = calloc(m->n_vocab + 1, sizeof *m->id_to_tok);
    m->tok_len = calloc(m->n_vocab + 1, sizeof *m->tok_len);
    if (!m->id_to_tok || !m->tok_len) return lj_errf(err, errlen, "out of memory");
    /* jansson keys are NUL-terminated: a key with an embedded NUL is cut (never in real files) */
    json_object_foreach(vocab, key, val) {
        size_t id = (size_t)json_integer_value(val), n = strlen(key);
        if (m->id_to_tok[id]) free(m->id_to_tok[id]);
        if (!(m->id_to_tok[id] = dup_n(key, n))) return lj_errf(err, errlen, "out of memory");
        m->tok_len[id] = n;
    }
    json_object_foreach(vocab, key, val) {
        size_t id = (size_t)json_integer_value(val);
        if (tk_strmap_put(&m->vocab, m->id_to_tok[id], m->tok_len[id], (int32_t)id)) return lj_errf(err, errlen, "out of memory");
    }
    m->unk_id = -1;
    if (json_is_string(v = json_object_get(o, "unk_token"))) {
        m->unk_token = dup_n(json_string_value(v), json_string_length(v));
        m->unk_id = tk_strmap_get(&m->vocab, m->unk_token, strlen(m->unk_token));
    }
    /* merges: "a b" strings or ["a", "b"] pairs; rank = position (after "#version" lines) */
    size_t rank = 0;
    char *buf = NULL; size_t bufcap = 0;
    for (size_t i = 0; i < json_array_size(merges); i++) {
        json_t *mg = json_array_get(merges, i);
        const char *a, *b; size_t al, bl;
        if (json_is_string(mg)) {
            const char *s = json_string_value(mg);
            if (!strncmp(s, "#version", 8)) continue;
            const char *sp = strchr(s, ' ');
            if (!sp || strchr(sp + 1, ' ')) { free(buf); return lj_errf(err, errlen, "model: merge %zu ('%s') is not two tokens separated by one space", i, s); }
            a = s; al = (size_t)(sp - s); b = sp + 1; bl = strlen(b);
        } else if (json_is_array(mg) && json_array_size(mg) == 2 && json_is_string(json_array_get(mg, 0)) &&
                   json_is_string(json_array_get(mg, 1))) {
            a = json_string_value(json_array_get(mg, 0)); al = json_string_length(json_array_get(mg, 0));
            b = json_string_value(json_array_get(mg, 1)); bl = json_string_length(json_array_get(mg, 1));
        } else { free(buf); return lj_errf(err, errlen, "model: merge %zu is neither \"a b\" nor [\"a\", \"b\"]", i); }
        int32_t ia = tk_strmap_get(&m->vocab, a, al), ib = tk_strmap_get(&m->vocab, b, bl);
        if (ia < 0 || ib < 0) {
            int bad_a = ia < 0;
            int rc = lj_errf(err, errlen, "model: merge %zu names token '%.*s' that is not in the vocab", i,
                             (int)(bad_a ? al : bl), bad_a ? a : b);
            free(buf);
            return rc;
        }
        size_t skip = m->prefix ? m->prefix_len : 0;
        if (skip > bl) skip = bl;
        size_t nl = al + bl - skip;
        if (nl + 1 > bufcap) { bufcap = 2 * nl + 16; char *nb = realloc(buf, bufcap); if (!nb) { free(buf); return lj_errf(err, errlen, "out of memory"); } buf = nb; }
        memcpy(buf, a, al); memcpy(buf + al, b + skip, bl - skip);
        int32_t in = tk_strmap_get(&m->vocab, buf, nl);
        if (in < 0) {
            int rc = lj_errf(err, errlen, "model: merge %zu makes token '%.*s' that is not in the vocab", i, (int)nl, buf);
            free(buf);
            return rc;
        }
        if (tk_bpe_add_merge(m, ia, ib, (int32_t)rank, in)) { free(buf); return lj_errf(err, errlen, "out of memory"); }
        rank++;
    }
    free(buf);
    return tk_bpe_finish_load(m, err, errlen);
}

/* ---- added tokens ----------------------------------------------------------------------------------------- */
static int parse_added(lj_tokenizer *t, json_t *arr, char *err, size_t errlen) {
    if (!arr || json_is_null(arr)) return 0;
    if (!json_is_array(arr)) return lj_errf(err, errlen, "\"added_tokens\" must be an array");
    t->added = calloc(json_array_size(arr) + 1, sizeof *t->added);
    if (!t->added) return lj_errf(err, errlen, "out of memory");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i), *c = json_object_get(o, "content"), *id = json_object_get(o, "id");
        if (!json_is_string(c) || !json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) > INT32_MAX - 1)
            return lj_errf(err, errlen, "added_tokens[%zu]: needs \"content\" and a valid \"id\"", i);
        tk_added *a = &t->added[t->n_added++];
        a->len = json_string_length(c);
        if (!(a->content = dup_n(json_string_value(c), a->len))) return lj_errf(err, errlen, "out of memory");
        a->id = (int32_t)json_integer_value(id);
        a->special = get_bool(o, "special", 0);
        a->lstrip = get_bool(o, "lstrip", 0);
        a->rstrip = get_bool(o, "rstrip", 0);
        a->single_word = get_bool(o, "single_word", 0);
        a->normalized = get_bool(o, "normalized", !a->special);
    }
    return 0;
}

int tk_load_json(lj_tokenizer *t, const char *path, char *err, size_t errlen) {
    json_error_t je;
    json_t *root = json_load_file(path, JSON_ALLOW_NUL, &je);
    if (!root) return lj_errf(err, errlen, "%s: line %d column %d: %s", path, je.line, je.column, je.text);
    int rc = -1;
    if (!json_is_object(root)) { lj_errf(err, errlen, "%s: not a JSON object", path); goto done; }
    json_t *v;
    if ((v = json_object_get(root, "truncation")) && !json_is_null(v)) { lj_errf(err, errlen, "%s: \"truncation\" is not supported (must be null)", path); goto done; }
    if ((v = json_object_get(root, "padding")) && !json_is_null(v)) { lj_errf(err, errlen, "%s: \"padding\" is not supported (must be null)", path); goto done; }
    if (parse_model(json_object_get(root, "model"), &t->bpe, err, errlen)) goto fail;
    if (parse_added(t, json_object_get(root, "added_tokens"), err, errlen)) goto fail;
    if ((v = json_object_get(root, "normalizer")) && !json_is_null(v)) {
        if (!(t->normalizer = calloc(1, sizeof *t->normalizer)) || parse_normalizer(v, t->normalizer, err, errlen)) goto fail;
    }
    if ((v = json_object_get(root, "pre_tokenizer")) && !json_is_null(v)) {
        if (!(t->pretok = calloc(1, sizeof *t->pretok)) || parse_pretok(v, t->pretok, err, errlen)) goto fail;
    }
    if ((v = json_object_get(root, "post_processor")) && !json_is_null(v)) {
        if (!(t->postproc = calloc(1, sizeof *t->postproc)) || parse_postproc(v, t->postproc, err, errlen)) goto fail;
    }
    if ((v = json_object_get(root, "decoder")) && !json_is_null(v)) {
        if (!(t->decoder = calloc(1, sizeof *t->decoder)) || parse_decoder(v, t->decoder, err, errlen)) goto fail;
    }
    rc = 0;
    goto done;
fail:
    lj_err_prefix(err, errlen, "%s", path);
done:
    json_decref(root);
    return rc;
}
