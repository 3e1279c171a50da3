/* libFuzzer target: the JPEG reader (hostmem/jpeg_read.c, with the EXIF
 * orientation of hostmem/exif_orient.c) and the format-sniffing image
 * reader on the same bytes.
 *
 * Each input is a file: jpeg_read_info, then jpeg_read_file, then
 * image_read_file, all with a limit of 4 megapixels.  Beyond "no crash,
 * no leak": an error leaves the image zeroed; a full decode implies the
 * header read succeeded with the same shape; image_read_file on data
 * starting with a JPEG SOI gives jpeg_read_file's status and pixels.
 *
 * The reader parses the header from the first 64 KB and reads the rest
 * only when that is not enough, which inputs of a few KB never show.  So
 * an input that starts with a SOI is read a second time with a 64 KB
 * comment segment (COM) inserted after the SOI: the markers then lie
 * beyond the first read, and a comment changes nothing, so the status
 * and the pixels must be those of the input as it is. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "image_read.h"
#include "jpeg_io.h"

#define FUZZ_MAX_PIXELS ((uint64_t)4 * 1000 * 1000)
/* The longest segment: a COM marker's length field counts itself. */
#define PAD_SEGMENT 65535u

/* Reads the file at `path` three ways and checks them against each other;
 * returns jpeg_read_file's status and image (free it). */
static kiln_status read_all(const char *path, const uint8_t *data, size_t size,
                            host_image *img)
{
    static const uint8_t soi[2] = { 0xff, 0xd8 };
    host_image head, any;
    kiln_status sh, sf, si;

    sh = jpeg_read_info(path, FUZZ_MAX_PIXELS, &head);
    fuzz_note("jpeg_read_info", sh);
    FUZZ_CHECK(head.pixels == NULL);
    FUZZ_CHECK(sh == KILN_OK || fuzz_all_zero(&head, sizeof(head)));

    sf = jpeg_read_file(path, FUZZ_MAX_PIXELS, img);
    fuzz_note("jpeg_read_file", sf);
    FUZZ_CHECK(sf == KILN_OK ? img->pixels != NULL : fuzz_all_zero(img, sizeof(*img)));
    if (sf == KILN_OK)
        FUZZ_CHECK(sh == KILN_OK && fuzz_same_shape(&head, img));

    si = image_read_file(path, FUZZ_MAX_PIXELS, &any);
    fuzz_note("image_read_file", si);
    FUZZ_CHECK(si == KILN_OK ? any.pixels != NULL : fuzz_all_zero(&any, sizeof(any)));
    if (size > 0 && memcmp(data, soi, size < 2 ? size : 2) == 0) {
        FUZZ_CHECK(si == sf);
        if (si == KILN_OK)
            FUZZ_CHECK(fuzz_same_shape(&any, img) &&
                       memcmp(any.pixels, img->pixels, host_image_bytes(img)) == 0);
    }
    host_image_free(&any);
    return sf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int fds = fuzz_fds_mark();
    host_image img, padded_img;
    kiln_status st, padded_st;
    uint8_t *padded;
    size_t padded_size;

    st = read_all(fuzz_memfd_path(data, size), data, size, &img);
    if (size < 2 || data[0] != 0xff || data[1] != 0xd8) {
        host_image_free(&img);
        fuzz_fds_check(fds);
        return 0;
    }

    /* SOI, COM of PAD_SEGMENT bytes, then the input after its SOI */
    padded_size = size + 2 + PAD_SEGMENT;
    padded = malloc(padded_size);
    FUZZ_CHECK(padded != NULL);
    padded[0] = 0xff;
    padded[1] = 0xd8;
    padded[2] = 0xff;
    padded[3] = 0xfe;
    padded[4] = (uint8_t)(PAD_SEGMENT >> 8);
    padded[5] = (uint8_t)PAD_SEGMENT;
    memset(padded + 6, 'k', PAD_SEGMENT - 2);
    memcpy(padded + 4 + PAD_SEGMENT, data + 2, size - 2);
    padded_st = read_all(fuzz_memfd_path(padded, padded_size), padded, padded_size,
                         &padded_img);
    free(padded);
    FUZZ_CHECK(padded_st == st);
    if (st == KILN_OK)
        FUZZ_CHECK(fuzz_same_shape(&padded_img, &img) &&
                   memcmp(padded_img.pixels, img.pixels, host_image_bytes(&img)) == 0);
    host_image_free(&padded_img);
    host_image_free(&img);
    fuzz_fds_check(fds);
    return 0;
}
