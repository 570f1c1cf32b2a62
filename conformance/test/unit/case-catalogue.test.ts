import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCases } from '../../cases';
import { appliesToModel, modelsOf } from '../../cases/applies-to';
import { headingAnchor, parseRules, protocolRules } from '../../cases/rules';
import { packageRoot } from '../../harness/paths';
import { casesMarkdown } from '../../reports/cases-markdown';

/** The cases as data: each declares what it checks, and the documents generated from them are current. */
describe('the case catalogue', () => {
  const rules = protocolRules();
  const ruleById = new Map(rules.map((r) => [r.id, r]));

  test('every case cites rules of docs/protocol.md of its own level, and every rule names the cases that cite it', () => {
    expect(rules.length).toBeGreaterThan(30);
    for (const c of allCases) {
      expect(c.requirement.length).toBeGreaterThan(0);
      for (const id of c.requirement) {
        const rule = ruleById.get(id);
        expect({ case: c.id, rule: id, found: rule !== undefined }).toEqual({ case: c.id, rule: id, found: true });
        expect({ case: c.id, rule: id, level: rule?.level }).toEqual({ case: c.id, rule: id, level: c.level });
        expect({ rule: id, checkedBy: rule?.checkedBy.includes(c.id) }).toEqual({ rule: id, checkedBy: true });
      }
    }
    const ids = new Set(allCases.map((c) => c.id));
    for (const rule of rules) {
      for (const id of rule.checkedBy) {
        expect({ rule: rule.id, names: id, exists: ids.has(id) }).toEqual({ rule: rule.id, names: id, exists: true });
        expect({ rule: rule.id, names: id, cited: allCases.find((c) => c.id === id)?.requirement.includes(rule.id) })
          .toEqual({ rule: rule.id, names: id, cited: true });
      }
    }
  });

  test('every case says what it does, expects and prevents, and where to look when it fails', () => {
    for (const c of allCases) {
      for (const text of [c.description, c.expectation, c.why]) expect(text.length).toBeGreaterThan(20);
      expect(c.commonCauses.length).toBeGreaterThanOrEqual(2);
      for (const cause of c.commonCauses) expect(cause.length).toBeGreaterThan(5);
    }
  });

  test('tags agree with what the runner does: an exclusive case is tagged so', () => {
    for (const c of allCases) {
      expect({ id: c.id, tagged: c.tags.includes('exclusive') }).toEqual({ id: c.id, tagged: c.exclusive !== undefined && c.exclusive !== false });
    }
  });

  test('appliesTo: bounded and unbounded follow the limit, a list names models', () => {
    expect(appliesToModel({ models: 'bounded' }, 'prefork')).toBe(true);
    expect(appliesToModel({ models: 'bounded' }, 'event-loop')).toBe(false);
    expect(appliesToModel({ models: 'unbounded' }, 'event-loop')).toBe(true);
    expect(appliesToModel({ models: 'unbounded' }, 'prefork', 'unbounded')).toBe(true); // a target's own limit wins
    const respawn = allCases.find((c) => c.id === 'lifecycle.worker-respawn');
    expect(respawn && modelsOf(respawn)).toEqual(['prefork', 'master-worker']);
  });

  test('rules parse from their headings; anchors are GitHub\'s', () => {
    const [rule] = parseRules('### R2.1 Exactly `ack`, nothing else\n\n**Rule.** The server MUST answer.\n\n**Why.** x\n\n**Checked by:** `protocol.ack.single`\n');
    expect(rule).toEqual({ id: 'R2.1', title: 'Exactly `ack`, nothing else', level: 'MUST', checkedBy: ['protocol.ack.single'], anchor: 'r21-exactly-ack-nothing-else' });
    expect(headingAnchor('R1.5 Messages of at least 1 KiB')).toBe('r15-messages-of-at-least-1-kib');
  });

  test('docs/cases.md is what `server-models list --markdown` prints (run `npm run docs:cases` after changing a case)', () => {
    const committed = readFileSync(join(packageRoot(), 'docs', 'cases.md'), 'utf8');
    expect(committed).toBe(casesMarkdown(allCases, rules));
  });
});
