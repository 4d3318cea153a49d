/*
 * hw/ps2.c — the PS/2 keyboard (IBM MF-II, as described in the IBM PS/2
 * Hardware Interface Technical Reference, "Keyboard and auxiliary device
 * controller" / "101/102-key keyboard") and the PS/2 mouse (same
 * reference, "Pointing device"; Microsoft IntelliMouse wheel extension).
 *
 * The keyboard's native code set is set 2. In set 1 it emits what the
 * 8042 would make of set 2 (the two are tied by that translation); set 3
 * has its own table and per-key make/break/typematic attributes (commands
 * F7-FD).
 */
#include <stdlib.h>
#include <string.h>

#include "hw/ps2.h"

/* Device responses (IBM reference, "Commands to the system"). */
#define PS2_ACK 0xfa
#define PS2_RESEND 0xfe
#define PS2_BAT_OK 0xaa
#define PS2_ECHO 0xee

/* ------------------------------------------------------------------ */
/* Shared byte queue                                                   */
/* ------------------------------------------------------------------ */

struct ps2_queue {
    uint8_t data[PS2_QUEUE_SIZE];
    uint8_t head;  /* index of the oldest byte */
    uint8_t count;
};

static void q_clear(struct ps2_queue *q)
{
    q->head = 0;
    q->count = 0;
}

static unsigned q_room(const struct ps2_queue *q)
{
    return PS2_QUEUE_SIZE - q->count;
}

static void q_put(struct ps2_queue *q, uint8_t v)
{
    if (q->count >= PS2_QUEUE_SIZE)
        return;
    q->data[(q->head + q->count) % PS2_QUEUE_SIZE] = v;
    q->count++;
}

static uint8_t q_get(struct ps2_queue *q)
{
    if (!q->count)
        return 0;
    uint8_t v = q->data[q->head];
    q->head = (uint8_t)((q->head + 1) % PS2_QUEUE_SIZE);
    q->count--;
    return v;
}

/* ------------------------------------------------------------------ */
/* Scan code tables                                                    */
/* ------------------------------------------------------------------ */

/*
 * The 8042's set 2 -> set 1 translation for 0x00-0x7F (IBM PC AT
 * Technical Reference, keyboard controller; the set 1 and set 2 charts of
 * the keyboard reference give the same pairs). 0x00 (overrun) becomes 0xFF.
 */
static const uint8_t xlat_tab[128] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

uint8_t ps2_xlat_set2_to_set1(uint8_t code)
{
    if (code < 0x80)
        return xlat_tab[code];
    if (code == 0x83) /* F7, the one set 2 code above 0x7F */
        return 0x41;
    if (code == 0x84) /* Alt+SysRq */
        return 0x54;
    return code;
}

/* A key's codes: set 2 make code (E0-prefixed when `e0`), set 3 code;
 * 0 = the key does not exist in that set. */
struct key_codes {
    uint8_t set2;
    uint8_t e0;
    uint8_t set3;
};

#define K2(s2, s3) { s2, 0, s3 }
#define KE(s2, s3) { s2, 1, s3 }
static const struct key_codes key_tab[256] = {
    [GK_A] = K2(0x1c, 0x1c), [GK_B] = K2(0x32, 0x32), [GK_C] = K2(0x21, 0x21),
    [GK_D] = K2(0x23, 0x23), [GK_E] = K2(0x24, 0x24), [GK_F] = K2(0x2b, 0x2b),
    [GK_G] = K2(0x34, 0x34), [GK_H] = K2(0x33, 0x33), [GK_I] = K2(0x43, 0x43),
    [GK_J] = K2(0x3b, 0x3b), [GK_K] = K2(0x42, 0x42), [GK_L] = K2(0x4b, 0x4b),
    [GK_M] = K2(0x3a, 0x3a), [GK_N] = K2(0x31, 0x31), [GK_O] = K2(0x44, 0x44),
    [GK_P] = K2(0x4d, 0x4d), [GK_Q] = K2(0x15, 0x15), [GK_R] = K2(0x2d, 0x2d),
    [GK_S] = K2(0x1b, 0x1b), [GK_T] = K2(0x2c, 0x2c), [GK_U] = K2(0x3c, 0x3c),
    [GK_V] = K2(0x2a, 0x2a), [GK_W] = K2(0x1d, 0x1d), [GK_X] = K2(0x22, 0x22),
    [GK_Y] = K2(0x35, 0x35), [GK_Z] = K2(0x1a, 0x1a),
    [GK_1] = K2(0x16, 0x16), [GK_2] = K2(0x1e, 0x1e), [GK_3] = K2(0x26, 0x26),
    [GK_4] = K2(0x25, 0x25), [GK_5] = K2(0x2e, 0x2e), [GK_6] = K2(0x36, 0x36),
    [GK_7] = K2(0x3d, 0x3d), [GK_8] = K2(0x3e, 0x3e), [GK_9] = K2(0x46, 0x46),
    [GK_0] = K2(0x45, 0x45),
    [GK_ENTER] = K2(0x5a, 0x5a), [GK_ESC] = K2(0x76, 0x08), [GK_BACKSPACE] = K2(0x66, 0x66),
    [GK_TAB] = K2(0x0d, 0x0d), [GK_SPACE] = K2(0x29, 0x29), [GK_MINUS] = K2(0x4e, 0x4e),
    [GK_EQUAL] = K2(0x55, 0x55), [GK_LBRACKET] = K2(0x54, 0x54), [GK_RBRACKET] = K2(0x5b, 0x5b),
    [GK_BACKSLASH] = K2(0x5d, 0x5c), [GK_NONUS_HASH] = K2(0x5d, 0x53),
    [GK_SEMICOLON] = K2(0x4c, 0x4c), [GK_APOSTROPHE] = K2(0x52, 0x52),
    [GK_GRAVE] = K2(0x0e, 0x0e), [GK_COMMA] = K2(0x41, 0x41), [GK_DOT] = K2(0x49, 0x49),
    [GK_SLASH] = K2(0x4a, 0x4a), [GK_CAPSLOCK] = K2(0x58, 0x14),
    [GK_F1] = K2(0x05, 0x07), [GK_F2] = K2(0x06, 0x0f), [GK_F3] = K2(0x04, 0x17),
    [GK_F4] = K2(0x0c, 0x1f), [GK_F5] = K2(0x03, 0x27), [GK_F6] = K2(0x0b, 0x2f),
    [GK_F7] = K2(0x83, 0x37), [GK_F8] = K2(0x0a, 0x3f), [GK_F9] = K2(0x01, 0x47),
    [GK_F10] = K2(0x09, 0x4f), [GK_F11] = K2(0x78, 0x56), [GK_F12] = K2(0x07, 0x5e),
    [GK_PRINTSCREEN] = KE(0x7c, 0x57), [GK_SCROLLLOCK] = K2(0x7e, 0x5f),
    [GK_PAUSE] = K2(0x77, 0x62), /* set 2: special sequence, see key_seq_set2 */
    [GK_INSERT] = KE(0x70, 0x67), [GK_HOME] = KE(0x6c, 0x6e), [GK_PAGEUP] = KE(0x7d, 0x6f),
    [GK_DELETE] = KE(0x71, 0x64), [GK_END] = KE(0x69, 0x65), [GK_PAGEDOWN] = KE(0x7a, 0x6d),
    [GK_RIGHT] = KE(0x74, 0x6a), [GK_LEFT] = KE(0x6b, 0x61), [GK_DOWN] = KE(0x72, 0x60),
    [GK_UP] = KE(0x75, 0x63),
    [GK_NUMLOCK] = K2(0x77, 0x76), [GK_KP_SLASH] = KE(0x4a, 0x77), [GK_KP_ASTERISK] = K2(0x7c, 0x7e),
    [GK_KP_MINUS] = K2(0x7b, 0x84), [GK_KP_PLUS] = K2(0x79, 0x7c), [GK_KP_ENTER] = KE(0x5a, 0x79),
    [GK_KP_1] = K2(0x69, 0x69), [GK_KP_2] = K2(0x72, 0x72), [GK_KP_3] = K2(0x7a, 0x7a),
    [GK_KP_4] = K2(0x6b, 0x6b), [GK_KP_5] = K2(0x73, 0x73), [GK_KP_6] = K2(0x74, 0x74),
    [GK_KP_7] = K2(0x6c, 0x6c), [GK_KP_8] = K2(0x75, 0x75), [GK_KP_9] = K2(0x7d, 0x7d),
    [GK_KP_0] = K2(0x70, 0x70), [GK_KP_DOT] = K2(0x71, 0x71),
    [GK_NONUS_BACKSLASH] = K2(0x61, 0x13), [GK_MENU] = KE(0x2f, 0x8d),
    [GK_INTL1] = K2(0x51, 0x51), [GK_INTL2] = K2(0x13, 0), [GK_INTL3] = K2(0x6a, 0x5d),
    [GK_INTL4] = K2(0x64, 0), [GK_INTL5] = K2(0x67, 0),
    [GK_LCTRL] = K2(0x14, 0x11), [GK_LSHIFT] = K2(0x12, 0x12), [GK_LALT] = K2(0x11, 0x19),
    [GK_LGUI] = KE(0x1f, 0x8b), [GK_RCTRL] = KE(0x14, 0x58), [GK_RSHIFT] = K2(0x59, 0x59),
    [GK_RALT] = KE(0x11, 0x39), [GK_RGUI] = KE(0x27, 0x8c),
};
#undef K2
#undef KE

/* ------------------------------------------------------------------ */
/* Keyboard                                                            */
/* ------------------------------------------------------------------ */

/* Set 3 key attributes (commands F7-FD). */
#define KA_BREAK 0x01
#define KA_TYPEMATIC 0x02

#define KBD_TYPEMATIC_DEFAULT 0x2b /* 10.9 characters/s after 500 ms */

struct ps2_kbd {
    void (*notify)(void *opaque);
    void *opaque;
    struct vclock *clk;
    struct vtimer *rep_timer; /* typematic repeat of rep_key */
    uint8_t rep_key;          /* the key repeating (last typematic make), or 0 */
    struct ps2_queue q;
    uint8_t set;         /* 1, 2 or 3 */
    bool scanning;       /* F4/F5 */
    uint8_t leds;
    uint8_t typematic;   /* F3 parameter */
    uint8_t pending;     /* command waiting for its parameter, or 0 */
    uint8_t last_sent;   /* for FE (resend) */
    uint8_t modifiers;   /* bit per GK_LCTRL..GK_RGUI held */
    uint8_t pressed[32]; /* bitmap by keycode, to tell repeats */
    uint8_t attr3[256];  /* KA_* per set 3 code */
};

#define KF(name, type, member, count) { name, type, offsetof(struct ps2_kbd, member), count }
static const struct dev_field ps2_kbd_fields[] = {
    KF("queue", DEV_FIELD_BYTES, q.data, PS2_QUEUE_SIZE),
    KF("queue_head", DEV_FIELD_U8, q.head, 1),
    KF("queue_count", DEV_FIELD_U8, q.count, 1),
    KF("set", DEV_FIELD_U8, set, 1),
    KF("scanning", DEV_FIELD_BOOL, scanning, 1),
    KF("leds", DEV_FIELD_U8, leds, 1),
    KF("typematic", DEV_FIELD_U8, typematic, 1),
    KF("pending", DEV_FIELD_U8, pending, 1),
    KF("last_sent", DEV_FIELD_U8, last_sent, 1),
    KF("modifiers", DEV_FIELD_U8, modifiers, 1),
    KF("pressed", DEV_FIELD_BYTES, pressed, 32),
    KF("attr3", DEV_FIELD_BYTES, attr3, 256),
    KF("rep_key", DEV_FIELD_U8, rep_key, 1),
    KF("rep_timer", DEV_FIELD_TIMER, rep_timer, 1),
    { NULL, 0, 0, 0 },
};
#undef KF
const struct dev_state_desc ps2_kbd_state_desc = { "ps2-kbd", 1, ps2_kbd_fields };

static void kbd_notify(struct ps2_kbd *k)
{
    if (k->q.count && k->notify)
        k->notify(k->opaque);
}

/* Responses to commands go in whatever the key data did. */
static void kbd_put(struct ps2_kbd *k, uint8_t v)
{
    q_put(&k->q, v);
}

/* "Set default" (F6): typematic rate and set 3 key types. */
static void kbd_defaults(struct ps2_kbd *k)
{
    /* ... and forgets the last typematic key. */
    k->rep_key = 0;
    if (k->rep_timer)
        vtimer_cancel(k->rep_timer);
    k->typematic = KBD_TYPEMATIC_DEFAULT;
    memset(k->attr3, KA_BREAK | KA_TYPEMATIC, sizeof(k->attr3));
    /* `pressed` is the keys' physical state: no command changes it. */
}

void ps2_kbd_reset(struct ps2_kbd *k)
{
    q_clear(&k->q);
    kbd_defaults(k);
    k->set = 2;
    k->scanning = true;
    k->leds = 0;
    k->pending = 0;
    k->modifiers = 0;
}

static void kbd_repeat(void *opaque);

struct ps2_kbd *ps2_kbd_new(struct vclock *clk, void (*notify)(void *opaque), void *opaque)
{
    struct ps2_kbd *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->notify = notify;
    k->opaque = opaque;
    k->clk = clk;
    k->rep_timer = vtimer_new(clk, kbd_repeat, k);
    if (!k->rep_timer) {
        free(k);
        return NULL;
    }
    ps2_kbd_reset(k);
    return k;
}

void ps2_kbd_free(struct ps2_kbd *k)
{
    if (!k)
        return;
    vtimer_free(k->rep_timer);
    free(k);
}

bool ps2_kbd_has_data(const struct ps2_kbd *k)
{
    return k->q.count != 0;
}

uint8_t ps2_kbd_read(struct ps2_kbd *k)
{
    if (!k->q.count)
        return k->last_sent;
    k->last_sent = q_get(&k->q);
    return k->last_sent;
}

uint8_t ps2_kbd_leds(const struct ps2_kbd *k)
{
    return k->leds;
}

unsigned ps2_kbd_scancode_set(const struct ps2_kbd *k)
{
    return k->set;
}

/* The parameter of ED, F0, F3, FB-FD. Returns false if `val` is not a
 * parameter but a new command (IBM reference: a command byte received
 * in place of a parameter cancels the pending command). */
static bool kbd_param(struct ps2_kbd *k, uint8_t cmd, uint8_t val)
{
    switch (cmd) {
    case 0xed: /* Set/reset LEDs: bit 0 Scroll, 1 Num, 2 Caps */
        if (val & 0xf8)
            return false;
        k->leds = val;
        kbd_put(k, PS2_ACK);
        return true;
    case 0xf0: /* Select alternate scan codes */
        if (val > 3)
            return false;
        kbd_put(k, PS2_ACK);
        if (val == 0)
            kbd_put(k, k->set);
        else
            k->set = val;
        return true;
    case 0xf3: /* Set typematic rate/delay */
        if (val & 0x80)
            return false;
        k->typematic = val;
        kbd_put(k, PS2_ACK);
        return true;
    case 0xfb: case 0xfc: case 0xfd: /* set one key's type (set 3) */
        if (val >= 0xed)
            return false;
        k->attr3[val] = cmd == 0xfb ? KA_TYPEMATIC : cmd == 0xfc ? KA_BREAK : 0;
        kbd_put(k, PS2_ACK);
        k->pending = cmd; /* a list of keys follows, until a command */
        return true;
    }
    return false;
}

void ps2_kbd_write(struct ps2_kbd *k, uint8_t val)
{
    uint8_t cmd = k->pending;
    k->pending = 0;
    if (cmd && kbd_param(k, cmd, val)) {
        kbd_notify(k);
        return;
    }
    switch (val) {
    case 0xed: case 0xf0: case 0xf3: case 0xfb: case 0xfc: case 0xfd:
        kbd_put(k, PS2_ACK);
        k->pending = val;
        break;
    case 0xee: /* Echo */
        kbd_put(k, PS2_ECHO);
        break;
    case 0xf2: /* Read ID: MF-II keyboard */
        kbd_put(k, PS2_ACK);
        kbd_put(k, 0xab);
        kbd_put(k, 0x83);
        break;
    case 0xf4: /* Enable: clears the buffer and the typematic key, scans */
        q_clear(&k->q);
        k->rep_key = 0;
        vtimer_cancel(k->rep_timer);
        k->scanning = true;
        kbd_put(k, PS2_ACK);
        break;
    case 0xf5: /* Default disable */
        q_clear(&k->q);
        kbd_defaults(k);
        k->scanning = false;
        kbd_put(k, PS2_ACK);
        break;
    case 0xf6: /* Set default */
        q_clear(&k->q);
        kbd_defaults(k);
        k->scanning = true;
        kbd_put(k, PS2_ACK);
        break;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa: { /* all keys' types (set 3) */
        static const uint8_t all[4] = { KA_TYPEMATIC, KA_BREAK, 0, KA_BREAK | KA_TYPEMATIC };
        memset(k->attr3, all[val - 0xf7], sizeof(k->attr3));
        kbd_put(k, PS2_ACK);
        break;
    }
    case 0xfe: /* Resend */
        kbd_put(k, k->last_sent);
        break;
    case 0xff: /* Reset: ACK, basic assurance test, AA */
        ps2_kbd_reset(k);
        kbd_put(k, PS2_ACK);
        kbd_put(k, PS2_BAT_OK);
        break;
    default:
        kbd_put(k, PS2_RESEND); /* not a command: ask again */
        break;
    }
    kbd_notify(k);
}

/* Queues a whole scan code sequence, or an overrun code if it does not
 * fit (the keyboard's buffer-overrun rule: 00 in sets 2 and 3, FF in 1). */
static void kbd_send_seq(struct ps2_kbd *k, const uint8_t *seq, unsigned n)
{
    uint8_t out[16];
    unsigned m = 0;
    if (k->set == 1) {
        /* Set 1 is set 2 through the translation: F0 x -> x | 0x80. */
        bool brk = false;
        for (unsigned i = 0; i < n; i++) {
            if (seq[i] == 0xf0) {
                brk = true;
                continue;
            }
            out[m++] = (uint8_t)(ps2_xlat_set2_to_set1(seq[i]) | (brk ? 0x80 : 0));
            brk = false;
        }
    } else {
        memcpy(out, seq, n);
        m = n;
    }
    /* The last place of the buffer is kept for the overrun code. */
    if (q_room(&k->q) <= m) {
        if (q_room(&k->q) > 0)
            q_put(&k->q, k->set == 1 ? 0xff : 0x00);
        return;
    }
    for (unsigned i = 0; i < m; i++)
        q_put(&k->q, out[i]);
}

#define MOD_CTRL ((1u << 0) | (1u << 4))
#define MOD_SHIFT ((1u << 1) | (1u << 5))
#define MOD_ALT ((1u << 2) | (1u << 6))

/* Set 2 bytes of a key transition (IBM reference, "Scan code set 2",
 * including the PrintScreen and Pause rules). Returns the length. */
static unsigned key_seq_set2(const struct ps2_kbd *k, unsigned key, bool pressed, uint8_t *seq)
{
    const struct key_codes *kc = &key_tab[key];
    unsigned n = 0;
    if (key == GK_PAUSE) {
        if (!pressed)
            return 0; /* Pause has no break code */
        if (k->modifiers & MOD_CTRL) { /* Ctrl+Pause = Break */
            static const uint8_t brk[] = { 0xe0, 0x7e, 0xe0, 0xf0, 0x7e };
            memcpy(seq, brk, sizeof(brk));
            return sizeof(brk);
        }
        static const uint8_t pause[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
        memcpy(seq, pause, sizeof(pause));
        return sizeof(pause);
    }
    if (key == GK_PRINTSCREEN) {
        if (k->modifiers & MOD_ALT) { /* Alt+PrintScreen = SysRq */
            if (!pressed)
                seq[n++] = 0xf0;
            seq[n++] = 0x84;
            return n;
        }
        if (!(k->modifiers & (MOD_CTRL | MOD_SHIFT))) {
            /* Alone it carries a fake left shift around E0 7C. */
            static const uint8_t make[] = { 0xe0, 0x12, 0xe0, 0x7c };
            static const uint8_t brk[] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };
            memcpy(seq, pressed ? make : brk, pressed ? sizeof(make) : sizeof(brk));
            return pressed ? sizeof(make) : sizeof(brk);
        }
    }
    if (kc->e0)
        seq[n++] = 0xe0;
    if (!pressed)
        seq[n++] = 0xf0;
    seq[n++] = kc->set2;
    return n;
}

/* Typematic delay and period from the F3 byte (IBM reference, "Set
 * typematic rate/delay"): delay (1 + C) * 250 ms with C = bits 6-5;
 * period (8 + A) * 2^B * 4.17 ms with A = bits 2-0, B = bits 4-3. */
static uint64_t typematic_delay_ns(const struct ps2_kbd *k)
{
    return (uint64_t)(((k->typematic >> 5) & 3) + 1) * 250000000ull;
}

static uint64_t typematic_period_ns(const struct ps2_kbd *k)
{
    return (uint64_t)(8 + (k->typematic & 7)) * (1u << ((k->typematic >> 3) & 3)) * 4170000ull;
}

/* The scan codes of one transition in the current set; 0 = nothing. */
static unsigned key_seq(const struct ps2_kbd *k, unsigned key, bool pressed, uint8_t *seq)
{
    if (k->set != 3)
        return key_seq_set2(k, key, pressed, seq);
    uint8_t c = key_tab[key].set3;
    unsigned n = 0;
    if (!c || (!pressed && !(k->attr3[c] & KA_BREAK)))
        return 0;
    if (!pressed)
        seq[n++] = 0xf0;
    seq[n++] = c;
    return n;
}

static bool key_typematic(const struct ps2_kbd *k, unsigned key)
{
    if (key == GK_PAUSE)
        return false; /* Pause has no typematic action */
    if (k->set == 3)
        return key_tab[key].set3 && (k->attr3[key_tab[key].set3] & KA_TYPEMATIC);
    return true;
}

static void kbd_repeat(void *opaque)
{
    struct ps2_kbd *k = opaque;
    uint8_t seq[8];
    unsigned key = k->rep_key;
    if (!key || !k->scanning)
        return;
    unsigned n = key_seq(k, key, true, seq);
    if (n) {
        kbd_send_seq(k, seq, n);
        kbd_notify(k);
    }
    vtimer_arm(k->rep_timer, vclock_ns(k->clk) + typematic_period_ns(k));
}

/*
 * The keyboard makes its own typematic repeats (only the last key pressed
 * repeats, until it is released or another key goes down), so a press of
 * a key that is already down (a host autorepeat) is ignored.
 */
void ps2_kbd_key_event(struct ps2_kbd *k, unsigned key, bool pressed)
{
    if (key >= 256 || !key_tab[key].set2)
        return;
    bool was_down = (k->pressed[key / 8] >> (key % 8)) & 1;
    if (pressed == was_down)
        return;
    if (pressed)
        k->pressed[key / 8] |= (uint8_t)(1u << (key % 8));
    else
        k->pressed[key / 8] &= (uint8_t)~(1u << (key % 8));
    if (key >= GK_LCTRL && key <= GK_RGUI) {
        uint8_t bit = (uint8_t)(1u << (key - GK_LCTRL));
        k->modifiers = pressed ? (k->modifiers | bit) : (k->modifiers & (uint8_t)~bit);
    }
    if (!k->scanning)
        return;
    if (pressed) {
        k->rep_key = 0;
        vtimer_cancel(k->rep_timer);
        if (key_typematic(k, key)) {
            k->rep_key = (uint8_t)key;
            vtimer_arm(k->rep_timer, vclock_ns(k->clk) + typematic_delay_ns(k));
        }
    } else if (k->rep_key == key) {
        k->rep_key = 0;
        vtimer_cancel(k->rep_timer);
    }
    uint8_t seq[8];
    unsigned n = key_seq(k, key, pressed, seq);
    if (n) {
        kbd_send_seq(k, seq, n);
        kbd_notify(k);
    }
}

/* ------------------------------------------------------------------ */
/* Mouse                                                               */
/* ------------------------------------------------------------------ */

struct ps2_mouse {
    void (*notify)(void *opaque);
    void *opaque;
    struct vclock *clk;
    struct vtimer *rate_timer; /* the next sample slot, when motion waits */
    uint64_t next_report_ns;   /* no stream packet before this time */
    struct ps2_queue q;
    bool remote;        /* F0 remote / EA stream */
    bool reporting;     /* F4/F5 */
    bool wrap;          /* EE/EC */
    bool scaling21;     /* E7/E6 */
    uint8_t resolution; /* E8: 0-3 = 1, 2, 4, 8 counts/mm */
    uint8_t rate;       /* F3: samples/s */
    uint8_t id;         /* 0, 3 (wheel), 4 (wheel + buttons 4/5) */
    uint8_t pending;
    uint8_t last_sent;
    uint8_t buttons;    /* PS2_BTN_* held now */
    uint8_t sent_buttons;
    uint8_t rates[3];   /* last three sample rates, newest last */
    int32_t dx, dy, dz; /* motion not yet reported (dy up-positive) */
};

#define MF(name, type, member, count) { name, type, offsetof(struct ps2_mouse, member), count }
static const struct dev_field ps2_mouse_fields[] = {
    MF("queue", DEV_FIELD_BYTES, q.data, PS2_QUEUE_SIZE),
    MF("queue_head", DEV_FIELD_U8, q.head, 1),
    MF("queue_count", DEV_FIELD_U8, q.count, 1),
    MF("remote", DEV_FIELD_BOOL, remote, 1),
    MF("reporting", DEV_FIELD_BOOL, reporting, 1),
    MF("wrap", DEV_FIELD_BOOL, wrap, 1),
    MF("scaling21", DEV_FIELD_BOOL, scaling21, 1),
    MF("resolution", DEV_FIELD_U8, resolution, 1),
    MF("rate", DEV_FIELD_U8, rate, 1),
    MF("id", DEV_FIELD_U8, id, 1),
    MF("pending", DEV_FIELD_U8, pending, 1),
    MF("last_sent", DEV_FIELD_U8, last_sent, 1),
    MF("buttons", DEV_FIELD_U8, buttons, 1),
    MF("sent_buttons", DEV_FIELD_U8, sent_buttons, 1),
    MF("rates", DEV_FIELD_BYTES, rates, 3),
    MF("dx", DEV_FIELD_U32, dx, 1),
    MF("dy", DEV_FIELD_U32, dy, 1),
    MF("dz", DEV_FIELD_U32, dz, 1),
    MF("next_report_ns", DEV_FIELD_U64, next_report_ns, 1),
    MF("rate_timer", DEV_FIELD_TIMER, rate_timer, 1),
    { NULL, 0, 0, 0 },
};
#undef MF
const struct dev_state_desc ps2_mouse_state_desc = { "ps2-mouse", 1, ps2_mouse_fields };

/* Set defaults (F6): 100 samples/s, 4 counts/mm, 1:1, stream, disabled. */
static void mouse_defaults(struct ps2_mouse *m)
{
    if (m->rate_timer)
        vtimer_cancel(m->rate_timer);
    m->next_report_ns = 0;
    m->remote = false;
    m->reporting = false;
    m->scaling21 = false;
    m->resolution = 2;
    m->rate = 100;
    m->dx = m->dy = m->dz = 0;
    m->sent_buttons = m->buttons;
}

void ps2_mouse_reset(struct ps2_mouse *m)
{
    q_clear(&m->q);
    mouse_defaults(m);
    m->wrap = false;
    m->id = 0;
    m->pending = 0;
    memset(m->rates, 0, sizeof(m->rates));
}

static void mouse_rate_fire(void *opaque);

struct ps2_mouse *ps2_mouse_new(struct vclock *clk, void (*notify)(void *opaque), void *opaque)
{
    struct ps2_mouse *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->notify = notify;
    m->opaque = opaque;
    m->clk = clk;
    m->rate_timer = vtimer_new(clk, mouse_rate_fire, m);
    if (!m->rate_timer) {
        free(m);
        return NULL;
    }
    ps2_mouse_reset(m);
    return m;
}

void ps2_mouse_free(struct ps2_mouse *m)
{
    if (!m)
        return;
    vtimer_free(m->rate_timer);
    free(m);
}

bool ps2_mouse_has_data(const struct ps2_mouse *m)
{
    return m->q.count != 0;
}

uint8_t ps2_mouse_id(const struct ps2_mouse *m)
{
    return m->id;
}

static unsigned packet_len(const struct ps2_mouse *m)
{
    return m->id ? 4 : 3;
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* 2:1 scaling of stream reports (IBM reference, "Scaling"). */
static int scale21(int v)
{
    static const int8_t tab[6] = { 0, 1, 1, 3, 6, 9 };
    int a = v < 0 ? -v : v;
    int s = a < 6 ? tab[a] : 2 * a;
    return v < 0 ? -s : s;
}

/* One movement data packet; the reported motion leaves the counters,
 * the rest stays for the next packet (9-bit counters, no overflow). */
static void mouse_packet(struct ps2_mouse *m, bool stream)
{
    int dx = clamp(m->dx, -256, 255), dy = clamp(m->dy, -256, 255), dz = clamp(m->dz, -8, 7);
    m->dx -= dx;
    m->dy -= dy;
    m->dz -= dz;
    if (stream && m->scaling21) {
        dx = clamp(scale21(dx), -256, 255);
        dy = clamp(scale21(dy), -256, 255);
    }
    uint8_t b0 = 0x08 | (m->buttons & PS2_BTN_LEFT ? 0x01 : 0) |
                 (m->buttons & PS2_BTN_RIGHT ? 0x02 : 0) | (m->buttons & PS2_BTN_MIDDLE ? 0x04 : 0);
    if (dx < 0)
        b0 |= 0x10;
    if (dy < 0)
        b0 |= 0x20;
    q_put(&m->q, b0);
    q_put(&m->q, (uint8_t)dx);
    q_put(&m->q, (uint8_t)dy);
    if (m->id == 3) {
        q_put(&m->q, (uint8_t)dz);
    } else if (m->id == 4) {
        q_put(&m->q, (uint8_t)((dz & 0x0f) | (m->buttons & PS2_BTN_4 ? 0x10 : 0) |
                               (m->buttons & PS2_BTN_5 ? 0x20 : 0)));
    } else {
        m->dz = 0; /* a 3-byte mouse has no wheel */
    }
    m->sent_buttons = m->buttons;
}

static bool mouse_news(const struct ps2_mouse *m)
{
    return m->dx || m->dy || (m->id && m->dz) || m->buttons != m->sent_buttons;
}

/* Stream mode: one packet per sample period at most (F3 sets the rate);
 * motion in between accumulates and goes at the next sample slot, or
 * once the queue has room. */
static void mouse_flush(struct ps2_mouse *m)
{
    if (m->remote || !m->reporting || m->wrap || !mouse_news(m))
        return;
    if (q_room(&m->q) < packet_len(m))
        return; /* ps2_mouse_read calls again when the queue drains */
    uint64_t now = vclock_ns(m->clk);
    if (now < m->next_report_ns) {
        if (!vtimer_armed(m->rate_timer))
            vtimer_arm(m->rate_timer, m->next_report_ns);
        return;
    }
    mouse_packet(m, true);
    m->next_report_ns = now + NS_PER_SEC / (m->rate ? m->rate : 100);
    if (mouse_news(m))
        vtimer_arm(m->rate_timer, m->next_report_ns);
}

static void mouse_rate_fire(void *opaque)
{
    struct ps2_mouse *m = opaque;
    unsigned before = m->q.count;
    mouse_flush(m);
    if (m->q.count != before && m->notify)
        m->notify(m->opaque);
}

uint8_t ps2_mouse_read(struct ps2_mouse *m)
{
    if (!m->q.count)
        return m->last_sent;
    m->last_sent = q_get(&m->q);
    /* Room was made: pending motion may go now (no notify: the
     * controller is the caller and pulls again when it can). */
    if (!m->q.count)
        mouse_flush(m);
    return m->last_sent;
}

void ps2_mouse_event(struct ps2_mouse *m, int dx, int dy, int dz, unsigned buttons)
{
    /* Bounded accumulation: a flood of host motion cannot overflow. */
    m->dx = clamp(m->dx + clamp(dx, -65536, 65536), -65536, 65536);
    m->dy = clamp(m->dy - clamp(dy, -65536, 65536), -65536, 65536);
    m->dz = clamp(m->dz + clamp(dz, -256, 256), -256, 256);
    m->buttons = (uint8_t)(buttons & 0x1f);
    unsigned before = m->q.count;
    mouse_flush(m);
    if (m->q.count != before && m->notify)
        m->notify(m->opaque);
}

static void mouse_put(struct ps2_mouse *m, uint8_t v)
{
    q_put(&m->q, v);
}

/* The IntelliMouse "knock": sample rates 200, 100, 80 turn on the wheel
 * (ID 3); then 200, 200, 80 the fourth and fifth buttons (ID 4). */
static void mouse_knock(struct ps2_mouse *m, uint8_t rate)
{
    m->rates[0] = m->rates[1];
    m->rates[1] = m->rates[2];
    m->rates[2] = rate;
    if (m->rates[0] == 200 && m->rates[1] == 100 && m->rates[2] == 80 && m->id == 0)
        m->id = 3;
    else if (m->rates[0] == 200 && m->rates[1] == 200 && m->rates[2] == 80 && m->id == 3)
        m->id = 4;
}

void ps2_mouse_write(struct ps2_mouse *m, uint8_t val)
{
    uint8_t cmd = m->pending;
    m->pending = 0;
    if (cmd == 0xf3) {
        /* Valid rates: 10, 20, 40, 60, 80, 100, 200 (IBM reference). */
        if (val == 10 || val == 20 || val == 40 || val == 60 || val == 80 || val == 100 || val == 200) {
            m->rate = val;
            mouse_knock(m, val);
            mouse_put(m, PS2_ACK);
        } else {
            mouse_put(m, PS2_RESEND);
        }
        goto out;
    }
    if (cmd == 0xe8) {
        if (val <= 3) {
            m->resolution = val;
            mouse_put(m, PS2_ACK);
        } else {
            mouse_put(m, PS2_RESEND);
        }
        goto out;
    }
    if (m->wrap && val != 0xec && val != 0xff) {
        mouse_put(m, val); /* wrap mode echoes every other byte */
        goto out;
    }
    switch (val) {
    case 0xe6: /* Reset scaling (1:1) */
        m->scaling21 = false;
        mouse_put(m, PS2_ACK);
        break;
    case 0xe7: /* Set scaling 2:1 */
        m->scaling21 = true;
        mouse_put(m, PS2_ACK);
        break;
    case 0xe8: /* Set resolution */
    case 0xf3: /* Set sampling rate */
        m->pending = val;
        mouse_put(m, PS2_ACK);
        break;
    case 0xe9: { /* Status request */
        uint8_t s = (uint8_t)((m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
                              (m->scaling21 ? 0x10 : 0) | (m->buttons & PS2_BTN_LEFT ? 0x04 : 0) |
                              (m->buttons & PS2_BTN_MIDDLE ? 0x02 : 0) |
                              (m->buttons & PS2_BTN_RIGHT ? 0x01 : 0));
        mouse_put(m, PS2_ACK);
        mouse_put(m, s);
        mouse_put(m, m->resolution);
        mouse_put(m, m->rate);
        break;
    }
    case 0xea: /* Set stream mode */
        m->remote = false;
        m->dx = m->dy = m->dz = 0;
        mouse_put(m, PS2_ACK);
        break;
    case 0xeb: /* Read data: a packet even without motion */
        mouse_put(m, PS2_ACK);
        if (q_room(&m->q) >= packet_len(m))
            mouse_packet(m, false);
        break;
    case 0xec: /* Reset wrap mode */
        m->wrap = false;
        mouse_put(m, PS2_ACK);
        break;
    case 0xee: /* Set wrap mode */
        m->wrap = true;
        mouse_put(m, PS2_ACK);
        break;
    case 0xf0: /* Set remote mode */
        m->remote = true;
        m->dx = m->dy = m->dz = 0;
        mouse_put(m, PS2_ACK);
        break;
    case 0xf2: /* Read device type */
        mouse_put(m, PS2_ACK);
        mouse_put(m, m->id);
        break;
    case 0xf4: /* Enable */
        m->reporting = true;
        m->dx = m->dy = m->dz = 0;
        m->sent_buttons = m->buttons;
        mouse_put(m, PS2_ACK);
        break;
    case 0xf5: /* Disable */
        m->reporting = false;
        mouse_put(m, PS2_ACK);
        break;
    case 0xf6: /* Set default */
        mouse_defaults(m);
        mouse_put(m, PS2_ACK);
        break;
    case 0xfe: /* Resend */
        mouse_put(m, m->last_sent);
        break;
    case 0xff: /* Reset: ACK, BAT passed (AA), ID 00 */
        ps2_mouse_reset(m);
        mouse_put(m, PS2_ACK);
        mouse_put(m, PS2_BAT_OK);
        mouse_put(m, 0x00);
        break;
    default:
        mouse_put(m, PS2_RESEND);
        break;
    }
out:
    if (m->q.count && m->notify)
        m->notify(m->opaque);
}
