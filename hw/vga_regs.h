/*
 * hw/vga_regs.h — what the VGA's registers say about the picture, shared
 * by the device (hw/vga.c: timing, the text snapshot) and the renderer
 * (hw/vga_render.c): geometry from the CRTC, VBE line layout, the colour
 * path from attribute to DAC, the CRTC's address generator. Private to
 * hw/vga*.c. Section names are the IBM VGA Technical Reference's and
 * FreeVGA's.
 */
#ifndef GLASS_HW_VGA_REGS_H
#define GLASS_HW_VGA_REGS_H

#include <string.h>

#include "hw/vga.h"

#define VGA_PLANE_SIZE 0x10000u /* one plane: 64 KiB */

static inline uint32_t load32(const uint8_t *p)
{
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
}

static inline bool vbe_enabled(const struct vga_regs *r)
{
    return (r->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) != 0;
}

static inline unsigned char_width(const struct vga_regs *r)
{
    /* Clocking Mode bit 0: 8/9 Dot Mode (1 = 8 dots). */
    return (r->seq[1] & 0x01) ? 8 : 9;
}

/* Vertical Display End, 10 bits: CR12 + Overflow bits 1 (bit 8) and 6
 * (bit 9); the value is the last displayed scan line. */
static inline unsigned vdisp_end(const struct vga_regs *r)
{
    return r->crtc[0x12] | ((r->crtc[0x07] & 0x02) << 7) | ((r->crtc[0x07] & 0x40) << 3);
}

static inline unsigned vtotal(const struct vga_regs *r)
{
    return r->crtc[0x06] | ((r->crtc[0x07] & 0x01) << 8) | ((r->crtc[0x07] & 0x20) << 4);
}

static inline unsigned vretrace_start(const struct vga_regs *r)
{
    return r->crtc[0x10] | ((r->crtc[0x07] & 0x04) << 6) | ((r->crtc[0x07] & 0x80) << 2);
}

static inline unsigned line_compare(const struct vga_regs *r)
{
    return r->crtc[0x18] | ((r->crtc[0x07] & 0x10) << 4) | ((r->crtc[0x09] & 0x40) << 3);
}

/* Start Address (CR0C/CR0D) plus Byte Panning (Preset Row Scan bits
 * 6-5), which delays the start by 0-3 character clocks. */
static inline unsigned start_address(const struct vga_regs *r)
{
    return (((unsigned)r->crtc[0x0c] << 8) | r->crtc[0x0d]) + ((r->crtc[0x08] >> 5) & 3);
}

static inline unsigned vbe_bpp(const struct vga_regs *r)
{
    unsigned b = r->vbe[VBE_DISPI_INDEX_BPP];
    return b ? b : 8;
}

static inline unsigned vbe_bytes_pp(unsigned bpp)
{
    return (bpp + 7) / 8;
}

/* Bytes per scan line of a virtual width (4 bpp: planar, one byte per
 * 8 pixels in each plane, i.e. 4 bytes of interleaved VRAM). */
static inline uint32_t vbe_line_bytes(unsigned bpp, uint32_t vw)
{
    return bpp == 4 ? vw / 2 : vw * vbe_bytes_pp(bpp);
}

static inline uint32_t dac_rgb(const struct vga_regs *r, uint8_t index)
{
    const uint8_t *e = &r->dac[(index & r->dac_mask) * 3];
    uint32_t red = e[0], green = e[1], blue = e[2];
    if (!(r->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC)) {
        /* 6-bit DAC: scale 0..63 to 0..255. */
        red = (red << 2) | (red >> 4);
        green = (green << 2) | (green >> 4);
        blue = (blue << 2) | (blue >> 4);
    }
    return (red & 0xff) << 16 | (green & 0xff) << 8 | (blue & 0xff);
}

/* A 4-bit attribute colour through the palette registers, Color Plane
 * Enable and Color Select (Attribute Mode Control bit 7, P5/P4 select)
 * to a DAC index. */
static inline uint8_t attr_to_dac(const struct vga_regs *r, uint8_t c)
{
    uint8_t p = r->ar[c & r->ar[0x12] & 0x0f];
    uint8_t cs = r->ar[0x14];
    if (r->ar[0x10] & 0x80)
        p = (uint8_t)((p & 0x0f) | ((cs & 0x03) << 4));
    return (uint8_t)((p & 0x3f) | ((cs & 0x0c) << 4));
}

/* Address the CRTC puts on the memory bus for character clock `ma` on
 * row scan `rs` (CRTC Mode Control, Underline Location): byte, word or
 * doubleword addressing, then the CGA/Hercules bank substitutions. */
static inline uint32_t crtc_addr(const struct vga_regs *r, uint32_t ma, unsigned rs)
{
    uint32_t a;
    if (r->crtc[0x14] & 0x40)
        a = (ma << 2) | ((ma >> 14) & 3);
    else if (!(r->crtc[0x17] & 0x40))
        a = (ma << 1) | ((r->crtc[0x17] & 0x20) ? (ma >> 15) & 1 : (ma >> 13) & 1);
    else
        a = ma;
    if (!(r->crtc[0x17] & 0x01))
        a = (a & ~0x2000u) | ((rs & 1) << 13);
    if (!(r->crtc[0x17] & 0x02))
        a = (a & ~0x4000u) | (((rs >> 1) & 1) << 14);
    return a & (VGA_PLANE_SIZE - 1);
}

static inline bool is_graphics(const struct vga_regs *r)
{
    return (r->ar[0x10] & 0x01) != 0; /* Attribute Mode Control: Graphics */
}

static inline bool screen_blank(const struct vga_regs *r)
{
    /* Screen Off (Clocking Mode bit 5), the sequencer held in reset
     * (Reset register bits 1-0 not both 1), the palette CPU-owned, or
     * no sync (CR17 bit 7, Sync Enable): no picture. */
    return (r->seq[1] & 0x20) || (r->seq[0] & 3) != 3 || !(r->ar_index & VGA_AR_PAS) ||
           !(r->crtc[0x17] & 0x80);
}

static inline void text_geometry(const struct vga_regs *r, unsigned *cols, unsigned *rows,
                                 unsigned *ch)
{
    unsigned cheight = (r->crtc[0x09] & 0x1f) + 1;
    unsigned lines = vdisp_end(r) + 1;
    if (r->crtc[0x09] & 0x80)
        lines /= 2;
    *cols = (unsigned)r->crtc[0x01] + 1;
    *rows = lines / cheight;
    *ch = cheight;
}

static inline void vga_regs_size(const struct vga_regs *r, int *w, int *h)
{
    if (vbe_enabled(r)) {
        *w = r->vbe[VBE_DISPI_INDEX_XRES];
        *h = r->vbe[VBE_DISPI_INDEX_YRES];
        return;
    }
    if (!is_graphics(r)) {
        unsigned cols, rows, ch;
        text_geometry(r, &cols, &rows, &ch);
        *w = (int)(cols * char_width(r));
        *h = (int)(rows * ch);
        return;
    }
    unsigned lines = vdisp_end(r) + 1;
    if (r->crtc[0x09] & 0x80)
        lines /= 2;
    int dots = ((int)r->crtc[0x01] + 1) * 8;
    if (r->gc[5] & 0x40) {
        dots /= 2;
        lines /= (r->crtc[0x09] & 0x1f) + 1;
    }
    *w = dots;
    *h = (int)lines;
}


/* Character Map Select (Sequencer 03h): the plane-2 offsets of map A
 * (attribute bit 3 = 1) and map B (bit 3 = 0); each map holds 256
 * glyphs of 32 bytes. */
static inline void text_font_maps(const struct vga_regs *r, unsigned *map_a, unsigned *map_b)
{
    static const uint16_t map_off[8] = { 0x0000, 0x4000, 0x8000, 0xc000,
                                         0x2000, 0x6000, 0xa000, 0xe000 };
    uint8_t s3 = r->seq[3];
    *map_a = map_off[((s3 >> 5) & 1) << 2 | ((s3 >> 2) & 3)];
    *map_b = map_off[((s3 >> 4) & 1) << 2 | (s3 & 3)];
}

/* Blink phases from the frame count: characters with attribute bit 7
 * blink at 1/32 of the field rate, the cursor at 1/16. */
static inline bool text_blink_on(uint64_t frame)
{
    return (frame & 16) != 0;
}

static inline bool text_cursor_on(uint64_t frame)
{
    return (frame & 8) == 0;
}

/* Cursor Location (CR0E/CR0F) delayed by Cursor Skew (CR0B bits 6-5):
 * the character clock address the cursor is drawn at. */
static inline unsigned text_cursor_address(const struct vga_regs *r)
{
    return ((((unsigned)r->crtc[0x0e] << 8) | r->crtc[0x0f]) + ((r->crtc[0x0b] >> 5) & 3)) &
           0xffff;
}

#endif
