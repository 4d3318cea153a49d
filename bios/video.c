/* bios/video.c — INT 10h for the standard VGA (text mode 03h, mode 13h)
 * and VBE 2.0 on the Bochs VBE registers (ports 0x1CE/0x1CF), since Glass's
 * VGA has no option ROM. Register values for modes 03h/13h are the
 * documented IBM VGA defaults (IBM VGA Technical Reference; FreeVGA). */
#include "bios.h"
#include "font.h"

/* One VGA mode's register file. */
struct vga_regs {
    uint8_t misc;
    uint8_t seq[5];
    uint8_t crtc[25];
    uint8_t gc[9];
    uint8_t ac[21];
};

static const struct vga_regs mode03 = {
    .misc = 0x67,
    .seq = { 0x03, 0x00, 0x03, 0x00, 0x02 },
    .crtc = { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e,
              0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff },
    .gc = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff },
    .ac = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b,
            0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00 },
};

static const struct vga_regs mode13 = {
    .misc = 0x63,
    .seq = { 0x03, 0x01, 0x0f, 0x00, 0x0e },
    .crtc = { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00,
              0x00, 0x00, 0x00, 0x00, 0x9c, 0x0e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff },
    .gc = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff },
    .ac = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
            0x0c, 0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00 },
};

/* Mode 12h: 640x480, 16 colours, four planes at A0000. */
static const struct vga_regs mode12 = {
    .misc = 0xe3,
    .seq = { 0x03, 0x01, 0x0f, 0x00, 0x06 },
    .crtc = { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00,
              0x00, 0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff },
    .gc = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff },
    .ac = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b,
            0x3c, 0x3d, 0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00, 0x00 },
};

#define VBE_INDEX 0x1ce
#define VBE_DATA  0x1cf
static uint16_t vbe_mode;       /* current VBE mode (0: a VGA mode) */

static void vbe_write(uint16_t idx, uint16_t v) { outw(VBE_INDEX, idx); outw(VBE_DATA, v); }
static uint16_t vbe_read(uint16_t idx) { outw(VBE_INDEX, idx); return inw(VBE_DATA); }

static void load_regs(const struct vga_regs *r)
{
    outb(0x3c2, r->misc);
    outb(0x3c4, 0); outb(0x3c5, 0x01);          /* synchronous reset */
    for (int i = 1; i < 5; i++) { outb(0x3c4, (uint8_t)i); outb(0x3c5, r->seq[i]); }
    outb(0x3c4, 0); outb(0x3c5, 0x03);
    outb(0x3d4, 0x11); outb(0x3d5, inb(0x3d5) & 0x7f);    /* unlock CR0-7 */
    for (int i = 0; i < 25; i++) { outb(0x3d4, (uint8_t)i); outb(0x3d5, r->crtc[i]); }
    for (int i = 0; i < 9; i++) { outb(0x3ce, (uint8_t)i); outb(0x3cf, r->gc[i]); }
    (void)inb(0x3da);                           /* attribute flip-flop to index */
    for (int i = 0; i < 21; i++) { outb(0x3c0, (uint8_t)i); outb(0x3c0, r->ac[i]); }
    outb(0x3c0, 0x20);                          /* palette address source: display on */
}

/* 6-bit DAC entry for the EGA 64-colour code rgbRGB (bits 5..0). */
static void dac_ega(int idx, int code)
{
    uint8_t c[3];
    for (int k = 0; k < 3; k++) {
        int hi = (code >> (2 - k)) & 1, lo = (code >> (5 - k)) & 1;
        c[k] = (uint8_t)(hi * 0x2a + lo * 0x15);
    }
    outb(0x3c8, (uint8_t)idx);
    outb(0x3c9, c[0]); outb(0x3c9, c[1]); outb(0x3c9, c[2]);
}

static void load_dac(bool mode13h)
{
    if (!mode13h) {
        for (int i = 0; i < 64; i++) dac_ega(i, i);
        return;
    }
    /* 0-15: the CGA colours (through their EGA codes), 16-31 grey ramp,
     * 32-255: a 6x6x6-ish colour cube (a simple original palette). */
    static const uint8_t cga[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
                                     0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f };
    for (int i = 0; i < 16; i++) dac_ega(i, cga[i]);
    outb(0x3c8, 16);
    for (int i = 0; i < 16; i++) {
        uint8_t g = (uint8_t)(i * 63 / 15);
        outb(0x3c9, g); outb(0x3c9, g); outb(0x3c9, g);
    }
    for (int i = 32; i < 256; i++) {
        int n = i - 32;
        outb(0x3c9, (uint8_t)((n / 36 % 6) * 63 / 5));
        outb(0x3c9, (uint8_t)((n / 6 % 6) * 63 / 5));
        outb(0x3c9, (uint8_t)((n % 6) * 63 / 5));
    }
}

/* The 8x16 font as a table (4 KiB in the EBDA's BIOS area): what INT 43h
 * and INT 10h AX=1130h BH=06h point programs at, and what mode 03h loads. */
static uint8_t font16[256][16];

static void font_table_init(void)
{
    for (int c = 0; c < 256; c++)
        for (int y = 0; y < 16; y++)
            font16[c][y] = font_glyph_row((uint8_t)c, y);
}

static uint32_t font16_far(void)
{
    uint32_t l = (uint32_t)(uintptr_t)font16;
    return (l >> 4) << 16 | (l & 0xf);
}

/* Character generator RAM is plane 2, 32 bytes per glyph (VGA Tech. Ref.,
 * "Character map select"): open plane 2 linearly at A0000, write `count`
 * glyphs of `height` bytes from `src` starting at `first` into block
 * `block` (8 KiB apart), restore text-mode odd/even addressing. */
static void load_glyphs(const uint8_t *src, int first, int count, int height, int block)
{
    outb(0x3c4, 0x02); outb(0x3c5, 0x04);
    outb(0x3c4, 0x04); outb(0x3c5, 0x07);
    outb(0x3ce, 0x04); outb(0x3cf, 0x02);
    outb(0x3ce, 0x05); outb(0x3cf, 0x00);
    outb(0x3ce, 0x06); outb(0x3cf, 0x04);
    volatile uint8_t *p = ptr(0xa0000 + (uint32_t)(block & 7) * 0x2000);
    if (height > 32) height = 32;
    for (int i = 0; i < count && first + i < 256; i++)
        for (int y = 0; y < 32; y++)
            p[(first + i) * 32 + y] = y < height ? src[i * height + y] : 0;
    outb(0x3c4, 0x02); outb(0x3c5, 0x03);
    outb(0x3c4, 0x04); outb(0x3c5, 0x02);
    outb(0x3ce, 0x04); outb(0x3cf, 0x00);
    outb(0x3ce, 0x05); outb(0x3cf, 0x10);
    outb(0x3ce, 0x06); outb(0x3cf, 0x0e);
}

static void load_font(void)
{
    load_glyphs(&font16[0][0], 0, 256, 16, 0);
}

static void set_cursor_hw(void);

static void set_mode(uint8_t mode)
{
    bool clear = !(mode & 0x80);
    mode &= 0x7f;
    if (mode != 0x13 && mode != 0x12) mode = 0x03;     /* others fall back to 03h */
    if (vbe_mode) { vbe_write(4, 0); vbe_mode = 0; }
    if (mode == 0x12) {
        load_regs(&mode12);
        load_dac(false);
        if (clear) {
            /* All four planes (map mask 0Fh from the table) to colour 0. */
            memset(ptr(0xa0000), 0, 38400);
        }
        BDA16(0x4a) = 80;
        BDA16(0x4c) = 0xa000;
        BDA8(0x84) = 29;
    } else if (mode == 0x13) {
        load_regs(&mode13);
        load_dac(true);
        if (clear) memset(ptr(0xa0000), 0, 64000);
        BDA16(0x4a) = 40;
        BDA16(0x4c) = 0x2000;
        BDA8(0x84) = 24;
    } else {
        load_regs(&mode03);
        load_dac(false);
        load_font();
        if (clear) {
            volatile uint16_t *t = ptr(0xb8000);
            for (int i = 0; i < 0x4000; i++) t[i] = 0x0720;
        }
        BDA16(0x4a) = 80;
        BDA16(0x4c) = 0x1000;
        BDA8(0x84) = 24;
    }
    BDA8(0x49) = mode;
    BDA16(0x4e) = 0;
    for (int i = 0; i < 8; i++) BDA16(0x50 + 2 * i) = 0;
    BDA16(0x60) = 0x0d0e;       /* cursor start 0Dh, end 0Eh */
    BDA8(0x62) = 0;
    BDA16(0x63) = 0x3d4;
    BDA8(0x65) = mode == 0x03 ? 0x29 : 0x09;
    BDA8(0x66) = 0x30;
    BDA16(0x85) = 16;
    BDA8(0x87) = 0x60;
    BDA8(0x88) = 0x09;
    BDA8(0x89) = 0x51;
    BDA8(0x8a) = 0x08;
    outb(0x3d4, 0x0c); outb(0x3d5, 0);
    outb(0x3d4, 0x0d); outb(0x3d5, 0);
    outb(0x3d4, 0x0a); outb(0x3d5, 0x0d);
    outb(0x3d4, 0x0b); outb(0x3d5, 0x0e);
    set_cursor_hw();
}

void vga_init(void)
{
    font_table_init();
    /* INT 43h: graphics character table; INT 1Fh (upper 128 of the 8x8
     * CGA font) has none. */
    *(volatile uint32_t *)ptr(0x43 * 4) = font16_far();
    set_mode(0x03);
}

/* ---------------------------------------------------------------- text */

static int cols(void) { return BDA16(0x4a) ? BDA16(0x4a) : 80; }
static int rows(void) { return BDA8(0x84) + 1; }
static bool graphics(void) { return BDA8(0x49) == 0x13 || BDA8(0x49) == 0x12; }
static bool planar(void) { return BDA8(0x49) == 0x12; }

/* Mode 12h drawing through VGA write mode 2 (GC mode register 05h = 02h):
 * each written byte's low nibble is the colour for the bits enabled in the
 * bit mask register (GC 08h); the dummy read loads the latches so the
 * other pixels of the byte keep their colour (VGA Tech. Ref., "Write
 * mode 2"). */
static void planar_write(uint32_t off, uint8_t mask, uint8_t color)
{
    volatile uint8_t *p = ptr(0xa0000 + off);
    outb(0x3ce, 0x05); outb(0x3cf, 0x02);
    outb(0x3ce, 0x08); outb(0x3cf, mask);
    (void)*p;
    *p = color;
    outb(0x3ce, 0x08); outb(0x3cf, 0xff);
    outb(0x3ce, 0x05); outb(0x3cf, 0x00);
}

static uint8_t planar_read(uint32_t off, uint8_t bit)
{
    uint8_t c = 0;
    for (int pl = 0; pl < 4; pl++) {
        outb(0x3ce, 0x04); outb(0x3cf, (uint8_t)pl);
        if (*(volatile uint8_t *)ptr(0xa0000 + off) & bit) c |= (uint8_t)(1 << pl);
    }
    outb(0x3ce, 0x04); outb(0x3cf, 0);
    return c;
}

/* Copy whole bytes of all planes with write mode 1 (latches to memory). */
static void planar_copy(uint32_t dst, uint32_t src, uint32_t n)
{
    outb(0x3ce, 0x05); outb(0x3cf, 0x01);
    volatile uint8_t *d = ptr(0xa0000 + dst), *sp = ptr(0xa0000 + src);
    for (uint32_t i = 0; i < n; i++) {
        (void)sp[i];
        d[i] = 0;
    }
    outb(0x3ce, 0x05); outb(0x3cf, 0x00);
}

static void set_cursor_hw(void)
{
    int page = BDA8(0x62) & 7;
    uint16_t pos = BDA16(0x50 + 2 * page);
    uint16_t off = (uint16_t)(BDA16(0x4e) / 2 + (pos >> 8) * cols() + (pos & 0xff));
    outb(0x3d4, 0x0e); outb(0x3d5, (uint8_t)(off >> 8));
    outb(0x3d4, 0x0f); outb(0x3d5, (uint8_t)off);
}

static volatile uint16_t *cell(int page, int row, int col)
{
    return (volatile uint16_t *)ptr(0xb8000 + (uint32_t)(page & 7) * BDA16(0x4c)
                                    + (uint32_t)(row * cols() + col) * 2);
}

/* Mode 13h: glyphs drawn from the font in the given colour. */
static void gfx_char(int row, int col, uint8_t ch, uint8_t color)
{
    if (planar()) {
        if (row >= 30 || col >= 80) return;
        for (int y = 0; y < 16; y++) {
            uint32_t off = (uint32_t)(row * 16 + y) * 80 + (uint32_t)col;
            uint8_t bits = font_glyph_row(ch, y);
            planar_write(off, 0xff, 0);
            if (bits) planar_write(off, bits, color & 0x0f);
        }
        return;
    }
    if (row >= 25 || col >= 40) return;
    volatile uint8_t *p = ptr(0xa0000 + (uint32_t)row * 8 * 320 + (uint32_t)col * 8);
    for (int y = 0; y < 8; y++) {
        /* 8x16 glyph squeezed to 8 rows: take every other row. */
        uint8_t bits = font_glyph_row(ch, y * 2) | font_glyph_row(ch, y * 2 + 1);
        for (int x = 0; x < 8; x++)
            p[y * 320 + x] = (bits & (0x80 >> x)) ? color : 0;
    }
}

static void put_at(int page, int row, int col, uint8_t ch, uint8_t attr, bool with_attr)
{
    if (row < 0 || row >= rows() || col < 0 || col >= cols()) return;
    if (graphics()) { gfx_char(row, col, ch, with_attr ? attr : 15); return; }
    volatile uint16_t *c = cell(page, row, col);
    *c = with_attr ? (uint16_t)(ch | attr << 8) : (uint16_t)((*c & 0xff00) | ch);
}

/* AH=06/07: scroll the window (r0,c0)-(r1,c1) up (or down) by n lines,
 * filling with blanks of attribute attr; n = 0 clears it. */
static void scroll(int page, int n, bool up, uint8_t attr, int r0, int c0, int r1, int c1)
{
    if (r1 >= rows()) r1 = rows() - 1;
    if (c1 >= cols()) c1 = cols() - 1;
    if (r0 > r1 || c0 > c1) return;
    int h = r1 - r0 + 1;
    if (n == 0 || n > h) n = h;
    if (planar()) {
        /* 16-pixel character rows, 80 bytes per scan line per plane. */
        for (int i = 0; i < h; i++) {
            int dst = up ? r0 + i : r1 - i;
            int src = up ? dst + n : dst - n;
            for (int y = 0; y < 16; y++) {
                uint32_t d = (uint32_t)(dst * 16 + y) * 80 + (uint32_t)c0;
                if (src >= r0 && src <= r1)
                    planar_copy(d, (uint32_t)(src * 16 + y) * 80 + (uint32_t)c0, (uint32_t)(c1 - c0 + 1));
                else
                    for (int c = 0; c <= c1 - c0; c++) planar_write(d + (uint32_t)c, 0xff, attr >> 4);
            }
        }
        return;
    }
    if (graphics()) {
        /* 8-pixel character rows of 320 bytes. */
        for (int i = 0; i < h; i++) {
            int dst = up ? r0 + i : r1 - i;
            int src = up ? dst + n : dst - n;
            for (int y = 0; y < 8; y++) {
                uint8_t *d = ptr(0xa0000 + (uint32_t)(dst * 8 + y) * 320 + (uint32_t)c0 * 8);
                if (src >= r0 && src <= r1)
                    memmove(d, ptr(0xa0000 + (uint32_t)(src * 8 + y) * 320 + (uint32_t)c0 * 8),
                            (size_t)(c1 - c0 + 1) * 8);
                else
                    memset(d, 0, (size_t)(c1 - c0 + 1) * 8);
            }
        }
        return;
    }
    for (int i = 0; i < h; i++) {
        int dst = up ? r0 + i : r1 - i;
        int src = up ? dst + n : dst - n;
        for (int c = c0; c <= c1; c++)
            *cell(page, dst, c) = (src >= r0 && src <= r1) ? *cell(page, src, c)
                                                           : (uint16_t)(0x20 | attr << 8);
    }
}

static void teletype(uint8_t ch, int page, uint8_t attr, bool with_attr)
{
    page &= 7;
    uint16_t pos = BDA16(0x50 + 2 * page);
    int row = pos >> 8, col = pos & 0xff;
    switch (ch) {
    case 7: break;
    case 8: if (col > 0) col--; break;
    case 10: row++; break;
    case 13: col = 0; break;
    default:
        put_at(page, row, col, ch, attr, with_attr);
        if (++col >= cols()) { col = 0; row++; }
        break;
    }
    if (row >= rows()) {
        uint8_t fill = graphics() ? 0 : (uint8_t)(*cell(page, rows() - 1, 0) >> 8);
        if (!fill) fill = 0x07;
        scroll(page, 1, true, fill, 0, 0, rows() - 1, cols() - 1);
        row = rows() - 1;
    }
    BDA16(0x50 + 2 * page) = (uint16_t)(row << 8 | col);
    if (page == BDA8(0x62)) set_cursor_hw();
}

void tty_putc(char c)
{
    serial_putc(c);
    if (!vbe_mode) teletype((uint8_t)c, BDA8(0x62), 0x07, false);
}

/* ---------------------------------------------------------------- VBE */

struct vbe_mode_desc { uint16_t mode, x, y; uint8_t bpp; };
static const struct vbe_mode_desc vbe_modes[] = {
    { 0x100, 640, 400, 8 }, { 0x101, 640, 480, 8 }, { 0x103, 800, 600, 8 },
    { 0x105, 1024, 768, 8 }, { 0x107, 1280, 1024, 8 },
    { 0x110, 640, 480, 15 }, { 0x111, 640, 480, 16 }, { 0x112, 640, 480, 24 },
    { 0x113, 800, 600, 15 }, { 0x114, 800, 600, 16 }, { 0x115, 800, 600, 24 },
    { 0x116, 1024, 768, 15 }, { 0x117, 1024, 768, 16 }, { 0x118, 1024, 768, 24 },
    { 0x119, 1280, 1024, 15 }, { 0x11a, 1280, 1024, 16 }, { 0x11b, 1280, 1024, 24 },
    { 0x140, 320, 200, 32 }, { 0x141, 640, 400, 32 }, { 0x142, 640, 480, 32 },
    { 0x143, 800, 600, 32 }, { 0x144, 1024, 768, 32 }, { 0x145, 1280, 1024, 32 },
    { 0x146, 320, 200, 8 }, { 0x147, 1600, 1200, 32 }, { 0x148, 1152, 864, 32 },
};
#define NVBE (sizeof vbe_modes / sizeof vbe_modes[0])

static bool vbe_present(void)
{
    uint16_t id = vbe_read(0);
    return id >= 0xb0c0 && id <= 0xb0cf;
}

static uint32_t vbe_mem(void)
{
    uint16_t id = vbe_read(0);
    uint32_t kb64 = id >= 0xb0c4 ? vbe_read(0x0a) : 0;
    return kb64 ? kb64 * 65536u : 8u * 1024 * 1024;
}

static uint32_t pitch(const struct vbe_mode_desc *m) { return (uint32_t)m->x * ((m->bpp + 7) / 8); }

static const struct vbe_mode_desc *vbe_find(uint16_t mode)
{
    mode &= 0x1ff;
    for (unsigned i = 0; i < NVBE; i++)
        if (vbe_modes[i].mode == mode && pitch(&vbe_modes[i]) * vbe_modes[i].y <= vbe_mem())
            return &vbe_modes[i];
    return NULL;
}

/* Far pointer to a ROM object (all ROM is below 1 MiB at E0000-FFFFF). */
static uint32_t farptr(const void *p)
{
    uint32_t l = (uint32_t)(uintptr_t)p;
    return (l & 0xf) | ((l >> 4) << 16);
}

static const char vbe_oem[] = "Glass VBE";
static uint16_t vbe_list[NVBE + 1];    /* filled per call; .bss is in the EBDA */

static void vbe_info(struct rm_frame *f)
{
    uint8_t *b = ptr(lin(f->es, f->edi.x));
    bool v2 = memcmp(b, "VBE2", 4) == 0;
    memset(b, 0, v2 ? 512 : 256);
    memcpy(b, "VESA", 4);
    *(uint16_t *)(b + 4) = 0x0200;
    *(uint32_t *)(b + 6) = farptr(vbe_oem);
    *(uint32_t *)(b + 10) = 0;                  /* capabilities: 6-bit DAC */
    int n = 0;
    for (unsigned i = 0; i < NVBE; i++)
        if (vbe_find(vbe_modes[i].mode)) vbe_list[n++] = vbe_modes[i].mode;
    vbe_list[n] = 0xffff;
    /* The list lives in the BIOS data area of the EBDA (reserved RAM). */
    uint32_t l = (uint32_t)(uintptr_t)vbe_list;
    *(uint32_t *)(b + 14) = (l & 0xf) | ((l >> 4) << 16);
    *(uint16_t *)(b + 18) = (uint16_t)(vbe_mem() / 65536);
    if (v2) {
        *(uint16_t *)(b + 20) = 0x0001;
        *(uint32_t *)(b + 22) = farptr(vbe_oem);
        *(uint32_t *)(b + 26) = farptr(vbe_oem);
        *(uint32_t *)(b + 30) = farptr(vbe_oem);
    }
    f->eax.x = 0x004f;
}

static void vbe_mode_info(struct rm_frame *f)
{
    const struct vbe_mode_desc *m = vbe_find(f->ecx.x);
    if (!m) { f->eax.x = 0x014f; return; }
    uint8_t *b = ptr(lin(f->es, f->edi.x));
    memset(b, 0, 256);
    uint32_t p = pitch(m);
    *(uint16_t *)(b + 0) = 0x009b;      /* supported, colour, graphics, LFB */
    b[2] = 0x07;                        /* window A: exists, readable, writable */
    *(uint16_t *)(b + 4) = 64;          /* granularity KiB */
    *(uint16_t *)(b + 6) = 64;          /* window size KiB */
    *(uint16_t *)(b + 8) = 0xa000;
    *(uint16_t *)(b + 16) = (uint16_t)p;
    *(uint16_t *)(b + 18) = m->x;
    *(uint16_t *)(b + 20) = m->y;
    b[22] = 8; b[23] = 16;
    b[24] = 1;                          /* planes */
    b[25] = m->bpp;
    b[26] = 1;                          /* banks */
    b[27] = m->bpp == 8 ? 4 : 6;        /* packed pixel / direct colour */
    uint32_t pages = vbe_mem() / (p * m->y);
    b[29] = (uint8_t)(pages > 1 ? (pages - 1 > 255 ? 255 : pages - 1) : 0);
    b[30] = 1;
    static const uint8_t masks[4][8] = {
        { 5, 10, 5, 5, 5, 0, 1, 15 },   /* 15 bpp */
        { 5, 11, 6, 5, 5, 0, 0, 0 },    /* 16 */
        { 8, 16, 8, 8, 8, 0, 0, 0 },    /* 24 */
        { 8, 16, 8, 8, 8, 0, 8, 24 },   /* 32 */
    };
    int k = m->bpp == 15 ? 0 : m->bpp == 16 ? 1 : m->bpp == 24 ? 2 : m->bpp == 32 ? 3 : -1;
    if (k >= 0) memcpy(b + 31, masks[k], 8);
    *(uint32_t *)(b + 40) = pci_vga_lfb();
    *(uint16_t *)(b + 50) = (uint16_t)p;        /* VBE 3 linear fields */
    b[52] = b[29]; b[53] = b[29];
    if (k >= 0) memcpy(b + 54, masks[k], 8);
    f->eax.x = 0x004f;
}

static void vbe_set_mode(struct rm_frame *f)
{
    uint16_t bx = f->ebx.x;
    if ((bx & 0x1ff) < 0x100) {
        set_mode((uint8_t)((bx & 0x7f) | ((bx & 0x8000) ? 0x80 : 0)));
        f->eax.x = 0x004f;
        return;
    }
    const struct vbe_mode_desc *m = vbe_find(bx);
    if (!m || !vbe_present()) { f->eax.x = 0x014f; return; }
    if (m->bpp == 8) load_dac(true);
    vbe_write(4, 0);
    vbe_write(3, m->bpp);
    vbe_write(1, m->x);
    vbe_write(2, m->y);
    vbe_write(5, 0);
    vbe_write(6, m->x);
    vbe_write(8, 0);
    vbe_write(9, 0);
    /* ENABLE (bit 0) | LFB (0x40) | no-clear (0x80) per Bochs VBE docs. */
    vbe_write(4, (uint16_t)(0x41 | ((bx & 0x8000) ? 0x80 : 0)));
    vbe_mode = bx & 0x41ff;
    BDA8(0x49) = 0x62;          /* not a VGA mode; keeps text output off */
    f->eax.x = 0x004f;
}

static void int10_vbe(struct rm_frame *f)
{
    switch (f->eax.l) {
    case 0x00: vbe_info(f); return;
    case 0x01: vbe_mode_info(f); return;
    case 0x02: vbe_set_mode(f); return;
    case 0x03: f->ebx.x = vbe_mode ? vbe_mode : BDA8(0x49); f->eax.x = 0x004f; return;
    case 0x05:
        if (f->ebx.h == 0) vbe_write(5, f->edx.x);
        else f->edx.x = vbe_read(5);
        f->eax.x = 0x004f;
        return;
    case 0x06:
        if (f->ebx.l == 0) vbe_write(6, f->ecx.x);
        f->ebx.x = (uint16_t)(vbe_read(6) * ((vbe_read(3) + 7) / 8));
        f->ecx.x = vbe_read(6);
        f->edx.x = vbe_read(7);
        f->eax.x = 0x004f;
        return;
    case 0x07:
        if ((f->ebx.l & 0x7f) == 0) { vbe_write(8, f->ecx.x); vbe_write(9, f->edx.x); }
        else { f->ecx.x = vbe_read(8); f->edx.x = vbe_read(9); }
        f->eax.x = 0x004f;
        return;
    case 0x08:                  /* DAC width: fixed at 6 bits, BH reports it */
        f->eax.x = f->ebx.l <= 1 ? 0x004f : 0x014f;
        f->ebx.h = 6;
        return;
    }
    f->eax.x = 0x014f;
}

/* ---------------------------------------------------------------- INT 10h */

void int10_handler(struct rm_frame *f)
{
    int page = BDA8(0x62);
    switch (f->eax.h) {
    case 0x00:
        set_mode(f->eax.l);
        f->eax.l = (f->eax.l & 0x7f) >= 0x12 ? 0x20 : 0x30;    /* RBIL: AL = mode byte */
        break;
    case 0x01:
        BDA16(0x60) = f->ecx.x;
        outb(0x3d4, 0x0a); outb(0x3d5, f->ecx.h);
        outb(0x3d4, 0x0b); outb(0x3d5, f->ecx.l);
        break;
    case 0x02:
        BDA16(0x50 + 2 * (f->ebx.h & 7)) = f->edx.x;
        if ((f->ebx.h & 7) == page) set_cursor_hw();
        break;
    case 0x03:
        f->edx.x = BDA16(0x50 + 2 * (f->ebx.h & 7));
        f->ecx.x = BDA16(0x60);
        break;
    case 0x05: {
        int p = f->eax.l & 7;
        BDA8(0x62) = (uint8_t)p;
        BDA16(0x4e) = (uint16_t)(p * BDA16(0x4c));
        uint16_t start = BDA16(0x4e) / 2;
        outb(0x3d4, 0x0c); outb(0x3d5, (uint8_t)(start >> 8));
        outb(0x3d4, 0x0d); outb(0x3d5, (uint8_t)start);
        set_cursor_hw();
        break;
    }
    case 0x06:
    case 0x07:
        scroll(page, f->eax.l, f->eax.h == 0x06, f->ebx.h, f->ecx.h, f->ecx.l, f->edx.h, f->edx.l);
        break;
    case 0x08: {
        uint16_t pos = BDA16(0x50 + 2 * (f->ebx.h & 7));
        if (graphics()) { f->eax.x = 0; break; }
        f->eax.x = *cell(f->ebx.h, pos >> 8, pos & 0xff);
        break;
    }
    case 0x09:
    case 0x0a: {
        int p = f->ebx.h & 7;
        uint16_t pos = BDA16(0x50 + 2 * p);
        int row = pos >> 8, col = pos & 0xff;
        for (unsigned n = f->ecx.x; n; n--) {
            put_at(p, row, col, f->eax.l, f->ebx.l, f->eax.h == 0x09 || graphics());
            if (++col >= cols()) { col = 0; if (++row >= rows()) break; }
        }
        break;
    }
    case 0x0b:                          /* CGA palette: BH=0 sets border/background */
        if (f->ebx.h == 0) {
            (void)inb(0x3da);
            outb(0x3c0, 0x11); outb(0x3c0, f->ebx.l & 0x0f);
            outb(0x3c0, 0x20);
        }
        break;
    case 0x0c:                          /* write pixel (modes 12h, 13h) */
        if (planar() && f->edx.x < 480 && f->ecx.x < 640) {
            planar_write((uint32_t)f->edx.x * 80 + f->ecx.x / 8, (uint8_t)(0x80 >> (f->ecx.x & 7)),
                         f->eax.l & 0x0f);
            break;
        }
        if (BDA8(0x49) == 0x13 && f->edx.x < 200 && f->ecx.x < 320)
            *(volatile uint8_t *)ptr(0xa0000 + (uint32_t)f->edx.x * 320 + f->ecx.x) = f->eax.l;
        break;
    case 0x0d:                          /* read pixel (modes 12h, 13h) */
        if (planar()) {
            f->eax.l = (f->edx.x < 480 && f->ecx.x < 640)
                ? planar_read((uint32_t)f->edx.x * 80 + f->ecx.x / 8, (uint8_t)(0x80 >> (f->ecx.x & 7))) : 0;
            break;
        }
        f->eax.l = (BDA8(0x49) == 0x13 && f->edx.x < 200 && f->ecx.x < 320)
            ? *(volatile uint8_t *)ptr(0xa0000 + (uint32_t)f->edx.x * 320 + f->ecx.x) : 0;
        break;
    case 0x0e:
        serial_putc((char)f->eax.l);
        teletype(f->eax.l, page, f->ebx.l, graphics());
        break;
    case 0x0f:
        f->eax.l = BDA8(0x49);
        f->eax.h = (uint8_t)cols();
        f->ebx.h = BDA8(0x62);
        break;
    case 0x10:
        switch (f->eax.l) {
        case 0x00:
            (void)inb(0x3da);
            outb(0x3c0, f->ebx.l & 0x1f); outb(0x3c0, f->ebx.h);
            outb(0x3c0, 0x20);
            break;
        case 0x01:                      /* overscan (border) colour */
            (void)inb(0x3da);
            outb(0x3c0, 0x11); outb(0x3c0, f->ebx.h);
            outb(0x3c0, 0x20);
            break;
        case 0x02: {                    /* all 16 palette registers + overscan */
            const uint8_t *src = ptr(lin(f->es, f->edx.x));
            (void)inb(0x3da);
            for (int i = 0; i < 17; i++) { outb(0x3c0, (uint8_t)(i < 16 ? i : 0x11)); outb(0x3c0, src[i]); }
            outb(0x3c0, 0x20);
            break;
        }
        case 0x07:                      /* read one palette register */
        case 0x08:                      /* read overscan */
            (void)inb(0x3da);
            outb(0x3c0, f->eax.l == 0x08 ? 0x11 : (f->ebx.l & 0x1f));
            f->ebx.h = inb(0x3c1);
            (void)inb(0x3da);
            outb(0x3c0, 0x20);
            break;
        case 0x09: {                    /* read all palette registers + overscan */
            uint8_t *dst = ptr(lin(f->es, f->edx.x));
            for (int i = 0; i < 17; i++) {
                (void)inb(0x3da);
                outb(0x3c0, (uint8_t)(i < 16 ? i : 0x11));
                dst[i] = inb(0x3c1);
            }
            (void)inb(0x3da);
            outb(0x3c0, 0x20);
            break;
        }
        case 0x03:
            (void)inb(0x3da);
            outb(0x3c0, 0x10);
            { uint8_t v = inb(0x3c1); (void)inb(0x3da); outb(0x3c0, 0x10);
              outb(0x3c0, (uint8_t)((v & ~0x08) | (f->ebx.l ? 0x08 : 0))); }
            outb(0x3c0, 0x20);
            break;
        case 0x10:
            outb(0x3c8, f->ebx.l);
            outb(0x3c9, f->edx.h); outb(0x3c9, f->ecx.h); outb(0x3c9, f->ecx.l);
            break;
        case 0x12: {
            const uint8_t *src = ptr(lin(f->es, f->edx.x));
            outb(0x3c8, f->ebx.l);
            for (unsigned i = 0; i < (unsigned)f->ecx.x * 3 && i < 768; i++) outb(0x3c9, src[i]);
            break;
        }
        case 0x15:
            outb(0x3c7, f->ebx.l);
            f->edx.h = inb(0x3c9); f->ecx.h = inb(0x3c9); f->ecx.l = inb(0x3c9);
            break;
        case 0x17: {
            uint8_t *dst = ptr(lin(f->es, f->edx.x));
            outb(0x3c7, f->ebx.l);
            for (unsigned i = 0; i < (unsigned)f->ecx.x * 3 && i < 768; i++) dst[i] = inb(0x3c9);
            break;
        }
        }
        break;
    case 0x11:
        switch (f->eax.l) {
        case 0x00: case 0x10:           /* user font: ES:BP, CX chars from DX, BH bytes, BL block */
            if (!graphics())
                load_glyphs(ptr(lin(f->es, f->ebp.x)), f->edx.x, f->ecx.x, f->ebx.h ? f->ebx.h : 16,
                            f->ebx.l);
            break;
        case 0x04: case 0x14:           /* the BIOS 8x16 font into block BL */
            if (!graphics()) load_glyphs(&font16[0][0], 0, 256, 16, f->ebx.l);
            break;
        case 0x30: {                    /* font information */
            uint32_t fp = (f->ebx.h == 0x06 || f->ebx.h == 0x01) ? font16_far()
                        : f->ebx.h == 0x00 ? *(volatile uint32_t *)ptr(0x1f * 4) : 0;
            f->ecx.x = 16;
            f->edx.l = (uint8_t)(rows() - 1);
            f->es = (uint16_t)(fp >> 16);
            f->ebp.x = (uint16_t)fp;
            break;
        }
        }
        break;
    case 0x12:
        if (f->ebx.l == 0x10) {         /* EGA/VGA information */
            f->ebx.x = 0x0003;          /* colour, 256 KiB */
            f->ecx.x = 0x0009;
        }
        break;
    case 0x13: {                        /* write string */
        int p = f->ebx.h & 7;
        uint16_t save = BDA16(0x50 + 2 * p);
        BDA16(0x50 + 2 * p) = f->edx.x;
        const uint8_t *s = ptr(lin(f->es, f->ebp.x));
        bool attrs = f->eax.l & 2;
        for (unsigned i = 0; i < f->ecx.x; i++) {
            uint8_t ch = *s++;
            uint8_t at = attrs ? *s++ : f->ebx.l;
            teletype(ch, p, at, true);
        }
        if (!(f->eax.l & 1)) BDA16(0x50 + 2 * p) = save;
        if (p == page) set_cursor_hw();
        break;
    }
    case 0x1a:
        if (f->eax.l == 0x00) { f->ebx.x = 0x0008; f->eax.l = 0x1a; }
        else if (f->eax.l == 0x01) f->eax.l = 0x1a;
        break;
    case 0x4f:
        int10_vbe(f);
        break;
    }
}
