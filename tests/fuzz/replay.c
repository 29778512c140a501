/*
 * `make check` side of the fuzz harnesses: runs one harness (linked in as
 * tests/fuzz/replay_<name>) over its seed corpus and every input a fuzzing run
 * once crashed on, without libFuzzer, so a fixed finding stays fixed in the
 * normal and the sanitizer builds. A crash or a broken invariant aborts the
 * test; an empty corpus fails it (the inputs would have gone missing).
 *
 *   replay_<name>               tests/fuzz/{corpus,regressions}/<name>/ under $RMQ_SRCDIR
 *   replay_<name> FILE|DIR...   those inputs instead
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, len = 0, n;
    uint8_t *buf = malloc(cap);
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    /* An exact-size copy, so reading past the input trips ASan as under libFuzzer. */
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs every regular file of DIR (in name order); returns how many, -1 if DIR is unreadable. */
static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) return run_file(path) == 0 ? 1 : -1;
    DIR *d = opendir(path);
    if (!d) return -1;
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", path, names[i]);
        if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && run_file(file) == 0) count++;
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            if (run_path(argv[i]) < 0) {
                fprintf(stderr, "cannot read %s\n", argv[i]);
                return 1;
            }
        return 0;
    }
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (strncmp(base, "replay_", 7) != 0) {
        fprintf(stderr, "%s: name the inputs, or run as replay_<harness>\n", argv[0]);
        return 1;
    }
    const char *name = base + 7;
    const char *src = getenv("RMQ_SRCDIR");
    char corpus[4096], regressions[4096];
    snprintf(corpus, sizeof corpus, "%s/tests/fuzz/corpus/%s", src ? src : "..", name);
    snprintf(regressions, sizeof regressions, "%s/tests/fuzz/regressions/%s", src ? src : "..", name);
    int nc = run_path(corpus);
    int nr = run_path(regressions);  /* absent until the harness has found something */
    printf("replay %s: %d corpus inputs, %d regression inputs, no crash\n", name, nc, nr < 0 ? 0 : nr);
    if (nc <= 0) {
        fprintf(stderr, "replay %s: no corpus in %s\n", name, corpus);
        return 1;
    }
    return 0;
}
