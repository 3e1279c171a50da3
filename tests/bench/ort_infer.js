// onnxruntime's network for tests/bench/segment_jpeg_parity.sh: runs one
// model on onnxruntime-node's CPU execution provider over raw float32
// input files and writes each run's first output as raw float32.
// Usage: node ort_infer.js MODEL.onnx 1x3x320x320 THREADS IN.f32 OUT.f32 [IN OUT]...
// Files are little-endian float32, C order, no header; an input must hold
// exactly the shape's element count.  Prints one line per pair:
//   IN -> OUT dims=1x1x320x320
// onnxruntime-node is resolved by require(): run with NODE_PATH pointing
// at the node_modules it was installed into.
'use strict';

const fs = require('fs');

const { makeDie, parseShape, parseCount, loadOrt, sessionOptions } = require('./ort_common.js');

const die = makeDie('ort_infer.js');
const args = process.argv.slice(2);
if (args.length < 5 || (args.length - 3) % 2 !== 0)
    die('usage: node ort_infer.js MODEL.onnx 1x3x320x320 THREADS IN.f32 OUT.f32 [IN OUT]...');
const [modelPath, shapeArg, threadsArg] = args;
const shape = parseShape(shapeArg, die);
const threads = parseCount(threadsArg, 'THREADS', die);
const ort = loadOrt(die);

function readF32(path, n) {
    const buf = fs.readFileSync(path);
    if (buf.length !== n * 4)
        die(`${path}: ${buf.length} bytes, want ${n * 4} (${n} float32)`);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(i * 4);
    return data;
}

function writeF32(path, data) {
    const buf = Buffer.alloc(data.length * 4);
    for (let i = 0; i < data.length; i++) buf.writeFloatLE(data[i], i * 4);
    fs.writeFileSync(path, buf);
}

async function main() {
    const options = sessionOptions(threads);
    let session;
    try {
        session = await ort.InferenceSession.create(modelPath, options);
    } catch (e) {
        die(`cannot load ${modelPath}: ${e.message}`);
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const first = session.outputNames[0];
    for (let i = 3; i < args.length; i += 2) {
        const feeds = {};
        feeds[session.inputNames[0]] = new ort.Tensor('float32', readF32(args[i], n), shape);
        const out = (await session.run(feeds, [first]))[first];
        if (out.type !== 'float32') die(`output ${first} is ${out.type}, not float32`);
        writeF32(args[i + 1], out.data);
        process.stdout.write(`${args[i]} -> ${args[i + 1]} dims=${out.dims.join('x')}\n`);
    }
    if (typeof session.release === 'function') await session.release();
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
