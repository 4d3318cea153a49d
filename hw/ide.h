/*
 * hw/ide.h — one ATA channel (two devices: hard disks per ATA/ATAPI-6,
 * T13 1410D, and ATAPI CD-ROMs per SFF-8020/MMC). The channel's command
 * block (8 ports) and control block (1 port) registers, its INTRQ line,
 * and a hook for a bus-master DMA engine (hw/piix_ide.c).
 */
#ifndef GLASS_HW_IDE_H
#define GLASS_HW_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/block.h"
#include "hw/dev.h"

struct ide_bus;

/* What the bus-master engine provides to the channel. */
struct ide_dma_ops {
    /* True while the engine's Start bit is set. */
    bool (*started)(void *opaque);
    /* Moves `len` bytes between `buf` and guest memory along the PRD
     * table: to_mem = device-to-memory. Returns the bytes moved; fewer than
     * `len` means the PRD table ended first. */
    uint32_t (*rw)(void *opaque, uint8_t *buf, uint32_t len, bool to_mem);
    /* The device finished its data transfer (just before INTRQ). */
    void (*done)(void *opaque);
};

/* `irq` is the channel's INTRQ wire (ISA IRQ 14/15 in compatibility
 * mode, or the bus-master engine which forwards it). */
struct ide_bus *ide_bus_new(struct vclock *clk, const struct irq_line *irq);
void ide_bus_free(struct ide_bus *bus);
/* Registers cmd_base..cmd_base+7 and the control port ctl_port. */
void ide_bus_map_ports(struct ide_bus *bus, struct io_space *io, uint16_t cmd_base,
                       uint16_t ctl_port);
/* The register callbacks, for a bus mapping them elsewhere: command block
 * (addr & 7) and control block (any addr). */
extern const struct mem_ops ide_cmd_ops, ide_ctl_ops;

/* unit 0 = master, 1 = slave. The block stays the caller's (close it after
 * ide_bus_free). Returns 0, or -1 (bad unit / slot taken / no block). */
int ide_attach_disk(struct ide_bus *bus, int unit, struct block *b);
/* `media` may be NULL (an empty drive). */
int ide_attach_cdrom(struct ide_bus *bus, int unit, struct block *media);
/* Media change from the host side (NULL = eject): the drive reports UNIT
 * ATTENTION (28h) to the next command, and a media event. */
int ide_cdrom_change_media(struct ide_bus *bus, int unit, struct block *media);

void ide_bus_set_dma(struct ide_bus *bus, const struct ide_dma_ops *ops, void *opaque);
/* The engine's Start bit went 0 -> 1: a DMA command waiting runs now. */
void ide_bus_dma_kick(struct ide_bus *bus);
/* Hardware reset (RESET-): both devices to their power-on state. */
void ide_bus_reset(struct ide_bus *bus);
/* INTRQ as driven now (after nIEN). */
bool ide_bus_irq_level(const struct ide_bus *bus);

extern const struct dev_state_desc ide_state_desc;

#endif
