/* safetensors: 8-byte little-endian header length N, N bytes of JSON header
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
 * then the data section; offsets are relative to the data section. */
#include "engine/safetensors.h"

#include "common/error.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

struct st_file {
    char *path;
    void *map;
    size_t size;
    size_t n;
    st_tensor *t;     /* [n] sorted by name */
    char **names;     /* [n] owned strings */
};

static const struct { const char *name; st_dtype t; size_t size; } dtypes[] = {
    {"F64", ST_F64, 8}, {"F32", ST_F32, 4}, {"F16", ST_F16, 2}, {"BF16", ST_BF16, 2}, {"I64", ST_I64, 8},
    {"I32", ST_I32, 4}, {"I16", ST_I16, 2}, {"I8", ST_I8, 1},  {"U8", ST_U8, 1},     {"BOOL", ST_BOOL, 1},
};

const char *st_dtype_name(st_dtype t) {
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].t == t) return dtypes[i].name;
    return "?";
}

size_t st_dtype_size(st_dtype t) {
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].t == t) return dtypes[i].size;
    return 0;
}

static int cmp_tensor(const void *a, const void *b) {
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

static int cmp_offset(const void *a, const void *b) {
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    if (x->file_offset != y->file_offset) return x->file_offset < y->file_offset ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

/* Parses one header entry into t (name already set). data = start of the data section. */
static int parse_entry(const char *path, const char *name, json_t *v, size_t data_off, size_t data_len,
                       st_tensor *t, char *err, size_t errlen) {
    if (!json_is_object(v)) return lj_errf(err, errlen, "%s: tensor %s: header entry is not an object", path, name);
    json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"), *off = json_object_get(v, "data_offsets");
    if (!json_is_string(dt)) return lj_errf(err, errlen, "%s: tensor %s: missing \"dtype\"", path, name);
    size_t esize = 0;
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (!strcmp(dtypes[i].name, json_string_value(dt))) { t->dtype = dtypes[i].t; esize = dtypes[i].size; }
    if (!esize) return lj_errf(err, errlen, "%s: tensor %s: unknown dtype \"%s\"", path, name, json_string_value(dt));
    if (!json_is_array(sh) || json_array_size(sh) > ST_MAX_DIMS)
        return lj_errf(err, errlen, "%s: tensor %s: \"shape\" must be a list of at most %d sizes", path, name, ST_MAX_DIMS);
    t->ndim = json_array_size(sh);
    size_t numel = 1;
    for (size_t i = 0; i < t->ndim; i++) {
        json_t *d = json_array_get(sh, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return lj_errf(err, errlen, "%s: tensor %s: shape[%zu] is not a non-negative integer", path, name, i);
        t->shape[i] = (size_t)json_integer_value(d);
        if (!lj_mul_ok(numel, t->shape[i], &numel))
            return lj_errf(err, errlen, "%s: tensor %s: shape overflows", path, name);
    }
    t->numel = numel;
    if (!json_is_array(off) || json_array_size(off) != 2 || !json_is_integer(json_array_get(off, 0)) ||
        !json_is_integer(json_array_get(off, 1)) || json_integer_value(json_array_get(off, 0)) < 0 ||
        json_integer_value(json_array_get(off, 1)) < 0)
        return lj_errf(err, errlen, "%s: tensor %s: \"data_offsets\" must be [begin, end]", path, name);
    size_t b = (size_t)json_integer_value(json_array_get(off, 0)), e = (size_t)json_integer_value(json_array_get(off, 1));
    if (b > e || e > data_len)
        return lj_errf(err, errlen, "%s: tensor %s: data_offsets [%zu, %zu] lie outside the data section of %zu bytes "
                       "(file offset %zu)", path, name, b, e, data_len, data_off + b);
    size_t bytes;
    if (!lj_mul_ok(numel, esize, &bytes) || bytes != e - b)
        return lj_errf(err, errlen, "%s: tensor %s: shape × %s size is %zu bytes but data_offsets [%zu, %zu] hold %zu "
                       "(file offset %zu)", path, name, json_string_value(dt), numel * esize, b, e, e - b, data_off + b);
    t->nbytes = bytes;
    t->file_offset = data_off + b;
    return 0;
}

void st_close(st_file *f) {
    if (!f) return;
    if (f->map && f->map != MAP_FAILED) munmap(f->map, f->size);
    for (size_t i = 0; i < f->n; i++) free(f->names ? f->names[i] : NULL);
    free(f->names);
    free(f->t);
    free(f->path);
    free(f);
}

int st_open(const char *path, st_file **out, char *err, size_t errlen) {
    *out = NULL;
    st_file *f = lj_calloc(1, sizeof *f);
    if (!f) return lj_errf(err, errlen, "%s: out of memory", path);
    f->path = strdup(path);
    json_t *root = NULL;
    st_tensor **byoff = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) { lj_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno)); goto fail; }
    struct stat st;
    if (fstat(fd, &st) != 0) { lj_errf(err, errlen, "%s: cannot stat: %s", path, strerror(errno)); close(fd); goto fail; }
    f->size = (size_t)st.st_size;
    if (f->size < 8) {
        lj_errf(err, errlen, "%s: truncated: %zu bytes, shorter than the 8-byte header length", path, f->size);
        close(fd);
        goto fail;
    }
    f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f->map == MAP_FAILED) { f->map = NULL; lj_errf(err, errlen, "%s: mmap failed: %s", path, strerror(errno)); goto fail; }
    const unsigned char *p = f->map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | p[i];
    if (hlen > f->size - 8) {
        lj_errf(err, errlen, "%s: header length %llu at offset 0 is larger than the %zu bytes after it "
                "(truncated or not a safetensors file)", path, (unsigned long long)hlen, f->size - 8);
        goto fail;
    }
    json_error_t je;
    root = json_loadb((const char *)p + 8, (size_t)hlen, 0, &je);
    if (!root) {
        lj_errf(err, errlen, "%s: header is not JSON (byte offset %d of the header, file offset %d): %s", path,
                je.position, je.position + 8, je.text);
        goto fail;
    }
    if (!json_is_object(root)) { lj_errf(err, errlen, "%s: header is not a JSON object", path); goto fail; }
    size_t data_off = 8 + (size_t)hlen, data_len = f->size - data_off;
    size_t cap = json_object_size(root);
    f->t = lj_calloc(cap ? cap : 1, sizeof *f->t);
    f->names = lj_calloc(cap ? cap : 1, sizeof *f->names);
    if (!f->t || !f->names) { lj_errf(err, errlen, "%s: out of memory", path); goto fail; }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (!strcmp(key, "__metadata__")) continue;
        st_tensor *t = &f->t[f->n];
        f->names[f->n] = strdup(key);
        f->n++;
        t->name = f->names[f->n - 1];
        t->file = f->path;
        if (parse_entry(path, key, v, data_off, data_len, t, err, errlen)) goto fail;
        t->data = p + t->file_offset;
    }
    /* Overlaps: sort by offset and check neighbours (empty tensors overlap nothing). */
    byoff = lj_calloc(f->n ? f->n : 1, sizeof *byoff);
    if (!byoff) { lj_errf(err, errlen, "%s: out of memory", path); goto fail; }
    for (size_t i = 0; i < f->n; i++) byoff[i] = &f->t[i];
    qsort(byoff, f->n, sizeof *byoff, cmp_offset);
    const st_tensor *prev = NULL;
    for (size_t i = 0; i < f->n; i++) {
        if (!byoff[i]->nbytes) continue;
        if (prev && byoff[i]->file_offset < prev->file_offset + prev->nbytes) {
            lj_errf(err, errlen, "%s: tensors %s and %s overlap at file offset %zu", path, prev->name, byoff[i]->name,
                    byoff[i]->file_offset);
            goto fail;
        }
        prev = byoff[i];
    }
    free(byoff);
    byoff = NULL;
    qsort(f->t, f->n, sizeof *f->t, cmp_tensor);
    json_decref(root);
    *out = f;
    return 0;
fail:
    free(byoff);
    if (root) json_decref(root);
    st_close(f);
    return -1;
}

size_t st_count(const st_file *f) { return f->n; }
const st_tensor *st_at(const st_file *f, size_t i) { return i < f->n ? &f->t[i] : NULL; }

const st_tensor *st_find(const st_file *f, const char *name) {
    st_tensor key = {.name = name};
    return bsearch(&key, f->t, f->n, sizeof *f->t, cmp_tensor);
}

/* ---- sets of shards ---------------------------------------------------------------------- */

struct st_set {
    st_file **files;
    size_t n_files;
};

void st_set_close(st_set *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_files; i++) st_close(s->files[i]);
    free(s->files);
    free(s);
}

static int set_add(st_set *s, const char *path, char *err, size_t errlen) {
    st_file **nf = realloc(s->files, (s->n_files + 1) * sizeof *nf);
    if (!nf) return lj_errf(err, errlen, "%s: out of memory", path);
    s->files = nf;
    if (st_open(path, &s->files[s->n_files], err, errlen)) return -1;
    s->n_files++;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int st_set_open(const char *dir, st_set **out, char *err, size_t errlen) {
    *out = NULL;
    st_set *s = lj_calloc(1, sizeof *s);
    if (!s) return lj_errf(err, errlen, "%s: out of memory", dir);
    char path[4096];
    struct stat stt;
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (stat(path, &stt) == 0) {
        char *text = lj_read_file(path, NULL, err, errlen);
        if (!text) goto fail;
        json_error_t je;
        json_t *root = json_loads(text, 0, &je);
        free(text);
        if (!root) { lj_errf(err, errlen, "%s:%d:%d: not valid JSON: %s", path, je.line, je.column, je.text); goto fail; }
        json_t *map = json_object_get(root, "weight_map");
        if (!json_is_object(map)) {
            json_decref(root);
            lj_errf(err, errlen, "%s: no \"weight_map\" object", path);
            goto fail;
        }
        /* distinct shard names, in sorted order */
        size_t n = 0, cap = json_object_size(map);
        char **shards = lj_calloc(cap ? cap : 1, sizeof *shards);
        const char *key;
        json_t *v;
        int bad = 0;
        json_object_foreach(map, key, v) {
            if (!json_is_string(v)) { lj_errf(err, errlen, "%s: weight_map[\"%s\"] is not a file name", path, key); bad = 1; break; }
            const char *sh = json_string_value(v);
            if (strchr(sh, '/') || !strcmp(sh, "..")) {
                lj_errf(err, errlen, "%s: weight_map[\"%s\"] = \"%s\" is not a plain file name", path, key, sh);
                bad = 1;
                break;
            }
            size_t i;
            for (i = 0; i < n; i++)
                if (!strcmp(shards[i], sh)) break;
            if (i == n) shards[n++] = (char *)sh;
        }
        if (!bad) {
            qsort(shards, n, sizeof *shards, cmp_str);
            for (size_t i = 0; i < n && !bad; i++) {
                char sp[4096];
                snprintf(sp, sizeof sp, "%s/%s", dir, shards[i]);
                if (stat(sp, &stt) != 0) {
                    lj_errf(err, errlen, "%s: names shard %s, which does not exist (%s)", path, shards[i], sp);
                    bad = 1;
                } else if (set_add(s, sp, err, errlen)) {
                    bad = 1;
                }
            }
        }
        /* every tensor the index names must be in the shard it names */
        if (!bad) {
            json_object_foreach(map, key, v) {
                const st_tensor *t = st_set_find(s, key);
                if (!t) {
                    lj_errf(err, errlen, "%s: tensor %s is mapped to %s but that shard does not hold it", path, key,
                            json_string_value(v));
                    bad = 1;
                    break;
                }
            }
        }
        free(shards);
        json_decref(root);
        if (bad) goto fail;
    } else {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        if (stat(path, &stt) == 0) {
            if (set_add(s, path, err, errlen)) goto fail;
        } else {
            DIR *d = opendir(dir);
            if (!d) { lj_errf(err, errlen, "%s: cannot open directory: %s", dir, strerror(errno)); goto fail; }
            struct dirent *e;
            char **names = NULL;
            size_t n = 0;
            while ((e = readdir(d))) {
                size_t L = strlen(e->d_name);
                if (L > 12 && !strcmp(e->d_name + L - 12, ".safetensors") && strcmp(e->d_name, "reference.safetensors")) {
                    char **nn = realloc(names, (n + 1) * sizeof *nn);
                    if (!nn) break;
                    names = nn;
                    names[n++] = strdup(e->d_name);
                }
            }
            closedir(d);
            qsort(names, n, sizeof *names, cmp_str);
            int bad = 0;
            for (size_t i = 0; i < n; i++) {
                if (!bad) {
                    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
                    bad = set_add(s, path, err, errlen);
                }
                free(names[i]);
            }
            free(names);
            if (bad) goto fail;
            if (!n) { lj_errf(err, errlen, "%s: no model.safetensors, index or *.safetensors file", dir); goto fail; }
        }
    }
    /* a name in two files would make the checkpoint ambiguous */
    for (size_t i = 1; i < s->n_files; i++)
        for (size_t k = 0; k < s->files[i]->n; k++)
            for (size_t j = 0; j < i; j++)
                if (st_find(s->files[j], s->files[i]->t[k].name)) {
                    lj_errf(err, errlen, "tensor %s is in both %s and %s", s->files[i]->t[k].name, s->files[j]->path,
                            s->files[i]->path);
                    goto fail;
                }
    *out = s;
    return 0;
fail:
    st_set_close(s);
    return -1;
}

const st_tensor *st_set_find(const st_set *s, const char *name) {
    for (size_t i = 0; i < s->n_files; i++) {
        const st_tensor *t = st_find(s->files[i], name);
        if (t) return t;
    }
    return NULL;
}

size_t st_set_count(const st_set *s) {
    size_t n = 0;
    for (size_t i = 0; i < s->n_files; i++) n += s->files[i]->n;
    return n;
}

const st_tensor *st_set_at(const st_set *s, size_t i) {
    for (size_t f = 0; f < s->n_files; f++) {
        if (i < s->files[f]->n) return &s->files[f]->t[i];
        i -= s->files[f]->n;
    }
    return NULL;
}

/* ---- writer ------------------------------------------------------------------------------ */

int st_write(const char *path, const st_out_tensor *t, size_t n, char *err, size_t errlen) {
    json_t *root = json_object();
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_object(), *sh = json_array();
        size_t numel = 1;
        for (size_t d = 0; d < t[i].ndim; d++) {
            json_array_append_new(sh, json_integer((json_int_t)t[i].shape[d]));
            numel *= t[i].shape[d];
        }
        size_t bytes = numel * st_dtype_size(t[i].dtype);
        json_object_set_new(e, "dtype", json_string(st_dtype_name(t[i].dtype)));
        json_object_set_new(e, "shape", sh);
        json_t *o = json_array();
        json_array_append_new(o, json_integer((json_int_t)off));
        json_array_append_new(o, json_integer((json_int_t)(off + bytes)));
        json_object_set_new(e, "data_offsets", o);
        json_object_set_new(root, t[i].name, e);
        off += bytes;
    }
    char *hdr = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!hdr) return lj_errf(err, errlen, "%s: cannot build header", path);
    size_t hl = strlen(hdr), padded = (hl + 7) & ~(size_t)7;   /* 8-byte aligned data section */
    FILE *f = fopen(path, "wb");
    if (!f) { free(hdr); return lj_errf(err, errlen, "%s: cannot create: %s", path, strerror(errno)); }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(hdr, 1, hl, f) == hl;
    for (size_t i = hl; i < padded && ok; i++) ok = fputc(' ', f) != EOF;
    for (size_t i = 0; i < n && ok; i++) {
        size_t numel = 1;
        for (size_t d = 0; d < t[i].ndim; d++) numel *= t[i].shape[d];
        size_t bytes = numel * st_dtype_size(t[i].dtype);
        ok = !bytes || fwrite(t[i].data, 1, bytes, f) == bytes;
    }
    free(hdr);
    if (fclose(f) != 0) ok = 0;
    if (!ok) return lj_errf(err, errlen, "%s: write failed: %s", path, strerror(errno));
    return 0;
}
