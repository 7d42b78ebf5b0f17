/* The Jamba-1.5 chat template (tokenizer_config.json of ai21labs/AI21-Jamba-1.5-Mini), rendered
 * without a Jinja engine: BOS, then per message `<|bom|><|ROLE|> CONTENT<|eom|>`, then
 * `<|bom|><|assistant|>` as the generation prompt.
 * TODO(engine/chat.h, tokenizer branch): use the shared renderer once it lands. */
#include "pipelines/backend.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

typedef struct { char *p; size_t n, cap; } sbuf;
static int sb_add(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap : 256);
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}
static int sb_str(sbuf *b, const char *s) { return sb_add(b, s, strlen(s)); }

const char *pl_chat_user_prefix(void) { return "<|startoftext|><|bom|><|user|> "; }
const char *pl_chat_user_suffix(void) { return "<|eom|><|bom|><|assistant|>"; }

/* content: a string, or an array of parts of which the text parts are joined. */
static int content_text(json_t *c, sbuf *b, size_t idx, char *err, size_t errlen) {
    if (json_is_string(c)) return sb_add(b, json_string_value(c), json_string_length(c));
    if (json_is_array(c)) {
        size_t i;
        json_t *part;
        json_array_foreach(c, i, part) {
            json_t *ty = json_object_get(part, "type"), *tx = json_object_get(part, "text");
            if (!json_is_string(ty) || strcmp(json_string_value(ty), "text") || !json_is_string(tx))
                return lj_errf(err, errlen, "messages[%zu].content[%zu]: only {\"type\":\"text\",\"text\":...} parts are supported", idx, i);
            if (sb_add(b, json_string_value(tx), json_string_length(tx))) return -1;
        }
        return 0;
    }
    if (json_is_null(c)) return 0;
    return lj_errf(err, errlen, "messages[%zu].content: must be a string or an array of text parts", idx);
}

int pl_chat_render(json_t *messages, char **out, char *err, size_t errlen) {
    *out = NULL;
    if (!json_is_array(messages) || json_array_size(messages) == 0)
        return lj_errf(err, errlen, "messages: must be a non-empty array");
    sbuf b = {0};
    if (sb_str(&b, "<|startoftext|>")) goto oom;
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m) {
        json_t *role = json_object_get(m, "role");
        if (!json_is_object(m) || !json_is_string(role)) {
            free(b.p);
            return lj_errf(err, errlen, "messages[%zu]: needs a string \"role\"", i);
        }
        const char *r = json_string_value(role);
        if (!strcmp(r, "developer")) r = "system";
        if (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant") && strcmp(r, "tool")) {
            free(b.p);
            return lj_errf(err, errlen, "messages[%zu].role: '%s' is not system, user, assistant or tool", i, r);
        }
        if (sb_str(&b, "<|bom|><|") || sb_str(&b, r) || sb_str(&b, "|> ")) goto oom;
        if (content_text(json_object_get(m, "content"), &b, i, err, errlen)) { free(b.p); return -1; }
        if (sb_str(&b, "<|eom|>")) goto oom;
    }
    if (sb_str(&b, "<|bom|><|assistant|>")) goto oom;
    *out = b.p;
    return 0;
oom:
    free(b.p);
    return lj_errf(err, errlen, "chat template: out of memory");
}
