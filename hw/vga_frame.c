/*
 * hw/vga_frame.c — keeping a picture of the VGA up to date from frame
 * to frame (vga_frame_update, hw/vga_render.h): what must be drawn
 * again, from the VRAM pages written (memory/'s dirty log, via
 * vga_take_dirty) and from what else the picture depends on:
 *
 * - the registers that shape the picture and the palette: any change
 *   redraws it all (the CPU-side registers, such as the map mask or the
 *   bit mask that planar drawing changes all the time, are left out);
 * - in text modes the glyphs in plane 2: a page written that holds part
 *   of the two character maps in use sends the maps through a compare
 *   with the copy kept here (16 KiB, only then); a change redraws all;
 * - the cursor (its location, shape and blink phase): its old and new
 *   cells' rows; the character blink phase: everything.
 */
#include <string.h>

#include "hw/vga_regs.h"
#include "hw/vga_render.h"

void vga_frame_init(struct vga_frame *f)
{
    memset(f, 0, sizeof(*f));
}

/* The registers as far as the picture goes: those the renderer never
 * reads (the CPU's access path: map mask, memory mode, the graphics
 * controller's data path, the bank; the attribute index without PAS),
 * and the cursor (handled apart) are cleared. */
static void picture_regs(const struct vga_regs *in, struct vga_regs *out)
{
    *out = *in;
    out->misc = 0;
    out->seq[2] = out->seq[4] = 0;
    for (unsigned i = 0; i < VGA_GC_REGS; i++)
        out->gc[i] = i == 5 ? (uint8_t)(in->gc[5] & 0x60) : 0;
    out->ar_index &= VGA_AR_PAS;
    out->crtc[0x0a] = out->crtc[0x0b] = out->crtc[0x0e] = out->crtc[0x0f] = 0;
    out->vbe[VBE_DISPI_INDEX_ID] = 0;
    out->vbe[VBE_DISPI_INDEX_BANK] = 0;
    out->vbe[VBE_DISPI_INDEX_VIDEO_MEMORY_64K] = 0;
    out->vbe[VBE_DISPI_INDEX_ENABLE] &= VBE_DISPI_ENABLED | VBE_DISPI_8BIT_DAC;
}

static bool regs_differ(const struct vga_regs *a, const struct vga_regs *b)
{
    struct vga_regs pa, pb;
    picture_regs(a, &pa);
    picture_regs(b, &pb);
    return memcmp(&pa, &pb, sizeof(pa)) != 0;
}

static inline bool bit_set(const uint64_t *d, unsigned page)
{
    return (d[page / 64] >> (page % 64)) & 1;
}

static inline void set_bit(uint64_t *d, unsigned page)
{
    d[page / 64] |= 1ull << (page % 64);
}

/* Whether a page holding glyph bytes of character map `map` (plane-2
 * offset; 256 glyphs of 32 bytes, i.e. VRAM bytes 4 * map to 4 * map +
 * 32 KiB) was written. */
static bool map_written(const uint64_t *written, unsigned map)
{
    unsigned first = (map * 4) >> 12;
    for (unsigned p = first; p < first + 8; p++)
        if (bit_set(written, p))
            return true;
    return false;
}

static void copy_map(uint8_t *out, const uint8_t *vram, unsigned map)
{
    for (unsigned i = 0; i < 256 * 32; i++)
        out[i] = vram[((map + i) & (VGA_PLANE_SIZE - 1)) * 4 + 2];
}

static bool map_changed(const uint8_t *kept, const uint8_t *vram, unsigned map)
{
    for (unsigned i = 0; i < 256 * 32; i++)
        if (kept[i] != vram[((map + i) & (VGA_PLANE_SIZE - 1)) * 4 + 2])
            return true;
    return false;
}

/* Marks the page of the cell at character clock `ma` for a redraw. */
static void mark_cell(uint64_t *redraw, const struct vga_regs *r, unsigned ma)
{
    set_bit(redraw, (crtc_addr(r, ma & 0xffff, 0) * 4) >> 12);
}

int vga_frame_update(struct vga_frame *f, const struct vga_view *view, const uint64_t *written,
                     uint32_t *px, int stride, int rows, uint8_t *drawn, int *width,
                     int *height)
{
    const struct vga_regs *r = &view->regs;
    int w, h;
    vga_view_size(view, &w, &h);
    *width = w;
    *height = h;
    if (!px || stride < w || rows < h) {
        f->valid = false;
        return -1;
    }
    bool text = !vbe_enabled(r) && !is_graphics(r);
    unsigned map_a = 0, map_b = 0;
    if (text)
        text_font_maps(r, &map_a, &map_b);
    bool full = !f->valid || !written || w != f->width || h != f->height ||
                regs_differ(&f->regs, r);
    bool fonts_written = true;
    if (!full && text) {
        fonts_written = map_written(written, map_a) || map_written(written, map_b);
        if (fonts_written &&
            (map_changed(f->font[0], view->vram, map_a) || map_changed(f->font[1], view->vram,
                                                                        map_b)))
            full = true;
        if ((r->ar[0x10] & 0x08) && text_blink_on(view->frame) != f->blink_on)
            full = true;
    }
    int n;
    if (full) {
        n = vga_render_view(view, px, stride, rows, NULL, drawn);
    } else {
        memcpy(f->redraw, written, sizeof(f->redraw));
        if (text) {
            /* The cursor: where it was and where it is, when it moved,
             * changed shape or blinked. */
            const struct vga_regs *o = &f->regs;
            bool on = text_cursor_on(view->frame);
            if (on != f->cursor_on || o->crtc[0x0a] != r->crtc[0x0a] ||
                o->crtc[0x0b] != r->crtc[0x0b] || o->crtc[0x0e] != r->crtc[0x0e] ||
                o->crtc[0x0f] != r->crtc[0x0f]) {
                mark_cell(f->redraw, r, text_cursor_address(o));
                mark_cell(f->redraw, r, text_cursor_address(r));
            }
        }
        n = vga_render_view(view, px, stride, rows, f->redraw, drawn);
    }
    f->valid = true;
    f->width = w;
    f->height = h;
    f->regs = *r;
    f->blink_on = text_blink_on(view->frame);
    f->cursor_on = text_cursor_on(view->frame);
    if (text && (full || fonts_written)) {
        copy_map(f->font[0], view->vram, map_a);
        copy_map(f->font[1], view->vram, map_b);
    }
    return n;
}
