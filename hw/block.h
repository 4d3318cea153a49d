/*
 * hw/block.h — raw disk image backend. The only code that touches host
 * files for disks and CD-ROMs; devices (hw/ide.c) use this API.
 */
#ifndef GLASS_HW_BLOCK_H
#define GLASS_HW_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct block;

/*
 * Opens a raw image. `read_only` asks for read-only access (CD-ROM media);
 * a file that cannot be opened for writing is opened read-only as well.
 * Returns NULL with a message naming the file in err on failure (missing
 * file, zero length, I/O error).
 */
struct block *block_open(const char *path, bool read_only, char *err, size_t errlen);
/* Flushes and closes; NULL is ignored. */
void block_close(struct block *b);
uint64_t block_size(const struct block *b); /* bytes */
bool block_read_only(const struct block *b);
const char *block_path(const struct block *b);
/* Byte-addressed I/O. Returns 0, or -1 when [off, off+len) is not inside
 * the image, the image is read-only (writes), or the host I/O failed. */
int block_pread(struct block *b, uint64_t off, void *buf, size_t len);
int block_pwrite(struct block *b, uint64_t off, const void *buf, size_t len);
/* Makes written data durable (fdatasync). Returns 0 or -1. */
int block_flush(struct block *b);
/* How many times block_flush reached the host (fdatasync), for tests. */
uint64_t block_flush_count(const struct block *b);

#endif
