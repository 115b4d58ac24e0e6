// yargs and its helpers, as one module: the build bundles this file (scripts/build.mjs), because loading yargs's
// ~35 ES modules one by one took ~100 ms of every command's start-up, twice what the bundle takes.
export { default as yargs } from 'yargs';
export { hideBin } from 'yargs/helpers';
