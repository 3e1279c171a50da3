/* Shared by the network kernels (nn_*.cl): cl/embed.sh inlines this file
 * where a kernel source says #include "nn_common.cl". */

/* Rounds v to half precision when half_out is set (round to nearest
 * even, overflow to infinity), else returns it unchanged: how a FLOAT16
 * tensor, held as float32 on the device, stores a result. */
float nn_store_value(float v, int half_out)
{
    ushort h;

    if (!half_out)
        return v;
    vstore_half_rte(v, 0, (__private half *)&h);
    return vload_half(0, (const __private half *)&h);
}
