/*
 * test_i8042.c — hw/i8042.c, hw/ps2.c and hw/port92.c through ports 0x60,
 * 0x64 and 0x92 on a bare io_space: controller commands, the command
 * byte, output-buffer arbitration, IRQ 1/12, XLAT, the keyboard's
 * commands and scan code sets, the mouse's commands and packets, A20 and
 * reset callbacks.
 */
#include <criterion/criterion.h>

#include "hw/i8042.h"

struct line {
    int level;
    int rises;
};

static void on_irq(void *opaque, int n, int level)
{
    struct line *l = opaque;
    (void)n;
    if (level && !l->level)
        l->rises++;
    l->level = level;
}

struct fx {
    struct io_space *io;
    struct vclock *clk;
    struct i8042 *c;
    struct port92 *p92;
    struct line irq1, irq12;
    int a20_calls, resets;
    bool a20;
};

static void cb_a20(void *opaque, bool on)
{
    struct fx *f = opaque;
    f->a20_calls++;
    f->a20 = on;
}

static void cb_reset(void *opaque)
{
    struct fx *f = opaque;
    f->resets++;
}

static void setup(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->io = io_new();
    struct irq_line l1, l12;
    irq_connect(&l1, on_irq, &f->irq1, 1);
    irq_connect(&l12, on_irq, &f->irq12, 12);
    struct sysctl_callbacks cb = { cb_a20, cb_reset, f };
    f->clk = vclock_new_manual();
    f->c = i8042_new(f->io, f->clk, l1, l12, &cb);
    f->p92 = port92_new(f->io, &cb);
    cr_assert_not_null(f->c);
    cr_assert_not_null(f->p92);
}

static void teardown(struct fx *f)
{
    port92_free(f->p92);
    i8042_free(f->c);
    vclock_free(f->clk);
    io_free(f->io);
}

static uint8_t st(struct fx *f)
{
    return (uint8_t)io_read(f->io, 0x64, 1);
}

static void cmd(struct fx *f, uint8_t v)
{
    io_write(f->io, 0x64, v, 1);
}

static void out(struct fx *f, uint8_t v)
{
    io_write(f->io, 0x60, v, 1);
}

/* Reads one byte, insisting that the buffer was full. */
static uint8_t in(struct fx *f)
{
    cr_assert(st(f) & I8042_STR_OBF, "output buffer empty");
    return (uint8_t)io_read(f->io, 0x60, 1);
}

static void expect(struct fx *f, const uint8_t *bytes, int n, int line)
{
    for (int i = 0; i < n; i++) {
        cr_assert(st(f) & I8042_STR_OBF, "line %d: output buffer empty at byte %d", line, i);
        uint8_t v = in(f);
        cr_assert_eq(v, bytes[i], "line %d byte %d: got %02x, want %02x", line, i, v, bytes[i]);
    }
    cr_assert_eq(st(f) & I8042_STR_OBF, 0, "line %d: extra bytes after %d", line, n);
}
#define EXPECT(f, ...)                                                                 \
    do {                                                                               \
        static const uint8_t want_[] = { __VA_ARGS__ };                                \
        expect(f, want_, (int)sizeof(want_), __LINE__);                                          \
    } while (0)

static void set_cmdbyte(struct fx *f, uint8_t v)
{
    cmd(f, 0x60);
    out(f, v);
}

Test(i8042, self_test_command_byte_and_status)
{
    struct fx f;
    setup(&f);
    cr_assert_eq(st(&f) & (I8042_STR_OBF | I8042_STR_INH), I8042_STR_INH);
    cmd(&f, 0xaa);
    cr_assert(st(&f) & I8042_STR_CMD);
    cr_assert(st(&f) & I8042_STR_SYS);
    EXPECT(&f, 0x55);
    cmd(&f, 0x20);
    EXPECT(&f, 0x45);
    set_cmdbyte(&f, 0x00);
    cr_assert_eq(st(&f) & (I8042_STR_CMD | I8042_STR_SYS), 0);
    cmd(&f, 0x20);
    EXPECT(&f, 0x00);
    /* Controller RAM bytes 1-31. */
    cmd(&f, 0x65);
    out(&f, 0x77);
    cmd(&f, 0x25);
    EXPECT(&f, 0x77);
    cmd(&f, 0xab);
    EXPECT(&f, 0x00);
    cmd(&f, 0xa9);
    EXPECT(&f, 0x00);
    cmd(&f, 0xc0);
    EXPECT(&f, 0xb0);
    cmd(&f, 0xa4);
    EXPECT(&f, 0xf1);
    teardown(&f);
}

Test(i8042, key_with_translation_raises_irq1)
{
    struct fx f;
    setup(&f);
    i8042_key_event(f.c, GK_A, true);
    cr_assert_eq(f.irq1.level, 1);
    cr_assert_eq(st(&f) & I8042_STR_AUXB, 0);
    i8042_key_event(f.c, GK_A, false);
    EXPECT(&f, 0x1e, 0x9e);
    cr_assert_eq(f.irq1.level, 0);
    cr_assert_eq(f.irq1.rises, 2, "a new edge for each byte");
    i8042_key_event(f.c, GK_RIGHT, true);
    i8042_key_event(f.c, GK_RIGHT, false);
    EXPECT(&f, 0xe0, 0x4d, 0xe0, 0xcd);
    i8042_key_event(f.c, GK_PAUSE, true);
    i8042_key_event(f.c, GK_PAUSE, false);
    EXPECT(&f, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
    i8042_key_event(f.c, GK_PRINTSCREEN, true);
    i8042_key_event(f.c, GK_PRINTSCREEN, false);
    EXPECT(&f, 0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa);
    i8042_key_event(f.c, GK_F7, true);
    EXPECT(&f, 0x41);
    /* INT off: data but no interrupt. */
    set_cmdbyte(&f, I8042_CMD_XLAT);
    i8042_key_event(f.c, GK_ESC, true);
    cr_assert_eq(f.irq1.level, 0);
    EXPECT(&f, 0x01);
    teardown(&f);
}

Test(i8042, set_2_without_translation_and_special_keys)
{
    struct fx f;
    setup(&f);
    set_cmdbyte(&f, I8042_CMD_INT);
    i8042_key_event(f.c, GK_A, true);
    i8042_key_event(f.c, GK_A, false);
    EXPECT(&f, 0x1c, 0xf0, 0x1c);
    i8042_key_event(f.c, GK_KP_ENTER, true);
    i8042_key_event(f.c, GK_KP_ENTER, false);
    EXPECT(&f, 0xe0, 0x5a, 0xe0, 0xf0, 0x5a);
    i8042_key_event(f.c, GK_PAUSE, true);
    i8042_key_event(f.c, GK_PAUSE, false); /* no break code */
    EXPECT(&f, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
    i8042_key_event(f.c, GK_KP_ENTER, false); /* not down: nothing */
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0);
    i8042_key_event(f.c, GK_LCTRL, true);
    i8042_key_event(f.c, GK_PAUSE, true);
    EXPECT(&f, 0x14, 0xe0, 0x7e, 0xe0, 0xf0, 0x7e);
    i8042_key_event(f.c, GK_LCTRL, false);
    i8042_key_event(f.c, GK_LALT, true);
    i8042_key_event(f.c, GK_PRINTSCREEN, true);
    i8042_key_event(f.c, GK_PRINTSCREEN, false);
    EXPECT(&f, 0xf0, 0x14, 0x11, 0x84, 0xf0, 0x84);
    i8042_key_event(f.c, 0x300, true); /* out of range: dropped */
    i8042_key_event(f.c, 0x01, true);  /* no such key */
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0);
    teardown(&f);
}

Test(i8042, keyboard_commands)
{
    struct fx f;
    setup(&f);
    out(&f, 0xff);
    EXPECT(&f, 0xfa, 0xaa);
    out(&f, 0xf2);
    EXPECT(&f, 0xfa, 0xab, 0x41); /* 83 through XLAT, as Linux expects */
    set_cmdbyte(&f, I8042_CMD_INT);
    out(&f, 0xf2);
    EXPECT(&f, 0xfa, 0xab, 0x83);
    out(&f, 0xed);
    EXPECT(&f, 0xfa);
    out(&f, 0x05);
    EXPECT(&f, 0xfa);
    cr_assert_eq(ps2_kbd_leds(i8042_kbd(f.c)), 5);
    out(&f, 0xee);
    EXPECT(&f, 0xee);
    out(&f, 0xf3);
    out(&f, 0x20);
    EXPECT(&f, 0xfa, 0xfa);
    out(&f, 0xf0);
    out(&f, 0x00);
    EXPECT(&f, 0xfa, 0xfa, 0x02);
    out(&f, 0x42); /* not a command */
    EXPECT(&f, 0xfe);
    out(&f, 0xfe); /* resend: the last byte sent */
    EXPECT(&f, 0xfe);
    /* Set 3: own codes, F0 breaks; F9 makes keys make-only. */
    out(&f, 0xf0);
    out(&f, 0x03);
    EXPECT(&f, 0xfa, 0xfa);
    cr_assert_eq(ps2_kbd_scancode_set(i8042_kbd(f.c)), 3);
    i8042_key_event(f.c, GK_ESC, true);
    i8042_key_event(f.c, GK_ESC, false);
    i8042_key_event(f.c, GK_LALT, true);
    EXPECT(&f, 0x08, 0xf0, 0x08, 0x19);
    out(&f, 0xf9);
    EXPECT(&f, 0xfa);
    i8042_key_event(f.c, GK_Q, true);
    i8042_key_event(f.c, GK_Q, true); /* repeat of a non-typematic key */
    i8042_key_event(f.c, GK_Q, false);
    EXPECT(&f, 0x15);
    /* FC: one key back to make/break. */
    out(&f, 0xfc);
    out(&f, 0x15);
    EXPECT(&f, 0xfa, 0xfa);
    i8042_key_event(f.c, GK_Q, true);
    i8042_key_event(f.c, GK_Q, false);
    EXPECT(&f, 0x15, 0xf0, 0x15);
    /* Set 1 natively. */
    out(&f, 0xf0);
    out(&f, 0x01);
    EXPECT(&f, 0xfa, 0xfa);
    i8042_key_event(f.c, GK_A, true);
    i8042_key_event(f.c, GK_A, false);
    EXPECT(&f, 0x1e, 0x9e);
    /* F5: no scanning; F4 back on. */
    out(&f, 0xf5);
    EXPECT(&f, 0xfa);
    i8042_key_event(f.c, GK_A, true);
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0);
    out(&f, 0xf4);
    EXPECT(&f, 0xfa);
    i8042_key_event(f.c, GK_A, false);
    EXPECT(&f, 0x9e);
    teardown(&f);
}

Test(i8042, keyboard_queue_overrun_and_disabled_clock)
{
    struct fx f;
    setup(&f);
    set_cmdbyte(&f, I8042_CMD_INT | I8042_CMD_DIS);
    /* Held B: make, then typematic repeats every 91.7 ms after 500 ms
     * (default rate 0x2B); 20 makes within 2.3 s. */
    i8042_key_event(f.c, GK_B, true);
    vclock_advance(f.clk, 2300000000ull);
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0, "clock disabled: nothing comes");
    cr_assert_eq(f.irq1.level, 0);
    cmd(&f, 0xae);
    cr_assert_eq(f.irq1.level, 1);
    /* 16 deep: 15 codes and the overrun code, the rest lost. */
    for (int i = 0; i < 15; i++)
        cr_assert_eq(in(&f), 0x32);
    EXPECT(&f, 0x00);
    teardown(&f);
}

Test(i8042, mouse_commands_packets_and_irq12)
{
    struct fx f;
    setup(&f);
    set_cmdbyte(&f, I8042_CMD_INT | I8042_CMD_INT2 | I8042_CMD_XLAT);
    cmd(&f, 0xa8);
    cmd(&f, 0xd4);
    out(&f, 0xff);
    cr_assert(st(&f) & I8042_STR_AUXB);
    cr_assert_eq(f.irq12.level, 1);
    cr_assert_eq(f.irq1.level, 0);
    EXPECT(&f, 0xfa, 0xaa, 0x00); /* mouse bytes are never translated */
    cr_assert_eq(f.irq12.level, 0);
    cmd(&f, 0xd4);
    out(&f, 0xf2);
    EXPECT(&f, 0xfa, 0x00);
    /* Motion before enabling is not reported. */
    i8042_mouse_event(f.c, 5, 5, 0, 0);
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0);
    cmd(&f, 0xd4);
    out(&f, 0xf4);
    EXPECT(&f, 0xfa);
    i8042_mouse_event(f.c, 5, 3, 0, PS2_BTN_LEFT);
    EXPECT(&f, 0x29, 0x05, 0xfd); /* dy down 3 = -3 in PS/2 */
    vclock_advance(f.clk, 100000000); /* past the sample period */
    i8042_mouse_event(f.c, -300, 0, 0, 0);
    EXPECT(&f, 0x18, 0x00, 0x00); /* -256 ... */
    vclock_advance(f.clk, 9999999);
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0, "one packet per 10 ms at 100/s");
    vclock_advance(f.clk, 1);
    EXPECT(&f, 0x18, 0xd4, 0x00); /* ... then -44 */
    vclock_advance(f.clk, 20000000);
    /* Status request. */
    cmd(&f, 0xd4);
    out(&f, 0xe9);
    EXPECT(&f, 0xfa, 0x20, 0x02, 100);
    /* IntelliMouse knock. */
    static const uint8_t knock[] = { 0xf3, 200, 0xf3, 100, 0xf3, 80, 0xf2 };
    for (unsigned i = 0; i < sizeof(knock); i++) {
        cmd(&f, 0xd4);
        out(&f, knock[i]);
    }
    EXPECT(&f, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0x03);
    vclock_advance(f.clk, 100000000); /* past the sample period */
    i8042_mouse_event(f.c, 0, 0, 2, PS2_BTN_RIGHT | PS2_BTN_MIDDLE);
    EXPECT(&f, 0x0e, 0x00, 0x00, 0x02);
    /* Bad sample rate, resolution, scaling 2:1. */
    cmd(&f, 0xd4);
    out(&f, 0xf3);
    cmd(&f, 0xd4);
    out(&f, 33);
    EXPECT(&f, 0xfa, 0xfe);
    cmd(&f, 0xd4);
    out(&f, 0xe8);
    cmd(&f, 0xd4);
    out(&f, 3);
    cmd(&f, 0xd4);
    out(&f, 0xe7);
    EXPECT(&f, 0xfa, 0xfa, 0xfa);
    vclock_advance(f.clk, 100000000); /* past the sample period */
    i8042_mouse_event(f.c, 4, 0, 0, 0);
    EXPECT(&f, 0x08, 0x06, 0x00, 0x00);
    /* Remote mode: nothing streams, READ DATA gets a packet. */
    cmd(&f, 0xd4);
    out(&f, 0xf0);
    EXPECT(&f, 0xfa);
    i8042_mouse_event(f.c, 1, 0, 0, 0);
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0);
    cmd(&f, 0xd4);
    out(&f, 0xeb);
    EXPECT(&f, 0xfa, 0x08, 0x01, 0x00, 0x00);
    /* Wrap mode echoes. */
    cmd(&f, 0xd4);
    out(&f, 0xee);
    cmd(&f, 0xd4);
    out(&f, 0x12);
    cmd(&f, 0xd4);
    out(&f, 0xec);
    EXPECT(&f, 0xfa, 0x12, 0xfa);
    teardown(&f);
}

Test(i8042, output_buffer_arbitration_and_aux_disable)
{
    struct fx f;
    setup(&f);
    set_cmdbyte(&f, I8042_CMD_INT | I8042_CMD_INT2);
    cmd(&f, 0xd4);
    out(&f, 0xf4);
    EXPECT(&f, 0xfa);
    cmd(&f, 0xa7); /* aux clock off: mouse bytes wait */
    cmd(&f, 0x20);
    EXPECT(&f, I8042_CMD_INT | I8042_CMD_INT2 | I8042_CMD_DIS2);
    i8042_mouse_event(f.c, 1, 0, 0, 0);
    i8042_key_event(f.c, GK_A, true);
    cr_assert_eq(in(&f), 0x1c);
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0);
    cmd(&f, 0xa8);
    cr_assert(st(&f) & I8042_STR_AUXB);
    cr_assert_eq(f.irq12.level, 1);
    EXPECT(&f, 0x08, 0x01, 0x00);
    /* D2 / D3: bytes as if from the keyboard / the mouse. */
    cmd(&f, 0xd2);
    out(&f, 0x99);
    cr_assert_eq(f.irq1.level, 1);
    cr_assert_eq(st(&f) & I8042_STR_AUXB, 0);
    EXPECT(&f, 0x99);
    cmd(&f, 0xd3);
    out(&f, 0x98);
    cr_assert_eq(f.irq12.level, 1);
    cr_assert(st(&f) & I8042_STR_AUXB);
    EXPECT(&f, 0x98);
    teardown(&f);
}

Test(i8042, output_port_a20_and_reset)
{
    struct fx f;
    setup(&f);
    cr_assert(i8042_a20(f.c));
    cmd(&f, 0xd0);
    /* Reset high, A20 on, keyboard data/clock lines idle high. */
    cr_assert_eq(in(&f) & 0xc3, 0xc3);
    cmd(&f, 0xd1);
    out(&f, 0x01); /* A20 off */
    cr_assert_eq(f.a20_calls, 1);
    cr_assert(!f.a20);
    cr_assert(!i8042_a20(f.c));
    cmd(&f, 0xdf);
    cr_assert(f.a20);
    cmd(&f, 0xdd);
    cr_assert(!f.a20);
    cr_assert_eq(f.a20_calls, 3);
    cr_assert_eq(f.resets, 0);
    cmd(&f, 0xfe);
    cr_assert_eq(f.resets, 1);
    cmd(&f, 0xff); /* pulses nothing */
    cr_assert_eq(f.resets, 1);
    cmd(&f, 0xd1);
    out(&f, 0x02); /* reset line low */
    cr_assert_eq(f.resets, 2);
    cr_assert(f.a20);
    teardown(&f);
}

Test(i8042, port92_a20_and_fast_reset)
{
    struct fx f;
    setup(&f);
    cr_assert_eq(io_read(f.io, 0x92, 1), 0);
    io_write(f.io, 0x92, 0x02, 1);
    cr_assert_eq(f.a20_calls, 1);
    cr_assert(f.a20);
    cr_assert(port92_a20(f.p92));
    cr_assert_eq(io_read(f.io, 0x92, 1), 0x02);
    io_write(f.io, 0x92, 0x03, 1);
    cr_assert_eq(f.resets, 1);
    io_write(f.io, 0x92, 0x03, 1); /* no new 0 -> 1 edge */
    cr_assert_eq(f.resets, 1);
    cr_assert_eq(f.a20_calls, 1);
    io_write(f.io, 0x92, 0x00, 1);
    cr_assert(!f.a20);
    teardown(&f);
}

Test(i8042, reset_restores_power_on_state)
{
    struct fx f;
    setup(&f);
    cmd(&f, 0xdd);
    set_cmdbyte(&f, I8042_CMD_INT | I8042_CMD_DIS);
    i8042_key_event(f.c, GK_A, true);
    out(&f, 0xf0);
    out(&f, 0x03);
    cr_assert_eq(f.irq1.level, 1);
    i8042_reset(f.c);
    cr_assert_eq(f.irq1.level, 0, "the buffer is emptied");
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0);
    cr_assert(i8042_a20(f.c));
    cr_assert_eq(ps2_kbd_scancode_set(i8042_kbd(f.c)), 2);
    cmd(&f, 0x20);
    EXPECT(&f, 0x45);
    i8042_key_event(f.c, GK_S, true);
    EXPECT(&f, 0x1f);
    i8042_key_event(f.c, GK_A, false); /* still down across the reset */
    EXPECT(&f, 0x9e);
    teardown(&f);
}

Test(i8042, typematic_repeat_at_the_f3_rate)
{
    struct fx f;
    setup(&f);
    out(&f, 0xf3);
    out(&f, 0x00); /* 250 ms delay, 30 characters/s (33.36 ms) */
    EXPECT(&f, 0xfa, 0xfa);
    i8042_key_event(f.c, GK_A, true);
    EXPECT(&f, 0x1e);
    vclock_advance(f.clk, 249000000);
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0);
    vclock_advance(f.clk, 1000000);
    EXPECT(&f, 0x1e);
    i8042_key_event(f.c, GK_A, true); /* host autorepeat: ignored */
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0);
    vclock_advance(f.clk, 33360000);
    EXPECT(&f, 0x1e);
    /* Another key takes over the repeat; releasing A does not stop it. */
    i8042_key_event(f.c, GK_B, true);
    i8042_key_event(f.c, GK_A, false);
    EXPECT(&f, 0x30, 0x9e);
    vclock_advance(f.clk, 250000000);
    EXPECT(&f, 0x30);
    i8042_key_event(f.c, GK_B, false);
    EXPECT(&f, 0xb0);
    vclock_advance(f.clk, 1000000000);
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0);
    /* Pause never repeats. */
    i8042_key_event(f.c, GK_PAUSE, true);
    EXPECT(&f, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
    vclock_advance(f.clk, 1000000000);
    cr_assert_eq(st(&f) & I8042_STR_OBF, 0);
    teardown(&f);
}
