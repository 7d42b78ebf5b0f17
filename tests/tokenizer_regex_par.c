/* tk_pattern_each_par (speculative chunks stitched at a common match end) must give exactly the
 * matches of tk_pattern_each, also for empty matches, lookbehind, long and chunk-straddling matches. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "engine/tokenizer_internal.h"
#include "tests/test_util.h"

typedef struct { size_t *m; size_t n, cap; } mlist;
static int collect(size_t s, size_t e, void *ctx) {
    mlist *l = ctx;
    if (l->n == l->cap) { l->cap = l->cap ? 2 * l->cap : 1024; l->m = realloc(l->m, l->cap * 2 * sizeof *l->m); }
    l->m[2 * l->n] = s; l->m[2 * l->n + 1] = e; l->n++;
    return 0;
}

int main(void) {
    const char *pats[] = {
        "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        "a*", "\\b", "(?<=x)y+", "[a-z]{0,3}", "x[^x]{0,5000}x", "$", "^.", "\\s*",
    };
    /* text: words, spaces, newlines, long runs, multi-byte characters */
    size_t n = 600000;
    char *s = malloc(n + 8);
    uint64_t r = 42;
    size_t i = 0;
    const char *frags[] = {"hello ", "x", "y", "xyy", "  ", "\n", "aaaa", "é", "日本", "123", "'s ", "\t\n ", "Zz"};
    while (i < n) {
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        const char *f = frags[r % 13];
        size_t l = strlen(f);
        if (r % 97 == 0) { size_t k = (r >> 8) % 3000; while (k-- && i < n) s[i++] = (r & 1) ? 'a' : ' '; continue; }
        if (i + l > n) break;
        memcpy(s + i, f, l); i += l;
    }
    n = i;
    char err[LJ_ERRLEN];
    for (size_t p = 0; p < sizeof pats / sizeof pats[0]; p++) {
        tk_pattern pat = {0};
        if (tk_pattern_compile_regex(&pat, pats[p], err, sizeof err)) { CHECKF(0, "%s", err); continue; }
        mlist want = {0};
        CHECK(tk_pattern_each(&pat, s, n, collect, &want) == 0);
        for (int th = 2; th <= 5; th++) {
            mlist got = {0};
            CHECK(tk_pattern_each_par(&pat, s, n, th, collect, &got) == 0);
            int same = got.n == want.n && !memcmp(got.m, want.m, want.n * 2 * sizeof *want.m);
            CHECKF(same, "pattern %zu (%s), %d threads: %zu matches, want %zu", p, pats[p], th, got.n, want.n);
            free(got.m);
        }
        free(want.m);
        tk_pattern_free(&pat);
    }
    /* a literal pattern too */
    tk_pattern lit = {0, strdup("hello"), 5, NULL};
    mlist want = {0}, got = {0};
    CHECK(tk_pattern_each(&lit, s, n, collect, &want) == 0);
    CHECK(tk_pattern_each_par(&lit, s, n, 3, collect, &got) == 0);
    CHECK(got.n == want.n && want.n > 0 && !memcmp(got.m, want.m, want.n * 2 * sizeof *want.m));
    free(want.m); free(got.m);
    tk_pattern_free(&lit);
    free(s);
    return test_finish("tokenizer_regex_par");
}
