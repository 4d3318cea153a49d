/*
 * test_chardev.c — the host backends of frontend/chardev.c: the file
 * backend's output, -serial argument parsing, and the input path with a
 * pipe: bytes the device has no room for are kept for the next poll, the
 * Ctrl-A escapes, end of input; and a 16550 reading through it.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, pipe */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frontend/chardev.h"
#include "frontend/frontend.h"
#include "hw/uart.h"

/* A device that takes at most `room` bytes per push. */
struct tdev {
    size_t room;
    uint8_t got[256];
    size_t len;
};

static size_t tdev_can_receive(void *opaque)
{
    return ((struct tdev *)opaque)->room;
}

static void tdev_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct tdev *d = opaque;
    cr_assert_leq(len, d->room);
    memcpy(d->got + d->len, buf, len);
    d->len += len;
    d->room -= len;
}

static void put(int fd, const char *s, size_t len)
{
    cr_assert_eq(write(fd, s, len), (ssize_t)len);
}

Test(chardev, file_backend_writes_and_truncates)
{
    char path[] = "/tmp/glass-chr-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    put(fd, "old contents that must go", 25);
    close(fd);
    char err[256];
    struct chardev *c = chardev_open(path[0] ? "file:" : "", err, sizeof(err));
    cr_assert_null(c); /* "file:" alone is not a path */
    char spec[64];
    snprintf(spec, sizeof(spec), "file:%s", path);
    c = chardev_open(spec, err, sizeof(err));
    cr_assert_not_null(c, "%s", err);
    chardev_write(c, (const uint8_t *)"hello ", 6);
    chardev_write(c, (const uint8_t *)"serial\n", 7);
    chardev_poll(c); /* no input: nothing happens */
    cr_assert(!chardev_quit_requested(c));
    chardev_free(c);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    char buf[64] = { 0 };
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    unlink(path);
    cr_assert_eq(n, 13);
    cr_assert_str_eq(buf, "hello serial\n");
}

Test(chardev, open_errors_and_null)
{
    char err[256] = "";
    cr_assert_null(chardev_open("bogus", err, sizeof(err)));
    cr_assert(strstr(err, "bogus"));
    cr_assert_null(chardev_open("file:/nonexistent-glass-dir/x", err, sizeof(err)));
    cr_assert(strstr(err, "No such file"), "%s", err);
    struct chardev *c = chardev_open("null", err, sizeof(err));
    cr_assert_not_null(c);
    struct tdev d = { .room = 16 };
    chardev_attach(c, tdev_can_receive, tdev_receive, &d);
    chardev_write(c, (const uint8_t *)"x", 1);
    chardev_poll(c);
    cr_assert_eq(d.len, 0);
    chardev_free(c);
}

Test(chardev, input_kept_until_the_device_has_room)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct chardev *c = chardev_new_fd(p[0], -1, false);
    struct tdev d = { .room = 2 };
    chardev_attach(c, tdev_can_receive, tdev_receive, &d);
    chardev_poll(c); /* nothing typed yet */
    cr_assert_eq(d.len, 0);
    put(p[1], "hello", 5);
    chardev_poll(c);
    cr_assert_eq(d.len, 2);
    cr_assert_eq(chardev_pending(c), 3);
    put(p[1], "XY", 2);
    chardev_poll(c); /* device full: nothing moves, the pipe is not read */
    cr_assert_eq(d.len, 2);
    d.room = 4;
    chardev_poll(c); /* the kept bytes first, then the pipe's */
    cr_assert_eq(d.len, 6);
    cr_assert_eq(chardev_pending(c), 1);
    chardev_poll(c);
    cr_assert_eq(d.len, 6);
    d.room = 10;
    chardev_poll(c);
    cr_assert_eq(d.len, 7);
    cr_assert_eq(memcmp(d.got, "helloXY", 7), 0);
    /* End of input: polls go on quietly. */
    close(p[1]);
    chardev_poll(c);
    chardev_poll(c);
    cr_assert_eq(d.len, 7);
    cr_assert(!chardev_quit_requested(c));
    chardev_free(c);
    close(p[0]);
}

Test(chardev, ctrl_a_escapes)
{
    int in[2], out[2];
    cr_assert_eq(pipe(in), 0);
    cr_assert_eq(pipe(out), 0);
    struct chardev *c = chardev_new_fd(in[0], out[1], true);
    struct tdev d = { .room = 64 };
    chardev_attach(c, tdev_can_receive, tdev_receive, &d);
    /* Ctrl-A Ctrl-A is one Ctrl-A; an unknown escape is swallowed; an
     * escape split across two reads still works. */
    put(in[1], "a\x01\x01" "b\x01q" "c\x01", 8);
    chardev_poll(c);
    cr_assert_eq(d.len, 4);
    cr_assert_eq(memcmp(d.got, "a\x01" "bc", 4), 0);
    put(in[1], "h", 1);
    chardev_poll(c);
    cr_assert_eq(d.len, 4, "Ctrl-A h is not input");
    char help[256] = { 0 };
    cr_assert_gt(read(out[0], help, sizeof(help) - 1), 0);
    cr_assert(strstr(help, "C-a x"));
    cr_assert(!chardev_quit_requested(c));
    put(in[1], "d\x01xe", 4);
    chardev_poll(c);
    cr_assert(chardev_quit_requested(c));
    cr_assert_eq(d.len, 5);
    cr_assert_eq(d.got[4], 'd');
    /* Output still flows to the host. */
    chardev_write(c, (const uint8_t *)"out", 3);
    chardev_flush(c);
    char o[4] = { 0 };
    cr_assert_eq(read(out[0], o, 3), 3);
    cr_assert_str_eq(o, "out");
    chardev_free(c);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
}

Test(chardev, without_mux_ctrl_a_is_data)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct chardev *c = chardev_new_fd(p[0], -1, false);
    struct tdev d = { .room = 64 };
    chardev_attach(c, tdev_can_receive, tdev_receive, &d);
    put(p[1], "\x01x", 2);
    chardev_poll(c);
    cr_assert_eq(d.len, 2);
    cr_assert(!chardev_quit_requested(c));
    chardev_free(c);
    close(p[0]);
    close(p[1]);
}

Test(chardev, uart_reads_host_input_through_the_pipe)
{
    int in[2], out[2];
    cr_assert_eq(pipe(in), 0);
    cr_assert_eq(pipe(out), 0);
    struct chardev *c = chardev_new_fd(in[0], out[1], false);
    struct io_space *io = io_new();
    struct vclock *clk = vclock_new_manual();
    struct uart *u = uart_new(io, UART_COM1_BASE, clk, NULL, c);
    cr_assert_not_null(u);
    /* 16450 mode: one byte at a time; the rest waits in the backend. */
    put(in[1], "ok", 2);
    chardev_poll(c);
    cr_assert_eq(io_read(io, UART_COM1_BASE + UART_LSR, 1) & UART_LSR_DR, UART_LSR_DR);
    cr_assert_eq(io_read(io, UART_COM1_BASE, 1), 'o');
    cr_assert_eq(io_read(io, UART_COM1_BASE + UART_LSR, 1) & UART_LSR_DR, 0);
    chardev_poll(c);
    cr_assert_eq(io_read(io, UART_COM1_BASE, 1), 'k');
    /* And transmit reaches the host after a character time. */
    io_write(io, UART_COM1_BASE, '!', 1);
    vclock_advance(clk, uart_char_time_ns(u));
    chardev_flush(c);
    char ch = 0;
    cr_assert_eq(read(out[0], &ch, 1), 1);
    cr_assert_eq(ch, '!');
    uart_free(u);
    vclock_free(clk);
    io_free(io);
    chardev_free(c);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
}

/* The monitor's end of the mux: what it was given, and its focus calls. */
struct tmon {
    char got[64];
    size_t len;
    int focus_calls;
};

static void tmon_input(void *opaque, const uint8_t *buf, size_t len)
{
    struct tmon *m = opaque;
    for (size_t i = 0; i < len && m->len + 1 < sizeof(m->got); i++)
        m->got[m->len++] = (char)buf[i];
}

static void tmon_focus(void *opaque)
{
    ((struct tmon *)opaque)->focus_calls++;
}

Test(chardev, ctrl_a_c_switches_to_the_monitor_and_back)
{
    int in[2], out[2];
    cr_assert_eq(pipe(in), 0);
    cr_assert_eq(pipe(out), 0);
    struct chardev *c = chardev_new_fd(in[0], out[1], true);
    struct tdev d = { .room = 100 };
    chardev_attach(c, tdev_can_receive, tdev_receive, &d);
    struct tmon m = { .len = 0 };
    chardev_mux_monitor(c, tmon_input, tmon_focus, &m, false);
    cr_assert(!chardev_monitor_focused(c));
    put(in[1], "ab\x01" "cinfo\r\x01" "cz", 12);
    chardev_poll(c);
    cr_assert_eq(d.len, 3);
    cr_assert_eq(memcmp(d.got, "abz", 3), 0);
    cr_assert_eq(m.len, 5);
    cr_assert_eq(memcmp(m.got, "info\r", 5), 0);
    cr_assert_eq(m.focus_calls, 1);
    cr_assert(!chardev_monitor_focused(c));
    /* Focused from the start (-monitor stdio). */
    chardev_mux_monitor(c, tmon_input, tmon_focus, &m, true);
    cr_assert(chardev_monitor_focused(c));
    cr_assert_eq(m.focus_calls, 2);
    cr_assert_eq(chardev_input_fd(c), in[0]);
    chardev_host_write(c, "ok", 2);
    char buf[8];
    cr_assert_eq(read(out[0], buf, sizeof(buf)), 6); /* two switches' "\r\n", "ok" */
    chardev_free(c);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
}

/* The device's output is gathered and written in one go at the board's
 * flush (one write(2) a byte was 20 000 system calls in Debian's boot),
 * before anything the monitor writes, and at the latest when the
 * backend is freed or 4 KiB wait. */
Test(chardev, output_is_gathered_until_a_flush)
{
    int out[2];
    cr_assert_eq(pipe(out), 0);
    cr_assert_eq(fcntl(out[0], F_SETFL, O_NONBLOCK), 0);
    struct chardev *c = chardev_new_fd(-1, out[1], false);
    char buf[8192];
    chardev_write(c, (const uint8_t *)"boot", 4);
    chardev_write(c, (const uint8_t *)"ing", 3);
    cr_assert_eq(read(out[0], buf, sizeof(buf)), -1, "nothing written before the flush");
    chardev_flush(c);
    cr_assert_eq(read(out[0], buf, sizeof(buf)), 7);
    cr_assert_eq(memcmp(buf, "booting", 7), 0);
    /* The guest's bytes go before the monitor's. */
    chardev_write(c, (const uint8_t *)"guest ", 6);
    chardev_host_write(c, "monitor", 7);
    cr_assert_eq(read(out[0], buf, sizeof(buf)), 13);
    cr_assert_eq(memcmp(buf, "guest monitor", 13), 0);
    /* A full buffer is written without waiting for the flush, in order. */
    uint8_t big[3000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)('a' + i % 26);
    chardev_write(c, big, sizeof(big));
    chardev_write(c, big, sizeof(big));
    cr_assert_eq(read(out[0], buf, sizeof(buf)), 3000);
    cr_assert_eq(memcmp(buf, big, 3000), 0);
    chardev_write(c, (const uint8_t *)"!", 1);
    chardev_free(c); /* and the rest when the backend goes */
    cr_assert_eq(read(out[0], buf, sizeof(buf)), 3001);
    cr_assert_eq(memcmp(buf, big, 3000), 0);
    cr_assert_eq(buf[3000], '!');
    close(out[0]);
    close(out[1]);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The board calls sessions_poll after every CPU slice (~20 000 times a
 * second): the guest's output goes out at each call, but the host is
 * asked for input (a poll(2) each, ~1.5 us) at most once a millisecond,
 * after every call while input keeps coming, and at once after a wait
 * that input ended (Debian's boot made 66 000 polls before).
 */
Test(chardev, sessions_ask_the_host_for_input_once_a_millisecond)
{
    int in[2], out[2];
    cr_assert_eq(pipe(in), 0);
    cr_assert_eq(pipe(out), 0);
    cr_assert_eq(fcntl(out[0], F_SETFL, O_NONBLOCK), 0);
    struct chardev *c = chardev_new_fd(in[0], out[1], false);
    struct tdev d = { .room = 100 };
    chardev_attach(c, tdev_can_receive, tdev_receive, &d);
    struct options o;
    memset(&o, 0, sizeof(o));
    struct chardev *serial[2] = { c, NULL };
    char err[128];
    struct sessions *s = sessions_new(&o, serial, NULL, err, sizeof(err));
    cr_assert_not_null(s, "%s", err);

    /* Output: out after every call. */
    chardev_write(c, (const uint8_t *)"log", 3);
    cr_assert(sessions_poll(s));
    char buf[16];
    cr_assert_eq(read(out[0], buf, sizeof(buf)), 3);

    /* The first call looked (nothing came); input typed now waits for
     * the next look, a millisecond after the last. */
    put(in[1], "a", 1);
    uint64_t t0 = mono_ns();
    cr_assert(sessions_poll(s));
    if (mono_ns() - t0 < 500000) /* not if this host stalled the test */
        cr_assert_eq(d.len, 0, "input looked for again within the millisecond");
    struct timespec ms = { 0, 1100000 };
    nanosleep(&ms, NULL);
    cr_assert(sessions_poll(s));
    cr_assert_eq(d.len, 1, "looked for once the millisecond passed");
    /* Input came: the next call looks again at once. */
    put(in[1], "b", 1);
    cr_assert(sessions_poll(s));
    cr_assert_eq(d.len, 2);
    cr_assert(sessions_poll(s)); /* nothing more: back to once a millisecond */
    /* A wait that input ends: looked at by the next call. */
    put(in[1], "c", 1);
    sessions_wait(s, 1000000000u);
    cr_assert(sessions_poll(s));
    cr_assert_eq(d.len, 3);
    cr_assert_eq(memcmp(d.got, "abc", 3), 0);
    sessions_free(s);
    chardev_free(c);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
}
