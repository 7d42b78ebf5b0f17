/* Tokenizer: load errors name the problem, invalid UTF-8 names the byte offset, garbage never
 * crashes (run under ASan in CI), the Jamba chat template, the lookup API.
 * usage: tokenizer_misc TESTS_DIR   (TESTS_DIR holds tokenizer/<name>/tokenizer.json) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

#include "common/error.h"
#include "engine/chat.h"
#include "engine/tokenizer.h"
#include "tests/test_util.h"

static char tmpdir[] = "/tmp/lj_tok_XXXXXX";

/* Writes json to a temp file and returns the error of tok_load (static buffer; "" if it loaded). */
static const char *load_error(const char *name, const char *json, size_t n) {
    static char err[LJ_ERRLEN];
    char path[256];
    snprintf(path, sizeof path, "%s/%s.json", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { snprintf(err, sizeof err, "cannot write %s", path); return err; }
    fwrite(json, 1, n, f);
    fclose(f);
    lj_tokenizer *t = NULL;
    err[0] = 0;
    if (!tok_load(path, &t, err, sizeof err)) { tok_free(t); err[0] = 0; }
    unlink(path);
    return err;
}

#define VOCAB "\"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2, \"c\": 3}"
#define MODEL(extra) "\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [\"a b\"]" extra "}"

static void check_load_errors(void) {
    struct { const char *name, *json, *want; } cases[] = {
        {"missing_model", "{\"version\": \"1.0\", \"added_tokens\": []}", "missing \"model\""},
        {"merge_unknown", "{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [\"a b\", \"a x\"]}}",
         "merge 1 names token 'x' that is not in the vocab"},
        {"merge_unknown_pair", "{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [[\"zz\", \"a\"]]}}",
         "merge 0 names token 'zz' that is not in the vocab"},
        {"merge_result", "{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [\"b c\"]}}",
         "merge 0 makes token 'bc' that is not in the vocab"},
        {"merge_shape", "{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [\"a b c\"]}}",
         "merge 0 ('a b c') is not two tokens"},
        {"normalizer", "{" MODEL("") ", \"normalizer\": {\"type\": \"BertNormalizer\"}}", "unsupported normalizer 'BertNormalizer'"},
        {"pretok", "{" MODEL("") ", \"pre_tokenizer\": {\"type\": \"UnicodeScripts\"}}", "unsupported pre_tokenizer 'UnicodeScripts'"},
        {"pretok_nested", "{" MODEL("") ", \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\"}, {\"type\": \"BertPreTokenizer\"}]}}",
         "unsupported pre_tokenizer 'BertPreTokenizer'"},
        {"decoder", "{" MODEL("") ", \"decoder\": {\"type\": \"CTC\"}}", "unsupported decoder 'CTC'"},
        {"postproc", "{" MODEL("") ", \"post_processor\": {\"type\": \"Foo\"}}", "unsupported post_processor 'Foo'"},
        {"model_type", "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", "unsupported model 'Unigram'"},
        {"dropout", "{" MODEL(", \"dropout\": 0.1") "}", "dropout is not supported"},
        {"bad_regex", "{" MODEL("") ", \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(ab\"}, \"behavior\": \"Isolated\", \"invert\": false}}",
         "regex '(ab'"},
        {"bad_behavior", "{" MODEL("") ", \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"String\": \"a\"}, \"behavior\": \"Sideways\", \"invert\": false}}",
         "unknown behavior 'Sideways'"},
        {"truncation", "{" MODEL("") ", \"truncation\": {\"max_length\": 5}}", "\"truncation\" is not supported"},
        {"template_missing", "{" MODEL("") ", \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}], \"special_tokens\": {}}}",
         "special token '<s>' missing"},
        {"truncated", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, ", "line 1 column"},
        {"not_json", "\x01\x02garbage", "line 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *e = load_error(cases[i].name, cases[i].json, strlen(cases[i].json));
        CHECKF(test_contains(e, cases[i].want), "%s: want error containing \"%s\", got \"%s\"", cases[i].name, cases[i].want, e);
        CHECKF(test_contains(e, cases[i].name), "%s: error does not name the file: \"%s\"", cases[i].name, e);
    }
    lj_tokenizer *t;
    char err[LJ_ERRLEN];
    CHECK(tok_load("/nonexistent/tokenizer.json", &t, err, sizeof err) == -1 && test_contains(err, "/nonexistent/tokenizer.json"));
    /* a minimal file loads; with no decoder, decode joins tokens with spaces (as HF) */
    const char *ok = "{" MODEL("") "}";
    CHECKF(load_error("minimal", ok, strlen(ok))[0] == 0, "minimal tokenizer.json should load");
}

static void check_utf8(lj_tokenizer *t) {
    struct { const char *s; size_t n, off; } bad[] = {
        {"abc\xff", 4, 3}, {"\xc3(", 2, 0}, {"ok \xe2\x82", 5, 3}, {"\xed\xa0\x80 surrogate", 12, 0},
        {"\xc0\xaf overlong", 10, 0}, {"caf\xc3\xa9 \xf4\x90\x80\x80", 10, 6}, {"0123456789abcdef\x80", 17, 16},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t *ids; size_t n; char err[LJ_ERRLEN], want[64];
        int rc = tok_encode(t, bad[i].s, bad[i].n, 1, &ids, &n, err, sizeof err);
        snprintf(want, sizeof want, "byte offset %zu", bad[i].off);
        CHECKF(rc == -1 && test_contains(err, want), "case %zu: want \"%s\", got rc %d \"%s\"", i, want, rc, rc ? err : "");
        if (!rc) free(ids);
    }
}

static uint64_t rng = 0x1234567;
static uint32_t next_rand(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)rng; }

/* Garbage: random bytes, random code points around special tokens, random ids. Must not crash. */
static void check_garbage(lj_tokenizer *t, const char *name) {
    static const char *frags[] = {"<|", "|>", "<s>", "</s>", "<|startoftext|>", "<|eom|>", "<0x41>", " ", "\n",
                                  "▁", "é", "👨‍👩‍👧", "\xcc\x81", "0", "<mask>", "[CLS]", "##", "</w>", "'s"};
    char buf[512];
    for (int it = 0; it < 300; it++) {
        size_t n = 0;
        int mode = it % 3;
        while (n < sizeof buf - 16) {
            if (next_rand() % 8 == 0) break;
            if (mode == 0) buf[n++] = (char)(next_rand() & 0xff);
            else if (mode == 1) {
                const char *f = frags[next_rand() % (sizeof frags / sizeof frags[0])];
                size_t l = strlen(f);
                memcpy(buf + n, f, l); n += l;
            } else {
                uint32_t c = next_rand() % 0x30000;
                if (c >= 0xD800 && c < 0xE000) c = 'x';
                char u[4]; size_t l;
                if (c < 0x80) { u[0] = (char)c; l = 1; }
                else if (c < 0x800) { u[0] = (char)(0xC0 | (c >> 6)); u[1] = (char)(0x80 | (c & 63)); l = 2; }
                else if (c < 0x10000) { u[0] = (char)(0xE0 | (c >> 12)); u[1] = (char)(0x80 | ((c >> 6) & 63)); u[2] = (char)(0x80 | (c & 63)); l = 3; }
                else { u[0] = (char)(0xF0 | (c >> 18)); u[1] = (char)(0x80 | ((c >> 12) & 63)); u[2] = (char)(0x80 | ((c >> 6) & 63)); u[3] = (char)(0x80 | (c & 63)); l = 4; }
                memcpy(buf + n, u, l); n += l;
            }
        }
        int32_t *ids; size_t ni; char err[LJ_ERRLEN];
        int rc = tok_encode(t, buf, n, it & 1, &ids, &ni, err, sizeof err);
        if (mode != 0) CHECKF(rc == 0, "%s: valid UTF-8 garbage failed: %s", name, err);
        if (rc) continue;
        for (size_t i = 0; i < ni; i++) CHECKF(ids[i] >= 0 && (size_t)ids[i] < tok_vocab_size(t), "%s: id out of range", name);
        char *text;
        CHECK(tok_decode(t, ids, ni, it & 2, &text, err, sizeof err) == 0);
        if (text) free(text);
        free(ids);
    }
    /* random ids, including out-of-range ones, decode without crashing */
    int32_t rid[64];
    for (int it = 0; it < 100; it++) {
        for (int i = 0; i < 64; i++) rid[i] = (int32_t)(next_rand() % (tok_vocab_size(t) + 20)) - 5;
        char *text; char err[LJ_ERRLEN];
        CHECK(tok_decode(t, rid, 64, it & 1, &text, err, sizeof err) == 0);
        if (text) free(text);
    }
}

/* Several threads encoding at once through one tokenizer (shared word cache) get the ids of a
 * lone thread. */
typedef struct conc_job { const lj_tokenizer *t; const char *text; size_t len; const int32_t *want; size_t n; int ok; } conc_job;
static void *conc_run(void *arg) {
    conc_job *j = arg;
    j->ok = 1;
    for (int r = 0; r < 3; r++) {
        /* lines one by one (short texts), then the whole text */
        size_t pos = 0, k = 0;
        while (pos < j->len) {
            const char *nl = memchr(j->text + pos, '\n', j->len - pos);
            size_t end = nl ? (size_t)(nl - j->text) + 1 : j->len;
            int32_t *ids; size_t n; char err[LJ_ERRLEN];
            if (tok_encode(j->t, j->text + pos, end - pos, 0, &ids, &n, err, sizeof err)) { j->ok = 0; return NULL; }
            if (k + n > j->n || memcmp(ids, j->want + k, n * sizeof *ids)) j->ok = 0;
            k += n;
            free(ids);
            pos = end;
        }
    }
    return NULL;
}

static void check_concurrent(const lj_tokenizer *t) {
    static const char *words[] = {"the ", "license ", "Software ", "free ", "123 ", "é ", "日本 ", "\n", "copy, ", "distribute. "};
    size_t len = 0, cap = 1 << 17;
    char *text = malloc(cap);
    uint32_t r = 7;
    while (1) {
        r = r * 1103515245u + 12345u;
        const char *w = words[(r >> 16) % 10];
        size_t l = strlen(w);
        if (len + l >= cap) break;
        memcpy(text + len, w, l); len += l;
    }
    /* reference: the same lines, one thread */
    int32_t *want = NULL; size_t nw = 0, pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        int32_t *ids; size_t n; char err[LJ_ERRLEN];
        if (tok_encode(t, text + pos, end - pos, 0, &ids, &n, err, sizeof err)) { CHECKF(0, "%s", err); free(text); free(want); return; }
        want = realloc(want, (nw + n + 1) * sizeof *want);
        memcpy(want + nw, ids, n * sizeof *ids); nw += n;
        free(ids);
        pos = end;
    }
    conc_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) { jobs[i] = (conc_job){t, text, len, want, nw, 0}; pthread_create(&th[i], NULL, conc_run, &jobs[i]); }
    for (int i = 0; i < 4; i++) { pthread_join(th[i], NULL); CHECKF(jobs[i].ok, "thread %d got other ids", i); }
    free(text); free(want);
}

static void check_chat(lj_tokenizer *jamba) {
    char *s; size_t n; char err[LJ_ERRLEN];
    lj_chat_message m1[] = {{"system", "You are helpful."}, {"user", "Hi there"}};
    CHECK(chat_format(m1, 2, LJ_CHAT_JAMBA, 1, &s, &n, err, sizeof err) == 0);
    CHECKF(!strcmp(s, "<|startoftext|><|bom|><|system|> You are helpful.<|eom|><|bom|><|user|> Hi there<|eom|><|bom|><|assistant|>"), "got %s", s);
    free(s);
    lj_chat_message m2[] = {{"user", "Q1"}, {"assistant", "A1"}, {"user", "Q2"}};
    CHECK(chat_format(m2, 3, LJ_CHAT_JAMBA, 1, &s, &n, err, sizeof err) == 0);
    CHECKF(!strcmp(s, "<|startoftext|><|bom|><|system|> <|eom|><|bom|><|user|> Q1<|eom|><|bom|><|assistant|> A1<|eom|><|bom|><|user|> Q2<|eom|><|bom|><|assistant|>"), "got %s", s);
    free(s);
    CHECK(chat_format(m2, 2, LJ_CHAT_JAMBA, 0, &s, &n, err, sizeof err) == 0);
    CHECKF(!strcmp(s, "<|startoftext|><|bom|><|system|> <|eom|><|bom|><|user|> Q1<|eom|><|bom|><|assistant|> A1<|eom|>"), "got %s", s);
    free(s);
    CHECK(chat_format(m1, 2, LJ_CHAT_PLAIN, 1, &s, &n, err, sizeof err) == 0);
    CHECKF(!strcmp(s, "You are helpful.\n\nHi there"), "got %s", s);
    free(s);
    lj_chat_message bad[] = {{"us|er", "x"}};
    CHECK(chat_format(bad, 1, LJ_CHAT_JAMBA, 1, &s, &n, err, sizeof err) == -1 && test_contains(err, "bad role"));
    if (!jamba) return;
    /* the special tokens are matched as tokens: one id each, BOS not doubled */
    int32_t *ids; size_t ni;
    CHECK(chat_encode(jamba, m1, 2, LJ_CHAT_JAMBA, 1, &ids, &ni, err, sizeof err) == 0);
    const char *want_tok[] = {"<|startoftext|>", "<|bom|>", "<|system|>"};
    for (int i = 0; i < 3; i++) CHECKF(ni > 3 && ids[i] == tok_token_to_id(jamba, want_tok[i]), "chat token %d", i);
    CHECK(ni > 3 && ids[ni - 1] == tok_token_to_id(jamba, "<|assistant|>") && ids[ni - 2] == tok_token_to_id(jamba, "<|bom|>"));
    size_t bos = 0;
    for (size_t i = 0; i < ni; i++) bos += ids[i] == tok_token_to_id(jamba, "<|startoftext|>");
    CHECK(bos == 1);
    char *text;
    CHECK(tok_decode(jamba, ids, ni, 1, &text, err, sizeof err) == 0);
    CHECKF(text && !strcmp(text, " You are helpful. Hi there"), "decoded: %s", text ? text : "(null)");
    free(text);
    free(ids);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: tokenizer_misc TESTS_DIR\n"); return 2; }
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    check_load_errors();
    rmdir(tmpdir);
    const char *names[] = {"gpt2-bytelevel", "llama3-split", "normalizers", "subword-affixes", "metaspace-bytes"};
    char path[1024], err[LJ_ERRLEN];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/tokenizer/%s/tokenizer.json", argv[1], names[i]);
        lj_tokenizer *t;
        int rc = tok_load(path, &t, err, sizeof err);
        CHECKF(rc == 0, "%s", err);
        if (rc) continue;
        if (i == 0) check_utf8(t);
        if (i < 2) check_concurrent(t);
        check_garbage(t, names[i]);
        CHECK(tok_id_to_token(t, -1) == NULL && tok_id_to_token(t, (int32_t)tok_vocab_size(t)) == NULL);
        tok_free(t);
    }
    lj_tokenizer *jamba = NULL;
    const char *jp = test_fixture("tokenizers/jamba-style/tokenizer.json");
    if (tok_load(jp, &jamba, err, sizeof err)) { fprintf(stderr, "note: %s (chat encoding not checked)\n", err); jamba = NULL; }
    check_chat(jamba);
    if (jamba) {
        check_garbage(jamba, "jamba-style");
        CHECK(tok_token_to_id(jamba, "<|eom|>") >= 0 && tok_is_special(jamba, tok_token_to_id(jamba, "<|eom|>")));
        CHECK(!tok_is_special(jamba, tok_token_to_id(jamba, "a")));
        int32_t id = tok_token_to_id(jamba, "<|bom|>");
        CHECK(id >= 0 && !strcmp(tok_id_to_token(jamba, id), "<|bom|>"));
        tok_free(jamba);
    }
    return test_finish("tokenizer_misc");
}
