/*
 * hw/ps2.h — PS/2 devices behind the 8042: the MF-II keyboard and the
 * PS/2 mouse (with the IntelliMouse wheel and 5-button extensions).
 *
 * Each device keeps its own output queue, as the real ones buffer bytes
 * while the controller holds the clock line; the controller (hw/i8042.c)
 * pulls bytes out one at a time and is told by `notify` when there is
 * something to pull.
 */
#ifndef GLASS_HW_PS2_H
#define GLASS_HW_PS2_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/dev.h"

/*
 * Glass keycodes: the USB HID Usage IDs of the Keyboard/Keypad page (0x07)
 * ("HID Usage Tables" 1.12, chapter 10), a neutral numbering the frontend
 * maps host keys to. Modifiers use their usages 0xE0-0xE7.
 */
enum glass_key {
    GK_NONE = 0x00,
    GK_A = 0x04, GK_B, GK_C, GK_D, GK_E, GK_F, GK_G, GK_H, GK_I, GK_J, GK_K, GK_L, GK_M,
    GK_N, GK_O, GK_P, GK_Q, GK_R, GK_S, GK_T, GK_U, GK_V, GK_W, GK_X, GK_Y, GK_Z,
    GK_1 = 0x1e, GK_2, GK_3, GK_4, GK_5, GK_6, GK_7, GK_8, GK_9, GK_0,
    GK_ENTER = 0x28, GK_ESC, GK_BACKSPACE, GK_TAB, GK_SPACE,
    GK_MINUS = 0x2d, GK_EQUAL, GK_LBRACKET, GK_RBRACKET, GK_BACKSLASH,
    GK_NONUS_HASH = 0x32, GK_SEMICOLON, GK_APOSTROPHE, GK_GRAVE, GK_COMMA, GK_DOT, GK_SLASH,
    GK_CAPSLOCK = 0x39,
    GK_F1 = 0x3a, GK_F2, GK_F3, GK_F4, GK_F5, GK_F6, GK_F7, GK_F8, GK_F9, GK_F10, GK_F11, GK_F12,
    GK_PRINTSCREEN = 0x46, GK_SCROLLLOCK, GK_PAUSE, GK_INSERT, GK_HOME, GK_PAGEUP,
    GK_DELETE = 0x4c, GK_END, GK_PAGEDOWN, GK_RIGHT, GK_LEFT, GK_DOWN, GK_UP,
    GK_NUMLOCK = 0x53, GK_KP_SLASH, GK_KP_ASTERISK, GK_KP_MINUS, GK_KP_PLUS, GK_KP_ENTER,
    GK_KP_1 = 0x59, GK_KP_2, GK_KP_3, GK_KP_4, GK_KP_5, GK_KP_6, GK_KP_7, GK_KP_8, GK_KP_9,
    GK_KP_0 = 0x62, GK_KP_DOT,
    GK_NONUS_BACKSLASH = 0x64, GK_MENU = 0x65,
    GK_INTL1 = 0x87, GK_INTL2, GK_INTL3, GK_INTL4, GK_INTL5, /* Ro, Kana, Yen, Henkan, Muhenkan */
    GK_LCTRL = 0xe0, GK_LSHIFT, GK_LALT, GK_LGUI, GK_RCTRL, GK_RSHIFT, GK_RALT, GK_RGUI,
};

#define PS2_QUEUE_SIZE 16

/* Mouse buttons for ps2_mouse_event. */
#define PS2_BTN_LEFT 0x01
#define PS2_BTN_RIGHT 0x02
#define PS2_BTN_MIDDLE 0x04
#define PS2_BTN_4 0x08
#define PS2_BTN_5 0x10

struct ps2_kbd;
struct ps2_mouse;

/* `notify` runs whenever the device queued bytes; `clk` times the
 * typematic repeats. */
struct ps2_kbd *ps2_kbd_new(struct vclock *clk, void (*notify)(void *opaque), void *opaque);
void ps2_kbd_free(struct ps2_kbd *k);
/* A byte from the host (controller) to the keyboard. */
void ps2_kbd_write(struct ps2_kbd *k, uint8_t val);
bool ps2_kbd_has_data(const struct ps2_kbd *k);
/* Takes the next byte of the queue; 0 if empty. */
uint8_t ps2_kbd_read(struct ps2_kbd *k);
/* A key went down (pressed) or up. Unknown keys are dropped. The
 * keyboard repeats held keys itself at the F3 rate: the frontend sends
 * only real transitions (a press of a key already down is ignored). */
void ps2_kbd_key_event(struct ps2_kbd *k, unsigned keycode, bool pressed);
/* The LED state last set by command ED: bit 0 Scroll, 1 Num, 2 Caps. */
uint8_t ps2_kbd_leds(const struct ps2_kbd *k);
/* The scan code set in use (1, 2 or 3). */
unsigned ps2_kbd_scancode_set(const struct ps2_kbd *k);
/* Power-on state (what the keyboard does after its BAT, without the AA). */
void ps2_kbd_reset(struct ps2_kbd *k);

/* `clk` paces stream reports at the sample rate. */
struct ps2_mouse *ps2_mouse_new(struct vclock *clk, void (*notify)(void *opaque), void *opaque);
void ps2_mouse_free(struct ps2_mouse *m);
void ps2_mouse_write(struct ps2_mouse *m, uint8_t val);
bool ps2_mouse_has_data(const struct ps2_mouse *m);
uint8_t ps2_mouse_read(struct ps2_mouse *m);
/* Relative motion: dx to the right, dy down (host screen convention; the
 * packet carries it up-positive as PS/2 does), dz wheel clicks towards
 * the user; `buttons` is PS2_BTN_*. Reported in stream mode when enabled
 * (at most one packet per sample period), else accumulated for READ DATA
 * (remote mode). */
void ps2_mouse_event(struct ps2_mouse *m, int dx, int dy, int dz, unsigned buttons);
/* The mouse ID (0 standard, 3 wheel, 4 wheel + 5 buttons). */
uint8_t ps2_mouse_id(const struct ps2_mouse *m);
void ps2_mouse_reset(struct ps2_mouse *m);

/* Set 2 -> set 1 translation of the 8042 (its XLAT mode), also used by a
 * keyboard switched to set 1. Bytes 0x80 and up pass unchanged except
 * 0x83 (F7); the F0 break prefix is the caller's business. */
uint8_t ps2_xlat_set2_to_set1(uint8_t code);

extern const struct dev_state_desc ps2_kbd_state_desc;
extern const struct dev_state_desc ps2_mouse_state_desc;

#endif
