/*
 * frontend/sockets.c — listening sockets for the monitor and the gdbstub
 * (tcp:HOST:PORT, unix:PATH) and the reads and writes of a connection.
 * Nothing here blocks the machine: accept and read are non-blocking and
 * called between CPU slices; a write waits a bounded time for a slow
 * reader, then gives the connection up.
 */
#define _POSIX_C_SOURCE 200809L /* getaddrinfo, poll */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "frontend/frontend.h"

/* How long a write waits for the peer to read (ms). */
#define WRITE_TIMEOUT_MS 5000

struct listener {
    int fd;
    char unix_path[108]; /* sun_path; unlinked when closed */
};

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static struct listener *listen_tcp(const char *hostport, char *err, size_t errlen)
{
    /* HOST:PORT; an empty HOST is the loopback address (never every
     * interface by default: a debugger port reaches the whole guest). */
    const char *colon = strrchr(hostport, ':');
    if (!colon || !colon[1]) {
        snprintf(err, errlen, "tcp:%s: expected tcp:HOST:PORT", hostport);
        return NULL;
    }
    char host[256];
    size_t hl = (size_t)(colon - hostport);
    if (hl >= sizeof(host)) {
        snprintf(err, errlen, "tcp: host name too long");
        return NULL;
    }
    memcpy(host, hostport, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(err, errlen, "tcp:%s: bad port '%s'", hostport, colon + 1);
        return NULL;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *ai;
    int rc = getaddrinfo(hl ? host : "127.0.0.1", colon + 1, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "tcp:%s: %s", hostport, gai_strerror(rc));
        return NULL;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
        snprintf(err, errlen, "tcp:%s: %s", hostport, strerror(errno));
        freeaddrinfo(ai);
        return NULL;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1) != 0 ||
        set_nonblock(fd) != 0) {
        snprintf(err, errlen, "tcp:%s: %s", hostport, strerror(errno));
        close(fd);
        freeaddrinfo(ai);
        return NULL;
    }
    freeaddrinfo(ai);
    struct listener *l = calloc(1, sizeof(*l));
    if (!l) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->fd = fd;
    return l;
}

static struct listener *listen_unix(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "unix:%s: path empty or too long", path);
        return NULL;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
        return NULL;
    }
    unlink(path); /* a socket left by an earlier run */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1) != 0 ||
        set_nonblock(fd) != 0) {
        snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    struct listener *l = calloc(1, sizeof(*l));
    if (!l) {
        close(fd);
        unlink(path);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->fd = fd;
    strcpy(l->unix_path, path);
    return l;
}

struct listener *listener_open(const char *addr, char *err, size_t errlen)
{
    if (!strncmp(addr, "tcp:", 4))
        return listen_tcp(addr + 4, err, errlen);
    if (!strncmp(addr, "unix:", 5))
        return listen_unix(addr + 5, err, errlen);
    snprintf(err, errlen, "%s: expected tcp:HOST:PORT or unix:PATH", addr);
    return NULL;
}

int listener_fd(const struct listener *l)
{
    return l->fd;
}

int listener_accept(struct listener *l, bool wait)
{
    if (wait) {
        struct pollfd p = { .fd = l->fd, .events = POLLIN };
        while (poll(&p, 1, -1) < 0 && errno == EINTR)
            ;
    }
    int fd = accept(l->fd, NULL, NULL);
    if (fd < 0)
        return -1;
    if (set_nonblock(fd) != 0) {
        close(fd);
        return -1;
    }
    /* Small packets (gdb's) go out at once. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

void listener_free(struct listener *l)
{
    if (!l)
        return;
    close(l->fd);
    if (l->unix_path[0])
        unlink(l->unix_path);
    free(l);
}

ssize_t conn_read(int fd, void *buf, size_t len)
{
    ssize_t n = read(fd, buf, len);
    if (n > 0)
        return n;
    if (n == 0)
        return -1; /* the peer closed */
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

int conn_write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = { .fd = fd, .events = POLLOUT };
            if (poll(&pf, 1, WRITE_TIMEOUT_MS) > 0)
                continue;
        }
        return -1;
    }
    return 0;
}
