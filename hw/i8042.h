/*
 * hw/i8042.h — the PC/AT keyboard controller (Intel 8042 with IBM's
 * firmware, PS/2 variant with the auxiliary port): data port 0x60,
 * status/command port 0x64, IRQ 1 (keyboard) and IRQ 12 (mouse), the
 * output port's A20 gate and CPU reset lines. The PS/2 keyboard and mouse
 * behind it are hw/ps2.c.
 */
#ifndef GLASS_HW_I8042_H
#define GLASS_HW_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/dev.h"
#include "hw/ps2.h"

#define I8042_PORT_DATA 0x60
#define I8042_PORT_STATUS 0x64 /* read: status; write: command */

/* Status register (IBM PS/2 reference, "Status register"). */
#define I8042_STR_OBF 0x01   /* output buffer full */
#define I8042_STR_IBF 0x02   /* input buffer full */
#define I8042_STR_SYS 0x04   /* system flag (command byte bit 2) */
#define I8042_STR_CMD 0x08   /* last write was to port 0x64 */
#define I8042_STR_INH 0x10   /* 1 = keyboard not inhibited (keylock) */
#define I8042_STR_AUXB 0x20  /* the output buffer holds auxiliary data */
#define I8042_STR_TO 0x40    /* timeout */
#define I8042_STR_PERR 0x80  /* parity error */

/* Command byte ("controller RAM" byte 0). */
#define I8042_CMD_INT 0x01   /* IRQ 1 on keyboard data */
#define I8042_CMD_INT2 0x02  /* IRQ 12 on auxiliary data */
#define I8042_CMD_SYS 0x04
#define I8042_CMD_DIS 0x10   /* keyboard clock disabled */
#define I8042_CMD_DIS2 0x20  /* auxiliary clock disabled */
#define I8042_CMD_XLAT 0x40  /* set 2 -> set 1 translation */

/* Output port. */
#define I8042_OUT_RESET 0x01 /* 0 = CPU held in reset */
#define I8042_OUT_A20 0x02

/* What the chipset lines do on the board; shared with port 0x92. */
struct sysctl_callbacks {
    void (*a20)(void *opaque, bool on); /* this source's A20 request changed */
    void (*reset)(void *opaque);        /* pulse the CPU's RESET */
    void *opaque;
};

struct i8042;

/* Registers ports 0x60 and 0x64 on `io` and builds the keyboard and the
 * mouse behind the controller. */
struct i8042 *i8042_new(struct io_space *io, struct vclock *clk, struct irq_line irq_kbd,
                        struct irq_line irq_aux, const struct sysctl_callbacks *cb);
void i8042_free(struct i8042 *c);
/* Power-on state of the controller and both devices. The output port
 * comes back with A20 on (as the board's reset turns the gate on) without
 * calling the a20 callback. */
void i8042_reset(struct i8042 *c);

/* The frontend's input. keycode is an enum glass_key. */
void i8042_key_event(struct i8042 *c, unsigned keycode, bool pressed);
/* dx right, dy down, dz wheel towards the user; buttons PS2_BTN_*. */
void i8042_mouse_event(struct i8042 *c, int dx, int dy, int dz, unsigned buttons);

/* The output port's A20 bit (the board ORs it with port 0x92's). */
bool i8042_a20(const struct i8042 *c);

/* For tests and the board's monitor. */
struct ps2_kbd *i8042_kbd(struct i8042 *c);
struct ps2_mouse *i8042_mouse(struct i8042 *c);

extern const struct dev_state_desc i8042_state_desc;

/* ------------------------------------------------------------------ */
/* Port 0x92, PS/2 System Control Port A (hw/port92.c)                 */
/* ------------------------------------------------------------------ */

#define PORT92 0x92
#define PORT92_RESET 0x01 /* 0 -> 1: fast CPU reset */
#define PORT92_A20 0x02   /* alternate A20 gate */

struct port92;

struct port92 *port92_new(struct io_space *io, const struct sysctl_callbacks *cb);
void port92_free(struct port92 *p);
void port92_reset(struct port92 *p);
bool port92_a20(const struct port92 *p);

extern const struct dev_state_desc port92_state_desc;

#endif
