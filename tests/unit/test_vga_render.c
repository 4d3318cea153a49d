/*
 * test_vga_render.c — hw/vga_render.c and hw/vga_frame.c as pure
 * functions: a struct vga_view built here (register tables of the BIOS
 * modes, a VRAM buffer, a frame count) in, pixels out, no device. Text
 * from a known font (Glass's BIOS font) with attributes, blink and
 * cursor; mode 13h, mode 12h and VBE images at every depth; redrawing
 * only the lines that read dirty pages, and the frame tracker's
 * decisions (nothing, the cursor's rows, everything).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "bios/font.h"
#include "hw/vga_render.h"

#define W 1024
#define H 800

static uint8_t *vr_vram;
static uint32_t *vr_px;
static uint8_t vr_drawn[H];

static void vr_setup(void)
{
    vr_vram = calloc(1, VGA_VRAM_SIZE);
    vr_px = malloc((size_t)W * H * 4);
    cr_assert(vr_vram && vr_px);
}

static void vr_teardown(void)
{
    free(vr_vram);
    free(vr_px);
}

TestSuite(vga_render, .init = vr_setup, .fini = vr_teardown);

/* BIOS mode register tables (IBM VGA Technical Reference). */
struct mode_regs {
    uint8_t misc, seq[5], crtc[25], gc[9], ar[21];
};

static const struct mode_regs mode3 = {
    0x67, { 0x03, 0x00, 0x03, 0x00, 0x02 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
      0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c,
      0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00 },
};

static const struct mode_regs mode13 = {
    0x63, { 0x03, 0x01, 0x0f, 0x00, 0x0e },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
      0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00 },
};

static const struct mode_regs mode12 = {
    0xe3, { 0x03, 0x01, 0x0f, 0x00, 0x06 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c,
      0x3d, 0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00, 0x00 },
};

/* The EGA's 64 colours in the DAC (rgbRGB), as the BIOS loads them. */
static void ega_dac(struct vga_regs *r)
{
    for (unsigned i = 0; i < 64; i++) {
        r->dac[i * 3 + 0] = (uint8_t)(((i >> 2) & 1) * 42 + ((i >> 5) & 1) * 21);
        r->dac[i * 3 + 1] = (uint8_t)(((i >> 1) & 1) * 42 + ((i >> 4) & 1) * 21);
        r->dac[i * 3 + 2] = (uint8_t)((i & 1) * 42 + ((i >> 3) & 1) * 21);
    }
}

static struct vga_view view_of(const struct mode_regs *m)
{
    struct vga_view v;
    memset(&v, 0, sizeof(v));
    v.vram = vr_vram;
    v.regs.misc = m->misc;
    memcpy(v.regs.seq, m->seq, 5);
    memcpy(v.regs.crtc, m->crtc, sizeof(m->crtc));
    memcpy(v.regs.gc, m->gc, sizeof(m->gc));
    memcpy(v.regs.ar, m->ar, sizeof(m->ar));
    v.regs.ar_index = VGA_AR_PAS;
    v.regs.dac_mask = 0xff;
    ega_dac(&v.regs);
    v.frame = 16; /* blink phase "on", cursor phase "on" */
    v.regs.crtc[0x0e] = 0x3f; /* the cursor off screen, but for its own test */
    return v;
}

/* The BIOS font into character map 0 of plane 2. */
static void load_bios_font(void)
{
    for (unsigned c = 0; c < 256; c++)
        for (unsigned y = 0; y < 16; y++)
            vr_vram[((c * 32 + y) * 4) + 2] = font_glyph_row((uint8_t)c, (int)y);
}

/* Text cell (col, row) of an 80-column mode 3 screen (odd/even: the
 * character in plane 0, the attribute in plane 1 of word address). */
static void put_cell(unsigned col, unsigned row, uint8_t ch, uint8_t attr)
{
    uint32_t a = (row * 80 + col) * 2;
    vr_vram[a * 4 + 0] = ch;
    vr_vram[a * 4 + 1] = attr;
}

/* 6-bit EGA colour to the renderer's XRGB. */
static uint32_t ega_rgb(unsigned c)
{
    static const uint8_t map[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
                                     0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f };
    unsigned i = map[c & 15];
    unsigned r = ((i >> 2) & 1) * 42 + ((i >> 5) & 1) * 21;
    unsigned g = ((i >> 1) & 1) * 42 + ((i >> 4) & 1) * 21;
    unsigned b = (i & 1) * 42 + ((i >> 3) & 1) * 21;
    r = (r << 2) | (r >> 4);
    g = (g << 2) | (g >> 4);
    b = (b << 2) | (b >> 4);
    return r << 16 | g << 8 | b;
}

/* Checks that cell (col, row) shows glyph `ch` of the BIOS font in
 * colours fg on bg (9 dots: the ninth is background for letters). */
static void check_cell(unsigned col, unsigned row, uint8_t ch, uint32_t fg, uint32_t bg)
{
    for (unsigned y = 0; y < 16; y++) {
        uint8_t bits = font_glyph_row(ch, (int)y);
        for (unsigned x = 0; x < 9; x++) {
            bool on = x < 8 && (bits & (0x80 >> x));
            uint32_t got = vr_px[(row * 16 + y) * W + col * 9 + x];
            cr_assert_eq(got, on ? fg : bg, "cell %u,%u '%c' pixel %u,%u: %06x", col, row, ch, x,
                         y, got);
        }
    }
}

static void sentinel(void)
{
    for (size_t i = 0; i < (size_t)W * H; i++)
        vr_px[i] = 0xdeadbe;
}

Test(vga_render, text_glyphs_from_the_font_in_plane_2_with_attributes)
{
    struct vga_view v = view_of(&mode3);
    load_bios_font();
    const char *msg = "Glass 8x16";
    for (unsigned i = 0; msg[i]; i++)
        put_cell(i, 0, (uint8_t)msg[i], 0x1e); /* yellow on blue */
    put_cell(0, 1, 'A', 0x70);                 /* black on grey */
    put_cell(1, 1, 'z', 0x4f);                 /* white on red */
    int w, h;
    vga_view_size(&v, &w, &h);
    cr_assert_eq(w, 720);
    cr_assert_eq(h, 400);
    sentinel();
    cr_assert_eq(vga_render_view(&v, vr_px, W, H, NULL, vr_drawn), 400);
    for (unsigned i = 0; msg[i]; i++)
        check_cell(i, 0, (uint8_t)msg[i], ega_rgb(14), ega_rgb(1));
    check_cell(0, 1, 'A', ega_rgb(0), ega_rgb(7));
    check_cell(1, 1, 'z', ega_rgb(15), ega_rgb(4));
    /* Empty cells: NUL with attribute 0 is black. */
    check_cell(40, 12, 0, 0, 0);
    cr_assert_eq(vr_px[399 * W + 719], 0);
    cr_assert_eq(vr_px[400 * W], 0xdeadbe, "nothing below the picture");
    cr_assert_eq(vr_px[720], 0xdeadbe, "nothing right of it");
    for (int y = 0; y < 400; y++)
        cr_assert_eq(vr_drawn[y], 1);
}

Test(vga_render, line_graphics_ninth_dot_and_8_dot_cells)
{
    struct vga_view v = view_of(&mode3);
    load_bios_font();
    put_cell(0, 0, 0xc4, 0x07); /* a horizontal line: continues through dot 9 */
    put_cell(1, 0, 'I', 0x07);
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    for (unsigned y = 0; y < 16; y++) {
        uint8_t bits = font_glyph_row(0xc4, (int)y);
        cr_assert_eq(vr_px[y * W + 8], (bits & 1) ? ega_rgb(7) : 0, "row %u", y);
    }
    /* Line Graphics Enable off: the ninth dot is background. */
    v.regs.ar[0x10] &= (uint8_t)~0x04;
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    for (unsigned y = 0; y < 16; y++)
        cr_assert_eq(vr_px[y * W + 8], 0);
    /* 8-dot cells (Clocking Mode bit 0): 640 pixels, 'I' at x = 8. */
    v.regs.seq[1] |= 0x01;
    int w, h;
    vga_view_size(&v, &w, &h);
    cr_assert_eq(w, 640);
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    for (unsigned y = 0; y < 16; y++)
        for (unsigned x = 0; x < 8; x++) {
            bool on = font_glyph_row('I', (int)y) & (0x80 >> x);
            cr_assert_eq(vr_px[y * W + 8 + x], on ? ega_rgb(7) : 0);
        }
}

Test(vga_render, blink_and_background_intensity)
{
    struct vga_view v = view_of(&mode3);
    load_bios_font();
    put_cell(0, 0, 'B', 0x9e); /* blinking yellow on blue (blink enabled) */
    v.frame = 16;              /* character blink phase: shown */
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    check_cell(0, 0, 'B', ega_rgb(14), ega_rgb(1));
    v.frame = 0;               /* hidden: background only */
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    check_cell(0, 0, ' ', ega_rgb(14), ega_rgb(1));
    /* Blink Enable off: bit 7 is background intensity (bright blue). */
    v.regs.ar[0x10] &= (uint8_t)~0x08;
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    check_cell(0, 0, 'B', ega_rgb(14), ega_rgb(9));
}

Test(vga_render, cursor_shape_location_and_blink)
{
    struct vga_view v = view_of(&mode3);
    load_bios_font();
    put_cell(5, 2, ' ', 0x07);
    unsigned at = 2 * 80 + 5;
    v.regs.crtc[0x0e] = (uint8_t)(at >> 8);
    v.regs.crtc[0x0f] = (uint8_t)at;
    v.frame = 0; /* cursor phase on */
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    for (unsigned y = 0; y < 16; y++) {
        uint32_t want = (y == 13 || y == 14) ? ega_rgb(7) : 0;
        cr_assert_eq(vr_px[(32 + y) * W + 45], want, "line %u", y);
        cr_assert_eq(vr_px[(32 + y) * W + 45 + 8], want, "the cursor spans 9 dots");
    }
    v.frame = 8; /* cursor phase off */
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    cr_assert_eq(vr_px[(32 + 13) * W + 45], 0);
    /* Cursor Disable (CR0A bit 5). */
    v.frame = 0;
    v.regs.crtc[0x0a] |= 0x20;
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    cr_assert_eq(vr_px[(32 + 13) * W + 45], 0);
}

Test(vga_render, mode13h_image)
{
    struct vga_view v = view_of(&mode13);
    /* Chain-4: pixel (x, y) is VRAM byte 320y + x; colour i in DAC i. */
    for (unsigned y = 0; y < 200; y++)
        for (unsigned x = 0; x < 320; x++)
            vr_vram[y * 320 + x] = (uint8_t)(x ^ y);
    for (unsigned i = 0; i < 256; i++) {
        v.regs.dac[i * 3 + 0] = (uint8_t)(i & 63);
        v.regs.dac[i * 3 + 1] = (uint8_t)((i >> 2) & 63);
        v.regs.dac[i * 3 + 2] = (uint8_t)(63 - (i & 63));
    }
    int w, h;
    vga_view_size(&v, &w, &h);
    cr_assert_eq(w, 320);
    cr_assert_eq(h, 200);
    cr_assert_eq(vga_render_view(&v, vr_px, W, H, NULL, NULL), 200);
    for (unsigned y = 0; y < 200; y += 7)
        for (unsigned x = 0; x < 320; x += 3) {
            unsigned i = (x ^ y) & 0xff;
            unsigned r = i & 63, g = (i >> 2) & 63, b = 63 - (i & 63);
            uint32_t want = ((r << 2) | (r >> 4)) << 16 | ((g << 2) | (g >> 4)) << 8 |
                            ((b << 2) | (b >> 4));
            cr_assert_eq(vr_px[y * W + x], want, "pixel %u,%u", x, y);
        }
    /* The DAC mask applies to the index. */
    v.regs.dac_mask = 0x0f;
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    cr_assert_eq(vr_px[0 * W + 0x35] & 0xff0000, (uint32_t)((0x05 << 2) | 0) << 16);
}

Test(vga_render, mode12h_planar_image)
{
    struct vga_view v = view_of(&mode12);
    /* Pixel x of line y: colour (x / 8 + y) & 15 from the four planes. */
    for (unsigned y = 0; y < 480; y++)
        for (unsigned b = 0; b < 80; b++) {
            unsigned c = (b + y) & 15;
            for (unsigned p = 0; p < 4; p++)
                vr_vram[(y * 80 + b) * 4 + p] = (c >> p) & 1 ? 0xff : 0x00;
        }
    int w, h;
    vga_view_size(&v, &w, &h);
    cr_assert_eq(w, 640);
    cr_assert_eq(h, 480);
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    for (unsigned y = 0; y < 480; y += 13)
        for (unsigned x = 0; x < 640; x += 5)
            cr_assert_eq(vr_px[y * W + x], ega_rgb((x / 8 + y) & 15), "pixel %u,%u", x, y);
}

/* A VBE mode as the DISPI registers hold it once enabled. */
static struct vga_view vbe_view(unsigned xres, unsigned yres, unsigned bpp)
{
    struct vga_view v = view_of(&mode13);
    v.regs.vbe[VBE_DISPI_INDEX_ENABLE] = VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED;
    v.regs.vbe[VBE_DISPI_INDEX_XRES] = (uint16_t)xres;
    v.regs.vbe[VBE_DISPI_INDEX_YRES] = (uint16_t)yres;
    v.regs.vbe[VBE_DISPI_INDEX_BPP] = (uint16_t)bpp;
    v.regs.vbe[VBE_DISPI_INDEX_VIRT_WIDTH] = (uint16_t)xres;
    return v;
}

Test(vga_render, vbe_32bpp_image_with_offsets)
{
    struct vga_view v = vbe_view(800, 600, 32);
    for (unsigned y = 0; y < 700; y++)
        for (unsigned x = 0; x < 800; x++) {
            uint8_t *p = vr_vram + (y * 800 + x) * 4;
            p[0] = (uint8_t)x;        /* blue */
            p[1] = (uint8_t)y;        /* green */
            p[2] = (uint8_t)(x + y);  /* red */
            p[3] = 0xaa;              /* unused: never shows */
        }
    int w, h;
    vga_view_size(&v, &w, &h);
    cr_assert_eq(w, 800);
    cr_assert_eq(h, 600);
    sentinel();
    cr_assert_eq(vga_render_view(&v, vr_px, W, H, NULL, NULL), 600);
    for (unsigned y = 0; y < 600; y += 11)
        for (unsigned x = 0; x < 800; x += 7)
            cr_assert_eq(vr_px[y * W + x],
                         (uint32_t)((x + y) & 0xff) << 16 | (y & 0xff) << 8 | (x & 0xff));
    cr_assert_eq(vr_px[800], 0xdeadbe);
    /* Panning: Y_OFFSET 100 (double buffering), X_OFFSET 3. */
    v.regs.vbe[VBE_DISPI_INDEX_Y_OFFSET] = 100;
    v.regs.vbe[VBE_DISPI_INDEX_X_OFFSET] = 3;
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    cr_assert_eq(vr_px[0] & 0xff, 3);
    cr_assert_eq((vr_px[0] >> 8) & 0xff, 100);
    /* Too small a buffer: -1, nothing drawn. */
    cr_assert_eq(vga_render_view(&v, vr_px, 799, H, NULL, NULL), -1);
    cr_assert_eq(vga_render_view(&v, vr_px, W, 599, NULL, NULL), -1);
}

Test(vga_render, vbe_8_15_16_24bpp)
{
    struct vga_view v = vbe_view(64, 8, 16);
    uint16_t px565 = (uint16_t)(31u << 11 | 32u << 5 | 1u); /* red max, green half, blue 1 */
    memcpy(vr_vram + 2 * 5, &px565, 2);
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    cr_assert_eq(vr_px[5], 0xff8208);
    v = vbe_view(64, 8, 15);
    uint16_t px555 = (uint16_t)(1u << 10 | 31u << 5 | 16u);
    memcpy(vr_vram + 2 * 5, &px555, 2);
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    cr_assert_eq(vr_px[5], 0x08ff84);
    v = vbe_view(64, 8, 24);
    vr_vram[3 * 7 + 0] = 0x11; /* B */
    vr_vram[3 * 7 + 1] = 0x22; /* G */
    vr_vram[3 * 7 + 2] = 0x33; /* R */
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    cr_assert_eq(vr_px[7], 0x332211);
    v = vbe_view(64, 8, 8);
    vr_vram[64 * 2 + 9] = 0x3c; /* DAC entry 3Ch: EGA bright red */
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    cr_assert_eq(vr_px[2 * W + 9], 0xff5555);
    v.regs.vbe[VBE_DISPI_INDEX_ENABLE] |= VBE_DISPI_8BIT_DAC;
    v.regs.dac[0x3c * 3] = 0x80;
    vga_render_view(&v, vr_px, W, H, NULL, NULL);
    cr_assert_eq(vr_px[2 * W + 9] >> 16, 0x80, "8-bit DAC: not scaled");
}

Test(vga_render, vbe_past_the_end_of_vram_is_black)
{
    struct vga_view v = vbe_view(1024, 768, 32);
    v.regs.vbe[VBE_DISPI_INDEX_Y_OFFSET] = 4096 - 10; /* the last 10 lines of 16 MiB */
    memset(vr_vram + VGA_VRAM_SIZE - 4096, 0x7f, 4096);
    sentinel();
    cr_assert_eq(vga_render_view(&v, vr_px, W, H, NULL, NULL), 768);
    cr_assert_eq(vr_px[9 * W + 1023], 0x7f7f7f);
    cr_assert_eq(vr_px[10 * W], 0);
    cr_assert_eq(vr_px[767 * W + 1023], 0);
}

static void set_page(uint64_t *d, unsigned p)
{
    d[p / 64] |= 1ull << (p % 64);
}

Test(vga_render, only_lines_reading_dirty_pages_are_drawn)
{
    static uint64_t dirty[VGA_DIRTY_WORDS];
    /* VBE 1024x768x32: a line is exactly one page. */
    struct vga_view v = vbe_view(1024, 768, 32);
    sentinel();
    memset(dirty, 0, sizeof(dirty));
    cr_assert_eq(vga_render_view(&v, vr_px, W, H, dirty, vr_drawn), 0);
    cr_assert_eq(vr_px[0], 0xdeadbe);
    set_page(dirty, 5);
    set_page(dirty, 700);
    cr_assert_eq(vga_render_view(&v, vr_px, W, H, dirty, vr_drawn), 2);
    cr_assert(vr_drawn[5] && vr_drawn[700] && !vr_drawn[4] && !vr_drawn[6]);
    cr_assert_eq(vr_px[5 * W], 0);
    cr_assert_eq(vr_px[6 * W], 0xdeadbe);
    /* Mode 13h: a line is 320 bytes, page 1 holds lines 12-25. */
    v = view_of(&mode13);
    memset(dirty, 0, sizeof(dirty));
    set_page(dirty, 1);
    cr_assert_eq(vga_render_view(&v, vr_px, W, H, dirty, vr_drawn), 14);
    cr_assert(vr_drawn[12] && vr_drawn[25] && !vr_drawn[11] && !vr_drawn[26]);
    /* Text: page 0 holds plane addresses 0-1023, the cells of rows 0-6
     * (80 cells of 2 bytes a row), i.e. lines 0-111 and row 6's too. */
    v = view_of(&mode3);
    memset(dirty, 0, sizeof(dirty));
    set_page(dirty, 0);
    cr_assert_eq(vga_render_view(&v, vr_px, W, H, dirty, vr_drawn), 7 * 16);
    cr_assert(vr_drawn[0] && vr_drawn[111] && !vr_drawn[112]);
}

Test(vga_render, blank_screen_is_black_and_ignores_vram_writes)
{
    static uint64_t dirty[VGA_DIRTY_WORDS];
    struct vga_view v = view_of(&mode3);
    load_bios_font();
    put_cell(0, 0, 'X', 0x0f);
    v.regs.seq[1] |= 0x20; /* Screen Off */
    sentinel();
    cr_assert_eq(vga_render_view(&v, vr_px, W, H, NULL, NULL), 400);
    cr_assert_eq(vr_px[0], 0);
    memset(dirty, 0xff, sizeof(dirty));
    cr_assert_eq(vga_render_view(&v, vr_px, W, H, dirty, NULL), 0);
}

/* ------------------------------------------------------------ frames */

static int frame(struct vga_frame *f, const struct vga_view *v, const uint64_t *written)
{
    int w, h;
    return vga_frame_update(f, v, written, vr_px, W, H, vr_drawn, &w, &h);
}

Test(vga_render, frame_tracker_draws_what_changed)
{
    static struct vga_frame f;
    static uint64_t none[VGA_DIRTY_WORDS], one[VGA_DIRTY_WORDS];
    vga_frame_init(&f);
    struct vga_view v = view_of(&mode3);
    load_bios_font();
    v.frame = 16;
    v.regs.crtc[0x0e] = 0; /* the cursor at (0,0) */
    /* The first frame, and an unknown set of written pages: all. */
    cr_assert_eq(frame(&f, &v, none), 400);
    cr_assert_eq(frame(&f, &v, NULL), 400);
    /* Nothing written, nothing changed: nothing drawn. */
    cr_assert_eq(frame(&f, &v, none), 0);
    /* A cell of row 20 (plane address 3200: page 3, rows 19-25). */
    put_cell(0, 20, 'Q', 0x07);
    set_page(one, (20 * 80 * 2 * 4) >> 12);
    int n = frame(&f, &v, one);
    cr_assert(n > 0 && n < 400 && vr_drawn[20 * 16] && !vr_drawn[0], "%d lines", n);
    check_cell(0, 20, 'Q', ega_rgb(7), 0);
    /* The CPU's access registers change nothing on screen. */
    v.regs.seq[2] = 0x04;
    v.regs.gc[8] = 0x0f;
    v.regs.ar_index = VGA_AR_PAS | 0x11;
    v.regs.vbe[VBE_DISPI_INDEX_BANK] = 3;
    cr_assert_eq(frame(&f, &v, none), 0);
    /* The cursor moves from (0,0) to row 24: both rows' pages. */
    v.regs.crtc[0x0e] = (24 * 80) >> 8;
    v.regs.crtc[0x0f] = (uint8_t)(24 * 80);
    n = frame(&f, &v, none);
    cr_assert(n > 0 && vr_drawn[0] && vr_drawn[24 * 16] && !vr_drawn[10 * 16], "%d", n);
    /* Its blink phase: the same rows. */
    v.frame = 16 + 8;
    n = frame(&f, &v, none);
    cr_assert(n > 0 && n < 400 && vr_drawn[24 * 16], "%d", n);
    /* A palette change, a scroll (start address): everything. */
    v.regs.dac[7 * 3] = 63;
    cr_assert_eq(frame(&f, &v, none), 400);
    v.regs.crtc[0x0d] = 80;
    cr_assert_eq(frame(&f, &v, none), 400);
    /* The character blink phase: everything (blink enabled). */
    v.frame = 0;
    cr_assert_eq(frame(&f, &v, none), 400);
}

Test(vga_render, frame_tracker_sees_font_changes_only_when_they_differ)
{
    static struct vga_frame f;
    static uint64_t none[VGA_DIRTY_WORDS], font_page[VGA_DIRTY_WORDS];
    vga_frame_init(&f);
    struct vga_view v = view_of(&mode3);
    load_bios_font();
    put_cell(3, 0, 'A', 0x07);
    frame(&f, &v, none);
    /* Page 5 holds plane-2 bytes of glyphs 160-191 and no text cells
     * (those end in page 3): written with the same bytes, nothing to
     * draw. */
    set_page(font_page, 5);
    cr_assert_eq(frame(&f, &v, font_page), 0);
    /* A glyph really changed (page 2): everything, with the new glyph. */
    vr_vram[(('A' * 32 + 3) * 4) + 2] ^= 0xff;
    memset(font_page, 0, sizeof(font_page));
    set_page(font_page, 2);
    cr_assert_eq(frame(&f, &v, font_page), 400);
    cr_assert_eq(vr_px[3 * W + 27], (font_glyph_row('A', 3) & 0x80) ? 0 : ega_rgb(7));
}

Test(vga_render, frame_tracker_follows_mode_changes)
{
    static struct vga_frame f;
    static uint64_t none[VGA_DIRTY_WORDS];
    vga_frame_init(&f);
    struct vga_view v = view_of(&mode3);
    int w, h;
    cr_assert_eq(vga_frame_update(&f, &v, none, vr_px, W, H, NULL, &w, &h), 400);
    v = vbe_view(1024, 768, 32);
    cr_assert_eq(vga_frame_update(&f, &v, none, vr_px, W, H, NULL, &w, &h), 768);
    cr_assert_eq(w, 1024);
    cr_assert_eq(h, 768);
    /* A buffer too small: -1, and the next fitting call draws it all. */
    cr_assert_eq(vga_frame_update(&f, &v, none, vr_px, 1000, H, NULL, &w, &h), -1);
    cr_assert_eq(vga_frame_update(&f, &v, none, vr_px, W, H, NULL, &w, &h), 768);
}
