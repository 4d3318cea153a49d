/*
 * hw/pit.h — the Intel 8254 programmable interval timer at 40h-43h
 * (1.193182 MHz input clock) and, in the same file because it is the
 * 8254's channel 2 gate and output, system control port B at 61h
 * (channel 2 gate, speaker data, refresh toggle, OUT2).
 *
 * Channel 0's OUT drives `irq0` (IRQ 0 of the PIC); channel 0's and 1's
 * gates are tied high, channel 2's gate is port 61h bit 0.
 */
#ifndef GLASS_HW_PIT_H
#define GLASS_HW_PIT_H

#include <stdio.h>

#include "hw/dev.h"

struct pit;

#define PIT_PORT 0x40
#define PIT_PORT61 0x61
#define PIT_FREQ_HZ 1193182ull

/* Registers ports 40h-43h and 61h and arms nothing until the guest
 * programs a channel. `irq0` is copied. */
struct pit *pit_new(struct io_space *io, struct vclock *clk, const struct irq_line *irq0);
void pit_free(struct pit *p);
/* Hardware reset: every channel unprogrammed (the datasheet leaves them
 * undefined at power-on), OUT0 low, port 61h zero. */
void pit_reset(struct pit *p);

/* A channel's GATE input (port 61h bit 0 drives channel 2). */
void pit_set_gate(struct pit *p, int channel, bool level);
/* A channel's OUT pin now. */
bool pit_out(struct pit *p, int channel);
/* Port 61h bit 1 AND OUT2: what reaches the speaker. */
bool pit_speaker(struct pit *p);

/* The monitor's "info pit": each channel's mode, count register, current
 * count, gate and OUT, one line per channel, and port 61h. Reads no
 * latch and changes nothing. */
void pit_print_info(struct pit *p, FILE *out);

extern const struct dev_state_desc pit_state_desc;

#endif
