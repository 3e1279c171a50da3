/* The one table of job keys: every section and key a job file may hold,
 * with its type, range, default and documentation.  engine/job.c reads
 * nothing else: validation, defaults and conf/reference.ini all come from
 * here.  Sizes are powers of 1024 (size_parse). */
#include <stddef.h>
#include <stdint.h>

#include "job.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

/* The job_config field a key fills. */
#define FIELD(member) \
    .offset = offsetof(job_config, member), \
    .size = sizeof(((job_config *)0)->member)

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* [resize] filter names; the values are ops_image.h's resize_filter
 * (RESIZE_BILINEAR, RESIZE_AREA, RESIZE_LANCZOS3), kept here so that
 * the job layer does not depend on the image ops. */
enum { JOB_RESIZE_BILINEAR = 0, JOB_RESIZE_AREA = 1, JOB_RESIZE_LANCZOS3 = 2 };

static const job_enum_name resize_filters[] = {
    { "bilinear", JOB_RESIZE_BILINEAR },
    { "area", JOB_RESIZE_AREA },
    { "lanczos3", JOB_RESIZE_LANCZOS3 },
};

static const uint64_t bit_depths[] = { 8, 16 };

static const job_enum_name in_flight_names[] = {
    { "auto", JOB_IN_FLIGHT_AUTO },
    { "1", 1 },
    { "2", 2 },
};

static const job_enum_name refine_methods[] = {
    { "cf", REFINE_METHOD_CF },
    { "guided", REFINE_METHOD_GUIDED },
};

static const job_enum_name refine_foregrounds[] = {
    { "ml", REFINE_FOREGROUND_ML },
    { "none", REFINE_FOREGROUND_NONE },
};

static const job_enum_name refine_empty[] = {
    { "mask", REFINE_EMPTY_MASK },
    { "fail", REFINE_EMPTY_FAIL },
};

static const job_enum_name refine_mismatch[] = {
    { "resize", REFINE_MISMATCH_RESIZE },
    { "fail", REFINE_MISMATCH_FAIL },
};

static const job_enum_name refine_outputs[] = {
    { "cutout", REFINE_OUTPUT_CUTOUT },
    { "alpha", REFINE_OUTPUT_ALPHA },
};

static const job_enum_name segment_outputs[] = {
    { "cutout", SEGMENT_OUTPUT_CUTOUT },
    { "mask", SEGMENT_OUTPUT_MASK },
};

static const job_enum_name segment_norms[] = {
    { "auto", SEGMENT_NORM_AUTO },
    { "imagenet", SEGMENT_NORM_IMAGENET },
    { "half", SEGMENT_NORM_HALF },
};

static const job_enum_name segment_precisions[] = {
    { "auto", SEGMENT_PRECISION_AUTO },
    { "fp32", SEGMENT_PRECISION_FP32 },
    { "fp16", SEGMENT_PRECISION_FP16 },
};

static const job_enum_name splat_modes[] = {
    { "inria", SPLAT_JOB_INRIA },
    { "gsplat", SPLAT_JOB_GSPLAT },
};

static const job_enum_name splat_outputs[] = {
    { "rgb", SPLAT_JOB_RGB },
    { "rgba", SPLAT_JOB_RGBA },
    { "alpha", SPLAT_JOB_ALPHA },
    { "depth", SPLAT_JOB_DEPTH },
};

static const job_enum_name splat_nonfinite[] = {
    { "refuse", SPLAT_JOB_REFUSE },
    { "drop", SPLAT_JOB_DROP },
};

static const job_enum_name splat_precisions[] = {
    { "fp32", SPLAT_JOB_FP32 },
    { "fp16", SPLAT_JOB_FP16 },
};

static const job_enum_name train_alpha[] = {
    { "background", TRAIN_ALPHA_BACKGROUND },
    { "ignore", TRAIN_ALPHA_IGNORE },
};

static const uint64_t train_downscales[] = { 1, 2, 4, 8 };

const job_section job_sections[] = {
    { "job", "The batch: where inputs come from, where outputs go, limits." },
    { "device", "Which OpenCL device runs the job." },
    { "memory", "Device memory bounds." },
    { "segment", "Background removal with a U2-Net-family ONNX model (the files "
                 "rembg uses), before refining." },
    { "refine", "Alpha matting: from a coarse mask (or a trimap) to a clean alpha "
                "and a colour-decontaminated cut-out, before resizing." },
    { "resize", "Resizing each image (after refining, before compositing)." },
    { "composite", "Compositing the RGBA result over a colour or an image." },
    { "splat", "Rendering 3D Gaussian splatting scenes (inputs: .ply or .splat scenes; "
               "each item is one view of one scene), before resizing." },
    { "train", "Training 3D Gaussian splatting scenes from capture datasets (kiln splat "
               "train); the defaults are the reference trainer's." },
    { "output", "The files written for each input." },
    { "serve", "The HTTP server (kiln serve): where it listens, its queue and limits." },
};

const size_t job_section_count = COUNT(job_sections);

const job_key job_keys[] = {
    /* [job] */
    { .section = "job", .name = "name", .type = JOB_KEY_STRING,
      .default_text = "",
      .doc = "Report title; empty: the job file's name without its extension.",
      FIELD(name) },
    { .section = "job", .name = "inputs", .type = JOB_KEY_PATH,
      .required = 1, .default_text = "",
      .doc = "A directory (its *.png, *.jpg and *.jpeg files), a glob, or a list file "
             "(@FILE, *.txt, *.list: one path a line).",
      FIELD(inputs) },
    { .section = "job", .name = "output_dir", .type = JOB_KEY_PATH,
      .required = 1, .default_text = "",
      .doc = "Directory for the outputs (named after the inputs).",
      FIELD(output_dir) },
    { .section = "job", .name = "max_failures", .type = JOB_KEY_INT,
      .min = 0, .max = UINT32_MAX, .default_text = "0",
      .doc = "Stop the batch after this many failed items; 0: never stop.",
      FIELD(max_failures) },
    { .section = "job", .name = "max_pixels", .type = JOB_KEY_SIZE,
      .min = 1, .max = 16 * GIB, .default_text = "256M",
      .doc = "Largest input in pixels (width x height); larger inputs fail "
             "before decoding.",
      FIELD(max_pixels) },
    { .section = "job", .name = "prefetch_items", .type = JOB_KEY_INT,
      .min = 1, .max = 1024, .default_text = "4",
      .doc = "Decoded inputs queued ahead of the device, at most.",
      FIELD(prefetch_items) },
    { .section = "job", .name = "prefetch_bytes", .type = JOB_KEY_SIZE,
      .min = 1, .max = 1024 * GIB, .default_text = "256M",
      .doc = "Bytes of decoded inputs (images, and mask files) queued ahead of the "
             "device, at most.",
      FIELD(prefetch_bytes) },
    { .section = "job", .name = "in_flight", .type = JOB_KEY_ENUM,
      .names = in_flight_names, .nnames = COUNT(in_flight_names), .default_text = "auto",
      .doc = "Items per device in flight at once: 2 overlaps an item's download, "
             "PNG encoding and writing (on a thread of their own) with the next "
             "item's upload and compute, each item holding its own staging; 1 runs "
             "items one after another; auto: 2 on a GPU or accelerator, 1 on a CPU "
             "device, whose compute threads the host's encoding would slow.  With "
             "2, an item whose estimated device memory does not fit the budget "
             "beside its neighbour's staging waits for the neighbour.",
      FIELD(in_flight) },
    /* [device] */
    { .section = "device", .name = "select", .type = JOB_KEY_STRING,
      .default_text = "auto",
      .doc = "auto, cpu, gpu, all, an index, a vendor or name substring, or "
             "type:index (gpu:1); KILN_DEVICE overrides it.",
      FIELD(device.select) },
    /* [memory] */
    { .section = "memory", .name = "device_budget", .type = JOB_KEY_SIZE_AUTO,
      .min = 1, .max = 1024 * GIB, .default_text = "auto",
      .doc = "Hard cap on each device's pool (live + cached buffers); "
             "auto (or 0): a fraction of the device's memory.",
      FIELD(memory.device_budget) },
    /* [segment] */
    { .section = "segment", .name = "enabled", .type = JOB_KEY_BOOL,
      .default_text = "false",
      .doc = "Segment each image: its foreground mask from the model.",
      FIELD(segment.enabled) },
    { .section = "segment", .name = "model", .type = JOB_KEY_STRING,
      .file_or_name = 1, .default_text = "u2netp",
      .doc = "u2net, u2netp, u2net_human_seg, silueta, isnet-general-use, "
             "isnet-anime (found as NAME.onnx in model_dir, $KILN_MODEL_DIR, "
             "$U2NET_HOME, $XDG_DATA_HOME/.u2net, ~/.u2net), or a path to an "
             ".onnx file (relative: "
             "from the job file's directory).",
      FIELD(segment.model) },
    { .section = "segment", .name = "model_dir", .type = JOB_KEY_PATH,
      .default_text = "",
      .doc = "Directory searched first for NAME.onnx; empty: none.",
      FIELD(segment.model_dir) },
    { .section = "segment", .name = "output", .type = JOB_KEY_ENUM,
      .names = segment_outputs, .nnames = COUNT(segment_outputs), .default_text = "cutout",
      .doc = "cutout: the image with the mask as alpha (RGBA); mask: the 8-bit mask.",
      FIELD(segment.output) },
    { .section = "segment", .name = "post_process_mask", .type = JOB_KEY_BOOL,
      .default_text = "false",
      .doc = "rembg's post_process_mask: opening (3x3 ellipse), 5x5 Gaussian blur "
             "(sigma 2), threshold at 127.",
      FIELD(segment.post_process) },
    { .section = "segment", .name = "input_size", .type = JOB_KEY_INT,
      .min = 0, .max = 4096, .default_text = "0",
      .doc = "Network input side in pixels; 0: the model's (320 for u2net*, "
             "silueta; 1024 for isnet-*; for other files the side the file declares, "
             "or 320 when its input size is not fixed).",
      FIELD(segment.input_size) },
    { .section = "segment", .name = "normalization", .type = JOB_KEY_ENUM,
      .names = segment_norms, .nnames = COUNT(segment_norms), .default_text = "auto",
      .doc = "Input normalisation: auto (the model's: imagenet for u2net*, silueta "
             "and other files; ImageNet mean with std 1 for isnet-*), imagenet (mean "
             "0.485 0.456 0.406, std 0.229 0.224 0.225), half (mean 0.5, std 1).",
      FIELD(segment.normalization) },
    { .section = "segment", .name = "mean", .type = JOB_KEY_FLOAT3,
      .fmin = -1000, .fmax = 1000, .default_text = "",
      .doc = "Per-channel mean (R, G, B) subtracted from the [0,1] image; empty: "
             "from normalization.  Given, it overrides normalization.",
      FIELD(segment.mean) },
    { .section = "segment", .name = "std", .type = JOB_KEY_FLOAT3,
      .fmin = 1e-6, .fmax = 1000, .default_text = "",
      .doc = "Per-channel standard deviation the image is divided by; empty: from "
             "normalization.  Given, it overrides normalization.",
      FIELD(segment.std) },
    { .section = "segment", .name = "precision", .type = JOB_KEY_ENUM,
      .names = segment_precisions, .nnames = COUNT(segment_precisions),
      .default_text = "auto",
      .doc = "Network storage precision: fp32 (every activation and weight float32; "
             "an fp16 model's weights are widened), fp16 (activations between nodes "
             "and weights stored as half: about half the arena and weight memory; "
             "sums stay float, products run in half on devices with cl_khr_fp16; "
             "the network's input and output and GEMM convolutions stay float32), "
             "auto (fp16 for a published fp16 model on a device with cl_khr_fp16, "
             "else fp32).",
      FIELD(segment.precision) },
    /* [refine] */
    { .section = "refine", .name = "enabled", .type = JOB_KEY_BOOL,
      .default_text = "false",
      .doc = "Refine each input with its mask (or trimap) file.",
      FIELD(refine.enabled) },
    { .section = "refine", .name = "masks", .type = JOB_KEY_PATH,
      .default_text = "",
      .doc = "Directory of 8- or 16-bit masks: input DIR/x.png uses "
             "MASKS/x<mask_suffix>.png.",
      FIELD(refine.masks) },
    { .section = "refine", .name = "mask_suffix", .type = JOB_KEY_STRING,
      .default_text = "",
      .doc = "Appended to the input's stem to name its mask or trimap file.",
      FIELD(refine.mask_suffix) },
    { .section = "refine", .name = "trimaps", .type = JOB_KEY_PATH,
      .default_text = "",
      .doc = "Directory of trimap files (0 background, 255 foreground, other "
             "values unknown), used instead of masks when set.",
      FIELD(refine.trimaps) },
    { .section = "refine", .name = "method", .type = JOB_KEY_ENUM,
      .names = refine_methods, .nnames = COUNT(refine_methods), .default_text = "cf",
      .doc = "cf: closed-form matting over the trimap's unknown band; guided: "
             "guided-filter refinement of the mask (fast).",
      FIELD(refine.method) },
    { .section = "refine", .name = "foreground_threshold", .type = JOB_KEY_INT,
      .min = 0, .max = 255, .default_text = "240",
      .doc = "Mask values above this are foreground in the trimap.",
      FIELD(refine.fg_threshold) },
    { .section = "refine", .name = "background_threshold", .type = JOB_KEY_INT,
      .min = 0, .max = 255, .default_text = "10",
      .doc = "Mask values below this are background in the trimap.",
      FIELD(refine.bg_threshold) },
    { .section = "refine", .name = "erode_size", .type = JOB_KEY_INT,
      .min = 0, .max = 1024, .default_text = "10",
      .doc = "Side of the square eroding both foreground and background (the "
             "unknown band's width); 0: no erosion.",
      FIELD(refine.erode_size) },
    { .section = "refine", .name = "erode_reference_size", .type = JOB_KEY_INT,
      .min = 0, .max = 65536, .default_text = "0",
      .doc = "When set (e.g. the model's input side, 320), erode_size is scaled "
             "by the image's longest side / this, so the band keeps its width "
             "relative to the mask's resolution; 0: erode_size as given.",
      FIELD(refine.erode_reference) },
    { .section = "refine", .name = "epsilon", .type = JOB_KEY_FLOAT,
      .fmin = 1e-12, .fmax = 1.0, .default_text = "1e-7",
      .doc = "Closed-form matting regularisation (pymatting's default).",
      FIELD(refine.epsilon) },
    { .section = "refine", .name = "radius", .type = JOB_KEY_INT,
      .min = 1, .max = 4, .default_text = "1",
      .doc = "Closed-form matting window radius.",
      FIELD(refine.radius) },
    { .section = "refine", .name = "max_iterations", .type = JOB_KEY_INT,
      .min = 1, .max = 100000, .default_text = "2000",
      .doc = "Solver iteration cap.",
      FIELD(refine.max_iterations) },
    { .section = "refine", .name = "tolerance", .type = JOB_KEY_FLOAT,
      .fmin = 1e-12, .fmax = 1.0, .default_text = "1e-5",
      .doc = "Solver stops at this relative residual.",
      FIELD(refine.tolerance) },
    { .section = "refine", .name = "guided_radius", .type = JOB_KEY_INT,
      .min = 1, .max = 1024, .default_text = "8",
      .doc = "Guided filter window radius (method = guided).",
      FIELD(refine.guided_radius) },
    { .section = "refine", .name = "guided_epsilon", .type = JOB_KEY_FLOAT,
      .fmin = 1e-12, .fmax = 10.0, .default_text = "1e-4",
      .doc = "Guided filter regularisation (method = guided).",
      FIELD(refine.guided_epsilon) },
    { .section = "refine", .name = "foreground", .type = JOB_KEY_ENUM,
      .names = refine_foregrounds, .nnames = COUNT(refine_foregrounds), .default_text = "ml",
      .doc = "ml: estimate foreground colours (multi-level, Germer et al. 2020) so "
             "edges carry no background colour; none: keep the image's colours.",
      FIELD(refine.foreground) },
    { .section = "refine", .name = "fg_regularization", .type = JOB_KEY_FLOAT,
      .fmin = 0.0, .fmax = 1.0, .default_text = "1e-5",
      .doc = "Foreground estimation regularisation.",
      FIELD(refine.fg_regularization) },
    { .section = "refine", .name = "fg_small_iterations", .type = JOB_KEY_INT,
      .min = 1, .max = 1000, .default_text = "10",
      .doc = "Foreground estimation iterations per small level.",
      FIELD(refine.fg_small_iterations) },
    { .section = "refine", .name = "fg_big_iterations", .type = JOB_KEY_INT,
      .min = 1, .max = 1000, .default_text = "2",
      .doc = "Foreground estimation iterations per large level.",
      FIELD(refine.fg_big_iterations) },
    { .section = "refine", .name = "fg_small_size", .type = JOB_KEY_INT,
      .min = 1, .max = 65536, .default_text = "32",
      .doc = "Levels up to this side count as small.",
      FIELD(refine.fg_small_size) },
    { .section = "refine", .name = "on_empty_trimap", .type = JOB_KEY_ENUM,
      .names = refine_empty, .nnames = COUNT(refine_empty), .default_text = "mask",
      .doc = "A trimap without foreground or background: mask (use the mask as "
             "alpha, with a warning) or fail (the item fails).",
      FIELD(refine.on_empty_trimap) },
    { .section = "refine", .name = "mask_size_mismatch", .type = JOB_KEY_ENUM,
      .names = refine_mismatch, .nnames = COUNT(refine_mismatch), .default_text = "resize",
      .doc = "A mask whose size differs from the image's: resize (bilinear, with "
             "a warning) or fail.",
      FIELD(refine.mask_mismatch) },
    { .section = "refine", .name = "output", .type = JOB_KEY_ENUM,
      .names = refine_outputs, .nnames = COUNT(refine_outputs), .default_text = "cutout",
      .doc = "cutout: RGBA with the estimated foreground; alpha: the alpha matte "
             "(8- or 16-bit gray, see [output] bit_depth).",
      FIELD(refine.output) },
    /* [resize] */
    { .section = "resize", .name = "enabled", .type = JOB_KEY_BOOL,
      .default_text = "false",
      .doc = "Resize each image; needs width, height or max_side.",
      FIELD(resize.enabled) },
    { .section = "resize", .name = "width", .type = JOB_KEY_INT,
      .min = 0, .max = 65536, .default_text = "0",
      .doc = "Output width; 0: from height, keeping the aspect ratio.",
      FIELD(resize.width) },
    { .section = "resize", .name = "height", .type = JOB_KEY_INT,
      .min = 0, .max = 65536, .default_text = "0",
      .doc = "Output height; 0: from width, keeping the aspect ratio.",
      FIELD(resize.height) },
    { .section = "resize", .name = "max_side", .type = JOB_KEY_INT,
      .min = 0, .max = 65536, .default_text = "0",
      .doc = "Shrink so that the longest side is at most this; 0: off.",
      FIELD(resize.max_side) },
    { .section = "resize", .name = "filter", .type = JOB_KEY_ENUM,
      .names = resize_filters, .nnames = COUNT(resize_filters),
      .default_text = "lanczos3",
      .doc = "Resampling filter; area and lanczos3 antialias when shrinking.",
      FIELD(resize.filter) },
    /* [composite] */
    { .section = "composite", .name = "enabled", .type = JOB_KEY_BOOL,
      .default_text = "false",
      .doc = "Composite the result over `colour` or `image`.",
      FIELD(composite.enabled) },
    { .section = "composite", .name = "colour", .type = JOB_KEY_COLOUR,
      .default_text = "#ffffff",
      .doc = "Background colour, quoted (\"#rrggbb\"): '#' starts a comment.",
      FIELD(composite.colour) },
    { .section = "composite", .name = "image", .type = JOB_KEY_PATH,
      .default_text = "",
      .doc = "Background image (PNG or JPEG), resized to each image; empty: use colour.",
      FIELD(composite.image) },
    { .section = "composite", .name = "premultiplied", .type = JOB_KEY_BOOL,
      .default_text = "false",
      .doc = "Whether the input's colour is already multiplied by alpha.",
      FIELD(composite.premultiplied) },
    /* [splat] */
    { .section = "splat", .name = "enabled", .type = JOB_KEY_BOOL,
      .default_text = "false",
      .doc = "Render views of the input scenes (then [job] inputs lists .ply/.splat files).",
      FIELD(splat.enabled) },
    { .section = "splat", .name = "cameras", .type = JOB_KEY_PATH,
      .default_text = "",
      .doc = "Camera source for every scene: cameras.json, transforms*.json, a COLMAP "
             "model directory, or a directory holding one of them.",
      FIELD(splat.cameras) },
    { .section = "splat", .name = "scene_cameras", .type = JOB_KEY_STRING,
      .default_text = "",
      .doc = "Camera source relative to each scene's directory, e.g. ../../cameras.json "
             "for the trainer's point_cloud/iteration_N/point_cloud.ply.",
      FIELD(splat.scene_cameras) },
    { .section = "splat", .name = "views", .type = JOB_KEY_STRING,
      .default_text = "",
      .doc = "Views to render, as indices (\"0,4,8\"); empty: every view.",
      FIELD(splat.views) },
    { .section = "splat", .name = "orbit_frames", .type = JOB_KEY_INT,
      .min = 0, .max = 100000, .default_text = "0",
      .doc = "Render a turntable of this many frames instead of a camera file; 0: off.",
      FIELD(splat.orbit_frames) },
    { .section = "splat", .name = "orbit_radius", .type = JOB_KEY_FLOAT,
      .fmin = 0.0, .fmax = 1e9, .default_text = "0",
      .doc = "Orbit radius; 0: far enough for the scene's box to fit the view.",
      FIELD(splat.orbit_radius) },
    { .section = "splat", .name = "orbit_elevation", .type = JOB_KEY_FLOAT,
      .fmin = -89.0, .fmax = 89.0, .default_text = "20",
      .doc = "Orbit elevation above the plane normal to orbit_up, in degrees.",
      FIELD(splat.orbit_elevation) },
    { .section = "splat", .name = "orbit_fov", .type = JOB_KEY_FLOAT,
      .fmin = 1.0, .fmax = 179.0, .default_text = "60",
      .doc = "Orbit horizontal field of view, in degrees.",
      FIELD(splat.orbit_fov) },
    { .section = "splat", .name = "orbit_centre", .type = JOB_KEY_FLOAT3,
      .fmin = -1e9, .fmax = 1e9, .default_text = "",
      .doc = "Point the orbit turns around (\"x,y,z\"); empty: the mean of the Gaussians.",
      FIELD(splat.orbit_centre) },
    { .section = "splat", .name = "orbit_up", .type = JOB_KEY_FLOAT3,
      .fmin = -1e9, .fmax = 1e9, .default_text = "",
      .doc = "World up direction of the orbit; empty: 0,-1,0 (COLMAP scenes' y points down).",
      FIELD(splat.orbit_up) },
    { .section = "splat", .name = "width", .type = JOB_KEY_INT,
      .min = 1, .max = 16384, .default_text = "640",
      .doc = "Orbit image width.",
      FIELD(splat.width) },
    { .section = "splat", .name = "height", .type = JOB_KEY_INT,
      .min = 1, .max = 16384, .default_text = "480",
      .doc = "Orbit image height.",
      FIELD(splat.height) },
    { .section = "splat", .name = "mode", .type = JOB_KEY_ENUM,
      .names = splat_modes, .nnames = COUNT(splat_modes), .default_text = "inria",
      .doc = "Rasterizer semantics: inria (the reference rasterizer: 3-sigma radius, alpha "
             "clamp 0.99, stop when T < 1e-4) or gsplat (gsplat 1.5.3 classic: "
             "opacity-aware box, 0.999, T <= 1e-4).",
      FIELD(splat.mode) },
    { .section = "splat", .name = "antialiased", .type = JOB_KEY_BOOL,
      .default_text = "false",
      .doc = "Scale opacity by sqrt(det(S) / det(S + 0.3 I)) (the antialiased mode).",
      FIELD(splat.antialiased) },
    { .section = "splat", .name = "background", .type = JOB_KEY_FLOAT3,
      .fmin = 0.0, .fmax = 1.0, .default_text = "",
      .doc = "Background colour \"r,g,b\" in 0..1 under the rgb output; empty: black.",
      FIELD(splat.background) },
    { .section = "splat", .name = "output", .type = JOB_KEY_ENUM,
      .names = splat_outputs, .nnames = COUNT(splat_outputs), .default_text = "rgb",
      .doc = "rgb (over the background), rgba (straight alpha = 1 - T), alpha, or depth "
             "(expected depth times depth_scale as 16-bit samples; needs bit_depth 16).",
      FIELD(splat.output) },
    { .section = "splat", .name = "depth_scale", .type = JOB_KEY_FLOAT,
      .fmin = 1e-6, .fmax = 1e9, .default_text = "1000",
      .doc = "Depth output: the 16-bit sample per unit of camera depth (1000: millimetres "
             "for metres); 0 where nothing was drawn.",
      FIELD(splat.depth_scale) },
    { .section = "splat", .name = "max_gaussians", .type = JOB_KEY_SIZE,
      .min = 1, .max = 1024 * MIB, .default_text = "64M",
      .doc = "Largest scene accepted, in Gaussians.",
      FIELD(splat.max_gaussians) },
    { .section = "splat", .name = "nonfinite", .type = JOB_KEY_ENUM,
      .names = splat_nonfinite, .nnames = COUNT(splat_nonfinite), .default_text = "refuse",
      .doc = "Gaussians holding NaN or Inf: refuse the scene (naming the count) or drop them.",
      FIELD(splat.nonfinite) },
    { .section = "splat", .name = "sh_precision", .type = JOB_KEY_ENUM,
      .names = splat_precisions, .nnames = COUNT(splat_precisions), .default_text = "fp32",
      .doc = "Storage of the SH coefficients on the device: fp32 (236 bytes a Gaussian at "
             "degree 3) or fp16 (140).",
      FIELD(splat.sh_precision) },
    { .section = "splat", .name = "max_instances", .type = JOB_KEY_SIZE,
      .min = 1024, .max = 4 * GIB - 2, .default_text = "32M",
      .doc = "Tile instances held at once (24 bytes each); a view over it renders in "
             "bands of tile rows.",
      FIELD(splat.max_instances) },
    /* [train] */
    { .section = "train", .name = "enabled", .type = JOB_KEY_BOOL,
      .default_text = "false",
      .doc = "Train the datasets of [job] inputs (a directory of dataset directories, a "
             "dataset, a glob or a list), one output directory each in output_dir.",
      FIELD(train.enabled) },
    { .section = "train", .name = "iterations", .type = JOB_KEY_INT,
      .min = 1, .max = 10000000, .default_text = "30000",
      .doc = "Training iterations (one view each).",
      FIELD(train.iterations) },
    { .section = "train", .name = "save_iterations", .type = JOB_KEY_STRING,
      .default_text = "7000,30000",
      .doc = "Iterations after which point_cloud/iteration_N/point_cloud.ply is written "
             "(the last iteration always is).",
      FIELD(train.save_iterations) },
    { .section = "train", .name = "test_iterations", .type = JOB_KEY_STRING,
      .default_text = "7000,30000",
      .doc = "Iterations after which the test views are rendered and scored (PSNR, SSIM).",
      FIELD(train.test_iterations) },
    { .section = "train", .name = "checkpoint_iterations", .type = JOB_KEY_STRING,
      .default_text = "",
      .doc = "Iterations after which a checkpoint (parameters and optimizer state) is "
             "written to the output's checkpoint.kck, for --resume.",
      FIELD(train.checkpoint_iterations) },
    { .section = "train", .name = "sh_degree", .type = JOB_KEY_INT,
      .min = 0, .max = 3, .default_text = "3",
      .doc = "Largest SH degree (raised from 0 every sh_interval iterations).",
      FIELD(train.sh_degree) },
    { .section = "train", .name = "background", .type = JOB_KEY_FLOAT3,
      .fmin = 0.0, .fmax = 1.0, .default_text = "",
      .doc = "Background colour \"r,g,b\" behind the Gaussians (and under transparent "
             "pixels with alpha = background); empty: black.",
      FIELD(train.background) },
    { .section = "train", .name = "seed", .type = JOB_KEY_INT,
      .min = 0, .max = UINT64_MAX, .default_text = "0",
      .doc = "Seed of the view order, the random initial points and densification.",
      FIELD(train.seed) },
    { .section = "train", .name = "test_every", .type = JOB_KEY_INT,
      .min = 0, .max = 1000000, .default_text = "8",
      .doc = "Every Nth view (sorted by name) is a test view when the dataset has no test "
             "split; 0: none.",
      FIELD(train.test_every) },
    { .section = "train", .name = "downscale", .type = JOB_KEY_INT,
      .min = 1, .max = 8, .allowed = train_downscales, .nallowed = COUNT(train_downscales),
      .default_text = "1",
      .doc = "Image scale: 1, or 2, 4, 8 from the images_N folders.",
      FIELD(train.downscale) },
    { .section = "train", .name = "image_cache", .type = JOB_KEY_SIZE,
      .min = 0, .max = 64 * GIB, .default_text = "256M",
      .doc = "Bytes of decoded training images kept on the host (the rest are read again "
             "when their view comes round).",
      FIELD(train.image_cache) },
    { .section = "train", .name = "alpha", .type = JOB_KEY_ENUM,
      .names = train_alpha, .nnames = COUNT(train_alpha), .default_text = "background",
      .doc = "RGBA images: background (composite over the background colour) or ignore "
             "(transparent pixels do not count in the loss).",
      FIELD(train.alpha) },
    { .section = "train", .name = "masks", .type = JOB_KEY_PATH,
      .default_text = "",
      .doc = "Directory of per-image masks (<image stem><mask_suffix>.png, gray: 0 = not "
             "the subject), e.g. a [segment] job's mask output; used as the alpha policy "
             "says (background: the rest is the background colour; ignore: the rest does "
             "not count).  Empty: none (an image's own alpha channel is used).",
      FIELD(train.masks) },
    { .section = "train", .name = "mask_suffix", .type = JOB_KEY_STRING,
      .default_text = "",
      .doc = "Appended to the image's stem to name its mask file.",
      FIELD(train.mask_suffix) },
    { .section = "train", .name = "mode", .type = JOB_KEY_ENUM,
      .names = splat_modes, .nnames = COUNT(splat_modes), .default_text = "inria",
      .doc = "Rasterizer semantics while training (as [splat] mode).",
      FIELD(train.mode) },
    { .section = "train", .name = "lambda_dssim", .type = JOB_KEY_FLOAT,
      .fmin = 0.0, .fmax = 1.0, .default_text = "0.2",
      .doc = "Loss = (1 - lambda) L1 + lambda (1 - SSIM).",
      FIELD(train.lambda_dssim) },
    { .section = "train", .name = "max_gaussians", .type = JOB_KEY_SIZE,
      .min = 1, .max = 1024 * MIB, .default_text = "16M",
      .doc = "Hard cap on the Gaussian count; densification respects it.",
      FIELD(train.max_gaussians) },
    { .section = "train", .name = "densify", .type = JOB_KEY_BOOL,
      .default_text = "true",
      .doc = "Clone, split and prune (the reference's adaptive density control).",
      FIELD(train.densify) },
    { .section = "train", .name = "densify_from", .type = JOB_KEY_INT,
      .min = 0, .max = 10000000, .default_text = "500",
      .doc = "First iteration of densification.",
      FIELD(train.densify_from) },
    { .section = "train", .name = "densify_until", .type = JOB_KEY_INT,
      .min = 0, .max = 10000000, .default_text = "15000",
      .doc = "Densification and opacity resets stop here.",
      FIELD(train.densify_until) },
    { .section = "train", .name = "densify_interval", .type = JOB_KEY_INT,
      .min = 1, .max = 10000000, .default_text = "100",
      .doc = "Iterations between densifications.",
      FIELD(train.densify_interval) },
    { .section = "train", .name = "densify_grad_threshold", .type = JOB_KEY_FLOAT,
      .fmin = 0.0, .fmax = 1.0, .default_text = "0.0002",
      .doc = "Mean view-space positional gradient (NDC) that clones or splits a Gaussian.",
      FIELD(train.densify_grad_threshold) },
    { .section = "train", .name = "percent_dense", .type = JOB_KEY_FLOAT,
      .fmin = 0.0, .fmax = 1.0, .default_text = "0.01",
      .doc = "Scale (times the scene extent) above which a Gaussian splits instead of cloning.",
      FIELD(train.percent_dense) },
    { .section = "train", .name = "opacity_reset_interval", .type = JOB_KEY_INT,
      .min = 0, .max = 10000000, .default_text = "3000",
      .doc = "Iterations between opacity resets (to at most 0.01); 0: never.",
      FIELD(train.opacity_reset_interval) },
    { .section = "train", .name = "sh_interval", .type = JOB_KEY_INT,
      .min = 1, .max = 10000000, .default_text = "1000",
      .doc = "Iterations between raises of the active SH degree.",
      FIELD(train.sh_interval) },
    { .section = "train", .name = "random_points", .type = JOB_KEY_INT,
      .min = 1, .max = 100000000, .default_text = "100000",
      .doc = "Initial points drawn at random when a dataset has no point cloud.",
      FIELD(train.random_points) },
    { .section = "train", .name = "deterministic", .type = JOB_KEY_BOOL,
      .default_text = "false",
      .doc = "Sum gradients in a fixed order (per tile, then per Gaussian) instead of with "
             "atomic additions: the same run gives the same bits on one device; slower.",
      FIELD(train.deterministic) },
    /* [output] */
    { .section = "output", .name = "bit_depth", .type = JOB_KEY_INT,
      .min = 8, .max = 16, .allowed = bit_depths, .nallowed = COUNT(bit_depths),
      .default_text = "8",
      .doc = "Bits per channel of the PNGs written: 8 or 16.",
      FIELD(output.bit_depth) },
    { .section = "output", .name = "suffix", .type = JOB_KEY_STRING,
      .default_text = "",
      .doc = "Appended to the input's stem to name the output (no '/').",
      FIELD(output.suffix) },
    { .section = "output", .name = "skip_existing", .type = JOB_KEY_BOOL,
      .default_text = "true",
      .doc = "Skip inputs whose output exists (outputs are renamed into "
             "place when complete, so an existing one is whole).",
      FIELD(output.skip_existing) },
    /* [serve] */
    { .section = "serve", .name = "host", .type = JOB_KEY_STRING,
      .default_text = "127.0.0.1",
      .doc = "Address to listen on (an IPv4 or IPv6 address; 0.0.0.0: every interface); "
             "--host overrides it.",
      FIELD(serve.host) },
    { .section = "serve", .name = "port", .type = JOB_KEY_INT,
      .min = 0, .max = 65535, .default_text = "7000",
      .doc = "TCP port; 0: any free port (the startup line names it); --port overrides it.",
      FIELD(serve.port) },
    { .section = "serve", .name = "queue", .type = JOB_KEY_INT,
      .min = 1, .max = 100000, .default_text = "16",
      .doc = "Requests waiting for a device, at most; one more is answered 503 with "
             "Retry-After.",
      FIELD(serve.queue) },
    { .section = "serve", .name = "max_body", .type = JOB_KEY_SIZE,
      .min = 1, .max = 16 * GIB, .default_text = "64M",
      .doc = "Largest request body in bytes; a larger one is answered 413.",
      FIELD(serve.max_body) },
    { .section = "serve", .name = "timeout", .type = JOB_KEY_INT,
      .min = 1, .max = 86400, .default_text = "60",
      .doc = "Seconds a request may wait in the queue (then it is answered 504), and "
              "seconds a client has to send a request whole, from its connection or its "
              "previous answer (then the connection is cut, logged 408; this bounds slow "
              "senders).",
      FIELD(serve.timeout) },
    { .section = "serve", .name = "grace", .type = JOB_KEY_INT,
      .min = 0, .max = 3600, .default_text = "30",
      .doc = "On SIGTERM or SIGINT: seconds to finish queued requests before the rest "
             "are answered 503.",
      FIELD(serve.grace) },
    { .section = "serve", .name = "access_log", .type = JOB_KEY_STRING,
      .default_text = "",
      .doc = "Access log, one JSON line a request: a file (appended; relative: from the "
             "current directory), - for standard error; empty: none.",
      FIELD(serve.access_log) },
};

const size_t job_key_count = COUNT(job_keys);
