/*
 * test_pic.c — the 8259A pair of hw/pic.c through its ports: ICW
 * sequence, masks, priorities, EOI variants, rotation, poll, special mask,
 * spurious IRQs, cascade, level triggering (LTIM and ELCR).
 */
#include <criterion/criterion.h>

#include "hw/pic.h"

struct intr_rx {
    int level;
    int changes;
};

static void intr_fn(void *opaque, int n, int level)
{
    struct intr_rx *r = opaque;
    (void)n;
    if (level != r->level)
        r->changes++;
    r->level = level;
}

struct rig {
    struct io_space *io;
    struct pic *pic;
    struct intr_rx rx;
};

/* What a PC BIOS and Linux program: bases 08h/70h, cascade on IR2, 8086. */
static void rig_init(struct rig *r, uint8_t icw1, uint8_t icw4)
{
    r->io = io_new();
    r->rx = (struct intr_rx){ 0 };
    struct irq_line l;
    irq_connect(&l, intr_fn, &r->rx, 0);
    r->pic = pic_new(r->io, &l);
    cr_assert_not_null(r->pic);
    io_write(r->io, 0x20, icw1, 1);
    io_write(r->io, 0x21, 0x08, 1);
    io_write(r->io, 0x21, 0x04, 1);
    io_write(r->io, 0x21, icw4, 1);
    io_write(r->io, 0xa0, icw1, 1);
    io_write(r->io, 0xa1, 0x70, 1);
    io_write(r->io, 0xa1, 0x02, 1);
    io_write(r->io, 0xa1, icw4, 1);
}

static void rig_fini(struct rig *r)
{
    pic_free(r->pic);
    io_free(r->io);
}

static void irq(struct rig *r, int n, int level)
{
    pic_set_irq(r->pic, n, level);
}

static void pulse(struct rig *r, int n)
{
    irq(r, n, 1);
    irq(r, n, 0);
}

static uint8_t isr(struct rig *r, uint16_t port)
{
    io_write(r->io, port, 0x0b, 1);
    return (uint8_t)io_read(r->io, port, 1);
}

static uint8_t irr(struct rig *r, uint16_t port)
{
    io_write(r->io, port, 0x0a, 1);
    return (uint8_t)io_read(r->io, port, 1);
}

TestSuite(pic);

Test(pic, init_ack_eoi)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    cr_assert_eq(r.rx.level, 0);
    irq(&r, 0, 1);
    cr_assert_eq(r.rx.level, 1);
    cr_assert_eq(irr(&r, 0x20), 0x01);
    cr_assert_eq(pic_intr_ack(r.pic), 0x08);
    cr_assert_eq(r.rx.level, 0);
    cr_assert_eq(isr(&r, 0x20), 0x01);
    cr_assert_eq(irr(&r, 0x20), 0x00);
    io_write(r.io, 0x20, 0x20, 1); /* non-specific EOI */
    cr_assert_eq(isr(&r, 0x20), 0x00);
    /* Edge: the line is still high, no new request without a new edge. */
    cr_assert_eq(r.rx.level, 0);
    irq(&r, 0, 0);
    irq(&r, 0, 1);
    cr_assert_eq(r.rx.level, 1);
    /* The status read selection persists: ISR still reads after OCW3. */
    io_write(r.io, 0x20, 0x0b, 1);
    cr_assert_eq(io_read(r.io, 0x20, 1), 0x00);
    cr_assert_eq(io_read(r.io, 0x20, 1), 0x00);
    rig_fini(&r);
}

Test(pic, masks)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    io_write(r.io, 0x21, 0xfb, 1);
    io_write(r.io, 0xa1, 0xff, 1);
    cr_assert_eq(io_read(r.io, 0x21, 1), 0xfb);
    cr_assert_eq(io_read(r.io, 0xa1, 1), 0xff);
    pulse(&r, 1);
    pulse(&r, 9);
    cr_assert_eq(r.rx.level, 0);
    cr_assert_eq(irr(&r, 0x20), 0x02);
    cr_assert_eq(irr(&r, 0xa0), 0x02);
    io_write(r.io, 0xa1, 0xfd, 1); /* unmask IRQ 9 */
    cr_assert_eq(r.rx.level, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x71);
    io_write(r.io, 0xa0, 0x20, 1);
    io_write(r.io, 0x20, 0x20, 1);
    cr_assert_eq(r.rx.level, 0);
    io_write(r.io, 0x21, 0x00, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x09);
    /* ICW1 clears the mask. */
    io_write(r.io, 0x20, 0x11, 1);
    cr_assert_eq(io_read(r.io, 0x21, 1), 0x00);
    rig_fini(&r);
}

Test(pic, fully_nested_priorities)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    pulse(&r, 3);
    pulse(&r, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x09);
    /* IR3 is lower priority than IR1 in service: blocked. */
    cr_assert_eq(r.rx.level, 0);
    pulse(&r, 0); /* higher: nests */
    cr_assert_eq(r.rx.level, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x08);
    cr_assert_eq(isr(&r, 0x20), 0x03);
    io_write(r.io, 0x20, 0x20, 1); /* clears IR0, the highest */
    cr_assert_eq(isr(&r, 0x20), 0x02);
    cr_assert_eq(r.rx.level, 0);
    io_write(r.io, 0x20, 0x61, 1); /* specific EOI IR1 */
    cr_assert_eq(isr(&r, 0x20), 0x00);
    cr_assert_eq(r.rx.level, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x0b);
    /* Specific EOI of a level not in service changes nothing else. */
    io_write(r.io, 0x20, 0x65, 1);
    cr_assert_eq(isr(&r, 0x20), 0x08);
    io_write(r.io, 0x20, 0x63, 1);
    cr_assert_eq(isr(&r, 0x20), 0x00);
    rig_fini(&r);
}

Test(pic, rotation)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    pulse(&r, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x09);
    io_write(r.io, 0x20, 0xa0, 1); /* rotate on non-specific EOI: IR1 lowest */
    pulse(&r, 0);
    pulse(&r, 3);
    /* Order now 2,3,4,5,6,7,0,1. */
    cr_assert_eq(pic_intr_ack(r.pic), 0x0b);
    io_write(r.io, 0x20, 0xe3, 1); /* rotate on specific EOI 3: IR3 lowest */
    pulse(&r, 4);
    /* Order 4,5,6,7,0,1,2,3: IR4 before the pending IR0. */
    cr_assert_eq(pic_intr_ack(r.pic), 0x0c);
    io_write(r.io, 0x20, 0x20, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x08);
    io_write(r.io, 0x20, 0x20, 1);
    /* Set priority: IR5 lowest, IR6 highest. */
    io_write(r.io, 0x20, 0xc5, 1);
    pulse(&r, 5);
    pulse(&r, 7);
    pulse(&r, 6);
    cr_assert_eq(pic_intr_ack(r.pic), 0x0e);
    io_write(r.io, 0x20, 0x20, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x0f);
    cr_assert_eq(isr(&r, 0x20), 0x80); /* a real IR7, not a spurious one */
    io_write(r.io, 0x20, 0x20, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x0d);
    rig_fini(&r);
}

Test(pic, set_priority_blocks_lower)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    io_write(r.io, 0x20, 0xc5, 1); /* IR6 highest ... IR5 lowest */
    pulse(&r, 5);
    pulse(&r, 7);
    cr_assert_eq(pic_intr_ack(r.pic), 0x0f);
    cr_assert_eq(r.rx.level, 0); /* IR5 lower than IR7 in service */
    io_write(r.io, 0x20, 0x20, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x0d);
    rig_fini(&r);
}

Test(pic, aeoi_and_rotate_in_aeoi)
{
    struct rig r;
    rig_init(&r, 0x11, 0x03);
    pulse(&r, 2 + 2); /* IRQ 4 */
    cr_assert_eq(pic_intr_ack(r.pic), 0x0c);
    cr_assert_eq(isr(&r, 0x20), 0x00);
    io_write(r.io, 0x20, 0x80, 1); /* rotate in AEOI (set) */
    pulse(&r, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x09);
    pulse(&r, 0);
    pulse(&r, 3);
    cr_assert_eq(pic_intr_ack(r.pic), 0x0b); /* IR1 went lowest: 2,3,..,0,1 */
    io_write(r.io, 0x20, 0x00, 1); /* rotate in AEOI (clear) */
    cr_assert_eq(pic_intr_ack(r.pic), 0x08); /* IR3 lowest now: 4..7,0 */
    pulse(&r, 1);
    pulse(&r, 0);
    cr_assert_eq(pic_intr_ack(r.pic), 0x08); /* no rotation: IR0 first still */
    /* Slave in AEOI with two pending: both come, no EOI needed. */
    pulse(&r, 10);
    pulse(&r, 11);
    cr_assert_eq(r.rx.level, 1);
    /* IR1 still pending comes first (IR3 lowest: 4..7,0,1,2). */
    cr_assert_eq(pic_intr_ack(r.pic), 0x09);
    cr_assert_eq(pic_intr_ack(r.pic), 0x72);
    cr_assert_eq(pic_intr_ack(r.pic), 0x73);
    cr_assert_eq(r.rx.level, 0);
    rig_fini(&r);
}

Test(pic, poll_command)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    io_write(r.io, 0x20, 0x0c, 1);
    cr_assert_eq(io_read(r.io, 0x20, 1), 0x00);
    pulse(&r, 6);
    pulse(&r, 5);
    io_write(r.io, 0x20, 0x0c, 1);
    cr_assert_eq(io_read(r.io, 0x20, 1), 0x85);
    cr_assert_eq(isr(&r, 0x20), 0x20);
    cr_assert_eq(irr(&r, 0x20), 0x40);
    /* Poll is a one-shot: the next read is the register again. */
    cr_assert_eq(io_read(r.io, 0x20, 1), 0x40);
    io_write(r.io, 0x20, 0x20, 1);
    /* Poll beats RR in the same OCW3. */
    io_write(r.io, 0x20, 0x0f, 1);
    cr_assert_eq(io_read(r.io, 0x20, 1), 0x86);
    rig_fini(&r);
}

Test(pic, special_mask_mode)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    pulse(&r, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x09);
    pulse(&r, 5);
    cr_assert_eq(r.rx.level, 0);
    io_write(r.io, 0x21, 0x02, 1); /* mask IR1 ... */
    io_write(r.io, 0x20, 0x68, 1); /* ... and enter special mask mode */
    cr_assert_eq(r.rx.level, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x0d);
    io_write(r.io, 0x20, 0x65, 1);
    io_write(r.io, 0x20, 0x48, 1); /* leave special mask mode */
    pulse(&r, 6);
    cr_assert_eq(r.rx.level, 0); /* IR1 in service blocks IR6 again */
    rig_fini(&r);
}

Test(pic, cascade)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    irq(&r, 12, 1);
    cr_assert_eq(r.rx.level, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x74);
    cr_assert_eq(isr(&r, 0x20), 0x04);
    cr_assert_eq(isr(&r, 0xa0), 0x10);
    irq(&r, 12, 0);
    pulse(&r, 14); /* lower on the slave: blocked */
    pulse(&r, 8);  /* higher on the slave, but master IR2 is in service */
    cr_assert_eq(r.rx.level, 0);
    io_write(r.io, 0xa0, 0x20, 1); /* EOI slave (clears IR4 of the slave) */
    cr_assert_eq(r.rx.level, 0);
    io_write(r.io, 0x20, 0x20, 1); /* EOI master */
    cr_assert_eq(r.rx.level, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x70);
    io_write(r.io, 0xa0, 0x20, 1);
    io_write(r.io, 0x20, 0x20, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x76);
    /* IRQ 2 from outside is the cascade input: ignored. */
    io_write(r.io, 0xa0, 0x20, 1);
    io_write(r.io, 0x20, 0x20, 1);
    irq(&r, 2, 1);
    cr_assert_eq(r.rx.level, 0);
    rig_fini(&r);
}

Test(pic, special_fully_nested)
{
    struct rig r;
    rig_init(&r, 0x11, 0x11);
    pulse(&r, 12);
    cr_assert_eq(pic_intr_ack(r.pic), 0x74);
    pulse(&r, 9); /* higher on the slave: SFNM lets it through IR2 */
    cr_assert_eq(r.rx.level, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x71);
    rig_fini(&r);
}

Test(pic, spurious_irq7_level_request_gone)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    io_write(r.io, 0x4d0, 0x20, 1); /* IRQ 5 level triggered */
    irq(&r, 5, 1);
    cr_assert_eq(r.rx.level, 1);
    irq(&r, 5, 0);
    cr_assert_eq(r.rx.level, 0);
    cr_assert_eq(pic_intr_ack(r.pic), 0x0f);
    cr_assert_eq(isr(&r, 0x20), 0x00);
    rig_fini(&r);
}

Test(pic, spurious_irq15)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    io_write(r.io, 0x4d1, 0x04, 1); /* IRQ 10 level triggered */
    irq(&r, 10, 1);
    irq(&r, 10, 0);
    /* The master latched the slave's INT edge on IR2; the slave has
     * nothing left: it answers with its IR7, the master's IR2 is in
     * service (Linux then EOIs the master only). */
    cr_assert_eq(pic_intr_ack(r.pic), 0x77);
    cr_assert_eq(isr(&r, 0xa0), 0x00);
    cr_assert_eq(isr(&r, 0x20), 0x04);
    /* Spurious with nothing at all: masked request. */
    io_write(r.io, 0x20, 0x20, 1);
    pulse(&r, 3);
    io_write(r.io, 0x21, 0x08, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x0f);
    rig_fini(&r);
}

Test(pic, level_mode_ltim)
{
    struct rig r;
    rig_init(&r, 0x19, 0x01);
    irq(&r, 4, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x0c);
    cr_assert_eq(irr(&r, 0x20), 0x10); /* stays while the pin is high */
    cr_assert_eq(r.rx.level, 0);
    io_write(r.io, 0x20, 0x20, 1);
    cr_assert_eq(r.rx.level, 1); /* still high: again */
    cr_assert_eq(pic_intr_ack(r.pic), 0x0c);
    irq(&r, 4, 0);
    io_write(r.io, 0x20, 0x20, 1);
    cr_assert_eq(r.rx.level, 0);
    cr_assert_eq(irr(&r, 0x20), 0x00);
    rig_fini(&r);
}

Test(pic, elcr)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    io_write(r.io, 0x4d0, 0xffff, 2);
    cr_assert_eq(io_read(r.io, 0x4d0, 1), 0xf8);
    cr_assert_eq(io_read(r.io, 0x4d1, 1), 0xde);
    cr_assert_eq(io_read(r.io, 0x4d0, 2), 0xdef8);
    /* A level line already high becomes a request when set level. */
    io_write(r.io, 0x4d0, 0x00, 2);
    irq(&r, 11, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x73);
    io_write(r.io, 0xa0, 0x20, 1);
    io_write(r.io, 0x20, 0x20, 1);
    cr_assert_eq(r.rx.level, 0); /* edge: held high, no repeat */
    io_write(r.io, 0x4d1, 0x08, 1);
    cr_assert_eq(r.rx.level, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x73);
    rig_fini(&r);
}

Test(pic, init_resets_state)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    irq(&r, 3, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x0b);
    io_write(r.io, 0x20, 0xc2, 1);
    io_write(r.io, 0x21, 0x55, 1);
    /* Re-initialize with base 20h, single, no ICW4 (4 not needed). */
    io_write(r.io, 0x20, 0x13, 1);
    io_write(r.io, 0x21, 0x20, 1);
    io_write(r.io, 0x21, 0x01, 1); /* ICW4 (IC4 set, SNGL: no ICW3) */
    cr_assert_eq(io_read(r.io, 0x21, 1), 0x00);
    cr_assert_eq(isr(&r, 0x20), 0x00);
    cr_assert_eq(irr(&r, 0x20), 0x00); /* edge sense reset: line still high */
    irq(&r, 3, 0);
    irq(&r, 3, 1);
    irq(&r, 7, 1);
    cr_assert_eq(pic_intr_ack(r.pic), 0x23); /* priority back to IR0 highest */
    /* Wide accesses split into bytes: IMR write through 20h/21h word. */
    io_write(r.io, 0x20, 0xff0b, 2); /* OCW3 read ISR, then IMR = ff */
    cr_assert_eq(io_read(r.io, 0x21, 1), 0xff);
    cr_assert_eq(io_read(r.io, 0x20, 2), 0xff08);
    rig_fini(&r);
}

Test(pic, reset_and_state_table)
{
    struct rig r;
    rig_init(&r, 0x11, 0x01);
    pulse(&r, 1);
    cr_assert_eq(r.rx.level, 1);
    pic_reset(r.pic);
    cr_assert_eq(r.rx.level, 0);
    cr_assert_eq(io_read(r.io, 0x21, 1), 0x00);
    cr_assert_str_eq(pic_state_desc.name, "i8259");
    int n = 0;
    for (const struct dev_field *f = pic_state_desc.fields; f->name; f++)
        n++;
    cr_assert_gt(n, 20);
    rig_fini(&r);
}

Test(pic, icw1_without_icw4_clears_aeoi)
{
    struct rig r;
    rig_init(&r, 0x11, 0x03);
    io_write(r.io, 0x20, 0x10, 1); /* ICW1: edge, cascade, no ICW4 */
    io_write(r.io, 0x21, 0x40, 1); /* ICW2 */
    io_write(r.io, 0x21, 0x04, 1); /* ICW3, then ready: OCW1 next */
    io_write(r.io, 0x21, 0x00, 1);
    pulse(&r, 6);
    cr_assert_eq(pic_intr_ack(r.pic), 0x46);
    cr_assert_eq(isr(&r, 0x20), 0x40); /* no AEOI any more */
    rig_fini(&r);
}
