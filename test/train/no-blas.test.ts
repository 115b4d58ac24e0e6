// The native kernels without OpenBLAS (MATHPIPE_BLAS=none, as on a machine without it): products stay on
// XNNPACK, everything else native; the kernel and whole-model checks must still pass.
process.env.MATHPIPE_BLAS = 'none';
await import('./kernels.test.js');
await import('./model-backends.test.js');
