/* lj_backend_open: "cpu" directly, other backends through a plugin (see backend_open.h for the
 * search order). dlopen keeps CUDA's libraries out of the program's start-up. */
#include "kernels/backend_open.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"

/* Defined when the program itself links the CUDA backend (kernels/cuda/plugin.c); weak, so a
 * program without it (the longjam executable) sees NULL and loads the plugin instead. */
extern const lj_backend_plugin *lj_backend_plugin_v1(void) __attribute__((weak));

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static const lj_backend_plugin *g_cuda;   /* loaded once, never unloaded */

/* dlopen `path` and check its entry point; NULL with the reason in err. */
static const lj_backend_plugin *plugin_load(const char *path, char *err, size_t errlen) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) { lj_errf(err, errlen, "cannot load %s: %s", LJ_CUDA_PLUGIN_FILE, dlerror()); return NULL; }
    lj_backend_plugin_fn fn;
    *(void **)&fn = dlsym(h, LJ_BACKEND_PLUGIN_ENTRY);   /* object → function pointer, POSIX way */
    if (!fn) {
        lj_errf(err, errlen, "cannot load %s: %s: no %s entry point", LJ_CUDA_PLUGIN_FILE, path, LJ_BACKEND_PLUGIN_ENTRY);
        dlclose(h);
        return NULL;
    }
    const lj_backend_plugin *p = fn();
    if (!p || p->abi != LJ_BACKEND_ABI || p->backend_size != sizeof(lj_backend)) {
        lj_errf(err, errlen,
                "cannot load %s: %s: built for backend ABI %u (lj_backend %u bytes), this longjam has ABI %d (%zu bytes); "
                "rebuild both from one tree",
                LJ_CUDA_PLUGIN_FILE, path, p ? p->abi : 0u, p ? p->backend_size : 0u, LJ_BACKEND_ABI, sizeof(lj_backend));
        dlclose(h);
        return NULL;
    }
    return p;
}

#ifdef LONGJAM_CUDA_PLUGIN_BUILT
/* Directory of the running executable, or "" (no /proc). */
static void exe_dir(char *dir, size_t len) {
    ssize_t n = readlink("/proc/self/exe", dir, len - 1);
    if (n <= 0) { dir[0] = 0; return; }
    dir[n] = 0;
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else dir[0] = 0;
}
#endif

static const lj_backend_plugin *cuda_find(char *err, size_t errlen) {
    if (lj_backend_plugin_v1) return lj_backend_plugin_v1();   /* linked in */
    const char *env = getenv("LONGJAM_CUDA_PLUGIN");
    if (env && *env) {
        const lj_backend_plugin *p = plugin_load(env, err, errlen);
        if (!p) lj_err_prefix(err, errlen, "LONGJAM_CUDA_PLUGIN=%s", env);
        return p;
    }
#ifndef LONGJAM_CUDA_PLUGIN_BUILT
    lj_errf(err, errlen, "CUDA backend not built (no nvcc at build time)");
    return NULL;
#else
    char dir[PATH_MAX], path[PATH_MAX + 64];
    exe_dir(dir, sizeof dir);
    if (dir[0]) {
        snprintf(path, sizeof path, "%s/%s", dir, LJ_CUDA_PLUGIN_FILE);
        if (access(path, F_OK) == 0) return plugin_load(path, err, errlen);   /* there but broken: say why */
    }
    return plugin_load(LJ_CUDA_PLUGIN_FILE, err, errlen);   /* the loader's search path */
#endif
}

const lj_backend_plugin *lj_backend_plugin_get(const char *name, char *err, size_t errlen) {
    if (strcmp(name, "cuda")) { lj_errf(err, errlen, "no plugin backend \"%s\"", name); return NULL; }
    pthread_mutex_lock(&g_lock);
    if (!g_cuda) g_cuda = cuda_find(err, errlen);
    const lj_backend_plugin *p = g_cuda;
    pthread_mutex_unlock(&g_lock);
    return p;
}

int lj_backend_device_count(const char *name, char *err, size_t errlen) {
    if (!strcmp(name, "cpu")) return 1;
    if (strcmp(name, "cuda")) return lj_errf(err, errlen, "unknown device \"%s\" (expected cpu or cuda)", name);
    const lj_backend_plugin *p = lj_backend_plugin_get(name, err, errlen);
    return p ? p->device_count() : -1;
}

int lj_backend_open(const char *name, int threads, int gpu, lj_backend **out, char *err, size_t errlen) {
    *out = NULL;
    if (!strcmp(name, "cpu")) return lj_backend_cpu_new(threads, out, err, errlen);
    if (strcmp(name, "cuda")) return lj_errf(err, errlen, "unknown device \"%s\" (expected cpu or cuda)", name);
    const lj_backend_plugin *p = lj_backend_plugin_get(name, err, errlen);
    if (!p) return -1;
    char why[512];
    if (!p->available(why, sizeof why)) return lj_errf(err, errlen, "no CUDA device: %s", why);
    return p->create(gpu, out, err, errlen);
}
