/* NLTK PorterStemmer (NLTK_EXTENSIONS); each function names the method it mirrors. Words are
 * NUL-terminated strings in a caller buffer with room to grow by a few letters. */
#include "eval/porter.h"

#include <string.h>

typedef int (*cond_fn)(const char *stem, size_t n, const char *word, size_t wn);

static int is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

/* _is_consonant */
static int is_consonant(const char *w, size_t i) {
    if (is_vowel(w[i])) return 0;
    if (w[i] == 'y') {
        int negate = 0;
        while (i > 0 && w[i] == 'y') { negate = !negate; i--; }
        return (!is_vowel(w[i])) != negate;
    }
    return 1;
}

/* _consonant_flags -> _measure ("vc" count) and _contains_vowel */
static size_t measure(const char *w, size_t n) {
    int prev = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int c = is_vowel(w[i]) ? 0 : w[i] == 'y' ? (i == 0 ? 1 : !prev) : 1;
        if (i > 0 && !prev && c) m++;
        prev = c;
    }
    return m;
}
static int contains_vowel(const char *w, size_t n) {
    int prev = 0;
    for (size_t i = 0; i < n; i++) {
        int c = is_vowel(w[i]) ? 0 : w[i] == 'y' ? (i == 0 ? 1 : !prev) : 1;
        if (!c) return 1;
        prev = c;
    }
    return 0;
}

static int ends_double_consonant(const char *w, size_t n) {
    return n >= 2 && w[n - 1] == w[n - 2] && is_consonant(w, n - 1);
}

static int ends_cvc(const char *w, size_t n) {
    return (n >= 3 && is_consonant(w, n - 3) && !is_consonant(w, n - 2) && is_consonant(w, n - 1) &&
            w[n - 1] != 'w' && w[n - 1] != 'x' && w[n - 1] != 'y') ||
           (n == 2 && !is_consonant(w, 0) && is_consonant(w, 1));
}

static int ends_with(const char *w, size_t n, const char *s) {
    size_t k = strlen(s);
    return n >= k && !memcmp(w + n - k, s, k);
}

typedef struct rule { const char *suffix, *replacement; int cond; } rule;
enum { C_NONE, C_POS, C_GT1, C_ION, C_LOGI, C_STEP1B_D, C_STEP1B_E, C_STEP1C };

static int check(int cond, const char *stem, size_t sn, const char *word, size_t wn) {
    switch (cond) {
    case C_NONE: return 1;
    case C_POS: return measure(stem, sn) > 0;
    case C_GT1: return measure(stem, sn) > 1;
    case C_ION: return measure(stem, sn) > 1 && sn > 0 && (stem[sn - 1] == 's' || stem[sn - 1] == 't');
    case C_LOGI: return measure(word, wn - 3) > 0;
    case C_STEP1B_D: return !(word[wn - 1] == 'l' || word[wn - 1] == 's' || word[wn - 1] == 'z');
    case C_STEP1B_E: return measure(stem, sn) == 1 && ends_cvc(stem, sn);
    case C_STEP1C: return sn > 1 && is_consonant(stem, sn - 1);
    }
    return 0;
}

/* _apply_rule_list on w (length *n) in place; a "*d" suffix is the double-consonant rule whose
 * replacement is the word's last letter. */
static void apply_rules(char *w, size_t *n, const rule *rules, size_t nr) {
    for (size_t r = 0; r < nr; r++) {
        const rule *u = &rules[r];
        if (!strcmp(u->suffix, "*d") && ends_double_consonant(w, *n)) {
            size_t sn = *n - 2;
            if (check(u->cond, w, sn, w, *n)) {
                char last = w[*n - 1];
                w[sn] = last;
                *n = sn + 1;
                w[*n] = 0;
            }
            return;
        }
        if (ends_with(w, *n, u->suffix)) {
            size_t sn = *n - strlen(u->suffix);
            if (check(u->cond, w, sn, w, *n)) {
                strcpy(w + sn, u->replacement);
                *n = sn + strlen(u->replacement);
            }
            return;
        }
    }
}

static void replace_suffix(char *w, size_t *n, const char *suffix, const char *rep) {
    size_t sn = *n - strlen(suffix);
    strcpy(w + sn, rep);
    *n = sn + strlen(rep);
}

static void step1a(char *w, size_t *n) {
    if (ends_with(w, *n, "ies") && *n == 4) { replace_suffix(w, n, "ies", "ie"); return; }
    static const rule r[] = {{"sses", "ss", C_NONE}, {"ies", "i", C_NONE}, {"ss", "ss", C_NONE}, {"s", "", C_NONE}};
    apply_rules(w, n, r, 4);
}

static void step1b(char *w, size_t *n) {
    if (ends_with(w, *n, "ied")) { replace_suffix(w, n, "ied", *n == 4 ? "ie" : "i"); return; }
    if (ends_with(w, *n, "eed")) {
        if (measure(w, *n - 3) > 0) replace_suffix(w, n, "eed", "ee");
        return;
    }
    size_t sn = 0;
    int ok = 0;
    if (ends_with(w, *n, "ed") && contains_vowel(w, *n - 2)) { sn = *n - 2; ok = 1; }
    else if (ends_with(w, *n, "ing") && contains_vowel(w, *n - 3)) { sn = *n - 3; ok = 1; }
    if (!ok) return;
    w[sn] = 0;
    *n = sn;
    static const rule r[] = {{"at", "ate", C_NONE}, {"bl", "ble", C_NONE}, {"iz", "ize", C_NONE},
                             {"*d", "", C_STEP1B_D}, {"", "e", C_STEP1B_E}};
    apply_rules(w, n, r, 5);
}

static void step1c(char *w, size_t *n) {
    static const rule r[] = {{"y", "i", C_STEP1C}};
    apply_rules(w, n, r, 1);
}

static void step2(char *w, size_t *n) {
    if (ends_with(w, *n, "alli") && measure(w, *n - 4) > 0) {
        replace_suffix(w, n, "alli", "al");
        step2(w, n);
        return;
    }
    static const rule r[] = {
        {"ational", "ate", C_POS}, {"tional", "tion", C_POS}, {"enci", "ence", C_POS}, {"anci", "ance", C_POS},
        {"izer", "ize", C_POS}, {"bli", "ble", C_POS}, {"alli", "al", C_POS}, {"entli", "ent", C_POS},
        {"eli", "e", C_POS}, {"ousli", "ous", C_POS}, {"ization", "ize", C_POS}, {"ation", "ate", C_POS},
        {"ator", "ate", C_POS}, {"alism", "al", C_POS}, {"iveness", "ive", C_POS}, {"fulness", "ful", C_POS},
        {"ousness", "ous", C_POS}, {"aliti", "al", C_POS}, {"iviti", "ive", C_POS}, {"biliti", "ble", C_POS},
        {"fulli", "ful", C_POS}, {"logi", "log", C_LOGI}};
    apply_rules(w, n, r, sizeof r / sizeof r[0]);
}

static void step3(char *w, size_t *n) {
    static const rule r[] = {{"icate", "ic", C_POS}, {"ative", "", C_POS}, {"alize", "al", C_POS},
                             {"iciti", "ic", C_POS}, {"ical", "ic", C_POS}, {"ful", "", C_POS}, {"ness", "", C_POS}};
    apply_rules(w, n, r, sizeof r / sizeof r[0]);
}

static void step4(char *w, size_t *n) {
    static const rule r[] = {
        {"al", "", C_GT1}, {"ance", "", C_GT1}, {"ence", "", C_GT1}, {"er", "", C_GT1}, {"ic", "", C_GT1},
        {"able", "", C_GT1}, {"ible", "", C_GT1}, {"ant", "", C_GT1}, {"ement", "", C_GT1}, {"ment", "", C_GT1},
        {"ent", "", C_GT1}, {"ion", "", C_ION}, {"ou", "", C_GT1}, {"ism", "", C_GT1}, {"ate", "", C_GT1},
        {"iti", "", C_GT1}, {"ous", "", C_GT1}, {"ive", "", C_GT1}, {"ize", "", C_GT1}};
    apply_rules(w, n, r, sizeof r / sizeof r[0]);
}

static void step5a(char *w, size_t *n) {
    if (!ends_with(w, *n, "e")) return;
    size_t sn = *n - 1;
    size_t m = measure(w, sn);
    if (m > 1 || (m == 1 && !ends_cvc(w, sn))) { w[sn] = 0; *n = sn; }
}

static void step5b(char *w, size_t *n) {
    if (ends_with(w, *n, "ll") && measure(w, *n - 1) > 1) { w[*n - 1] = 0; (*n)--; }
}

size_t porter_stem(const char *word, size_t n, char *w) {
    memcpy(w, word, n);
    w[n] = 0;
    static const struct { const char *form, *stem; } pool[] = {
        {"sky", "sky"}, {"skies", "sky"}, {"dying", "die"}, {"lying", "lie"}, {"tying", "tie"}, {"news", "news"},
        {"innings", "inning"}, {"inning", "inning"}, {"outings", "outing"}, {"outing", "outing"},
        {"cannings", "canning"}, {"canning", "canning"}, {"howe", "howe"}, {"proceed", "proceed"},
        {"exceed", "exceed"}, {"succeed", "succeed"}};
    for (size_t i = 0; i < sizeof pool / sizeof pool[0]; i++)
        if (strlen(pool[i].form) == n && !memcmp(pool[i].form, w, n)) { strcpy(w, pool[i].stem); return strlen(w); }
    if (n <= 2) return n;
    step1a(w, &n);
    step1b(w, &n);
    step1c(w, &n);
    step2(w, &n);
    step3(w, &n);
    step4(w, &n);
    step5a(w, &n);
    step5b(w, &n);
    return n;
}
