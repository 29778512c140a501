/*
 * mqshutdown: stop the running name servers or brokers of this user, as
 * Apache's bin/mqshutdown does (it greps `ps` for the Java main class; we
 * look for processes named mqnamesrv / mqbroker in /proc) — SIGTERM, which
 * makes them shut down cleanly.
 *
 *   mqshutdown namesrv | broker
 */
#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether /proc/PID is PROG: its comm, or the base name of its argv[0]. */
static int runs_program(const char *pid, const char *prog)
{
    char path[300], buf[256];
    snprintf(path, sizeof path, "/proc/%s/comm", pid);
    FILE *f = fopen(path, "r");
    if (f) {
        int match = fgets(buf, sizeof buf, f) && (buf[strcspn(buf, "\n")] = '\0', strcmp(buf, prog) == 0);
        fclose(f);
        if (match) return 1;
    }
    snprintf(path, sizeof path, "/proc/%s/cmdline", pid);
    f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';   /* argv[0] ends at the first NUL */
    const char *base = strrchr(buf, '/');
    return strcmp(base ? base + 1 : buf, prog) == 0;
}

int main(int argc, char **argv)
{
    const char *prog = NULL;
    if (argc == 2 && strcmp(argv[1], "namesrv") == 0) prog = "mqnamesrv";
    else if (argc == 2 && strcmp(argv[1], "broker") == 0) prog = "mqbroker";
    if (!prog) {
        printf("Useage: mqshutdown broker | namesrv\n");
        return 0;
    }

    DIR *d = opendir("/proc");
    if (!d) {
        perror("/proc");
        return 255;
    }
    pid_t self = getpid();
    uid_t uid = getuid();
    pid_t *pids = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0])) continue;
        pid_t pid = (pid_t)atol(de->d_name);
        char path[300];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%s", de->d_name);
        if (pid == self || stat(path, &st) != 0 || st.st_uid != uid) continue;
        if (!runs_program(de->d_name, prog)) continue;
        pid_t *grown = realloc(pids, (n + 1) * sizeof *pids);
        if (!grown) break;
        pids = grown;
        pids[n++] = pid;
    }
    closedir(d);

    if (n == 0) {
        printf("No %s running.\n", prog);
        free(pids);
        return 255;   /* the script's `exit -1` */
    }
    /* The script prints `ps`'s pid column as is: one pid per line. */
    char list[4096] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof list - 16; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%ld", i ? "\n" : "", (long)pids[i]);
    printf("The %s(%s) is running...\n", prog, list);
    for (size_t i = 0; i < n; i++) kill(pids[i], SIGTERM);
    printf("Send shutdown request to %s(%s) OK\n", prog, list);
    free(pids);
    return 0;
}
