/* 200 MB of generated XML through `longjam extract`: the output must be exactly the generated
 * paragraphs, and the process's peak RSS (getrusage of the child) must stay within 100 MB of the
 * same command's RSS on a one-paragraph file, i.e. the reader streams instead of building a tree and
 * the command prints paragraphs as they complete. (The baseline matters: a build with the CUDA
 * backend maps cuBLAS at start-up, over 100 MB before any document is read.) */
#include "ingest/ingest.h"
#include "tests/test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TARGET_BYTES (200u << 20)
#define RSS_LIMIT_KB (100 * 1024)

static const char filler[] = "The streaming reader keeps one node at a time, so a file of any size is read in "
                             "bounded memory; this sentence pads the paragraph to a realistic length.";

/* Runs `longjam extract path` with stdout into a pipe that the caller drains through `drain`
 * (NULL: discard). Returns the child's wait status; *maxrss_kb gets its peak RSS. */
typedef struct { unsigned long long got, seps; char last; } drain_state;

static int run_extract(const char *longjam, const char *path, drain_state *d, long *maxrss_kb) {
    int fd[2];
    if (pipe(fd) != 0) { perror("pipe"); return -1; }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]); close(fd[1]);
        execl(longjam, longjam, "extract", path, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char rb[1 << 16];
    ssize_t k;
    while ((k = read(fd[0], rb, sizeof rb)) > 0) {
        if (!d) continue;
        for (ssize_t i = 0; i < k; i++) {
            if (rb[i] == '\n' && d->last == '\n') d->seps++;
            d->last = rb[i];
        }
        d->got += (unsigned long long)k;
    }
    close(fd[0]);
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    *maxrss_kb = ru.ru_maxrss;
    return status;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: test_ingest_bigxml LONGJAM TMPDIR\n"); return 2; }
    const char *longjam = argv[1], *dir = argv[2];
    if (!strstr(ingest_formats(), "xml")) { fprintf(stderr, "no libxml2 in this build\n"); return TEST_SKIP; }
    mkdir(dir, 0755);
    char path[4096];
    snprintf(path, sizeof path, "%s/big.xml", dir);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); return 1; }
    static char buf[1 << 16];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    unsigned long long written = 0, expect = 0, paras = 0;
    written += (unsigned long long)fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<corpus>\n");
    for (unsigned long r = 0; written < TARGET_BYTES; r++) {
        char t[128];
        int tl = snprintf(t, sizeof t, "Record %lu title &amp; summary", r);
        written += (unsigned long long)fprintf(f, "<doc id=\"r%lu\">\n  <title>%s</title>\n", r, t);
        expect += (unsigned long long)tl - 4;   /* &amp; → & */
        paras++;
        for (int p = 0; p < 4; p++) {
            char q[512];
            int ql = snprintf(q, sizeof q, "Paragraph %d of record %lu. %s", p, r, filler);
            written += (unsigned long long)fprintf(f, "  <p>%s</p>\n", q);
            expect += (unsigned long long)ql;
            paras++;
        }
        written += (unsigned long long)fprintf(f, "</doc>\n");
    }
    fprintf(f, "</corpus>\n");
    if (fclose(f) != 0) { perror(path); return 1; }
    expect += 2 * (paras - 1) + 1;

    /* baseline: the same command on a one-paragraph file */
    char small[4096];
    snprintf(small, sizeof small, "%s/small.xml", dir);
    FILE *sf = fopen(small, "wb");
    if (!sf) { perror(small); return 1; }
    fprintf(sf, "<?xml version=\"1.0\"?>\n<corpus><p>one paragraph</p></corpus>\n");
    fclose(sf);
    long base_kb = 0, peak_kb = 0;
    int bstatus = run_extract(longjam, small, NULL, &base_kb);
    CHECKF(WIFEXITED(bstatus) && WEXITSTATUS(bstatus) == 0, "baseline extract exit status %d", bstatus);

    struct timeval t0, t1;
    gettimeofday(&t0, NULL);
    drain_state d = {0, 0, 0};
    int status = run_extract(longjam, path, &d, &peak_kb);
    unsigned long long got = d.got, seps = d.seps;
    gettimeofday(&t1, NULL);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_usec - t0.tv_usec) / 1e6;
    printf("bigxml: %.1f MB XML, %llu paragraphs, output %llu bytes in %.2f s (%.0f MB/s), peak RSS %.1f MB (baseline %.1f MB)\n",
           (double)written / 1048576.0, paras, got, secs, (double)written / 1048576.0 / secs, (double)peak_kb / 1024.0, (double)base_kb / 1024.0);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "longjam extract exit status %d", status);
    CHECKF(got == expect, "output %llu bytes, expected %llu", got, expect);
    CHECKF(seps == paras - 1, "paragraph breaks %llu, expected %llu", seps, paras - 1);
    CHECKF(peak_kb - base_kb < RSS_LIMIT_KB, "peak RSS %ld KB is %ld KB over the baseline %ld KB (limit %d KB)",
           peak_kb, peak_kb - base_kb, base_kb, RSS_LIMIT_KB);
    unlink(path);
    unlink(small);
    return test_finish("ingest_bigxml");
}
