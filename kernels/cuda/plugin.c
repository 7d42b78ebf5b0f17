/* The entry point of liblongjam-cuda.so (kernels/backend_open.h): the only symbol the plugin
 * exports. Also linked into programs that carry the CUDA backend statically (tests, the
 * standalone GPU bench), where lj_backend_open finds it without dlopen. */
#include <stdio.h>

#include <cuda_runtime_api.h>

#include "kernels/backend_open.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_plugin.h"

static int plugin_available(char *why, size_t whylen) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        snprintf(why, whylen, "%s", e != cudaSuccess ? cudaGetErrorString(e) : "device count is 0");
        cudaGetLastError();   /* clear the sticky error for a later retry */
        return 0;
    }
    return 1;
}

static int plugin_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) { cudaGetLastError(); return 0; }
    return n;
}

static const ljc_api api = {
    ljc_device_info, ljc_fill_random, ljc_fill_alog, ljc_set_moe_gemm, ljc_timer_start, ljc_timer_stop, ljc_w8a16_gemm,
    ljc_scan_floor, ljc_comm_nccl_group,
};

static const lj_backend_plugin plugin = {
    LJ_BACKEND_ABI, (uint32_t)sizeof(lj_backend), "cuda", plugin_available, lj_backend_cuda_new, &api, sizeof api,
    plugin_device_count,
};

__attribute__((visibility("default"))) const lj_backend_plugin *lj_backend_plugin_v1(void) { return &plugin; }
