/* A backend plugin built for another ABI: lj_backend_open must refuse it with a clear message
 * (tests/plugin/plugin_cli.sh), never call into it. */
#include <stddef.h>

#include "kernels/backend_open.h"

static int never_available(char *why, size_t whylen) { (void)why; (void)whylen; return 0; }
static int never_create(int device, lj_backend **out, char *err, size_t errlen) {
    (void)device; (void)err; (void)errlen; *out = NULL; return -1;
}
static int no_devices(void) { return 0; }
static const lj_backend_plugin stale = {LJ_BACKEND_ABI + 1000, 8, "cuda", never_available, never_create, NULL, 0,
                                        no_devices};

const lj_backend_plugin *lj_backend_plugin_v1(void) { return &stale; }
