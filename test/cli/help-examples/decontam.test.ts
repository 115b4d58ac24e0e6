// The examples of `mathpipe decontam --help` (and its subcommands), run on fixtures: see examples.ts.
import t from 'tap';
import { runGroup } from './examples.js';

await runGroup(t, 'decontam');
