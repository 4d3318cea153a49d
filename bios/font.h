/* bios/font.h — the 8x16 text font (bios/font.c). */
#ifndef GLASS_BIOS_FONT_H
#define GLASS_BIOS_FONT_H
#include <stdint.h>
#include <stdbool.h>
uint8_t font_glyph_row(uint8_t c, int y);       /* y = 0..15, bit 7 = left */
#endif
