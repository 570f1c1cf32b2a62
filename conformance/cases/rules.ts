import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../harness/paths';
import { RuleId } from './types';

/** One numbered rule of docs/protocol.md. */
export interface Rule {
  id: RuleId;
  title: string;
  /** MUST or SHOULD, as its Rule paragraph says */
  level: 'MUST' | 'SHOULD';
  /** the case ids its "Checked by" line names */
  checkedBy: string[];
  /** the heading's anchor on a rendered page (GitHub's slug of the heading) */
  anchor: string;
}

export const PROTOCOL_DOC = join('docs', 'protocol.md');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
export function headingAnchor(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

/** Parses the rules of the protocol document: `### R<section>.<n> <title>` and its three paragraphs. */
export function parseRules(text: string): Rule[] {
  const rules: Rule[] = [];
  const sections = text.split(/^### /m).slice(1);
  for (const section of sections) {
    const heading = section.split('\n', 1)[0].trim();
    const m = /^(R\d+\.\d+) (.+)$/.exec(heading);
    if (!m) continue;
    const body = section.slice(heading.length);
    const rule = /\*\*Rule\.\*\* (.*)/.exec(body)?.[1] ?? '';
    const checked = /\*\*Checked by:\*\* (.*)/.exec(body)?.[1] ?? '';
    rules.push({
      id: m[1] as RuleId,
      title: m[2],
      level: /\bMUST\b/.test(rule) ? 'MUST' : 'SHOULD',
      checkedBy: [...checked.matchAll(/`([a-z0-9.-]+)`/g)].map((x) => x[1]),
      anchor: headingAnchor(heading),
    });
  }
  return rules;
}

/** The rules of the protocol document shipped with the kit. */
export function protocolRules(): Rule[] {
  return parseRules(readFileSync(join(packageRoot(), PROTOCOL_DOC), 'utf8'));
}
