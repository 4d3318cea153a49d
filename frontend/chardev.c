/*
 * frontend/chardev.c — host backends for serial ports (frontend/chardev.h).
 *
 * Each backend is a struct host_chr whose first member is the struct
 * chardev handed to the device, so chardev_poll() and chardev_free() find
 * their backend from it. Only chardevs made here may be passed to them.
 *
 * The terminal's saved mode is the one piece of process-wide state: there
 * is one controlling terminal per process whatever the number of machines,
 * and the atexit and signal handlers that restore it can only find it in
 * a static. Only one stdio backend at a time puts it in raw mode.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction, termios, poll */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "frontend/chardev.h"

#define PENDING_MAX 256
/* The device's output is gathered here and written when the board's
 * poll comes (after each CPU slice) or the buffer fills: one write(2)
 * costs ~1.5 us on the build hosts, and Debian's boot log came one byte
 * a call (20 000 writes). */
#define OUTPUT_MAX 4096

struct host_chr {
    struct chardev chr; /* first: the device's view */
    int in_fd;          /* -1: no input */
    int out_fd;         /* -1: output dropped */
    bool close_out;     /* file: we opened out_fd */
    bool raw_term;      /* stdio: we put the terminal in raw mode */
    bool mux;           /* Ctrl-A escapes */
    bool escape;        /* a Ctrl-A was the last byte typed */
    bool eof;           /* input ended */
    bool quit;          /* Ctrl-A x */
    /* The monitor sharing this terminal (Ctrl-A c switches to it), its
     * input callback, and whether typed bytes go to it now. */
    void (*mon_input)(void *opaque, const uint8_t *buf, size_t len);
    void (*mon_focus)(void *opaque);
    void *mon_opaque;
    bool mon_focused;
    /* Host input decoded but not yet taken by the device. */
    uint8_t pend[PENDING_MAX];
    size_t pend_off, pend_len;
    /* Output not written yet (chardev_flush). */
    uint8_t out[OUTPUT_MAX];
    size_t out_len;
};

/* ------------------------------------------------------------ terminal */

static struct termios term_saved;
static volatile sig_atomic_t term_is_raw;
static bool term_handlers_installed;

static void term_restore(void)
{
    if (term_is_raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &term_saved);
        term_is_raw = 0;
    }
}

/* A fatal signal: put the terminal back, then die of the signal as we
 * would have (tcsetattr is async-signal-safe). */
static void term_signal(int sig)
{
    if (term_is_raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &term_saved);
        term_is_raw = 0;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void term_install_handlers(void)
{
    static const int sigs[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS };
    if (term_handlers_installed)
        return;
    term_handlers_installed = true;
    atexit(term_restore);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction old;
        /* Leave alone any handler the program set for itself. */
        if (sigaction(sigs[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL)
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = term_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

/* Raw mode as QEMU's stdio backend sets it: no echo, no line editing, no
 * signals from the keyboard (Ctrl-C goes to the guest), 8-bit clean; the
 * output keeps its "\n" -> "\r\n" processing. */
static bool term_make_raw(void)
{
    if (term_is_raw || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &term_saved) != 0)
        return false;
    struct termios t = term_saved;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag |= OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    term_install_handlers();
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) != 0)
        return false;
    term_is_raw = 1;
    return true;
}

/* ------------------------------------------------------------ output */

static void fd_write_all(int fd, const uint8_t *buf, size_t len)
{
    while (fd >= 0 && len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; /* a closed pipe or full disk: the guest can't care */
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void out_flush(struct host_chr *h)
{
    fd_write_all(h->out_fd, h->out, h->out_len);
    h->out_len = 0;
}

static void host_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct host_chr *h = opaque;
    if (h->out_fd < 0)
        return;
    if (h->out_len + len > sizeof(h->out))
        out_flush(h);
    if (len >= sizeof(h->out)) {
        fd_write_all(h->out_fd, buf, len);
        return;
    }
    memcpy(h->out + h->out_len, buf, len);
    h->out_len += len;
}

void chardev_flush(struct chardev *c)
{
    struct host_chr *h = (struct host_chr *)c;
    if (h->out_len)
        out_flush(h);
}

/* ------------------------------------------------------------ construction */

struct chardev *chardev_new_fd(int in_fd, int out_fd, bool mux)
{
    struct host_chr *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->in_fd = in_fd;
    h->out_fd = out_fd;
    h->mux = mux;
    h->eof = in_fd < 0;
    h->chr.write = host_write;
    h->chr.be_opaque = h;
    return &h->chr;
}

struct chardev *chardev_new_stdio(void)
{
    struct chardev *c = chardev_new_fd(STDIN_FILENO, STDOUT_FILENO, true);
    if (c)
        ((struct host_chr *)c)->raw_term = term_make_raw();
    return c;
}

struct chardev *chardev_new_null(void)
{
    return chardev_new_fd(-1, -1, false);
}

struct chardev *chardev_new_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0)
        return NULL;
    struct chardev *c = chardev_new_fd(-1, fd, false);
    if (!c) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    ((struct host_chr *)c)->close_out = true;
    return c;
}

struct chardev *chardev_open(const char *spec, char *err, size_t errlen)
{
    struct chardev *c = NULL;
    if (!strcmp(spec, "stdio")) {
        c = chardev_new_stdio();
    } else if (!strcmp(spec, "null")) {
        c = chardev_new_null();
    } else if (!strncmp(spec, "file:", 5) && spec[5]) {
        if (!(c = chardev_new_file(spec + 5))) {
            snprintf(err, errlen, "-serial %s: %s", spec, strerror(errno));
            return NULL;
        }
    } else {
        snprintf(err, errlen, "-serial %s: expected stdio, file:PATH or null", spec);
        return NULL;
    }
    if (!c)
        snprintf(err, errlen, "-serial %s: out of memory", spec);
    return c;
}

void chardev_free(struct chardev *c)
{
    if (!c)
        return;
    struct host_chr *h = (struct host_chr *)c;
    out_flush(h);
    if (h->raw_term)
        term_restore();
    if (h->close_out)
        close(h->out_fd);
    free(h);
}

/* ------------------------------------------------------------ input */

static const char mux_help[] =
    "\r\n"
    "C-a h    print this help\r\n"
    "C-a x    exit the emulator\r\n"
    "C-a c    switch between the serial console and the monitor\r\n"
    "C-a C-a  send C-a\r\n";

/* Decodes typed bytes into the pending buffer: the Ctrl-A escapes of
 * QEMU's mux are consumed, everything else passes. */
static void take_input(struct host_chr *h, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = buf[i];
        if (h->mux && h->escape) {
            h->escape = false;
            if (b == 'x' || b == 'X') {
                h->quit = true;
                return; /* what follows is typed to a machine that is gone */
            }
            if (b == 'h' || b == 'H' || b == '?') {
                fd_write_all(h->out_fd, (const uint8_t *)mux_help, sizeof(mux_help) - 1);
                continue;
            }
            if ((b == 'c' || b == 'C') && h->mon_input) {
                h->mon_focused = !h->mon_focused;
                fd_write_all(h->out_fd, (const uint8_t *)"\r\n", 2);
                if (h->mon_focused && h->mon_focus)
                    h->mon_focus(h->mon_opaque);
                continue;
            }
            if (b != CHARDEV_ESCAPE)
                continue; /* an unknown escape is swallowed */
        } else if (h->mux && b == CHARDEV_ESCAPE) {
            h->escape = true;
            continue;
        }
        if (h->mon_focused)
            h->mon_input(h->mon_opaque, &b, 1);
        else if (h->pend_off + h->pend_len < PENDING_MAX)
            h->pend[h->pend_off + h->pend_len++] = b;
    }
}

static void push_pending(struct host_chr *h)
{
    if (!h->pend_len)
        return;
    size_t took = chardev_push(&h->chr, h->pend + h->pend_off, h->pend_len);
    h->pend_off += took;
    h->pend_len -= took;
    if (!h->pend_len)
        h->pend_off = 0;
}

bool chardev_poll(struct chardev *c)
{
    struct host_chr *h = (struct host_chr *)c;
    out_flush(h);
    push_pending(h);
    if (h->pend_len || h->eof || h->quit)
        return false; /* the device is full: leave the rest with the host */
    struct pollfd p = { .fd = h->in_fd, .events = POLLIN };
    int r = poll(&p, 1, 0);
    if (r <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
        return false;
    uint8_t buf[PENDING_MAX];
    ssize_t n = read(h->in_fd, buf, sizeof(buf));
    if (n < 0) {
        if (errno != EINTR && errno != EAGAIN)
            h->eof = true;
        return false;
    }
    if (n == 0) {
        h->eof = true; /* as QEMU: the guest just gets no more input */
        return false;
    }
    take_input(h, buf, (size_t)n);
    push_pending(h);
    return true;
}

bool chardev_quit_requested(const struct chardev *c)
{
    return ((const struct host_chr *)c)->quit;
}

size_t chardev_pending(const struct chardev *c)
{
    return ((const struct host_chr *)c)->pend_len;
}

void chardev_mux_monitor(struct chardev *c, void (*input)(void *opaque, const uint8_t *buf,
                                                         size_t len),
                         void (*focus)(void *opaque), void *opaque, bool focused)
{
    struct host_chr *h = (struct host_chr *)c;
    h->mon_input = input;
    h->mon_focus = focus;
    h->mon_opaque = opaque;
    h->mon_focused = input && focused;
    if (h->mon_focused && focus)
        focus(opaque);
}

bool chardev_monitor_focused(const struct chardev *c)
{
    return ((const struct host_chr *)c)->mon_focused;
}

void chardev_host_write(struct chardev *c, const void *buf, size_t len)
{
    struct host_chr *h = (struct host_chr *)c;
    out_flush(h); /* the guest's output first */
    fd_write_all(h->out_fd, buf, len);
}

int chardev_input_fd(const struct chardev *c)
{
    const struct host_chr *h = (const struct host_chr *)c;
    return h->eof || h->quit ? -1 : h->in_fd;
}
