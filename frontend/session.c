/*
 * frontend/session.c — the user's ends of a running machine, served
 * between CPU slices (the board's poll and wait_input callbacks): the
 * serial ports' host input, the monitor on the terminal (sharing it with
 * the serial console: Ctrl-A c) or on a socket, and gdb's connection.
 *
 * While the guest runs, the board calls sessions_poll after every slice
 * (~20 000 times a second when busy) and a poll(2) costs ~1.5 us on the
 * build hosts: the host is asked for input at most once a millisecond
 * (SESSIONS_POLL_NS), after every slice while serial input keeps coming
 * or waits for its device, and right after a wait (sessions_wait) that
 * something ended.
 * Debian's boot made 66 000 polls, 0.09 s of a 3.1 s boot, before.
 *
 * One client at a time per socket: a second connection waits in the
 * listen queue until the first ends. Nothing here blocks the machine
 * except -monitor ...,server without nowait, which waits for its first
 * client before the machine starts, as QEMU does.
 */
#define _GNU_SOURCE /* ppoll: a wait to the nanosecond */

#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "frontend/chardev.h"
#include "frontend/frontend.h"

struct sessions {
    struct pc *pc;
    struct chardev *serial[2];
    struct chardev *stdio;   /* the terminal's backend, or NULL */
    bool stdio_owned;        /* made here for the monitor alone */
    bool monitor_on_stdio, monitor_focused;
    struct monitor *mon;
    struct monitor_session *mon_stdio;
    struct listener *mon_listener;
    bool mon_wait;
    int mon_fd;
    struct monitor_session *mon_sock;
    struct listener *gdb_listener;
    int gdb_fd;
    struct gdbstub *gdb;
    bool quit;
    /* The host's time (CLOCK_MONOTONIC, ns) before which sessions_poll
     * does not ask the host for input; 0: ask at the next call. */
    uint64_t next_poll_ns;
    /* Serial input came at the last look, or waits for its device. */
    bool input_busy;
};

#define SESSIONS_POLL_NS 1000000u

static uint64_t host_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct sessions *sessions_new(const struct options *o, struct chardev *serial[2],
                              struct chardev *stdio, char *err, size_t errlen)
{
    struct sessions *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->serial[0] = serial[0];
    s->serial[1] = serial[1];
    s->stdio = stdio;
    s->mon_fd = s->gdb_fd = -1;
    const char *m = o->monitor;
    if (m && strcmp(m, "stdio") && strcmp(m, "none")) {
        if (!(s->mon_listener = listener_open(m, err, errlen))) {
            sessions_free(s);
            return NULL;
        }
        s->mon_wait = o->monitor_wait;
    }
    if (m && !strcmp(m, "stdio")) {
        s->monitor_on_stdio = s->monitor_focused = true;
        if (!s->stdio) {
            /* The serial console is elsewhere: the terminal is the
             * monitor's alone. */
            if (!(s->stdio = chardev_new_stdio())) {
                snprintf(err, errlen, "out of memory");
                sessions_free(s);
                return NULL;
            }
            s->stdio_owned = true;
        }
    } else if (!m && s->stdio) {
        /* As QEMU's -nographic: the monitor behind Ctrl-A c. */
        s->monitor_on_stdio = true;
    }
    if (o->gdb && !(s->gdb_listener = listener_open(o->gdb, err, errlen))) {
        sessions_free(s);
        return NULL;
    }
    /* Stopped until gdb comes: say where it is awaited (scripts wait for
     * this line before they start gdb). */
    if (o->gdb && o->start_paused)
        fprintf(stderr, "glass: waiting for gdb on %s\n", o->gdb);
    return s;
}

/* ------------------------------------------------------------ writes */

static void write_stdio(void *opaque, const void *buf, size_t len)
{
    struct sessions *s = opaque;
    chardev_host_write(s->stdio, buf, len);
}

static void write_mon_sock(void *opaque, const void *buf, size_t len)
{
    struct sessions *s = opaque;
    if (s->mon_fd >= 0 && conn_write_all(s->mon_fd, buf, len) != 0) {
        /* A client that stopped reading: it goes. */
        close(s->mon_fd);
        s->mon_fd = -1;
    }
}

static void write_gdb(void *opaque, const void *buf, size_t len)
{
    struct sessions *s = opaque;
    if (s->gdb_fd >= 0 && conn_write_all(s->gdb_fd, buf, len) != 0) {
        close(s->gdb_fd);
        s->gdb_fd = -1;
    }
}

static void stdio_monitor_input(void *opaque, const uint8_t *buf, size_t len)
{
    struct sessions *s = opaque;
    if (s->mon_stdio)
        monitor_session_input(s->mon_stdio, buf, len);
}

static void stdio_monitor_focus(void *opaque)
{
    struct sessions *s = opaque;
    if (s->mon_stdio)
        monitor_session_prompt(s->mon_stdio);
}

static void open_mon_client(struct sessions *s, int fd)
{
    s->mon_fd = fd;
    s->mon_sock = monitor_session_new(s->mon, write_mon_sock, s, false);
    if (!s->mon_sock) {
        close(fd);
        s->mon_fd = -1;
        return;
    }
    static const char hello[] = "Glass monitor: help lists the commands\n";
    write_mon_sock(s, hello, sizeof(hello) - 1);
    monitor_session_prompt(s->mon_sock);
}

int sessions_attach(struct sessions *s, struct pc *pc, char *err, size_t errlen)
{
    s->pc = pc;
    /* Even without a terminal or socket for it, gdb's "monitor"
     * commands (qRcmd) run on it. */
    if (!(s->mon = monitor_new(pc))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (s->monitor_on_stdio) {
        s->mon_stdio = monitor_session_new(s->mon, write_stdio, s, isatty(STDIN_FILENO));
        if (!s->mon_stdio) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        chardev_mux_monitor(s->stdio, stdio_monitor_input, stdio_monitor_focus, s,
                            s->monitor_focused);
    }
    if (s->mon_wait) {
        fprintf(stderr, "glass: waiting for a monitor client\n");
        int fd = listener_accept(s->mon_listener, true);
        if (fd >= 0)
            open_mon_client(s, fd);
    }
    return 0;
}

void sessions_free(struct sessions *s)
{
    if (!s)
        return;
    monitor_session_free(s->mon_stdio);
    monitor_session_free(s->mon_sock);
    monitor_free(s->mon);
    gdbstub_free(s->gdb);
    if (s->mon_fd >= 0)
        close(s->mon_fd);
    if (s->gdb_fd >= 0)
        close(s->gdb_fd);
    listener_free(s->mon_listener);
    listener_free(s->gdb_listener);
    if (s->stdio_owned)
        chardev_free(s->stdio);
    free(s);
}

void sessions_finish(struct sessions *s, int status)
{
    if (s->gdb && s->gdb_fd >= 0)
        gdbstub_exited(s->gdb, status);
}

/* ------------------------------------------------------------ serving */

static void close_gdb(struct sessions *s)
{
    gdbstub_free(s->gdb);
    s->gdb = NULL;
    if (s->gdb_fd >= 0)
        close(s->gdb_fd);
    s->gdb_fd = -1;
}

static void serve_monitor_socket(struct sessions *s)
{
    if (!s->mon_listener)
        return;
    if (s->mon_fd < 0 && s->mon_sock) {
        monitor_session_free(s->mon_sock); /* a client that went */
        s->mon_sock = NULL;
    }
    if (s->mon_fd < 0) {
        int fd = listener_accept(s->mon_listener, false);
        if (fd < 0)
            return;
        open_mon_client(s, fd);
    }
    uint8_t buf[512];
    ssize_t n;
    while (s->mon_fd >= 0 && (n = conn_read(s->mon_fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            close(s->mon_fd);
            s->mon_fd = -1;
            break;
        }
        monitor_session_input(s->mon_sock, buf, (size_t)n);
        if (monitor_quit_requested(s->mon))
            break;
    }
}

static void serve_gdb(struct sessions *s)
{
    if (!s->gdb_listener)
        return;
    if (!s->gdb) {
        int fd = listener_accept(s->gdb_listener, false);
        if (fd < 0)
            return;
        s->gdb_fd = fd;
        if (!(s->gdb = gdbstub_new(s->pc, s->mon, write_gdb, s))) {
            close(fd);
            s->gdb_fd = -1;
            return;
        }
    }
    uint8_t buf[4096];
    ssize_t n;
    while (s->gdb_fd >= 0 && (n = conn_read(s->gdb_fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            /* gdb went away without detaching: the guest runs on
             * without its breakpoints. */
            cpu_dbg_clear(pc_cpu(s->pc));
            pc_resume(s->pc);
            close_gdb(s);
            return;
        }
        gdbstub_input(s->gdb, buf, (size_t)n);
        if (gdbstub_kill_requested(s->gdb)) {
            s->quit = true;
            close_gdb(s);
            return;
        }
        if (gdbstub_detached(s->gdb)) {
            close_gdb(s);
            return;
        }
    }
    if (s->gdb_fd < 0)
        close_gdb(s);
}

bool sessions_poll(void *opaque)
{
    struct sessions *s = opaque;
    struct chardev *chr[3] = { s->serial[0], s->serial[1], s->stdio_owned ? s->stdio : NULL };
    /* The guest's output goes out after every slice, so that it is
     * written before whatever the board says next on stderr. */
    for (int i = 0; i < 3; i++)
        if (chr[i])
            chardev_flush(chr[i]);
    uint64_t now = host_now_ns();
    bool due = now >= s->next_poll_ns;
    if (!due && !s->input_busy)
        return !s->quit;
    /* Input that came or waits for the device is looked at again after
     * the next slice (a paste goes in at the device's pace), the sockets
     * only when due. */
    bool busy = false;
    for (int i = 0; i < 3; i++) {
        if (!chr[i])
            continue;
        busy |= chardev_poll(chr[i]);
        busy |= chardev_pending(chr[i]) != 0;
        if (chardev_quit_requested(chr[i]))
            return false;
    }
    s->input_busy = busy;
    if (!due)
        return !s->quit;
    s->next_poll_ns = now + SESSIONS_POLL_NS;
    serve_monitor_socket(s);
    serve_gdb(s);
    if (s->mon && monitor_quit_requested(s->mon))
        return false;
    return !s->quit;
}

void sessions_wait(void *opaque, uint64_t max_ns)
{
    struct sessions *s = opaque;
    struct pollfd p[8];
    int n = 0;
    struct chardev *chr[3] = { s->serial[0], s->serial[1], s->stdio };
    for (int i = 0; i < 3; i++)
        if (chr[i])
            chardev_flush(chr[i]); /* before the machine sleeps */
    int in = s->stdio ? chardev_input_fd(s->stdio) : -1;
    if (in >= 0)
        p[n++] = (struct pollfd){ .fd = in, .events = POLLIN };
    for (int i = 0; i < 2; i++) {
        int fd = s->serial[i] && s->serial[i] != s->stdio ? chardev_input_fd(s->serial[i]) : -1;
        if (fd >= 0)
            p[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
    }
    if (s->mon_listener)
        p[n++] = (struct pollfd){ .fd = s->mon_fd >= 0 ? s->mon_fd : listener_fd(s->mon_listener),
                                  .events = POLLIN };
    if (s->gdb_listener)
        p[n++] = (struct pollfd){ .fd = s->gdb_fd >= 0 ? s->gdb_fd : listener_fd(s->gdb_listener),
                                  .events = POLLIN };
    /* To the nanosecond: a halted CPU waits here for its next timer, and
     * a wait rounded up to whole milliseconds slows a guest's 1024 Hz
     * RTC interrupt by a tenth. */
    struct timespec ts = { .tv_sec = (time_t)(max_ns / 1000000000u),
                           .tv_nsec = (long)(max_ns % 1000000000u) };
    if (ppoll(p, (nfds_t)n, &ts, NULL) != 0)
        s->next_poll_ns = 0; /* something came (or a signal): look at once */
}

void sessions_stopped(void *opaque, const struct cpu_dbg_stop *why)
{
    struct sessions *s = opaque;
    if (s->gdb && s->gdb_fd >= 0)
        gdbstub_stopped(s->gdb, why);
    char text[96];
    struct cpu *cpu = pc_cpu(s->pc);
    if (why->kind == CPU_DBG_WATCH)
        snprintf(text, sizeof(text), "\nstopped: watchpoint %08x hit, next %04x:%08x\n",
                 why->addr, cpu->seg[SEG_CS].sel, cpu->eip);
    else
        snprintf(text, sizeof(text), "\nstopped: breakpoint at %08x\n", why->addr);
    if (s->mon_sock && s->mon_fd >= 0)
        monitor_session_print(s->mon_sock, text);
    if (s->mon_stdio && s->stdio && chardev_monitor_focused(s->stdio))
        monitor_session_print(s->mon_stdio, text);
}
