/*
 * kbc.c — the 8042 keyboard controller, the PS/2 keyboard and mouse behind
 * it, and the A20 gate, from inside a guest, the way Linux's i8042/atkbd/
 * psmouse drivers and a BIOS use them: controller self test and interface
 * tests, the command byte, keyboard reset / echo / identify, the auxiliary
 * port, IRQ 1 and IRQ 12, and A20 through the 8042's output port (D1,
 * DD/DF) and through port 0x92 (IBM PS/2 Hardware Interface Technical
 * Reference, "Keyboard/auxiliary device controller" and "System control
 * port A").
 */
#include "lib/guest.h"

#define KBC_DATA 0x60
#define KBC_STATUS 0x64
#define ST_OBF 0x01
#define ST_IBF 0x02
#define ST_SYS 0x04
#define ST_AUXB 0x20
#define CB_INT 0x01
#define CB_INT2 0x02
#define CB_SYS 0x04
#define CB_DIS 0x10
#define CB_DIS2 0x20
#define CB_XLAT 0x40

#define SPIN_MAX 20000000u

static void kbc_wait_write(void)
{
    unsigned n = 0;
    while ((inb(KBC_STATUS) & ST_IBF) && ++n < SPIN_MAX)
        ;
    CHECK(n < SPIN_MAX);
}

static void kbc_cmd(uint8_t c)
{
    kbc_wait_write();
    outb(KBC_STATUS, c);
}

static void kbc_data(uint8_t d)
{
    kbc_wait_write();
    outb(KBC_DATA, d);
}

/* The next byte, with its status (bit 8 = from the auxiliary device), or
 * -1 if none comes. */
static int kbc_read_st(uint8_t *status)
{
    for (unsigned n = 0; n < SPIN_MAX; n++) {
        uint8_t st = inb(KBC_STATUS);
        if (st & ST_OBF) {
            if (status)
                *status = st;
            return inb(KBC_DATA);
        }
    }
    return -1;
}

static int kbc_read(void)
{
    return kbc_read_st(0);
}

static void kbc_drain(void)
{
    for (unsigned n = 0; n < 64 && (inb(KBC_STATUS) & ST_OBF); n++) {
        inb(KBC_DATA);
        for (volatile int i = 0; i < 1000; i++)
            ;
    }
}

static uint8_t read_cb(void)
{
    kbc_cmd(0x20);
    int v = kbc_read();
    CHECK(v >= 0);
    return (uint8_t)v;
}

static void write_cb(uint8_t v)
{
    kbc_cmd(0x60);
    kbc_data(v);
}

static uint8_t cb_saved;

static void test_controller(void)
{
    /* Linux's i8042_controller_check/init: flush, read the command byte
     * with the interrupts off. */
    kbc_drain();
    cb_saved = read_cb();
    write_cb(cb_saved & (uint8_t)~(CB_INT | CB_INT2));
    CHECK_EQ(read_cb(), cb_saved & (uint8_t)~(CB_INT | CB_INT2));
    kbc_drain();

    kbc_cmd(0xaa); /* controller self test */
    CHECK_EQ(kbc_read(), 0x55);
    CHECK(inb(KBC_STATUS) & ST_SYS); /* a passed self test sets the system flag */
    kbc_cmd(0xab); /* keyboard interface test: 0 = no error */
    CHECK_EQ(kbc_read(), 0x00);
    kbc_cmd(0xa9); /* auxiliary interface test */
    CHECK_EQ(kbc_read(), 0x00);

    /* The command byte is read/write controller RAM byte 0; the self test
     * may have changed it, as Linux expects: write it back. */
    write_cb(CB_SYS | CB_XLAT | CB_DIS2);
    CHECK_EQ(read_cb(), CB_SYS | CB_XLAT | CB_DIS2);
    kbc_cmd(0xa8); /* enable the auxiliary port: clears DIS2 */
    CHECK_EQ(read_cb() & CB_DIS2, 0);
    kbc_cmd(0xa7);
    CHECK(read_cb() & CB_DIS2);
    kbc_cmd(0xad); /* disable the keyboard: sets DIS */
    CHECK(read_cb() & CB_DIS);
    kbc_cmd(0xae);
    CHECK_EQ(read_cb() & CB_DIS, 0);

    /* D2: write the keyboard output buffer; the byte comes back as if the
     * keyboard had sent it (AUXB clear). D3 does the same as the mouse
     * (AUXB set). */
    uint8_t st;
    kbc_cmd(0xd2);
    kbc_data(0x5a);
    CHECK_EQ(kbc_read_st(&st), 0x5a);
    CHECK_EQ(st & ST_AUXB, 0);
    kbc_cmd(0xa8);
    kbc_cmd(0xd3);
    kbc_data(0xa5);
    CHECK_EQ(kbc_read_st(&st), 0xa5);
    CHECK(st & ST_AUXB);

    /* The output port: reset line high (bit 0: not resetting), A20 on,
     * the idle keyboard data and clock lines high (bits 7, 6). */
    kbc_cmd(0xd0);
    int out = kbc_read();
    CHECK_EQ(out & 0xc3, 0xc3);
    puts("kbc: controller ok\n");
}

static void test_keyboard(void)
{
    kbc_drain();
    /* Reset: ACK, then the basic assurance test's AA. */
    kbc_data(0xff);
    CHECK_EQ(kbc_read(), 0xfa);
    CHECK_EQ(kbc_read(), 0xaa);
    /* Echo answers EE, without an ACK. */
    kbc_data(0xee);
    CHECK_EQ(kbc_read(), 0xee);
    /* Identify, untranslated: ACK, AB 83 (an MF2 keyboard). */
    write_cb(CB_SYS | CB_DIS2);
    kbc_data(0xf2);
    CHECK_EQ(kbc_read(), 0xfa);
    CHECK_EQ(kbc_read(), 0xab);
    CHECK_EQ(kbc_read(), 0x83);
    /* Scan code set query (F0 00): ACK, then set 2. */
    kbc_data(0xf0);
    CHECK_EQ(kbc_read(), 0xfa);
    kbc_data(0x00);
    CHECK_EQ(kbc_read(), 0xfa);
    CHECK_EQ(kbc_read(), 0x02);
    /* Set LEDs: ACK to the command and to its argument. */
    kbc_data(0xed);
    CHECK_EQ(kbc_read(), 0xfa);
    kbc_data(0x00);
    CHECK_EQ(kbc_read(), 0xfa);
    write_cb(CB_SYS | CB_XLAT | CB_DIS2);
    puts("kbc: keyboard ok\n");
}

static void test_mouse(void)
{
    kbc_drain();
    kbc_cmd(0xa8);
    uint8_t st;
    /* D4 sends the next data byte to the mouse. Reset: FA, AA, ID 00,
     * each marked as auxiliary data. */
    kbc_cmd(0xd4);
    kbc_data(0xff);
    CHECK_EQ(kbc_read_st(&st), 0xfa);
    CHECK(st & ST_AUXB);
    CHECK_EQ(kbc_read_st(&st), 0xaa);
    CHECK(st & ST_AUXB);
    CHECK_EQ(kbc_read_st(&st), 0x00);
    CHECK(st & ST_AUXB);
    /* Get device ID: FA 00 (a standard mouse). */
    kbc_cmd(0xd4);
    kbc_data(0xf2);
    CHECK_EQ(kbc_read(), 0xfa);
    CHECK_EQ(kbc_read(), 0x00);
    /* The IntelliMouse knock (sample rates 200, 100, 80) makes it ID 3. */
    static const uint8_t knock[] = { 0xf3, 200, 0xf3, 100, 0xf3, 80 };
    for (unsigned i = 0; i < sizeof(knock); i++) {
        kbc_cmd(0xd4);
        kbc_data(knock[i]);
        CHECK_EQ(kbc_read(), 0xfa);
    }
    kbc_cmd(0xd4);
    kbc_data(0xf2);
    CHECK_EQ(kbc_read(), 0xfa);
    CHECK_EQ(kbc_read(), 0x03);
    /* Status request: FA, then flags, resolution and sample rate (the
     * knock's last one). */
    kbc_cmd(0xd4);
    kbc_data(0xe9);
    CHECK_EQ(kbc_read(), 0xfa);
    kbc_read();
    CHECK_EQ(kbc_read(), 0x02); /* resolution: 4 counts/mm, the default */
    CHECK_EQ(kbc_read(), 80);   /* sample rate */
    puts("kbc: mouse ok\n");
}

static volatile int irq_byte[2] = { -1, -1 };
static volatile unsigned irq_count[2];

static int on_irq(struct trapframe *tf)
{
    /* IRQ 1 (vector 21h) and IRQ 12 (2Ch): the driver reads the byte. */
    if (tf->vector == 0x21 || tf->vector == 0x2c) {
        int aux = tf->vector == 0x2c;
        irq_byte[aux] = inb(KBC_DATA);
        irq_count[aux]++;
        pic_eoi(aux ? 12 : 1);
        return 1;
    }
    return 0;
}

static void wait_irq(int aux, unsigned count)
{
    __asm__ volatile("sti");
    for (unsigned n = 0; irq_count[aux] < count && n < SPIN_MAX; n++)
        __asm__ volatile("pause");
    __asm__ volatile("cli");
    CHECK_EQ(irq_count[aux], count);
}

static void test_interrupts(void)
{
    trap_hook = on_irq;
    idt_set_stub(0x21, 0x8e, 0);
    idt_set_stub(0x2c, 0x8e, 0);
    pic_remap();
    kbc_drain();
    kbc_cmd(0xa8);
    write_cb(CB_SYS | CB_XLAT | CB_INT | CB_INT2);
    pic_unmask(1);
    pic_unmask(12);
    kbc_data(0xee);
    wait_irq(0, 1);
    CHECK_EQ(irq_byte[0], 0xee);
    kbc_cmd(0xd4);
    kbc_data(0xf2);
    wait_irq(1, 2); /* FA, then 03 */
    CHECK_EQ(irq_byte[1], 0x03);
    CHECK_EQ(irq_count[0], 1);
    /* With INT clear, keyboard data sets OBF but raises no IRQ 1. */
    write_cb(CB_SYS | CB_XLAT | CB_INT2);
    kbc_data(0xee);
    unsigned n = 0;
    while (!(inb(KBC_STATUS) & ST_OBF) && ++n < SPIN_MAX)
        ;
    __asm__ volatile("sti");
    for (volatile int i = 0; i < 100000; i++)
        ;
    __asm__ volatile("cli");
    CHECK_EQ(irq_count[0], 1);
    CHECK_EQ(kbc_read(), 0xee);
    pic_mask(1);
    pic_mask(12);
    write_cb(cb_saved);
    puts("kbc: IRQ 1 and IRQ 12 ok\n");
}

/*
 * A20. With the gate off, address bit 20 is forced to 0: 0x3F0000 reads
 * and writes 0x2F0000. This kernel runs at 1 MiB, where bit 20 is 1, so
 * the code, data and stack used while the gate may be off live in the
 * .a20safe section at 2 MiB (lib/link.ld), and call nothing outside it;
 * the results are checked afterwards.
 */
#define A20_LO ((volatile uint32_t *)0x2f0000)
#define A20_HI ((volatile uint32_t *)0x3f0000)
#define A20SAFE __attribute__((section(".a20safe.data")))

enum { A20_STEPS = 8 };
static A20SAFE uint32_t a20_alias[A20_STEPS]; /* 1 = the two addresses aliased */
static A20SAFE uint8_t a20_outport[A20_STEPS];
static A20SAFE uint8_t a20_port92[A20_STEPS];
static A20SAFE uint8_t a20_stack[4096] __attribute__((aligned(16)));
static A20SAFE __attribute__((used)) uint32_t a20_saved_esp;

static inline __attribute__((always_inline)) void low_wait_write(void)
{
    for (unsigned n = 0; (inb(KBC_STATUS) & ST_IBF) && n < SPIN_MAX; n++)
        ;
}

static inline __attribute__((always_inline)) uint8_t low_read(void)
{
    for (unsigned n = 0; !(inb(KBC_STATUS) & ST_OBF) && n < SPIN_MAX; n++)
        ;
    return inb(KBC_DATA);
}

/* Whether HI and LO are one location now; restores both words. */
static inline __attribute__((always_inline)) uint32_t low_aliased(uint32_t tag)
{
    *A20_LO = 0x1000 + tag;
    *A20_HI = 0x2000 + tag;
    return *A20_LO == 0x2000 + tag;
}

static inline __attribute__((always_inline)) void low_record(unsigned i)
{
    a20_alias[i] = low_aliased(i);
    low_wait_write();
    outb(KBC_STATUS, 0xd0);
    a20_outport[i] = low_read();
    a20_port92[i] = inb(0x92);
}

static inline __attribute__((always_inline)) void low_outport(uint8_t v)
{
    low_wait_write();
    outb(KBC_STATUS, 0xd1);
    low_wait_write();
    outb(KBC_DATA, v);
    low_wait_write(); /* the controller took it: the gate has moved */
}

static inline __attribute__((always_inline)) void low_cmd(uint8_t c)
{
    low_wait_write();
    outb(KBC_STATUS, c);
    low_wait_write();
}

/* Port 0x92: bit 1 = A20, bit 0 = fast reset (never set here). */
__attribute__((section(".a20safe.text"), noinline, used)) static void a20_body(void)
{
    uint8_t p92 = inb(0x92) & (uint8_t)~0x03;
    low_record(0);             /* as booted: on */
    /* The gate is the OR of the 8042 output and port 0x92 (PIIX3
     * datasheet, A20GATE and "Port 92"): turn port 0x92's off first. */
    outb(0x92, p92);
    low_outport(0xdd);         /* 8042 output port: A20 off, reset high */
    low_record(1);             /* off */
    low_outport(0xdf);
    low_record(2);             /* on again */
    low_cmd(0xdd);             /* the DD/DF shortcut commands */
    low_record(3);             /* off */
    low_cmd(0xdf);
    low_record(4);             /* on */
    low_cmd(0xdd);
    outb(0x92, p92 | 0x02);    /* fast A20 through port 0x92 */
    low_record(5);             /* on */
    outb(0x92, p92);
    low_record(6);             /* off */
    low_cmd(0xdf);
    outb(0x92, p92 | 0x02);
    low_record(7);             /* on, as Linux leaves it */
}

static void test_a20(void)
{
    kbc_drain();
    __asm__ volatile("cli\n\t"
                     "mov %%esp, a20_saved_esp\n\t"
                     "mov %0, %%esp\n\t"
                     "call a20_body\n\t"
                     "mov a20_saved_esp, %%esp"
                     : : "i"(a20_stack + sizeof(a20_stack))
                     : "eax", "ecx", "edx", "memory", "cc");
    static const uint8_t want_alias[A20_STEPS] = { 0, 1, 0, 1, 0, 0, 1, 0 };
    for (unsigned i = 0; i < A20_STEPS; i++) {
        printf("a20 step %u: alias %u, output port %x, port 92h %x\n", i, a20_alias[i],
               a20_outport[i], a20_port92[i]);
        CHECK_EQ(a20_alias[i], want_alias[i]);
    }
    static const uint8_t want_out_a20[A20_STEPS] = { 1, 0, 1, 0, 1, 0, 0, 1 };
    static const uint8_t want_92_a20[A20_STEPS] = { 2, 0, 0, 0, 0, 1, 0, 1 };
    for (unsigned i = 0; i < A20_STEPS; i++) {
        CHECK_EQ((a20_outport[i] >> 1) & 1, want_out_a20[i]);
        CHECK_EQ(a20_outport[i] & 1, 1); /* never reset */
        if (want_92_a20[i] != 2)
            CHECK_EQ((a20_port92[i] >> 1) & 1, want_92_a20[i]);
    }
    puts("kbc: A20 ok\n");
}

/*
 * The instruction after the OUT that closes the gate is fetched through
 * the new mapping. Two copies of one stub sit at 0x3F1000 and 0x2F1000,
 * differing only in an immediate; the kernel jumps to the high copy with
 * the gate open (the 8042's half already off), the stub's OUT 92h closes
 * it, and the next fetch, at 0x3F1002, reads 0x2F1002: the low copy's
 * immediate. An emulator that keeps running what it decoded before the
 * OUT gets the high one. (Glass, like QEMU and Bochs, models no
 * prefetch queue.)
 *   out 92h, al ; mov ebx, imm32 ; mov al, ah ; out 92h, al ; jmp ecx
 */
#define A20_STUB_HI 0x3f1000u
#define A20_STUB_LO 0x2f1000u

static void a20_stub_write(uint32_t at, uint32_t imm)
{
    static const uint8_t code[] = { 0xe6, 0x92, 0xbb, 0, 0, 0, 0, 0x88, 0xe0, 0xe6, 0x92, 0xff, 0xe1 };
    volatile uint8_t *p = (volatile uint8_t *)at;
    for (unsigned i = 0; i < sizeof(code); i++)
        p[i] = code[i];
    for (unsigned i = 0; i < 4; i++)
        p[3 + i] = (uint8_t)(imm >> (8 * i));
}

static A20SAFE uint32_t a20_fetch_ebx;

__attribute__((section(".a20safe.text"), noinline, used)) static void a20_fetch_body(void)
{
    uint8_t p92 = inb(0x92) & (uint8_t)~0x03;
    low_cmd(0xdd); /* the 8042's gate off: port 92h alone holds A20 open */
    uint32_t ebx;
    __asm__ volatile("mov $1f, %%ecx\n\t"
                     "jmp *%1\n"
                     "1:"
                     : "=b"(ebx)
                     : "r"(A20_STUB_HI), "a"((uint32_t)((p92 | 0x02) << 8 | p92))
                     : "ecx", "memory", "cc");
    a20_fetch_ebx = ebx;
    low_cmd(0xdf);
}

static void test_a20_fetch(void)
{
    outb(0x92, (uint8_t)(inb(0x92) | 0x02));
    a20_stub_write(A20_STUB_HI, 0x1111);
    a20_stub_write(A20_STUB_LO, 0x2222);
    __asm__ volatile("cli\n\t"
                     "mov %%esp, a20_saved_esp\n\t"
                     "mov %0, %%esp\n\t"
                     "call a20_fetch_body\n\t"
                     "mov a20_saved_esp, %%esp"
                     : : "i"(a20_stack + sizeof(a20_stack))
                     : "eax", "ebx", "ecx", "edx", "memory", "cc");
    printf("a20 fetch: the instruction after OUT 92h came from %x\n",
           a20_fetch_ebx == 0x2222 ? A20_STUB_LO : a20_fetch_ebx == 0x1111 ? A20_STUB_HI : 0);
    CHECK_EQ(a20_fetch_ebx, 0x2222);
    puts("kbc: A20 fetch ok\n");
}

void test_main(void)
{
    test_controller();
    test_keyboard();
    test_mouse();
    test_interrupts();
    test_a20();
    test_a20_fetch();
}
