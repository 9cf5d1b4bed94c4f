import { prepared } from './prepared.js';

describe('prepared', () => {
  it('refuses one name for two texts: node-postgres would refuse it on the first connection that ran both', () => {
    const first = prepared('qg_spec_statement', 'SELECT 1');
    expect(prepared('qg_spec_statement', 'SELECT 1')).toEqual(first);
    expect(() => prepared('qg_spec_statement', 'SELECT 2')).toThrow(/declared twice/);
  });
});
