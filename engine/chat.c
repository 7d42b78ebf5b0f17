/* Chat formatting (see engine/chat.h for the template and where it comes from). */
#include "engine/chat.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

typedef struct sbuf { char *p; size_t len, cap; int oom; } sbuf;

static void sb_add(sbuf *b, const char *s) {
    size_t n = strlen(s);
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p; b->cap = cap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

int chat_format(const lj_chat_message *msgs, size_t n, lj_chat_mode mode, int add_generation_prompt,
                char **out, size_t *len, char *err, size_t errlen) {
    *out = NULL;
    if (len) *len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *r = msgs[i].role;
        if (!r || !*r) return lj_errf(err, errlen, "chat message %zu: missing role", i);
        if (strpbrk(r, "<>|")) return lj_errf(err, errlen, "chat message %zu: bad role '%s'", i, r);
    }
    sbuf b = {0};
    sb_add(&b, "");
    if (mode == LJ_CHAT_PLAIN) {
        for (size_t i = 0; i < n; i++) {
            if (i) sb_add(&b, "\n\n");
            sb_add(&b, msgs[i].content ? msgs[i].content : "");
        }
    } else {
        /* bos, then the system block (always: its default content is ""), then the rest */
        size_t first = 0;
        sb_add(&b, "<|startoftext|><|bom|><|system|> ");
        if (n && !strcmp(msgs[0].role, "system")) {
            sb_add(&b, msgs[0].content ? msgs[0].content : "");
            first = 1;
        }
        for (size_t i = first; i < n; i++) {
            sb_add(&b, "<|eom|><|bom|><|");
            sb_add(&b, msgs[i].role);
            sb_add(&b, "|> ");
            sb_add(&b, msgs[i].content ? msgs[i].content : "");
        }
        sb_add(&b, "<|eom|>");
        if (add_generation_prompt) sb_add(&b, "<|bom|><|assistant|>");
    }
    if (b.oom) { free(b.p); return lj_errf(err, errlen, "out of memory"); }
    *out = b.p;
    if (len) *len = b.len;
    return 0;
}

int chat_encode(const lj_tokenizer *t, const lj_chat_message *msgs, size_t n, lj_chat_mode mode,
                int add_generation_prompt, int32_t **ids, size_t *n_ids, char *err, size_t errlen) {
    char *text; size_t len;
    if (chat_format(msgs, n, mode, add_generation_prompt, &text, &len, err, errlen)) return -1;
    int rc = tok_encode(t, text, len, mode == LJ_CHAT_PLAIN, ids, n_ids, err, errlen);
    free(text);
    return rc;
}
