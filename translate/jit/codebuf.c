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
 *
 * Prefaulting (jit_code_prefault, jit_meta_prefault): a page of the
 * memfd is allocated at the first write through the RW view and mapped
 * again at the first fetch through the RX view, a host page fault each;
 * the block records' arena faults in the same way. Debian's boot touched
 * ~25 MB of code and records, ~12 000 faults of its 40 000 (the rest are
 * guest RAM's first touches), at several microseconds each on the build
 * hosts (a hypervisor's guest). MADV_POPULATE_WRITE and _READ map a
 * whole chunk in one system call, just ahead of the translator.
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
    c->ready = 0;
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

/* Maps [start, start + len) ahead of use; false when the host cannot
 * (then the pages fault in one by one as before). */
static bool populate(uint8_t *start, size_t len, bool write)
{
#if defined(MADV_POPULATE_WRITE) && defined(MADV_POPULATE_READ)
    return madvise(start, len, write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ) == 0;
#else
    (void)start, (void)len, (void)write;
    return false;
#endif
}

/* The end of the chunk holding byte `upto - 1`, within `size`. */
static size_t chunk_end(size_t upto, size_t size)
{
    size_t end = (upto + JIT_PREFAULT_CHUNK - 1) & ~(JIT_PREFAULT_CHUNK - 1);
    return end < size ? end : size;
}

void jit_code_prefault(struct jit_code *c, size_t upto)
{
    if (upto <= c->ready)
        return;
    size_t end = chunk_end(upto, c->size);
    if (!populate(c->rw + c->ready, end - c->ready, true) ||
        !populate(c->rx + c->ready, end - c->ready, false)) {
        c->ready = c->size; /* not on this host: never ask again */
        return;
    }
    c->ready = end;
}

uint8_t *jit_meta_map(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void jit_meta_unmap(uint8_t *base, size_t size)
{
    if (base)
        munmap(base, size);
}

void jit_meta_prefault(uint8_t *base, size_t size, size_t *ready, size_t upto)
{
    if (upto <= *ready)
        return;
    size_t end = chunk_end(upto, size);
    *ready = populate(base + *ready, end - *ready, true) ? end : size;
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
