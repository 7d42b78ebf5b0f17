/* Internals of the tokenizer (engine/tokenizer*.c). Not a public API.
 *
 * Encoding follows Hugging Face `tokenizers` step by step:
 *   1. split the raw text on added tokens that are not `normalized`;
 *   2. normalize every other piece, then split it on `normalized` added tokens;
 *   3. run the pre-tokenizer over the pieces that are not added tokens;
 *   4. run the BPE model over each remaining piece;
 *   5. post-process (TemplateProcessing etc.) when special tokens are asked for.
 * Pieces live in one growable byte arena (tk_buf) and point into it by offset. */
#ifndef LJ_ENGINE_TOKENIZER_INTERNAL_H
#define LJ_ENGINE_TOKENIZER_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/tokenizer.h"

/* ---- growable buffers ---------------------------------------------------------------------- */
typedef struct tk_buf { char *p; size_t len, cap; } tk_buf;
int tk_buf_reserve(tk_buf *b, size_t extra);
int tk_buf_append(tk_buf *b, const void *s, size_t n);

/* A piece of text during encoding: bytes [off, off+len) of the arena, or an added token (id >= 0).
 * z: how many leading bytes of the piece map to byte 0 of the original text (0 when none). A piece
 * with z > 0 "starts the text" for Metaspace prepend_scheme "first", as `tokenizers` decides by
 * the piece's original offset (text a normalizer prepends maps to the first character). */
typedef struct tk_piece { size_t off, len; int32_t id; size_t z; } tk_piece;
typedef struct tk_pieces { tk_piece *v; size_t n, cap; } tk_pieces;
int tk_pieces_push(tk_pieces *ps, size_t off, size_t len, int32_t id, size_t z);
/* z of a sub-piece that starts `a` bytes into a piece whose z is `z` */
static inline size_t tk_zsub(size_t z, size_t a) { return z > a ? z - a : 0; }

typedef struct tk_ids { int32_t *v; size_t n, cap; } tk_ids;
int tk_ids_push(tk_ids *ids, int32_t id);

/* ---- UTF-8 and character classes (engine/tokenizer_unicode.c) ------------------------------- */
/* Decodes one code point at s[0..n) (n >= 1, input already validated); *len gets its byte count. */
uint32_t tk_utf8_next(const char *s, size_t n, size_t *len);
size_t tk_utf8_put(uint32_t c, char *out);                  /* out needs 4 bytes; returns count */
/* Byte offset of the first invalid UTF-8 sequence (Rust's rules: no overlongs, no surrogates,
 * nothing above U+10FFFF), or (size_t)-1 when valid. */
size_t tk_utf8_invalid_at(const char *s, size_t n);
int tk_is_whitespace(uint32_t c);     /* Rust char::is_whitespace (White_Space) */
int tk_is_word(uint32_t c);           /* regex \w (Unicode) */
int tk_is_punctuation(uint32_t c);    /* ASCII punctuation or Unicode P* */
int tk_is_alnum(uint32_t c);          /* letters and numbers */

/* ---- patterns (literal string or PCRE2 regex) ------------------------------------------------ */
typedef struct tk_pattern {
    int is_regex;
    char *lit; size_t lit_len;          /* literal; owned */
    pcre2_code *re;                     /* owned */
} tk_pattern;
/* Calls fn(start, end, ctx) for each non-overlapping match in s[0..n), left to right. */
typedef int (*tk_match_fn)(size_t start, size_t end, void *ctx);
int tk_pattern_each(const tk_pattern *p, const char *s, size_t n, tk_match_fn fn, void *ctx);
/* The same callbacks in the same order, the search spread over `threads` threads (long texts). */
int tk_pattern_each_par(const tk_pattern *p, const char *s, size_t n, int threads, tk_match_fn fn, void *ctx);
int tk_pattern_compile_regex(tk_pattern *p, const char *src, char *err, size_t errlen);
void tk_pattern_free(tk_pattern *p);

/* ---- normalizers (engine/tokenizer_normalize.c) ---------------------------------------------- */
enum { NORM_SEQUENCE, NORM_PREPEND, NORM_REPLACE, NORM_NFC, NORM_NFKC, NORM_NFD, NORM_NFKD,
       NORM_LOWERCASE, NORM_STRIP, NORM_STRIP_ACCENTS, NORM_BYTELEVEL };
typedef struct tk_normalizer {
    int type;
    struct tk_normalizer *items; size_t n_items;      /* Sequence */
    char *content; size_t content_len;                /* Prepend / Replace */
    tk_pattern pattern;                               /* Replace */
    int left, right;                                  /* Strip */
} tk_normalizer;
/* Normalizes s[0..n) and appends the result to out. *z (in/out): leading bytes that map to the
 * original text's byte 0 (see tk_piece). */
int tk_normalize(const tk_normalizer *nm, const char *s, size_t n, tk_buf *out, size_t *z, char *err, size_t errlen);
void tk_normalizer_free(tk_normalizer *nm);

/* ---- pre-tokenizers (engine/tokenizer_pretok.c) ---------------------------------------------- */
enum { PT_SEQUENCE, PT_METASPACE, PT_SPLIT, PT_DIGITS, PT_BYTELEVEL, PT_WHITESPACE,
       PT_WHITESPACE_SPLIT, PT_PUNCTUATION, PT_CHAR_DELIMITER };
enum { SPLIT_REMOVED, SPLIT_ISOLATED, SPLIT_MERGED_PREV, SPLIT_MERGED_NEXT, SPLIT_CONTIGUOUS };
enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER };
typedef struct tk_pretok {
    int type;
    struct tk_pretok *items; size_t n_items;          /* Sequence */
    char rep[8]; size_t rep_len; uint32_t rep_char;   /* Metaspace replacement / delimiter */
    int prepend_scheme, split;                        /* Metaspace */
    tk_pattern pattern; int behavior, invert;         /* Split (behavior also Punctuation) */
    int individual_digits;                            /* Digits */
    int add_prefix_space, use_regex;                  /* ByteLevel */
} tk_pretok;
/* Pre-tokenizes the pieces of `in` (added tokens pass through) into `out`; new text goes to arena. */
int tk_pretokenize(const tk_pretok *pt, tk_buf *arena, const tk_pieces *in, tk_pieces *out,
                   int threads, char *err, size_t errlen);
void tk_pretok_free(tk_pretok *pt);
extern const pcre2_code *tk_bytelevel_regex(void);
/* GPT-2 bytes_to_unicode: UTF-8 of the char for byte b (1 or 2 bytes). */
void tk_bytelevel_char(uint8_t b, char out[2], size_t *len);
/* The same as a table (filled by tk_bytelevel_init, which tok_load calls). */
extern uint8_t tk_bl_utf8[256][2], tk_bl_len[256];
void tk_bytelevel_init(void);
int tk_bytelevel_byte(uint32_t c);        /* inverse: byte for char, or -1 */

/* ---- BPE model (engine/tokenizer_bpe.c) -------------------------------------------------------- */
typedef struct tk_strmap {                /* string -> int32, open addressing */
    uint32_t *slots; size_t mask;         /* slot: index+1 into keys, 0 = empty */
    const char **keys; size_t *key_lens; int32_t *vals; size_t n, cap;
} tk_strmap;
int tk_strmap_put(tk_strmap *m, const char *key, size_t len, int32_t val);   /* key not copied */
int32_t tk_strmap_get(const tk_strmap *m, const char *key, size_t len);      /* -1 if absent */
void tk_strmap_free(tk_strmap *m);
uint64_t tk_hash(const char *s, size_t n);

typedef struct tk_merge { uint64_t key; int32_t rank, new_id; } tk_merge;
typedef struct tk_cache tk_cache;

typedef struct tk_bpe {
    char **id_to_tok; size_t *tok_len; size_t n_vocab;  /* model vocab, index = id (NULL: gap) */
    tk_strmap vocab;
    tk_merge *merges; size_t merge_mask;               /* open addressing on (left<<32 | right) */
    size_t n_merges;
    int32_t unk_id;                                    /* -1: none */
    char *unk_token;
    int fuse_unk, byte_fallback, ignore_merges;
    char *prefix, *suffix; size_t prefix_len, suffix_len;  /* continuing_subword_prefix, end_of_word_suffix */
    int32_t byte_ids[256];                             /* "<0xXX>" ids or -1 */
    size_t max_tok_len;
    /* Hard boundaries: no merge can join a symbol ending in char a with one starting in char b. */
    uint8_t ascii_pair[128][16];                       /* bit set: pair (a, b) has a merge */
    uint64_t *pair_set; size_t pair_mask;              /* other pairs: ((a<<32)|b)+1, 0 empty */
    uint8_t *bmp_char_ok;                              /* bit set over U+0000..U+FFFF: 1-char token in vocab */
    int hard_split_ok;                                 /* no prefix/suffix */
    tk_cache *cache;
} tk_bpe;
/* Per-thread scratch space for BPE merging. */
typedef struct tk_scratch tk_scratch;
tk_scratch *tk_scratch_new(void);
/* Turns on the per-thread word cache (worth its 230 KB only for long texts). */
void tk_scratch_enable_l1(tk_scratch *s);
void tk_scratch_free(tk_scratch *s);
/* Appends the ids of one pre-tokenized word. Thread-safe (scratch is per thread). */
int tk_bpe_word(const tk_bpe *m, const char *w, size_t n, tk_ids *out, tk_scratch *sc, char *err, size_t errlen);
int tk_bpe_add_merge(tk_bpe *m, int32_t a, int32_t b, int32_t rank, int32_t new_id);
/* Offset of the first hard boundary in w[from..n) after `from`, or n. */
size_t tk_bpe_next_hard(const tk_bpe *m, const char *w, size_t n, size_t from);
int tk_bpe_finish_load(tk_bpe *m, char *err, size_t errlen);   /* builds pair tables, cache */
void tk_bpe_free(tk_bpe *m);

/* ---- post-processors and decoders --------------------------------------------------------------- */
enum { PP_TEMPLATE, PP_BYTELEVEL, PP_SEQUENCE, PP_BERT, PP_ROBERTA };
typedef struct tk_postproc {
    int type;
    struct tk_postproc *items; size_t n_items;
    /* Template "single": a list of items; each is a sequence (seq = 1) or the ids of a special. */
    struct tk_tpl_item { int seq; int32_t *ids; size_t n_ids; } *single; size_t n_single;
    int32_t cls_id, sep_id;                            /* Bert / Roberta */
} tk_postproc;

enum { DEC_SEQUENCE, DEC_REPLACE, DEC_BYTEFALLBACK, DEC_FUSE, DEC_STRIP, DEC_METASPACE,
       DEC_BYTELEVEL, DEC_WORDPIECE, DEC_BPE };
typedef struct tk_decoder {
    int type;
    struct tk_decoder *items; size_t n_items;
    tk_pattern pattern; char *content; size_t content_len;   /* Replace; Strip content; BPE suffix */
    uint32_t strip_char; size_t start, stop;                 /* Strip */
    uint32_t rep_char; int prepend_scheme;                   /* Metaspace */
    int cleanup;                                             /* WordPiece */
} tk_decoder;

/* ---- added tokens ------------------------------------------------------------------------------- */
typedef struct tk_added {
    char *content; size_t len;
    int32_t id;
    int special, lstrip, rstrip, single_word, normalized;
    char *pattern; size_t pattern_len;     /* what is matched: content, normalized when `normalized` */
} tk_added;

typedef struct tk_trie {                   /* byte trie for leftmost-longest matching */
    struct tk_trie_node { int32_t next_first, sibling; uint8_t byte; int32_t token; } *nodes;
    size_t n, cap;
    uint8_t first[256];                    /* bytes that start a pattern */
    int empty;
} tk_trie;

struct lj_tokenizer {
    tk_bpe bpe;
    tk_added *added; size_t n_added;
    tk_strmap added_map;                   /* content -> index into added */
    int32_t *added_by_id; size_t added_by_id_n; /* id -> index into added, -1 */
    tk_trie trie_raw, trie_norm;
    tk_normalizer *normalizer;             /* NULL: none */
    tk_pretok *pretok;
    tk_postproc *postproc;
    tk_decoder *decoder;
    size_t vocab_size;
};

int tk_load_json(lj_tokenizer *t, const char *path, char *err, size_t errlen);
int tk_decode_tokens(const tk_decoder *d, char **toks, size_t *lens, size_t n, tk_buf *out,
                     char *err, size_t errlen);
void tk_decoder_free(tk_decoder *d);
void tk_postproc_free(tk_postproc *p);
int tk_trie_add(tk_trie *tr, const char *s, size_t n, int32_t token);
void tk_trie_free(tk_trie *tr);

#endif
