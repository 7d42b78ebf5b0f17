/* longjam run: OpenAI batch files, as the Batch API and `vllm run-batch` read and write them.
 *   in:  {"custom_id", "method": "POST", "url": "/v1/chat/completions" | "/v1/completions", "body"}
 *   out: {"id": "batch_req_…", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}
 * A request that fails validation gets status 400 with body.error = {message, type, param, code};
 * failures outside a request (expired deadline) get the top-level error = {code, message}.
 * Ids are derived from the custom_id, so a rerun writes identical lines (apart from "created"). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/util.h"
#include "pipelines/linereader.h"
#include "pipelines/pipelines.h"

#define MAX_N 16
#define MAX_TOP_LOGPROBS 20
#define MAX_STOPS 4

typedef struct run_ctx {
    pl_runtime rt;
    const pl_common_opts *o;
    pl_backend *b;
    size_t n_ctx;
    FILE *in;
    const char *input;
    pthread_t producer;
    pthread_t *workers;
    size_t n_workers;
} run_ctx;

/* A parsed line on its way from the reader to a worker. */
typedef struct run_item {
    uint64_t seq;
    json_t *j;
    char *custom_id;
    int occurrence;
    size_t line_no;
} run_item;

typedef struct run_req run_req;
typedef struct run_choice {
    lj_seq q;
    run_req *req;
    int index;
    int32_t *toks;          /* generated ids without end ids */
    size_t n_toks, cap_toks, n_gen;
    char *text;             /* set when a stop string cut the text */
    size_t scan_from;
    int32_t *lp_ids;        /* [n_gen, 1 + top] chosen id then the top ids */
    float *lp;              /* [n_gen, 1 + top] */
} run_choice;

struct run_req {
    pl_task task;
    run_ctx *c;
    pl_engine *e;
    char *custom_id;
    int occurrence;
    int chat;
    char *model_name;
    int32_t *prompt;
    size_t n_prompt, max_new;
    lj_sampler_params sp;
    int n, logprobs, top_logprobs;
    char *stops[MAX_STOPS];
    size_t n_stops;
    run_choice ch[MAX_N];
    int remaining;
};

/* ---- ids and line builders ------------------------------------------------------------------ */

static void hex_id(char *out, size_t outlen, const char *prefix, const char *key, int occurrence, const char *salt) {
    char buf[600];
    snprintf(buf, sizeof buf, "%s#%d#%s", key, occurrence, salt);
    uint64_t h = pl_fnv1a64(buf, strlen(buf));
    uint64_t h2 = pl_fnv1a64(&h, sizeof h);
    snprintf(out, outlen, "%s%016llx%08llx", prefix, (unsigned long long)h, (unsigned long long)(h2 >> 32));
}

/* key of a line without a usable custom_id */
static void line_key(char *out, size_t outlen, size_t line_no) { snprintf(out, outlen, "\x01line %zu", line_no); }

static json_t *line_object(const char *custom_id, const char *key, int occurrence, json_t *response, json_t *error) {
    char id[64];
    hex_id(id, sizeof id, "batch_req_", key, occurrence, "line");
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "custom_id", custom_id ? json_string(custom_id) : json_null());
    json_object_set_new(o, "response", response ? response : json_null());
    json_object_set_new(o, "error", error ? error : json_null());
    return o;
}

static json_t *response_object(const char *key, int occurrence, int status, json_t *body) {
    char rid[64];
    hex_id(rid, sizeof rid, "", key, occurrence, "request");
    json_t *r = json_object();
    json_object_set_new(r, "status_code", json_integer(status));
    json_object_set_new(r, "request_id", json_string(rid));
    json_object_set_new(r, "body", body);
    return r;
}

/* A 400 (or 500) line: body.error = {message, type, param, code}. */
static pl_result *error_line(uint64_t seq, const char *custom_id, size_t line_no, int occurrence, int status,
                             const char *param, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
static pl_result *error_line(uint64_t seq, const char *custom_id, size_t line_no, int occurrence, int status,
                             const char *param, const char *code, const char *fmt, ...) {
    char msg[1200], key[64];
    va_list ap;
    va_start(ap, fmt);
    int k = custom_id ? 0 : snprintf(msg, sizeof msg, "line %zu: ", line_no);
    vsnprintf(msg + k, sizeof msg - (size_t)k, fmt, ap);
    va_end(ap);
    if (!custom_id) line_key(key, sizeof key, line_no);
    json_t *e = json_object();
    json_object_set_new(e, "message", json_string(msg));
    json_object_set_new(e, "type", json_string(status >= 500 ? "server_error" : "invalid_request_error"));
    json_object_set_new(e, "param", param ? json_string(param) : json_null());
    json_object_set_new(e, "code", code ? json_string(code) : json_null());
    json_t *body = json_object();
    json_object_set_new(body, "error", e);
    const char *kk = custom_id ? custom_id : key;
    return pl_result_new(seq, line_object(custom_id, kk, occurrence, response_object(kk, occurrence, status, body), NULL), 1);
}

/* ---- resume key ----------------------------------------------------------------------------- */

static int run_key(json_t *line, char **key, int *is_error, int *is_dup) {
    json_t *cid = json_object_get(line, "custom_id"), *resp = json_object_get(line, "response");
    json_t *status = json_object_get(resp, "status_code");
    json_t *berr = json_object_get(json_object_get(resp, "body"), "error");
    *is_error = !json_is_null(json_object_get(line, "error")) || !json_is_integer(status) || json_integer_value(status) != 200;
    json_t *code = json_object_get(berr, "code");
    *is_dup = json_is_string(code) && !strcmp(json_string_value(code), "duplicate_custom_id");
    if (json_is_string(cid)) { *key = strdup(json_string_value(cid)); return *key ? 0 : -1; }
    // no custom_id: the error message starts with "line N: "
    const char *msg = json_string_value(json_object_get(berr, "message"));
    size_t n;
    if (!msg || sscanf(msg, "line %zu:", &n) != 1) return -1;
    char k[64];
    line_key(k, sizeof k, n);
    *key = strdup(k);
    return *key ? 0 : -1;
}

/* ---- generation callbacks ------------------------------------------------------------------- */

static int choice_token(lj_seq *q, int32_t t, int is_eos, const float *logits) {
    run_choice *ch = q->user;
    run_req *r = ch->req;
    pl_backend *b = r->c->b;
    if (r->logprobs) {
        size_t w = 1 + (size_t)r->top_logprobs, i = ch->n_gen;
        int32_t *ids = realloc(ch->lp_ids, (i + 1) * w * sizeof *ids);
        if (ids) ch->lp_ids = ids;
        float *lp = realloc(ch->lp, (i + 1) * w * sizeof *lp);
        if (lp) ch->lp = lp;
        if (ids && lp) {
            ch->lp_ids[i * w] = t;
            ch->lp[i * w] = lj_logprob(logits, b->model.vocab, t);
            if (r->top_logprobs)
                lj_top_logprobs(logits, b->model.vocab, (size_t)r->top_logprobs, ch->lp_ids + i * w + 1, ch->lp + i * w + 1);
        }
    }
    ch->n_gen++;
    if (is_eos) return 0;
    if (ch->n_toks == ch->cap_toks) {
        size_t c = ch->cap_toks ? ch->cap_toks * 2 : 64;
        int32_t *p = realloc(ch->toks, c * sizeof *p);
        if (!p) return 1;
        ch->toks = p;
        ch->cap_toks = c;
    }
    ch->toks[ch->n_toks++] = t;
    if (!r->n_stops) return 0;
    char *text = NULL, err[256];
    if (b->decode(b, ch->toks, ch->n_toks, &text, err, sizeof err)) return 0;
    size_t len = strlen(text);
    size_t pos = lj_stop_find(text, len, ch->scan_from < len ? ch->scan_from : len, (const char *const *)r->stops, r->n_stops);
    if (pos < len) {
        text[pos] = 0;
        ch->text = text;
        return 1;
    }
    ch->scan_from = len;
    free(text);
    return 0;
}

static json_t *bytes_array(const char *s) {
    json_t *a = json_array();
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) json_array_append_new(a, json_integer(*p));
    return a;
}

static char *token_text(pl_backend *b, int32_t id) {
    char *t = NULL, err[128];
    if (b->decode(b, &id, 1, &t, err, sizeof err)) return strdup("");
    return t;
}

static json_t *chat_logprobs(run_choice *ch) {
    run_req *r = ch->req;
    size_t w = 1 + (size_t)r->top_logprobs;
    json_t *content = json_array();
    for (size_t i = 0; i < ch->n_gen && ch->lp_ids; i++) {
        json_t *e = json_object();
        char *tx = token_text(r->c->b, ch->lp_ids[i * w]);
        json_object_set_new(e, "token", json_string(tx));
        json_object_set_new(e, "logprob", json_real(ch->lp[i * w]));
        json_object_set_new(e, "bytes", bytes_array(tx));
        free(tx);
        json_t *top = json_array();
        for (int k = 0; k < r->top_logprobs; k++) {
            json_t *x = json_object();
            char *tt = token_text(r->c->b, ch->lp_ids[i * w + 1 + k]);
            json_object_set_new(x, "token", json_string(tt));
            json_object_set_new(x, "logprob", json_real(ch->lp[i * w + 1 + k]));
            json_object_set_new(x, "bytes", bytes_array(tt));
            free(tt);
            json_array_append_new(top, x);
        }
        json_object_set_new(e, "top_logprobs", top);
        json_array_append_new(content, e);
    }
    json_t *o = json_object();
    json_object_set_new(o, "content", content);
    return o;
}

static json_t *completion_logprobs(run_choice *ch) {
    run_req *r = ch->req;
    size_t w = 1 + (size_t)r->top_logprobs, off = 0;
    json_t *tokens = json_array(), *lps = json_array(), *tops = json_array(), *offs = json_array();
    for (size_t i = 0; i < ch->n_gen && ch->lp_ids; i++) {
        char *tx = token_text(r->c->b, ch->lp_ids[i * w]);
        json_array_append_new(tokens, json_string(tx));
        json_array_append_new(lps, json_real(ch->lp[i * w]));
        json_array_append_new(offs, json_integer((json_int_t)off));
        off += strlen(tx);
        free(tx);
        json_t *top = json_object();
        for (int k = 0; k < r->top_logprobs; k++) {
            char *tt = token_text(r->c->b, ch->lp_ids[i * w + 1 + k]);
            if (!json_object_get(top, tt)) json_object_set_new(top, tt, json_real(ch->lp[i * w + 1 + k]));
            free(tt);
        }
        json_array_append_new(tops, top);
    }
    json_t *o = json_object();
    json_object_set_new(o, "tokens", tokens);
    json_object_set_new(o, "token_logprobs", lps);
    json_object_set_new(o, "top_logprobs", tops);
    json_object_set_new(o, "text_offset", offs);
    return o;
}

static void req_free(run_req *r) {
    for (int i = 0; i < r->n; i++) {
        free(r->ch[i].toks);
        free(r->ch[i].text);
        free(r->ch[i].lp_ids);
        free(r->ch[i].lp);
    }
    for (size_t i = 0; i < r->n_stops; i++) free(r->stops[i]);
    free(r->prompt);
    free(r->custom_id);
    free(r->model_name);
    free(r);
}

static void req_finish(run_req *r) {
    run_ctx *c = r->c;
    pl_engine *e = r->e;
    int state = pl_engine_state(e);
    int aborted = 0, errored = -1;
    for (int i = 0; i < r->n; i++) {
        if (r->ch[i].q.finish == LJ_FINISH_ABORTED) aborted = 1;
        if (r->ch[i].q.finish == LJ_FINISH_ERROR && errored < 0) errored = i;
    }
    pl_result *res = NULL;
    if (aborted && state == PL_EXPIRED) {
        json_t *err = json_object();
        json_object_set_new(err, "code", json_string("batch_expired"));
        json_object_set_new(err, "message", json_string("This request could not be executed before the deadline (--deadline) expired."));
        res = pl_result_new(0, line_object(r->custom_id, r->custom_id, r->occurrence, NULL, err), 1);
    } else if (aborted) {
        res = NULL;   // interrupted: no line, so a rerun redoes this request
    } else if (errored >= 0) {
        res = error_line(0, r->custom_id, 0, r->occurrence, 500, NULL, "generation_failed", "%s", r->ch[errored].q.err);
    } else {
        size_t completion = 0;
        json_t *choices = json_array();
        for (int i = 0; i < r->n; i++) {
            run_choice *ch = &r->ch[i];
            completion += ch->n_gen;
            char *text = ch->text;
            char err[256];
            if (!text && c->b->decode(c->b, ch->toks, ch->n_toks, &text, err, sizeof err)) text = strdup("");
            json_t *cj = json_object();
            json_object_set_new(cj, "index", json_integer(i));
            if (r->chat) {
                json_t *m = json_object();
                json_object_set_new(m, "role", json_string("assistant"));
                json_object_set_new(m, "content", json_string(text ? text : ""));
                json_object_set_new(cj, "message", m);
                json_object_set_new(cj, "logprobs", r->logprobs ? chat_logprobs(ch) : json_null());
            } else {
                json_object_set_new(cj, "text", json_string(text ? text : ""));
                json_object_set_new(cj, "logprobs", r->logprobs ? completion_logprobs(ch) : json_null());
            }
            json_object_set_new(cj, "finish_reason", json_string(ch->q.finish == LJ_FINISH_STOP ? "stop" : "length"));
            json_array_append_new(choices, cj);
            if (text != ch->text) free(text);
        }
        char bid[64];
        hex_id(bid, sizeof bid, r->chat ? "chatcmpl-" : "cmpl-", r->custom_id, r->occurrence, "body");
        json_t *body = json_object();
        json_object_set_new(body, "id", json_string(bid));
        json_object_set_new(body, "object", json_string(r->chat ? "chat.completion" : "text_completion"));
        json_object_set_new(body, "created", json_integer(pl_unix_time()));
        json_object_set_new(body, "model", json_string(r->model_name ? r->model_name : c->b->name));
        json_object_set_new(body, "choices", choices);
        json_t *usage = json_object();
        json_object_set_new(usage, "prompt_tokens", json_integer((json_int_t)r->n_prompt));
        json_object_set_new(usage, "completion_tokens", json_integer((json_int_t)completion));
        json_object_set_new(usage, "total_tokens", json_integer((json_int_t)(r->n_prompt + completion)));
        json_object_set_new(body, "usage", usage);
        res = pl_result_new(0, line_object(r->custom_id, r->custom_id, r->occurrence,
                                           response_object(r->custom_id, r->occurrence, 200, body), NULL), 0);
        if (res) { res->tokens_in = r->n_prompt; res->tokens_out = completion; }
    }
    if (res) {
        res->seq = r->task.seq;
        pl_runtime_emit(&c->rt, res);
    } else if (!aborted) {
        pl_runtime_emit(&c->rt, NULL);
    }
    pl_engine_task_done(e);
    req_free(r);
}

static void choice_done(lj_seq *q) {
    run_choice *ch = q->user;
    if (--ch->req->remaining == 0) req_finish(ch->req);
}

static void req_start(pl_task *t, pl_engine *e) {
    run_req *r = (run_req *)t;
    r->e = e;
    r->remaining = r->n;
    if (pl_engine_state(e) == PL_EXPIRED) {
        for (int i = 0; i < r->n; i++) r->ch[i].q.finish = LJ_FINISH_ABORTED;
        r->remaining = 0;
        req_finish(r);
        return;
    }
    int n = r->n;
    for (int i = 0; i < n; i++) pl_engine_submit(e, &r->ch[i].q);   // r may be freed after the last
}

static void req_discard(pl_task *t) { req_free((run_req *)t); }

/* ---- validation (worker threads) ----------------------------------------------------------- */

/* Reads an optional integer parameter; -1 on a type error (message written). */
static int opt_int(json_t *body, const char *name, long long lo, long long hi, long long *v, int *present,
                   char *msg, size_t msglen) {
    json_t *x = json_object_get(body, name);
    *present = 0;
    if (!x || json_is_null(x)) return 0;
    if (!json_is_integer(x) || json_integer_value(x) < lo || json_integer_value(x) > hi) {
        snprintf(msg, msglen, "%s must be an integer in [%lld, %lld]", name, lo, hi);
        return -1;
    }
    *v = json_integer_value(x);
    *present = 1;
    return 0;
}

static int opt_num(json_t *body, const char *name, double lo, double hi, int lo_open, double *v, int *present,
                   char *msg, size_t msglen) {
    json_t *x = json_object_get(body, name);
    *present = 0;
    if (!x || json_is_null(x)) return 0;
    double d = json_number_value(x);
    if (!json_is_number(x) || d < lo || d > hi || (lo_open && d == lo)) {
        snprintf(msg, msglen, "%s must be a number in %s%g, %g]", name, lo_open ? "(" : "[", lo, hi);
        return -1;
    }
    *v = d;
    *present = 1;
    return 0;
}

/* Builds a run_req from a request line, or returns NULL with an error result in *errres. */
static run_req *validate(run_ctx *c, run_item *it, pl_result **errres) {
    json_t *j = it->j;
    const char *cid = it->custom_id;
    char msg[1024];
    const char *param = NULL, *code = "invalid_request";
    json_t *method = json_object_get(j, "method"), *url = json_object_get(j, "url"), *body = json_object_get(j, "body");
    run_req *r = NULL;
    int chat = 0;
    if (!json_is_string(method) || strcmp(json_string_value(method), "POST")) {
        snprintf(msg, sizeof msg, "method must be \"POST\"");
        param = "method";
        goto fail;
    }
    if (!json_is_string(url)) { snprintf(msg, sizeof msg, "url is missing"); param = "url"; code = "invalid_url"; goto fail; }
    if (!strcmp(json_string_value(url), "/v1/chat/completions")) chat = 1;
    else if (strcmp(json_string_value(url), "/v1/completions")) {
        snprintf(msg, sizeof msg, "url '%.200s' is not supported (use /v1/chat/completions or /v1/completions)", json_string_value(url));
        param = "url";
        code = "invalid_url";
        goto fail;
    }
    if (!json_is_object(body)) { snprintf(msg, sizeof msg, "body must be a JSON object"); param = "body"; goto fail; }
    if (json_is_true(json_object_get(body, "stream"))) {
        snprintf(msg, sizeof msg, "stream: true is not supported in a batch");
        param = "stream";
        code = "unsupported_parameter";
        goto fail;
    }
    r = lj_calloc(1, sizeof *r);
    if (!r) { snprintf(msg, sizeof msg, "out of memory"); goto fail; }
    r->c = c;
    r->chat = chat;
    r->occurrence = it->occurrence;
    r->sp = c->b->defaults;
    r->n = 1;
    long long iv;
    double dv;
    int present;
    // sampling parameters
    if (opt_num(body, "temperature", 0, 2, 0, &dv, &present, msg, sizeof msg)) { param = "temperature"; goto fail; }
    if (present) r->sp.temperature = dv;
    if (opt_num(body, "top_p", 0, 1, 1, &dv, &present, msg, sizeof msg)) { param = "top_p"; goto fail; }
    if (present) r->sp.top_p = dv;
    if (opt_int(body, "top_k", -1, 1 << 30, &iv, &present, msg, sizeof msg)) { param = "top_k"; goto fail; }
    if (present) r->sp.top_k = iv < 0 ? 0 : (long)iv;
    if (opt_int(body, "seed", -(1LL << 62), 1LL << 62, &iv, &present, msg, sizeof msg)) { param = "seed"; goto fail; }
    r->sp.seed = present ? (uint64_t)iv : pl_fnv1a64(cid, strlen(cid));   // unseeded: stable per custom_id
    if (opt_int(body, "n", 1, MAX_N, &iv, &present, msg, sizeof msg)) { param = "n"; goto fail; }
    if (present) r->n = (int)iv;
    long long max_tokens = 0;
    int has_max = 0;
    if (opt_int(body, "max_completion_tokens", 1, 1LL << 40, &max_tokens, &has_max, msg, sizeof msg)) { param = "max_completion_tokens"; goto fail; }
    if (!has_max && opt_int(body, "max_tokens", 1, 1LL << 40, &max_tokens, &has_max, msg, sizeof msg)) { param = "max_tokens"; goto fail; }
    // logprobs: chat takes a boolean plus top_logprobs; completions an integer
    json_t *lp = json_object_get(body, "logprobs");
    if (chat) {
        if (lp && !json_is_null(lp) && !json_is_boolean(lp)) { snprintf(msg, sizeof msg, "logprobs must be a boolean"); param = "logprobs"; goto fail; }
        r->logprobs = json_is_true(lp);
        if (opt_int(body, "top_logprobs", 0, MAX_TOP_LOGPROBS, &iv, &present, msg, sizeof msg)) { param = "top_logprobs"; goto fail; }
        if (present && !r->logprobs) { snprintf(msg, sizeof msg, "top_logprobs needs logprobs: true"); param = "top_logprobs"; goto fail; }
        if (present) r->top_logprobs = (int)iv;
    } else {
        if (opt_int(body, "logprobs", 0, MAX_TOP_LOGPROBS, &iv, &present, msg, sizeof msg)) { param = "logprobs"; goto fail; }
        if (present) { r->logprobs = 1; r->top_logprobs = (int)iv; }
    }
    // stop: a string or up to 4 strings
    json_t *stop = json_object_get(body, "stop");
    if (json_is_string(stop)) {
        if (json_string_length(stop)) r->stops[r->n_stops++] = strdup(json_string_value(stop));
    } else if (json_is_array(stop)) {
        if (json_array_size(stop) > MAX_STOPS) { snprintf(msg, sizeof msg, "stop holds at most %d strings", MAX_STOPS); param = "stop"; goto fail; }
        size_t i;
        json_t *s;
        json_array_foreach(stop, i, s) {
            if (!json_is_string(s)) { snprintf(msg, sizeof msg, "stop[%zu] must be a string", i); param = "stop"; goto fail; }
            if (json_string_length(s)) r->stops[r->n_stops++] = strdup(json_string_value(s));
        }
    } else if (stop && !json_is_null(stop)) {
        snprintf(msg, sizeof msg, "stop must be a string or an array of strings");
        param = "stop";
        goto fail;
    }
    json_t *model = json_object_get(body, "model");
    if (json_is_string(model)) r->model_name = strdup(json_string_value(model));
    // the prompt
    char err[LJ_ERRLEN];
    if (chat) {
        char *text = NULL;
        if (pl_chat_render(json_object_get(body, "messages"), &text, err, sizeof err)) {
            snprintf(msg, sizeof msg, "%.900s", err);
            param = "messages";
            goto fail;
        }
        int rc = c->b->encode(c->b, text, strlen(text), 0, &r->prompt, &r->n_prompt, err, sizeof err);
        free(text);
        if (rc) { snprintf(msg, sizeof msg, "messages: %.900s", err); param = "messages"; goto fail; }
    } else {
        json_t *p = json_object_get(body, "prompt");
        if (json_is_array(p) && json_array_size(p) == 1 && json_is_string(json_array_get(p, 0))) p = json_array_get(p, 0);
        if (json_is_string(p)) {
            if (c->b->encode(c->b, json_string_value(p), json_string_length(p), 1, &r->prompt, &r->n_prompt, err, sizeof err)) {
                snprintf(msg, sizeof msg, "prompt: %.900s", err);
                param = "prompt";
                goto fail;
            }
        } else if (json_is_array(p) && json_array_size(p) > 0 && json_is_integer(json_array_get(p, 0))) {
            size_t np = json_array_size(p), i;
            json_t *x;
            r->prompt = malloc(np * sizeof *r->prompt);
            if (!r->prompt) { snprintf(msg, sizeof msg, "out of memory"); goto fail; }
            json_array_foreach(p, i, x) {
                json_int_t id = json_integer_value(x);
                if (!json_is_integer(x) || id < 0 || (size_t)id >= c->b->model.vocab) {
                    snprintf(msg, sizeof msg, "prompt[%zu]: token ids must be integers in [0, %zu)", i, c->b->model.vocab);
                    param = "prompt";
                    goto fail;
                }
                r->prompt[i] = (int32_t)id;
            }
            r->n_prompt = np;
        } else {
            snprintf(msg, sizeof msg, "prompt must be a string (or one string in an array, or an array of token ids)");
            param = "prompt";
            goto fail;
        }
    }
    if (r->n_prompt == 0) { snprintf(msg, sizeof msg, "the prompt is empty"); param = chat ? "messages" : "prompt"; goto fail; }
    if (r->n_prompt >= c->n_ctx) {
        snprintf(msg, sizeof msg, "the prompt has %zu tokens; the context holds %zu", r->n_prompt, c->n_ctx);
        param = chat ? "messages" : "prompt";
        code = "context_length_exceeded";
        goto fail;
    }
    size_t room = c->n_ctx - r->n_prompt;
    if (has_max) {
        if ((unsigned long long)max_tokens > room) {
            snprintf(msg, sizeof msg, "max_tokens %lld + the prompt's %zu tokens exceed the context of %zu", max_tokens, r->n_prompt, c->n_ctx);
            param = "max_tokens";
            code = "context_length_exceeded";
            goto fail;
        }
        r->max_new = (size_t)max_tokens;
    } else {
        r->max_new = c->b->default_max_new && c->b->default_max_new < room ? c->b->default_max_new : room;
    }
    r->custom_id = strdup(cid);
    for (int i = 0; i < r->n; i++) {
        run_choice *ch = &r->ch[i];
        ch->req = r;
        ch->index = i;
        ch->q.prompt = r->prompt;
        ch->q.n_prompt = r->n_prompt;
        ch->q.capacity = r->n_prompt + r->max_new;
        ch->q.max_new = r->max_new;
        ch->q.sampling = r->sp;
        ch->q.sampling.seed = r->sp.seed + (uint64_t)i;
        ch->q.eos = c->b->eos;
        ch->q.n_eos = c->b->n_eos;
        ch->q.on_token = choice_token;
        ch->q.on_done = choice_done;
        ch->q.user = ch;
    }
    r->task.seq = it->seq;
    r->task.start = req_start;
    r->task.discard = req_discard;
    return r;
fail:
    if (r) { r->n = 0; req_free(r); }
    *errres = error_line(it->seq, cid, it->line_no, it->occurrence, 400, param, code, "%s", msg);
    return NULL;
}

static void item_free(run_item *it) {
    json_decref(it->j);
    free(it->custom_id);
    free(it);
}

static void *worker_main(void *arg) {
    run_ctx *c = arg;
    run_item *it;
    while ((it = pl_queue_pop(c->rt.work))) {
        if (pl_stop_level() > 0) { item_free(it); continue; }
        pl_result *err = NULL;
        run_req *r = validate(c, it, &err);
        if (r) {
            if (pl_queue_push(c->rt.ready, r)) req_free(r);
        } else {
            pl_runtime_emit(&c->rt, err);
        }
        item_free(it);
    }
    return NULL;
}

/* ---- reader (producer thread) ---------------------------------------------------------------- */

static void *producer_main(void *arg) {
    run_ctx *c = arg;
    pl_runtime *rt = &c->rt;
    pl_keyset *seen = pl_keyset_new();
    pl_lines *lr = pl_lines_open(fileno(c->in));
    char *line = NULL;
    size_t line_no = 0;
    ssize_t n = 0;
    uint64_t skipped = 0;
    while (seen && lr && pl_stop_level() == 0 && (n = pl_lines_next(lr, &line)) >= 0) {
        line_no++;
        while (n > 0 && line[n - 1] == '\r') line[--n] = 0;
        size_t sp = strspn(line, " \t");
        if ((ssize_t)sp == n) continue;   // blank lines are not requests
        json_error_t je;
        json_t *j = json_loadb(line, (size_t)n, 0, &je);
        json_t *cidj = j ? json_object_get(j, "custom_id") : NULL;
        const char *cid = json_is_string(cidj) && json_string_length(cidj) ? json_string_value(cidj) : NULL;
        char key[64];
        const char *k = cid;
        if (!cid) line_key(key, sizeof key, line_no), k = key;
        // shards split by custom_id (or by the raw line when there is none)
        if (!(cid ? pl_shard_mine(cid, strlen(cid), c->o->shard_index, c->o->shard_count)
                  : pl_shard_mine(line, (size_t)n, c->o->shard_index, c->o->shard_count))) {
            json_decref(j);
            continue;
        }
        int *occ = pl_keyset_slot(seen, k);
        int occurrence = occ ? ++*occ : 1;
        int done = pl_keyset_get(rt->done, k);
        int already = occurrence == 1 ? (done > 0 && (done & 1)) : (done > 0 && done / 2 >= occurrence - 1);
        if (already) { json_decref(j); skipped++; continue; }
        pl_progress_add_total(&rt->progress, 1);
        uint64_t seq = pl_runtime_seq(rt);
        if (!j) {
            pl_runtime_emit(rt, error_line(seq, NULL, line_no, 1, 400, NULL, "invalid_json", "not valid JSON: %s (column %d)", je.text, je.column));
            continue;
        }
        if (!json_is_object(j) || !cid) {
            pl_runtime_emit(rt, error_line(seq, NULL, line_no, 1, 400, "custom_id", "invalid_request",
                                           "%s", json_is_object(j) ? "custom_id must be a non-empty string" : "a request line must be a JSON object"));
            json_decref(j);
            continue;
        }
        if (occurrence > 1) {
            pl_runtime_emit(rt, error_line(seq, cid, line_no, occurrence, 400, "custom_id", "duplicate_custom_id",
                                           "custom_id '%.200s' is a duplicate (occurrence %d, line %zu); only the first one runs", cid, occurrence, line_no));
            json_decref(j);
            continue;
        }
        run_item *it = lj_calloc(1, sizeof *it);
        if (!it || !(it->custom_id = strdup(cid))) {
            free(it);
            json_decref(j);
            pl_runtime_emit(rt, NULL);
            continue;
        }
        it->seq = seq;
        it->j = j;
        it->occurrence = occurrence;
        it->line_no = line_no;
        if (pl_queue_push(rt->work, it)) item_free(it);
    }
    if (skipped && !rt->o.quiet) fprintf(stderr, "resume: %llu requests already done in the output\n", (unsigned long long)skipped);
    pl_progress_skipped(&rt->progress, skipped);
    if (n == -3) fprintf(stderr, "error: %s: read error after line %zu\n", c->input, line_no);
    if (pl_stop_level() == 0) pl_progress_set_total_known(&rt->progress);
    pl_lines_close(lr);
    pl_keyset_free(seen);
    pl_queue_close(rt->work);
    for (size_t i = 0; i < c->n_workers; i++) pthread_join(c->workers[i], NULL);
    pl_queue_close(rt->ready);
    return NULL;
}

int pl_run(const pl_common_opts *o, const char *input) {
    char err[LJ_ERRLEN];
    run_ctx c = {.o = o, .input = input};
    c.in = !strcmp(input, "-") ? stdin : fopen(input, "rb");
    if (!c.in) { fprintf(stderr, "error: %s: cannot open\n", input); return 1; }
    struct stat si, so;
    const char *outs[2] = {o->rt.output, o->rt.errors_file};
    for (int k = 0; k < 2; k++)
        if (outs[k] && strcmp(outs[k], "-") && !fstat(fileno(c.in), &si) && !stat(outs[k], &so) && si.st_dev == so.st_dev &&
            si.st_ino == so.st_ino) {
            fprintf(stderr, "error: %s is the requests file: refusing to write results into it\n", outs[k]);
            if (c.in != stdin) fclose(c.in);
            return 2;
        }
    if (pl_backend_open(o->model, &o->backend, &c.b, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        if (c.in != stdin) fclose(c.in);
        return 1;
    }
    c.n_ctx = o->max_context && o->max_context < c.b->n_ctx ? o->max_context : c.b->n_ctx;
    pl_runtime_opts ro = o->rt;
    if (!ro.budget_tokens) ro.budget_tokens = c.n_ctx;
    if (!o->rt.quiet) {
        fprintf(stderr, "run: model %s (%s); defaults: max_tokens ", o->model, c.b->name);
        if (c.b->default_max_new) fprintf(stderr, "%zu (generation_config)", c.b->default_max_new);
        else fprintf(stderr, "to the end of the context (%zu tokens)", c.n_ctx);
        fprintf(stderr, ", temperature %g%s, top_p %g, top_k %ld, eos [", c.b->defaults.temperature,
                c.b->defaults.temperature > 0 ? "" : " (greedy)", c.b->defaults.top_p, c.b->defaults.top_k);
        for (size_t i = 0; i < c.b->n_eos; i++) fprintf(stderr, "%s%d", i ? ", " : "", c.b->eos[i]);
        fprintf(stderr, "]; %zu sequences in flight, state budget %zu tokens, prefill chunk %zu\n",
                ro.max_seqs ? ro.max_seqs : 8, ro.budget_tokens, ro.chunk ? ro.chunk : 512);
    }
    if (pl_runtime_open(&c.rt, &ro, c.b, "requests", run_key, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        int rc = c.rt.writer_started ? (pl_runtime_close(&c.rt), 1) : 1;
        pl_backend_close(c.b);
        if (c.in != stdin) fclose(c.in);
        return rc;
    }
    if (pl_runtime_start(&c.rt, worker_main, producer_main, &c, &c.workers, &c.n_workers, &c.producer, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        free(c.workers);
        pl_runtime_close(&c.rt);
        pl_backend_close(c.b);
        if (c.in != stdin) fclose(c.in);
        return 1;
    }
    pl_runtime_engine(&c.rt);
    pthread_join(c.producer, NULL);
    free(c.workers);
    int rc = pl_runtime_close(&c.rt);
    pl_backend_close(c.b);
    if (c.in != stdin) fclose(c.in);
    return rc;
}
