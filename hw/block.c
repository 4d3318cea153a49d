/*
 * hw/block.c — raw image backend: pread/pwrite with bounds checks, so that
 * a guest asking for sectors past the end gets an error it can report,
 * never a short host read into a device buffer.
 */
#define _POSIX_C_SOURCE 200809L
#include "hw/block.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct block {
    int fd;
    uint64_t size;
    bool read_only;
    bool dirty; /* writes since the last flush */
    uint64_t flushes;
    char *path;
};

struct block *block_open(const char *path, bool read_only, char *err, size_t errlen)
{
    int fd = -1;
    if (!read_only) {
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM))
            read_only = true; /* a read-only file becomes a read-only disk */
        else if (fd < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return NULL;
        }
    }
    if (fd < 0)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (!S_ISREG(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END); /* block devices */
        size = end > 0 ? (uint64_t)end : 0;
    }
    if (size == 0) {
        snprintf(err, errlen, "%s: empty image (zero length)", path);
        close(fd);
        return NULL;
    }
    struct block *b = calloc(1, sizeof(*b));
    char *p = strdup(path);
    if (!b || !p) {
        free(b);
        free(p);
        close(fd);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    b->fd = fd;
    b->size = size;
    b->read_only = read_only;
    b->path = p;
    return b;
}

void block_close(struct block *b)
{
    if (!b)
        return;
    block_flush(b);
    close(b->fd);
    free(b->path);
    free(b);
}

uint64_t block_size(const struct block *b) { return b->size; }
bool block_read_only(const struct block *b) { return b->read_only; }
const char *block_path(const struct block *b) { return b->path; }

static bool in_range(const struct block *b, uint64_t off, size_t len)
{
    return off <= b->size && len <= b->size - off;
}

int block_pread(struct block *b, uint64_t off, void *buf, size_t len)
{
    if (!in_range(b, off, len))
        return -1;
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(b->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1; /* the file shrank under us, or an I/O error */
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

int block_pwrite(struct block *b, uint64_t off, const void *buf, size_t len)
{
    if (b->read_only || !in_range(b, off, len))
        return -1;
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(b->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    b->dirty = true;
    return 0;
}

uint64_t block_flush_count(const struct block *b) { return b->flushes; }

int block_flush(struct block *b)
{
    if (b->read_only || !b->dirty)
        return 0;
    b->flushes++;
    if (fdatasync(b->fd) != 0)
        return -1;
    b->dirty = false;
    return 0;
}
