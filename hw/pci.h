/*
 * hw/pci.h — the PCI bus (PCI Local Bus Specification 2.1/3.0), its
 * configuration mechanism #1 at ports 0xCF8-0xCFF, and the contract a
 * device model follows to be a PCI function.
 *
 * A device model EMBEDS a struct pci_device in its own (opaque) struct,
 * fills nothing in it by hand, and calls:
 *
 *   pci_device_register(bus, &s->pci, devfn, &info, s);   identity, header
 *   pci_register_bar(&s->pci, 0, PCI_BAR_IO, 8, &ops, s); each BAR
 *   pci_register_rom(&s->pci, size, image);                optional ROM BAR
 *   s->pci.config_write = my_hook; (optional, see below)
 *
 * THE BUS MAPS THE BARS ITSELF. A BAR is decoded (its ops are reachable
 * at its address) exactly when:
 *   - I/O BAR:    command bit 0 (I/O Space) is set, the BAR's address is
 *                 not 0 and the whole range lies below 0x10000;
 *   - memory BAR: command bit 1 (Memory Space) is set, the address is
 *                 not 0 and the range lies below 4 GiB;
 *   - ROM BAR:    as a memory BAR, and also its enable bit 0 is set.
 * Whenever one of these changes (BAR write, command write, reset) the bus
 * unmaps the old range (io_unregister / phys_unmap) and maps the new one
 * (io_register / phys_map_mmio / phys_map_ram / phys_map_rom), then calls
 * the device's optional bar_mapped hook. The device's mem_ops callbacks
 * ALWAYS receive `addr` as the offset INTO THE BAR (also for I/O BARs,
 * where io_register alone would pass the port number).
 *
 * Memory BARs are page-granular here (the physical map is made of 4 KiB
 * pages): a memory BAR or ROM smaller than 4 KiB is declared as 4 KiB
 * (PCI 3.0 6.2.5.1 recommends at least 4 KiB for memory BARs anyway).
 *
 * Interrupts: a device calls pci_set_irq(dev, level) for its INTx pin
 * (the pin given at registration). The bus keeps the level (for the
 * Interrupt Status bit, status bit 3) and, unless the command register's
 * Interrupt Disable (bit 10) is set, passes it to the interrupt router
 * (the PIIX3, hw/piix3.c), which swizzles, ORs shared lines and drives the
 * ISA IRQ. Devices never reach the PIC.
 */
#ifndef GLASS_HW_PCI_H
#define GLASS_HW_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hw/dev.h"
#include "memory/memory.h"

/* ------------------------------------------------------------------ */
/* Configuration header, type 0 (PCI 3.0 6.1)                         */
/* ------------------------------------------------------------------ */

#define PCI_CONFIG_SIZE 256

#define PCI_VENDOR_ID 0x00      /* 16 bits */
#define PCI_DEVICE_ID 0x02      /* 16 bits */
#define PCI_COMMAND 0x04        /* 16 bits */
#define PCI_STATUS 0x06         /* 16 bits */
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_SUB 0x0a
#define PCI_CLASS_BASE 0x0b
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_BIST 0x0f
#define PCI_BAR0 0x10           /* BAR n at 0x10 + 4n, n = 0..5 */
#define PCI_CARDBUS_CIS 0x28
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c /* written by firmware/OS, only stored */
#define PCI_INTERRUPT_PIN 0x3d  /* 0 none, 1..4 = INTA#..INTD# */
#define PCI_MIN_GNT 0x3e
#define PCI_MAX_LAT 0x3f

#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_SPECIAL 0x0008
#define PCI_COMMAND_INVALIDATE 0x0010
#define PCI_COMMAND_VGA_PALETTE 0x0020
#define PCI_COMMAND_PARITY 0x0040
#define PCI_COMMAND_SERR 0x0100
#define PCI_COMMAND_FAST_BACK 0x0200
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_STATUS_INTERRUPT 0x0008   /* read-only: the INTx level */
#define PCI_STATUS_CAP_LIST 0x0010    /* set only if the device adds capabilities */
#define PCI_STATUS_66MHZ 0x0020
#define PCI_STATUS_FAST_BACK 0x0080
#define PCI_STATUS_DEVSEL_MEDIUM 0x0200
/* Bits 15..11 and 8 are "write 1 to clear" (PCI 3.0 6.2.3). */
#define PCI_STATUS_W1C 0xf900

#define PCI_HEADER_TYPE_MULTI 0x80

#define PCI_BAR_SPACE_IO 0x1
#define PCI_BAR_MEM_PREFETCH 0x8
#define PCI_ROM_ENABLE 0x1

#define PCI_DEVFN(dev, fn) ((((dev) & 0x1f) << 3) | ((fn) & 7))
#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn) ((devfn) & 7)

/* ------------------------------------------------------------------ */
/* Configuration mechanism #1 (PCI 2.1 3.7.4.1)                       */
/* ------------------------------------------------------------------ */

#define PCI_CONFIG_ADDRESS_PORT 0xcf8 /* dword accesses only; bit 31 enable */
#define PCI_CONFIG_DATA_PORT 0xcfc    /* 0xCFC-0xCFF, any size and offset */

/* ------------------------------------------------------------------ */
/* Devices                                                             */
/* ------------------------------------------------------------------ */

enum pci_bar_type {
    PCI_BAR_IO,            /* I/O space, size 4..256 bytes (power of two) */
    PCI_BAR_MEM32,         /* 32-bit memory, anywhere below 4 GiB */
    PCI_BAR_MEM32_PREFETCH /* the same, prefetchable (framebuffers) */
};

#define PCI_NUM_BARS 6
#define PCI_ROM_SLOT 6 /* index of the expansion ROM in pci_device.bars */
#define PCI_BAR_UNMAPPED 0xffffffffu

struct pci_bar {
    uint32_t size;  /* 0: BAR not implemented (reads 0, writes ignored) */
    uint8_t type;   /* enum pci_bar_type (ROM: PCI_BAR_MEM32) */
    bool declared;
    const struct mem_ops *ops; /* MMIO/port callbacks, or NULL if `host` */
    void *opaque;
    uint8_t *host;  /* RAM-backed memory BAR (or ROM image), else NULL */
    uint32_t mapped; /* address decoded now, or PCI_BAR_UNMAPPED (bus-owned) */
    struct pci_device *dev; /* back pointer for the I/O trampoline */
};

/* What a function is; the bus writes it into the header at registration. */
struct pci_device_info {
    uint16_t vendor_id, device_id;
    uint8_t class_base, class_sub, class_prog; /* e.g. 0x01,0x01,0x80: IDE */
    uint8_t revision;
    uint16_t subsystem_vendor_id, subsystem_id;
    uint8_t header_type;  /* 0 for every device here (bit 7 comes from below) */
    bool multifunction;   /* sets header type bit 7 (on function 0) */
    uint8_t interrupt_pin; /* 0 none, 1 INTA# .. 4 INTD# */
};

struct pci_bus;

/*
 * One PCI function. The fields are the bus's; a device reads them and
 * may store into config[] for read-only registers it owns (e.g. a status
 * register at 0x40+), but changes the standard header only through the
 * calls below.
 */
struct pci_device {
    uint8_t config[PCI_CONFIG_SIZE]; /* what the guest reads */
    uint8_t wmask[PCI_CONFIG_SIZE];  /* bits the guest may write */
    uint8_t w1cmask[PCI_CONFIG_SIZE]; /* bits a guest 1 clears (status) */
    struct pci_bar bars[PCI_NUM_BARS + 1]; /* 0..5, then the ROM */
    struct pci_bus *bus;
    void *opaque;    /* the device model's struct, for the hooks */
    uint8_t devfn;
    uint8_t irq_level; /* INTx as the device drives it */
    bool registered;

    /*
     * Optional hooks. config_read/config_write, when set, receive EVERY
     * configuration access to this function (offset < 256, size 1, 2 or 4,
     * never crossing a dword) instead of the default handling; they call
     * pci_default_config_read/write for the standard behaviour and add
     * their side effects (e.g. the PIIX3's PIRQ registers, the i440FX's
     * PAM). Writes to bits outside wmask never change config[].
     */
    uint32_t (*config_read)(struct pci_device *d, unsigned offset, unsigned size);
    void (*config_write)(struct pci_device *d, unsigned offset, uint32_t val, unsigned size);
    /* After the bus mapped (addr) or unmapped (PCI_BAR_UNMAPPED) a BAR. */
    void (*bar_mapped)(struct pci_device *d, int bar, uint32_t addr);
    /* Device-specific reset (after the bus reset the header). */
    void (*reset)(struct pci_device *d);
};

/*
 * Registers `d` (storage owned by the caller, zeroed first by this call)
 * at `devfn` (0..255) of the bus, with the header from `info`: command 0,
 * status 0 (medium DEVSEL), BARs unimplemented until declared, interrupt
 * line 0xFF, write masks for command (I/O, memory, master, special,
 * MWI, palette snoop, parity, SERR, fast b2b, INTx disable), cache line
 * size, latency timer and interrupt line. Returns 0, or -1 if devfn is
 * taken or invalid.
 */
int pci_device_register(struct pci_bus *bus, struct pci_device *d, int devfn,
                        const struct pci_device_info *info, void *opaque);
/* Unmaps its BARs, lowers its INTx and removes it from the bus. */
void pci_device_unregister(struct pci_device *d);

/*
 * Declares BAR `bar` (0..5): `size` a power of two (I/O: 4..256; memory:
 * rounded up to 4 KiB, at most 2 GiB). `ops`/`opaque` serve accesses
 * (addr = offset in the BAR). Returns 0, or -1 on a bad argument.
 */
int pci_register_bar(struct pci_device *d, int bar, enum pci_bar_type type, uint32_t size,
                     const struct mem_ops *ops, void *opaque);
/* A memory BAR backed by host RAM `host` of `size` bytes (framebuffers):
 * mapped with phys_map_ram, so guest accesses bypass callbacks. */
int pci_register_bar_ram(struct pci_device *d, int bar, enum pci_bar_type type, uint32_t size,
                         uint8_t *host);
/* The expansion ROM BAR (0x30): `image` of `size` bytes (power of two,
 * rounded up to 4 KiB; the buffer must hold the rounded size), mapped
 * read-only when enabled. */
int pci_register_rom(struct pci_device *d, uint32_t size, uint8_t *image);

/*
 * Adds a capability structure of `len` bytes (>= 2) with ID `cap_id` to
 * the list (PCI 3.0 6.7): it goes at `offset` (0x40..0xFC, dword-aligned,
 * not overlapping another), its ID and next pointer are set and read-only,
 * status bit 4 turns on and 0x34 points to the newest. The device fills
 * the body (config[] and wmask[]). Returns `offset`, or -1.
 */
int pci_add_capability(struct pci_device *d, uint8_t cap_id, unsigned offset, unsigned len);

/* Address a BAR decodes now, or PCI_BAR_UNMAPPED. */
uint32_t pci_bar_address(const struct pci_device *d, int bar);

/* Drives the INTx pin (level 0 or 1; level-triggered, active while 1). */
void pci_set_irq(struct pci_device *d, int level);
/* Bus mastering allowed (command bit 2): DMA engines check this. */
bool pci_bus_master_enabled(const struct pci_device *d);

/* The standard handling, for hooks to call. */
uint32_t pci_default_config_read(struct pci_device *d, unsigned offset, unsigned size);
void pci_default_config_write(struct pci_device *d, unsigned offset, uint32_t val,
                              unsigned size);

/* Little-endian helpers on config[] (bounded: offsets past 255 ignored). */
void pci_set_byte(struct pci_device *d, unsigned offset, uint8_t v);
void pci_set_word(struct pci_device *d, unsigned offset, uint16_t v);
void pci_set_long(struct pci_device *d, unsigned offset, uint32_t v);
uint8_t pci_get_byte(const struct pci_device *d, unsigned offset);
uint16_t pci_get_word(const struct pci_device *d, unsigned offset);
uint32_t pci_get_long(const struct pci_device *d, unsigned offset);

/* ------------------------------------------------------------------ */
/* The bus                                                             */
/* ------------------------------------------------------------------ */

/*
 * A bus 0 with configuration mechanism #1 at 0xCF8-0xCFF of `io`. BARs
 * are mapped into `pm` and `io`. Bus numbers other than 0 read as absent
 * (no bridges).
 */
struct pci_bus *pci_bus_new(struct phys_mem *pm, struct io_space *io);
/* Unregisters the ports; the devices stay their owners' to free (free
 * them first). */
void pci_bus_free(struct pci_bus *bus);

/* Machine reset (PCI RST#): every function's header back to its
 * power-on state (command 0, BARs 0, so nothing decodes; interrupt line
 * 0xFF), then each device's reset hook. */
void pci_bus_reset(struct pci_bus *bus);

/* The function at devfn, or NULL. */
struct pci_device *pci_bus_device(struct pci_bus *bus, int devfn);

/*
 * The interrupt router (installed by the PIIX3): called with the INTx
 * pin (0 = INTA# .. 3 = INTD#) of device `d` on every change of the
 * effective level (the device's level gated by INTx Disable).
 */
void pci_bus_set_irq_router(struct pci_bus *bus,
                            void (*route)(void *opaque, struct pci_device *d, int pin, int level),
                            void *opaque);

/*
 * Ports 0xCF8-0xCFB answer as CONFIG_ADDRESS only to dword accesses
 * (PCI 2.1 3.7.4.1); byte/word accesses there are ordinary I/O cycles.
 * The PIIX3 claims them for its Reset Control register at 0xCF9 with this
 * (port = 0xCF8..0xCFB; read returns the value in the low `size` bytes).
 */
void pci_bus_set_cf8_io(struct pci_bus *bus, const struct mem_ops *ops, void *opaque);

/* Config accesses as from the CPU side (tests, and firmware helpers):
 * bus 0 only, offset/size as for config_read. Absent: all ones. */
uint32_t pci_config_read(struct pci_bus *bus, int devfn, unsigned offset, unsigned size);
void pci_config_write(struct pci_bus *bus, int devfn, unsigned offset, uint32_t val,
                      unsigned size);

/* After a snapshot restored config[] (pci_device_state_desc, offsets
 * within struct pci_device): maps the BARs as the header says. */
void pci_device_post_load(struct pci_device *d);

extern const struct dev_state_desc pci_device_state_desc;
extern const struct dev_state_desc pci_bus_state_desc; /* struct pci_bus */

/* ------------------------------------------------------------------ */
/* i440FX host bridge (PMC), function 00:00.0 (hw/i440fx.c)            */
/* ------------------------------------------------------------------ */

#define I440FX_PAM0 0x59 /* PAM0..PAM6 at 0x59..0x5F (440FX PMC 3.2.x) */
#define I440FX_SMRAM 0x72

struct i440fx;
/*
 * The host bridge at devfn 0 (8086:1237, class 0600). `ram` of
 * `ram_size` bytes (>= 1 MiB) is guest RAM from physical 0: the PAM
 * registers map its 0xC0000-0xFFFFF part over that range as read/write
 * RAM, read-only RAM, write-only or not at all (PCI/ISA side). CREATE IT
 * AFTER the BIOS ROM is mapped (rom_load): the pages of 0xC0000-0xFFFFF
 * that are ROM at that moment are what the "PCI/ISA" setting shows (other
 * pages then read as all ones, e.g. C0000-DFFFF without an option ROM).
 * At power-on every PAM register is 0: the BIOS ROM shows at E0000-FFFFF.
 */
struct i440fx *i440fx_new(struct pci_bus *bus, struct phys_mem *pm, uint8_t *ram,
                          uint64_t ram_size);
void i440fx_free(struct i440fx *h);
struct pci_device *i440fx_pci(struct i440fx *h);
/* After a snapshot restored i440fx_state_desc: redo the PAM mappings. */
void i440fx_post_load(struct i440fx *h);
extern const struct dev_state_desc i440fx_state_desc;

/* The monitor's "info pci": each function's address, IDs, class,
 * command register, interrupt pin and line, and its BARs with the
 * address each decodes now. */
void pci_bus_print_info(const struct pci_bus *bus, FILE *out);

#endif
