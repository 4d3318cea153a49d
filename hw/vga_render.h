/*
 * hw/vga_render.h — the VGA's picture as pixels, for the window
 * (frontend/display_sdl.c) and the monitor's screendump.
 *
 * vga_render_view is a pure function: a struct vga_view (registers,
 * VRAM, frame count; hw/vga.h) in, XRGB8888 pixels (0x00RRGGBB) out. It
 * draws the text modes from the font in plane 2 with attributes, cursor
 * and blink; the planar 16-colour, CGA-interleaved and 256-colour
 * (chain-4) graphics modes; the Bochs VBE framebuffer at 4, 8, 15, 16,
 * 24 and 32 bpp. No device, no SDL, no allocation.
 *
 * vga_frame_update keeps a picture up to date from frame to frame:
 * given the VRAM pages written since its last call (vga_take_dirty), it
 * redraws only the lines that read them, plus what registers, the
 * palette, the font, the cursor or the blink phase changed.
 */
#ifndef GLASS_HW_VGA_RENDER_H
#define GLASS_HW_VGA_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/vga.h"

/* The picture's size in pixels for `view` (the VBE resolution, or what
 * the CRTC displays). A blanked screen keeps its size (it renders
 * black). */
void vga_view_size(const struct vga_view *view, int *width, int *height);

/*
 * Draws `view` into `px`, `stride` pixels per row with room for `rows`
 * rows. `dirty`: NULL draws every line; otherwise only the lines that
 * read a VRAM page whose bit is set (VGA_DIRTY_WORDS words, bit p of
 * word p / 64 for page p) are drawn. `drawn`, if not NULL, has a byte
 * per line of the picture, set to 1 for each line drawn and 0 for the
 * others. Returns the number of lines drawn, or -1 (nothing drawn) if
 * the picture does not fit in `stride` x `rows`.
 */
int vga_render_view(const struct vga_view *view, uint32_t *px, int stride, int rows,
                    const uint64_t *dirty, uint8_t *drawn);

/* What a picture kept between frames was drawn from. Zero it (or call
 * vga_frame_init) before the first update. */
struct vga_frame {
    bool valid;                 /* px holds the picture described here */
    int width, height;
    struct vga_regs regs;       /* the registers it was drawn with */
    bool blink_on, cursor_on;   /* text modes: the blink phases drawn */
    uint8_t font[2][256 * 32];  /* text modes: maps A and B as drawn */
    uint64_t redraw[VGA_DIRTY_WORDS]; /* scratch: the pages to draw again */
};

void vga_frame_init(struct vga_frame *f);

/*
 * Brings the picture in `px` (the one drawn by the previous call with
 * the same `f`) up to date with `view`. `written` holds the VRAM pages
 * written since that call (vga_take_dirty), or NULL if unknown (all of
 * them). A new size, other registers or palette redraw everything; in
 * text modes a changed font does too, and a moved or blinking cursor
 * redraws its rows. *width and *height get the picture's size; `drawn`
 * (room for `rows` bytes, or NULL) marks the lines drawn. Returns the
 * number of lines drawn (0: the picture is unchanged), or -1 if the
 * picture does not fit (then nothing is drawn and the next call that
 * fits draws it whole).
 */
int vga_frame_update(struct vga_frame *f, const struct vga_view *view, const uint64_t *written,
                     uint32_t *px, int stride, int rows, uint8_t *drawn, int *width,
                     int *height);

#endif
