import { allCases } from '../cases';
import { ConformanceCase } from '../cases/types';
import { MODEL_TRAITS, MODELS, ModelName } from '../harness/models';
import { modelsOf } from '../cases/applies-to';
import { protocolRules } from '../cases/rules';
import { casesMarkdown } from '../reports/cases-markdown';
import { HELP_FLAG, helpAsked, parseFlags } from '../flags';

export const LIST_HELP = `Usage: server-models list [models|cases] [--json | --markdown]

Lists the models the kit knows and the cases it runs: stable id, level (MUST fails a run, SHOULD
fails it only with --strict, INFO reports a measurement), the models it applies to, and what it checks.
--markdown prints the case reference (docs/cases.md): per case its rules, what it does, what it
expects, why it matters and the common causes of a failure.`;

function modelsColumn(c: ConformanceCase): string {
  const models = modelsOf(c);
  return models.length === MODELS.length ? 'all' : models.join(', ');
}

/** `server-models list`: returns the exit code. */
export async function listCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { json: { type: 'boolean' }, markdown: { type: 'boolean' }, ...HELP_FLAG }, true);
  if (helpAsked(values, LIST_HELP)) return 0;
  const what = positionals[0] ?? 'all';
  if (!['all', 'models', 'cases'].includes(what) || positionals.length > 1) {
    process.stderr.write(`server-models: list takes "models" or "cases", got "${positionals.join(' ')}"\n`);
    return 2;
  }
  if (values.json && values.markdown) {
    process.stderr.write('server-models: list takes --json or --markdown, not both\n');
    return 2;
  }
  if (values.markdown) {
    process.stdout.write(casesMarkdown(allCases, protocolRules()));
    return 0;
  }
  if (values.json) {
    const models = MODELS.map((name) => ({ name, description: MODEL_TRAITS[name].description }));
    const cases = allCases.map((c) => ({
      id: c.id, level: c.level, title: c.title, models: modelsOf(c), requirement: c.requirement, tags: c.tags,
      description: c.description, expectation: c.expectation, why: c.why, commonCauses: c.commonCauses,
    }));
    process.stdout.write(`${JSON.stringify(what === 'models' ? { models } : what === 'cases' ? { cases } : { models, cases }, null, 2)}\n`);
    return 0;
  }
  const out: string[] = [];
  if (what !== 'cases') {
    out.push('Models', ...MODELS.map((m) => `  ${m.padEnd(24)}${MODEL_TRAITS[m].description}`), '');
  }
  if (what !== 'models') {
    out.push(`Cases (${allCases.length})`);
    for (const c of allCases) {
      out.push(`  ${c.id.padEnd(40)}${c.level.padEnd(8)}${c.title}`);
      const models = modelsColumn(c);
      if (models !== 'all') out.push(`  ${''.padEnd(48)}only: ${models}`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
