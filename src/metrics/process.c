/* The process figures every Prometheus client exports, read from /proc/self. */
#include <dirent.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "metrics_int.h"

static long count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;  /* the directory's own descriptor */
}

/* utime+stime (clock ticks) and starttime (ticks after boot) from /proc/self/stat. */
static int read_stat(double *cpu_s, double *start_s)
{
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) return -1;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');  /* comm may hold spaces */
    if (!p) return -1;
    unsigned long long utime, stime, start;
    /* fields 3.. after comm: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
     * cutime cstime priority nice threads itrealvalue starttime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
               &utime, &stime, &start) != 3)
        return -1;
    double hz = (double)sysconf(_SC_CLK_TCK);
    *cpu_s = (double)(utime + stime) / hz;
    double boot = 0;
    FILE *s = fopen("/proc/stat", "r");
    if (s) {
        char line[256];
        while (fgets(line, sizeof line, s))
            if (sscanf(line, "btime %lf", &boot) == 1) break;
        fclose(s);
    }
    *start_s = boot + (double)start / hz;
    return 0;
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long size, resident;
    int ok = fscanf(f, "%ld %ld", &size, &resident) == 2;
    fclose(f);
    return ok ? resident * sysconf(_SC_PAGESIZE) : -1;
}

void metrics_render_process(struct evbuffer *out)
{
    long rss = rss_bytes(), fds = count_fds();
    double cpu, start;
    if (rss >= 0) {
        metrics_family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes");
        metrics_sample(out, "process_resident_memory_bytes", (double)rss, NULL);
    }
    if (fds >= 0) {
        metrics_family(out, "process_open_fds", "gauge", "Number of open file descriptors");
        metrics_sample(out, "process_open_fds", (double)fds, NULL);
    }
    if (read_stat(&cpu, &start) == 0) {
        metrics_family(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time in seconds");
        metrics_sample(out, "process_cpu_seconds_total", cpu, NULL);
        metrics_family(out, "process_start_time_seconds", "gauge", "Start time of the process in seconds");
        metrics_sample(out, "process_start_time_seconds", start, NULL);
    }
}
