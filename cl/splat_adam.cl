/* Adam on a parameter array in place (PyTorch's torch.optim.Adam, as the
 * reference trainer uses it): for every element,
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
 *   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps),
 * bc1 = 1 - b1^t, bc2 = 1 - b2^t.  One kernel for the whole update, so a
 * gradient is read once and never kept past the step.  The learning rate
 * of element e is lr_first when e % period < first (the SH DC of each
 * Gaussian: period = 3 coefficients x 3, first = 3) and lr_rest
 * otherwise; a group with one rate uses period 1, first 1.  eps is the
 * reference trainer's 1e-15. */

#define SPLAT_ADAM_EPS 1e-15f

__kernel void splat_adam(__global float *p, __global const float *g, __global float *m,
                         __global float *v, uint n, uint period, uint first, float lr_first,
                         float lr_rest, float4 hyper)
{
    uint e = get_global_id(0);
    if (e >= n)
        return;
    float b1 = hyper.x, b2 = hyper.y, bc1 = hyper.z, bc2 = hyper.w;
    float grad = g[e];
    float mm = b1 * m[e] + (1.0f - b1) * grad;
    float vv = b2 * v[e] + (1.0f - b2) * grad * grad;
    float lr = e % period < first ? lr_first : lr_rest;
    m[e] = mm;
    v[e] = vv;
    p[e] -= lr * (mm / bc1) / (sqrt(vv / bc2) + SPLAT_ADAM_EPS);
}
