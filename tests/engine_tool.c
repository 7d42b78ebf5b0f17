/* Helper for the engine's shell tests:
 *   engine_tool compare A.safetensors B.safetensors NAME TOL   exit 0 when tensor NAME has the same
 *       shape in both and max|a-b| <= TOL * max|b| (prints the relative error)
 *   engine_tool ids FILE.safetensors NAME [SEP]                 prints an I64 tensor joined by SEP (",") */
#include "engine/safetensors.h"
#include "engine_ref.h"

#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    char err[LJ_ERRLEN];
    if (argc >= 6 && !strcmp(argv[1], "compare")) {
        st_file *a, *b;
        if (st_open(argv[2], &a, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
        if (st_open(argv[3], &b, err, sizeof err)) { fprintf(stderr, "%s\n", err); st_close(a); return 1; }
        const st_tensor *ta = st_find(a, argv[4]), *tb = st_find(b, argv[4]);
        int rc = 1;
        if (!ta || !tb || ta->dtype != ST_F32 || tb->dtype != ST_F32) fprintf(stderr, "%s: missing or not F32\n", argv[4]);
        else if (ta->ndim != tb->ndim || memcmp(ta->shape, tb->shape, ta->ndim * sizeof ta->shape[0]))
            fprintf(stderr, "%s: shapes differ\n", argv[4]);
        else {
            float *x = malloc(ta->nbytes + 4), *y = malloc(tb->nbytes + 4);
            memcpy(x, ta->data, ta->nbytes);
            memcpy(y, tb->data, tb->nbytes);
            double e = rel_err(x, y, ta->numel), tol = atof(argv[5]);
            printf("%s: relative error %.3g (tolerance %g)\n", argv[4], e, tol);
            rc = e <= tol ? 0 : 1;
            free(x);
            free(y);
        }
        st_close(a);
        st_close(b);
        return rc;
    }
    if (argc >= 4 && !strcmp(argv[1], "ids")) {
        st_file *f;
        if (st_open(argv[2], &f, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
        const st_tensor *t = st_find(f, argv[3]);
        if (!t || t->dtype != ST_I64) { fprintf(stderr, "%s: no I64 tensor %s\n", argv[2], argv[3]); st_close(f); return 1; }
        for (size_t i = 0; i < t->numel; i++) {
            long long v;
            memcpy(&v, (const char *)t->data + 8 * i, 8);
            if (i) fputs(argc > 4 ? argv[4] : ",", stdout);
            printf("%lld", v);
        }
        printf("\n");
        st_close(f);
        return 0;
    }
    fprintf(stderr, "usage: engine_tool compare A B NAME TOL | engine_tool ids FILE NAME [SEP]\n");
    return 2;
}
