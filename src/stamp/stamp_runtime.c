/* SPDX-License-Identifier: MIT */
/* stamp_runtime: a stamp listener's run-time state: the clock state, refreshed once a second. */
#include "stamp_runtime.h"

static uint32_t
clock_pack(const struct stamp_clock *c)
{
	return (uint32_t)c->synced << 16 | (uint32_t)c->scale << 8 | c->multiplier;
}

struct stamp_clock
stamp_runtime_clock(struct stamp_runtime *run, uint64_t now_s)
{
	struct stamp_clock c;
	uint32_t packed;

	if (atomic_load_explicit(&run->clock_at, memory_order_acquire) != now_s + 1) {
		/* Two workers may both ask in the same second: same answer, harmless. */
		stamp_clock_state(&c);
		atomic_store_explicit(&run->clock, clock_pack(&c), memory_order_relaxed);
		atomic_store_explicit(&run->clock_at, now_s + 1, memory_order_release);
		return c;
	}
	packed = atomic_load_explicit(&run->clock, memory_order_relaxed);
	c.synced = (packed >> 16) & 1;
	c.scale = (uint8_t)(packed >> 8);
	c.multiplier = (uint8_t)packed;
	return c;
}
