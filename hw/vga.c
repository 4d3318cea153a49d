/*
 * hw/vga.c — IBM VGA and the Bochs VBE DISPI extension, and the PCI
 * display function 1234:1111 that carries both.
 *
 * Memory layout: the four 64 KiB planes are interleaved in `vram`, byte
 * p of plane address a at vram[4a + p], so that one 32-bit load is the
 * four latches, and chain-4 (mode 13h) CPU address A lands at vram[A]
 * (plane A & 3, plane address A >> 2): 256-colour modes then read VRAM
 * linearly, and the VBE framebuffer is simply `vram` from byte 0.
 *
 * Register semantics follow the IBM VGA Technical Reference and the
 * FreeVGA register descriptions; section names are cited next to the
 * code that implements them.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include "hw/vga.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bios/font.h"
#include "hw/pci.h"
#include "hw/vga_regs.h"
#include "hw/vga_render.h"

#define PLANE_SIZE VGA_PLANE_SIZE
#define PLANAR_BYTES (4 * PLANE_SIZE)

#define SEQ_REGS VGA_SEQ_REGS
#define CRTC_REGS VGA_CRTC_REGS
#define GC_REGS VGA_GC_REGS
#define AR_REGS VGA_AR_REGS
#define AR_PAS VGA_AR_PAS

struct vga {
    /* Host-side, not state. */
    struct phys_mem *pm;
    struct io_space *io;
    struct vclock *clock;
    uint8_t *vram;
    struct pci_device pci;
    bool has_pci;
    bool ports_registered, legacy_mapped;
    uint64_t lfb_base; /* vga_map_lfb's mapping, or UINT64_MAX */

    /* The registers that shape the picture (hw/vga.h): misc, the
     * sequencer, CRTC, graphics and attribute controllers, the DAC's
     * colours and mask, and the DISPI registers. */
    struct vga_regs r;
    /* General registers. */
    uint8_t feature;       /* 3BA/3DA write / 3CA read */
    uint8_t vse;           /* 3C3 video subsystem enable */
    /* Index registers (the attribute controller's, with PAS, is r.ar_index). */
    uint8_t seq_index;
    uint8_t crtc_index;
    uint8_t gc_index;
    bool ar_flipflop;      /* false: next 3C0 write is the index */
    /* DAC access state. */
    uint8_t dac_read_index, dac_write_index;
    uint8_t dac_sub;       /* 0..2: R, G, B of the current entry */
    uint8_t dac_state;     /* 3C7 read: 0 after a 3C8 write, 3 after 3C7 */
    uint8_t dac_latch[3];
    /* The four latches (plane p in byte p). */
    uint32_t latch;
    /* Bochs VBE DISPI index. */
    uint16_t vbe_index;
    /* Pages of `vram` written since the display last looked. */
    struct dirty_log *dirty;
    /* Vertical retrace interrupt (CR11 bits 4-5, Input Status 0 bit 7). */
    bool vint_pending;
    struct vtimer *vint_timer;
    struct irq_line irq;
};

const struct dev_field vga_fields[] = {
    { "misc", DEV_FIELD_U8, offsetof(struct vga, r.misc), 1 },
    { "feature", DEV_FIELD_U8, offsetof(struct vga, feature), 1 },
    { "vse", DEV_FIELD_U8, offsetof(struct vga, vse), 1 },
    { "seq_index", DEV_FIELD_U8, offsetof(struct vga, seq_index), 1 },
    { "seq", DEV_FIELD_U8, offsetof(struct vga, r.seq), SEQ_REGS },
    { "crtc_index", DEV_FIELD_U8, offsetof(struct vga, crtc_index), 1 },
    { "crtc", DEV_FIELD_U8, offsetof(struct vga, r.crtc), CRTC_REGS },
    { "gc_index", DEV_FIELD_U8, offsetof(struct vga, gc_index), 1 },
    { "gc", DEV_FIELD_U8, offsetof(struct vga, r.gc), GC_REGS },
    { "ar_index", DEV_FIELD_U8, offsetof(struct vga, r.ar_index), 1 },
    { "ar_flipflop", DEV_FIELD_BOOL, offsetof(struct vga, ar_flipflop), 1 },
    { "ar", DEV_FIELD_U8, offsetof(struct vga, r.ar), AR_REGS },
    { "dac_mask", DEV_FIELD_U8, offsetof(struct vga, r.dac_mask), 1 },
    { "dac_read_index", DEV_FIELD_U8, offsetof(struct vga, dac_read_index), 1 },
    { "dac_write_index", DEV_FIELD_U8, offsetof(struct vga, dac_write_index), 1 },
    { "dac_sub", DEV_FIELD_U8, offsetof(struct vga, dac_sub), 1 },
    { "dac_state", DEV_FIELD_U8, offsetof(struct vga, dac_state), 1 },
    { "dac_latch", DEV_FIELD_U8, offsetof(struct vga, dac_latch), 3 },
    { "dac", DEV_FIELD_BYTES, offsetof(struct vga, r.dac), 256 * 3 },
    { "latch", DEV_FIELD_U32, offsetof(struct vga, latch), 1 },
    { "vbe_index", DEV_FIELD_U16, offsetof(struct vga, vbe_index), 1 },
    { "vbe", DEV_FIELD_U16, offsetof(struct vga, r.vbe), VBE_DISPI_INDEX_NB },
    { "vint_pending", DEV_FIELD_BOOL, offsetof(struct vga, vint_pending), 1 },
    { "vint_timer", DEV_FIELD_TIMER, offsetof(struct vga, vint_timer), 1 },
    /* The 16 MiB of VRAM is saved apart (vga_vram). */
    { NULL, 0, 0, 0 },
};

const struct dev_state_desc vga_state_desc = { "vga", 1, vga_fields };

/* ------------------------------------------------------------------ */
/* Register write masks (bits a VGA implements; FreeVGA register pages)  */
/* ------------------------------------------------------------------ */

static const uint8_t seq_mask[SEQ_REGS] = { 0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0, 0, 0 };
static const uint8_t gc_mask[GC_REGS] = { 0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff };
static const uint8_t ar_mask[AR_REGS] = {
    0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
    0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
    0xef, 0xff, 0x3f, 0x0f, 0x0f,
};

/* Plane bit n -> 0xFF in byte n (set/reset and write mode 2 expansion). */
static const uint32_t expand4[16] = {
    0x00000000, 0x000000ff, 0x0000ff00, 0x0000ffff,
    0x00ff0000, 0x00ff00ff, 0x00ffff00, 0x00ffffff,
    0xff000000, 0xff0000ff, 0xff00ff00, 0xff00ffff,
    0xffff0000, 0xffff00ff, 0xffffff00, 0xffffffff,
};

/* ------------------------------------------------------------------ */
/* Geometry and timing derived from the CRTC                           */
/* ------------------------------------------------------------------ */

/* Frame and line period in ns. The dot clock is Miscellaneous Output
 * bits 3-2 (0: 25.175 MHz, 1: 28.322 MHz), halved by Clocking Mode bit
 * 3; a line is Horizontal Total + 5 character clocks, a frame Vertical
 * Total + 2 lines. Unprogrammed registers give a 60 Hz, 31.5 kHz raster
 * so that polling loops on 3DA still terminate. */
static void frame_timing(const struct vga *v, uint64_t *frame_ns, uint64_t *line_ns,
                         uint64_t *hdisp_ns, unsigned *lines)
{
    uint64_t clk_khz = ((v->r.misc >> 2) & 3) == 1 ? 28322 : 25175;
    if (v->r.seq[1] & 0x08)
        clk_khz /= 2;
    uint64_t cw = char_width(&v->r);
    uint64_t ht = (uint64_t)v->r.crtc[0x00] + 5;
    uint64_t hd = (uint64_t)v->r.crtc[0x01] + 1;
    uint64_t ln = ht * cw * 1000000ull / clk_khz;
    uint64_t vt = vtotal(&v->r) + 2;
    if (vbe_enabled(&v->r) || ln < 10000 || vt < 100 || hd >= ht) {
        ln = 31778;      /* 31.47 kHz */
        vt = 525;        /* 60 Hz */
        hd = 4;
        ht = 5;
    }
    *line_ns = ln;
    *lines = (unsigned)vt;
    *frame_ns = ln * vt;
    *hdisp_ns = ln * hd / ht;
}

static uint64_t frame_number(const struct vga *v)
{
    uint64_t frame, line, hdisp;
    unsigned lines;
    frame_timing(v, &frame, &line, &hdisp, &lines);
    return vclock_ns(v->clock) / frame;
}

/* Input Status #1 (3BA/3DA): bit 0 Display Disabled (horizontal or
 * vertical blanking), bit 3 Vertical Retrace, from virtual time. */
static uint8_t input_status1(struct vga *v)
{
    uint64_t frame, line_ns, hdisp;
    unsigned lines;
    frame_timing(v, &frame, &line_ns, &hdisp, &lines);
    uint64_t pos = vclock_ns(v->clock) % frame;
    unsigned line = (unsigned)(pos / line_ns);
    uint64_t hpos = pos % line_ns;
    unsigned vde = vdisp_end(&v->r) + 1, vrs = vretrace_start(&v->r);
    if (vbe_enabled(&v->r) || vde >= lines) {
        vde = lines - 45;
        vrs = lines - 35;
    }
    if (vrs >= lines)
        vrs = vde < lines ? vde : lines - 2;
    /* Vertical Retrace End holds the low 4 bits of the line where the
     * pulse ends (CR11 bits 3-0). */
    unsigned vlen = ((v->r.crtc[0x11] & 0x0f) - vrs) & 0x0f;
    if (vlen == 0)
        vlen = 16;
    uint8_t st = 0;
    if (line >= vde || hpos >= hdisp)
        st |= 0x01;
    if (line >= vrs && line < vrs + vlen)
        st |= 0x08;
    return st;
}

/* The next start of vertical retrace after virtual time `now`. */
static uint64_t next_vretrace(const struct vga *v, uint64_t now)
{
    uint64_t frame, line_ns, hdisp;
    unsigned lines;
    frame_timing(v, &frame, &line_ns, &hdisp, &lines);
    unsigned vrs = vretrace_start(&v->r);
    if (vbe_enabled(&v->r) || vrs >= lines)
        vrs = lines - 35;
    uint64_t t = now - now % frame + (uint64_t)vrs * line_ns;
    return t > now ? t : t + frame;
}

/*
 * Vertical retrace interrupt (IBM VGA, CRTC Vertical Retrace End):
 * with CR11 bit 5 (Enable Vertical Interrupt, active low) at 0, the start
 * of each vertical retrace sets the interrupt latch, unless CR11 bit 4
 * (Clear Vertical Interrupt) is held at 0, which clears it. The latch
 * shows in Input Status 0 bit 7 and drives the IRQ line (IRQ 2/9 on a
 * PC/AT) while enabled.
 */
static void vint_update(struct vga *v)
{
    bool enabled = !(v->r.crtc[0x11] & 0x20);
    if (!(v->r.crtc[0x11] & 0x10))
        v->vint_pending = false;
    irq_set(&v->irq, enabled && v->vint_pending);
    if (enabled && (v->r.crtc[0x11] & 0x10)) {
        if (!vtimer_armed(v->vint_timer))
            vtimer_arm(v->vint_timer, next_vretrace(v, vclock_ns(v->clock)));
    } else {
        vtimer_cancel(v->vint_timer);
    }
}

static void vint_fire(void *opaque)
{
    struct vga *v = opaque;
    v->vint_pending = true;
    irq_set(&v->irq, !(v->r.crtc[0x11] & 0x20));
    vtimer_arm(v->vint_timer, next_vretrace(v, vclock_ns(v->clock)));
    vint_update(v);
}

/* ------------------------------------------------------------------ */
/* Video memory through the legacy window                              */
/* ------------------------------------------------------------------ */

static inline void store32(uint8_t *p, uint32_t x)
{
    memcpy(p, &x, 4);
}

/* Graphics Controller Miscellaneous bits 3-2: the window decoded. */
static bool window_offset(const struct vga *v, uint32_t off, uint32_t *a)
{
    static const uint32_t base[4] = { 0x00000, 0x00000, 0x10000, 0x18000 };
    static const uint32_t size[4] = { 0x20000, 0x10000, 0x08000, 0x08000 };
    unsigned m = (v->r.gc[6] >> 2) & 3;
    if (off < base[m] || off >= base[m] + size[m])
        return false;
    *a = off - base[m];
    return true;
}

/* A VBE mode of 8 bpp or more with the LFB off: the 64 KiB bank at
 * A0000h shows VRAM linearly (Bochs VBE_DISPI_INDEX_BANK). */
static bool vbe_banked(const struct vga *v, uint32_t off, uint32_t *vaddr)
{
    if (!vbe_enabled(&v->r) || v->r.vbe[VBE_DISPI_INDEX_BPP] == 4 || off >= 0x10000)
        return false;
    *vaddr = ((uint32_t)v->r.vbe[VBE_DISPI_INDEX_BANK] << 16) + off;
    return true;
}

/* The plane address of a window access: the 64 KiB VGA plane, or in a
 * 4 bpp VBE mode the whole VRAM as four 4 MiB planes with the 64 KiB
 * bank of VBE_DISPI_INDEX_BANK added (Bochs planar VBE modes). */
static uint32_t plane_address(const struct vga *v, uint32_t pa)
{
    if (vbe_enabled(&v->r) && v->r.vbe[VBE_DISPI_INDEX_BPP] == 4)
        return (pa + ((uint32_t)v->r.vbe[VBE_DISPI_INDEX_BANK] << 16)) & (VGA_VRAM_SIZE / 4 - 1);
    return pa & (PLANE_SIZE - 1);
}

static uint8_t mem_readb(struct vga *v, uint32_t off)
{
    uint32_t a, va;
    if (vbe_banked(v, off, &va))
        return va < VGA_VRAM_SIZE ? v->vram[va] : 0xff;
    if (!(v->r.misc & 0x02) || !window_offset(v, off, &a))
        return 0xff; /* RAM Enable off, or outside the selected window */
    unsigned plane;
    uint32_t pa;
    if (v->r.seq[4] & 0x08) {            /* Chain 4 (Memory Mode bit 3) */
        plane = a & 3;
        pa = a >> 2;
    } else if (v->r.gc[5] & 0x10) {      /* Host Odd/Even (GC Mode bit 4) */
        plane = (v->r.gc[4] & 2) | (a & 1);
        pa = a & ~1u;
    } else {
        plane = v->r.gc[4] & 3;          /* Read Map Select */
        pa = a;
    }
    pa = plane_address(v, pa);
    /* Every read loads the four latches (GC "Read Mode" description). */
    v->latch = load32(v->vram + pa * 4);
    if (!(v->r.gc[5] & 0x08))
        return (uint8_t)(v->latch >> (plane * 8));
    /* Read mode 1: a 1 where every plane not excluded by Color Don't
     * Care matches Color Compare. */
    uint32_t cmp = expand4[v->r.gc[2] & 0x0f], care = expand4[v->r.gc[7] & 0x0f];
    uint32_t diff = (v->latch ^ cmp) & care;
    uint8_t r = (uint8_t)(diff | diff >> 8 | diff >> 16 | diff >> 24);
    return (uint8_t)~r;
}

static inline uint8_t ror8(uint8_t x, unsigned n)
{
    n &= 7;
    return n ? (uint8_t)((x >> n) | (x << (8 - n))) : x;
}

static void mem_writeb(struct vga *v, uint32_t off, uint8_t val)
{
    uint32_t a, va;
    if (vbe_banked(v, off, &va)) {
        if (va < VGA_VRAM_SIZE) {
            v->vram[va] = val;
            dirty_log_mark(v->dirty, va, 1);
        }
        return;
    }
    if (!(v->r.misc & 0x02) || !window_offset(v, off, &a))
        return;
    unsigned planes = v->r.seq[2] & 0x0f;  /* Map Mask */
    uint32_t pa;
    if (v->r.seq[4] & 0x08) {              /* Chain 4 */
        planes &= 1u << (a & 3);
        pa = a >> 2;
    } else if (!(v->r.seq[4] & 0x04)) {    /* Odd/Even (Odd/Even Disable = 0) */
        planes &= (a & 1) ? 0x0a : 0x05;
        pa = a & ~1u;
    } else {
        pa = a;
    }
    pa = plane_address(v, pa);
    if (!planes)
        return;

    /* The write data path of the graphics controller (GC Mode, Data
     * Rotate, Set/Reset, Enable Set/Reset, Bit Mask). */
    uint32_t data, mask = v->r.gc[8];
    uint8_t rot = ror8(val, v->r.gc[3] & 7);
    switch (v->r.gc[5] & 3) {
    case 0: {
        uint32_t esr = expand4[v->r.gc[1] & 0x0f];
        data = ((rot * 0x01010101u) & ~esr) | (expand4[v->r.gc[0] & 0x0f] & esr);
        break;
    }
    case 1: /* the latches as they are, ALU and bit mask bypassed */
        data = v->latch;
        mask = 0xff;
        goto store;
    case 2:
        data = expand4[val & 0x0f];
        break;
    default: /* 3 */
        data = expand4[v->r.gc[0] & 0x0f];
        mask &= rot;
        break;
    }
    switch ((v->r.gc[3] >> 3) & 3) {       /* Logical Operation */
    case 1: data &= v->latch; break;
    case 2: data |= v->latch; break;
    case 3: data ^= v->latch; break;
    default: break;
    }
    {
        uint32_t m = mask * 0x01010101u;
        data = (data & m) | (v->latch & ~m);
    }
store:;
    uint32_t pm = expand4[planes];
    uint8_t *p = v->vram + pa * 4;
    store32(p, (load32(p) & ~pm) | (data & pm));
    dirty_log_mark(v->dirty, pa * 4, 4);
}

static uint64_t legacy_read(void *opaque, uint64_t addr, unsigned size)
{
    struct vga *v = opaque;
    uint64_t r = 0;
    for (unsigned i = 0; i < size; i++)
        r |= (uint64_t)mem_readb(v, (uint32_t)(addr + i) & (VGA_LEGACY_SIZE - 1)) << (8 * i);
    return r;
}

static void legacy_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct vga *v = opaque;
    for (unsigned i = 0; i < size; i++)
        mem_writeb(v, (uint32_t)(addr + i) & (VGA_LEGACY_SIZE - 1), (uint8_t)(val >> (8 * i)));
}

static const struct mem_ops legacy_ops = { .read = legacy_read, .write = legacy_write };

/* ------------------------------------------------------------------ */
/* Ports 0x3B0-0x3DF                                                   */
/* ------------------------------------------------------------------ */

/* Miscellaneous Output bit 0 (I/O Address Select): CRTC and Input
 * Status 1 at 3Dx (1) or 3Bx (0); the other set does not respond. */
static bool port_decoded(const struct vga *v, uint16_t port)
{
    if (port >= 0x3b0 && port <= 0x3bf)
        return !(v->r.misc & 0x01);
    if (port >= 0x3d0 && port <= 0x3df)
        return (v->r.misc & 0x01) != 0;
    return true;
}

static uint8_t dac_max(const struct vga *v)
{
    return (v->r.vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC) ? 0xff : 0x3f;
}

static uint8_t vga_port_read(struct vga *v, uint16_t port)
{
    if (!port_decoded(v, port))
        return 0xff;
    switch (port) {
    case 0x3c0:
        return v->r.ar_index;
    case 0x3c1: {
        unsigned i = v->r.ar_index & 0x1f;
        return i < AR_REGS ? v->r.ar[i] : 0;
    }
    case 0x3c2:
        /* Input Status 0: bit 7 vertical retrace interrupt pending; bit
         * 4 (switch sense) reads 0: no sense comparator is modelled. */
        return v->vint_pending ? 0x80 : 0x00;
    case 0x3c3:
        return v->vse;
    case 0x3c4:
        return v->seq_index;
    case 0x3c5:
        return v->seq_index < SEQ_REGS ? v->r.seq[v->seq_index] : 0xff;
    case 0x3c6:
        return v->r.dac_mask;
    case 0x3c7:
        return v->dac_state;
    case 0x3c8:
        return v->dac_write_index;
    case 0x3c9: {
        uint8_t r = v->r.dac[v->dac_read_index * 3 + v->dac_sub];
        if (++v->dac_sub == 3) {
            v->dac_sub = 0;
            v->dac_read_index++;
        }
        return r;
    }
    case 0x3ca:
        return v->feature;
    case 0x3cc:
        return v->r.misc;
    case 0x3ce:
        return v->gc_index;
    case 0x3cf:
        return v->gc_index < GC_REGS ? v->r.gc[v->gc_index] : 0xff;
    case 0x3b4: case 0x3d4: case 0x3b0: case 0x3b2: case 0x3b6: case 0x3d0: case 0x3d2:
    case 0x3d6:
        return v->crtc_index;
    case 0x3b5: case 0x3d5: case 0x3b1: case 0x3b3: case 0x3b7: case 0x3d1: case 0x3d3:
    case 0x3d7:
        return v->crtc_index < CRTC_REGS ? v->r.crtc[v->crtc_index] : 0xff;
    case 0x3ba: case 0x3da:
        /* Reading Input Status 1 resets the attribute flip-flop to
         * "index" (IBM VGA, Attribute Controller Registers). */
        v->ar_flipflop = false;
        return input_status1(v);
    default:
        return 0xff;
    }
}

static void crtc_write(struct vga *v, uint8_t val)
{
    unsigned i = v->crtc_index;
    if (i >= CRTC_REGS)
        return;
    /* CR11 bit 7 (Protect) write-protects CR00-CR07, except the Line
     * Compare bit 8 in CR07 bit 4. */
    if ((v->r.crtc[0x11] & 0x80) && i <= 7) {
        if (i == 7)
            v->r.crtc[7] = (uint8_t)((v->r.crtc[7] & ~0x10) | (val & 0x10));
        return;
    }
    v->r.crtc[i] = val;
    if (i == 0x11)
        vint_update(v);
}

static void vga_port_write(struct vga *v, uint16_t port, uint8_t val)
{
    if (!port_decoded(v, port))
        return;
    switch (port) {
    case 0x3c0:
        if (!v->ar_flipflop) {
            v->r.ar_index = val & 0x3f;
        } else {
            unsigned i = v->r.ar_index & 0x1f;
            /* The palette registers (0-0Fh) are written only while PAS
             * is 0, i.e. while the CPU owns them. */
            if (i < AR_REGS && (i >= 0x10 || !(v->r.ar_index & AR_PAS)))
                v->r.ar[i] = val & ar_mask[i];
        }
        v->ar_flipflop = !v->ar_flipflop;
        break;
    case 0x3c2:
        v->r.misc = val;
        break;
    case 0x3c3:
        v->vse = val & 1;
        break;
    case 0x3c4:
        v->seq_index = val & 0x07;
        break;
    case 0x3c5:
        if (v->seq_index < SEQ_REGS)
            v->r.seq[v->seq_index] = val & seq_mask[v->seq_index];
        break;
    case 0x3c6:
        v->r.dac_mask = val;
        break;
    case 0x3c7:
        /* DAC Address Read Mode: reads start at this entry. */
        v->dac_read_index = val;
        v->dac_sub = 0;
        v->dac_state = 3;
        break;
    case 0x3c8:
        v->dac_write_index = val;
        v->dac_sub = 0;
        v->dac_state = 0;
        break;
    case 0x3c9:
        /* Three writes (red, green, blue) then the entry is updated
         * and the write index advances. */
        v->dac_latch[v->dac_sub] = val & dac_max(v);
        if (++v->dac_sub == 3) {
            memcpy(&v->r.dac[v->dac_write_index * 3], v->dac_latch, 3);
            v->dac_sub = 0;
            v->dac_write_index++;
        }
        break;
    case 0x3ce:
        v->gc_index = val & 0x0f;
        break;
    case 0x3cf:
        if (v->gc_index < GC_REGS)
            v->r.gc[v->gc_index] = val & gc_mask[v->gc_index];
        break;
    case 0x3b4: case 0x3d4: case 0x3b0: case 0x3b2: case 0x3b6: case 0x3d0: case 0x3d2:
    case 0x3d6:
        v->crtc_index = val & 0x3f;
        break;
    case 0x3b5: case 0x3d5: case 0x3b1: case 0x3b3: case 0x3b7: case 0x3d1: case 0x3d3:
    case 0x3d7:
        crtc_write(v, val);
        break;
    case 0x3ba: case 0x3da:
        v->feature = val & 0x03;
        break;
    default:
        break;
    }
}

static uint64_t vga_io_read(void *opaque, uint64_t addr, unsigned size)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < size; i++)
        r |= (uint64_t)vga_port_read(opaque, (uint16_t)(addr + i)) << (8 * i);
    return r;
}

static void vga_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    /* A word OUT to an index port writes the index then the data
     * (the low byte goes to the lower port first). */
    for (unsigned i = 0; i < size; i++)
        vga_port_write(opaque, (uint16_t)(addr + i), (uint8_t)(val >> (8 * i)));
}

static const struct mem_ops vga_io_ops = { .read = vga_io_read, .write = vga_io_write };

/* ------------------------------------------------------------------ */
/* Bochs VBE DISPI                                                     */
/* ------------------------------------------------------------------ */

static void vbe_update_virt(struct vga *v)
{
    unsigned bpp = vbe_bpp(&v->r);
    uint32_t vw = v->r.vbe[VBE_DISPI_INDEX_VIRT_WIDTH];
    if (vw < v->r.vbe[VBE_DISPI_INDEX_XRES])
        vw = v->r.vbe[VBE_DISPI_INDEX_XRES];
    uint32_t lb = vbe_line_bytes(bpp, vw);
    if (!lb)
        return;
    uint32_t vh = VGA_VRAM_SIZE / lb;
    if (vh > 0xffff)
        vh = 0xffff;
    v->r.vbe[VBE_DISPI_INDEX_VIRT_WIDTH] = (uint16_t)vw;
    v->r.vbe[VBE_DISPI_INDEX_VIRT_HEIGHT] = (uint16_t)vh;
}

static bool vbe_bpp_valid(unsigned bpp)
{
    return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

static void vbe_enable(struct vga *v, uint16_t val)
{
    uint16_t old = v->r.vbe[VBE_DISPI_INDEX_ENABLE];
    if ((val & VBE_DISPI_ENABLED) && !(old & VBE_DISPI_ENABLED)) {
        unsigned bpp = vbe_bpp(&v->r);
        uint32_t xres = v->r.vbe[VBE_DISPI_INDEX_XRES], yres = v->r.vbe[VBE_DISPI_INDEX_YRES];
        /* A mode the framebuffer cannot hold is refused: the register
         * stays disabled (the guest reads back ENABLE = 0). */
        if (!vbe_bpp_valid(bpp) || xres == 0 || yres == 0 || xres > VBE_DISPI_MAX_XRES ||
            yres > VBE_DISPI_MAX_YRES || (bpp == 4 && (xres & 7)) ||
            (uint64_t)vbe_line_bytes(bpp, xres) * yres > VGA_VRAM_SIZE)
            return;
        v->r.vbe[VBE_DISPI_INDEX_BPP] = (uint16_t)bpp;
        v->r.vbe[VBE_DISPI_INDEX_VIRT_WIDTH] = (uint16_t)xres;
        v->r.vbe[VBE_DISPI_INDEX_X_OFFSET] = 0;
        v->r.vbe[VBE_DISPI_INDEX_Y_OFFSET] = 0;
        v->r.vbe[VBE_DISPI_INDEX_BANK] = 0;
        v->r.vbe[VBE_DISPI_INDEX_ENABLE] = VBE_DISPI_ENABLED; /* so vbe_update_virt sees it */
        vbe_update_virt(v);
        if (!(val & VBE_DISPI_NOCLEARMEM)) {
            memset(v->vram, 0, (size_t)vbe_line_bytes(bpp, xres) * yres);
            dirty_log_mark(v->dirty, 0, (size_t)vbe_line_bytes(bpp, xres) * yres);
        }
        /* Put the VGA into a graphics state consistent with the mode, as
         * the Bochs VGA BIOS expects: graphics, A0000h/64 KiB window,
         * chain-4 (8+ bpp) or planar (4 bpp), attribute controller in
         * graphics mode with the palette video-owned. */
        v->r.gc[6] = (uint8_t)((v->r.gc[6] & ~0x0c) | 0x05);
        v->r.ar[0x10] |= 0x01;
        v->r.ar_index |= AR_PAS;
        v->r.seq[1] &= (uint8_t)~0x20;
        if (bpp == 4) {
            v->r.seq[4] = (uint8_t)((v->r.seq[4] & ~0x08) | 0x06);
            v->r.seq[2] = 0x0f;
            v->r.gc[5] &= (uint8_t)~0x70;
        } else {
            v->r.seq[4] |= 0x0e;
            v->r.gc[5] = (uint8_t)((v->r.gc[5] & ~0x30) | 0x40);
        }
        v->r.misc |= 0x02;
    }
    v->r.vbe[VBE_DISPI_INDEX_ENABLE] = val & (VBE_DISPI_ENABLED | VBE_DISPI_GETCAPS |
                                            VBE_DISPI_8BIT_DAC | VBE_DISPI_LFB_ENABLED |
                                            VBE_DISPI_NOCLEARMEM);
}

static uint16_t vbe_read(struct vga *v)
{
    unsigned i = v->vbe_index;
    bool caps = (v->r.vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS) != 0;
    switch (i) {
    case VBE_DISPI_INDEX_XRES:
        return caps ? VBE_DISPI_MAX_XRES : v->r.vbe[i];
    case VBE_DISPI_INDEX_YRES:
        return caps ? VBE_DISPI_MAX_YRES : v->r.vbe[i];
    case VBE_DISPI_INDEX_BPP:
        return caps ? VBE_DISPI_MAX_BPP : v->r.vbe[i];
    case VBE_DISPI_INDEX_VIDEO_MEMORY_64K:
        return VGA_VRAM_SIZE >> 16;
    default:
        return i < VBE_DISPI_INDEX_NB ? v->r.vbe[i] : 0;
    }
}

static void vbe_write(struct vga *v, uint16_t val)
{
    unsigned i = v->vbe_index;
    bool on = vbe_enabled(&v->r);
    switch (i) {
    case VBE_DISPI_INDEX_ID:
        if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5)
            v->r.vbe[i] = val;
        break;
    case VBE_DISPI_INDEX_XRES:
    case VBE_DISPI_INDEX_YRES:
    case VBE_DISPI_INDEX_BPP:
        /* The mode is fixed while it is enabled (Bochs). */
        if (!on)
            v->r.vbe[i] = val;
        break;
    case VBE_DISPI_INDEX_ENABLE:
        vbe_enable(v, val);
        break;
    case VBE_DISPI_INDEX_BANK:
        if (((uint32_t)val << 16) < VGA_VRAM_SIZE)
            v->r.vbe[i] = val;
        break;
    case VBE_DISPI_INDEX_VIRT_WIDTH:
        v->r.vbe[i] = val;
        if (on)
            vbe_update_virt(v);
        break;
    case VBE_DISPI_INDEX_X_OFFSET:
    case VBE_DISPI_INDEX_Y_OFFSET:
        v->r.vbe[i] = val;
        break;
    default: /* VIRT_HEIGHT and VIDEO_MEMORY_64K are read-only */
        break;
    }
}

static uint64_t vbe_io_read(void *opaque, uint64_t addr, unsigned size)
{
    struct vga *v = opaque;
    uint32_t r;
    if (addr == VBE_DISPI_IOPORT_INDEX)
        r = v->vbe_index;
    else
        r = vbe_read(v); /* 0x1CF, and 0x1D0 of old Bochs BIOSes */
    return size == 1 ? (r & 0xff) : r;
}

static void vbe_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct vga *v = opaque;
    (void)size;
    if (addr == VBE_DISPI_IOPORT_INDEX)
        v->vbe_index = (uint16_t)val;
    else
        vbe_write(v, (uint16_t)val);
}

static const struct mem_ops vbe_io_ops = { .read = vbe_io_read, .write = vbe_io_write };

/* ------------------------------------------------------------------ */
/* What the display sees                                               */
/* ------------------------------------------------------------------ */

void vga_get_view(struct vga *v, struct vga_view *out)
{
    out->vram = v->vram;
    out->regs = v->r;
    out->frame = frame_number(v);
}

bool vga_take_dirty(struct vga *v, uint64_t bits[VGA_DIRTY_WORDS])
{
    return dirty_log_take(v->dirty, bits);
}

int vga_render(struct vga *v, uint32_t *pixels, int *width, int *height, int stride)
{
    struct vga_view view;
    vga_get_view(v, &view);
    int cap_h = *height;
    vga_view_size(&view, width, height);
    return vga_render_view(&view, pixels, stride, cap_h, NULL, NULL) < 0 ? -1 : 0;
}

void vga_load_font(struct vga *v, const uint8_t *glyphs, unsigned first, unsigned count,
                   unsigned height)
{
    if (height > 32)
        height = 32;
    for (unsigned c = 0; c < count && first + c < 256; c++)
        for (unsigned y = 0; y < 32; y++) {
            uint32_t a = (first + c) * 32 + y;
            v->vram[a * 4 + 2] = y < height ? glyphs[c * height + y] : 0;
        }
    if (first < 256)
        dirty_log_mark(v->dirty, (size_t)first * 32 * 4, (size_t)count * 32 * 4);
}

void vga_text_size(struct vga *v, int *cols, int *rows)
{
    if (vbe_enabled(&v->r) || is_graphics(&v->r)) {
        *cols = *rows = 0;
        return;
    }
    unsigned c, r, ch;
    text_geometry(&v->r, &c, &r, &ch);
    *cols = (int)c;
    *rows = (int)r;
}

size_t vga_text_snapshot(struct vga *v, char *buf, size_t len)
{
    if (!len)
        return 0;
    buf[0] = '\0';
    int cols, rows;
    vga_text_size(v, &cols, &rows);
    size_t n = 0;
    unsigned row_ma = start_address(&v->r);
    unsigned offset = (unsigned)v->r.crtc[0x13] * 2;
    for (int r = 0; r < rows; r++, row_ma += offset) {
        size_t last = n; /* end of the line's non-blank part */
        for (int c = 0; c < cols && n + 1 < len; c++) {
            uint32_t a = crtc_addr(&v->r, (row_ma + (unsigned)c) & 0xffff, 0);
            uint8_t ch = v->vram[a * 4];
            char out = ch == 0 ? ' ' : (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
            buf[n++] = out;
            if (out != ' ')
                last = n;
        }
        n = last;
        if (n + 1 >= len)
            break;
        buf[n++] = '\n';
    }
    buf[n] = '\0';
    return n;
}

/* ------------------------------------------------------------------ */
/* PCI function 1234:1111                                              */
/* ------------------------------------------------------------------ */

/* BAR2: 0x400-0x41F are ports 0x3C0-0x3DF (byte accesses as on the
 * bus), 0x500 + 2n is DISPI register n (16 bits), as the Bochs/QEMU
 * "stdvga" MMIO BAR. Other offsets read 0 / ignore writes. */
static uint64_t pci_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    struct vga *v = opaque;
    if (addr >= VGA_PCI_MMIO_VGA && addr + size <= VGA_PCI_MMIO_VGA + 0x20)
        return vga_io_read(v, addr - VGA_PCI_MMIO_VGA + 0x3c0, size);
    if (addr >= VGA_PCI_MMIO_VBE && addr < VGA_PCI_MMIO_VBE + 2 * VBE_DISPI_INDEX_NB) {
        v->vbe_index = (uint16_t)((addr - VGA_PCI_MMIO_VBE) / 2);
        uint64_t r = vbe_read(v);
        return size == 1 ? ((r >> (8 * (addr & 1))) & 0xff) : r;
    }
    return 0;
}

static void pci_mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct vga *v = opaque;
    if (addr >= VGA_PCI_MMIO_VGA && addr + size <= VGA_PCI_MMIO_VGA + 0x20) {
        vga_io_write(v, addr - VGA_PCI_MMIO_VGA + 0x3c0, val, size);
        return;
    }
    if (addr >= VGA_PCI_MMIO_VBE && addr < VGA_PCI_MMIO_VBE + 2 * VBE_DISPI_INDEX_NB &&
        size >= 2 && !(addr & 1)) {
        v->vbe_index = (uint16_t)((addr - VGA_PCI_MMIO_VBE) / 2);
        vbe_write(v, (uint16_t)val);
    }
}

static const struct mem_ops pci_mmio_ops = { .read = pci_mmio_read, .write = pci_mmio_write };

/* ------------------------------------------------------------------ */
/* Construction                                                        */
/* ------------------------------------------------------------------ */

void vga_reset(struct vga *v)
{
    v->r.misc = v->feature = v->vse = 0;
    v->seq_index = v->crtc_index = v->gc_index = v->r.ar_index = 0;
    memset(v->r.seq, 0, sizeof(v->r.seq));
    memset(v->r.crtc, 0, sizeof(v->r.crtc));
    memset(v->r.gc, 0, sizeof(v->r.gc));
    memset(v->r.ar, 0, sizeof(v->r.ar));
    v->ar_flipflop = false;
    v->r.dac_mask = 0xff;
    v->dac_read_index = v->dac_write_index = v->dac_sub = v->dac_state = 0;
    memset(v->dac_latch, 0, sizeof(v->dac_latch));
    v->latch = 0;
    v->vbe_index = 0;
    memset(v->r.vbe, 0, sizeof(v->r.vbe));
    v->r.vbe[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID0;
    v->r.vbe[VBE_DISPI_INDEX_BPP] = 8;
    v->vint_pending = false;
    if (v->vint_timer)
        vtimer_cancel(v->vint_timer);
    irq_lower(&v->irq);
}

struct vga *vga_new(struct phys_mem *pm, struct io_space *io, struct vclock *clock)
{
    struct vga *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    void *mem = mmap(NULL, VGA_VRAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (mem == MAP_FAILED) {
        free(v);
        return NULL;
    }
    v->vram = mem;
    v->pm = pm;
    v->dirty = phys_dirty_log_new(pm, v->vram, VGA_VRAM_SIZE);
    if (!v->dirty) {
        munmap(mem, VGA_VRAM_SIZE);
        free(v);
        return NULL;
    }
    v->io = io;
    v->clock = clock;
    v->lfb_base = UINT64_MAX;
    v->vint_timer = vtimer_new(clock, vint_fire, v);
    if (!v->vint_timer) {
        vga_free(v);
        return NULL;
    }
    vga_reset(v);
    if (io_register(io, 0x3b0, 0x30, &vga_io_ops, v) != 0 ||
        io_register(io, VBE_DISPI_IOPORT_INDEX, 3, &vbe_io_ops, v) != 0) {
        vga_free(v);
        return NULL;
    }
    v->ports_registered = true;
    if (phys_map_mmio(pm, VGA_LEGACY_BASE, VGA_LEGACY_SIZE, &legacy_ops, v) != 0) {
        vga_free(v);
        return NULL;
    }
    v->legacy_mapped = true;
    return v;
}

static void vga_pci_reset(struct pci_device *d)
{
    vga_reset(d->opaque);
}

struct vga *vga_pci_new(struct pci_bus *bus, int devfn, struct phys_mem *pm,
                        struct io_space *io, struct vclock *clock)
{
    struct vga *v = vga_new(pm, io, clock);
    if (!v)
        return NULL;
    const struct pci_device_info info = {
        .vendor_id = VGA_PCI_VENDOR,
        .device_id = VGA_PCI_DEVICE,
        .class_base = 0x03, .class_sub = 0x00, .class_prog = 0x00, /* VGA-compatible */
        .revision = 0x02,
        .subsystem_vendor_id = 0x1af4, .subsystem_id = 0x1100,
    };
    if (pci_device_register(bus, &v->pci, devfn, &info, v) != 0) {
        vga_free(v);
        return NULL;
    }
    v->has_pci = true;
    if (pci_register_bar_ram(&v->pci, 0, PCI_BAR_MEM32_PREFETCH, VGA_VRAM_SIZE, v->vram) != 0 ||
        pci_register_bar(&v->pci, 2, PCI_BAR_MEM32, VGA_PCI_MMIO_SIZE, &pci_mmio_ops, v) != 0) {
        vga_free(v);
        return NULL;
    }
    v->pci.reset = vga_pci_reset;
    return v;
}

int vga_map_lfb(struct vga *v, uint64_t base)
{
    if (v->lfb_base != UINT64_MAX)
        phys_unmap(v->pm, v->lfb_base, VGA_VRAM_SIZE);
    v->lfb_base = UINT64_MAX;
    if (phys_map_ram(v->pm, base, VGA_VRAM_SIZE, v->vram) != 0)
        return -1;
    v->lfb_base = base;
    return 0;
}

/*
 * Mode 3 as a VGA BIOS leaves it (IBM VGA Technical Reference, BIOS
 * mode 03h register table): 80x25 text, 9x16 cells, 720x400 at 70 Hz,
 * B8000h, the 64-entry EGA palette in the DAC, the screen cleared to
 * grey-on-black blanks, cursor lines 13-14 at 0,0, and Glass's BIOS
 * font (hw/vga_font.c) in character map 0. For boots without a BIOS
 * (-kernel), so that the guest finds the text screen it expects.
 */
void vga_set_mode3(struct vga *v)
{
    static const uint8_t seq[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
    static const uint8_t crtc[CRTC_REGS] = {
        0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
        0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
    };
    static const uint8_t gc[GC_REGS] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
    static const uint8_t ar[AR_REGS] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c,
        0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00,
    };
    v->r.vbe[VBE_DISPI_INDEX_ENABLE] = 0;
    v->r.misc = 0x67;
    memcpy(v->r.seq, seq, sizeof(seq));
    memcpy(v->r.crtc, crtc, sizeof(crtc));
    memcpy(v->r.gc, gc, sizeof(gc));
    memcpy(v->r.ar, ar, sizeof(ar));
    v->r.ar_index = AR_PAS;
    v->ar_flipflop = false;
    v->r.dac_mask = 0xff;
    /* EGA colour rgbRGB: primaries 2/3, secondaries 1/3 of full scale. */
    for (unsigned i = 0; i < 64; i++) {
        uint8_t *e = &v->r.dac[i * 3];
        e[0] = (uint8_t)(((i >> 2) & 1) * 42 + ((i >> 5) & 1) * 21);
        e[1] = (uint8_t)(((i >> 1) & 1) * 42 + ((i >> 4) & 1) * 21);
        e[2] = (uint8_t)((i & 1) * 42 + ((i >> 3) & 1) * 21);
    }
    for (uint32_t a = 0; a < 80 * 25 * 2; a += 2) {
        v->vram[a * 4 + 0] = ' ';
        v->vram[a * 4 + 1] = 0x07;
    }
    dirty_log_mark(v->dirty, 0, 80 * 25 * 2 * 4);
    uint8_t glyphs[256 * 16];
    for (unsigned c = 0; c < 256; c++)
        for (unsigned y = 0; y < 16; y++)
            glyphs[c * 16 + y] = font_glyph_row((uint8_t)c, (int)y);
    vga_load_font(v, glyphs, 0, 256, 16);
}

struct irq_line *vga_irq(struct vga *v)
{
    return &v->irq;
}

uint8_t *vga_vram(struct vga *v)
{
    return v->vram;
}

void vga_free(struct vga *v)
{
    if (!v)
        return;
    if (v->has_pci)
        pci_device_unregister(&v->pci);
    if (v->ports_registered) {
        io_unregister(v->io, 0x3b0, 0x30);
        io_unregister(v->io, VBE_DISPI_IOPORT_INDEX, 3);
    }
    if (v->legacy_mapped)
        phys_unmap(v->pm, VGA_LEGACY_BASE, VGA_LEGACY_SIZE);
    if (v->lfb_base != UINT64_MAX)
        phys_unmap(v->pm, v->lfb_base, VGA_VRAM_SIZE);
    if (v->vint_timer)
        vtimer_free(v->vint_timer);
    phys_dirty_log_free(v->dirty);
    munmap(v->vram, VGA_VRAM_SIZE);
    free(v);
}
