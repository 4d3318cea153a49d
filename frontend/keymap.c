/*
 * frontend/keymap.c — host keys to the guest's keyboard. SDL numbers
 * keys by position with the USB HID usages of the Keyboard/Keypad page
 * (SDL_scancode.h), and so does Glass (enum glass_key, hw/ps2.h): the
 * translation keeps the usages both have and drops the others (media
 * keys, the keypad's '=' and the like, which a PS/2 keyboard has not).
 * Scan codes, E0 prefixes and the Pause and Print Screen sequences are
 * hw/ps2.c's business, the set 2 -> set 1 translation the 8042's.
 */
#include "frontend/display.h"
#include "hw/ps2.h"

/* The SDL names are only used to check the numbering at build time. */
#if defined __has_include
#if __has_include("config.h")
#include "config.h"
#endif
#endif
#if HAVE_SDL
#include <SDL_scancode.h>
#define SAME(sdl, gk) ((int)(sdl) == (int)(gk))
_Static_assert(SAME(SDL_SCANCODE_A, GK_A) &&
                   SAME(SDL_SCANCODE_Z, GK_Z) &&
                   SAME(SDL_SCANCODE_RETURN, GK_ENTER) &&
                   SAME(SDL_SCANCODE_F12, GK_F12) &&
                   SAME(SDL_SCANCODE_PRINTSCREEN, GK_PRINTSCREEN) &&
                   SAME(SDL_SCANCODE_PAUSE, GK_PAUSE) &&
                   SAME(SDL_SCANCODE_KP_PERIOD, GK_KP_DOT) &&
                   SAME(SDL_SCANCODE_NONUSBACKSLASH, GK_NONUS_BACKSLASH) &&
                   SAME(SDL_SCANCODE_APPLICATION, GK_MENU) &&
                   SAME(SDL_SCANCODE_INTERNATIONAL1, GK_INTL1) &&
                   SAME(SDL_SCANCODE_INTERNATIONAL5, GK_INTL5) &&
                   SAME(SDL_SCANCODE_LCTRL, GK_LCTRL) &&
                   SAME(SDL_SCANCODE_RGUI, GK_RGUI) &&
                   SAME(SDL_SCANCODE_G, 0x0a) &&
                   SAME(SDL_SCANCODE_F, 0x09),
               "SDL scancodes are USB HID usages, as Glass keycodes are");
#endif

/* The usages a PS/2 MF-II keyboard (with the Windows and Japanese keys)
 * has: letters to the keypad's '.', the ISO key and Menu, International
 * 1-5, the eight modifiers. */
static const struct {
    unsigned first, last;
} ps2_keys[] = {
    { GK_A, GK_KP_DOT },
    { GK_NONUS_BACKSLASH, GK_MENU },
    { GK_INTL1, GK_INTL5 },
    { GK_LCTRL, GK_RGUI },
};

unsigned keymap_from_sdl(int scancode)
{
    for (unsigned i = 0; i < sizeof(ps2_keys) / sizeof(ps2_keys[0]); i++)
        if (scancode >= (int)ps2_keys[i].first && scancode <= (int)ps2_keys[i].last)
            return (unsigned)scancode;
    return GK_NONE;
}

enum display_hotkey keymap_hotkey(int scancode, bool ctrl, bool alt)
{
    if (!ctrl || !alt)
        return HOTKEY_NONE;
    switch (scancode) {
    case GK_G: return HOTKEY_GRAB;
    case GK_F: return HOTKEY_FULLSCREEN;
    default: return HOTKEY_NONE;
    }
}
