/*
 * hw/pic.c — two Intel 8259A PICs wired as on the PC/AT (master 20h/21h,
 * slave A0h/A1h on the master's IR2) plus the PIIX3 ELCR (4D0h/4D1h).
 *
 * References: Intel 8259A Programmable Interrupt Controller datasheet
 * (order 231468): "Interrupt Sequence", "Initialization Command Words",
 * "Operation Command Words", "Fully Nested Mode", "Automatic Rotation",
 * "Special Mask Mode", "Poll Command", "Edge and Level Triggered Modes",
 * "The Special Fully Nested Mode"; Intel 82371SB (PIIX3) datasheet,
 * section 2.6 ELCR1/ELCR2.
 *
 * Model choices (why):
 *  - Edge mode latches a request on the rising edge and keeps it until
 *    INTA even if the line drops: emulated devices may pulse a line within
 *    one instruction, which real hardware never does (its pulses last
 *    longer than an INTA cycle). A request that goes away in level mode,
 *    or is masked, before INTA still gets the spurious IRQ 7 vector.
 *  - ICW1 clears the in-service register as well as the edge latches, so
 *    a guest that re-initializes the PIC (kexec, a second kernel) starts
 *    clean; the datasheet lists what ICW1 resets but not the ISR.
 *  - Vectors are always 8086-style (ICW2 T7-T3 + IR); the MCS-80 CALL
 *    sequence has no x86 use. ICW4 BUF and M/S only steer bus buffers.
 */
#include <stdlib.h>

#include "hw/pic.h"

/* ICW1 (A0=0, D4=1) */
#define ICW1_IC4 0x01  /* ICW4 follows */
#define ICW1_SNGL 0x02 /* single PIC: no ICW3 */
#define ICW1_LTIM 0x08 /* level triggered mode */
#define ICW1_INIT 0x10
/* ICW4 */
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
/* OCW3 (A0=0, D4=0, D3=1) */
#define OCW3_RIS 0x01
#define OCW3_RR 0x02
#define OCW3_P 0x04
#define OCW3_SMM 0x20
#define OCW3_ESMM 0x40
#define OCW3_SEL 0x08

/* The cascade input of the master. */
#define PIC_CASCADE_IR 2

enum { INIT_READY = 0, INIT_ICW2 = 2, INIT_ICW3 = 3, INIT_ICW4 = 4 };

struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t pins;      /* last level seen on each IR input (edge detection) */
    uint8_t elcr;      /* PIIX3 ELCR: 1 = level triggered */
    uint8_t elcr_mask; /* the ELCR bits that exist (others forced 0) */
    uint8_t base;      /* ICW2 T7-T3 */
    uint8_t lowest;    /* the IR with the lowest priority (IR7 after ICW1) */
    uint8_t init_step; /* which ICW the odd port expects, or INIT_READY */
    uint8_t icw1, icw3, icw4;
    bool read_isr;     /* OCW3 RR/RIS: the even port reads ISR, else IRR */
    bool poll;         /* OCW3 P: the next even-port read is a poll */
    bool special_mask; /* OCW3 SMM */
    bool rotate_aeoi;  /* OCW2 "rotate in automatic EOI mode" */
    bool out;          /* INT output */
};

struct pic {
    struct pic_chip chip[2]; /* 0 master, 1 slave */
    struct irq_line cpu_intr;
};

/* ------------------------------------------------------------ priority */

/* The highest priority IR set in `mask`, scanning from the one after the
 * lowest priority level ("Automatic Rotation"), or -1. */
static int highest(const struct pic_chip *c, uint8_t mask)
{
    for (int i = 1; i <= 8; i++) {
        int ir = (c->lowest + i) & 7;
        if (mask & (1u << ir))
            return ir;
    }
    return -1;
}

/* 0 = highest priority. */
static int prio(const struct pic_chip *c, int ir)
{
    return (ir - c->lowest - 1) & 7;
}

static uint8_t level_mask(const struct pic_chip *c)
{
    return (c->icw1 & ICW1_LTIM) ? 0xff : c->elcr;
}

/* The IR this chip would interrupt for now, or -1. */
static int chip_pending(const struct pic_chip *c, bool master)
{
    uint8_t req = c->irr & ~c->imr;
    if (c->special_mask) {
        /* "Special Mask Mode": in-service levels inhibit only themselves,
         * every unmasked level, lower or higher, may interrupt. */
        return highest(c, req & ~c->isr);
    }
    int ir = highest(c, req);
    if (ir < 0)
        return -1;
    int cur = highest(c, c->isr);
    if (cur < 0 || prio(c, ir) < prio(c, cur))
        return ir;
    /* "Special Fully Nested Mode": the master lets the slave interrupt
     * again while the cascade level is in service. */
    if (master && (c->icw4 & ICW4_SFNM) && ir == PIC_CASCADE_IR && cur == PIC_CASCADE_IR)
        return ir;
    return -1;
}

/* An IR input changes level: edge lines latch on the rising edge, level
 * lines' requests follow the pin. */
static void latch(struct pic_chip *c, int ir, int level)
{
    uint8_t bit = (uint8_t)(1u << ir);
    bool was = c->pins & bit;
    if (level) {
        c->pins |= bit;
        if ((level_mask(c) & bit) || !was)
            c->irr |= bit;
    } else {
        c->pins &= (uint8_t)~bit;
        if (level_mask(c) & bit)
            c->irr &= (uint8_t)~bit;
    }
}

/* Level lines' requests follow their pins after a trigger-mode change. */
static void resync_levels(struct pic_chip *c)
{
    uint8_t lm = level_mask(c);
    c->irr = (uint8_t)((c->irr & ~lm) | (c->pins & lm));
}

/* Recomputes the slave's INT (the master's IR2) and the master's INT. */
static void update(struct pic *p)
{
    struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
    bool sout = chip_pending(s, false) >= 0;
    s->out = sout;
    latch(m, PIC_CASCADE_IR, sout);
    bool mout = chip_pending(m, true) >= 0;
    if (mout != m->out) {
        m->out = mout;
        irq_set(&p->cpu_intr, mout);
    }
}

/* First INTA pulse on one chip: the level goes in service, an edge
 * request is consumed. Level requests stay while the pin is high. */
static void chip_ack(struct pic_chip *c, int ir)
{
    uint8_t bit = (uint8_t)(1u << ir);
    c->isr |= bit;
    if (!(level_mask(c) & bit))
        c->irr &= (uint8_t)~bit;
}

/* End of the last INTA pulse in AEOI mode: the in-service bit goes away
 * again (and with "rotate in AEOI" the level becomes the lowest). */
static void chip_aeoi(struct pic_chip *c, int ir)
{
    if (!(c->icw4 & ICW4_AEOI))
        return;
    c->isr &= (uint8_t)~(1u << ir);
    if (c->rotate_aeoi)
        c->lowest = (uint8_t)ir;
}

void pic_set_irq(void *opaque, int irq, int level)
{
    struct pic *p = opaque;
    if (irq < 0 || irq > 15 || irq == PIC_CASCADE_IR)
        return;
    latch(&p->chip[irq >> 3], irq & 7, level);
    update(p);
}

int pic_intr_ack(struct pic *p)
{
    struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
    int ir = chip_pending(m, true);
    if (ir < 0)
        return m->base + 7; /* spurious: nothing goes in service */
    chip_ack(m, ir);
    int vec, sir = -1;
    if (ir == PIC_CASCADE_IR && !(m->icw1 & ICW1_SNGL)) {
        /* The slave answers the second INTA with its own vector. */
        sir = chip_pending(s, false);
        if (sir >= 0) {
            chip_ack(s, sir);
            vec = s->base + sir;
        } else {
            vec = s->base + 7; /* spurious IRQ 15; master IR2 in service */
        }
    } else {
        vec = m->base + ir;
    }
    update(p); /* INT outputs drop while the levels are in service */
    chip_aeoi(m, ir);
    if (sir >= 0)
        chip_aeoi(s, sir);
    update(p);
    return vec;
}

bool pic_intr_level(const struct pic *p)
{
    return p->chip[0].out;
}

/* ------------------------------------------------------------ commands */

static void icw1(struct pic_chip *c, uint8_t val)
{
    /* "Initialization Command Words": edge sense reset, IMR cleared, IR7
     * lowest priority, special mask off, status read = IRR, ICW4
     * functions zero unless IC4. */
    c->icw1 = val;
    c->init_step = INIT_ICW2;
    c->imr = 0;
    c->isr = 0;
    c->irr = 0;
    c->lowest = 7;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->rotate_aeoi = false;
    c->icw3 = 7;
    if (!(val & ICW1_IC4))
        c->icw4 = 0;
    resync_levels(c);
}

static void ocw2(struct pic_chip *c, uint8_t val)
{
    int level = val & 7;
    int ir;
    switch (val >> 5) { /* R SL EOI */
    case 1: /* non-specific EOI */
        ir = highest(c, c->isr);
        if (ir >= 0)
            c->isr &= (uint8_t)~(1u << ir);
        break;
    case 3: /* specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        break;
    case 5: /* rotate on non-specific EOI */
        ir = highest(c, c->isr);
        if (ir >= 0) {
            c->isr &= (uint8_t)~(1u << ir);
            c->lowest = (uint8_t)ir;
        }
        break;
    case 4: /* rotate in automatic EOI mode (set) */
        c->rotate_aeoi = true;
        break;
    case 0: /* rotate in automatic EOI mode (clear) */
        c->rotate_aeoi = false;
        break;
    case 7: /* rotate on specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        c->lowest = (uint8_t)level;
        break;
    case 6: /* set priority */
        c->lowest = (uint8_t)level;
        break;
    default: /* 2: no operation */
        break;
    }
}

static void ocw3(struct pic_chip *c, uint8_t val)
{
    if (val & OCW3_ESMM)
        c->special_mask = val & OCW3_SMM;
    if (val & OCW3_RR)
        c->read_isr = val & OCW3_RIS;
    c->poll = val & OCW3_P; /* takes precedence over RR on the next read */
}

static void chip_write(struct pic *p, int n, bool a0, uint8_t val)
{
    struct pic_chip *c = &p->chip[n];
    if (!a0) {
        if (val & ICW1_INIT)
            icw1(c, val);
        else if (val & OCW3_SEL)
            ocw3(c, val);
        else
            ocw2(c, val);
    } else {
        switch (c->init_step) {
        case INIT_ICW2:
            c->base = val & 0xf8;
            if (!(c->icw1 & ICW1_SNGL))
                c->init_step = INIT_ICW3;
            else
                c->init_step = (c->icw1 & ICW1_IC4) ? INIT_ICW4 : INIT_READY;
            break;
        case INIT_ICW3:
            c->icw3 = val;
            c->init_step = (c->icw1 & ICW1_IC4) ? INIT_ICW4 : INIT_READY;
            break;
        case INIT_ICW4:
            c->icw4 = val;
            c->init_step = INIT_READY;
            break;
        default: /* OCW1 */
            c->imr = val;
            break;
        }
    }
    update(p);
}

static uint8_t chip_read(struct pic *p, int n, bool a0)
{
    struct pic_chip *c = &p->chip[n];
    if (a0)
        return c->imr;
    if (c->poll) {
        /* "Poll Command": the read acts as an INTA for this chip and
         * returns I (bit 7) and the level W2-W0. */
        c->poll = false;
        int ir = chip_pending(c, n == 0);
        if (ir < 0)
            return 0;
        chip_ack(c, ir);
        update(p);
        chip_aeoi(c, ir);
        update(p);
        return (uint8_t)(0x80 | ir);
    }
    return c->read_isr ? c->isr : c->irr;
}

/* Ports: an ISA bus splits wider accesses into byte cycles. */
static uint64_t pic_io_read(void *opaque, uint64_t addr, unsigned size)
{
    struct pic *p = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t port = addr + i;
        uint8_t b = 0xff;
        if ((port & ~1ull) == PIC_MASTER_PORT)
            b = chip_read(p, 0, port & 1);
        else if ((port & ~1ull) == PIC_SLAVE_PORT)
            b = chip_read(p, 1, port & 1);
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void pic_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct pic *p = opaque;
    for (unsigned i = 0; i < size; i++) {
        uint64_t port = addr + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        if ((port & ~1ull) == PIC_MASTER_PORT)
            chip_write(p, 0, port & 1, b);
        else if ((port & ~1ull) == PIC_SLAVE_PORT)
            chip_write(p, 1, port & 1, b);
    }
}

static const struct mem_ops pic_ops = {
    .read = pic_io_read,
    .write = pic_io_write,
};

/* PIIX3 ELCR1 (4D0h, IRQ0-7) and ELCR2 (4D1h, IRQ8-15). */
static uint64_t elcr_read(void *opaque, uint64_t addr, unsigned size)
{
    struct pic *p = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t port = addr + i;
        uint8_t b = 0xff;
        if (port >= PIC_ELCR_PORT && port < PIC_ELCR_PORT + 2)
            b = p->chip[port - PIC_ELCR_PORT].elcr;
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void elcr_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct pic *p = opaque;
    for (unsigned i = 0; i < size; i++) {
        uint64_t port = addr + i;
        if (port >= PIC_ELCR_PORT && port < PIC_ELCR_PORT + 2) {
            struct pic_chip *c = &p->chip[port - PIC_ELCR_PORT];
            c->elcr = (uint8_t)(val >> (8 * i)) & c->elcr_mask;
            resync_levels(c);
        }
    }
    update(p);
}

static const struct mem_ops elcr_ops = {
    .read = elcr_read,
    .write = elcr_write,
};

void pic_reset(struct pic *p)
{
    for (int n = 0; n < 2; n++) {
        struct pic_chip *c = &p->chip[n];
        uint8_t pins = c->pins;
        *c = (struct pic_chip){ 0 };
        c->pins = pins; /* the wires keep their levels */
        /* PIIX3: IRQ0, 1, 2, 8# and 13 are always edge triggered. */
        c->elcr_mask = n == 0 ? 0xf8 : 0xde;
        icw1(c, ICW1_INIT);
        c->init_step = INIT_READY;
    }
    p->chip[0].out = false;
    irq_set(&p->cpu_intr, 0);
    update(p);
}

struct pic *pic_new(struct io_space *io, const struct irq_line *cpu_intr)
{
    struct pic *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    if (cpu_intr)
        p->cpu_intr = *cpu_intr;
    pic_reset(p);
    if (io_register(io, PIC_MASTER_PORT, 2, &pic_ops, p) != 0 ||
        io_register(io, PIC_SLAVE_PORT, 2, &pic_ops, p) != 0 ||
        io_register(io, PIC_ELCR_PORT, 2, &elcr_ops, p) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

void pic_free(struct pic *p)
{
    free(p);
}

/* ------------------------------------------------------------ state */

#define CHIP_U8(i, f) { "pic" #i "." #f, DEV_FIELD_U8, offsetof(struct pic, chip[i].f), 1 }
#define CHIP_BOOL(i, f) { "pic" #i "." #f, DEV_FIELD_BOOL, offsetof(struct pic, chip[i].f), 1 }
#define CHIP_FIELDS(i)                                                                    \
    CHIP_U8(i, irr), CHIP_U8(i, isr), CHIP_U8(i, imr), CHIP_U8(i, pins), CHIP_U8(i, elcr),   \
    CHIP_U8(i, elcr_mask), CHIP_U8(i, base), CHIP_U8(i, lowest), CHIP_U8(i, init_step),      \
    CHIP_U8(i, icw1), CHIP_U8(i, icw3), CHIP_U8(i, icw4), CHIP_BOOL(i, read_isr),            \
    CHIP_BOOL(i, poll), CHIP_BOOL(i, special_mask), CHIP_BOOL(i, rotate_aeoi),               \
    CHIP_BOOL(i, out)

static const struct dev_field pic_fields[] = {
    CHIP_FIELDS(0),
    CHIP_FIELDS(1),
    { NULL, 0, 0, 0 },
};

const struct dev_state_desc pic_state_desc = {
    .name = "i8259",
    .version = 1,
    .fields = pic_fields,
};

void pic_print_info(const struct pic *p, FILE *out)
{
    static const char *const names[2] = { "master", "slave" };
    for (int i = 0; i < 2; i++) {
        const struct pic_chip *c = &p->chip[i];
        fprintf(out, "pic %-6s irr=%02x isr=%02x imr=%02x elcr=%02x base=%02x lowest=%u%s%s%s%s\n",
                names[i], c->irr, c->isr, c->imr, c->elcr, c->base, c->lowest,
                (c->icw4 & ICW4_AEOI) ? " aeoi" : "", c->special_mask ? " smm" : "",
                (c->icw1 & ICW1_LTIM) ? " level" : "",
                c->init_step != INIT_READY ? " (initialising)" : "");
    }
    fprintf(out, "pic INT output %s\n", p->chip[0].out ? "high" : "low");
}
