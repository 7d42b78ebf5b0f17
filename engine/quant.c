/* Per-row symmetric int8 quantisation (see quant.h). */
#include "engine/quant.h"

#include <math.h>
#include <string.h>

static float elem_f32(const unsigned char *p, lj_dtype t, size_t i) {
    uint16_t h;
    float f;
    switch (t) {
    case LJ_F32: memcpy(&f, p + 4 * i, 4); return f;
    case LJ_BF16: memcpy(&h, p + 2 * i, 2); return lj_bf16_to_f32(h);
    default: memcpy(&h, p + 2 * i, 2); return lj_f16_to_f32(h);
    }
}

int quant_rows_i8(const void *src, lj_dtype st, size_t rows, size_t cols, int8_t *q, float *scale, size_t *bad) {
    const unsigned char *s = src;
    *bad = 0;
    if (st != LJ_F32 && st != LJ_BF16 && st != LJ_F16) return -1;
    for (size_t r = 0; r < rows; r++) {
        const size_t base = r * cols;
        float mx = 0.0f;
        for (size_t j = 0; j < cols; j++) {
            float v = elem_f32(s, st, base + j);
            if (!isfinite(v)) { *bad = base + j; return -1; }
            float a = fabsf(v);
            if (a > mx) mx = a;
        }
        float sc = mx / 127.0f;
        scale[r] = sc;
        int8_t *qr = q + base;
        if (sc == 0.0f) { memset(qr, 0, cols); continue; }
        /* w / scale in double (exact enough that ties stay ties), rounded half to even as
         * torch.round does: bf16 weights land on .5 often, and the int8 reference
         * (tools/make_int8_reference.py) must see the same q */
        const double sd = (double)sc;
        for (size_t j = 0; j < cols; j++) {
            double v = rint((double)elem_f32(s, st, base + j) / sd);
            qr[j] = (int8_t)(v > 127.0 ? 127 : v < -127.0 ? -127 : v);
        }
    }
    return 0;
}

void quant_dequant_rows(const int8_t *q, const float *scale, size_t rows, size_t cols, float *w) {
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < cols; j++) w[r * cols + j] = (float)q[r * cols + j] * scale[r];
}
