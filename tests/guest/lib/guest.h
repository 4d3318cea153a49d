/*
 * guest.h — the little runtime of Glass's guest test kernels (32-bit,
 * ring 0, flat segments, loaded by multiboot). Output goes to the debug
 * console (port 0xE9); the result to the debug-exit port (0xF4).
 */
#ifndef GLASS_GUEST_H
#define GLASS_GUEST_H

#include <stdint.h>

/* GDT layout set up by guest_start. */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1b
#define SEL_UDATA 0x23
#define SEL_TSS 0x28
#define GDT_FREE 6 /* first slot a test may fill with gdt_set */
#define GDT_SLOTS 16

/* What trap_common pushed (boot.S), lowest address first. */
struct trapframe {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_dummy, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t esp, ss; /* only after a privilege change */
    uint32_t v86_es, v86_ds, v86_fs, v86_gs; /* only from v86 mode */
};

struct guest_jmp {
    uint32_t ebx, esi, edi, ebp, esp, eip;
};
int guest_setjmp(struct guest_jmp *j);
_Noreturn void guest_longjmp(struct guest_jmp *j, int v);

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* PCI configuration mechanism #1 (PCI 2.1, 3.7.4.1), bus 0. */
static inline uint32_t pci_cfg_addr(unsigned dev, unsigned fn, unsigned reg)
{
    return 0x80000000u | (dev << 11) | (fn << 8) | (reg & 0xfc);
}
static inline uint32_t pci_read32(unsigned dev, unsigned fn, unsigned reg)
{
    outl(0xcf8, pci_cfg_addr(dev, fn, reg));
    return inl(0xcfc);
}
static inline uint8_t pci_read8(unsigned dev, unsigned fn, unsigned reg)
{
    outl(0xcf8, pci_cfg_addr(dev, fn, reg));
    return inb((uint16_t)(0xcfc + (reg & 3)));
}
static inline void pci_write32(unsigned dev, unsigned fn, unsigned reg, uint32_t v)
{
    outl(0xcf8, pci_cfg_addr(dev, fn, reg));
    outl(0xcfc, v);
}
static inline void pci_write16(unsigned dev, unsigned fn, unsigned reg, uint16_t v)
{
    outl(0xcf8, pci_cfg_addr(dev, fn, reg));
    outw((uint16_t)(0xcfc + (reg & 2)), v);
}
static inline void pci_write8(unsigned dev, unsigned fn, unsigned reg, uint8_t v)
{
    outl(0xcf8, pci_cfg_addr(dev, fn, reg));
    outb((uint16_t)(0xcfc + (reg & 3)), v);
}

/* The 8259A pair initialised as a PC BIOS and Linux do (edge triggered,
 * cascade on IR2, 8086 mode) with IRQ 0-15 at vectors 20h-2Fh, every IRQ
 * masked but the cascade. */
void pic_remap(void);
/* Unmasks / masks one IRQ (0-15). */
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
/* End of interrupt for `irq`: to the slave and the master for 8-15. */
void pic_eoi(unsigned irq);

/* Physical address of the multiboot information structure (EBX at entry). */
extern uint32_t multiboot_info_addr;

void puts(const char *s);
void put_hex(uint32_t v);
/* printf subset: %s %x (8 digits) %u %c %%. */
void printf(const char *fmt, ...);
_Noreturn void guest_exit(unsigned code);

/* Every test kernel defines this; guest_start calls it after set-up and
 * passes the test if it returns. */
void test_main(void);

/* Checks: print and fail with a distinct code. */
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond))                                                                 \
            check_failed(__FILE__, __LINE__, #cond);                                 \
    } while (0)
#define CHECK_EQ(a, b)                                                               \
    do {                                                                             \
        uint32_t a_ = (uint32_t)(a), b_ = (uint32_t)(b);                             \
        if (a_ != b_)                                                                \
            check_eq_failed(__FILE__, __LINE__, #a, a_, b_);                         \
    } while (0)
_Noreturn void check_failed(const char *file, int line, const char *what);
_Noreturn void check_eq_failed(const char *file, int line, const char *what, uint32_t got,
                               uint32_t want);

/* Descriptor tables. */
void gdt_set(unsigned slot, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void gdt_set_raw(unsigned slot, uint32_t lo, uint32_t hi);
uint64_t gdt_get(unsigned slot);
/* type: 0x8E interrupt gate, 0x8F trap gate, 0x85 task gate; dpl 0-3. */
void idt_set(unsigned vec, uint32_t offset, uint16_t sel, uint8_t type, unsigned dpl);
void idt_set_stub(unsigned vec, uint8_t type, unsigned dpl);
extern uint32_t kernel_tss[26];

/*
 * Expecting an exception: run `fn(arg)`; if it raises, the trap handler
 * records the frame and returns here. Returns the vector, or -1 if `fn`
 * returned normally. The frame is in `last_trap`.
 */
int run_expect(void (*fn)(void *), void *arg);
extern struct trapframe last_trap;

/* Optional per-vector hook: return 1 to resume the interrupted code. */
extern int (*trap_hook)(struct trapframe *tf);

static inline uint32_t read_cr0(void) { uint32_t v; __asm__ volatile("mov %%cr0,%0" : "=r"(v)); return v; }
static inline uint32_t read_cr2(void) { uint32_t v; __asm__ volatile("mov %%cr2,%0" : "=r"(v)); return v; }
static inline uint32_t read_cr3(void) { uint32_t v; __asm__ volatile("mov %%cr3,%0" : "=r"(v)); return v; }
static inline uint32_t read_cr4(void) { uint32_t v; __asm__ volatile("mov %%cr4,%0" : "=r"(v)); return v; }
static inline void write_cr0(uint32_t v) { __asm__ volatile("mov %0,%%cr0" : : "r"(v) : "memory"); }
static inline void write_cr3(uint32_t v) { __asm__ volatile("mov %0,%%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(uint32_t v) { __asm__ volatile("mov %0,%%cr4" : : "r"(v) : "memory"); }
static inline uint32_t read_eflags(void) { uint32_t v; __asm__ volatile("pushf; pop %0" : "=r"(v)); return v; }

#endif
