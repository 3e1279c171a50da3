/* IEEE 754 binary16 conversions, for float16 weights and Cast folding. */
#ifndef KILN_FLOAT16_H
#define KILN_FLOAT16_H

#include <stdint.h>

/* Converts binary16 bits to a float (exact: every half is a float). */
float float16_to_float(uint16_t bits);

/* Converts a float to binary16 bits, rounding to nearest even; overflow
 * gives infinity, NaN stays NaN. */
uint16_t float16_from_float(float value);

/* Rounds a float to the nearest binary16 value, returned as a float. */
float float16_round(float value);

#endif
