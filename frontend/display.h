/*
 * frontend/display.h — the window: the guest's screen, keyboard and
 * mouse (frontend/display_sdl.c, the one file that includes SDL's video
 * headers) and the host-key translation it uses (frontend/keymap.c).
 */
#ifndef GLASS_FRONTEND_DISPLAY_H
#define GLASS_FRONTEND_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>

struct pc;

/* ------------------------------------------------------------------ */
/* The SDL window (frontend/display_sdl.c)                             */
/* ------------------------------------------------------------------ */

struct display;

/*
 * Opens the window for `pc`'s VGA, keyboard and mouse. Returns NULL with
 * one line in err (naming -display none) when there is no window to be
 * had: a glass built without SDL, no X or Wayland server, or SDL failing.
 */
struct display *display_sdl_new(struct pc *pc, char *err, size_t errlen);
void display_free(struct display *d);

/*
 * The board's poll, between CPU slices. Cheap unless a frame is due
 * (at most DISPLAY_HZ a second, by the host clock): then it handles the
 * window's events (keys and mouse to the guest, hot keys, resizing) and
 * redraws what the guest changed. Returns false once the user closed
 * the window.
 */
#define DISPLAY_HZ 60
bool display_poll(struct display *d);

/* ------------------------------------------------------------------ */
/* Host keys (frontend/keymap.c)                                       */
/* ------------------------------------------------------------------ */

/*
 * The Glass keycode (enum glass_key of hw/ps2.h) of an SDL scancode, or
 * 0 (GK_NONE) for a key the PS/2 keyboard does not have. Both number
 * keys by their USB HID usage (Keyboard/Keypad page), so this is the
 * identity on the keys they share; ps2.c turns the keycode into set 1,
 * 2 or 3 make/break codes and the 8042 translates as its command byte
 * says.
 */
unsigned keymap_from_sdl(int scancode);

/* The window's own keys, taken while Ctrl and Alt are held. */
enum display_hotkey {
    HOTKEY_NONE,
    HOTKEY_GRAB,       /* Ctrl+Alt+G: grab or release the mouse */
    HOTKEY_FULLSCREEN, /* Ctrl+Alt+F: full screen on or off */
};
enum display_hotkey keymap_hotkey(int scancode, bool ctrl, bool alt);

#endif
