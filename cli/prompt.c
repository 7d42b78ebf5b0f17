/* Prompt text -> token ids for generate and logits (see cli/prompt.h). */
#include "cli/prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"
#include "engine/chat.h"

int cli_prompt_option(cli_prompt *p, int argc, char **argv, int *i, const char *cmd) {
    const char *a = argv[*i];
    const char **slot = !strcmp(a, "--prompt") ? &p->text : !strcmp(a, "--prompt-file") ? &p->file
                      : !strcmp(a, "--tokenizer") ? &p->tokenizer : !strcmp(a, "--system") ? &p->system : NULL;
    if (!strcmp(a, "--chat")) { p->chat = 1; return 1; }
    if (!slot) return 0;
    if (*i + 1 >= argc) { fprintf(stderr, "longjam %s: %s needs a value\n", cmd, a); return -1; }
    *slot = argv[++*i];
    return 1;
}

int cli_prompt_given(const cli_prompt *p) { return p->text || p->file; }

int cli_prompt_encode(const cli_prompt *p, const char *model_dir, const char *cmd, lj_tokenizer **tok,
                      int32_t **ids, size_t *n) {
    char err[LJ_ERRLEN], path[4096];
    *tok = NULL; *ids = NULL; *n = 0;
    if (p->text && p->file) { fprintf(stderr, "longjam %s: give --prompt or --prompt-file, not both\n", cmd); return -1; }
    const char *tp = p->tokenizer;
    if (!tp) {
        if (!model_dir) { fprintf(stderr, "longjam %s: --tokenizer FILE is needed\n", cmd); return -1; }
        snprintf(path, sizeof path, "%s/tokenizer.json", model_dir);
        tp = path;
    }
    if (tok_load(tp, tok, err, sizeof err)) { fprintf(stderr, "longjam %s: %s\n", cmd, err); return -1; }
    char *file_text = NULL;
    size_t len = 0;
    const char *text = p->text;
    if (p->file) {
        if (!(file_text = lj_read_file(p->file, &len, err, sizeof err))) goto fail;
        text = file_text;
    } else len = strlen(text);
    int rc;
    if (p->chat) {
        lj_chat_message m[2] = {{"system", p->system}, {"user", text}};
        int has_sys = p->system != NULL;
        if (memchr(text, 0, len)) { snprintf(err, sizeof err, "a chat prompt cannot hold a NUL byte"); goto fail; }
        rc = chat_encode(*tok, m + !has_sys, 1 + has_sys, LJ_CHAT_JAMBA, 1, ids, n, err, sizeof err);
    } else rc = tok_encode(*tok, text, len, 1, ids, n, err, sizeof err);
    if (rc) goto fail;
    if (!*n) { snprintf(err, sizeof err, "the prompt encodes to no tokens"); free(*ids); *ids = NULL; goto fail; }
    free(file_text);
    return 0;
fail:
    fprintf(stderr, "longjam %s: %s%s%s\n", cmd, p->file ? p->file : "prompt", ": ", err);
    free(file_text);
    tok_free(*tok);
    *tok = NULL;
    return -1;
}
