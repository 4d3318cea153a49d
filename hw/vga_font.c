/*
 * hw/vga_font.c — the 8x16 text font of Glass's BIOS (bios/font.c, an
 * original design), compiled for the host as well: vga_set_mode3 loads
 * it into plane 2, so that a boot without a BIOS (-kernel) finds the
 * font a VGA BIOS would have left there (Linux's vgacon uses whatever
 * plane 2 holds), and the display tests can read text back from pixels.
 * One source for both: the BIOS draws the same glyphs.
 */
#include "bios/font.c"
