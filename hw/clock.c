/*
 * hw/clock.c — the virtual clock and its timers (hw/dev.h).
 *
 * A machine has a handful of timers (PIT channels, RTC, UART, disk
 * completion), so the armed ones are kept in a list sorted by deadline:
 * arming is O(n) with n tiny, and finding the next one is O(1).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdlib.h>
#include <time.h>

#include "hw/dev.h"

struct vtimer {
    struct vclock *clock;
    void (*cb)(void *opaque);
    void *opaque;
    uint64_t deadline;
    bool armed;
    struct vtimer *next; /* in clock->armed, by deadline */
};

struct vclock {
    bool manual;
    uint64_t start_ns; /* host: CLOCK_MONOTONIC at creation */
    uint64_t now_ns;   /* manual: current time */
    uint64_t read_step; /* manual: added after each read (vclock_set_read_step) */
    bool paused;        /* host: vclock_pause; time stands at paused_ns */
    uint64_t paused_ns;
    struct vtimer *armed;
};

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

struct vclock *vclock_new_host(void)
{
    struct vclock *c = calloc(1, sizeof(*c));
    if (c)
        c->start_ns = host_ns();
    return c;
}

struct vclock *vclock_new_manual(void)
{
    struct vclock *c = calloc(1, sizeof(*c));
    if (c)
        c->manual = true;
    return c;
}

void vclock_free(struct vclock *c)
{
    if (!c)
        return;
    /* Timers belong to their devices; just detach them. */
    for (struct vtimer *t = c->armed; t; t = t->next)
        t->armed = false;
    free(c);
}

uint64_t vclock_ns(const struct vclock *c)
{
    if (!c->manual)
        return c->paused ? c->paused_ns : host_ns() - c->start_ns;
    uint64_t now = c->now_ns;
    if (c->read_step) {
        /* The clock object is never const itself (vclock_new_manual
         * allocates it); reads only look const to the devices. */
        ((struct vclock *)c)->now_ns += c->read_step;
    }
    return now;
}

void vclock_wait_until(const struct vclock *c, uint64_t ns)
{
    if (c->manual || c->paused)
        return;
    uint64_t now = vclock_ns(c);
    if (ns > now + VCLOCK_WAIT_MAX_NS)
        ns = now + VCLOCK_WAIT_MAX_NS;
    while (now < ns)
        now = vclock_ns(c);
}

void vclock_pause(struct vclock *c)
{
    if (c->manual || c->paused)
        return;
    c->paused_ns = host_ns() - c->start_ns;
    c->paused = true;
}

void vclock_resume(struct vclock *c)
{
    if (c->manual || !c->paused)
        return;
    /* Time goes on from where it stood: the pause never happened. */
    c->start_ns = host_ns() - c->paused_ns;
    c->paused = false;
}

void vclock_set_read_step(struct vclock *c, uint64_t ns)
{
    if (c->manual)
        c->read_step = ns;
}

static void unlink_timer(struct vtimer *t)
{
    struct vtimer **pp = &t->clock->armed;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp)
        *pp = t->next;
    t->next = NULL;
    t->armed = false;
}

/* Runs the first armed timer if it is due at `now`; returns whether one
 * ran. The timer is disarmed before its callback, which may re-arm it. */
static bool run_one(struct vclock *c, uint64_t now)
{
    struct vtimer *t = c->armed;
    if (!t || t->deadline > now)
        return false;
    c->armed = t->next;
    t->next = NULL;
    t->armed = false;
    t->cb(t->opaque);
    return true;
}

void vclock_run_timers(struct vclock *c)
{
    if (!c->armed)
        return; /* nothing to run: no clock read */
    /* Bounded, so that a timer re-arming itself in the past cannot hang
     * the machine: the rest run on the next call. */
    uint64_t now = vclock_ns(c);
    for (int i = 0; i < 1000 && run_one(c, now); i++)
        ;
}

void vclock_advance(struct vclock *c, uint64_t ns)
{
    if (!c->manual)
        return;
    uint64_t end = c->now_ns + ns;
    /* Each timer sees the clock at its own deadline. */
    while (c->armed && c->armed->deadline <= end) {
        if (c->armed->deadline > c->now_ns)
            c->now_ns = c->armed->deadline;
        run_one(c, c->now_ns);
    }
    c->now_ns = end;
}

void vclock_skip(struct vclock *c, uint64_t ns)
{
    if (c->manual)
        c->now_ns += ns;
}

uint64_t vclock_time_to_next(const struct vclock *c)
{
    if (!c->armed)
        return UINT64_MAX;
    uint64_t now = vclock_ns(c);
    return c->armed->deadline > now ? c->armed->deadline - now : 0;
}

struct vtimer *vtimer_new(struct vclock *c, void (*cb)(void *opaque), void *opaque)
{
    struct vtimer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->clock = c;
    t->cb = cb;
    t->opaque = opaque;
    return t;
}

void vtimer_free(struct vtimer *t)
{
    if (!t)
        return;
    if (t->armed)
        unlink_timer(t);
    free(t);
}

void vtimer_arm(struct vtimer *t, uint64_t deadline_ns)
{
    if (t->armed)
        unlink_timer(t);
    t->deadline = deadline_ns;
    t->armed = true;
    /* Equal deadlines keep arming order. */
    struct vtimer **pp = &t->clock->armed;
    while (*pp && (*pp)->deadline <= deadline_ns)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
}

void vtimer_cancel(struct vtimer *t)
{
    if (t->armed)
        unlink_timer(t);
}

bool vtimer_armed(const struct vtimer *t)
{
    return t->armed;
}

uint64_t vtimer_deadline(const struct vtimer *t)
{
    return t->deadline;
}
