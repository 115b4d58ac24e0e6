// The examples of `mathpipe serve --help` (and its subcommands), run on fixtures: see examples.ts.
import t from 'tap';
import { runGroup } from './examples.js';

await runGroup(t, 'serve');
