/* RULER qa_1 / qa_2 (scripts/data/synthetic/qa.py): a question's gold documents among distractor
 * documents from the same data set, as many as fit the length. */
#include "eval/ruler.h"
#include "eval/strbuf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

typedef struct qa_item {
    char *query;
    char **outputs; size_t n_outputs;
    size_t *ctx; size_t n_ctx;        /* gold documents */
    size_t *more; size_t n_more;      /* SQuAD: the other paragraphs of the same article */
} qa_item;

struct ruler_qa_data {
    char **docs; size_t n_docs;       /* sorted, distinct */
    qa_item *qas; size_t n_qas;
};

void ruler_qa_free(struct ruler_qa_data *q) {
    if (!q) return;
    for (size_t i = 0; i < q->n_docs; i++) free(q->docs[i]);
    for (size_t i = 0; i < q->n_qas; i++) {
        free(q->qas[i].query);
        for (size_t k = 0; k < q->qas[i].n_outputs; k++) free(q->qas[i].outputs[k]);
        free(q->qas[i].outputs); free(q->qas[i].ctx); free(q->qas[i].more);
    }
    free(q->docs); free(q->qas); free(q);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static size_t doc_index(struct ruler_qa_data *q, const char *d) {
    char **hit = bsearch(&d, q->docs, q->n_docs, sizeof *q->docs, cmp_str);
    return hit ? (size_t)(hit - q->docs) : 0;
}

/* Collects strings, then sorts and dedups them (sorted(list(set(total_docs)))). */
static int add_doc(char ***docs, size_t *n, size_t *cap, const char *d) {
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        char **p = realloc(*docs, *cap * sizeof *p);
        if (!p) return -1;
        *docs = p;
    }
    (*docs)[(*n)++] = strdup(d);
    return 0;
}

static void finish_docs(struct ruler_qa_data *q) {
    qsort(q->docs, q->n_docs, sizeof *q->docs, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < q->n_docs; i++) {
        if (k && !strcmp(q->docs[k - 1], q->docs[i])) { free(q->docs[i]); continue; }
        q->docs[k++] = q->docs[i];
    }
    q->n_docs = k;
}

static char *hotpot_doc(json_t *pair) {   /* f"{t}\n{''.join(p)}" */
    sbuf b = {0};
    sb_str(&b, json_string_value(json_array_get(pair, 0)) ? json_string_value(json_array_get(pair, 0)) : "");
    sb_str(&b, "\n");
    size_t i;
    json_t *s;
    json_array_foreach(json_array_get(pair, 1), i, s) if (json_is_string(s)) sb_str(&b, json_string_value(s));
    return sb_take(&b);
}

static int grow_qas(struct ruler_qa_data *q, size_t *cap) {
    size_t n = *cap ? 2 * *cap : 256;
    qa_item *p = realloc(q->qas, n * sizeof *p);
    if (!p) return -1;
    q->qas = p;
    *cap = n;
    return 0;
}

int ruler_qa_load(ruler_ctx *c, int which, const char *path, char *err, size_t errlen) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) return lj_errf(err, errlen, "%s:%d: %s", path, je.line, je.text);
    struct ruler_qa_data *q = calloc(1, sizeof *q);
    if (!q) { json_decref(root); return lj_errf(err, errlen, "out of memory"); }
    size_t cap = 0, qcap = 0;
    size_t i, k, m;
    json_t *d, *p, *qa;
    if (!which) {   /* SQuAD: {"data": [{"paragraphs": [{"context", "qas": [{question, answers, is_impossible}]}]}]} */
        json_t *data = json_object_get(root, "data");
        if (!json_is_array(data)) { json_decref(root); free(q); return lj_errf(err, errlen, "%s: not SQuAD JSON (no \"data\" array)", path); }
        json_array_foreach(data, i, d) json_array_foreach(json_object_get(d, "paragraphs"), k, p)
            if (json_is_string(json_object_get(p, "context"))) add_doc(&q->docs, &q->n_docs, &cap, json_string_value(json_object_get(p, "context")));
        finish_docs(q);
        json_array_foreach(data, i, d) {
            json_t *paras = json_object_get(d, "paragraphs");
            json_array_foreach(paras, k, p) {
                const char *ctx = json_string_value(json_object_get(p, "context"));
                if (!ctx) continue;
                size_t me = doc_index(q, ctx);
                json_array_foreach(json_object_get(p, "qas"), m, qa) {
                    if (json_is_true(json_object_get(qa, "is_impossible"))) continue;
                    if (q->n_qas == qcap && grow_qas(q, &qcap)) { json_decref(root); ruler_qa_free(q); return lj_errf(err, errlen, "%s: out of memory", path); }
                    qa_item *it = &q->qas[q->n_qas++];
                    memset(it, 0, sizeof *it);
                    it->query = strdup(json_string_value(json_object_get(qa, "question")) ? json_string_value(json_object_get(qa, "question")) : "");
                    json_t *ans = json_object_get(qa, "answers");
                    it->outputs = calloc(json_array_size(ans) + 1, sizeof *it->outputs);
                    size_t a;
                    json_t *av;
                    json_array_foreach(ans, a, av) {
                        const char *tx = json_string_value(json_object_get(av, "text"));
                        if (tx) it->outputs[it->n_outputs++] = strdup(tx);
                    }
                    it->ctx = malloc(sizeof *it->ctx);
                    it->ctx[0] = me;
                    it->n_ctx = 1;
                    it->more = calloc(json_array_size(paras) + 1, sizeof *it->more);
                    size_t o;
                    json_t *op;
                    json_array_foreach(paras, o, op) {
                        const char *oc = json_string_value(json_object_get(op, "context"));
                        if (oc && doc_index(q, oc) != me) it->more[it->n_more++] = doc_index(q, oc);
                    }
                }
            }
        }
    } else {        /* HotpotQA: [{"question", "answer", "context": [[title, [sentences]]]}] */
        if (!json_is_array(root)) { json_decref(root); free(q); return lj_errf(err, errlen, "%s: not HotpotQA JSON (no top-level array)", path); }
        json_array_foreach(root, i, d) json_array_foreach(json_object_get(d, "context"), k, p) {
            char *doc = hotpot_doc(p);
            if (doc) add_doc(&q->docs, &q->n_docs, &cap, doc);
            free(doc);
        }
        finish_docs(q);
        json_array_foreach(root, i, d) {
            if (q->n_qas == qcap && grow_qas(q, &qcap)) { json_decref(root); ruler_qa_free(q); return lj_errf(err, errlen, "%s: out of memory", path); }
            qa_item *it = &q->qas[q->n_qas++];
            memset(it, 0, sizeof *it);
            it->query = strdup(json_string_value(json_object_get(d, "question")) ? json_string_value(json_object_get(d, "question")) : "");
            it->outputs = calloc(1, sizeof *it->outputs);
            it->outputs[0] = strdup(json_string_value(json_object_get(d, "answer")) ? json_string_value(json_object_get(d, "answer")) : "");
            it->n_outputs = 1;
            json_t *ctx = json_object_get(d, "context");
            it->ctx = calloc(json_array_size(ctx) + 1, sizeof *it->ctx);
            json_array_foreach(ctx, k, p) {
                char *doc = hotpot_doc(p);
                if (doc) it->ctx[it->n_ctx++] = doc_index(q, doc);
                free(doc);
            }
        }
    }
    json_decref(root);
    if (!q->n_qas || !q->n_docs) { ruler_qa_free(q); return lj_errf(err, errlen, "%s: no answerable questions", path); }
    ruler_qa_free(c->qa[which]);
    c->qa[which] = q;
    return 0;
}

/* splitmix64, as in ruler.c (each generator keeps its own stream) */
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static const char QA_T[] =
    "Answer the question based on the given documents. Only give me the answer and do not output any other "
    "words.\n\nThe following are given documents.\n\n{context}\n\nAnswer the question based on the given "
    "documents. Only give me the answer and do not output any other words.\n\nQuestion: {query}";
static const char QA_P[] = " Answer:";

int ruler_qa_build(ruler_ctx *c, const ruler_task *t, uint64_t seed, size_t num_docs, char **full, char ***outputs,
                   size_t *n_outputs) {
    struct ruler_qa_data *q = c->qa[t->haystack[0] == 'h'];
    qa_item *it = &q->qas[c->cur_index % q->n_qas];
    uint64_t r = seed;
    size_t *all = malloc((num_docs + it->n_ctx + it->n_more + 1) * sizeof *all), na = 0;
    if (!all) return -1;
    if (num_docs < q->n_docs) {
        /* gold documents, then the article's other paragraphs, then random others */
        for (size_t i = 0; i < it->n_ctx; i++) all[na++] = it->ctx[i];
        size_t want_more = num_docs > it->n_ctx ? num_docs - it->n_ctx : 0;
        size_t *more = malloc((it->n_more + 1) * sizeof *more);
        if (it->n_more) memcpy(more, it->more, it->n_more * sizeof *more);
        for (size_t i = it->n_more; i > 1; i--) { size_t j = next_u64(&r) % i; size_t x = more[i - 1]; more[i - 1] = more[j]; more[j] = x; }
        for (size_t i = 0; i < it->n_more && i < want_more; i++) all[na++] = more[i];
        free(more);
        unsigned char *used = calloc(q->n_docs, 1);
        for (size_t i = 0; i < na; i++) used[all[i]] = 1;
        size_t free_docs = 0;
        for (size_t i = 0; i < q->n_docs; i++) free_docs += !used[i];
        while (na < num_docs && free_docs) {
            size_t pick = next_u64(&r) % q->n_docs;
            while (used[pick]) pick = (pick + 1) % q->n_docs;
            used[pick] = 1;
            free_docs--;
            all[na++] = pick;
        }
        free(used);
    } else {
        size_t *grown = realloc(all, (num_docs + 1) * sizeof *all);
        if (!grown) { free(all); return -1; }
        all = grown;
        for (size_t i = 0; i < num_docs; i++) all[na++] = i % q->n_docs;   /* (DOCS * repeats)[:num_docs] */
    }
    for (size_t i = na; i > 1; i--) { size_t j = next_u64(&r) % i; size_t x = all[i - 1]; all[i - 1] = all[j]; all[j] = x; }
    sbuf ctx = {0};
    for (size_t i = 0; i < na; i++) sb_printf(&ctx, i ? "\n\nDocument %zu:\n%s" : "Document %zu:\n%s", i + 1, q->docs[all[i]]);
    free(all);
    char *context = sb_take(&ctx);
    sbuf b = {0};
    for (const char *p = QA_T; *p;) {
        if (!strncmp(p, "{context}", 9)) { sb_str(&b, context ? context : ""); p += 9; }
        else if (!strncmp(p, "{query}", 7)) { sb_str(&b, it->query); p += 7; }
        else { sb_add(&b, p, 1); p++; }
    }
    sb_str(&b, QA_P);
    free(context);
    *full = sb_take(&b);
    *outputs = calloc(it->n_outputs + 1, sizeof **outputs);
    for (size_t i = 0; i < it->n_outputs; i++) (*outputs)[i] = strdup(it->outputs[i]);
    *n_outputs = it->n_outputs;
    return *full ? 0 : -1;
}
