/* The Porter stemmer exactly as NLTK's PorterStemmer() (mode NLTK_EXTENSIONS) computes it — the
 * stemmer Google's rouge-score uses with use_stemmer=True (on lowercase [a-z0-9] tokens). */
#ifndef LJ_EVAL_PORTER_H
#define LJ_EVAL_PORTER_H

#include <stddef.h>

/* Stems the lowercase ASCII word w[0..n) into out (capacity >= n + 4), NUL-terminated; returns
 * the stem's length. */
size_t porter_stem(const char *w, size_t n, char *out);

#endif
