/*
 * translate/jit/codebuf.c — the translation cache's memory.
 *
 * W^X: generated code is never writable and executable at one address.
 * One anonymous memory object (memfd) is mapped twice: the translator
 * writes through the read-write view, the CPU runs the read-execute view.
 * x86 keeps instruction fetch coherent with stores to the same physical
 * memory whatever the virtual address (SDM Vol. 3A 11.6), and the writer
 * and the runner are the same thread, so no barrier is needed.
 *
 * The executable view is placed near the program's own code when the
 * host allows it, so that calls from generated code to helpers are
 * direct rel32 calls; when not, the emitter calls through a register.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "translate/jit/jit.h"

/* Somewhere inside the program's text, to aim the mapping at. */
static uintptr_t text_address(void)
{
    return (uintptr_t)&jit_exec_insn;
}

/* Tries to map the executable view within +-1 GiB of the text: below
 * it first (the heap grows above), then above. */
static void *map_near_text(size_t size, int fd)
{
    const uintptr_t gib = (uintptr_t)1 << 30;
    uintptr_t text = text_address() & ~(uintptr_t)0x1fffff;
    uintptr_t hints[] = { text > gib ? text - gib / 2 - size : 0, text + gib / 2 };
    for (unsigned i = 0; i < 2; i++) {
        if (!hints[i])
            continue;
        void *p = mmap((void *)hints[i], size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
            continue;
        intptr_t d = (intptr_t)((uintptr_t)p - text);
        if (d > -(intptr_t)gib && d < (intptr_t)gib)
            return p;
        munmap(p, size); /* the hint was not honoured: try the next */
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

int jit_code_map(struct jit_code *c, size_t size)
{
    c->rw = c->rx = NULL;
    c->size = size;
    c->fd = memfd_create("glass-jit", MFD_CLOEXEC);
    if (c->fd < 0)
        return -1;
    if (ftruncate(c->fd, (off_t)size) != 0)
        goto fail;
    void *rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
    if (rw == MAP_FAILED)
        goto fail;
    c->rw = rw;
    c->rx = map_near_text(size, c->fd);
    if (!c->rx)
        goto fail;
    return 0;
fail: {
    int e = errno;
    jit_code_unmap(c);
    errno = e;
    return -1;
}
}

void jit_code_unmap(struct jit_code *c)
{
    if (c->rw)
        munmap(c->rw, c->size);
    if (c->rx)
        munmap(c->rx, c->size);
    if (c->fd >= 0)
        close(c->fd);
    c->rw = c->rx = NULL;
    c->fd = -1;
}
