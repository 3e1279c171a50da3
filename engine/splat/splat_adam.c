/* Adam for splat training (see splat_adam.h). */
#include <math.h>
#include <string.h>

#include "launch.h"
#include "splat_adam.h"
#include "status.h"

#define ADAM_SOURCE "splat_adam.cl"
#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999

/* Zero-fills one moment buffer of n floats. */
static kiln_status moment_clear(kiln_device *dev, pool_buffer *b, size_t n)
{
    cl_float zero = 0.0f;
    return dev_buffer_fill(dev, b->mem, &zero, sizeof(zero), 0, n * sizeof(float),
                           "clearing Adam moments");
}

/* Acquires zeroed moments. */
kiln_status splat_adam_init(kiln_device *dev, size_t count, uint32_t sh_coeffs, splat_adam *adam)
{
    kiln_status st;

    memset(adam, 0, sizeof(*adam));
    st = splat_grads_acquire(dev, count, sh_coeffs, &adam->m);
    if (st == KILN_OK)
        st = splat_grads_acquire(dev, count, sh_coeffs, &adam->v);
    for (int k = 0; k < 2 && st == KILN_OK; k++) {
        splat_grads *g = k ? &adam->v : &adam->m;
        st = moment_clear(dev, g->means, count * 3);
        if (st == KILN_OK)
            st = moment_clear(dev, g->scales, count * 3);
        if (st == KILN_OK)
            st = moment_clear(dev, g->rotations, count * 4);
        if (st == KILN_OK)
            st = moment_clear(dev, g->opacity, count);
        if (st == KILN_OK)
            st = moment_clear(dev, g->sh, count * sh_coeffs * 3);
    }
    if (st != KILN_OK)
        splat_adam_free(dev, adam);
    return st;
}

/* Releases the moments. */
void splat_adam_free(kiln_device *dev, splat_adam *adam)
{
    splat_grads_release(dev, &adam->v);
    splat_grads_release(dev, &adam->m);
    memset(adam, 0, sizeof(*adam));
}

/* Enqueues the update of one group of n elements. */
static kiln_status group_step(kiln_device *dev, cl_mem p, cl_mem g, cl_mem m, cl_mem v, size_t n,
                              cl_uint period, cl_uint first, float lr_first, float lr_rest,
                              cl_float4 hyper)
{
    cl_uint count = (cl_uint)n;
    size_t global = n;
    const dev_kernel_arg args[] = { DEV_ARG(p), DEV_ARG(g), DEV_ARG(m), DEV_ARG(v),
                                    DEV_ARG(count), DEV_ARG(period), DEV_ARG(first),
                                    DEV_ARG(lr_first), DEV_ARG(lr_rest), DEV_ARG(hyper) };
    return dev_kernel_launch_default(dev, ADAM_SOURCE, "splat_adam", args, DEV_NARGS(args), 1,
                                     &global);
}

/* One Adam step over every group. */
kiln_status splat_adam_step(kiln_device *dev, splat_scene_dev *s, const splat_grads *grads,
                            const splat_adam_rates *rates, splat_adam *adam)
{
    double t = (double)(adam->step + 1);
    cl_float4 hyper = { { (cl_float)ADAM_BETA1, (cl_float)ADAM_BETA2,
                          (cl_float)(1.0 - pow(ADAM_BETA1, t)),
                          (cl_float)(1.0 - pow(ADAM_BETA2, t)) } };
    size_t n = s->count;
    kiln_status st;

    if (s->sh_half)
        return kiln_fail(KILN_E_INVAL, "splat training keeps SH in fp32 ([splat] sh_precision)");
    if (grads->count != n || adam->m.count != n || grads->sh_coeffs != s->sh_coeffs ||
        adam->m.sh_coeffs != s->sh_coeffs)
        return kiln_fail(KILN_E_INVAL, "splat Adam: gradients or moments of another shape");
    st = group_step(dev, s->means->mem, grads->means->mem, adam->m.means->mem,
                    adam->v.means->mem, n * 3, 1, 1, rates->means, rates->means, hyper);
    if (st == KILN_OK)
        st = group_step(dev, s->scales->mem, grads->scales->mem, adam->m.scales->mem,
                        adam->v.scales->mem, n * 3, 1, 1, rates->scales, rates->scales, hyper);
    if (st == KILN_OK)
        st = group_step(dev, s->rotations->mem, grads->rotations->mem, adam->m.rotations->mem,
                        adam->v.rotations->mem, n * 4, 1, 1, rates->rotations, rates->rotations,
                        hyper);
    if (st == KILN_OK)
        st = group_step(dev, s->opacity->mem, grads->opacity->mem, adam->m.opacity->mem,
                        adam->v.opacity->mem, n, 1, 1, rates->opacity, rates->opacity, hyper);
    if (st == KILN_OK)
        st = group_step(dev, s->sh->mem, grads->sh->mem, adam->m.sh->mem, adam->v.sh->mem,
                        n * s->sh_coeffs * 3, s->sh_coeffs * 3, 3, rates->sh_dc, rates->sh_rest,
                        hyper);
    if (st == KILN_OK)
        adam->step++;
    return st;
}
