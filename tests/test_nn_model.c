/* The per-device model cache (engine/nn_model.c): one weight set and one
 * arena per (model, input shape), shared by every acquirer; models nobody
 * holds are evicted when the pool cannot serve a new one; a model still
 * held at device close is reported; errors leave nothing behind. */
#include <math.h>
#include <string.h>

#include "nn_model.h"
#include "onnx_build.h"
#include "testutil.h"

static const onnx_input_shape shape8 = { NULL, 4, { 1, 3, 8, 8 } };

/* Writes the small U-Net-like test model to `path`. */
static void write_model(const char *path)
{
    onnx_build *b = onnx_build_new(11);
    onnx_build_mini_unet(b);
    onnx_build_write(b, path);
    onnx_build_free(b);
}

/* Runs a model on a ramp input; its sigmoid output must lie in (0, 1). */
static void run_once(nn_model *m)
{
    float in[3 * 8 * 8], out[2 * 8 * 8];
    for (int i = 0; i < 3 * 8 * 8; i++)
        in[i] = (float)i / 96.0f - 1.0f;
    CHECK_OK(nn_model_write_input(m, 0, in, 3 * 8 * 8));
    CHECK_OK(nn_model_run(m));
    CHECK_OK(nn_model_read_output(m, 0, out, 2 * 8 * 8));
    for (int i = 0; i < 2 * 8 * 8; i++)
        CHECK(out[i] > 0.0f && out[i] < 1.0f);
    /* a wrong size is refused */
    CHECK_STATUS(nn_model_write_input(m, 0, in, 5), KILN_E_INVAL);
}

/* Two acquires share one model; its buffers are created once. */
static void test_shared(const char *a)
{
    kiln_device *dev = test_device_open(0);
    nn_model *m1 = NULL, *m2 = NULL, *m3 = NULL;
    onnx_input_shape other = shape8;
    nn_model_facts f;
    pool_ledger before, after;

    CHECK_OK(nn_model_acquire(dev, a, &shape8, 1, &m1));
    run_once(m1);
    pool_ledger_get(dev->pool, &before);
    CHECK_OK(nn_model_acquire(dev, a, &shape8, 1, &m2));
    run_once(m2);
    pool_ledger_get(dev->pool, &after);
    CHECK(m1 == m2);
    CHECK(after.creations == before.creations);
    nn_model_facts_get(m1, &f);
    CHECK(f.weight_bytes > 0 && f.arena_bytes > 0 && f.lower_bound <= f.arena_bytes);
    CHECK(f.activation_sum >= f.arena_bytes);
    printf("mini model: weights %zu B, arena %zu B (lower bound %zu B, sum of activations %zu "
           "B), %zu Convs tiled\n", f.weight_bytes, f.arena_bytes, f.lower_bound,
           f.activation_sum, f.conv_algo[NN_CONV_ALGO_TILED]);
    /* another input shape is another model; the fixed 8x8 model refuses it */
    other.dims[1] = 4;
    CHECK_STATUS(nn_model_acquire(dev, a, &other, 1, &m3), KILN_E_INVAL);
    CHECK_MSG("dim 1");
    CHECK(m3 == NULL);
    nn_model_release(m1);
    nn_model_release(m2);
    test_device_close(dev);
}

/* Under a small budget a held model blocks a second one (a clean
 * KILN_E_NOMEM); released, it is evicted to make room. */
static void test_eviction(const char *a, const char *b)
{
    kiln_device *probe = test_device_open(0);
    nn_model *ma = NULL, *mb = NULL;
    nn_model_facts f;
    pool_ledger ledger;
    size_t one;

    CHECK_OK(nn_model_acquire(probe, a, &shape8, 1, &ma));
    nn_model_facts_get(ma, &f);
    nn_model_release(ma);
    test_device_close(probe);
    one = f.weight_bytes + f.arena_bytes;

    kiln_device *dev = test_device_open(one + one / 2);
    CHECK_OK(nn_model_acquire(dev, a, &shape8, 1, &ma));
    CHECK_STATUS(nn_model_acquire(dev, b, &shape8, 1, &mb), KILN_E_NOMEM);
    CHECK_MSG("b.onnx");
    CHECK(mb == NULL);
    run_once(ma);
    nn_model_release(ma);
    CHECK_OK(nn_model_acquire(dev, b, &shape8, 1, &mb));
    run_once(mb);
    pool_ledger_get(dev->pool, &ledger);
    CHECK(ledger.live_bytes + ledger.cached_bytes <= one + one / 2);
    nn_model_release(mb);
    test_device_close(dev);
}

/* A model still held at close is a leak naming it (its buffers are
 * released anyway). */
static void test_leak_reported(const char *a)
{
    kiln_device *dev = test_device_open(0);
    nn_model *m = NULL;

    CHECK_OK(nn_model_acquire(dev, a, &shape8, 1, &m));
    CHECK_STATUS(device_close(dev), KILN_E_LEAK);
    CHECK_MSG("a.onnx");
}

/* A file that is not there is KILN_E_IO naming it. */
static void test_missing(const char *dir)
{
    kiln_device *dev = test_device_open(0);
    nn_model *m = NULL;
    char path[4096];

    snprintf(path, sizeof(path), "%s/absent.onnx", dir);
    CHECK_STATUS(nn_model_acquire(dev, path, &shape8, 1, &m), KILN_E_IO);
    CHECK_MSG("absent.onnx");
    test_device_close(dev);
}

/* Shared models, eviction, leak report, missing file. */
int main(void)
{
    const char *dir = test_tmpdir("test_nn_model");
    char a[4096], b[4096];

    snprintf(a, sizeof(a), "%s/a.onnx", dir);
    snprintf(b, sizeof(b), "%s/b.onnx", dir);
    write_model(a);
    write_model(b);
    test_shared(a);
    test_eviction(a, b);
    test_leak_reported(a);
    test_missing(dir);
    return test_summary("test_nn_model");
}
