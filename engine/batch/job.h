/* Job files: INI read by iniparser, every key validated against one table
 * of keys (engine/job_keys.c) that also holds each default and its
 * documentation. */
#ifndef KILN_JOB_H
#define KILN_JOB_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "kiln.h"

#define JOB_PATH_MAX 4096

/* Each section of a job file is one struct, so that a stage sees only
 * its own section (stage.h). */

/* [device] */
/* [job] in_flight = auto: two items in flight on a GPU or accelerator,
 * one on a CPU device (batch.c). */
#define JOB_IN_FLIGHT_AUTO 0

typedef struct job_device {
    char select[256];          /* select: selector (KILN_DEVICE overrides) */
} job_device;

/* [memory] */
typedef struct job_memory {
    uint64_t device_budget;           /* device_budget: bytes, 0 = auto */
} job_memory;

/* [resize] */
typedef struct job_resize {
    int enabled;               /* enabled */
    uint64_t width;            /* width: 0 = from height keeping aspect */
    uint64_t height;           /* height: 0 = from width keeping aspect */
    uint64_t max_side;         /* max_side: fit longest side (0: off) */
    int filter;                /* filter: resize_filter enum */
} job_resize;

/* [composite] */
typedef struct job_composite {
    int enabled;            /* enabled */
    float colour[3];        /* colour: "#rrggbb" */
    char image[JOB_PATH_MAX]; /* image: background PNG or JPEG ("" = colour) */
    int premultiplied;      /* premultiplied: input alpha mode */
} job_composite;

/* [segment] */
typedef struct job_segment {
    int enabled;              /* enabled */
    char model[JOB_PATH_MAX]; /* model: registry name or .onnx path */
    char model_dir[JOB_PATH_MAX]; /* model_dir: searched first */
    int output;               /* output: mask or cutout */
    int post_process;         /* post_process_mask: rembg's option */
    uint64_t input_size;      /* input_size: 0 = the model's */
    int normalization;        /* normalization: auto/imagenet/half */
    float mean[3];            /* mean: per channel, NaN in [0] = unset */
    float std[3];             /* std: per channel, NaN in [0] = unset */
    int precision;            /* precision: auto/fp32/fp16 */
} job_segment;

/* [refine] */
typedef struct job_refine {
    int enabled;               /* enabled */
    char masks[JOB_PATH_MAX];  /* masks: directory of mask files */
    char mask_suffix[64];      /* mask_suffix: after the input stem */
    char trimaps[JOB_PATH_MAX]; /* trimaps: directory of trimap files */
    int method;                /* method: refine_method enum */
    uint64_t fg_threshold;     /* foreground_threshold */
    uint64_t bg_threshold;     /* background_threshold */
    uint64_t erode_size;       /* erode_size */
    uint64_t erode_reference;  /* erode_reference_size: 0 = fixed */
    float epsilon;             /* epsilon */
    uint64_t radius;           /* radius */
    uint64_t max_iterations;   /* max_iterations */
    float tolerance;           /* tolerance */
    uint64_t guided_radius;    /* guided_radius */
    float guided_epsilon;      /* guided_epsilon */
    int foreground;            /* foreground: ml or none */
    float fg_regularization;   /* fg_regularization */
    uint64_t fg_small_iterations; /* fg_small_iterations */
    uint64_t fg_big_iterations;   /* fg_big_iterations */
    uint64_t fg_small_size;    /* fg_small_size */
    int on_empty_trimap;       /* on_empty_trimap: mask or fail */
    int mask_mismatch;         /* mask_size_mismatch: resize or fail */
    int output;                /* output: alpha or cutout */
} job_refine;

/* [splat] */
typedef struct job_splat {
    int enabled;               /* enabled */
    char cameras[JOB_PATH_MAX]; /* cameras: one camera file or directory for every scene */
    char scene_cameras[JOB_PATH_MAX]; /* scene_cameras: relative to each scene's directory */
    char views[256];           /* views: "" all, or view indices "0,3,7" */
    uint64_t orbit_frames;     /* orbit_frames: 0 = no orbit */
    float orbit_radius;        /* orbit_radius: 0 = fit the scene */
    float orbit_elevation;     /* orbit_elevation: degrees */
    float orbit_fov;           /* orbit_fov: horizontal, degrees */
    float orbit_centre[3];     /* orbit_centre: [0] NaN = the scene's centre */
    float orbit_up[3];         /* orbit_up: [0] NaN = 0,-1,0 */
    uint64_t width, height;    /* width, height: orbit image size */
    int mode;                  /* mode: splat_mode */
    int antialiased;           /* antialiased */
    float background[3];       /* background: [0] NaN = black */
    int output;                /* output: rgb, rgba, alpha, depth */
    float depth_scale;         /* depth_scale: 16-bit depth sample per unit of depth */
    uint64_t max_gaussians;    /* max_gaussians */
    int nonfinite;             /* nonfinite: refuse or drop */
    int sh_precision;          /* sh_precision: fp32 or fp16 */
    uint64_t max_instances;    /* max_instances: tile instances per band */
} job_splat;

/* [train] */
typedef struct job_train {
    int enabled;               /* enabled: a job of datasets to train */
    uint64_t iterations;       /* iterations */
    char save_iterations[256]; /* save_iterations: "7000,30000" */
    char test_iterations[256]; /* test_iterations */
    char checkpoint_iterations[256]; /* checkpoint_iterations */
    uint64_t sh_degree;        /* sh_degree */
    float background[3];       /* background: [0] NaN = black */
    uint64_t seed;             /* seed */
    uint64_t test_every;       /* test_every */
    uint64_t downscale;        /* downscale: 1, 2, 4, 8 */
    uint64_t image_cache;      /* image_cache: bytes of decoded images kept */
    int alpha;                 /* alpha: background or ignore */
    char masks[JOB_PATH_MAX];  /* masks: directory of per-image masks ("" none) */
    char mask_suffix[64];      /* mask_suffix: after the image stem */
    int mode;                  /* mode: splat_mode */
    float lambda_dssim;        /* lambda_dssim */
    uint64_t max_gaussians;    /* max_gaussians */
    int densify;               /* densify */
    uint64_t densify_from;     /* densify_from */
    uint64_t densify_until;    /* densify_until */
    uint64_t densify_interval; /* densify_interval */
    float densify_grad_threshold; /* densify_grad_threshold */
    float percent_dense;       /* percent_dense */
    uint64_t opacity_reset_interval; /* opacity_reset_interval */
    uint64_t sh_interval;      /* sh_interval */
    uint64_t random_points;    /* random_points: init without a point cloud */
    int deterministic;         /* deterministic: bit-reproducible training */
} job_train;

/* [output] */
typedef struct job_output {
    uint64_t bit_depth;        /* bit_depth: 8 or 16 */
    char suffix[64];           /* suffix: appended to the input stem */
    int skip_existing;         /* skip_existing: restartable batches */
} job_output;

/* [serve] (kiln serve) */
typedef struct job_serve {
    char host[256];            /* host: address to listen on */
    uint64_t port;             /* port: 0 = any free port */
    uint64_t queue;            /* queue: requests waiting, at most */
    uint64_t max_body;         /* max_body: bytes of a request body */
    uint64_t timeout;          /* timeout: seconds a request may wait */
    uint64_t grace;            /* grace: seconds to drain on SIGTERM */
    char access_log[JOB_PATH_MAX]; /* access_log: path, "-" stderr, "" off */
} job_serve;

/* A validated job with every default applied. */
typedef struct job_config {
    char path[JOB_PATH_MAX];          /* the job file, for messages */
    /* [job] */
    char name[128];                   /* name: report title (default: file stem) */
    char inputs[JOB_PATH_MAX];        /* inputs: directory, glob or @list file;
                                         relative to the job file's directory */
    char output_dir[JOB_PATH_MAX];    /* output_dir: relative to the job file's dir */
    uint64_t max_failures;            /* max_failures: stop after this many (0: never) */
    uint64_t max_pixels;              /* max_pixels: decompression-bomb limit */
    uint64_t prefetch_items;          /* prefetch_items: queue bound in items */
    uint64_t prefetch_bytes;          /* prefetch_bytes: queue bound in bytes */
    int in_flight;                    /* in_flight: items per device between
                                         upload and written output: 1, 2 or
                                         JOB_IN_FLIGHT_AUTO */
    job_device device;
    job_memory memory;
    job_resize resize;
    job_composite composite;
    job_segment segment;
    job_refine refine;
    job_splat splat;
    job_train train;
    job_output output;
    job_serve serve;
} job_config;

/* [segment] enum values. */
enum { SEGMENT_OUTPUT_CUTOUT = 0, SEGMENT_OUTPUT_MASK = 1 };
enum { SEGMENT_NORM_AUTO = 0, SEGMENT_NORM_IMAGENET = 1, SEGMENT_NORM_HALF = 2 };
/* precision: the values of engine/nn/nn_precision.h's nn_precision */
enum { SEGMENT_PRECISION_AUTO = 0, SEGMENT_PRECISION_FP32 = 1, SEGMENT_PRECISION_FP16 = 2 };

/* [splat] enum values (mode: splat_render.h's splat_mode). */
enum { SPLAT_JOB_INRIA = 0, SPLAT_JOB_GSPLAT = 1 };
enum { SPLAT_JOB_RGB = 0, SPLAT_JOB_RGBA = 1, SPLAT_JOB_ALPHA = 2, SPLAT_JOB_DEPTH = 3 };
enum { SPLAT_JOB_REFUSE = 0, SPLAT_JOB_DROP = 1 };
enum { SPLAT_JOB_FP32 = 0, SPLAT_JOB_FP16 = 1 };

/* [train] enum values. */
enum { TRAIN_ALPHA_BACKGROUND = 0, TRAIN_ALPHA_IGNORE = 1 };

/* [refine] enum values. */
enum { REFINE_METHOD_CF = 0, REFINE_METHOD_GUIDED = 1 };
enum { REFINE_FOREGROUND_NONE = 0, REFINE_FOREGROUND_ML = 1 };
enum { REFINE_EMPTY_MASK = 0, REFINE_EMPTY_FAIL = 1 };
enum { REFINE_MISMATCH_RESIZE = 0, REFINE_MISMATCH_FAIL = 1 };
enum { REFINE_OUTPUT_CUTOUT = 0, REFINE_OUTPUT_ALPHA = 1 };

/* Loads and validates `path`, then applies `sets` overrides
 * ("section.key=value", nsets of them) before validation.  Unknown
 * section or key, wrong type, out-of-range or malformed value: returns
 * KILN_E_CONFIG with a message naming the file, section and key.  A
 * missing or unreadable file: KILN_E_IO naming it.  path NULL: no file,
 * only the defaults and `sets` ("command line" in messages; relative paths
 * stay relative to the current directory).
 *
 * Details: section and key names are case-insensitive (iniparser
 * lower-cases them); a value holding '#' or ';' must be quoted
 * (colour = "#ffffff"), since both start a comment.  A relative path in
 * the file is joined to the file's directory; a relative path given by a
 * --set stays relative to the current directory, as any command-line
 * path.  A malformed set, or one naming an unknown key, is KILN_E_CONFIG
 * naming "--set".  An empty job.name means the file's stem.  *out is
 * written only on success.  Not safe to call from two threads at once
 * (iniparser's error callback is process-wide). */
kiln_status job_load(const char *path, const char *const *sets, size_t nsets,
                     job_config *out);

/* Fills *out with every default (as if from an empty job file named
 * `path`).  Relative paths stay relative. */
void job_defaults(job_config *out, const char *path);

/* Writes the documented reference of every section, key, type, range and
 * default, as an INI file with comments (conf/reference.ini is this). */
void job_write_reference(FILE *out);

/* ---- The table of keys (engine/job_keys.c) ----
 * One row per key says where the key lives, how its value parses, its
 * range, its default (as the text a job file would hold), a one-line
 * documentation and the job_config field it fills.  job.c validates,
 * fills defaults and writes the reference from this table alone, so a new
 * key is one new row (and one field).  Section and key names are
 * lower-case: iniparser lower-cases both, so a job file may write them in
 * any case. */

typedef enum job_key_type {
    JOB_KEY_STRING,     /* char[size]: at most size - 1 bytes */
    JOB_KEY_PATH,       /* char[size]: a relative path in a job file is
                           taken from the job file's directory */
    JOB_KEY_BOOL,       /* int 0/1: true/false, yes/no, on/off, 1/0 */
    JOB_KEY_INT,        /* uint64_t: decimal in min..max (and in `allowed`) */
    JOB_KEY_SIZE,       /* uint64_t: size_parse() syntax ("256M"), min..max */
    JOB_KEY_SIZE_AUTO,  /* uint64_t: "auto" or 0 (both 0), else a size */
    JOB_KEY_ENUM,       /* int: one of `names`, stored as its value */
    JOB_KEY_COLOUR,     /* float[3]: "#rrggbb", each channel in [0,1] */
    JOB_KEY_FLOAT,      /* float: a finite decimal number in fmin..fmax */
    JOB_KEY_FLOAT3      /* float[3]: "" (unset: [0] is NaN) or three numbers in
                           fmin..fmax separated by commas or spaces */
} job_key_type;

/* One allowed name of a JOB_KEY_ENUM key and the value it stores. */
typedef struct job_enum_name {
    const char *name;
    int value;
} job_enum_name;

/* A section of the job file, in reference order. */
typedef struct job_section {
    const char *name;
    const char *doc;
} job_section;

/* A key: see the table in engine/job_keys.c. */
typedef struct job_key {
    const char *section;
    const char *name;
    job_key_type type;
    uint64_t min, max;              /* JOB_KEY_INT, _SIZE, _SIZE_AUTO (non-0) */
    double fmin, fmax;              /* JOB_KEY_FLOAT, JOB_KEY_FLOAT3 */
    const uint64_t *allowed;        /* JOB_KEY_INT: the only values (or NULL) */
    size_t nallowed;
    const job_enum_name *names;     /* JOB_KEY_ENUM: the allowed names */
    size_t nnames;
    int required;                   /* an empty value is an error */
    int file_or_name;               /* JOB_KEY_STRING: a value naming a file
                                       ('/' in it, or ending in ".onnx") is
                                       resolved like a JOB_KEY_PATH */
    const char *default_text;       /* parsed like a value from a job file */
    const char *doc;                /* one line for the reference */
    size_t offset;                  /* offsetof(job_config, field) */
    size_t size;                    /* sizeof the field */
} job_key;

extern const job_section job_sections[];
extern const size_t job_section_count;
extern const job_key job_keys[];
extern const size_t job_key_count;

#endif
