/* SPDX-License-Identifier: MIT */
/* A target's figures as read: the counters, and what is derived at reading time (the loss
 * split by direction, up, the age of the last reply). */
#include "probe_int.h"

/*
 * echo-client's rule (probe_loss.c): from a stateful reflector's sequence numbers, lost
 * forward and backward up to the highest probe answered; the rest, and everything while
 * the reflector's kind is not known (or for UDP echo), unknown.
 */
static void
probe_figures_loss(const struct probe_target *t, struct probe_figures *f)
{
	struct stamp_loss l;

	f->lost_forward = f->lost_backward = 0;
	f->lost_unknown = f->lost;
	f->reflector = "unknown";
	if (t->c.proto != PROBE_STAMP)
		return;
	stampstats_loss(&t->ss, (unsigned long)f->lost, &l);
	f->reflector = l.reflector;
	if (!l.known)
		return;
	if (l.forward + l.backward > f->lost)
		return;	/* replies still in flight counted by the reflector: not yet */
	f->lost_forward = l.forward;
	f->lost_backward = l.backward;
	f->lost_unknown = f->lost - l.forward - l.backward;
}

void
probe_target_figures(const struct probe_target *t, double now, struct probe_figures *f)
{
	double age;

	*f = t->f;
	probe_figures_loss(t, f);
	f->last_reply_age = -1;
	f->up = false;
	if (f->last_reply > 0) {
		age = now - t->last_mono;
		f->last_reply_age = age;
		f->up = age <= t->c.up_intervals * t->c.interval;
	}
}
