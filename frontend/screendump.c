/*
 * frontend/screendump.c — the monitor's screendump: the board renders the
 * display (hw/vga.c: the text modes with the guest's font from plane 2,
 * the planar and chain-4 modes, the VBE framebuffer) and this file writes
 * the pixels as an 8-bit RGB PNG through libpng.
 */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

/* The largest picture accepted from the renderer (VBE's maximum mode). */
#define SCREEN_MAX_PIXELS (4096 * 4096)

int png_write_xrgb(const char *path, const uint32_t *pixels, int width, int height,
                   char *err, size_t errlen)
{
    if (width <= 0 || height <= 0) {
        snprintf(err, errlen, "nothing to write (%dx%d)", width, height);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *row = malloc((size_t)width * 3);
    if (!png || !info || !row) {
        snprintf(err, errlen, "out of memory");
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        return -1;
    }
    /* libpng reports its errors by longjmp. `row` is not modified after
     * the setjmp, so it is still valid when we land here. */
    if (setjmp(png_jmpbuf(png))) {
        snprintf(err, errlen, "%s: cannot write the PNG", path);
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) {
        const uint32_t *src = pixels + (size_t)y * (size_t)width;
        for (int x = 0; x < width; x++) {
            row[3 * x] = (uint8_t)(src[x] >> 16);
            row[3 * x + 1] = (uint8_t)(src[x] >> 8);
            row[3 * x + 2] = (uint8_t)src[x];
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int screendump(struct pc *pc, const char *path, int *width, int *height, char *err,
               size_t errlen)
{
    int w = 0, h = 0;
    pc_screen_render(pc, NULL, &w, &h, 0);
    if (w <= 0 || h <= 0 || (int64_t)w * h > SCREEN_MAX_PIXELS) {
        snprintf(err, errlen, "the display has no picture (%dx%d)", w, h);
        return -1;
    }
    uint32_t *px = calloc((size_t)w * (size_t)h, sizeof(*px));
    if (!px) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rw = w, rh = h;
    if (pc_screen_render(pc, px, &rw, &rh, w) != 0) {
        free(px);
        snprintf(err, errlen, "the display changed size while rendering");
        return -1;
    }
    int rc = png_write_xrgb(path, px, rw, rh, err, errlen);
    free(px);
    if (rc == 0) {
        *width = rw;
        *height = rh;
    }
    return rc;
}
