/*
 * test_block.c — the raw image backend: bounds, read-only files, errors
 * naming the file, flush.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hw/block.h"

static char path[64];

static void make_file(size_t size)
{
    strcpy(path, "/tmp/glass-block-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    uint8_t buf[512];
    for (size_t off = 0; off < size; off += sizeof(buf)) {
        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = (uint8_t)((off + i) / 512 * 7 + i);
        size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);
        cr_assert_eq(write(fd, buf, n), (ssize_t)n);
    }
    close(fd);
}

Test(block, read_write_and_bounds)
{
    char err[256];
    make_file(4096);
    struct block *b = block_open(path, false, err, sizeof(err));
    cr_assert_not_null(b, "%s", err);
    cr_assert_eq(block_size(b), 4096);
    cr_assert(!block_read_only(b));
    uint8_t s[512];
    cr_assert_eq(block_pread(b, 512, s, 512), 0);
    cr_assert_eq(s[0], 7);
    cr_assert_eq(s[1], 8);
    memset(s, 0xab, sizeof(s));
    cr_assert_eq(block_pwrite(b, 3584, s, 512), 0);
    cr_assert_eq(block_pread(b, 3584 + 511, s, 1), 0);
    cr_assert_eq(s[0], 0xab);
    /* Past the end, or wrapping: errors, never a short read. */
    cr_assert_eq(block_pread(b, 3585, s, 512), -1);
    cr_assert_eq(block_pread(b, UINT64_MAX - 10, s, 512), -1);
    cr_assert_eq(block_pwrite(b, 4096, s, 1), -1);
    cr_assert_eq(block_flush(b), 0);
    block_close(b);
    unlink(path);
}

Test(block, read_only_request_and_read_only_file)
{
    char err[256];
    make_file(2048);
    struct block *b = block_open(path, true, err, sizeof(err));
    cr_assert_not_null(b);
    cr_assert(block_read_only(b));
    uint8_t s[16] = { 0 };
    cr_assert_eq(block_pwrite(b, 0, s, 16), -1);
    block_close(b);
    if (geteuid() != 0) { /* root can write anyway */
        chmod(path, 0444);
        b = block_open(path, false, err, sizeof(err));
        cr_assert_not_null(b, "%s", err);
        cr_assert(block_read_only(b));
        block_close(b);
    }
    unlink(path);
}

Test(block, missing_and_empty_files_name_the_file)
{
    char err[256];
    struct block *b = block_open("/nonexistent/glass.img", false, err, sizeof(err));
    cr_assert_null(b);
    cr_assert(strstr(err, "/nonexistent/glass.img") != NULL);
    make_file(0);
    b = block_open(path, false, err, sizeof(err));
    cr_assert_null(b);
    cr_assert(strstr(err, path) != NULL);
    cr_assert(strstr(err, "empty") != NULL);
    unlink(path);
}
