// onnxruntime's side of tests/bench/segment_bench.sh: times one model on
// onnxruntime-node's CPU execution provider with a deterministic input.
// Usage: node ort_run.js MODEL.onnx 1x3x320x320 REPEAT THREADS
// Prints one line:
//   ort median_ms=X min_ms=Y first_ms=Z rss_peak_mib=W
// first_ms is the warm-up run (the session's first inference); median and
// min are over the REPEAT timed runs after it.  rss_peak_mib is the
// process's peak resident set (process.resourceUsage().maxRSS, KiB), so
// it includes Node itself (about 40-50 MiB).  Every model output is
// fetched.  onnxruntime-node is resolved by require(): run with NODE_PATH
// pointing at the node_modules it was installed into.
'use strict';

const { makeDie, parseShape, parseCount, loadOrt, sessionOptions, ms, makeInput } =
    require('./ort_common.js');

const die = makeDie('ort_run.js');
const args = process.argv.slice(2);
if (args.length !== 4)
    die('usage: node ort_run.js MODEL.onnx 1x3x320x320 REPEAT THREADS');
const [modelPath, shapeArg, repeatArg, threadsArg] = args;
const shape = parseShape(shapeArg, die);
const repeat = parseCount(repeatArg, 'REPEAT', die);
const threads = parseCount(threadsArg, 'THREADS', die);
const ort = loadOrt(die);

async function main() {
    const options = sessionOptions(threads);
    let session;
    try {
        session = await ort.InferenceSession.create(modelPath, options);
    } catch (e) {
        die(`cannot load ${modelPath}: ${e.message}`);
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const feeds = {};
    feeds[session.inputNames[0]] = new ort.Tensor('float32', makeInput(n), shape);

    let t0 = process.hrtime.bigint();
    await session.run(feeds);
    const first = ms(t0);
    const times = [];
    for (let i = 0; i < repeat; i++) {
        t0 = process.hrtime.bigint();
        await session.run(feeds);
        times.push(ms(t0));
    }
    times.sort((a, b) => a - b);
    const mid = times.length >> 1;
    const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
    const rss = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(`ort median_ms=${median.toFixed(1)} min_ms=${times[0].toFixed(1)} ` +
                         `first_ms=${first.toFixed(1)} rss_peak_mib=${rss.toFixed(1)}\n`);
    if (typeof session.release === 'function') await session.release();
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
