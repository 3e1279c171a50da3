/* libpng error, warning and allocation callbacks. */
#include <stdio.h>
#include <stdlib.h>

#include "host_alloc.h"
#include "png_failure.h"

/* Records the message and longjmps back to the protected function. */
void png_failure_error(png_structp png, png_const_charp msg)
{
    png_failure *f = png_get_error_ptr(png);

    snprintf(f->message, sizeof(f->message), "%s", msg ? msg : "unknown libpng error");
    png_longjmp(png, 1);
}

/* Drops a warning. */
void png_failure_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* kiln_malloc that remembers a failure. */
png_voidp png_failure_malloc(png_structp png, png_alloc_size_t size)
{
    png_failure *f = png_get_mem_ptr(png);
    void *p = kiln_malloc(size);

    if (!p && f)
        f->out_of_memory = 1;
    return p;
}

/* kiln_free. */
void png_failure_free(png_structp png, png_voidp ptr)
{
    (void)png;
    kiln_free(ptr);
}
