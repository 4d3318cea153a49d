/*
 * uart_line.c — tests/guest/uart.c again with -serial-timing line
 * (tests/guest/uart_line.glass-args): every byte takes its character time
 * at the programmed baud rate, as on a real wire. QEMU has no such mode:
 * there this is the uart test again.
 */
#ifndef QEMU_VALIDATE
#define UART_LINE_TIMING
#endif
#include "uart.c"
