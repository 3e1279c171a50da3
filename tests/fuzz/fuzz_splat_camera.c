/* libFuzzer target: the camera parsers (models/splat_cameras_json.c,
 * models/splat_cameras_colmap.c) from memory.
 *
 * Input: byte 0 picks the parser (modulo 3: 0 JSON, cameras.json or
 * transforms.json; 1 COLMAP text; 2 COLMAP binary).  For JSON the rest
 * is the file.  For COLMAP, bytes 1..4 are a little-endian length n and
 * the rest is split in two: its first n bytes (all of it when shorter)
 * are the cameras file, what follows the images file.  Beyond "no crash,
 * no leak": an error leaves the set zeroed and its message names the
 * source; a success gives at least one view, each with finite values, a
 * size in 1..65536 and positive focal lengths. */
#include <math.h>
#include <string.h>

#include "fuzz_common.h"
#include "splat_camera.h"

#define FUZZ_NAME "fuzz-cameras"

/* Whether a parsed view keeps the documented limits. */
static int view_valid(const splat_camera *c)
{
    for (int i = 0; i < 9; i++)
        if (!isfinite(c->rotation[i]))
            return 0;
    for (int i = 0; i < 3; i++)
        if (!isfinite(c->translation[i]))
            return 0;
    return c->fx > 0 && c->fy > 0 && isfinite(c->fx) && isfinite(c->fy) && isfinite(c->cx) &&
           isfinite(c->cy) && c->width >= 1 && c->width <= 65536 && c->height >= 1 &&
           c->height <= 65536 && memchr(c->name, '\0', sizeof(c->name)) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int fds = fuzz_fds_mark();
    splat_camera_set set;
    kiln_status st;

    if (size < 1)
        return 0;
    if (data[0] % 3 == 0) {
        st = splat_cameras_parse_json((const char *)data + 1, size - 1, FUZZ_NAME, &set);
    } else {
        const uint8_t *rest = data + (size < 5 ? size : 5);
        size_t rest_len = size < 5 ? 0 : size - 5;
        size_t first = size < 5 ? 0 : (size_t)data[1] | (size_t)data[2] << 8 |
                                   (size_t)data[3] << 16 | (size_t)data[4] << 24;
        if (first > rest_len)
            first = rest_len;
        if (data[0] % 3 == 1)
            st = splat_cameras_parse_colmap_text((const char *)rest, first,
                                                 (const char *)rest + first, rest_len - first,
                                                 FUZZ_NAME, &set);
        else
            st = splat_cameras_parse_colmap_bin(rest, first, rest + first, rest_len - first,
                                                FUZZ_NAME, &set);
    }
    fuzz_note("splat_cameras_parse", st);
    if (st == KILN_OK) {
        FUZZ_CHECK(set.count >= 1 && set.cameras != NULL);
        for (size_t i = 0; i < set.count; i++)
            FUZZ_CHECK(view_valid(&set.cameras[i]));
        FUZZ_CHECK(memchr(set.warning, '\0', sizeof(set.warning)) != NULL);
        splat_camera_set_free(&set);
    } else {
        FUZZ_CHECK(fuzz_all_zero(&set, sizeof(set)));
        FUZZ_CHECK(strstr(kiln_last_error(), FUZZ_NAME) != NULL);
    }
    fuzz_fds_check(fds);
    return 0;
}
