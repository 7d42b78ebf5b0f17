/* Reads lines from a file descriptor without stdio, waiting with poll() so that a stop request
 * (pl_stop_level) is noticed even while an input pipe is idle. Lines keep no newline; a last line
 * without one is returned too. Ownership: pl_lines_open/pl_lines_close. */
#ifndef LJ_PIPELINES_LINEREADER_H
#define LJ_PIPELINES_LINEREADER_H

#include <stddef.h>
#include <sys/types.h>

typedef struct pl_lines pl_lines;

pl_lines *pl_lines_open(int fd);
void pl_lines_close(pl_lines *r);   /* does not close fd */
/* Next line: *line points into the reader's buffer (valid until the next call), NUL-terminated,
 * without "\n". Returns its length, -1 at end of input, -2 when stopped, -3 on a read error. */
ssize_t pl_lines_next(pl_lines *r, char **line);

#endif
