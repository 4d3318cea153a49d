/*
 * hw/vga_render.c — the VGA's picture from a struct vga_view: text,
 * planar, CGA-interleaved and 256-colour graphics, the VBE framebuffer
 * (hw/vga_render.h). It scans out as the CRTC does, one raw scan line
 * at a time (start address, offset, maximum scan line, scan doubling,
 * line compare, panning), so that split screens and smooth scrolling
 * show as they would on a monitor.
 *
 * With a dirty bitmap, a line is drawn only if a VRAM byte it reads lies
 * in a dirty page: the character cells of a text row (glyph changes are
 * vga_frame_update's business), the character clocks of a graphics
 * line, the bytes of a VBE line.
 */
#include "hw/vga_render.h"

#include <string.h>

#include "hw/vga_regs.h"

static inline bool page_dirty(const uint64_t *d, uint64_t byte)
{
    uint64_t p = byte >> 12;
    return p < VGA_DIRTY_PAGES && ((d[p / 64] >> (p % 64)) & 1);
}

/* Whether character clocks [ma, ma + n) on row scan `rs` read a dirty
 * page (through the CRTC's address generator). */
static bool clocks_dirty(const struct vga_regs *r, const uint64_t *d, unsigned ma, unsigned n,
                         unsigned rs)
{
    for (unsigned i = 0; i < n; i++)
        if (page_dirty(d, (uint64_t)crtc_addr(r, (ma + i) & 0xffff, rs) * 4))
            return true;
    return false;
}

void vga_view_size(const struct vga_view *view, int *width, int *height)
{
    int w, h;
    vga_regs_size(&view->regs, &w, &h);
    *width = w > 0 ? w : 0;
    *height = h > 0 ? h : 0;
}

/* Horizontal Pixel Panning (AR13) in text modes: 9-dot cells shift 1-8
 * pixels for values 0-7 and none for 8; 8-dot cells shift 0-7. */
static unsigned text_pan(const struct vga_regs *r, unsigned cw)
{
    unsigned p13 = r->ar[0x13] & 0x0f;
    if (cw == 9)
        return p13 < 8 ? p13 + 1 : 0;
    return p13 < 8 ? p13 : 0;
}

static int render_text(const struct vga_view *s, uint32_t *px, int w, int h, int stride,
                       const uint64_t *dirty, uint8_t *drawn)
{
    const struct vga_regs *r = &s->regs;
    unsigned cols, rows, ch;
    text_geometry(r, &cols, &rows, &ch);
    unsigned cw = char_width(r);
    unsigned map_a, map_b;
    text_font_maps(r, &map_a, &map_b);
    bool blink_on = text_blink_on(s->frame);
    bool cursor_on = text_cursor_on(s->frame);
    unsigned cur = text_cursor_address(r);
    unsigned cs = r->crtc[0x0a] & 0x1f, ce = r->crtc[0x0b] & 0x1f;
    bool cursor_en = !(r->crtc[0x0a] & 0x20);
    uint32_t pal[16];
    for (int i = 0; i < 16; i++)
        pal[i] = dac_rgb(r, attr_to_dac(r, (uint8_t)i));
    unsigned pan = text_pan(r, cw);
    bool dbl = (r->crtc[0x09] & 0x80) != 0;
    unsigned raw = vdisp_end(r) + 1, lc = line_compare(r);
    unsigned offset = (unsigned)r->crtc[0x13] * 2;
    unsigned line_ma = start_address(r);
    unsigned rs = r->crtc[0x08] & 0x1f;     /* Preset Row Scan */
    unsigned checked_ma = ~0u;
    bool row_dirty = true;
    int n = 0;
    for (unsigned sl = 0; sl < raw; sl++) {
        if (sl == lc) {
            /* Line Compare: the lower screen starts at address 0. */
            line_ma = 0;
            rs = 0;
            if (r->ar[0x10] & 0x20)
                pan = 0;
        }
        int oy = (int)(dbl ? sl / 2 : sl);
        if (dirty && line_ma != checked_ma) {
            /* The cells of a row are the same on each of its lines. */
            checked_ma = line_ma;
            row_dirty = clocks_dirty(r, dirty, line_ma, cols + 1, 0);
        }
        if ((!dbl || !(sl & 1)) && oy < h && row_dirty) {
            uint32_t *o = px + (size_t)oy * (size_t)stride;
            unsigned gl = rs;
            n++;
            if (drawn)
                drawn[oy] = 1;
            /* One cell more than the screen when panned: its first
             * pixels slide in on the right. */
            for (unsigned c = 0; c <= cols; c++) {
                int x0 = (int)(c * cw) - (int)pan;
                if (x0 >= w)
                    break;
                unsigned ma = (line_ma + c) & 0xffff;
                uint32_t a = crtc_addr(r, ma, 0);
                uint8_t chr = s->vram[a * 4 + 0], attr = s->vram[a * 4 + 1];
                unsigned font = (attr & 0x08) ? map_a : map_b;
                uint8_t fg = attr & 0x0f, bg = attr >> 4;
                bool hide = false;
                if (r->ar[0x10] & 0x08) { /* Blink Enable: bit 7 blinks, not intensity */
                    bg &= 7;
                    if ((attr & 0x80) && !blink_on)
                        hide = true;
                }
                uint8_t bits = 0;
                if (gl < 32)
                    bits = s->vram[((font + chr * 32u + gl) & (VGA_PLANE_SIZE - 1)) * 4 + 2];
                /* Underline Location (CR14): attributes with foreground
                 * 001b and background 000b get the line (visible in the
                 * monochrome modes, where CR14 lies inside the cell). */
                if ((attr & 0x77) == 0x01 && gl == (r->crtc[0x14] & 0x1fu))
                    bits = 0xff;
                if (hide)
                    bits = 0;
                /* Line Graphics Enable: the ninth dot repeats the eighth
                 * for C0h-DFh, else it is background. */
                bool nine = (r->ar[0x10] & 0x04) && chr >= 0xc0 && chr <= 0xdf && (bits & 1);
                /* The cursor covers the whole cell width. */
                if (cursor_en && cursor_on && ma == cur && gl >= cs && gl <= ce) {
                    bits = 0xff;
                    nine = true;
                }
                for (unsigned dx = 0; dx < cw; dx++) {
                    int x = x0 + (int)dx;
                    if (x < 0 || x >= w)
                        continue;
                    bool on = dx < 8 ? (bits & (0x80 >> dx)) != 0 : nine;
                    o[x] = on ? pal[fg] : pal[bg];
                }
            }
        }
        /* The row scan counter runs 0..Maximum Scan Line (each line
         * twice with Scan Doubling), then the next row is Offset*2 on. */
        if (!dbl || (sl & 1)) {
            if (++rs >= ch) {
                rs = 0;
                line_ma += offset;
            }
        }
    }
    return n;
}

/* The 4-bit colour of pixel `bit` (7 = leftmost) of the four planes'
 * bytes in `q` (plane p in byte p). */
static inline uint8_t planar_pixel(uint32_t q, unsigned bit)
{
    return (uint8_t)(((q >> bit) & 1) | ((q >> (8 + bit)) & 1) << 1 |
                     ((q >> (16 + bit)) & 1) << 2 | ((q >> (24 + bit)) & 1) << 3);
}

static int render_graphics(const struct vga_view *s, uint32_t *px, int w, int h, int stride,
                           const uint64_t *dirty, uint8_t *drawn)
{
    const struct vga_regs *r = &s->regs;
    uint32_t pal[256];
    for (int i = 0; i < 256; i++)
        pal[i] = dac_rgb(r, (uint8_t)i);
    uint8_t attr_pal[16];
    for (int i = 0; i < 16; i++)
        attr_pal[i] = attr_to_dac(r, (uint8_t)i);
    bool c256 = (r->gc[5] & 0x40) != 0;
    bool cga = (r->gc[5] & 0x20) != 0;
    bool dbl = (r->crtc[0x09] & 0x80) != 0;
    unsigned msl = (r->crtc[0x09] & 0x1f) + 1;
    unsigned per_out = (dbl ? 2 : 1) * (c256 ? msl : 1); /* raw lines per output line */
    unsigned raw = vdisp_end(r) + 1;
    unsigned lc = line_compare(r);
    unsigned offset = (unsigned)r->crtc[0x13] * 2;
    unsigned pan = r->ar[0x13] & 0x0f;
    pan = c256 ? (pan >> 1) & 3 : (pan < 8 ? pan : 0);
    uint32_t line_ma = start_address(r);
    unsigned rs = r->crtc[0x08] & 0x1f;
    int n = 0;
    for (unsigned sl = 0; sl < raw; sl++) {
        if (sl == lc) {
            /* Line Compare: the lower screen starts at address 0. */
            line_ma = 0;
            rs = 0;
            if (r->ar[0x10] & 0x20)
                pan = 0;
        }
        int oy = (int)(sl / per_out);
        bool draw = sl % per_out == 0 && oy < h;
        if (draw && dirty) {
            if (c256) {
                unsigned clocks = ((unsigned)w + pan) / 4 + 1;
                draw = false;
                for (unsigned i = 0; i < clocks && !draw; i++)
                    draw = page_dirty(dirty, (uint64_t)((line_ma + i) & 0xffff) * 4);
            } else {
                draw = clocks_dirty(r, dirty, line_ma, ((unsigned)w + pan) / 8 + 1, rs);
            }
        }
        if (draw) {
            uint32_t *o = px + (size_t)oy * (size_t)stride;
            n++;
            if (drawn)
                drawn[oy] = 1;
            for (int x = 0; x < w; x++) {
                unsigned p = (unsigned)x + pan;
                uint8_t idx;
                if (c256) {
                    uint32_t a = (line_ma + p / 4) & (VGA_PLANE_SIZE - 1);
                    idx = s->vram[a * 4 + (p & 3)];
                } else {
                    uint32_t a = crtc_addr(r, (line_ma + p / 8) & 0xffff, rs);
                    uint32_t q = load32(s->vram + a * 4);
                    if (cga) {
                        /* Shift Register Interleave: 2-bit pixels from
                         * plane 0 then plane 1 (CGA 320x200 modes). */
                        unsigned k = p & 7;
                        uint8_t byte = (uint8_t)(k < 4 ? q : q >> 8);
                        idx = (byte >> (6 - 2 * (k & 3))) & 3;
                    } else {
                        idx = planar_pixel(q, 7 - (p & 7));
                    }
                    idx = attr_pal[idx & 0x0f];
                }
                o[x] = pal[idx];
            }
        }
        /* Scan doubling repeats each line; the row scan counter runs
         * 0..Maximum Scan Line, then the next row begins Offset*2 on. */
        if (!dbl || (sl & 1)) {
            if (++rs >= msl) {
                rs = 0;
                line_ma += offset;
            }
        }
    }
    return n;
}

/* 5- and 6-bit channels to 8 bits (the top bits repeated below). */
static inline uint32_t scale5(uint32_t v)
{
    return (v << 3) | (v >> 2);
}

static inline uint32_t scale6(uint32_t v)
{
    return (v << 2) | (v >> 4);
}

/* One VBE line of `w` pixels from VRAM byte `a` (already known to lie
 * within VRAM with all its bytes) at 8, 15, 16, 24 or 32 bpp. */
static void vbe_line(const uint8_t *p, unsigned bpp, const uint32_t *pal, uint32_t *o, int w)
{
    switch (bpp) {
    case 8:
        for (int x = 0; x < w; x++)
            o[x] = pal[p[x]];
        break;
    case 15:
        for (int x = 0; x < w; x++) {
            uint32_t q = p[2 * x] | (uint32_t)p[2 * x + 1] << 8;
            o[x] = scale5((q >> 10) & 31) << 16 | scale5((q >> 5) & 31) << 8 | scale5(q & 31);
        }
        break;
    case 16:
        for (int x = 0; x < w; x++) {
            uint32_t q = p[2 * x] | (uint32_t)p[2 * x + 1] << 8;
            o[x] = scale5((q >> 11) & 31) << 16 | scale6((q >> 5) & 63) << 8 | scale5(q & 31);
        }
        break;
    case 24:
        for (int x = 0; x < w; x++)
            o[x] = (uint32_t)p[3 * x + 2] << 16 | (uint32_t)p[3 * x + 1] << 8 | p[3 * x];
        break;
    default: /* 32: B, G, R, unused */
        for (int x = 0; x < w; x++)
            o[x] = load32(p + 4 * x) & 0xffffff;
        break;
    }
}

static int render_vbe(const struct vga_view *s, uint32_t *px, int w, int h, int stride,
                      const uint64_t *dirty, uint8_t *drawn)
{
    const struct vga_regs *r = &s->regs;
    unsigned bpp = vbe_bpp(r);
    uint32_t lb = vbe_line_bytes(bpp, r->vbe[VBE_DISPI_INDEX_VIRT_WIDTH]);
    uint64_t xoff = r->vbe[VBE_DISPI_INDEX_X_OFFSET];
    uint64_t start = (uint64_t)r->vbe[VBE_DISPI_INDEX_Y_OFFSET] * lb;
    uint32_t pal[256];
    for (int i = 0; i < 256; i++)
        pal[i] = dac_rgb(r, (uint8_t)i);
    unsigned bp = vbe_bytes_pp(bpp);
    int n = 0;
    for (int y = 0; y < h; y++) {
        uint64_t line = start + (uint64_t)y * lb;
        /* The VRAM bytes the line reads: [lo, hi). */
        uint64_t lo, hi;
        if (bpp == 4) {
            lo = (line / 4 + xoff / 8) * 4;
            hi = (line / 4 + (xoff + (uint64_t)w + 7) / 8) * 4;
        } else {
            lo = line + xoff * bp;
            hi = lo + (uint64_t)w * bp;
        }
        if (dirty) {
            bool any = false;
            uint64_t last = hi < VGA_VRAM_SIZE ? hi : VGA_VRAM_SIZE;
            for (uint64_t a = lo & ~0xfffull; a < last && !any; a += 4096)
                any = page_dirty(dirty, a);
            if (!any)
                continue;
        }
        uint32_t *o = px + (size_t)y * (size_t)stride;
        n++;
        if (drawn)
            drawn[y] = 1;
        if (bpp == 4) {
            /* Planar: 8 pixels per plane byte (interleaved x4). */
            for (int x = 0; x < w; x++) {
                uint64_t xx = (uint64_t)x + xoff;
                uint64_t a = line / 4 + xx / 8;
                o[x] = a * 4 + 4 <= VGA_VRAM_SIZE
                           ? pal[attr_to_dac(r, planar_pixel(load32(s->vram + a * 4),
                                                             7 - (unsigned)(xx & 7)))]
                           : 0;
            }
            continue;
        }
        /* Pixels past the end of VRAM are black. */
        uint64_t avail = lo < VGA_VRAM_SIZE ? (VGA_VRAM_SIZE - lo) / bp : 0;
        int fit = avail < (uint64_t)w ? (int)avail : w;
        if (fit)
            vbe_line(s->vram + lo, bpp, pal, o, fit);
        for (int x = fit; x < w; x++)
            o[x] = 0;
    }
    return n;
}

int vga_render_view(const struct vga_view *view, uint32_t *px, int stride, int rows,
                    const uint64_t *dirty, uint8_t *drawn)
{
    const struct vga_regs *r = &view->regs;
    int w, h;
    vga_view_size(view, &w, &h);
    if (!px || stride < w || rows < h)
        return -1;
    if (drawn)
        memset(drawn, 0, (size_t)h);
    if (vbe_enabled(r))
        return render_vbe(view, px, w, h, stride, dirty, drawn);
    if (screen_blank(r)) {
        /* Black whatever VRAM holds: nothing to redraw for a write. */
        if (dirty)
            return 0;
        for (int y = 0; y < h; y++) {
            memset(px + (size_t)y * (size_t)stride, 0, (size_t)w * 4);
            if (drawn)
                drawn[y] = 1;
        }
        return h;
    }
    if (is_graphics(r))
        return render_graphics(view, px, w, h, stride, dirty, drawn);
    return render_text(view, px, w, h, stride, dirty, drawn);
}
