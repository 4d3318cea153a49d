/* bios/bios.h — shared declarations of Glass's BIOS (32-bit flat PM code).
 * See bios/README.md for the memory map and the calling model. */
#ifndef GLASS_BIOS_H
#define GLASS_BIOS_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* Registers of a real-mode caller as entry.asm pushes them. */
union reg32 {
    uint32_t e;
    uint16_t x;
    struct { uint8_t l, h; };
};

struct rm_frame {
    uint16_t vec;           /* vector; INT 09h: scancode in the high byte */
    uint16_t gs, fs, es, ds;
    union reg32 edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
    uint16_t ip, cs, flags;
} __attribute__((packed));

#define FLAG_CF 0x0001
#define FLAG_ZF 0x0040
#define FLAG_IF 0x0200

static inline void set_cf(struct rm_frame *f, bool on)
{
    if (on) f->flags |= FLAG_CF; else f->flags &= ~FLAG_CF;
}
static inline void set_zf(struct rm_frame *f, bool on)
{
    if (on) f->flags |= FLAG_ZF; else f->flags &= ~FLAG_ZF;
}
/* Common "AH = status, CF = (status != 0)" return. */
static inline void ret_status(struct rm_frame *f, uint8_t st)
{
    f->eax.h = st;
    set_cf(f, st != 0);
}

static inline uint32_t lin(uint16_t seg, uint16_t off) { return ((uint32_t)seg << 4) + off; }
static inline void *ptr(uint32_t linear) { return (void *)(uintptr_t)linear; }

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0,%1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0,%1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0,%1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline void insw(uint16_t p, void *buf, uint32_t n)
{
    __asm__ volatile("rep insw" : "+D"(buf), "+c"(n) : "d"(p) : "memory");
}
static inline void outsw(uint16_t p, const void *buf, uint32_t n)
{
    __asm__ volatile("rep outsw" : "+S"(buf), "+c"(n) : "d"(p) : "memory");
}
static inline void io_delay(void) { outb(0x80, 0); }

/* Memory map (README). */
#define EBDA_SEG        0x9C00
#define EBDA_KB         16
#define CONV_KB         (EBDA_SEG / 64)         /* 624 KiB for DOS */
#define BDA             0x400

#define BDA8(o)  (*(volatile uint8_t *)(uintptr_t)(BDA + (o)))
#define BDA16(o) (*(volatile uint16_t *)(uintptr_t)(BDA + (o)))
#define BDA32(o) (*(volatile uint32_t *)(uintptr_t)(BDA + (o)))

/* libc bits */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* util.c */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void serial_init(void);
void serial_putc(char c);
uint8_t cmos_read(uint8_t reg);
void cmos_write(uint8_t reg, uint8_t v);
void udelay(uint32_t us);
/* A time limit measured on PIT channel 0 while the caller polls a device:
 * deadline_passed() is true once `us` microseconds have gone by since
 * deadline_start() (each call reads the PIT; call it at least every 27 ms). */
struct deadline {
    uint16_t prev;
    uint64_t left; /* PIT input clocks */
};
void deadline_start(struct deadline *t, uint32_t us);
bool deadline_passed(struct deadline *t);

/* memory sizes (post.c) */
extern uint32_t ram_below_4g;   /* bytes, top of RAM below 4 GiB */
extern uint64_t ram_above_4g;   /* bytes above 4 GiB */

/* video.c */
void vga_init(void);
void int10_handler(struct rm_frame *f);
void tty_putc(char c);          /* screen (active page) + COM1 */

/* kbd.c */
void kbd_init(void);
void int09_handler(uint8_t scancode);
int int16_handler(struct rm_frame *f);
void int15_mouse(struct rm_frame *f);

/* disk.c */
void disk_init(void);
void int13_handler(struct rm_frame *f);
int disk_boot(int kind, struct rm_frame *f);    /* 2 = HDD, 3 = CD */

/* pci.c */
void pci_init(void);
void pci_bios(struct rm_frame *f);
uint32_t pci_vga_lfb(void);
uint32_t pci_cfg_read32(uint8_t bus, uint8_t devfn, uint8_t reg);
uint16_t pci_cfg_read16(uint8_t bus, uint8_t devfn, uint8_t reg);
uint8_t pci_cfg_read8(uint8_t bus, uint8_t devfn, uint8_t reg);
void pci_cfg_write32(uint8_t bus, uint8_t devfn, uint8_t reg, uint32_t v);
void pci_cfg_write16(uint8_t bus, uint8_t devfn, uint8_t reg, uint16_t v);
void pci_cfg_write8(uint8_t bus, uint8_t devfn, uint8_t reg, uint8_t v);

/* acpi.c */
extern uint32_t acpi_tables_base, acpi_tables_size;
void acpi_init(void);

/* misc.c */
int int15_handler(struct rm_frame *f);
void int1a_handler(struct rm_frame *f);
void int19_handler(struct rm_frame *f);

/* entry.asm labels (offsets in segment F000) */
extern char int_dummy[], int08_entry[], int09_entry[], irq_master_default[],
    irq_slave_default[], int70_entry[], int76_entry[], int77_entry[],
    int10_entry[], int11_entry[], int12_entry[], int13_entry[], int14_entry[],
    int15_entry[], int16_entry[], int17_entry[], int18_entry[], int19_entry[],
    int1a_entry[], int40_entry[], int74_entry[], diskette_params[], config_table[], pir_table[],
    linux16_boot[];
#define F_OFF(sym) ((uint16_t)(uintptr_t)(sym))

#endif
