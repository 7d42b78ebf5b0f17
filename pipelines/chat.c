/* OpenAI chat messages through the engine's Jamba chat template (engine/chat.h): JSON messages are
 * checked here (errors name the message index) and rendered by chat_format. */
#include "pipelines/backend.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "engine/chat.h"

/* content: a string, or an array of parts whose text parts are joined. *out malloc'd. */
static int content_text(json_t *c, char **out, size_t idx, char *err, size_t errlen) {
    *out = NULL;
    if (json_is_string(c) || json_is_null(c) || !c) {
        *out = strdup(json_is_string(c) ? json_string_value(c) : "");
        return *out ? 0 : lj_errf(err, errlen, "out of memory");
    }
    if (!json_is_array(c)) return lj_errf(err, errlen, "messages[%zu].content: must be a string or an array of text parts", idx);
    size_t total = 1, i;
    json_t *part;
    json_array_foreach(c, i, part) {
        json_t *ty = json_object_get(part, "type"), *tx = json_object_get(part, "text");
        if (!json_is_string(ty) || strcmp(json_string_value(ty), "text") || !json_is_string(tx))
            return lj_errf(err, errlen, "messages[%zu].content[%zu]: only {\"type\": \"text\", \"text\": ...} parts are supported", idx, i);
        total += json_string_length(tx);
    }
    char *s = malloc(total), *p = s;
    if (!s) return lj_errf(err, errlen, "out of memory");
    json_array_foreach(c, i, part) {
        json_t *tx = json_object_get(part, "text");
        memcpy(p, json_string_value(tx), json_string_length(tx));
        p += json_string_length(tx);
    }
    *p = 0;
    *out = s;
    return 0;
}

int pl_chat_render(json_t *messages, char **out, char *err, size_t errlen) {
    *out = NULL;
    if (!json_is_array(messages) || json_array_size(messages) == 0)
        return lj_errf(err, errlen, "messages: must be a non-empty array");
    size_t n = json_array_size(messages), i;
    lj_chat_message *m = calloc(n, sizeof *m);
    char **texts = calloc(n, sizeof *texts);
    int rc = 0;
    if (!m || !texts) { rc = lj_errf(err, errlen, "out of memory"); goto done; }
    json_t *msg;
    json_array_foreach(messages, i, msg) {
        json_t *role = json_object_get(msg, "role");
        if (!json_is_object(msg) || !json_is_string(role)) { rc = lj_errf(err, errlen, "messages[%zu]: needs a string \"role\"", i); goto done; }
        const char *r = json_string_value(role);
        if (!strcmp(r, "developer")) r = "system";
        if (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant") && strcmp(r, "tool")) {
            rc = lj_errf(err, errlen, "messages[%zu].role: '%.100s' is not system, user, assistant or tool", i, r);
            goto done;
        }
        if ((rc = content_text(json_object_get(msg, "content"), &texts[i], i, err, errlen))) goto done;
        m[i] = (lj_chat_message){r, texts[i]};
    }
    rc = chat_format(m, n, LJ_CHAT_JAMBA, 1, out, NULL, err, errlen);
done:
    for (i = 0; texts && i < n; i++) free(texts[i]);
    free(texts);
    free(m);
    return rc;
}

/* The template around one user message, split at its content (computed once). */
static char g_prefix[256], g_suffix[256];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void split_once(void) {
    static const char mark[] = "\x01\x02longjam\x02\x01";
    lj_chat_message m = {"user", mark};
    char *s = NULL, err[256];
    if (chat_format(&m, 1, LJ_CHAT_JAMBA, 1, &s, NULL, err, sizeof err) == 0) {
        char *at = strstr(s, mark);
        if (at && (size_t)(at - s) < sizeof g_prefix && strlen(at + sizeof mark - 1) < sizeof g_suffix) {
            memcpy(g_prefix, s, (size_t)(at - s));
            strcpy(g_suffix, at + sizeof mark - 1);
        }
    }
    free(s);
}

const char *pl_chat_user_prefix(void) {
    pthread_once(&g_once, split_once);
    return g_prefix;
}

const char *pl_chat_user_suffix(void) {
    pthread_once(&g_once, split_once);
    return g_suffix;
}
