/* ExpertsInt8: symmetric per-output-channel int8 quantisation of weight matrices, done on the
 * host while loading (each row of an nn.Linear weight [out, in] is one output channel):
 *   scale[r] = max_j |w[r, j]| / 127          (0 for an all-zero row)
 *   q[r, j]  = clamp(round(w[r, j] / scale[r]), -127, 127)   (half to even, as torch.round)
 *   w[r, j] ≈ q[r, j] · scale[r], |error| <= scale[r] / 2
 * Backends take the int8 matrix with its scales (lj_tensor dtype LJ_I8, .scale) and dequantise in
 * registers (CUDA) or per row on the fly (CPU). */
#ifndef LJ_ENGINE_QUANT_H
#define LJ_ENGINE_QUANT_H

#include "kernels/backend.h"

#include <stddef.h>
#include <stdint.h>

/* Quantises `rows` rows of `cols` elements of src (F32, BF16 or F16; unaligned allowed, e.g. a view
 * into a mapped safetensors file) into q [rows, cols] and scale [rows]. Returns 0, or -1 when src
 * holds a NaN or infinity (*bad = its element index) or src_dtype is not a float type. */
int quant_rows_i8(const void *src, lj_dtype src_dtype, size_t rows, size_t cols, int8_t *q, float *scale,
                  size_t *bad);

/* w[r, j] = q[r, j] * scale[r] (for tests and reference paths). */
void quant_dequant_rows(const int8_t *q, const float *scale, size_t rows, size_t cols, float *w);

#endif
