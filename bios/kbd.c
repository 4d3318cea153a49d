/* bios/kbd.c — 8042 keyboard controller set-up, the IRQ1 handler (scancode
 * set 1, as the 8042 translates it, to the BDA buffer of scan/ASCII words)
 * and INT 16h. Key codes follow the IBM PC AT Technical Reference keyboard
 * tables (RBIL INT 16h lists the same codes). */
#include "bios.h"

/* Shift-state bits, BDA 0x417 and 0x418. */
#define KF_RSHIFT 0x01
#define KF_LSHIFT 0x02
#define KF_CTRL   0x04
#define KF_ALT    0x08
#define KF_SCROLL 0x10
#define KF_NUM    0x20
#define KF_CAPS   0x40
#define KF_INS    0x80

static bool kbc_wait_write(void)
{
    for (int i = 0; i < 100000; i++) {
        if (!(inb(0x64) & 0x02)) return true;
        io_delay();
    }
    return false;
}

static int kbc_read(void)
{
    for (int i = 0; i < 200000; i++) {
        if (inb(0x64) & 0x01) return inb(0x60);
        io_delay();
    }
    return -1;
}

static void kbc_cmd(uint8_t c) { kbc_wait_write(); outb(0x64, c); }
static void kbc_data(uint8_t d) { kbc_wait_write(); outb(0x60, d); }

/* ---------------------------------------------------------------- PS/2 aux */

/* EBDA bytes of the pointing-device interface (shared with entry.asm). */
#define EBDA_MOUSE_HANDLER 0x22
#define EBDA_MOUSE_FLAGS   0x26     /* bits 2-0 packet index, 7 enabled */
#define EBDA_MOUSE_SIZE    0x27

static uint8_t *ebda(void) { return ptr(lin(EBDA_SEG, 0)); }

/* One byte to the auxiliary device (8042 command D4h) and its answer,
 * with the keyboard interface and IRQ12 off so nothing else interleaves.
 * Returns the byte or -1. */
static uint8_t kbc_cmdbyte = 0x65;

static void kbc_set_cmdbyte(uint8_t v)
{
    kbc_cmdbyte = v;
    kbc_cmd(0x60);
    kbc_data(v);
}

static int aux_read(void)
{
    for (int i = 0; i < 200000; i++) {
        uint8_t st = inb(0x64);
        if ((st & 0x21) == 0x21) return inb(0x60);
        if (st & 0x01) (void)inb(0x60);         /* keyboard byte: dropped */
        io_delay();
    }
    return -1;
}

static int aux_send(uint8_t b)
{
    kbc_cmd(0xd4);
    kbc_data(b);
    return aux_read();
}

static int aux_cmd(const uint8_t *bytes, int n, uint8_t *reply, int nreply)
{
    uint8_t saved = kbc_cmdbyte;
    kbc_cmd(0xad);                              /* keyboard interface off */
    kbc_set_cmdbyte((uint8_t)((saved & ~0x22) | 0x00));  /* aux clock on, no IRQ12 */
    int r = 0;
    for (int i = 0; i < n && r == 0; i++) {
        int a = aux_send(bytes[i]);
        if (a == 0xfe) r = 4;                   /* resend */
        else if (a != 0xfa) r = 3;              /* interface error */
    }
    for (int i = 0; r == 0 && i < nreply; i++) {
        int v = aux_read();
        if (v < 0) r = 3; else reply[i] = (uint8_t)v;
    }
    kbc_set_cmdbyte(saved);
    kbc_cmd(0xae);
    return r;
}

static void mouse_enable(bool on)
{
    uint8_t c = kbc_cmdbyte;
    c = on ? (uint8_t)((c & ~0x20) | 0x02) : (uint8_t)((c | 0x20) & ~0x02);
    kbc_cmdbyte = c;
}

/* Bytes to the keyboard itself (LEDs EDh, typematic F3h), each answered
 * by FAh; IRQ1 is off in the command byte meanwhile so the answers are
 * polled here and never reach INT 09h. Returns 0 or -1. */
static int kbd_send(const uint8_t *bytes, int n)
{
    uint8_t saved = kbc_cmdbyte;
    int r = 0;
    kbc_set_cmdbyte(saved & (uint8_t)~0x01);
    for (int i = 0; i < n && r == 0; i++) {
        kbc_data(bytes[i]);
        int a = -1;
        for (int t = 0; t < 100000; t++) {
            uint8_t st = inb(0x64);
            if ((st & 0x21) == 0x01) { a = inb(0x60); break; }
            if (st & 0x01) (void)inb(0x60);     /* aux byte: dropped */
            io_delay();
        }
        if (a != 0xfa) r = -1;
    }
    kbc_set_cmdbyte(saved);
    return r;
}

/* Keyboard LEDs from the toggle states (BDA 497h bits 2-0 mirror them). */
static void kbd_leds(uint8_t flags)
{
    uint8_t leds = (uint8_t)(((flags & KF_SCROLL) ? 1 : 0) | ((flags & KF_NUM) ? 2 : 0) |
                             ((flags & KF_CAPS) ? 4 : 0));
    if ((BDA8(0x97) & 7) == leds) return;
    uint8_t cmd[2] = { 0xed, leds };
    if (kbd_send(cmd, 2) == 0) BDA8(0x97) = (uint8_t)((BDA8(0x97) & ~7) | leds);
}

/* INT 15h AH=C2h (IBM PS/2 pointing device BIOS interface; RBIL). */
void int15_mouse(struct rm_frame *f)
{
    uint8_t *e = ebda();
    uint8_t st = 0;
    uint8_t reply[3];
    switch (f->eax.l) {
    case 0x00:                                  /* enable / disable */
        if (f->ebx.h > 1) { st = 1; break; }
        if (f->ebx.h == 1 && !*(uint32_t *)(e + EBDA_MOUSE_HANDLER)) { st = 5; break; }
        { uint8_t c = f->ebx.h ? 0xf4 : 0xf5; st = (uint8_t)aux_cmd(&c, 1, NULL, 0); }
        if (st) break;
        mouse_enable(f->ebx.h == 1);
        e[EBDA_MOUSE_FLAGS] = f->ebx.h ? 0x80 : 0;
        kbc_set_cmdbyte(kbc_cmdbyte);
        break;
    case 0x01:                                  /* reset: BH = id, BL = AAh */
    case 0x05:                                  /* initialise: BH = packet size */
        if (f->eax.l == 0x05 && (f->ebx.h < 1 || f->ebx.h > 8)) { st = 2; break; }
        e[EBDA_MOUSE_SIZE] = f->eax.l == 0x05 ? f->ebx.h : 3;
        e[EBDA_MOUSE_FLAGS] = 0;
        mouse_enable(false);
        { uint8_t c = 0xff; st = (uint8_t)aux_cmd(&c, 1, reply, 2); }
        if (f->eax.l == 0x01 && !st) { f->ebx.l = reply[0]; f->ebx.h = reply[1]; }
        break;
    case 0x02: {                                /* sample rate */
        static const uint8_t rates[7] = { 10, 20, 40, 60, 80, 100, 200 };
        if (f->ebx.h > 6) { st = 2; break; }
        uint8_t c[2] = { 0xf3, rates[f->ebx.h] };
        st = (uint8_t)aux_cmd(c, 2, NULL, 0);
        break;
    }
    case 0x03: {                                /* resolution */
        if (f->ebx.h > 3) { st = 2; break; }
        uint8_t c[2] = { 0xe8, f->ebx.h };
        st = (uint8_t)aux_cmd(c, 2, NULL, 0);
        break;
    }
    case 0x04: {                                /* device type */
        uint8_t c = 0xf2;
        st = (uint8_t)aux_cmd(&c, 1, reply, 1);
        if (!st) f->ebx.h = reply[0];
        break;
    }
    case 0x06:                                  /* status / scaling */
        if (f->ebx.h == 0) {
            uint8_t c = 0xe9;
            st = (uint8_t)aux_cmd(&c, 1, reply, 3);
            if (!st) { f->ebx.l = reply[0]; f->ecx.l = reply[1]; f->edx.l = reply[2]; }
        } else if (f->ebx.h <= 2) {
            uint8_t c = f->ebx.h == 1 ? 0xe6 : 0xe7;
            st = (uint8_t)aux_cmd(&c, 1, NULL, 0);
        } else {
            st = 1;
        }
        break;
    case 0x07:                                  /* handler ES:BX (0:0 removes) */
        *(uint32_t *)(e + EBDA_MOUSE_HANDLER) = (uint32_t)f->es << 16 | f->ebx.x;
        break;
    default:
        st = 1;
        break;
    }
    ret_status(f, st);
}

void kbd_init(void)
{
    for (int i = 0; i < 64 && (inb(0x64) & 0x01); i++) (void)inb(0x60);
    kbc_cmd(0xaa);                      /* controller self test: 55h */
    int r = kbc_read();
    if (r != 0x55) printf("Keyboard controller self test failed (%x)\n", (unsigned)r);
    kbc_cmd(0xab);                      /* keyboard interface test: 00h */
    (void)kbc_read();
    kbc_cmd(0x60);                      /* command byte: no IRQs while resetting */
    kbc_data(0x30);
    kbc_cmd(0xae);                      /* enable keyboard interface */
    kbc_data(0xff);                     /* keyboard reset: FAh, then AAh */
    r = kbc_read();
    if (r == 0xfa) r = kbc_read();
    if (r != 0xaa) printf("Keyboard reset failed (%x)\n", (unsigned)r);
    kbc_data(0xf4);                     /* enable scanning */
    (void)kbc_read();
    /* IRQ1 on, system flag, aux clock off, translate to set 1. */
    kbc_set_cmdbyte(0x65);
    ebda()[EBDA_MOUSE_SIZE] = 3;
    for (int i = 0; i < 64 && (inb(0x64) & 0x01); i++) (void)inb(0x60);
}

static void kbuf_put(uint16_t key)
{
    uint16_t tail = BDA16(0x1c);
    uint16_t next = (uint16_t)(tail + 2);
    if (next >= BDA16(0x82)) next = BDA16(0x80);
    if (next == BDA16(0x1a)) return;    /* full: drop */
    if (tail < 0x1e || tail > 0xfe) return;
    BDA16(tail) = key;
    BDA16(0x1c) = next;
}

static bool kbuf_peek(uint16_t *key)
{
    uint16_t head = BDA16(0x1a);
    if (head == BDA16(0x1c)) return false;
    if (head < 0x1e || head > 0xfe) { BDA16(0x1a) = BDA16(0x1c); return false; }
    *key = BDA16(head);
    return true;
}

static void kbuf_drop(void)
{
    uint16_t next = (uint16_t)(BDA16(0x1a) + 2);
    if (next >= BDA16(0x82)) next = BDA16(0x80);
    BDA16(0x1a) = next;
}

/* Scancodes 00h-39h: unshifted and shifted ASCII. */
static const char normal[0x3a] =
    "\0\x1b" "1234567890-=\x08\t" "qwertyuiop[]\r\0" "asdfghjkl;'`\0\\" "zxcvbnm,./\0*\0 ";
static const char shifted[0x3a] =
    "\0\x1b" "!@#$%^&*()_+\x08\0" "QWERTYUIOP{}\r\0" "ASDFGHJKL:\"~\0|" "ZXCVBNM<>?\0*\0 ";
/* Keypad 47h-53h with NumLock. */
static const char keypad[13] = "789-456+1230.";

static uint16_t fkey(uint8_t sc, uint8_t flags)
{
    /* F1-F10 = 3Bh-44h, F11/F12 = 57h/58h. */
    int n = sc <= 0x44 ? sc - 0x3b : 10 + (sc - 0x57);
    uint8_t code;
    if (n < 10) {
        code = (uint8_t)(0x3b + n);
        if (flags & KF_ALT) code = (uint8_t)(0x68 + n);
        else if (flags & KF_CTRL) code = (uint8_t)(0x5e + n);
        else if (flags & (KF_LSHIFT | KF_RSHIFT)) code = (uint8_t)(0x54 + n);
    } else {
        n -= 10;
        code = (uint8_t)(0x85 + n);
        if (flags & KF_ALT) code = (uint8_t)(0x8b + n);
        else if (flags & KF_CTRL) code = (uint8_t)(0x89 + n);
        else if (flags & (KF_LSHIFT | KF_RSHIFT)) code = (uint8_t)(0x87 + n);
    }
    return (uint16_t)(code << 8);
}

void int09_handler(uint8_t sc)
{
    uint8_t flags = BDA8(0x17), flags2 = BDA8(0x18), ext = BDA8(0x96);
    bool e0 = ext & 0x02;
    ext &= (uint8_t)~0x03;
    bool brk = sc & 0x80;
    uint8_t code = sc & 0x7f;

    if (sc == 0xe0) { BDA8(0x96) = ext | 0x02; goto eoi; }
    if (sc == 0xe1) { BDA8(0x96) = ext | 0x01; goto eoi; }

    switch (code) {
    case 0x2a: case 0x36:               /* shifts (E0 2A/36 are fake shifts) */
        if (!e0) {
            uint8_t bit = code == 0x2a ? KF_LSHIFT : KF_RSHIFT;
            flags = brk ? (flags & ~bit) : (flags | bit);
        }
        goto done;
    case 0x1d:                          /* ctrl: E0 = right */
        if (e0) ext = brk ? (ext & ~0x04) : (ext | 0x04);
        else flags2 = brk ? (flags2 & ~0x01) : (flags2 | 0x01);
        flags = ((flags2 & 0x01) || (ext & 0x04)) ? (flags | KF_CTRL) : (flags & ~KF_CTRL);
        goto done;
    case 0x38:                          /* alt: E0 = right */
        if (e0) ext = brk ? (ext & ~0x08) : (ext | 0x08);
        else flags2 = brk ? (flags2 & ~0x02) : (flags2 | 0x02);
        flags = ((flags2 & 0x02) || (ext & 0x08)) ? (flags | KF_ALT) : (flags & ~KF_ALT);
        goto done;
    case 0x3a: case 0x45: case 0x46: {  /* toggles: caps, num, scroll */
        uint8_t t = code == 0x3a ? KF_CAPS : code == 0x45 ? KF_NUM : KF_SCROLL;
        uint8_t d = code == 0x3a ? 0x40 : code == 0x45 ? 0x20 : 0x10;
        if (e0) goto done;
        if (brk) flags2 &= (uint8_t)~d;
        else if (!(flags2 & d)) { flags2 |= d; flags ^= t; }
        goto done;
    }
    }
    if (brk) goto done;

    /* Ctrl-Alt-Del: reset through the 8042's output port pulse (command
     * FEh), then the PCI reset control register as a fallback. */
    if (code == 0x53 && (flags & KF_CTRL) && (flags & KF_ALT)) {
        BDA16(0x72) = 0x1234;           /* warm boot flag */
        outb(0x64, 0xfe);
        udelay(100000);                 /* resets are not instantaneous */
        outb(0xcf9, 0x06);
    }

    bool shift = flags & (KF_LSHIFT | KF_RSHIFT);
    uint16_t key = 0;
    if (e0) {
        /* Grey keys: ASCII E0h marks them for the extended INT 16h calls. */
        if (code == 0x1c) key = 0xe000 | (flags & KF_CTRL ? 0x0a : 0x0d);
        else if (code == 0x35) key = (flags & KF_ALT) ? 0xa400 : 0xe02f;
        else if (code >= 0x47 && code <= 0x53 && code != 0x4a && code != 0x4e && code != 0x4c) {
            if (code == 0x52 && !(flags & (KF_ALT | KF_CTRL))) flags ^= KF_INS;
            key = (uint16_t)(code << 8 | 0xe0);
        }
    } else if (code >= 0x3b && code <= 0x44) {
        key = fkey(code, flags);
    } else if (code == 0x57 || code == 0x58) {
        key = fkey(code, flags);
    } else if (code >= 0x47 && code <= 0x53) {
        char k = keypad[code - 0x47];
        bool num = ((flags & KF_NUM) != 0) != shift;
        if (code == 0x4a || code == 0x4e) key = (uint16_t)(code << 8 | (uint8_t)k);
        else if (flags & KF_ALT) key = 0;       /* Alt+keypad ASCII entry: not done */
        else if (num) key = (uint16_t)(code << 8 | (uint8_t)k);
        else {
            if (code == 0x52) flags ^= KF_INS;
            key = (uint16_t)(code << 8);
        }
    } else if (code < 0x3a) {
        char c = normal[code];
        bool letter = c >= 'a' && c <= 'z';
        bool up = shift != (letter && (flags & KF_CAPS));
        if (flags & KF_ALT) {
            /* Alt: ASCII 0; Alt+digit row uses codes 78h-83h. */
            key = (code >= 0x02 && code <= 0x0d) ? (uint16_t)((code + 0x76) << 8)
                                                 : (uint16_t)(code << 8);
        } else if (flags & KF_CTRL) {
            if (letter) key = (uint16_t)(code << 8 | (c - 'a' + 1));
            else if (code == 0x1c) key = 0x1c0a;
            else if (code == 0x0e) key = 0x0e7f;
            else if (code == 0x1a) key = 0x1a1b;
            else if (code == 0x1b) key = 0x1b1d;
            else if (code == 0x2b) key = 0x2b1c;
            else if (code == 0x07) key = 0x071e;
            else if (code == 0x0c) key = 0x0c1f;
            else if (code == 0x39) key = 0x3920;
        } else {
            char a = up ? shifted[code] : c;
            if (code == 0x0f && shift) key = 0x0f00;
            else if (a) key = (uint16_t)(code << 8 | (uint8_t)a);
        }
    }
    if (key) kbuf_put(key);
done:
    BDA8(0x17) = flags;
    BDA8(0x18) = flags2;
    BDA8(0x96) = ext;
    kbd_leds(flags);
eoi:
    outb(0x20, 0x20);
}

/* Translate an extended key for the old AH=00/01 calls. */
static bool legacy_key(uint16_t *k)
{
    uint8_t sc = (uint8_t)(*k >> 8), a = (uint8_t)*k;
    if (sc == 0xe0) { *k = (uint16_t)((a == 0x2f ? 0x35 : 0x1c) << 8 | a); return true; }
    if (a == 0xe0 && sc) { *k = (uint16_t)(sc << 8); return true; }
    return sc < 0x85;           /* F11/F12 and friends are extended only */
}

int int16_handler(struct rm_frame *f)
{
    uint16_t key;
    switch (f->eax.h) {
    case 0x00:
    case 0x10:
        while (kbuf_peek(&key)) {
            kbuf_drop();
            if (f->eax.h == 0x10 || legacy_key(&key)) { f->eax.x = key; return 0; }
        }
        return 1;                       /* wait for a key */
    case 0x01:
    case 0x11:
        while (kbuf_peek(&key)) {
            if (f->eax.h == 0x11 || legacy_key(&key)) {
                f->eax.x = key;
                set_zf(f, false);
                return 0;
            }
            kbuf_drop();
        }
        set_zf(f, true);
        return 0;
    case 0x02:
        f->eax.l = BDA8(0x17);
        return 0;
    case 0x12:
        /* AH: left ctrl/alt (418h bits 0-1), right ctrl/alt (496h bits
         * 2-3), scroll/num/caps keys down (418h bits 4-6), SysRq down
         * (418h bit 2) in bit 7 (RBIL INT 16h AH=12h). */
        f->eax.l = BDA8(0x17);
        f->eax.h = (uint8_t)((BDA8(0x18) & 0x73) | (BDA8(0x96) & 0x0c) | ((BDA8(0x18) & 0x04) ? 0x80 : 0));
        return 0;
    case 0x03:                          /* AL=05h: BH delay, BL rate (F3h) */
        if (f->eax.l == 0x05 && f->ebx.h <= 3 && f->ebx.l <= 0x1f) {
            uint8_t cmd[2] = { 0xf3, (uint8_t)(f->ebx.h << 5 | f->ebx.l) };
            (void)kbd_send(cmd, 2);
        }
        return 0;
    case 0x05: {
        uint16_t tail = BDA16(0x1c);
        uint16_t next = (uint16_t)(tail + 2);
        if (next >= BDA16(0x82)) next = BDA16(0x80);
        if (next == BDA16(0x1a)) { f->eax.l = 1; return 0; }
        kbuf_put(f->ecx.x);
        f->eax.l = 0;
        return 0;
    }
    case 0x09:                          /* capabilities: 10h-12h supported */
        f->eax.l = 0x20;
        return 0;
    }
    return 0;
}
