// The pure-npm path: with MATHPIPE_NATIVE=0 the same kernel and whole-model checks must pass on tfjs's own
// kernels (this is what an install without a C++ compiler runs).
process.env.MATHPIPE_NATIVE = '0';
await import('./kernels.test.js');
await import('./model-backends.test.js');
