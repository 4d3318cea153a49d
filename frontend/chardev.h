/*
 * frontend/chardev.h — host backends for serial ports (-serial): they make
 * the struct chardev of hw/hw.h that a UART is given.
 *
 *   stdio      output to stdout, input from stdin. A terminal is put in
 *              raw mode (restored at exit and on fatal signals) and the
 *              QEMU -nographic escapes work: Ctrl-A x quits, Ctrl-A c
 *              switches to the monitor and back, Ctrl-A Ctrl-A sends a
 *              Ctrl-A, Ctrl-A h prints help.
 *   file:PATH  output to PATH (created or truncated), no input.
 *   null       output dropped, no input.
 *
 * Input is never read behind the machine's back: the board calls
 * chardev_poll() between CPU slices; bytes the device cannot take yet are
 * kept and offered again at the next poll. The device's output is
 * gathered and written at chardev_flush() or chardev_poll() (or when 4
 * KiB are waiting): the board flushes after every slice.
 */
#ifndef GLASS_FRONTEND_CHARDEV_H
#define GLASS_FRONTEND_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>

#include "hw/hw.h"

/* The escape character of the stdio multiplexer (QEMU's default). */
#define CHARDEV_ESCAPE 0x01 /* Ctrl-A */

/* Parses a -serial argument ("stdio", "file:PATH", "null"). Returns NULL
 * with a message in err for an unknown kind or a file that cannot be
 * opened. */
struct chardev *chardev_open(const char *spec, char *err, size_t errlen);

struct chardev *chardev_new_stdio(void);
struct chardev *chardev_new_null(void);
/* Returns NULL with errno set if the file cannot be opened. */
struct chardev *chardev_new_file(const char *path);
/*
 * Input from `in_fd` (-1: none), output to `out_fd` (-1: dropped), with
 * the Ctrl-A escapes if `mux`. The fds stay the caller's (not closed).
 * No terminal mode is changed (stdio does that). For tests and pipes.
 */
struct chardev *chardev_new_fd(int in_fd, int out_fd, bool mux);

/* Restores the terminal (stdio) and closes what the backend opened. */
void chardev_free(struct chardev *c);

/* Writes the device's output gathered so far, then reads whatever host
 * input is available without blocking and hands it to the attached
 * device as far as it has room; keeps the rest. True when it read some. */
bool chardev_poll(struct chardev *c);
/* Writes the device's output gathered so far to the host. */
void chardev_flush(struct chardev *c);

/* True once the user typed Ctrl-A x: the frontend should end the run. */
bool chardev_quit_requested(const struct chardev *c);

/* True when input is kept waiting for the device (for tests). */
size_t chardev_pending(const struct chardev *c);

/*
 * The monitor shares this backend's terminal, as in QEMU's mux: Ctrl-A c
 * switches typed bytes between the device and `input`; `focus` (may be
 * NULL) is called each time the monitor gets them (to show its prompt);
 * `focused` gives them to the monitor from the start.
 */
void chardev_mux_monitor(struct chardev *c, void (*input)(void *opaque, const uint8_t *buf,
                                                         size_t len),
                         void (*focus)(void *opaque), void *opaque, bool focused);
bool chardev_monitor_focused(const struct chardev *c);
/* Writes to the host end (the monitor's answers on the terminal). */
void chardev_host_write(struct chardev *c, const void *buf, size_t len);
/* The fd input comes from, to wait on; -1 when there is none (any more). */
int chardev_input_fd(const struct chardev *c);

#endif
