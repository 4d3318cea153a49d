/*
 * Unit tests for memory/phys.c and memory/ioport.c: RAM, ROM, MMIO,
 * holes, the A20 gate, accesses split across pages and regions, the
 * code-page notifier and the I/O port space.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "memory/memory.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

/* An MMIO device that logs its last access and reads back addr ^ 0xa5.. */
struct phys_probe {
    uint64_t last_addr, last_val;
    unsigned last_size;
    int reads, writes;
};

static uint64_t phys_probe_read(void *opaque, uint64_t addr, unsigned size)
{
    struct phys_probe *p = opaque;
    p->reads++;
    p->last_addr = addr;
    p->last_size = size;
    return 0xa5a5a5a5a5a5a500ull | (addr & 0xff);
}

static void phys_probe_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct phys_probe *p = opaque;
    p->writes++;
    p->last_addr = addr;
    p->last_val = val;
    p->last_size = size;
}

static const struct mem_ops phys_probe_ops = { .read = phys_probe_read, .write = phys_probe_write };

Test(phys, ram_read_write_all_sizes)
{
    struct phys_mem *pm = phys_new();
    uint8_t *ram = calloc(1, 64 * KIB);
    cr_assert_eq(phys_map_ram(pm, 0x10000, 64 * KIB, ram), 0);
    phys_write(pm, 0x10010, 0x1122334455667788ull, 8);
    cr_assert_eq(ram[0x10], 0x88);
    cr_assert_eq(ram[0x17], 0x11);
    cr_assert_eq(phys_read(pm, 0x10010, 8), 0x1122334455667788ull);
    cr_assert_eq(phys_read(pm, 0x10010, 4), 0x55667788u);
    cr_assert_eq(phys_read(pm, 0x10011, 2), 0x6677u);
    cr_assert_eq(phys_read(pm, 0x10017, 1), 0x11u);
    phys_write(pm, 0x10020, 0xabcd, 2);
    cr_assert_eq(ram[0x20], 0xcd);
    cr_assert_eq(ram[0x21], 0xab);
    /* A page-crossing access inside RAM. */
    phys_write(pm, 0x10ffe, 0xdeadbeef, 4);
    cr_assert_eq(ram[0xffe], 0xef);
    cr_assert_eq(ram[0x1001], 0xde);
    cr_assert_eq(phys_read(pm, 0x10ffe, 4), 0xdeadbeefu);
    phys_free(pm);
    free(ram);
}

Test(phys, holes_read_ones_and_drop_writes)
{
    struct phys_mem *pm = phys_new();
    cr_assert_eq(phys_read(pm, 0x123456, 1), 0xffu);
    cr_assert_eq(phys_read(pm, 0x123456, 2), 0xffffu);
    cr_assert_eq(phys_read(pm, 0x123456, 4), 0xffffffffu);
    cr_assert_eq(phys_read(pm, 0xfffffffffull, 8), ~0ull);
    cr_assert_eq(phys_read(pm, 0x1000000000ull, 4), 0xffffffffu); /* beyond 2^36 */
    phys_write(pm, 0x123456, 0, 4);
    cr_assert_eq(phys_read(pm, 0x123456, 4), 0xffffffffu);
    bool w = true;
    cr_assert_null(phys_page_ptr(pm, 0x123456, &w));
    phys_free(pm);
}

Test(phys, rom_ignores_guest_writes_but_loads)
{
    struct phys_mem *pm = phys_new();
    uint8_t rom[4096];
    memset(rom, 0x5a, sizeof(rom));
    cr_assert_eq(phys_map_rom(pm, 0xf0000, 4096, rom), 0);
    phys_write(pm, 0xf0000, 0x12, 1);
    cr_assert_eq(phys_read(pm, 0xf0000, 1), 0x5a);
    phys_write_buf(pm, 0xf0001, "\x01\x02", 2);
    cr_assert_eq(rom[1], 0x5a);
    phys_load(pm, 0xf0001, "\x01\x02", 2);
    cr_assert_eq(rom[1], 0x01);
    cr_assert_eq(phys_read(pm, 0xf0001, 2), 0x0201);
    bool w = true;
    cr_assert_eq(phys_page_ptr(pm, 0xf0123, &w), rom);
    cr_assert_not(w);
    phys_free(pm);
}

Test(phys, later_mapping_wins)
{
    struct phys_mem *pm = phys_new();
    uint8_t *ram = calloc(1, 16 * KIB);
    uint8_t rom[4096];
    memset(rom, 0x77, sizeof(rom));
    cr_assert_eq(phys_map_ram(pm, 0, 16 * KIB, ram), 0);
    cr_assert_eq(phys_map_rom(pm, 0x2000, 4096, rom), 0);
    bool w = false;
    cr_assert_eq(phys_page_ptr(pm, 0x1000, &w), ram + 0x1000);
    cr_assert(w);
    cr_assert_eq(phys_page_ptr(pm, 0x2000, &w), rom);
    cr_assert_not(w);
    cr_assert_eq(phys_read(pm, 0x2004, 1), 0x77);
    cr_assert_eq(phys_page_ptr(pm, 0x3000, &w), ram + 0x3000);
    phys_free(pm);
    free(ram);
}

Test(phys, bad_arguments_refused)
{
    struct phys_mem *pm = phys_new();
    uint8_t buf[8192];
    cr_assert_eq(phys_map_ram(pm, 0x1001, 4096, buf), -1);
    cr_assert_eq(phys_map_ram(pm, 0x1000, 100, buf), -1);
    cr_assert_eq(phys_map_ram(pm, 0x1000, 0, buf), -1);
    cr_assert_eq(phys_map_ram(pm, 0x1000000000ull, 4096, buf), -1);
    cr_assert_eq(phys_map_ram(pm, 0xffffff000ull, 8192, buf), -1);
    cr_assert_eq(phys_map_ram(pm, 0x1000, 4096, NULL), -1);
    cr_assert_eq(phys_map_mmio(pm, 0x1000, 4096, NULL, NULL), -1);
    /* The last page of the 36-bit space is fine. */
    cr_assert_eq(phys_map_ram(pm, 0xffffff000ull, 4096, buf), 0);
    phys_write(pm, 0xffffffffcull, 0x01020304, 4);
    cr_assert_eq(buf[0xffc], 0x04);
    phys_free(pm);
}

Test(phys, mmio_gets_region_relative_address)
{
    struct phys_mem *pm = phys_new();
    struct phys_probe p = { 0 };
    cr_assert_eq(phys_map_mmio(pm, 0xfee00000, 2 * 4096, &phys_probe_ops, &p), 0);
    cr_assert_eq(phys_read(pm, 0xfee01020, 4), 0xa5a5a520u);
    cr_assert_eq(p.last_addr, 0x1020);
    cr_assert_eq(p.last_size, 4);
    phys_write(pm, 0xfee00300, 0xcafe, 2);
    cr_assert_eq(p.last_addr, 0x300);
    cr_assert_eq(p.last_val, 0xcafe);
    cr_assert_eq(p.last_size, 2);
    cr_assert_null(phys_page_ptr(pm, 0xfee00000, NULL));
    phys_free(pm);
}

Test(phys, access_spanning_ram_and_mmio_split_into_bytes)
{
    struct phys_mem *pm = phys_new();
    uint8_t *ram = calloc(1, 4096);
    struct phys_probe p = { 0 };
    cr_assert_eq(phys_map_ram(pm, 0x1000, 4096, ram), 0);
    cr_assert_eq(phys_map_mmio(pm, 0x2000, 4096, &phys_probe_ops, &p), 0);
    ram[0xffe] = 0x11;
    ram[0xfff] = 0x22;
    /* bytes: RAM 11 22, MMIO byte reads return low byte = offset (0, 1). */
    cr_assert_eq(phys_read(pm, 0x1ffe, 4), 0x01002211u);
    cr_assert_eq(p.reads, 2);
    cr_assert_eq(p.last_size, 1);
    phys_write(pm, 0x1fff, 0xaabbccdd, 4);
    cr_assert_eq(ram[0xfff], 0xdd);
    cr_assert_eq(p.writes, 3);
    cr_assert_eq(p.last_addr, 2);
    cr_assert_eq(p.last_val, 0xaa);
    /* RAM followed by a hole. */
    ram[0] = 0x33;
    cr_assert_eq(phys_read(pm, 0x0ffe, 4), 0x0033ffffu);
    phys_free(pm);
    free(ram);
}

Test(phys, a20_masks_bit_20)
{
    struct phys_mem *pm = phys_new();
    uint8_t *ram = calloc(1, 2 * MIB);
    cr_assert_eq(phys_map_ram(pm, 0, 2 * MIB, ram), 0);
    cr_assert(phys_a20(pm));
    phys_write(pm, 0x100010, 0x42, 1);
    cr_assert_eq(ram[0x100010], 0x42);
    cr_assert_eq(ram[0x10], 0);
    phys_set_a20(pm, false);
    cr_assert_not(phys_a20(pm));
    cr_assert_eq(phys_read(pm, 0x100010, 1), 0);
    phys_write(pm, 0x100020, 0x99, 1);
    cr_assert_eq(ram[0x20], 0x99);
    /* 0xFFFFF + 1 wraps to 0 with the gate off (the 8086 wrap). */
    ram[0xfffff] = 0xab;
    ram[0] = 0xcd;
    cr_assert_eq(phys_read(pm, 0xfffff, 2), 0xcdab);
    cr_assert_eq(phys_page_ptr(pm, 0x101000, NULL), ram + 0x1000);
    uint8_t b[2];
    phys_read_buf(pm, 0x100020, b, 1);
    cr_assert_eq(b[0], 0x99);
    phys_set_a20(pm, true);
    cr_assert_eq(phys_read(pm, 0xfffff, 2), 0xabu | ((uint32_t)ram[0x100000] << 8));
    phys_free(pm);
    free(ram);
}

Test(phys, bulk_copies)
{
    struct phys_mem *pm = phys_new();
    uint8_t *ram = calloc(1, 8192);
    struct phys_probe p = { 0 };
    cr_assert_eq(phys_map_ram(pm, 0, 8192, ram), 0);
    cr_assert_eq(phys_map_mmio(pm, 0x3000, 4096, &phys_probe_ops, &p), 0);
    uint8_t src[10000], dst[10000];
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 7);
    phys_write_buf(pm, 100, src, 8192 - 100);
    cr_assert_eq(memcmp(ram + 100, src, 8192 - 100), 0);
    /* RAM 0..8191, hole 8192..12287, MMIO from 12288. */
    phys_read_buf(pm, 8000, dst, 192 + 4096 + 2);
    cr_assert_eq(memcmp(dst, src + 7900, 192), 0);
    cr_assert_eq(dst[192], 0xff);
    cr_assert_eq(dst[192 + 4095], 0xff);
    cr_assert_eq(dst[192 + 4096], 0x00);
    cr_assert_eq(dst[192 + 4097], 0x01);
    cr_assert_eq(p.reads, 2);
    phys_write_buf(pm, 0x3000, "\x10\x20", 2);
    cr_assert_eq(p.writes, 2);
    cr_assert_eq(p.last_val, 0x20);
    phys_free(pm);
    free(ram);
}

struct phys_code_log {
    struct phys_mem *pm;
    uint64_t paddr;
    unsigned size;
    int calls;
    uint8_t seen; /* the byte at paddr when the notifier ran */
};

static void phys_code_notify(void *opaque, uint64_t paddr, uint64_t size)
{
    struct phys_code_log *l = opaque;
    l->calls++;
    l->paddr = paddr;
    l->size = size;
    l->seen = (uint8_t)phys_read(l->pm, paddr, 1);
    phys_unmark_code_page(l->pm, paddr);
}

Test(phys, code_page_notifier_after_store)
{
    struct phys_mem *pm = phys_new();
    uint8_t *ram = calloc(1, 16384);
    struct phys_code_log log = { .pm = pm };
    cr_assert_eq(phys_map_ram(pm, 0, 16384, ram), 0);
    phys_set_code_write_notifier(pm, phys_code_notify, &log);
    cr_assert_not(phys_is_code_page(pm, 0x2000));
    phys_mark_code_page(pm, 0x2345);
    cr_assert(phys_is_code_page(pm, 0x2000));
    cr_assert(phys_is_code_page(pm, 0x2fff));
    cr_assert_not(phys_is_code_page(pm, 0x3000));
    phys_write(pm, 0x1000, 1, 4); /* not a code page */
    cr_assert_eq(log.calls, 0);
    phys_write(pm, 0x2010, 0x5566, 2);
    cr_assert_eq(log.calls, 1);
    cr_assert_eq(log.paddr, 0x2010);
    cr_assert_eq(log.size, 2);
    cr_assert_eq(log.seen, 0x66);
    cr_assert_not(phys_is_code_page(pm, 0x2000)); /* the notifier unmarked it */
    phys_write(pm, 0x2010, 0, 1);
    cr_assert_eq(log.calls, 1);
    /* Bulk writes and loads notify too. */
    phys_mark_code_page(pm, 0x3000);
    phys_write_buf(pm, 0x2ff0, "abcdefghijklmnopqrstuvwxyz", 26);
    cr_assert_eq(log.calls, 2);
    cr_assert_eq(log.paddr, 0x3000);
    cr_assert_eq(log.size, 10);
    phys_mark_code_page(pm, 0x0);
    phys_load(pm, 0x10, "x", 1);
    cr_assert_eq(log.calls, 3);
    cr_assert_eq(log.seen, 'x');
    phys_free(pm);
    free(ram);
}

/* ------------------------------------------------------------ ports */

struct io_probe {
    int reads, writes;
    uint32_t last_port, last_val;
    unsigned last_size;
};

static uint64_t io_probe_read(void *opaque, uint64_t addr, unsigned size)
{
    struct io_probe *p = opaque;
    p->reads++;
    p->last_port = (uint32_t)addr;
    p->last_size = size;
    return 0x44332211u + (uint32_t)(addr & 0xff);
}

static void io_probe_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct io_probe *p = opaque;
    p->writes++;
    p->last_port = (uint32_t)addr;
    p->last_val = (uint32_t)val;
    p->last_size = size;
}

static const struct mem_ops io_probe_ops = { .read = io_probe_read, .write = io_probe_write };

struct io_trace_log {
    int calls;
    bool write;
    uint16_t port;
    uint32_t val;
    unsigned size;
};

static void io_trace_cb(void *opaque, bool write, uint16_t port, uint32_t val, unsigned size)
{
    struct io_trace_log *t = opaque;
    t->calls++;
    t->write = write;
    t->port = port;
    t->val = val;
    t->size = size;
}

Test(ioport, unclaimed_reads_ones)
{
    struct io_space *io = io_new();
    cr_assert_eq(io_read(io, 0x60, 1), 0xffu);
    cr_assert_eq(io_read(io, 0x60, 2), 0xffffu);
    cr_assert_eq(io_read(io, 0x60, 4), 0xffffffffu);
    io_write(io, 0x60, 0, 4);
    io_free(io);
}

Test(ioport, whole_and_split_accesses)
{
    struct io_space *io = io_new();
    struct io_probe a = { 0 }, b = { 0 };
    cr_assert_eq(io_register(io, 0x100, 4, &io_probe_ops, &a), 0);
    cr_assert_eq(io_read(io, 0x100, 4), 0x44332211u);
    cr_assert_eq(a.last_port, 0x100);
    cr_assert_eq(a.last_size, 4);
    io_write(io, 0x102, 0xbeef, 2);
    cr_assert_eq(a.writes, 1);
    cr_assert_eq(a.last_val, 0xbeef);
    /* 0x103 belongs to a, 0x104 is unclaimed: bytes. */
    cr_assert_eq(io_read(io, 0x103, 2), 0xff14u);
    cr_assert_eq(a.last_size, 1);
    /* A later registration takes 0x101 only: a dword at 0x100 splits. */
    cr_assert_eq(io_register(io, 0x101, 1, &io_probe_ops, &b), 0);
    a.reads = 0;
    cr_assert_eq(io_read(io, 0x100, 4), 0x14131211u);
    cr_assert_eq(a.reads, 3);
    cr_assert_eq(b.reads, 1);
    cr_assert_eq(b.last_port, 0x101);
    io_write(io, 0x100, 0x04030201, 4);
    cr_assert_eq(b.last_val, 0x02);
    cr_assert_eq(a.last_port, 0x103);
    cr_assert_eq(a.last_val, 0x04);
    io_free(io);
}

Test(ioport, wrap_at_ffff_and_bad_registrations)
{
    struct io_space *io = io_new();
    struct io_probe a = { 0 };
    cr_assert_eq(io_register(io, 0xfffe, 3, &io_probe_ops, &a), -1);
    cr_assert_eq(io_register(io, 0x10, 0, &io_probe_ops, &a), -1);
    cr_assert_eq(io_register(io, 0xfffe, 2, &io_probe_ops, &a), 0);
    /* The probe reads 0x44332211 + (port & 0xff). */
    cr_assert_eq(io_read(io, 0xfffe, 2), 0x230fu);
    /* Dword at 0xFFFE: two claimed bytes, two past the end. */
    cr_assert_eq(io_read(io, 0xfffe, 4), 0xffff100fu);
    io_write(io, 0xffff, 0xaabb, 2);
    cr_assert_eq(a.writes, 1);
    cr_assert_eq(a.last_port, 0xffff);
    cr_assert_eq(a.last_val, 0xbb);
    io_free(io);
}

Test(ioport, trace_sees_every_access)
{
    struct io_space *io = io_new();
    struct io_trace_log t = { 0 };
    struct io_probe a = { 0 };
    io_register(io, 0x70, 2, &io_probe_ops, &a);
    io_set_trace(io, io_trace_cb, &t);
    io_write(io, 0x70, 0x8f, 1);
    cr_assert_eq(t.calls, 1);
    cr_assert(t.write);
    cr_assert_eq(t.port, 0x70);
    cr_assert_eq(t.val, 0x8f);
    cr_assert_eq(io_read(io, 0x71, 1), 0x11u + 0x71u);
    cr_assert_eq(t.calls, 2);
    cr_assert_not(t.write);
    cr_assert_eq(t.val, 0x82);
    cr_assert_eq(t.size, 1);
    io_read(io, 0x300, 4); /* unclaimed still traced */
    cr_assert_eq(t.calls, 3);
    cr_assert_eq(t.val, 0xffffffffu);
    io_set_trace(io, NULL, NULL);
    io_read(io, 0x300, 4);
    cr_assert_eq(t.calls, 3);
    io_free(io);
}

/* ---- phys_unmap, the map notifier, io_unregister ---- */

struct map_rec {
    int calls;
    uint64_t base, size;
};

static void map_rec_fn(void *opaque, uint64_t base, uint64_t size)
{
    struct map_rec *r = opaque;
    r->calls++;
    r->base = base;
    r->size = size;
}

Test(phys, unmap_uncovers_earlier_mappings)
{
    struct phys_mem *pm = phys_new();
    uint8_t *ram = calloc(1, 64 * KIB);
    uint8_t *rom = calloc(1, 8 * KIB);
    struct phys_probe probe = { 0 };
    struct map_rec mr = { 0 };
    ram[0x2000] = 0x11;
    rom[0] = 0x22;
    phys_set_map_notifier(pm, map_rec_fn, &mr);
    cr_assert_eq(phys_map_ram(pm, 0, 64 * KIB, ram), 0);
    cr_assert_eq(mr.calls, 1);
    cr_assert_eq(phys_map_rom(pm, 0x2000, 8 * KIB, rom), 0);
    cr_assert_eq(phys_map_mmio(pm, 0x2000, 4 * KIB, &phys_probe_ops, &probe), 0);
    cr_assert_eq(mr.calls, 3);
    cr_assert_eq(phys_read(pm, 0x2004, 1), 0x04); /* the MMIO */
    /* Not a mapping's exact range: refused, nothing changes. */
    cr_assert_eq(phys_unmap(pm, 0x2000, 12 * KIB), -1);
    cr_assert_eq(phys_unmap(pm, 0x1000, 4 * KIB), -1);
    cr_assert_eq(phys_unmap(pm, 0x2001, 4 * KIB), -1);
    cr_assert_eq(mr.calls, 3);
    /* Remove the MMIO: the ROM beneath shows. */
    cr_assert_eq(phys_unmap(pm, 0x2000, 4 * KIB), 0);
    cr_assert_eq(mr.calls, 4);
    cr_assert_eq(mr.base, 0x2000);
    cr_assert_eq(mr.size, 4 * KIB);
    cr_assert_eq(phys_read(pm, 0x2000, 1), 0x22);
    cr_assert_eq(probe.reads, 1);
    /* Remove the ROM: RAM shows, and is writable again. */
    cr_assert_eq(phys_unmap(pm, 0x2000, 8 * KIB), 0);
    cr_assert_eq(phys_read(pm, 0x2000, 1), 0x11);
    phys_write(pm, 0x3000, 0x33, 1);
    cr_assert_eq(ram[0x3000], 0x33);
    bool w = false;
    cr_assert_eq(phys_page_ptr(pm, 0x3000, &w), ram + 0x3000);
    cr_assert(w);
    /* Remove the RAM: a hole. */
    cr_assert_eq(phys_unmap(pm, 0, 64 * KIB), 0);
    cr_assert_eq(phys_read(pm, 0x2000, 4), 0xffffffffu);
    cr_assert_eq(phys_unmap(pm, 0, 64 * KIB), -1);
    phys_free(pm);
    free(ram);
    free(rom);
}

Test(phys, unmap_keeps_later_mappings_on_top_and_reuses_mmio_slots)
{
    struct phys_mem *pm = phys_new();
    uint8_t *ram = calloc(1, 16 * KIB);
    struct phys_probe a = { 0 }, b = { 0 };
    cr_assert_eq(phys_map_mmio(pm, 0x10000, 16 * KIB, &phys_probe_ops, &a), 0);
    cr_assert_eq(phys_map_ram(pm, 0x11000, 4 * KIB, ram), 0);
    /* Two identical mappings: the later one goes first. */
    cr_assert_eq(phys_map_mmio(pm, 0x10000, 16 * KIB, &phys_probe_ops, &b), 0);
    phys_read(pm, 0x11000, 1);
    cr_assert_eq(b.reads, 1);
    cr_assert_eq(phys_unmap(pm, 0x10000, 16 * KIB), 0);
    /* a's region again, with the RAM (mapped after a) still over it. */
    phys_read(pm, 0x10000, 1);
    cr_assert_eq(a.reads, 1);
    ram[0] = 0x5e;
    cr_assert_eq(phys_read(pm, 0x11000, 1), 0x5e);
    /* Many map/unmap cycles (a BAR that moves a lot) keep working. */
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(phys_map_mmio(pm, 0x20000 + (uint64_t)(i % 7) * 4096, 4096,
                                   &phys_probe_ops, &b), 0);
        cr_assert_eq(phys_unmap(pm, 0x20000 + (uint64_t)(i % 7) * 4096, 4096), 0);
    }
    cr_assert_eq(phys_read(pm, 0x20000, 1), 0xff);
    phys_read(pm, 0x10004, 1);
    cr_assert_eq(a.last_addr, 4);
    phys_free(pm);
    free(ram);
}

Test(phys, io_unregister_frees_ports)
{
    struct io_space *io = io_new();
    struct phys_probe p = { 0 };
    cr_assert_eq(io_register(io, 0x100, 8, &phys_probe_ops, &p), 0);
    cr_assert_eq(io_read(io, 0x104, 1), 0x04);
    cr_assert_eq(io_unregister(io, 0x104, 4), 0);
    cr_assert_eq(io_read(io, 0x104, 1), 0xff);
    cr_assert_eq(io_read(io, 0x103, 1), 0x03);
    io_write(io, 0x105, 1, 1);
    cr_assert_eq(p.writes, 0);
    /* A dword over claimed and free ports: split, free bytes all ones. */
    cr_assert_eq(io_read(io, 0x102, 4), 0xffff0302u);
    cr_assert_eq(io_unregister(io, 0xfffe, 4), -1);
    cr_assert_eq(io_unregister(io, 0x100, 0), -1);
    io_free(io);
}

/* A CPU-only RAM mapping (phys_map_cpu_ram, the i440FX's open SMRAM):
 * the CPU's accesses and its page pointers see it; bus masters'
 * (phys_dma_*) see what lies beneath, here an MMIO window, and again the
 * same as the CPU once it is unmapped. */
Test(phys, cpu_only_mapping_hidden_from_dma)
{
    struct phys_mem *pm = phys_new();
    uint8_t *ram = calloc(1, 64 * KIB);
    uint8_t *smram = calloc(1, 8 * KIB);
    struct phys_probe win = { 0 };
    memset(ram, 0x11, 64 * KIB);
    memset(smram, 0x22, 8 * KIB);
    cr_assert_eq(phys_map_ram(pm, 0, 64 * KIB, ram), 0);
    cr_assert_eq(phys_map_mmio(pm, 0x8000, 16 * KIB, &phys_probe_ops, &win), 0);
    cr_assert_eq(phys_map_cpu_ram(pm, 0x9000, 8 * KIB, smram), 0);

    /* The CPU: RAM in the CPU-only pages, the window around them. */
    cr_assert_eq(phys_read(pm, 0x9010, 1), 0x22);
    cr_assert_eq(phys_read(pm, 0x8010, 1), 0x10);
    bool w = false;
    cr_assert_eq(phys_page_ptr(pm, 0xa000, &w), smram + 4 * KIB);
    cr_assert(w);
    phys_write(pm, 0x9020, 0x33, 1);
    cr_assert_eq(smram[0x20], 0x33);

    /* Bus masters: the window, across the whole range, and plain RAM
     * around it. */
    uint8_t buf[3 * 4096 + 2];
    int reads = win.reads;
    phys_dma_read_buf(pm, 0x7fff, buf, sizeof(buf));
    cr_assert_eq(buf[0], 0x11);              /* 7FFF: RAM */
    cr_assert_eq(buf[1 + 0x10], 0x10);       /* 8010: window */
    cr_assert_eq(buf[1 + 0x1020], 0x20);     /* 9020: window, not SMRAM */
    cr_assert_eq(buf[1 + 0x2ff0], 0xf0);     /* AFF0: window */
    cr_assert_eq(buf[sizeof(buf) - 1], 0x00);/* B000: window */
    cr_assert_eq(win.reads - reads, (int)sizeof(buf) - 1);
    int writes = win.writes;
    memset(buf, 0x44, sizeof(buf));
    phys_dma_write_buf(pm, 0x9000, buf, 16);
    cr_assert_eq(win.writes - writes, 16);
    cr_assert_eq(win.last_addr, 0x100f);
    cr_assert_eq(smram[0], 0x22, "SMRAM untouched by DMA");
    phys_dma_write_buf(pm, 0x100, buf, 4);   /* shared RAM: as the CPU */
    cr_assert_eq(ram[0x103], 0x44);

    /* Unmapped: both views agree again. */
    cr_assert_eq(phys_unmap(pm, 0x9000, 8 * KIB), 0);
    cr_assert_eq(phys_read(pm, 0x9010, 1), 0x10);
    phys_dma_read_buf(pm, 0x9010, buf, 1);
    cr_assert_eq(buf[0], 0x10);
    phys_free(pm);
    free(ram);
    free(smram);
}

/*
 * The direct window each attached TLB is told of (memory.h, struct tlb):
 * the run of plain RAM from 1 MiB, contiguous in the host, followed
 * through mapping changes, a second host buffer, CPU-only RAM, a device
 * far above RAM, the A20 gate and a detach.
 */
Test(phys, direct_window_follows_mappings)
{
    struct phys_mem *pm = phys_new();
    uint8_t *ram = calloc(1, 8 * MIB), *more = calloc(1, MIB);
    static struct tlb t;
    cr_assert(pm && ram && more);
    const uint32_t guard = TLB_DIRECT_MAX_ACCESS - 1;
    cr_assert_eq(phys_attach_tlb(pm, &t), 0);
    cr_assert_eq(t.direct_span, 0u, "no RAM yet");

    cr_assert_eq(phys_map_ram(pm, 0, 8 * MIB, ram), 0);
    cr_assert_eq(t.direct_span, 7 * MIB - guard);
    cr_assert_eq(t.direct_addend, (uintptr_t)ram);

    struct phys_probe probe = { 0 };
    cr_assert_eq(phys_map_mmio(pm, 0xfebf0000, 0x1000, &phys_probe_ops, &probe), 0);
    cr_assert_eq(t.direct_span, 7 * MIB - guard, "a BAR far above RAM");
    cr_assert_eq(phys_map_mmio(pm, 5 * MIB, 0x1000, &phys_probe_ops, &probe), 0);
    cr_assert_eq(t.direct_span, 4 * MIB - guard, "a device over RAM ends it");
    cr_assert_eq(phys_unmap(pm, 5 * MIB, 0x1000), 0);
    cr_assert_eq(t.direct_span, 7 * MIB - guard);

    /* RAM from another host buffer: contiguous in guest, not in host. */
    cr_assert_eq(phys_map_ram(pm, 3 * MIB, MIB, more), 0);
    cr_assert_eq(t.direct_span, 2 * MIB - guard);
    cr_assert_eq(phys_unmap(pm, 3 * MIB, MIB), 0);
    cr_assert_eq(t.direct_span, 7 * MIB - guard);

    cr_assert_eq(phys_map_cpu_ram(pm, 2 * MIB, 0x1000, more), 0);
    cr_assert_eq(t.direct_span, MIB - guard, "CPU-only RAM: DMA sees another page");
    cr_assert_eq(phys_unmap(pm, 2 * MIB, 0x1000), 0);

    phys_set_a20(pm, false);
    cr_assert_eq(t.direct_span, 0u, "A20 off: 1 MiB aliases 0");
    phys_set_a20(pm, true);
    cr_assert_eq(t.direct_span, 7 * MIB - guard);

    phys_detach_tlb(pm, &t);
    cr_assert_eq(t.direct_span, 0u);
    phys_free(pm);
    free(ram);
    free(more);
}
