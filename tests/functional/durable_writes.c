/* What a power loss would keep: each time a process fsyncs (or fdatasyncs) a regular file
 * under $DURABLE_WATCH, the file's whole content is copied to the same name under
 * $DURABLE_SHADOW before the real call runs. The shadow directory then holds, for every
 * file, the last content the process made durable; anything written after that (or
 * never synced) is what a power cut at that moment would lose.
 *
 * Built by tests/functional/test_power_loss.py and loaded with LD_PRELOAD into the
 * trading child. Flat directories only: files in subdirectories are not tracked, nor are
 * deletions (the files the test watches are not deleted while the child runs). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t copying = PTHREAD_MUTEX_INITIALIZER;

static int tracked_path(int fd, char *path, size_t size) {
    const char *watch = getenv("DURABLE_WATCH");
    char link[64];
    struct stat status;
    if (watch == NULL || fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t length = readlink(link, path, size - 1);
    if (length < 0) return 0;
    path[length] = '\0';
    size_t prefix = strlen(watch);
    return strncmp(path, watch, prefix) == 0 && path[prefix] == '/' &&
           strchr(path + prefix + 1, '/') == NULL;
}

static void copy_file(const char *source, const char *target) {
    char partial[PATH_MAX * 2 + 8], buffer[65536];
    ssize_t count;
    int in = open(source, O_RDONLY);
    if (in < 0) return;
    snprintf(partial, sizeof partial, "%s.part", target);
    int out = open(partial, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out >= 0) {
        while ((count = read(in, buffer, sizeof buffer)) > 0) {
            if (write(out, buffer, (size_t)count) != count) break;
        }
        close(out);
        rename(partial, target);
    }
    close(in);
}

static void keep_durable_copy(int fd) {
    char path[PATH_MAX], target[PATH_MAX * 2];
    const char *shadow = getenv("DURABLE_SHADOW");
    if (shadow == NULL || !tracked_path(fd, path, sizeof path)) return;
    snprintf(target, sizeof target, "%s/%s", shadow, strrchr(path, '/') + 1);
    pthread_mutex_lock(&copying);
    copy_file(path, target);
    pthread_mutex_unlock(&copying);
}

int fsync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    keep_durable_copy(fd);
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    keep_durable_copy(fd);
    return real(fd);
}
