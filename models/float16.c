/* binary16 <-> binary32 by bit manipulation (see float16.h). */
#include <string.h>

#include "float16.h"

/* Reinterprets float bits as a float. */
static float bits_to_float(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

/* Reinterprets a float as its bits. */
static uint32_t float_to_bits(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof(bits));
    return bits;
}

/* Widens a half: normals and infinities by rebiasing, subnormals by
 * scaling, NaN keeps its payload's top bits. */
float float16_to_float(uint16_t bits)
{
    uint32_t sign = (uint32_t)(bits & 0x8000u) << 16;
    uint32_t exp = (bits >> 10) & 0x1fu;
    uint32_t man = bits & 0x3ffu;

    if (exp == 0x1f)
        return bits_to_float(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        /* zero or subnormal: man * 2^-24 */
        float mag = (float)man * bits_to_float(0x33800000u);
        return sign ? -mag : mag;
    }
    return bits_to_float(sign | ((exp + 112u) << 23) | (man << 13));
}

/* Narrows a float with round-to-nearest-even, handling subnormal halves,
 * overflow to infinity and NaN. */
uint16_t float16_from_float(float value)
{
    uint32_t f = float_to_bits(value);
    uint16_t sign = (uint16_t)((f >> 16) & 0x8000u);
    uint32_t exp = (f >> 23) & 0xffu;
    uint32_t man = f & 0x7fffffu;

    if (exp == 0xff)
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u | (man >> 13) : 0u));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 0x1f)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        /* subnormal half (or zero): shift the implicit-one mantissa */
        if (e < -10)
            return sign;
        uint32_t m = man | 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = m >> shift;
        uint32_t rest = m & ((1u << shift) - 1u);
        uint32_t mid = 1u << (shift - 1u);
        if (rest > mid || (rest == mid && (half & 1u)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)e << 10) | (man >> 13);
    uint32_t rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u)))
        half++;             /* may carry into the exponent: still right */
    return (uint16_t)(sign | half);
}

/* Rounds through binary16 and back. */
float float16_round(float value)
{
    return float16_to_float(float16_from_float(value));
}
