// onnxruntime's side of tests/bench/cold_bench.sh: one cold start in a
// fresh process: loads onnxruntime-node, creates the session (CPU
// execution provider) and runs the model once on a deterministic input.
// Usage: node ort_cold.js MODEL.onnx 1x3x320x320 THREADS
// Prints one line:
//   ort_cold require_ms=R load_ms=L first_ms=F
// require_ms: loading the onnxruntime-node module; load_ms: session
// creation; first_ms: the first run, every output fetched.  The caller
// times the whole process (Node's own start included) from outside.
// onnxruntime-node is resolved by require(): run with NODE_PATH pointing
// at the node_modules it was installed into.
'use strict';

const { makeDie, parseShape, parseCount, loadOrt, sessionOptions, ms, makeInput } =
    require('./ort_common.js');

const die = makeDie('ort_cold.js');
const args = process.argv.slice(2);
if (args.length !== 3)
    die('usage: node ort_cold.js MODEL.onnx 1x3x320x320 THREADS');
const [modelPath, shapeArg, threadsArg] = args;
const shape = parseShape(shapeArg, die);
const threads = parseCount(threadsArg, 'THREADS', die);

async function main() {
    let t0 = process.hrtime.bigint();
    const ort = loadOrt(die);
    const requireMs = ms(t0);
    const options = sessionOptions(threads);
    let session;
    t0 = process.hrtime.bigint();
    try {
        session = await ort.InferenceSession.create(modelPath, options);
    } catch (e) {
        die(`cannot load ${modelPath}: ${e.message}`);
    }
    const loadMs = ms(t0);
    const n = shape.reduce((a, b) => a * b, 1);
    const feeds = {};
    feeds[session.inputNames[0]] = new ort.Tensor('float32', makeInput(n), shape);
    t0 = process.hrtime.bigint();
    await session.run(feeds);
    const firstMs = ms(t0);
    process.stdout.write(`ort_cold require_ms=${requireMs.toFixed(1)} load_ms=${loadMs.toFixed(1)} ` +
                         `first_ms=${firstMs.toFixed(1)}\n`);
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
