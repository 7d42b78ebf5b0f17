/* Minimal test harness: CHECK() records a failure with file:line and goes on; a test's main()
 * returns test_finish(), which prints the tally and gives ctest the exit status.
 * A test program that cannot run here (no GPU, missing fixture) returns TEST_SKIP (77), which the
 * area's .cmake marks SKIP_RETURN_CODE so ctest shows it as skipped, with the reason printed. */
#ifndef LJ_TEST_UTIL_H
#define LJ_TEST_UTIL_H

#include <stdio.h>

#define TEST_SKIP 77

extern int test_failures, test_checks;

#define CHECK(cond) do { test_checks++; if (!(cond)) { test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECKF(cond, ...) do { test_checks++; if (!(cond)) { test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* Path of a shared fixture: $LJ_FIXTURES (set by ctest) or ../shared/fixtures. Static buffer. */
const char *test_fixture(const char *rel);

/* True when `haystack` contains `needle` (NULL-safe). */
int test_contains(const char *haystack, const char *needle);

int test_finish(const char *name);

#endif
