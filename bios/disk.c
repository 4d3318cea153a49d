/* bios/disk.c — ATA/ATAPI PIO on the legacy IDE channels and INT 13h
 * (IBM PC AT Tech. Ref. for AH=00h-15h, Phoenix "BIOS Enhanced Disk Drive
 * Specification" 3.0 for AH=41h-48h, El Torito 1.0 for CD boot and
 * AH=4Bh). Register protocol: ATA/ATAPI-6 (PIO data-in/out, PACKET). */
#include "bios.h"

struct drive {
    bool present, atapi, lba48;
    uint8_t slave, channel;
    uint16_t base, ctrl;
    uint64_t sectors;           /* ATA: 512-byte sectors; ATAPI: 2048-byte */
    uint16_t cyl, heads, spt;   /* INT 13h (translated) geometry */
    char model[41];
};

static struct drive drives[4];
static uint8_t nhd, ncd;
static uint8_t hd_idx[4], cd_idx[4];

/* El Torito state for AH=4Bh. */
static struct {
    bool active;
    uint8_t drive;
    uint32_t lba;
    uint16_t load_seg, count;
    uint8_t dev;
    uint8_t media;              /* 0 no emulation, 1-3 floppy, 4 hard disk */
    bool emulating;             /* drive 00h or 80h is the image */
    uint16_t cyl, heads, spt;
    uint32_t sectors;           /* 512-byte sectors of the emulated drive */
    uint32_t cached;            /* CD block in emu_buf, or ~0 */
} cdboot;
static uint8_t emu_buf[2048];

static uint8_t sectbuf[2048];

static const uint16_t ch_base[2] = { 0x1f0, 0x170 };
static const uint16_t ch_ctrl[2] = { 0x3f6, 0x376 };

static uint8_t alt_status(const struct drive *d) { return inb(d->ctrl); }

static void delay400(const struct drive *d)
{
    for (int i = 0; i < 4; i++) (void)alt_status(d);
}

/* Wait until BSY clears, then until (status & mask) == val; -1 on timeout
 * or ERR/DF. Timeout in milliseconds. The status is polled back to back,
 * the PIT timing the whole wait: a drive has a multi-sector read's next
 * sector ready microseconds after the last, and with a 50 us sleep
 * between polls each sector waited 50 us (SYSLINUX loading Debian's 5.7
 * MB kernel took 0.72 s, 0.2 s without the sleeps). */
static int ata_wait(const struct drive *d, uint8_t mask, uint8_t val, unsigned ms)
{
    struct deadline t;
    deadline_start(&t, ms * 1000u);
    do {
        uint8_t st = alt_status(d);
        if (!(st & 0x80)) {
            if (st & 0x21) return -1;
            if ((st & mask) == val) return st;
        }
    } while (!deadline_passed(&t));
    return -1;
}

static void ata_select(const struct drive *d, uint8_t extra)
{
    outb(d->base + 6, (uint8_t)(0xa0 | d->slave << 4 | extra));
    delay400(d);
}

static int ata_identify(struct drive *d, uint8_t cmd, uint16_t *id)
{
    ata_select(d, 0);
    outb(d->base + 7, cmd);
    delay400(d);
    if (inb(d->base + 7) == 0) return -1;
    if (ata_wait(d, 0x08, 0x08, 1000) < 0) return -1;
    insw(d->base, id, 256);
    return 0;
}

static void id_string(char *dst, const uint16_t *id, int words)
{
    for (int i = 0; i < words; i++) {
        dst[2 * i] = (char)(id[i] >> 8);
        dst[2 * i + 1] = (char)id[i];
    }
    int n = 2 * words;
    dst[n] = 0;
    while (n > 0 && dst[n - 1] == ' ') dst[--n] = 0;
}

/* LBA-assisted translation (as in the EDD spec's discussion of the
 * 1024-cylinder limit): 63 sectors, heads doubled until cylinders fit. */
static void translate(struct drive *d, const uint16_t *id)
{
    uint64_t total = d->sectors;
    uint32_t c = id[1], h = id[3], s = id[6];
    if (c && h && s && h <= 16 && s <= 63 && (uint64_t)c * h * s <= total && c <= 1024) {
        d->cyl = (uint16_t)c; d->heads = (uint16_t)h; d->spt = (uint16_t)s;
        return;
    }
    static const uint16_t hs[] = { 16, 32, 64, 128, 255 };
    uint32_t t = total > 1024u * 255 * 63 ? 1024u * 255 * 63 : (uint32_t)total;
    d->spt = 63;
    for (int i = 0; i < 5; i++) {
        d->heads = hs[i];
        if (t / (63u * hs[i]) <= 1024) break;
    }
    uint32_t cyl = t / (63u * d->heads);
    d->cyl = (uint16_t)(cyl > 1024 ? 1024 : cyl ? cyl : 1);
}

static int atapi_packet(struct drive *d, const uint8_t *pkt, void *buf, uint32_t maxlen);

static void probe(struct drive *d, bool sig_atapi)
{
    static uint16_t id[256];
    if (!sig_atapi && ata_identify(d, 0xec, id) == 0) {
        d->present = true;
        d->lba48 = (id[83] & 0x0400) != 0;
        d->sectors = id[60] | (uint32_t)id[61] << 16;
        if (d->lba48) {
            uint64_t s48 = id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32
                         | (uint64_t)id[103] << 48;
            if (s48) d->sectors = s48;
        }
        if (!d->sectors) d->sectors = (uint32_t)id[1] * id[3] * id[6];
        translate(d, id);
    } else {
        uint8_t m = inb(d->base + 4), h = inb(d->base + 5);
        if (!sig_atapi && (m != 0x14 || h != 0xeb)) return;
        if (ata_identify(d, 0xa1, id) < 0) return;
        d->present = true;
        d->atapi = true;
        d->sectors = 0;
    }
    id_string(d->model, id + 27, 20);
}

void disk_init(void)
{
    for (int c = 0; c < 2; c++) {
        struct drive *d0 = &drives[c * 2];
        d0->base = ch_base[c];
        d0->ctrl = ch_ctrl[c];
        if (inb(d0->base + 7) == 0xff) continue;        /* floating bus */
        /* Software reset of the channel (ATA-6 §9.2), interrupts off. */
        outb(d0->ctrl, 0x06);
        udelay(10);
        outb(d0->ctrl, 0x02);
        udelay(2000);
        for (int s = 0; s < 2; s++) {
            struct drive *d = &drives[c * 2 + s];
            d->base = ch_base[c];
            d->ctrl = ch_ctrl[c];
            d->slave = (uint8_t)s;
            d->channel = (uint8_t)c;
            /* After reset an ATAPI device reports status 0 (no DRDY) and
             * the signature 14h/EBh in LBA mid/high (ATA-6 §9.12); an
             * absent device reads 0 everywhere. */
            ata_select(d, 0);
            uint8_t st = inb(d->base + 7);
            if (st == 0xff) continue;
            struct deadline t;
            deadline_start(&t, 5000000u); /* ATA-6 9.2: up to 31 s; 5 s here, as before */
            while ((st & 0x80) && !deadline_passed(&t))
                st = inb(d->base + 7);
            if (st & 0x80) continue;
            bool sig_atapi = inb(d->base + 4) == 0x14 && inb(d->base + 5) == 0xeb;
            if (!sig_atapi && st == 0) continue;
            probe(d, sig_atapi);
        }
    }
    for (int i = 0; i < 4; i++) {
        struct drive *d = &drives[i];
        if (!d->present) continue;
        if (d->atapi) {
            cd_idx[ncd++] = (uint8_t)i;
            printf("%s %s: ATAPI CD/DVD \"%s\" (drive %x)\n", i < 2 ? "Primary" : "Secondary",
                   (i & 1) ? "slave" : "master", d->model, 0xe0u + ncd - 1);
        } else {
            hd_idx[nhd++] = (uint8_t)i;
            printf("%s %s: ATA disk \"%s\" %u MiB (drive %x)\n", i < 2 ? "Primary" : "Secondary",
                   (i & 1) ? "slave" : "master", d->model, (unsigned)(d->sectors >> 11),
                   0x80u + nhd - 1);
        }
    }
    BDA8(0x75) = nhd;
}

/* PIO data-in / data-out of count 512-byte sectors at linear address buf. */
static int ata_rw(struct drive *d, uint64_t lba, uint32_t count, uint32_t buf, bool write)
{
    while (count) {
        uint32_t n = count > 256 ? 256 : count;
        bool use48 = lba + n > 0x0fffffff;
        if (use48 && !d->lba48) return -1;
        ata_select(d, 0x40);
        if (ata_wait(d, 0x40, 0x40, 5000) < 0) return -1;
        outb(d->ctrl, 0x02);
        if (use48) {
            outb(d->base + 2, (uint8_t)(n >> 8));
            outb(d->base + 3, (uint8_t)(lba >> 24));
            outb(d->base + 4, (uint8_t)(lba >> 32));
            outb(d->base + 5, (uint8_t)(lba >> 40));
            outb(d->base + 2, (uint8_t)n);
            outb(d->base + 3, (uint8_t)lba);
            outb(d->base + 4, (uint8_t)(lba >> 8));
            outb(d->base + 5, (uint8_t)(lba >> 16));
            outb(d->base + 6, (uint8_t)(0x40 | d->slave << 4));
            outb(d->base + 7, write ? 0x34 : 0x24);
        } else {
            outb(d->base + 2, (uint8_t)n);      /* 0 = 256 */
            outb(d->base + 3, (uint8_t)lba);
            outb(d->base + 4, (uint8_t)(lba >> 8));
            outb(d->base + 5, (uint8_t)(lba >> 16));
            outb(d->base + 6, (uint8_t)(0xe0 | d->slave << 4 | ((lba >> 24) & 0x0f)));
            outb(d->base + 7, write ? 0x30 : 0x20);
        }
        delay400(d);
        for (uint32_t i = 0; i < n; i++) {
            if (ata_wait(d, 0x08, 0x08, 5000) < 0) return -1;
            if (write) outsw(d->base, ptr(buf), 256);
            else insw(d->base, ptr(buf), 256);
            buf += 512;
            delay400(d);
        }
        if (ata_wait(d, 0, 0, 5000) < 0) return -1;
        (void)inb(d->base + 7);                 /* clears a pending INTRQ */
        lba += n;
        count -= n;
    }
    if (write) {
        ata_select(d, 0);
        outb(d->base + 7, 0xe7);                /* FLUSH CACHE */
        delay400(d);
        (void)ata_wait(d, 0, 0, 30000);
    }
    return 0;
}

/* PACKET command, PIO data-in (ATA-6 §9.8): returns bytes read or -1. */
static int atapi_packet(struct drive *d, const uint8_t *pkt, void *buf, uint32_t maxlen)
{
    uint8_t *out = buf;
    uint32_t got = 0;
    ata_select(d, 0);
    if (ata_wait(d, 0, 0, 5000) < 0 && (alt_status(d) & 0x80)) return -1;
    outb(d->ctrl, 0x02);
    outb(d->base + 1, 0);                       /* PIO, no overlap */
    outb(d->base + 4, 0x00);                    /* byte count limit 0xF800 */
    outb(d->base + 5, 0xf8);
    outb(d->base + 7, 0xa0);
    delay400(d);
    if (ata_wait(d, 0x08, 0x08, 5000) < 0) { (void)inb(d->base + 7); return -1; }
    outsw(d->base, pkt, 6);
    delay400(d);
    for (;;) {
        int st = ata_wait(d, 0, 0, 10000);
        if (st < 0) { (void)inb(d->base + 7); return -1; }
        if (!(st & 0x08)) break;
        uint32_t n = inb(d->base + 4) | (uint32_t)inb(d->base + 5) << 8;
        if (!(n & 1) && got + n <= maxlen) {
            /* One REP INSW for the whole chunk (the CPU reads it in runs:
             * cpu/string.c op_ins); the word loop below only for a chunk
             * that overruns the buffer. */
            insw(d->base, out + got, n / 2);
            got += n;
            delay400(d);
            continue;
        }
        for (uint32_t i = 0; i < (n + 1) / 2; i++) {
            uint16_t w = inw(d->base);
            if (got + 1 < maxlen) { out[got] = (uint8_t)w; out[got + 1] = (uint8_t)(w >> 8); }
            else if (got < maxlen) out[got] = (uint8_t)w;
            got += 2;
        }
        delay400(d);
    }
    (void)inb(d->base + 7);
    return (int)(got > maxlen ? maxlen : got);
}

/* READ(10) of count 2048-byte blocks with retries: the first command after
 * a reset or medium change reports UNIT ATTENTION (MMC), REQUEST SENSE
 * clears it. */
static int cd_read(struct drive *d, uint32_t lba, uint32_t count, uint32_t buf)
{
    while (count) {
        uint32_t n = count > 16 ? 16 : count;
        uint8_t pkt[12] = { 0x28, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16), (uint8_t)(lba >> 8),
                            (uint8_t)lba, 0, (uint8_t)(n >> 8), (uint8_t)n, 0, 0, 0 };
        int r = -1;
        for (int tries = 0; tries < 5 && r != (int)(n * 2048); tries++) {
            r = atapi_packet(d, pkt, ptr(buf), n * 2048);
            if (r != (int)(n * 2048)) {
                uint8_t sense[18];
                static const uint8_t rs[12] = { 0x03, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0 };
                (void)atapi_packet(d, rs, sense, sizeof sense);
            }
        }
        if (r != (int)(n * 2048)) return -1;
        lba += n;
        count -= n;
        buf += n * 2048;
    }
    return 0;
}

static uint32_t cd_capacity(struct drive *d)
{
    static const uint8_t pkt[12] = { 0x25 };
    uint8_t cap[8];
    for (int tries = 0; tries < 3; tries++)
        if (atapi_packet(d, pkt, cap, 8) == 8)
            return ((uint32_t)cap[0] << 24 | (uint32_t)cap[1] << 16 | (uint32_t)cap[2] << 8 | cap[3]) + 1;
    return 0;
}

static struct drive *lookup(uint8_t dl)
{
    if (cdboot.emulating && cdboot.media == 4 && dl >= 0x80 && dl < 0xe0) {
        if (dl == 0x80) return NULL;
        dl--;
    }
    if (dl >= 0x80 && dl < 0x80 + nhd) return &drives[hd_idx[dl - 0x80]];
    if (dl >= 0xe0 && dl < 0xe0 + ncd) return &drives[cd_idx[dl - 0xe0]];
    return NULL;
}

static void hd_status(struct rm_frame *f, uint8_t st)
{
    ret_status(f, st);
    if (f->edx.l >= 0x80) BDA8(0x74) = st;
}

static void edd_params(struct rm_frame *f, struct drive *d)
{
    uint8_t *p = ptr(lin(f->ds, f->esi.x));
    uint16_t size = *(uint16_t *)p;
    if (size < 0x1a) { hd_status(f, 0x01); return; }
    uint16_t ret = size >= 0x42 ? 0x42 : size >= 0x1e ? 0x1e : 0x1a;
    memset(p, 0, ret);
    *(uint16_t *)p = ret;
    if (d->atapi) {
        *(uint16_t *)(p + 2) = 0x0074;          /* removable, change line, lockable, no CHS */
        uint32_t cap = cd_capacity(d);
        *(uint32_t *)(p + 16) = cap ? cap : 0xffffffffu;
        *(uint32_t *)(p + 20) = cap ? 0 : 0xffffffffu;
        *(uint16_t *)(p + 24) = 2048;
    } else {
        *(uint16_t *)(p + 2) = 0x0002;          /* CHS information valid */
        *(uint32_t *)(p + 4) = d->cyl;
        *(uint32_t *)(p + 8) = d->heads;
        *(uint32_t *)(p + 12) = d->spt;
        *(uint64_t *)(p + 16) = d->sectors;
        *(uint16_t *)(p + 24) = 512;
    }
    if (ret >= 0x1e) *(uint32_t *)(p + 26) = 0xffffffffu;  /* no DPTE */
    if (ret >= 0x42) {
        /* EDD 3.0 device path: key BEDDh, length 36, ISA host bus, ATA or
         * ATAPI interface, legacy base port, master/slave; checksum makes
         * bytes 30..65 sum to 0. */
        *(uint16_t *)(p + 30) = 0xbedd;
        p[32] = 36;
        memcpy(p + 36, "ISA ", 4);
        memcpy(p + 40, d->atapi ? "ATAPI   " : "ATA     ", 8);
        *(uint16_t *)(p + 48) = d->base;
        p[56] = d->slave;
        uint8_t sum = 0;
        for (int i = 30; i < 65; i++) sum = (uint8_t)(sum + p[i]);
        p[65] = (uint8_t)-sum;
    }
    hd_status(f, 0);
}

static void cd_status_packet(struct rm_frame *f)
{
    uint8_t *p = ptr(lin(f->ds, f->esi.x));
    memset(p, 0, 0x13);
    p[0] = 0x13;
    p[1] = cdboot.media;
    p[2] = cdboot.emulating ? (cdboot.media == 4 ? 0x80 : 0x00) : cdboot.drive;
    p[3] = cdboot.dev >> 1;             /* controller index */
    *(uint32_t *)(p + 4) = cdboot.lba;
    *(uint16_t *)(p + 8) = cdboot.dev & 1;      /* ATAPI slave bit */
    *(uint16_t *)(p + 12) = cdboot.load_seg;
    *(uint16_t *)(p + 14) = cdboot.count;
    if (cdboot.media) {
        p[16] = (uint8_t)(cdboot.cyl - 1);
        p[17] = (uint8_t)(cdboot.spt | ((cdboot.cyl - 1) >> 8) << 6);
        p[18] = (uint8_t)(cdboot.heads - 1);
    }
}

/* ------------------------------------------------ El Torito emulation */

/* 512-byte sector n of the emulated drive: four per CD block. */
static int emu_read(uint32_t n, uint32_t count, uint32_t buf)
{
    struct drive *d = &drives[cdboot.dev];
    for (; count; count--, n++, buf += 512) {
        uint32_t blk = cdboot.lba + n / 4;
        if (blk != cdboot.cached) {
            cdboot.cached = ~0u;
            if (cd_read(d, blk, 1, (uint32_t)(uintptr_t)emu_buf) < 0) return -1;
            cdboot.cached = blk;
        }
        memcpy(ptr(buf), emu_buf + (n % 4) * 512, 512);
    }
    return 0;
}

/* INT 13h for the emulated diskette (00h) or hard disk (80h): reads only,
 * the image is on a CD (writes: 03h write protected). */
static bool emu_int13(struct rm_frame *f)
{
    uint8_t dl = f->edx.l, ah = f->eax.h;
    if (!cdboot.emulating || dl != (cdboot.media == 4 ? 0x80 : 0x00)) return false;
    switch (ah) {
    case 0x00: case 0x0c: case 0x0d: case 0x10: case 0x11: case 0x16: case 0x47:
        if (ah == 0x16) { f->eax.h = 0; set_cf(f, false); return true; }
        ret_status(f, 0);
        return true;
    case 0x01: f->eax.x = 0; set_cf(f, false); return true;
    case 0x02: case 0x04: {
        uint32_t cyl = f->ecx.h | (uint32_t)(f->ecx.l & 0xc0) << 2;
        uint32_t sec = f->ecx.l & 0x3f, head = f->edx.h, count = f->eax.l;
        if (!count || !sec || sec > cdboot.spt || head >= cdboot.heads || cyl >= cdboot.cyl) {
            f->eax.l = 0; ret_status(f, 0x04); return true;
        }
        uint32_t lba = (cyl * cdboot.heads + head) * cdboot.spt + sec - 1;
        if (lba + count > cdboot.sectors) { f->eax.l = 0; ret_status(f, 0x04); return true; }
        if (ah == 0x02 && emu_read(lba, count, lin(f->es, f->ebx.x)) < 0) {
            f->eax.l = 0; ret_status(f, 0x20); return true;
        }
        ret_status(f, 0);
        return true;
    }
    case 0x03: case 0x05: case 0x43:
        ret_status(f, 0x03);
        return true;
    case 0x08:
        f->ecx.h = (uint8_t)(cdboot.cyl - 1);
        f->ecx.l = (uint8_t)(cdboot.spt | ((cdboot.cyl - 1) >> 8) << 6);
        f->edx.h = (uint8_t)(cdboot.heads - 1);
        if (cdboot.media == 4) {
            f->edx.l = (uint8_t)(nhd + 1);
        } else {
            static const uint8_t type[4] = { 0, 2, 4, 6 };     /* 1.2M, 1.44M, 2.88M */
            f->edx.l = 1;
            f->ebx.l = type[cdboot.media];
            f->es = 0xf000;
            f->edi.x = F_OFF(diskette_params);
        }
        f->eax.l = 0;
        ret_status(f, 0);
        return true;
    case 0x15:
        if (cdboot.media == 4) {
            f->ecx.x = (uint16_t)(cdboot.sectors >> 16);
            f->edx.x = (uint16_t)cdboot.sectors;
            f->eax.h = 0x03;
        } else {
            f->eax.h = 0x02;            /* diskette with change line */
        }
        set_cf(f, false);
        return true;
    case 0x41:
        if (cdboot.media == 4 && f->ebx.x == 0x55aa) {
            f->ebx.x = 0xaa55;
            f->eax.h = 0x30;
            f->ecx.x = 0x0001;
            set_cf(f, false);
        } else {
            ret_status(f, 0x01);
        }
        return true;
    case 0x48: {
        uint8_t *p = ptr(lin(f->ds, f->esi.x));
        if (cdboot.media != 4 || *(uint16_t *)p < 0x1a) { ret_status(f, 0x01); return true; }
        memset(p, 0, 0x1a);
        *(uint16_t *)p = 0x1a;
        *(uint16_t *)(p + 2) = 0x0002;
        *(uint32_t *)(p + 4) = cdboot.cyl;
        *(uint32_t *)(p + 8) = cdboot.heads;
        *(uint32_t *)(p + 12) = cdboot.spt;
        *(uint32_t *)(p + 16) = cdboot.sectors;
        *(uint16_t *)(p + 24) = 512;
        ret_status(f, 0);
        return true;
    }
    case 0x42: {
        uint8_t *p = ptr(lin(f->ds, f->esi.x));
        uint16_t count = *(uint16_t *)(p + 2);
        uint32_t fp = *(uint32_t *)(p + 4);
        uint64_t lba = *(uint64_t *)(p + 8);
        if (p[0] < 0x10 || lba + count > cdboot.sectors) { *(uint16_t *)(p + 2) = 0; ret_status(f, 0x04); return true; }
        if (emu_read((uint32_t)lba, count, lin((uint16_t)(fp >> 16), (uint16_t)fp)) < 0) {
            *(uint16_t *)(p + 2) = 0; ret_status(f, 0x20); return true;
        }
        ret_status(f, 0);
        return true;
    }
    }
    ret_status(f, 0x01);
    return true;
}

static void emu_stop(void)
{
    if (!cdboot.emulating) return;
    cdboot.emulating = false;
    if (cdboot.media == 4) BDA8(0x75) = nhd;
    else BDA16(0x10) &= (uint16_t)~0x00c1;
}

void int13_handler(struct rm_frame *f)
{
    uint8_t ah = f->eax.h, dl = f->edx.l;
    struct drive *d = lookup(dl);

    if (ah == 0x4b) {                   /* El Torito: terminate / status */
        if ((f->eax.l == 0x00 || f->eax.l == 0x01) && cdboot.active) {
            cd_status_packet(f);
            if (f->eax.l == 0x00) emu_stop();
            ret_status(f, 0);
        } else {
            ret_status(f, 0x01);
        }
        return;
    }
    if (emu_int13(f)) return;
    if (!d) {
        if (ah == 0x15 && dl < 0x80) { f->eax.h = 0; set_cf(f, false); return; }
        if (ah == 0x08 && dl < 0x80) {  /* no diskette drives */
            f->eax.x = 0; f->ebx.x = 0; f->ecx.x = 0; f->edx.x = 0;
            set_cf(f, true);
            f->eax.h = 0x01;
            return;
        }
        if (ah == 0x08 || ah == 0x15) {
            f->edx.l = nhd;
            ret_status(f, ah == 0x15 ? 0 : 0x01);
            if (ah == 0x15) f->eax.h = 0;
            return;
        }
        ret_status(f, 0x01);
        return;
    }

    switch (ah) {
    case 0x00: case 0x0d: case 0x10: case 0x11: case 0x0c: case 0x14: case 0x47:
        hd_status(f, 0);
        return;
    case 0x01: {
        uint8_t st = BDA8(0x74);
        f->eax.x = st;
        set_cf(f, st != 0);
        return;
    }
    case 0x02: case 0x03: case 0x04: {
        if (d->atapi) { hd_status(f, 0x01); return; }
        uint32_t cyl = f->ecx.h | (uint32_t)(f->ecx.l & 0xc0) << 2;
        uint32_t sec = f->ecx.l & 0x3f, head = f->edx.h, count = f->eax.l;
        if (!count || !sec || sec > d->spt || head >= d->heads || cyl >= d->cyl) {
            f->eax.l = 0;
            hd_status(f, 0x04);
            return;
        }
        uint64_t lba = ((uint64_t)cyl * d->heads + head) * d->spt + sec - 1;
        if (lba + count > d->sectors) { f->eax.l = 0; hd_status(f, 0x04); return; }
        if (ah != 0x04 && ata_rw(d, lba, count, lin(f->es, f->ebx.x), ah == 0x03) < 0) {
            f->eax.l = 0;
            hd_status(f, 0xaa);
            return;
        }
        hd_status(f, 0);
        f->eax.l = (uint8_t)count;
        return;
    }
    case 0x08: {
        if (d->atapi) { hd_status(f, 0x01); return; }
        uint16_t c = (uint16_t)(d->cyl - 1);
        f->ecx.h = (uint8_t)c;
        f->ecx.l = (uint8_t)((d->spt & 0x3f) | (c >> 8) << 6);
        f->edx.h = (uint8_t)(d->heads - 1);
        f->edx.l = nhd;
        f->eax.l = 0;
        f->ebx.l = 0;
        hd_status(f, 0);
        return;
    }
    case 0x15:
        if (d->atapi) { f->eax.h = 0x02; set_cf(f, false); return; }
        {
            uint32_t n = (uint32_t)d->cyl * d->heads * d->spt;
            f->ecx.x = (uint16_t)(n >> 16);
            f->edx.x = (uint16_t)n;
            f->eax.h = 0x03;
            set_cf(f, false);
        }
        return;
    case 0x41:
        if (f->ebx.x != 0x55aa) { hd_status(f, 0x01); return; }
        f->ebx.x = 0xaa55;
        f->eax.h = 0x30;                /* EDD 3.0 */
        f->ecx.x = d->atapi ? 0x0007 : 0x0005;
        set_cf(f, false);
        return;
    case 0x42: case 0x43: case 0x44: {
        uint8_t *p = ptr(lin(f->ds, f->esi.x));
        if (p[0] < 0x10) { hd_status(f, 0x01); return; }
        uint16_t count = *(uint16_t *)(p + 2);
        uint32_t fp = *(uint32_t *)(p + 4);
        uint64_t lba = *(uint64_t *)(p + 8);
        uint64_t buf = lin((uint16_t)(fp >> 16), (uint16_t)fp);
        if (fp == 0xffffffffu && p[0] >= 0x18) buf = *(uint64_t *)(p + 16);
        uint32_t bs = d->atapi ? 2048 : 512;
        uint64_t total = d->atapi ? cd_capacity(d) : d->sectors;
        if (buf + (uint64_t)count * bs > 0x100000000ULL || lba + count > total) {
            *(uint16_t *)(p + 2) = 0;
            hd_status(f, 0x04);
            return;
        }
        int r = 0;
        if (ah == 0x42)
            r = d->atapi ? cd_read(d, (uint32_t)lba, count, (uint32_t)buf)
                         : ata_rw(d, lba, count, (uint32_t)buf, false);
        else if (ah == 0x43)
            r = d->atapi ? -2 : ata_rw(d, lba, count, (uint32_t)buf, true);
        if (r < 0) {
            *(uint16_t *)(p + 2) = 0;
            hd_status(f, r == -2 ? 0x03 : 0xaa);
            return;
        }
        hd_status(f, 0);
        return;
    }
    case 0x45: case 0x46: case 0x49:    /* lock, eject, media changed */
        if (!d->atapi) { hd_status(f, 0x01); return; }
        if (ah == 0x45) f->eax.l = 0;
        hd_status(f, ah == 0x46 ? 0xb1 : 0);
        return;
    case 0x48:
        edd_params(f, d);
        return;
    }
    hd_status(f, 0x01);
}

static int boot_cd(struct rm_frame *f)
{
    for (int k = 0; k < ncd; k++) {
        struct drive *d = &drives[cd_idx[k]];
        uint32_t b = (uint32_t)(uintptr_t)sectbuf;
        if (cd_read(d, 17, 1, b) < 0) { printf("Could not read from CD\n"); continue; }
        if (sectbuf[0] != 0 || memcmp(sectbuf + 1, "CD001\1EL TORITO SPECIFICATION", 29)) {
            printf("CD is not bootable (no El Torito record)\n");
            continue;
        }
        uint32_t cat = *(uint32_t *)(sectbuf + 0x47);
        if (cd_read(d, cat, 1, b) < 0) continue;
        uint16_t sum = 0;
        for (int i = 0; i < 16; i++) sum = (uint16_t)(sum + ((uint16_t *)sectbuf)[i]);
        if (sectbuf[0] != 1 || sectbuf[0x1e] != 0x55 || sectbuf[0x1f] != 0xaa || sum) {
            printf("CD boot catalog is invalid\n");
            continue;
        }
        const uint8_t *e = sectbuf + 0x20;
        if (e[0] != 0x88) { printf("CD default entry is not bootable\n"); continue; }
        uint8_t media = e[1] & 0x0f;
        if (media > 4) { printf("CD boot entry has an unknown media type\n"); continue; }
        uint16_t seg = *(const uint16_t *)(e + 2);
        uint16_t count = *(const uint16_t *)(e + 6);
        uint32_t lba = *(const uint32_t *)(e + 8);
        if (!seg) seg = 0x07c0;
        if (media && !count) count = 1;
        uint32_t dst = (uint32_t)seg << 4;
        if (!count || dst < 0x500 || dst + count * 512u > (uint32_t)CONV_KB * 1024) {
            printf("CD boot image does not fit in memory\n");
            continue;
        }
        cdboot.dev = cd_idx[k];
        cdboot.lba = lba;
        cdboot.cached = ~0u;
        cdboot.media = media;
        if (media) {
            /* Diskette emulation (El Torito §3.1): 1.2M 80/2/15, 1.44M
             * 80/2/18, 2.88M 80/2/36. Hard disk emulation: geometry from
             * the image's MBR partition 1 (end head / sector). */
            static const uint8_t spt[4] = { 0, 15, 18, 36 };
            if (media < 4) {
                cdboot.cyl = 80; cdboot.heads = 2; cdboot.spt = spt[media];
            } else {
                uint8_t mbr[512];
                if (emu_read(0, 1, (uint32_t)(uintptr_t)mbr) < 0) continue;
                const uint8_t *pe = mbr + 446;
                uint32_t end = *(const uint32_t *)(pe + 8) + *(const uint32_t *)(pe + 12);
                cdboot.heads = (uint16_t)(pe[5] + 1);
                cdboot.spt = pe[6] & 0x3f;
                if (!cdboot.spt || mbr[510] != 0x55 || mbr[511] != 0xaa) {
                    printf("CD hard disk image has no partition table\n");
                    continue;
                }
                cdboot.cyl = (uint16_t)((end + cdboot.heads * cdboot.spt - 1) / (cdboot.heads * cdboot.spt));
                if (cdboot.cyl > 1024) cdboot.cyl = 1024;
            }
            cdboot.sectors = (uint32_t)cdboot.cyl * cdboot.heads * cdboot.spt;
            cdboot.emulating = true;
            if (emu_read(0, count, dst) < 0) { cdboot.emulating = false; continue; }
            if (media == 4) BDA8(0x75) = (uint8_t)(nhd + 1);
            else BDA16(0x10) = (BDA16(0x10) & (uint16_t)~0x00c0) | 0x0001;   /* one diskette */
            printf("CD: %s emulation\n", media == 4 ? "hard disk" : "diskette");
            cdboot.active = true;
            cdboot.drive = (uint8_t)(0xe0 + k);
            cdboot.load_seg = seg;
            cdboot.count = count;
            f->edx.l = media == 4 ? 0x80 : 0x00;
            f->cs = 0;
            f->ip = (uint16_t)dst;
            if (dst >= 0x10000) { f->cs = seg; f->ip = 0; }
            return 0;
        }
        /* The image is counted in 512-byte virtual sectors: read whole
         * 2048-byte blocks through a bounce buffer for the tail. */
        uint32_t bytes = count * 512u, off = 0, blk = lba;
        while (off < bytes) {
            if (cd_read(d, blk, 1, b) < 0) break;
            uint32_t n = bytes - off > 2048 ? 2048 : bytes - off;
            memcpy(ptr(dst + off), sectbuf, n);
            off += n;
            blk++;
        }
        if (off < bytes) { printf("Could not read the CD boot image\n"); continue; }
        cdboot.active = true;
        cdboot.drive = (uint8_t)(0xe0 + k);
        cdboot.lba = lba;
        cdboot.load_seg = seg;
        cdboot.count = count;
        cdboot.dev = cd_idx[k];
        f->edx.l = cdboot.drive;
        if (dst < 0x10000) { f->cs = 0; f->ip = (uint16_t)dst; }
        else { f->cs = seg; f->ip = 0; }
        return 0;
    }
    return -1;
}

int disk_boot(int kind, struct rm_frame *f)
{
    if (kind == 3) {
        printf("Booting from DVD/CD...\n");
        if (!ncd) { printf("No CD drive\n"); return -1; }
        return boot_cd(f);
    }
    printf("Booting from Hard Disk...\n");
    if (!nhd) { printf("No hard disk\n"); return -1; }
    struct drive *d = &drives[hd_idx[0]];
    if (ata_rw(d, 0, 1, 0x7c00, false) < 0) { printf("Disk read error\n"); return -1; }
    if (*(volatile uint16_t *)ptr(0x7dfe) != 0xaa55) {
        printf("Boot failed: not a bootable disk\n");
        return -1;
    }
    f->edx.l = 0x80;
    f->cs = 0;
    f->ip = 0x7c00;
    return 0;
}
