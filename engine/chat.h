/* Chat formatting for Jamba-family models.
 *
 * LJ_CHAT_JAMBA follows the chat template shipped in AI21's Jamba tokenizer_config.json
 * (Jamba-1.5 / Jamba-Mini-1.7 family, rendered by transformers with trim_blocks/lstrip_blocks),
 * for messages without tools, documents or names:
 *
 *   <|startoftext|><|bom|><|system|> {system}<|eom|><|bom|><|user|> {user}<|eom|><|bom|><|assistant|>
 *
 * - the system block is always present (its default content is ""), so a conversation without a
 *   system message starts "<|startoftext|><|bom|><|system|> <|eom|>";
 * - each message is "<|bom|><|" role "|> " content, messages are separated by "<|eom|>";
 * - add_generation_prompt appends "<|eom|><|bom|><|assistant|>" (no space after the role);
 *   without it the last message is closed by "<|eom|>".
 * Encode the result with tok_encode(..., add_special = 0): the text already holds <|startoftext|>.
 *
 * LJ_CHAT_PLAIN is for base models: the contents joined by "\n\n", encoded with add_special = 1. */
#ifndef LJ_ENGINE_CHAT_H
#define LJ_ENGINE_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/tokenizer.h"

typedef struct lj_chat_message {
    const char *role;      /* "system", "user", "assistant", "tool", ... */
    const char *content;   /* UTF-8, NUL-terminated; NULL is "" */
} lj_chat_message;

typedef enum { LJ_CHAT_JAMBA = 0, LJ_CHAT_PLAIN = 1 } lj_chat_mode;

/* Formats messages into a malloc'd NUL-terminated string (caller frees); *len gets its length
 * (len may be NULL). Errors: a NULL or empty role, a role with '<', '>' or '|' in it. */
int chat_format(const lj_chat_message *msgs, size_t n, lj_chat_mode mode, int add_generation_prompt,
                char **out, size_t *len, char *err, size_t errlen);

/* chat_format then tok_encode with the right add_special for the mode. *ids malloc'd (caller frees). */
int chat_encode(const lj_tokenizer *t, const lj_chat_message *msgs, size_t n, lj_chat_mode mode,
                int add_generation_prompt, int32_t **ids, size_t *n_ids, char *err, size_t errlen);

#endif
