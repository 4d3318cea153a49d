/*
 * hw/uart.h — National Semiconductor PC16550D UART (16550A), eight ports
 * at `base`, with 16-byte receive and transmit FIFOs. PC wiring: COM1 at
 * 0x3F8 on IRQ 4, COM2 at 0x2F8 on IRQ 3; the interrupt reaches the PIC
 * only while MCR.OUT2 is set (the OUT2 pin enables the IRQ driver).
 */
#ifndef GLASS_HW_UART_H
#define GLASS_HW_UART_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/dev.h"

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ 4
#define UART_COM2_BASE 0x2f8
#define UART_COM2_IRQ 3
#define UART_PORTS 8

/* Register offsets (PC16550D, "Summary of Registers"). */
enum {
    UART_RBR = 0, UART_THR = 0, UART_DLL = 0, /* DLL when LCR.DLAB */
    UART_IER = 1, UART_DLM = 1,               /* DLM when LCR.DLAB */
    UART_IIR = 2, UART_FCR = 2,               /* IIR read, FCR write */
    UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define UART_IER_ERBFI 0x01 /* received data available */
#define UART_IER_ETBEI 0x02 /* transmitter holding register empty */
#define UART_IER_ELSI 0x04  /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_ID_MASK 0x0e
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_CTI 0x0c /* character timeout */
#define UART_IIR_FIFO 0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04
#define UART_FCR_DMA 0x08
#define UART_FCR_TRIGGER 0xc0

#define UART_LCR_WLEN 0x03
#define UART_LCR_STOP 0x04
#define UART_LCR_PARITY 0x08
#define UART_LCR_SBC 0x40 /* set break */
#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_PE 0x04
#define UART_LSR_FE 0x08
#define UART_LSR_BI 0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_FIFOE 0x80

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

/* The input clock of a PC serial port: 1.8432 MHz, divided by 16 x the
 * divisor latch to give the baud rate (divisor 1 = 115200 baud). */
#define UART_XTAL_HZ 1843200u

/*
 * How long the transmitter takes for a character (-serial-timing).
 *  FAST: no time at all. A byte written to THR leaves for the host end at
 *        once (as fast as the host takes it), so THR and the shift register
 *        are empty again, and THRE rises, before the guest's next access.
 *        This is what QEMU does; a guest console is then held back by
 *        nothing but its own code.
 *  LINE: the character time of the programmed baud rate and format, as on
 *        a real wire (9600 baud 8N1: 1.04 ms a byte).
 * The receiver measures its line in true character times in both modes
 * (the character timeout, a loopback break): see hw/uart.c.
 */
enum uart_timing { UART_TIMING_FAST, UART_TIMING_LINE };

struct uart;

/*
 * Builds the UART on ports [base, base+8) of `io`. `*irq` is copied (its
 * receiver must outlive the UART). `chr` (may be NULL: a port with
 * nothing connected) carries transmitted bytes to the host, and the UART
 * attaches itself to it for input. Registers come up in their reset
 * state (PC16550D "UART Reset Configuration"); the divisor latch as 12 (9600 baud).
 */
struct uart *uart_new(struct io_space *io, uint16_t base, struct vclock *clk,
                      struct irq_line *irq, struct chardev *chr);
void uart_free(struct uart *u);
/* MR (master reset) pin: the board calls it on a machine reset. */
void uart_reset(struct uart *u);
/* The transmitter's pace (UART_TIMING_FAST after uart_new). A byte
 * already in the shift register keeps its deadline. */
void uart_set_timing(struct uart *u, enum uart_timing timing);
/* Nanoseconds one character of the current line format takes on the wire
 * at the programmed baud rate (whatever the timing). */
uint64_t uart_char_time_ns(const struct uart *u);
/* Sends what the transmitter still holds (shift register, then THR or the
 * FIFO) at once, as if its character times had passed: the board calls it
 * when the machine stops, so that the host end gets every byte the guest
 * wrote. */
void uart_flush(struct uart *u);

extern const struct dev_state_desc uart_state_desc;

#endif
