/* libFuzzer target: the JPEG reader (hostmem/jpeg_read.c, with the EXIF
 * orientation of hostmem/exif_orient.c) and the format-sniffing image
 * reader on the same bytes.
 *
 * Each input is a file: jpeg_read_info, then jpeg_read_file, then
 * image_read_file, all with a limit of 4 megapixels.  Beyond "no crash,
 * no leak": an error leaves the image zeroed; a full decode implies the
 * header read succeeded with the same shape; image_read_file on data
 * starting with a JPEG SOI gives jpeg_read_file's status and pixels. */
#include <string.h>

#include "fuzz_common.h"
#include "image_read.h"
#include "jpeg_io.h"

#define FUZZ_MAX_PIXELS ((uint64_t)4 * 1000 * 1000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t soi[2] = { 0xff, 0xd8 };
    const char *path = fuzz_memfd_path(data, size);
    host_image head, img, any;
    kiln_status sh, sf, si;

    sh = jpeg_read_info(path, FUZZ_MAX_PIXELS, &head);
    fuzz_note("jpeg_read_info", sh);
    FUZZ_CHECK(head.pixels == NULL);
    FUZZ_CHECK(sh == KILN_OK || fuzz_all_zero(&head, sizeof(head)));

    sf = jpeg_read_file(path, FUZZ_MAX_PIXELS, &img);
    fuzz_note("jpeg_read_file", sf);
    FUZZ_CHECK(sf == KILN_OK ? img.pixels != NULL : fuzz_all_zero(&img, sizeof(img)));
    if (sf == KILN_OK)
        FUZZ_CHECK(sh == KILN_OK && fuzz_same_shape(&head, &img));

    si = image_read_file(path, FUZZ_MAX_PIXELS, &any);
    fuzz_note("image_read_file", si);
    FUZZ_CHECK(si == KILN_OK ? any.pixels != NULL : fuzz_all_zero(&any, sizeof(any)));
    if (size > 0 && memcmp(data, soi, size < 2 ? size : 2) == 0) {
        FUZZ_CHECK(si == sf);
        if (si == KILN_OK)
            FUZZ_CHECK(fuzz_same_shape(&any, &img) &&
                       memcmp(any.pixels, img.pixels, host_image_bytes(&img)) == 0);
    }

    host_image_free(&any);
    host_image_free(&img);
    return 0;
}
