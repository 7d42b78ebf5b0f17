/* Tokenizer parity with Hugging Face `tokenizers`: every line of a cases.jsonl made by the reference
 * ({"text", "ids", "decoded"} and, for our own cases, "ids_plain" and "decoded_keep") must match
 * exactly. Also checks that the parallel encoder gives the single-threaded result.
 * usage: tokenizer_cases TOKENIZER.json CASES.jsonl */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "engine/tokenizer.h"
#include "tests/test_util.h"

static int ids_equal(json_t *arr, const int32_t *ids, size_t n) {
    if (json_array_size(arr) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (json_integer_value(json_array_get(arr, i)) != ids[i]) return 0;
    return 1;
}

static void print_ids(const char *what, const int32_t *ids, size_t n) {
    fprintf(stderr, "  %s:", what);
    for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, n > 40 ? " ...\n" : "\n");
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: tokenizer_cases TOKENIZER.json CASES.jsonl\n"); return 2; }
    char err[LJ_ERRLEN];
    lj_tokenizer *t;
    if (tok_load(argv[1], &t, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        if (getenv("LJ_FIXTURES") && strstr(argv[1], "shared")) return TEST_SKIP;
        return 1;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) { fprintf(stderr, "%s: cannot open\n", argv[2]); tok_free(t); return 1; }
    char *line = NULL; size_t cap = 0; ssize_t got;
    size_t lineno = 0, n_cases = 0;
    char *all = NULL; size_t all_len = 0, all_cap = 0;     /* every text, joined: for the parallel check */
    while ((got = getline(&line, &cap, f)) > 0) {
        lineno++;
        json_error_t je;
        json_t *o = json_loadb(line, (size_t)got, JSON_ALLOW_NUL, &je);
        CHECKF(o != NULL, "%s:%zu: %s", argv[2], lineno, je.text);
        if (!o) continue;
        n_cases++;
        json_t *text = json_object_get(o, "text");
        const char *s = json_string_value(text); size_t sl = json_string_length(text);
        struct { const char *key; int special; } modes[] = {{"ids", 1}, {"ids_plain", 0}};
        for (int m = 0; m < 2; m++) {
            json_t *want = json_object_get(o, modes[m].key);
            if (!want) continue;
            int32_t *ids; size_t n;
            int rc = tok_encode(t, s, sl, modes[m].special, &ids, &n, err, sizeof err);
            CHECKF(rc == 0, "%s:%zu: encode: %s", argv[2], lineno, err);
            if (rc) continue;
            int ok = ids_equal(want, ids, n);
            CHECKF(ok, "%s:%zu: %s differ for %.60s", argv[2], lineno, modes[m].key, s);
            if (!ok) {
                int32_t w[64]; size_t wn = json_array_size(want) < 64 ? json_array_size(want) : 64;
                for (size_t i = 0; i < wn; i++) w[i] = (int32_t)json_integer_value(json_array_get(want, i));
                print_ids("want", w, wn); print_ids("got ", ids, n);
            }
            if (m == 0) { if (all_len + sl + 1 > all_cap) { all_cap = 2 * (all_len + sl + 1); all = realloc(all, all_cap); }
                          memcpy(all + all_len, s, sl); all_len += sl; all[all_len++] = '\n'; }
            /* decoding the reference ids */
            struct { const char *key; int skip; } dm[] = {{"decoded", 1}, {"decoded_keep", 0}};
            for (int d = 0; d < 2 && m == 0; d++) {
                json_t *wd = json_object_get(o, dm[d].key);
                if (!json_is_string(wd)) continue;       /* null: the reference itself failed */
                char *out; size_t on;
                rc = tok_decode_n(t, ids, n, dm[d].skip, &out, &on, err, sizeof err);
                CHECKF(rc == 0, "%s:%zu: decode: %s", argv[2], lineno, err);
                if (rc) continue;
                int same = on == json_string_length(wd) && !memcmp(out, json_string_value(wd), on);
                CHECKF(same, "%s:%zu: %s differs: want \"%s\" got \"%s\"", argv[2], lineno, dm[d].key, json_string_value(wd), out);
                free(out);
            }
            free(ids);
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    /* the parallel encoder must give the single-threaded result on a long text (>= 256 KB) */
    if (all_len) {
        size_t unit = all_len;
        while (all_len < (256u << 10)) {
            if (all_len + unit > all_cap) { all_cap = 2 * (all_len + unit); all = realloc(all, all_cap); }
            memcpy(all + all_len, all, unit); all_len += unit;
        }
        int32_t *ids; size_t n;
        int rc = tok_encode(t, all, all_len, 1, &ids, &n, err, sizeof err);
        CHECKF(rc == 0, "long text: %s", err);
        for (int th = 2; th <= 4 && !rc; th++) {
            int32_t *pids; size_t pn;
            int prc = tok_encode_parallel(t, all, all_len, 1, th, &pids, &pn, err, sizeof err);
            CHECKF(prc == 0 && pn == n && !memcmp(pids, ids, n * sizeof *ids), "parallel(%d threads) differs from single-threaded", th);
            if (!prc) free(pids);
        }
        if (!rc) free(ids);
    }
    free(all);
    tok_free(t);
    fprintf(stderr, "%s: %zu cases\n", argv[2], n_cases);
    return test_finish("tokenizer_cases");
}
