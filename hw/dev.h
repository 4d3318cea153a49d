/*
 * hw/dev.h — what every device model of hw/ is built from; private to the
 * folder (the board in hw/pc.c and the device unit tests use it).
 *
 *  - irq lines: a device raises and lowers its interrupt output without
 *    knowing who listens (the PIC, the PCI interrupt router, a test);
 *  - the virtual clock and its timers: devices read time and schedule
 *    events here, never from the host directly;
 *  - state field tables: each device describes its struct for snapshots,
 *    so that save/restore is generic.
 * Devices talk to the host's terminal only through struct chardev
 * (hw/hw.h) and to disk images only through the block backend.
 */
#ifndef GLASS_HW_DEV_H
#define GLASS_HW_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/hw.h"
#include "memory/memory.h"

/* ------------------------------------------------------------------ */
/* IRQ lines                                                           */
/* ------------------------------------------------------------------ */

/*
 * One interrupt wire. The receiver's function gets its own pin number `n`
 * and the new level (0 or 1) on every call; receivers that are edge
 * triggered keep the last level themselves. A line with no receiver (fn
 * NULL) is a wire to nowhere.
 */
typedef void (*irq_fn)(void *opaque, int n, int level);

struct irq_line {
    irq_fn fn;
    void *opaque;
    int n;
};

static inline void irq_connect(struct irq_line *l, irq_fn fn, void *opaque, int n)
{
    l->fn = fn;
    l->opaque = opaque;
    l->n = n;
}

static inline void irq_set(const struct irq_line *l, int level)
{
    if (l->fn)
        l->fn(l->opaque, l->n, level ? 1 : 0);
}

static inline void irq_raise(const struct irq_line *l)
{
    irq_set(l, 1);
}

static inline void irq_lower(const struct irq_line *l)
{
    irq_set(l, 0);
}

/* ------------------------------------------------------------------ */
/* Virtual clock (hw/clock.c)                                          */
/* ------------------------------------------------------------------ */

/*
 * Virtual time in nanoseconds since the machine was built. A host clock
 * follows CLOCK_MONOTONIC (QEMU's default: the guest sees real time); a
 * manual clock moves only when vclock_advance is called (device unit
 * tests, and later the deterministic instruction-count mode).
 *
 * Timers fire from vclock_run_timers (the board calls it between CPU
 * slices) or from vclock_advance, never asynchronously: callbacks run on
 * the machine's thread and may re-arm or delete any timer.
 */
struct vclock;
struct vtimer;

#define NS_PER_SEC 1000000000ull

struct vclock *vclock_new_host(void);
struct vclock *vclock_new_manual(void);
void vclock_free(struct vclock *c);
uint64_t vclock_ns(const struct vclock *c);
/* Manual clocks: moves time forward by `ns`, running every timer that
 * falls due on the way, in deadline order, each at its own deadline
 * (vclock_ns returns that deadline inside the callback). */
void vclock_advance(struct vclock *c, uint64_t ns);
/* Manual clocks: moves time forward by `ns` and runs no timer, as a
 * host clock moves while the CPU runs a slice; the overdue timers run at
 * the next vclock_run_timers (or vclock_advance). For tests of devices
 * that must act on overdue events before a register access. */
void vclock_skip(struct vclock *c, uint64_t ns);
/* Manual clocks: every read moves time on by `ns` afterwards (0: off),
 * as a host clock moves while a device works or its process is
 * preempted between two reads. For tests of such races. */
void vclock_set_read_step(struct vclock *c, uint64_t ns);
/* Host clocks: stops time (a paused machine: its timers neither fall due
 * nor pile up) and starts it again where it stopped. Manual clocks
 * ignore both. */
void vclock_pause(struct vclock *c);
void vclock_resume(struct vclock *c);
/* Host clocks: returns once the clock reads `ns` or later, spinning (for
 * a device access that takes bus time, at most a few microseconds; a
 * later `ns` is not waited for beyond VCLOCK_WAIT_MAX_NS). Paused and
 * manual clocks return at once: a test moves its clock itself. */
#define VCLOCK_WAIT_MAX_NS 10000u
void vclock_wait_until(const struct vclock *c, uint64_t ns);
/* Runs every timer whose deadline has passed. */
void vclock_run_timers(struct vclock *c);
/* Nanoseconds until the earliest armed timer is due (0 if overdue), or
 * UINT64_MAX if none is armed. */
uint64_t vclock_time_to_next(const struct vclock *c);

struct vtimer *vtimer_new(struct vclock *c, void (*cb)(void *opaque), void *opaque);
void vtimer_free(struct vtimer *t);
/* Arms (or re-arms) the timer for absolute virtual time `deadline_ns`. */
void vtimer_arm(struct vtimer *t, uint64_t deadline_ns);
void vtimer_cancel(struct vtimer *t);
bool vtimer_armed(const struct vtimer *t);
/* The deadline of an armed timer (for state tables). */
uint64_t vtimer_deadline(const struct vtimer *t);

/* ------------------------------------------------------------------ */
/* Device state tables (for snapshots)                                 */
/* ------------------------------------------------------------------ */

enum dev_field_type {
    DEV_FIELD_U8, DEV_FIELD_U16, DEV_FIELD_U32, DEV_FIELD_U64, DEV_FIELD_BOOL,
    DEV_FIELD_BYTES, /* `count` raw bytes */
    DEV_FIELD_TIMER, /* a struct vtimer * member: its armed state and deadline */
};

/* One member of a device's struct: arrays of scalars have count > 1. */
struct dev_field {
    const char *name;
    uint8_t type;    /* enum dev_field_type */
    uint32_t offset; /* offsetof(struct dev, member) */
    uint32_t count;  /* elements (scalars), bytes (DEV_FIELD_BYTES) */
};

/* A device's description: name, layout version, fields ending with a
 * field whose name is NULL. Snapshot code (later) walks these. */
struct dev_state_desc {
    const char *name;
    uint32_t version;
    const struct dev_field *fields;
};

/* Character backends (struct chardev) are declared in hw/hw.h: the
 * frontend makes them, the serial devices use them. */

#endif
