/* safetensors reader (mmap, one file or shards through model.safetensors.index.json) and a small
 * writer. Every structural problem is an error naming the file, the tensor and the byte offset. */
#ifndef LJ_ENGINE_SAFETENSORS_H
#define LJ_ENGINE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

typedef enum st_dtype { ST_F64, ST_F32, ST_F16, ST_BF16, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL } st_dtype;

#define ST_MAX_DIMS 8

typedef struct st_tensor {
    const char *name;
    st_dtype dtype;
    size_t ndim;
    size_t shape[ST_MAX_DIMS];
    size_t numel;
    const void *data;     /* into the mapping (may be unaligned for 2-byte dtypes: use memcpy) */
    size_t nbytes;
    size_t file_offset;   /* absolute byte offset of the data in its file */
    const char *file;     /* path of the file that holds it */
} st_tensor;

typedef struct st_file st_file;

/* Maps and validates path: header length, JSON header, dtypes, shapes × dtype = byte length,
 * offsets inside the data section, no overlaps. The caller owns *out (st_close). */
int st_open(const char *path, st_file **out, char *err, size_t errlen);
void st_close(st_file *f);
size_t st_count(const st_file *f);
const st_tensor *st_at(const st_file *f, size_t i);           /* sorted by name */
const st_tensor *st_find(const st_file *f, const char *name); /* NULL when absent */

/* A checkpoint: dir/model.safetensors.index.json (shards) or dir/model.safetensors, else every
 * *.safetensors in dir except reference.safetensors. Owned by the caller (st_set_close). */
typedef struct st_set st_set;
int st_set_open(const char *dir, st_set **out, char *err, size_t errlen);
void st_set_close(st_set *s);
const st_tensor *st_set_find(const st_set *s, const char *name);
size_t st_set_count(const st_set *s);
const st_tensor *st_set_at(const st_set *s, size_t i);        /* every tensor of every shard */

const char *st_dtype_name(st_dtype t);
size_t st_dtype_size(st_dtype t);

/* Writer: tensors laid out in the order given (data host memory of numel × size bytes). */
typedef struct st_out_tensor {
    const char *name;
    st_dtype dtype;
    size_t ndim;
    size_t shape[ST_MAX_DIMS];
    const void *data;
} st_out_tensor;
int st_write(const char *path, const st_out_tensor *t, size_t n, char *err, size_t errlen);

#endif
