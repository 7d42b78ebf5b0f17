#include "test_util.h"

#include <stdlib.h>
#include <string.h>

int test_failures = 0, test_checks = 0;

const char *test_fixture(const char *rel) {
    static char buf[4096];
    const char *root = getenv("LJ_FIXTURES");
    snprintf(buf, sizeof buf, "%s/%s", root && *root ? root : "../shared/fixtures", rel);
    return buf;
}

int test_contains(const char *haystack, const char *needle) {
    return haystack && needle && strstr(haystack, needle) != NULL;
}

int test_finish(const char *name) {
    if (test_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, test_failures, test_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, test_checks);
    return 0;
}
