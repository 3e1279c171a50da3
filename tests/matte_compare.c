/* matte_compare: parity figures of a matte against a reference.
 *   matte_compare alpha OURS.png REF.png TRIMAP.png MAX_SAD MAX_MSE
 *     over the trimap's unknown pixels (neither 0 nor 255): SAD/1000 =
 *     sum|a - a_ref| / 1000 and MSE = mean (a - a_ref)^2 (values in [0,1]);
 *     OURS may be gray or gray+alpha (first channel) or RGBA (alpha).
 *   matte_compare foreground OURS.png REF.png ALPHA.png MAX_MAD
 *     alpha-weighted mean absolute difference of the RGB channels:
 *     sum(alpha * |F - F_ref|) / (3 * sum(alpha)).
 * Prints the figures; exits 0 within the bars, 1 outside, 2 on bad use. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png_io.h"
#include "status.h"

/* Sample (x, y, channel c) of img in [0,1]. */
static double sample(const host_image *img, size_t pixel, uint32_t c)
{
    size_t i = pixel * img->channels + c;
    if (img->bit_depth == 16)
        return ((const uint16_t *)img->pixels)[i] / 65535.0;
    return ((const uint8_t *)img->pixels)[i] / 255.0;
}

/* The alpha-like channel of a matte image: gray, or alpha of RGBA. */
static uint32_t alpha_channel(const host_image *img)
{
    return img->channels == 4 ? 3 : 0;
}

/* Loads three images of one size or exits 2. */
static void load3(char **paths, host_image *imgs)
{
    for (int i = 0; i < 3; i++) {
        if (png_read_file(paths[i], 0, &imgs[i]) != KILN_OK) {
            fprintf(stderr, "matte_compare: %s\n", kiln_last_error());
            exit(2);
        }
        if (imgs[i].width != imgs[0].width || imgs[i].height != imgs[0].height) {
            fprintf(stderr, "matte_compare: %s is %ux%u, %s is %ux%u\n", paths[i], imgs[i].width,
                    imgs[i].height, paths[0], imgs[0].width, imgs[0].height);
            exit(2);
        }
    }
}

/* Compares alphas over the unknown pixels. */
static int compare_alpha(char **paths, double max_sad, double max_mse)
{
    host_image img[3];
    size_t n = (size_t)0, count;
    double sad = 0, sse = 0;
    load3(paths, img);
    count = (size_t)img[0].width * img[0].height;
    for (size_t p = 0; p < count; p++) {
        double t = sample(&img[2], p, 0);
        if (t == 0.0 || t == 1.0)
            continue;
        double d = sample(&img[0], p, alpha_channel(&img[0])) - sample(&img[1], p, 0);
        sad += fabs(d);
        sse += d * d;
        n++;
    }
    for (int i = 0; i < 3; i++)
        host_image_free(&img[i]);
    printf("alpha %s: %zu unknown pixels, SAD/1000 %.4f (bar %.4f), MSE %.3g (bar %.3g)\n", paths[0],
           n, sad / 1000, max_sad, n ? sse / n : 0.0, max_mse);
    return n > 0 && sad / 1000 <= max_sad && sse / n <= max_mse ? 0 : 1;
}

/* Compares foregrounds weighted by the reference alpha. */
static int compare_foreground(char **paths, double max_mad)
{
    host_image img[3];
    double num = 0, den = 0;
    size_t count;
    load3(paths, img);
    count = (size_t)img[0].width * img[0].height;
    if (img[0].channels < 3 || img[1].channels < 3) {
        fprintf(stderr, "matte_compare: foregrounds need colour images\n");
        return 2;
    }
    for (size_t p = 0; p < count; p++) {
        double a = sample(&img[2], p, alpha_channel(&img[2]));
        for (uint32_t c = 0; c < 3; c++)
            num += a * fabs(sample(&img[0], p, c) - sample(&img[1], p, c));
        den += 3 * a;
    }
    for (int i = 0; i < 3; i++)
        host_image_free(&img[i]);
    printf("foreground %s: alpha-weighted mean |F - F_ref| %.5f (bar %.5f)\n", paths[0],
           den > 0 ? num / den : 0.0, max_mad);
    return den > 0 && num / den <= max_mad ? 0 : 1;
}

/* Dispatches on the mode. */
int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "alpha") == 0)
        return compare_alpha(argv + 2, atof(argv[5]), atof(argv[6]));
    if (argc == 6 && strcmp(argv[1], "foreground") == 0)
        return compare_foreground(argv + 2, atof(argv[5]));
    fprintf(stderr, "usage: matte_compare alpha OURS REF TRIMAP MAX_SAD MAX_MSE\n"
                    "       matte_compare foreground OURS REF ALPHA MAX_MAD\n");
    return 2;
}
