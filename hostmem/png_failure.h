/* libpng callbacks shared by the decoder and the encoder: errors are
 * recorded (message, out-of-memory flag) and longjmp back; warnings are
 * dropped. */
#ifndef KILN_PNG_FAILURE_H
#define KILN_PNG_FAILURE_H

#include <png.h>

/* What went wrong inside libpng.  Pass a pointer to it as libpng's
 * error_ptr and mem_ptr. */
typedef struct png_failure {
    int out_of_memory;   /* a libpng allocation failed */
    char message[256];   /* libpng's error message */
} png_failure;

/* Error callback: keeps the message, longjmps back.  Never returns. */
void png_failure_error(png_structp png, png_const_charp msg);

/* Warning callback: warnings (bad ancillary chunks, sRGB profile notes)
 * are not errors for us and are not printed. */
void png_failure_warning(png_structp png, png_const_charp msg);

/* Allocator: kiln_malloc (counted, and failed by fault injection),
 * remembering a failure so that it is reported as KILN_E_HOSTMEM rather
 * than as corrupt data. */
png_voidp png_failure_malloc(png_structp png, png_alloc_size_t size);

/* Deallocator: kiln_free. */
void png_failure_free(png_structp png, png_voidp ptr);

#endif
