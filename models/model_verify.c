/* Model file hashes against the expected ones (see model_verify.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "model_md5_cache.h"
#include "model_verify.h"
#include "status.h"

#define NOTE_SUFFIX ".md5"

/* Normalises a person's MD5 (see model_verify.h). */
int model_md5_parse(const char *text, char out[33])
{
    if (strncmp(text, "md5:", 4) == 0)
        text += 4;
    if (strlen(text) != 32 || strspn(text, "0123456789abcdefABCDEF") != 32)
        return 0;
    for (size_t i = 0; i < 32; i++)
        out[i] = (char)tolower((unsigned char)text[i]);
    out[32] = '\0';
    return 1;
}

/* Hashes and compares (see model_verify.h). */
kiln_status model_verify_md5(const char *file, const char *expected, char actual[33])
{
    kiln_status st = model_file_md5(file, actual);

    if (st != KILN_OK)
        return st;
    if (strcmp(actual, expected) != 0)
        return kiln_fail(KILN_E_FORMAT, "%s: md5 %s does not match the expected md5 %s", file,
                         actual, expected);
    return KILN_OK;
}

/* Writes model_path + ".md5" into note[len]; 0 when it does not fit. */
static int note_path(const char *model_path, char *note, size_t len)
{
    int n = snprintf(note, len, "%s" NOTE_SUFFIX, model_path);
    return n > 0 && (size_t)n < len;
}

/* Writes the note (see model_verify.h). */
kiln_status model_md5_note_write(const char *model_path, const char *md5)
{
    char note[4200];
    const char *base = strrchr(model_path, '/');
    atomic_file af;
    kiln_status st;

    if (!note_path(model_path, note, sizeof(note)))
        return kiln_fail(KILN_E_INVAL, "%s: path too long for its md5 note", model_path);
    st = atomic_file_open(&af, note);
    if (st != KILN_OK)
        return st;
    if (fprintf(af.fp, "%s  %s\n", md5, base ? base + 1 : model_path) < 0) {
        atomic_file_abort(&af);
        return kiln_fail(KILN_E_IO, "writing %s: %s", note, strerror(errno));
    }
    return atomic_file_commit(&af);
}

/* Reads the note (see model_verify.h). */
int model_md5_note_read(const char *model_path, char md5[33])
{
    char note[4200], line[40];
    FILE *fp;
    int ok;

    if (!note_path(model_path, note, sizeof(note)))
        return 0;
    fp = fopen(note, "rb");
    if (!fp)
        return 0;
    ok = fgets(line, sizeof(line), fp) != NULL && strspn(line, "0123456789abcdef") == 32 &&
         (line[32] == ' ' || line[32] == '\n');
    fclose(fp);
    if (!ok)
        return 0;
    memcpy(md5, line, 32);
    md5[32] = '\0';
    return 1;
}

/* Removes the note (see model_verify.h). */
void model_md5_note_remove(const char *model_path)
{
    char note[4200];

    if (note_path(model_path, note, sizeof(note)))
        (void)unlink(note);
}
