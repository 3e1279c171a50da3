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

function die(msg) {
    process.stderr.write('ort_cold.js: ' + msg + '\n');
    process.exit(2);
}

const args = process.argv.slice(2);
if (args.length !== 3)
    die('usage: node ort_cold.js MODEL.onnx 1x3x320x320 THREADS');
const [modelPath, shapeArg, threadsArg] = args;
if (!/^[0-9]+(x[0-9]+)*$/.test(shapeArg))
    die(`bad shape '${shapeArg}' (want e.g. 1x3x320x320)`);
const shape = shapeArg.split('x').map(Number);
const threads = Number(threadsArg);
if (!Number.isInteger(threads) || threads < 1) die(`bad THREADS '${threadsArg}'`);

function ms(t0) {
    return Number(process.hrtime.bigint() - t0) / 1e6;
}

// The same pseudo-random input as ort_run.js (mulberry32, [-1, 1)).
function makeInput(n) {
    const data = new Float32Array(n);
    let s = 0x6b696c6e; // "kiln"
    for (let i = 0; i < n; i++) {
        s = (s + 0x6d2b79f5) | 0;
        let t = Math.imul(s ^ (s >>> 15), 1 | s);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        data[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
    }
    return data;
}

async function main() {
    let t0 = process.hrtime.bigint();
    let ort;
    try {
        ort = require('onnxruntime-node');
    } catch (e) {
        die('cannot load onnxruntime-node (set NODE_PATH to the node_modules it was ' +
            'installed into): ' + e.message);
    }
    const requireMs = ms(t0);
    const options = {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
    };
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
