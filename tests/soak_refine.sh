#!/bin/sh
# Soak of the refine stage: 200 refinements in one process, pool and RSS
# flat after the warm-up (see tests/test_soak.c).
exec "$TOP_BUILDDIR/tests/test_soak" refine
