// `eval prompts`: the prompts an eval would send, for inspection or for generating with another tool
// (a local checkpoint via `sample`, a batch API) and grading afterwards with `mathpipe grade`.
import { withWriter } from '../jsonl/index.js';
import { PromptBuilder } from './prompts.js';
import { loadItems, promptFileFor, type ItemOptions } from './run.js';


export async function writePrompts(o: ItemOptions): Promise<void> {
  const { bench, items: all } = await loadItems(o);
  const items = o.limit !== undefined ? all.slice(0, o.limit) : all;
  const pf = await promptFileFor(o, bench);
  const builder = new PromptBuilder({ style: o.style, bench, promptFile: pf.file, drawn: pf.drawn, chatTemplate: o.chatTemplate, system: o.system });
  await withWriter(o.output, async (out) => {
    for (const it of items) {
      const p = builder.build(it);
      await out.writeJson({ id: it.id, bench: bench.name, prompt: p.prompt, stop: p.stop, extract: p.extract, gold: it.gold, ...(it.subject !== undefined ? { subject: it.subject } : {}), ...(it.level !== undefined ? { level: it.level } : {}) });
    }
  });
}
