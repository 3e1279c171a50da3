// What the onnxruntime-node sides of the benchmarks share (ort_run.js,
// ort_cold.js, ort_infer.js): argument checks, the session options, the
// module load and the deterministic input.  Loaded with
// require('./ort_common.js') from a script beside it.
'use strict';

// A function that prints "NAME: MSG" to stderr and exits with status 2.
function makeDie(name) {
    return (msg) => {
        process.stderr.write(name + ': ' + msg + '\n');
        process.exit(2);
    };
}

// The dims of "1x3x320x320", or die() naming the argument.
function parseShape(arg, die) {
    if (!/^[0-9]+(x[0-9]+)*$/.test(arg))
        die(`bad shape '${arg}' (want e.g. 1x3x320x320)`);
    return arg.split('x').map(Number);
}

// A positive integer argument, or die() naming it.
function parseCount(arg, what, die) {
    const n = Number(arg);
    if (!Number.isInteger(n) || n < 1) die(`bad ${what} '${arg}'`);
    return n;
}

// onnxruntime-node, resolved through NODE_PATH, or die() saying so.
function loadOrt(die) {
    try {
        return require('onnxruntime-node');
    } catch (e) {
        die('cannot load onnxruntime-node (set NODE_PATH to the node_modules it was ' +
            'installed into): ' + e.message);
    }
    return null;
}

// The session options every side uses: CPU, `threads` intra-op threads,
// sequential, every graph optimization.
function sessionOptions(threads) {
    return {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
    };
}

// Milliseconds since t0 (a process.hrtime.bigint()).
function ms(t0) {
    return Number(process.hrtime.bigint() - t0) / 1e6;
}

// Deterministic pseudo-random input: mulberry32 from a fixed seed,
// uniform in [-1, 1) (roughly the range of a normalized image).
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

module.exports = { makeDie, parseShape, parseCount, loadOrt, sessionOptions, ms, makeInput };
