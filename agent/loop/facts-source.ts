// The real FactsSource of a node: agent/facts collects, agent/facts diffs.
import { collectFacts, diffFacts, mergeFacts } from '../facts/index.ts';
import type { FactsSource } from './agent.ts';

export function nodeFactsSource(): FactsSource {
  return {
    collect: () => collectFacts(),
    diff: (prev, next) => diffFacts(prev, next),
    merge: (base, update) => mergeFacts(base, update),
  };
}
