/* Text prompts for the engine commands (generate, logits): --prompt TEXT | --prompt-file FILE,
 * --chat (Jamba chat template, engine/chat.h) with an optional --system TEXT, and --tokenizer FILE
 * (default: DIR/tokenizer.json of --model DIR). */
#ifndef LJ_CLI_PROMPT_H
#define LJ_CLI_PROMPT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/tokenizer.h"

typedef struct cli_prompt {
    const char *text, *file, *tokenizer, *system;
    int chat;
} cli_prompt;

/* If argv[*i] is a prompt option, consumes it (and its value, advancing *i) and returns 1; returns
 * 0 when it is not one, -1 (message on stderr) when its value is missing. */
int cli_prompt_option(cli_prompt *p, int argc, char **argv, int *i, const char *cmd);

/* True when a text prompt was given. */
int cli_prompt_given(const cli_prompt *p);

/* Loads the tokenizer (p->tokenizer or model_dir/tokenizer.json) and encodes the prompt: with
 * --chat, one user message (after --system if given) formatted by the Jamba template and encoded
 * without the post-processor; otherwise the text encoded with it (BOS). *ids malloc'd, *tok owned
 * by the caller (tok_free). Prints the reason on stderr and returns -1 on failure. */
int cli_prompt_encode(const cli_prompt *p, const char *model_dir, const char *cmd, lj_tokenizer **tok,
                      int32_t **ids, size_t *n);

#endif
