/*
 * hw/pic.h — the PC/AT pair of Intel 8259A programmable interrupt
 * controllers: master at 20h/21h, slave at A0h/A1h cascaded on the
 * master's IR2, and the PIIX3 edge/level control registers (ELCR) at
 * 4D0h/4D1h.
 *
 * Devices do not call the PIC: the board gives each one a struct irq_line
 * connected to (pic_set_irq, pic, n). The master's INT output goes to
 * `cpu_intr`; the CPU answers it with pic_intr_ack (the INTA cycle).
 */
#ifndef GLASS_HW_PIC_H
#define GLASS_HW_PIC_H

#include <stdio.h>

#include "hw/dev.h"

struct pic;

#define PIC_MASTER_PORT 0x20
#define PIC_SLAVE_PORT 0xa0
#define PIC_ELCR_PORT 0x4d0

/* Registers the ports and comes out of reset. `cpu_intr` is copied. */
struct pic *pic_new(struct io_space *io, const struct irq_line *cpu_intr);
void pic_free(struct pic *p);
/* Hardware reset (RESET pin): as after ICW1 with nothing programmed. */
void pic_reset(struct pic *p);

/*
 * An interrupt request pin, as an irq_fn: irq 0-15 (8-15 on the slave),
 * level 0 or 1. IRQ 2 is the cascade input, driven by the slave alone;
 * other values are ignored.
 */
void pic_set_irq(void *opaque, int irq, int level);

/*
 * The INTA cycle: returns the vector of the highest priority request,
 * putting it in service (and clearing its request if edge triggered). A
 * request that went away before INTA gets the spurious vector, IRQ 7 of
 * the chip that had nothing to give (no in-service bit set there).
 */
int pic_intr_ack(struct pic *p);

/* The monitor's "info pic": each chip's IRR, ISR, IMR, ELCR, vector base
 * and modes, one line per chip. Changes nothing (no poll, no INTA). */
void pic_print_info(const struct pic *p, FILE *out);

/* The level of the INT output to the CPU (for tests and the board). */
bool pic_intr_level(const struct pic *p);

extern const struct dev_state_desc pic_state_desc;

#endif
