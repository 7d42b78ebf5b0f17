/* Opening a backend by name, and the ABI of backend plugins.
 *
 * "cpu" is built into every longjam. "cuda" lives in a plugin, liblongjam-cuda.so, loaded on first
 * use so that CPU-only commands never map cudart/cuBLAS (hundreds of MB of RSS and ~0.2 s of
 * start-up) and a longjam built with CUDA still starts on a machine without it.
 *
 * Finding the plugin (first that applies):
 *   1. a plugin linked into the program itself (tests, the standalone GPU bench);
 *   2. $LONGJAM_CUDA_PLUGIN: a path to the .so (when set, nothing else is tried);
 *   3. liblongjam-cuda.so in the directory of the running executable (/proc/self/exe), where the
 *      build tree and `cmake --install` put it;
 *   4. liblongjam-cuda.so on the dynamic loader's search path (LD_LIBRARY_PATH, ld.so.conf).
 * The plugin is loaded once per process and never unloaded (backends made from it stay valid). */
#ifndef LJ_KERNELS_BACKEND_OPEN_H
#define LJ_KERNELS_BACKEND_OPEN_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bump when lj_backend_plugin or the meaning of a backend op changes without changing
 * sizeof(lj_backend) (a new op changes the size, which is checked as well). */
#define LJ_BACKEND_ABI 2
#define LJ_CUDA_PLUGIN_FILE "liblongjam-cuda.so"
#define LJ_BACKEND_PLUGIN_ENTRY "lj_backend_plugin_v1"

/* What a plugin's entry point lj_backend_plugin_v1() returns (static storage, owned by the plugin). */
typedef struct lj_backend_plugin {
    uint32_t abi;            /* LJ_BACKEND_ABI the plugin was built with */
    uint32_t backend_size;   /* sizeof(lj_backend) the plugin was built with */
    const char *name;        /* "cuda" */
    /* 1 when a device can be used; else 0 with the reason (the driver's error) in why. */
    int (*available)(char *why, size_t whylen);
    /* Constructor: as lj_backend_cpu_new; the caller frees *out with (*out)->destroy(*out). */
    int (*create)(int device, lj_backend **out, char *err, size_t errlen);
    /* Backend-specific functions beyond the op table (for cuda: ljc_api, kernels/cuda/cuda_plugin.h). */
    const void *extras;
    size_t extras_size;
    /* Devices this process can use (CUDA_VISIBLE_DEVICES applies); 0 when none. */
    int (*device_count)(void);
} lj_backend_plugin;

typedef const lj_backend_plugin *(*lj_backend_plugin_fn)(void);

/* Opens backend `name`: "cpu" (threads: worker count, 0 = all CPUs) or "cuda" (gpu: device
 * index). 0 with *out owned by the caller, or -1 with a message: "CUDA backend not built (no nvcc
 * at build time)", "cannot load liblongjam-cuda.so: <dlerror>", "no CUDA device: <cuda error>",
 * an ABI mismatch, or the constructor's error. */
int lj_backend_open(const char *name, int threads, int gpu, lj_backend **out, char *err, size_t errlen);

/* Devices of backend `name`: 1 for "cpu"; for "cuda" the visible GPUs (0 when the plugin loads but
 * finds none), or -1 with a message when the plugin cannot be loaded. */
int lj_backend_device_count(const char *name, char *err, size_t errlen);

/* The loaded plugin for `name` (loading it if needed), or NULL with a message as above.
 * The plugin stays loaded for the life of the process. */
const lj_backend_plugin *lj_backend_plugin_get(const char *name, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
