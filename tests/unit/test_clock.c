/*
 * test_clock.c — the virtual clock and timers of hw/clock.c: order,
 * re-arming from a callback, cancel, the time a callback sees.
 */
#include <criterion/criterion.h>

#include "hw/dev.h"

struct rec {
    struct vclock *c;
    struct vtimer *t;
    uint64_t seen[8];
    int n;
    int rearm; /* times left to re-arm 100 ns later */
};

static void on_fire(void *opaque)
{
    struct rec *r = opaque;
    if (r->n < 8)
        r->seen[r->n++] = vclock_ns(r->c);
    if (r->rearm > 0) {
        r->rearm--;
        vtimer_arm(r->t, vclock_ns(r->c) + 100);
    }
}

Test(clock, manual_timers_fire_in_order_at_their_deadline)
{
    struct vclock *c = vclock_new_manual();
    struct rec a = { .c = c }, b = { .c = c };
    a.t = vtimer_new(c, on_fire, &a);
    b.t = vtimer_new(c, on_fire, &b);
    vtimer_arm(a.t, 500);
    vtimer_arm(b.t, 200);
    cr_assert_eq(vclock_time_to_next(c), 200);
    vclock_advance(c, 199);
    cr_assert_eq(a.n + b.n, 0);
    vclock_advance(c, 1000);
    cr_assert_eq(b.n, 1);
    cr_assert_eq(b.seen[0], 200);
    cr_assert_eq(a.n, 1);
    cr_assert_eq(a.seen[0], 500);
    cr_assert_eq(vclock_ns(c), 1199);
    cr_assert_eq(vclock_time_to_next(c), UINT64_MAX);
    vtimer_free(a.t);
    vtimer_free(b.t);
    vclock_free(c);
}

Test(clock, rearm_from_callback_and_cancel)
{
    struct vclock *c = vclock_new_manual();
    struct rec a = { .c = c, .rearm = 3 };
    a.t = vtimer_new(c, on_fire, &a);
    vtimer_arm(a.t, 100);
    vclock_advance(c, 1000);
    cr_assert_eq(a.n, 4);
    cr_assert_eq(a.seen[3], 400);
    cr_assert(!vtimer_armed(a.t));
    vtimer_arm(a.t, 2000);
    cr_assert(vtimer_armed(a.t));
    cr_assert_eq(vtimer_deadline(a.t), 2000);
    vtimer_cancel(a.t);
    vclock_advance(c, 5000);
    cr_assert_eq(a.n, 4);
    vtimer_free(a.t);
    vclock_free(c);
}

Test(clock, host_clock_moves_forward)
{
    struct vclock *c = vclock_new_host();
    uint64_t t0 = vclock_ns(c);
    uint64_t t1 = t0;
    for (int i = 0; i < 1000000 && t1 == t0; i++)
        t1 = vclock_ns(c);
    cr_assert_gt(t1, t0);
    vclock_free(c);
}
