/* Hugging Face tokenizer.json (BPE) in C: encode/decode byte-exact with the `tokenizers` library.
 *
 * Ownership: tok_load returns a tokenizer the caller frees with tok_free. A loaded tokenizer is
 * read-only for encode/decode and may be shared by threads (internal caches are thread-safe).
 * Arrays returned through out-parameters are malloc'd and owned by the caller. */
#ifndef LJ_ENGINE_TOKENIZER_H
#define LJ_ENGINE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct lj_tokenizer lj_tokenizer;

/* Loads tokenizer.json. Unsupported components are an error naming the component. */
int tok_load(const char *path, lj_tokenizer **out, char *err, size_t errlen);
void tok_free(lj_tokenizer *t);

/* Encodes `len` bytes of UTF-8 text. add_special: apply the post-processor (e.g. BOS), as
 * `encode(text, add_special_tokens=True)`. *ids is malloc'd (caller frees), *n its length.
 * Invalid UTF-8 is an error naming the byte offset. */
int tok_encode(const lj_tokenizer *t, const char *text, size_t len, int add_special,
               int32_t **ids, size_t *n, char *err, size_t errlen);

/* As tok_encode, splitting the model's work over `threads` threads (pieces of the pre-tokenized
 * text, long words cut only where no merge can cross). The result equals tok_encode's. */
int tok_encode_parallel(const lj_tokenizer *t, const char *text, size_t len, int add_special, int threads,
                        int32_t **ids, size_t *n, char *err, size_t errlen);

/* Decodes ids to a malloc'd NUL-terminated string (caller frees). skip_special: as
 * `decode(ids, skip_special_tokens=True)`. */
int tok_decode(const lj_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
               char **text, char *err, size_t errlen);

/* As tok_decode, also giving the byte length (the text may hold NUL bytes). */
int tok_decode_n(const lj_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                 char **text, size_t *len, char *err, size_t errlen);

/* Vocabulary size (including added tokens), id of a token string (or -1), string of an id (NULL
 * when out of range; owned by the tokenizer). */
size_t tok_vocab_size(const lj_tokenizer *t);
int32_t tok_token_to_id(const lj_tokenizer *t, const char *token);
const char *tok_id_to_token(const lj_tokenizer *t, int32_t id);

/* True when the id is a special added token (skipped by skip_special decoding). */
int tok_is_special(const lj_tokenizer *t, int32_t id);

#endif
