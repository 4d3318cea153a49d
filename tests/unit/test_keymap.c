/*
 * test_keymap.c — host keys to the guest (frontend/keymap.c): an SDL
 * scancode goes through keymap_from_sdl and the 8042 + PS/2 keyboard
 * (hw/i8042.c, hw/ps2.c) and must come out of port 0x60 as the scan
 * code charts say: set 2 with the 8042's translation off, set 1 with it
 * on (as a BIOS leaves it) and from a keyboard switched to set 1 (F0
 * 01), with the E0 prefix of the extended keys and the Pause and Print
 * Screen sequences. And the window's hot keys.
 */
#include <criterion/criterion.h>

#include "config.h"
#include "frontend/display.h"
#include "hw/i8042.h"

#if HAVE_SDL
#include <SDL_scancode.h>

struct kfx {
    struct io_space *io;
    struct vclock *clk;
    struct i8042 *c;
};

static void nop_irq(void *opaque, int n, int level)
{
    (void)opaque, (void)n, (void)level;
}

static void nop_a20(void *opaque, bool on)
{
    (void)opaque, (void)on;
}

static void nop_reset(void *opaque)
{
    (void)opaque;
}

static struct kfx kfx_new(void)
{
    struct kfx f;
    f.io = io_new();
    f.clk = vclock_new_manual();
    struct irq_line l1, l12;
    irq_connect(&l1, nop_irq, NULL, 1);
    irq_connect(&l12, nop_irq, NULL, 12);
    struct sysctl_callbacks cb = { nop_a20, nop_reset, NULL };
    f.c = i8042_new(f.io, f.clk, l1, l12, &cb);
    cr_assert_not_null(f.c);
    return f;
}

static void kfx_free(struct kfx *f)
{
    i8042_free(f->c);
    vclock_free(f->clk);
    io_free(f->io);
}

/* The 8042's command byte: XLAT on or off (IRQ 1 on either way). */
static void xlat(struct kfx *f, bool on)
{
    io_write(f->io, 0x64, 0x60, 1);
    io_write(f->io, 0x60, I8042_CMD_INT | (on ? I8042_CMD_XLAT : 0), 1);
}

/* Everything in the output buffer, as hex "e0 4d ...". */
static const char *drain(struct kfx *f)
{
    static char buf[256];
    size_t n = 0;
    buf[0] = '\0';
    while ((io_read(f->io, 0x64, 1) & I8042_STR_OBF) && n + 4 < sizeof(buf))
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%02x", n ? " " : "",
                              (unsigned)io_read(f->io, 0x60, 1));
    return buf;
}

/* Press and release of one SDL key. */
static const char *tap(struct kfx *f, int sdl)
{
    unsigned k = keymap_from_sdl(sdl);
    cr_assert_neq(k, 0, "SDL scancode %d has no Glass key", sdl);
    i8042_key_event(f->c, k, true);
    i8042_key_event(f->c, k, false);
    return drain(f);
}

#define TAP(f, sdl, want) cr_assert_str_eq(tap(f, sdl), want, "%s", #sdl)

Test(keymap, set_2_untranslated)
{
    struct kfx f = kfx_new();
    xlat(&f, false);
    TAP(&f, SDL_SCANCODE_A, "1c f0 1c");
    TAP(&f, SDL_SCANCODE_1, "16 f0 16");
    TAP(&f, SDL_SCANCODE_RETURN, "5a f0 5a");
    TAP(&f, SDL_SCANCODE_ESCAPE, "76 f0 76");
    TAP(&f, SDL_SCANCODE_F7, "83 f0 83");
    TAP(&f, SDL_SCANCODE_F12, "07 f0 07");
    TAP(&f, SDL_SCANCODE_LSHIFT, "12 f0 12");
    TAP(&f, SDL_SCANCODE_KP_7, "6c f0 6c");
    /* Extended keys: E0 before the make and before F0 in the break. */
    TAP(&f, SDL_SCANCODE_RCTRL, "e0 14 e0 f0 14");
    TAP(&f, SDL_SCANCODE_RALT, "e0 11 e0 f0 11");
    TAP(&f, SDL_SCANCODE_UP, "e0 75 e0 f0 75");
    TAP(&f, SDL_SCANCODE_KP_ENTER, "e0 5a e0 f0 5a");
    TAP(&f, SDL_SCANCODE_KP_DIVIDE, "e0 4a e0 f0 4a");
    TAP(&f, SDL_SCANCODE_LGUI, "e0 1f e0 f0 1f");
    TAP(&f, SDL_SCANCODE_APPLICATION, "e0 2f e0 f0 2f");
    /* Pause: one sequence on the press, nothing on the release. */
    TAP(&f, SDL_SCANCODE_PAUSE, "e1 14 77 e1 f0 14 f0 77");
    /* Print Screen: a fake shift around the key. */
    TAP(&f, SDL_SCANCODE_PRINTSCREEN, "e0 12 e0 7c e0 f0 7c e0 f0 12");
    kfx_free(&f);
}

Test(keymap, set_1_through_the_8042_translation)
{
    struct kfx f = kfx_new();
    xlat(&f, true);
    TAP(&f, SDL_SCANCODE_A, "1e 9e");
    TAP(&f, SDL_SCANCODE_Z, "2c ac");
    TAP(&f, SDL_SCANCODE_0, "0b 8b");
    TAP(&f, SDL_SCANCODE_SPACE, "39 b9");
    TAP(&f, SDL_SCANCODE_BACKSPACE, "0e 8e");
    TAP(&f, SDL_SCANCODE_F7, "41 c1");
    TAP(&f, SDL_SCANCODE_LCTRL, "1d 9d");
    TAP(&f, SDL_SCANCODE_RCTRL, "e0 1d e0 9d");
    TAP(&f, SDL_SCANCODE_LEFT, "e0 4b e0 cb");
    TAP(&f, SDL_SCANCODE_DELETE, "e0 53 e0 d3");
    TAP(&f, SDL_SCANCODE_KP_ENTER, "e0 1c e0 9c");
    TAP(&f, SDL_SCANCODE_PAUSE, "e1 1d 45 e1 9d c5");
    TAP(&f, SDL_SCANCODE_PRINTSCREEN, "e0 2a e0 37 e0 b7 e0 aa");
    TAP(&f, SDL_SCANCODE_NONUSBACKSLASH, "56 d6");
    TAP(&f, SDL_SCANCODE_INTERNATIONAL1, "73 f3");
    kfx_free(&f);
}

Test(keymap, set_1_from_the_keyboard_itself)
{
    struct kfx f = kfx_new();
    xlat(&f, false);
    io_write(f.io, 0x60, 0xf0, 1); /* select scan code set */
    drain(&f);
    io_write(f.io, 0x60, 0x01, 1);
    cr_assert_str_eq(drain(&f), "fa");
    TAP(&f, SDL_SCANCODE_A, "1e 9e");
    TAP(&f, SDL_SCANCODE_RIGHT, "e0 4d e0 cd");
    TAP(&f, SDL_SCANCODE_PAUSE, "e1 1d 45 e1 9d c5");
    TAP(&f, SDL_SCANCODE_PRINTSCREEN, "e0 2a e0 37 e0 b7 e0 aa");
    kfx_free(&f);
}

Test(keymap, keys_a_ps2_keyboard_lacks)
{
    cr_assert_eq(keymap_from_sdl(SDL_SCANCODE_UNKNOWN), 0);
    cr_assert_eq(keymap_from_sdl(SDL_SCANCODE_KP_EQUALS), 0);
    cr_assert_eq(keymap_from_sdl(SDL_SCANCODE_AUDIONEXT), 0);
    cr_assert_eq(keymap_from_sdl(SDL_SCANCODE_MODE), 0);
    cr_assert_eq(keymap_from_sdl(-1), 0);
    cr_assert_eq(keymap_from_sdl(SDL_NUM_SCANCODES), 0);
    /* Every key the keymap passes on is one the keyboard sends. */
    struct kfx f = kfx_new();
    xlat(&f, false);
    for (int s = 0; s < SDL_NUM_SCANCODES; s++) {
        unsigned k = keymap_from_sdl(s);
        if (!k)
            continue;
        i8042_key_event(f.c, k, true);
        cr_assert_neq(drain(&f)[0], '\0', "scancode %d (key %#x) sends nothing", s, k);
        i8042_key_event(f.c, k, false);
        drain(&f);
    }
    kfx_free(&f);
}

Test(keymap, hotkeys)
{
    cr_assert_eq(keymap_hotkey(SDL_SCANCODE_G, true, true), HOTKEY_GRAB);
    cr_assert_eq(keymap_hotkey(SDL_SCANCODE_F, true, true), HOTKEY_FULLSCREEN);
    cr_assert_eq(keymap_hotkey(SDL_SCANCODE_G, true, false), HOTKEY_NONE);
    cr_assert_eq(keymap_hotkey(SDL_SCANCODE_F, false, true), HOTKEY_NONE);
    cr_assert_eq(keymap_hotkey(SDL_SCANCODE_X, true, true), HOTKEY_NONE);
}
#endif
