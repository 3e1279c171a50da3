#!/bin/sh
# Soak of the segment stage: 1000 images through a small network in one
# process, pool and RSS flat after the warm-up (see tests/test_soak.c).
exec "$TOP_BUILDDIR/tests/test_soak" segment
