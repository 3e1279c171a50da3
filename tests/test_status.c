/* Status codes, error messages and the hash used for cache keys. */
#include "cl_status.h"
#include "hash.h"
#include "testutil.h"

/* Messages, context prefixes and OpenCL error names. */
static void test_messages(void)
{
    CHECK(strcmp(kiln_status_name(KILN_E_NOMEM), "KILN_E_NOMEM") == 0);
    CHECK(strcmp(kiln_status_name(12345), "KILN_E_UNKNOWN") == 0);
    CHECK_STATUS(kiln_fail(KILN_E_IO, "%s: cannot read", "a.png"), KILN_E_IO);
    CHECK(strcmp(kiln_last_error(), "a.png: cannot read") == 0);
    kiln_fail_context(KILN_E_IO, "item %d", 3);
    CHECK(strcmp(kiln_last_error(), "item 3: a.png: cannot read") == 0);
    kiln_clear_error();
    CHECK(kiln_last_error()[0] == '\0');
    CHECK(strcmp(kiln_cl_error_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES") == 0);
    CHECK_STATUS(kiln_fail_cl(CL_MEM_OBJECT_ALLOCATION_FAILURE, "alloc"), KILN_E_NOMEM);
    CHECK_MSG("CL_MEM_OBJECT_ALLOCATION_FAILURE");
    CHECK_STATUS(kiln_fail_cl(CL_INVALID_KERNEL_NAME, "kernel x"), KILN_E_CL);
    CHECK_MSG("kernel x: CL_INVALID_KERNEL_NAME (-46)");
}

/* Hashes: deterministic, sensitive to every byte and to string framing. */
static void test_hash(void)
{
    hash128 a, b;
    char ha[33], hb[33];
    hash_init(&a);
    hash_update_str(&a, "ab");
    hash_update_str(&a, "c");
    hash_init(&b);
    hash_update_str(&b, "a");
    hash_update_str(&b, "bc");
    hash_hex(&a, ha);
    hash_hex(&b, hb);
    CHECK(strlen(ha) == 32);
    CHECK(strcmp(ha, hb) != 0);
    hash_init(&b);
    hash_update_str(&b, "ab");
    hash_update_str(&b, "c");
    hash_hex(&b, hb);
    CHECK(strcmp(ha, hb) == 0);
    CHECK(hash_digest64(&a) == hash_digest64(&b));
    /* one flipped bit anywhere changes the digest */
    unsigned char buf[256];
    for (int i = 0; i < 256; i++)
        buf[i] = (unsigned char)i;
    hash_init(&a);
    hash_update(&a, buf, sizeof(buf));
    uint64_t base = hash_digest64(&a);
    int distinct = 1;
    for (int i = 0; i < 256; i++) {
        buf[i] ^= 1;
        hash_init(&a);
        hash_update(&a, buf, sizeof(buf));
        distinct &= hash_digest64(&a) != base;
        buf[i] ^= 1;
    }
    CHECK(distinct);
}

/* Runs the status tests. */
int main(void)
{
    test_messages();
    test_hash();
    CHECK(strcmp(kiln_version(), "0.1.0") == 0);
    return test_summary("test_status");
}
