/* The one clock: monotonic milliseconds for timings and rates. */
#ifndef KILN_CLOCK_H
#define KILN_CLOCK_H

/* Milliseconds on the monotonic clock since an unspecified start; only
 * differences mean anything.  Safe from any thread. */
double kiln_clock_ms(void);

#endif
