/* Point clouds that start a splatting scene: positions and 8-bit colours,
 * read from COLMAP's points3D (.bin, .txt) or a PLY point cloud, or drawn
 * at random.  Internal to models/ (splat_dataset.c is the user).
 *
 * points3D.bin: uint64 count; per point uint64 id, 3 double xyz, 3 uint8
 * rgb, double error, uint64 track length, track length x (int32 image id,
 * int32 point2D index).  points3D.txt: one point a line, "POINT3D_ID X Y
 * Z R G B ERROR TRACK[] as (IMAGE_ID, POINT2D_IDX)"; '#' comments and
 * blank lines skipped.  PLY: binary little-endian (ply_header.h), element
 * "vertex" with scalar x y z (float or double) and red green blue
 * (uchar); other properties ignored; elements before it skipped when they
 * hold no lists.
 * Every host block comes from the kiln_ allocator. */
#ifndef KILN_SPLAT_POINT_CLOUD_H
#define KILN_SPLAT_POINT_CLOUD_H

#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

/* `count` points: points[3 i + k] the coordinates, colours[3 i + c] RGB. */
typedef struct splat_point_cloud {
    float *points;
    uint8_t *colours;
    size_t count;
} splat_point_cloud;

/* The reference trainer's random init for Blender scenes (its
 * readNerfSyntheticInfo): positions uniform in [-1.3, 1.3]^3. */
#define SPLAT_RANDOM_HALF_SIDE 1.3

/* Allocates the arrays of `count` points (zeroed; at least one element
 * each, so a cloud of 0 points still holds blocks).  `name` is for the
 * message.  KILN_E_HOSTMEM (*pc zeroed) on failure. */
kiln_status splat_point_cloud_alloc(splat_point_cloud *pc, size_t count, const char *name);

/* Frees the arrays and zeroes *pc; safe on a zeroed cloud. */
void splat_point_cloud_free(splat_point_cloud *pc);

/* Draws `count` points uniformly in [-1.3, 1.3]^3 with uniform random
 * colours (each channel 0..255), from a splitmix64 stream seeded with
 * `seed`: per point x, y, z then one draw whose bytes 7, 6, 5 are R, G,
 * B; a coordinate is (top 53 bits / 2^53) * 2.6 - 1.3 rounded to float.
 * The same seed gives the same cloud.  KILN_E_HOSTMEM. */
kiln_status splat_point_cloud_random(splat_point_cloud *pc, size_t count, uint64_t seed);

/* Parses points3D.bin from memory (`name` the file, for messages).  Every
 * count is checked against the bytes that remain before anything is
 * allocated; a truncated file, bytes after the last point or a
 * coordinate that is not finite are KILN_E_FORMAT naming the file (and
 * the point).  0 points read as an empty cloud.  On error *pc is zeroed. */
kiln_status splat_points3d_parse_bin(const void *data, size_t len, const char *name,
                                     splat_point_cloud *pc);

/* Parses points3D.txt from memory; a line with fewer than 8 fields, a
 * colour above 255, a value that is not a (finite) number or a track of
 * an odd number of values is KILN_E_FORMAT naming the file and line. */
kiln_status splat_points3d_parse_text(const char *text, size_t len, const char *name,
                                      splat_point_cloud *pc);

/* Parses a PLY point cloud from memory: KILN_E_FORMAT naming the file for
 * a bad header, no vertex element, a missing x y z red green blue, a
 * type other than float/double (x y z) or uchar (colours), a list in the
 * vertex element or in an element before it, a vertex count beyond the
 * file size (checked before allocating) or a coordinate not finite. */
kiln_status splat_point_ply_parse(const void *data, size_t len, const char *name,
                                  splat_point_cloud *pc);

#endif
