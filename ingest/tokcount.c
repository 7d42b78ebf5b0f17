/* ingest_count_fn over the engine tokenizer (engine/tokenizer.h). */
#include "ingest/ingest.h"

#include "common/error.h"

#include <stdlib.h>

#include "engine/tokenizer.h"

int ingest_count_tok(void *ctx, const char *text, size_t len, size_t *ntokens, char *err, size_t errlen) {
    int32_t *ids = NULL;
    size_t n = 0;
    if (tok_encode((const lj_tokenizer *)ctx, text, len, 0, &ids, &n, err, errlen) != 0) return -1;
    free(ids);
    *ntokens = n;
    return 0;
}
