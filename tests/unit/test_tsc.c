/*
 * test_tsc.c — the time-stamp counter: with a board clock it follows the
 * clock at CPU_TSC_HZ whether or not instructions retire (Linux's
 * clocksource watchdog compares it with the PIT and the PM timer); WRMSR
 * to IA32_TIME_STAMP_COUNTER moves it; without a clock it counts
 * instructions.
 */
#include <criterion/criterion.h>

#include "cpu/internal.h"

static uint64_t fake_ns;

static uint64_t fake_time(void *opaque)
{
    (void)opaque;
    return fake_ns;
}

Test(tsc, follows_the_board_clock_not_instructions)
{
    fake_ns = 5000;
    struct cpu_bus bus = { .time_ns = fake_time };
    struct cpu *cpu = cpu_new(&bus);
    cr_assert_eq(cpu_tsc(cpu), 0);
    cpu->icount += 1000; /* instructions alone do not move it */
    cr_assert_eq(cpu_tsc(cpu), 0);
    fake_ns += 2500; /* a halted CPU: time passes */
    cr_assert_eq(cpu_tsc(cpu), 2500 * (CPU_TSC_HZ / 1000000000ull));
    cpu_free(cpu);
}

Test(tsc, counts_instructions_without_a_clock)
{
    struct cpu_bus bus = { 0 };
    struct cpu *cpu = cpu_new(&bus);
    uint64_t t0 = cpu_tsc(cpu);
    cpu->icount += 77;
    cr_assert_eq(cpu_tsc(cpu) - t0, 77);
    cpu_free(cpu);
}
