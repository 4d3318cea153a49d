/*
 * hw/vga.h — IBM VGA (sequencer, CRTC, graphics controller, attribute
 * controller, DAC, 256 KiB of planar memory at A0000h-BFFFFh) with the
 * Bochs VBE "DISPI" extension (ports 0x1CE/0x1CF) and, optionally, the
 * PCI display function 1234:1111 ("stdvga") whose BAR0 is the linear
 * framebuffer (16 MiB of VRAM) and BAR2 the MMIO view of the registers.
 *
 * References: IBM "VGA Technical Reference" (Personal System/2 Hardware
 * Interface Technical Reference, VGA section), FreeVGA register docs,
 * Bochs "vbe_display_api" (VBE_DISPI_*) documentation.
 */
#ifndef GLASS_HW_VGA_H
#define GLASS_HW_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/dev.h"

#define VGA_VRAM_SIZE (16u << 20) /* VBE video memory; planes use the first 256 KiB */
#define VGA_LEGACY_BASE 0xa0000u
#define VGA_LEGACY_SIZE 0x20000u

/* Bochs VBE DISPI interface (bochs vbe.h / vbe_display_api). */
#define VBE_DISPI_IOPORT_INDEX 0x1ce
#define VBE_DISPI_IOPORT_DATA 0x1cf
#define VBE_DISPI_INDEX_ID 0x0
#define VBE_DISPI_INDEX_XRES 0x1
#define VBE_DISPI_INDEX_YRES 0x2
#define VBE_DISPI_INDEX_BPP 0x3
#define VBE_DISPI_INDEX_ENABLE 0x4
#define VBE_DISPI_INDEX_BANK 0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH 0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT 0x7
#define VBE_DISPI_INDEX_X_OFFSET 0x8
#define VBE_DISPI_INDEX_Y_OFFSET 0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xa
#define VBE_DISPI_INDEX_NB 0xb
#define VBE_DISPI_ID0 0xb0c0
#define VBE_DISPI_ID5 0xb0c5
#define VBE_DISPI_DISABLED 0x00
#define VBE_DISPI_ENABLED 0x01
#define VBE_DISPI_GETCAPS 0x02
#define VBE_DISPI_8BIT_DAC 0x20
#define VBE_DISPI_LFB_ENABLED 0x40
#define VBE_DISPI_NOCLEARMEM 0x80
#define VBE_DISPI_MAX_XRES 2560
#define VBE_DISPI_MAX_YRES 1600
#define VBE_DISPI_MAX_BPP 32

/* PCI identity of the display function (QEMU/Bochs "stdvga"). */
#define VGA_PCI_VENDOR 0x1234
#define VGA_PCI_DEVICE 0x1111
#define VGA_PCI_MMIO_SIZE 0x1000
#define VGA_PCI_MMIO_VGA 0x400  /* ports 0x3C0-0x3DF at 0x400-0x41F */
#define VGA_PCI_MMIO_VBE 0x500  /* DISPI register n (16 bits) at 0x500 + 2n */

/* Register counts (IBM VGA: sequencer 0-4 (8 decoded), CRTC 0-18h,
 * graphics controller 0-8, attribute controller 0-14h). */
#define VGA_SEQ_REGS 8
#define VGA_CRTC_REGS 0x19
#define VGA_GC_REGS 9
#define VGA_AR_REGS 0x15

/* Attribute controller index register: bit 5 is Palette Address Source. */
#define VGA_AR_PAS 0x20

/*
 * The registers that decide the picture: what a renderer reads besides
 * the video memory. The device keeps its registers in this form, so a
 * snapshot of them is one copy.
 */
struct vga_regs {
    uint8_t misc;                  /* Miscellaneous Output (3C2/3CC) */
    uint8_t seq[VGA_SEQ_REGS];
    uint8_t crtc[VGA_CRTC_REGS];
    uint8_t gc[VGA_GC_REGS];
    uint8_t ar[VGA_AR_REGS];
    uint8_t ar_index;              /* with PAS (VGA_AR_PAS) */
    uint8_t dac_mask;              /* 3C6 */
    uint8_t dac[256 * 3];          /* R, G, B: 6 bits, or 8 with VBE_DISPI_8BIT_DAC */
    uint16_t vbe[VBE_DISPI_INDEX_NB];
};

/*
 * Everything the renderer (hw/vga_render.h) needs to draw the screen:
 * the registers, the video memory (borrowed: planar byte p of plane
 * address a at vram[4a + p], the VBE framebuffer from byte 0;
 * VGA_VRAM_SIZE bytes) and the frame count that paces the cursor and
 * character blink.
 */
struct vga_view {
    const uint8_t *vram;
    struct vga_regs regs;
    uint64_t frame;                /* frames since power-on, from virtual time */
};

/* Dirty tracking: one bit per 4 KiB page of VRAM. */
#define VGA_DIRTY_PAGES (VGA_VRAM_SIZE / 4096u)
#define VGA_DIRTY_WORDS (VGA_DIRTY_PAGES / 64u)

struct vga;
struct pci_bus;

/*
 * Builds the VGA on `io` (ports 0x3B4/0x3B5/0x3BA, 0x3C0-0x3CF,
 * 0x3D4/0x3D5/0x3DA, and the DISPI ports 0x1CE-0x1D0) and maps the
 * legacy window A0000h-BFFFFh of `pm` as MMIO. Time (retrace bits of
 * input status 1, blink) comes from `clock`. Returns NULL on allocation
 * failure. Registers come up as at power-on (all zero: no mode; the
 * BIOS programs one).
 */
struct vga *vga_new(struct phys_mem *pm, struct io_space *io, struct vclock *clock);
/* vga_new plus the PCI function 1234:1111 at `devfn` of `bus`: BAR0 the
 * 16 MiB framebuffer (prefetchable, RAM-backed), BAR2 4 KiB of MMIO. */
struct vga *vga_pci_new(struct pci_bus *bus, int devfn, struct phys_mem *pm,
                        struct io_space *io, struct vclock *clock);
void vga_free(struct vga *vga);
/* Power-on state of the registers (VRAM is kept, as on a warm reset). */
void vga_reset(struct vga *vga);

/* Programs BIOS mode 03h (80x25 colour text at B8000h), clears the
 * text screen and loads Glass's BIOS font (8x16, bios/font.c), for
 * boots without a video BIOS. */
void vga_set_mode3(struct vga *vga);

/* Maps the VRAM as RAM at `base` (4 KiB aligned) for the ISA-only
 * variant (Bochs uses 0xE0000000). The PCI variant maps BAR0 itself. */
int vga_map_lfb(struct vga *vga, uint64_t base);

/* The vertical retrace interrupt's wire (IRQ 2, i.e. 9 on a PC/AT;
 * unconnected unless the board connects it). */
struct irq_line *vga_irq(struct vga *vga);

/* The 16 MiB of video memory (planar byte p of address a is at 4a + p). */
uint8_t *vga_vram(struct vga *vga);

/* The VGA's current state for the renderer (its VRAM by pointer). */
void vga_get_view(struct vga *vga, struct vga_view *out);

/*
 * The VRAM pages written since the last call (bit p of bits[p / 64] is
 * page p, VGA_DIRTY_WORDS words): through the LFB (memory/'s dirty log),
 * the A0000h window, or the device itself (a mode set clearing VRAM).
 * Returns whether any page was. A display that calls it after taking a
 * view redraws what the pages hold (hw/vga_render.h, vga_frame_update).
 */
bool vga_take_dirty(struct vga *vga, uint64_t bits[VGA_DIRTY_WORDS]);

/* Loads `count` glyphs of `height` rows (one byte each, bit 7 leftmost)
 * into character map 0 of plane 2, from character `first`: the font a
 * VGA BIOS would have loaded, for boots without one (-kernel). */
void vga_load_font(struct vga *vga, const uint8_t *glyphs, unsigned first, unsigned count,
                   unsigned height);

/*
 * Renders the current screen as XRGB8888 (0x00RRGGBB). `stride` is the
 * number of pixels per row of `pixels`, `*height` on entry the number of
 * rows it holds. Returns 0 with *width and *height set to the picture's
 * size; or -1 with them set to the size needed when `pixels`
 * is NULL or too small (nothing written). A blanked screen (screen off,
 * or the attribute controller's PAS bit clear) renders black at the
 * current size.
 */
int vga_render(struct vga *vga, uint32_t *pixels, int *width, int *height, int stride);

/*
 * The text screen as ASCII: one line per character row, trailing blanks
 * removed, each ended by '\n', the whole NUL-terminated and cut to `len`
 * bytes. Characters outside 0x20-0x7E show as '.', NUL as ' '. Returns
 * the number of characters stored (without the NUL); 0 with an empty
 * string in a graphics mode.
 */
size_t vga_text_snapshot(struct vga *vga, char *buf, size_t len);

/* Size of the text screen (0 x 0 in a graphics mode). */
void vga_text_size(struct vga *vga, int *cols, int *rows);

extern const struct dev_state_desc vga_state_desc;

#endif
