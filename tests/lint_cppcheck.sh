#!/bin/sh
# Static analysis: cppcheck must report nothing on the project's C code.
command -v cppcheck >/dev/null 2>&1 || { echo "cppcheck not installed: skipping"; exit 77; }
cd "$TOP_SRCDIR" || exit 1
cppcheck --enable=warning,style,performance,portability --error-exitcode=1 --inline-suppr -q \
    --suppress=missingIncludeSystem -Iinclude -Ihostmem -Imodels -Icl $(for w in engine/*/; do printf -- "-I%s " "${w%/}"; done) -I/usr/include/iniparser \
    -I"${TOP_BUILDDIR:-build}" include engine hostmem models tests/*.c
