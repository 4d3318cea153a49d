/* bios/util.c — freestanding libc pieces, printf to screen + COM1, CMOS
 * access and a PIT-based delay. */
#include <stdarg.h>
#include "bios.h"

void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;
    while (n--) *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    while (n--) *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    if (dp < sp) {
        while (n--) *dp++ = *sp++;
    } else {
        while (n--) dp[n] = sp[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/* COM1 at 0x3F8, 115200 8N1 (16550A datasheet: DLAB in LCR bit 7). */
void serial_init(void)
{
    outb(0x3f9, 0x00);
    outb(0x3fb, 0x80);
    outb(0x3f8, 0x01);
    outb(0x3f9, 0x00);
    outb(0x3fb, 0x03);
    outb(0x3fa, 0x07);          /* FIFO on, cleared */
    outb(0x3fc, 0x03);          /* DTR, RTS */
}

void serial_putc(char c)
{
    /* Wait (bounded) for THR empty, LSR bit 5. */
    for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); i++)
        ;
    outb(0x3f8, (uint8_t)c);
}

static void putnum(uint32_t v, unsigned base, int width, char pad, bool neg)
{
    char buf[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v && n < 22);
    if (neg) buf[n++] = '-';
    while (n < width) buf[n++] = pad;
    while (n) tty_putc(buf[--n]);
}

/* %d %u %x %s %c, optional 0/width and l/ll. 64-bit division comes from
 * libgcc-free code: base is 10 or 16, so do it by hand. */
static uint64_t udivmod64(uint64_t n, unsigned d, unsigned *rem)
{
    uint64_t q = 0;
    uint64_t r = 0;
    for (int i = 63; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1);
        if (r >= d) { r -= d; q |= 1ULL << i; }
    }
    *rem = (unsigned)r;
    return q;
}

static void putnum64(uint64_t v, unsigned base, int width, char pad, bool neg)
{
    char buf[24];
    int n = 0;
    do {
        unsigned d;
        v = udivmod64(v, base, &d);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    } while (v && n < 22);
    if (neg) buf[n++] = '-';
    while (n < width) buf[n++] = pad;
    while (n) tty_putc(buf[--n]);
}

void printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            if (*fmt == '\n') tty_putc('\r');
            tty_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, lng = 0;
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') { lng++; fmt++; }
        switch (*fmt) {
        case 'd': {
            long long v = lng >= 2 ? va_arg(ap, long long) : va_arg(ap, int);
            putnum64(v < 0 ? (uint64_t)-v : (uint64_t)v, 10, width, pad, v < 0);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = lng >= 2 ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
            unsigned base = *fmt == 'x' ? 16 : 10;
            if (v >> 32) putnum64(v, base, width, pad, false);
            else putnum((uint32_t)v, base, width, pad, false);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            while (*s) tty_putc(*s++);
            break;
        }
        case 'c':
            tty_putc((char)va_arg(ap, int));
            break;
        default:
            tty_putc(*fmt);
            break;
        }
    }
    va_end(ap);
}

/* MC146818: index port 0x70 (bit 7 = NMI disable, kept set), data 0x71. */
uint8_t cmos_read(uint8_t reg)
{
    outb(0x70, reg | 0x80);
    return inb(0x71);
}

void cmos_write(uint8_t reg, uint8_t v)
{
    outb(0x70, reg | 0x80);
    outb(0x71, v);
}

/* PIT channel 0 runs in mode 3 from 65536 at 1.193182 MHz (POST): latch
 * and read its count (8254 datasheet, counter latch command). The count
 * drops by 2 per input clock and restarts every 32768 clocks (27 ms), so
 * reads closer together than that measure time unambiguously. */
static uint16_t pit_count(void)
{
    outb(0x43, 0x00);
    uint8_t lo = inb(0x40);
    uint8_t hi = inb(0x40);
    return (uint16_t)(lo | hi << 8);
}

void deadline_start(struct deadline *t, uint32_t us)
{
    t->left = (uint64_t)(us / 1000) * 1193 + (us % 1000) * 1193 / 1000 + 1;
    t->prev = pit_count();
}

bool deadline_passed(struct deadline *t)
{
    uint16_t cur = pit_count();
    uint32_t ticks = (uint16_t)(t->prev - cur) / 2u;
    t->prev = cur;
    if (ticks >= t->left) {
        t->left = 0;
        return true;
    }
    t->left -= ticks;
    return false;
}

void udelay(uint32_t us)
{
    struct deadline t;
    deadline_start(&t, us);
    while (!deadline_passed(&t))
        ;
}
