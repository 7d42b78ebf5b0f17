/* Text operations with Python 3 `str` semantics, so that scorers written in Python (SQuAD,
 * LongBench, RULER, rouge, rouge-score, fuzzywuzzy) can be matched exactly: code-point strings,
 * str.lower() (full case mapping with Final_Sigma), str.split() whitespace, re's \w, \d.
 *
 * Ownership: functions returning pointers return malloc'd memory the caller frees. */
#ifndef LJ_EVAL_PYTEXT_H
#define LJ_EVAL_PYTEXT_H

#include <stddef.h>
#include <stdint.h>

/* A code-point string (not NUL-terminated). */
typedef struct py_str {
    uint32_t *c;
    size_t n;
} py_str;

/* Decodes UTF-8 (invalid bytes become U+FFFD, one per byte). Returns 0, or -1 when out of memory. */
int py_decode(const char *s, size_t len, py_str *out);
/* Encodes to a NUL-terminated UTF-8 string (NULL when out of memory). */
char *py_encode(const uint32_t *c, size_t n);
void py_str_free(py_str *s);

/* str.lower(): full lowercase mapping (U+0130 -> "i\u0307") and the Final_Sigma rule. */
int py_lower(const py_str *in, py_str *out);
/* Convenience: UTF-8 in, lowercased UTF-8 out (NULL when out of memory). */
char *py_lower_utf8(const char *s);

int py_isspace(uint32_t c);    /* str.isspace() / str.split() separators / re \s */
int py_isword(uint32_t c);     /* re's \w for str patterns: alphanumeric or '_' */
int py_isdecimal(uint32_t c);  /* re's \d for str patterns (category Nd) */

/* Spans of whitespace-separated tokens (str.split() with no argument): starts and lengths into s.
 * Arrays are malloc'd (NULL when *n == 0). */
int py_split_ws(const uint32_t *s, size_t n, size_t **starts, size_t **lens, size_t *count);

/* Three-way compare of two code-point ranges (lexicographic, then by length). */
int py_cmp(const uint32_t *a, size_t an, const uint32_t *b, size_t bn);

#endif
