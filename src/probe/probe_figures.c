/* SPDX-License-Identifier: MIT */
/* A target's figures: the loss split by direction as it goes, and at reading time the rest
 * (unknown direction, up, the age of the last reply). */
#include "probe_int.h"

/*
 * echo-client's rule (probe_loss.c): from a stateful reflector's sequence numbers, lost
 * forward and backward up to the highest probe answered. Kept as high-water marks, so that
 * they never fall (they are counters: a reordering can make the rule's figures dip), and
 * never above what was lost. Called when a probe is lost or answered.
 */
void
probe_figures_split(struct probe_target *t)
{
	struct stamp_loss l;
	unsigned long long none = t->f.lost - t->f.late;	/* no reply at all */

	if (t->c.proto != PROBE_STAMP)
		return;
	stampstats_loss(&t->ss, (unsigned long)none, &l);
	t->f.reflector = l.reflector;
	if (!l.known || l.forward + l.backward > none)
		return;	/* replies still in flight counted by the reflector: not yet */
	if (l.forward > t->f.lost_forward && l.forward + t->f.lost_backward <= none)
		t->f.lost_forward = l.forward;
	if (l.backward > t->f.lost_backward && t->f.lost_forward + l.backward <= none)
		t->f.lost_backward = l.backward;
}

void
probe_target_figures(const struct probe_target *t, double now, struct probe_figures *f)
{
	double age;

	*f = t->f;
	if (f->reflector == NULL)
		f->reflector = "unknown";
	/* The rest: late replies, and what no reply has told the direction of yet. */
	f->lost_unknown = f->lost - f->lost_forward - f->lost_backward;
	f->last_reply_age = -1;
	f->up = false;
	if (f->last_reply > 0) {
		age = now - t->last_mono;
		f->last_reply_age = age;
		f->up = age <= t->c.up_intervals * t->c.interval;
	}
}
