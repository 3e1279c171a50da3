/* libFuzzer target: the PNG reader (hostmem/png_read.c) and the
 * format-sniffing image reader on the same bytes.
 *
 * Each input is a file: png_read_header, then png_read_file, then
 * image_read_file, all with a limit of 4 megapixels.  Every whole chunk's
 * CRC is set right first (libpng checks them), so that mutated chunks
 * reach the decoder instead of stopping at their checksum.  Beyond "no crash,
 * no leak": an error leaves the image zeroed; a full decode implies the
 * header read succeeded with the same shape; image_read_file on data with
 * the PNG signature gives png_read_file's status and pixels. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "image_read.h"
#include "png_io.h"

#define FUZZ_MAX_PIXELS ((uint64_t)4 * 1000 * 1000)

/* The CRC-32 of PNG chunks (ISO 3309, as zlib's crc32). */
static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    static uint32_t table[256];
    uint32_t c = 0xffffffffu;

    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t v = i;
            for (int k = 0; k < 8; k++)
                v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
            table[i] = v;
        }
    for (size_t i = 0; i < n; i++)
        c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

/* Rewrites the CRC of every chunk that lies whole inside buf. */
static void crcs_fix(uint8_t *buf, size_t size)
{
    size_t at = 8;

    while (size - at >= 12) {
        uint32_t len = (uint32_t)buf[at] << 24 | (uint32_t)buf[at + 1] << 16 |
                       (uint32_t)buf[at + 2] << 8 | buf[at + 3];
        uint32_t crc;

        if (len > size - at - 12)
            break;
        crc = crc32_png(buf + at + 4, (size_t)len + 4);
        buf[at + 8 + len] = (uint8_t)(crc >> 24);
        buf[at + 9 + len] = (uint8_t)(crc >> 16);
        buf[at + 10 + len] = (uint8_t)(crc >> 8);
        buf[at + 11 + len] = (uint8_t)crc;
        at += (size_t)len + 12;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int fds = fuzz_fds_mark();
    static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    uint8_t *fixed = malloc(size ? size : 1);
    const char *path;
    host_image head, img, any;
    kiln_status sh, sf, si;

    FUZZ_CHECK(fixed != NULL);
    memcpy(fixed, data, size);
    if (size >= 8)
        crcs_fix(fixed, size);
    path = fuzz_memfd_path(fixed, size);
    free(fixed);

    sh = png_read_header(path, FUZZ_MAX_PIXELS, &head);
    fuzz_note("png_read_header", sh);
    FUZZ_CHECK(head.pixels == NULL);
    FUZZ_CHECK(sh == KILN_OK || fuzz_all_zero(&head, sizeof(head)));

    sf = png_read_file(path, FUZZ_MAX_PIXELS, &img);
    fuzz_note("png_read_file", sf);
    FUZZ_CHECK(sf == KILN_OK ? img.pixels != NULL : fuzz_all_zero(&img, sizeof(img)));
    if (sf == KILN_OK)
        FUZZ_CHECK(sh == KILN_OK && fuzz_same_shape(&head, &img));

    si = image_read_file(path, FUZZ_MAX_PIXELS, &any);
    fuzz_note("image_read_file", si);
    FUZZ_CHECK(si == KILN_OK ? any.pixels != NULL : fuzz_all_zero(&any, sizeof(any)));
    if (size > 0 && memcmp(data, png_sig, size < 8 ? size : 8) == 0) {
        FUZZ_CHECK(si == sf);
        if (si == KILN_OK)
            FUZZ_CHECK(fuzz_same_shape(&any, &img) &&
                       memcmp(any.pixels, img.pixels, host_image_bytes(&img)) == 0);
    }

    host_image_free(&any);
    host_image_free(&img);
    fuzz_fds_check(fds);
    return 0;
}
