#include "pipelines/linereader.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipelines/runtime.h"

struct pl_lines {
    int fd, eof;
    char *buf;
    size_t cap, start, end;   /* unread bytes are buf[start, end) */
};

pl_lines *pl_lines_open(int fd) {
    pl_lines *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->fd = fd;
    r->cap = 1 << 16;
    if (!(r->buf = malloc(r->cap))) { free(r); return NULL; }
    return r;
}

void pl_lines_close(pl_lines *r) {
    if (!r) return;
    free(r->buf);
    free(r);
}

ssize_t pl_lines_next(pl_lines *r, char **line) {
    size_t scanned = r->start;
    for (;;) {
        char *nl = memchr(r->buf + scanned, '\n', r->end - scanned);
        if (nl) {
            *nl = 0;
            *line = r->buf + r->start;
            ssize_t n = nl - (r->buf + r->start);
            r->start = (size_t)(nl - r->buf) + 1;
            return n;
        }
        scanned = r->end;
        if (r->eof) {
            if (r->start == r->end) return -1;
            if (r->end == r->cap) {   // room for the NUL
                char *b = realloc(r->buf, r->cap + 1);
                if (!b) return -3;
                r->buf = b;
                r->cap++;
            }
            r->buf[r->end] = 0;
            *line = r->buf + r->start;
            ssize_t n = (ssize_t)(r->end - r->start);
            r->start = r->end;
            return n;
        }
        // make room: move the partial line to the front, grow when it fills the buffer
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            scanned -= r->start;
            r->start = 0;
        }
        if (r->end == r->cap) {
            char *b = realloc(r->buf, r->cap * 2);
            if (!b) return -3;
            r->buf = b;
            r->cap *= 2;
        }
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        int pr = poll(&p, 1, 200);
        if (pl_stop_level() > 0) return -2;
        if (pr == 0 || (pr < 0 && errno == EINTR)) continue;
        ssize_t got = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return -3;
        if (got == 0) r->eof = 1;
        r->end += (size_t)got;
    }
}
