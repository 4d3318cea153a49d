/*
 * hw/image_file.c — reading a whole guest image (kernel, firmware) from
 * the host into memory, for the loaders. Page-aligned so that the result
 * can be mapped into the guest as it is.
 */
#define _POSIX_C_SOURCE 200809L /* fileno, fstat */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hw/hw.h"

#define IMAGE_ALIGN 4096

int image_file_read(const char *path, size_t max, struct image_file *img, char *err,
                    size_t errlen)
{
    memset(img, 0, sizeof(*img));
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    /* fopen succeeds on a directory and on devices, whose "size" would
     * be nonsense (LONG_MAX, 0): an image is a regular file. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s", S_ISDIR(st.st_mode) ? strerror(EISDIR)
                                                         : "not a regular file");
        fclose(f);
        return -1;
    }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, errlen, "cannot determine its size");
        fclose(f);
        return -1;
    }
    if ((unsigned long)size > max) {
        snprintf(err, errlen, "file too large (%ld bytes, at most %zu)", size, max);
        fclose(f);
        return -1;
    }
    /* aligned_alloc wants a multiple of the alignment; the tail is zero. */
    size_t alloc = ((size_t)size + IMAGE_ALIGN) & ~(size_t)(IMAGE_ALIGN - 1);
    img->data = aligned_alloc(IMAGE_ALIGN, alloc);
    if (!img->data) {
        snprintf(err, errlen, "out of memory");
        fclose(f);
        return -1;
    }
    memset(img->data + size, 0, alloc - (size_t)size);
    img->size = (size_t)size;
    size_t got = fread(img->data, 1, img->size, f);
    fclose(f);
    if (got != img->size) {
        snprintf(err, errlen, "read error");
        image_file_free(img);
        return -1;
    }
    return 0;
}

void image_file_free(struct image_file *img)
{
    free(img->data);
    img->data = NULL;
    img->size = 0;
}
