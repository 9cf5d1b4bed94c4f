/** Dependency direction (STYLE.md): apps -> libs, never back; pure libs stay framework-free. */
module.exports = {
  forbidden: [
    { name: 'libs-not-to-apps', severity: 'error', from: { path: '^libs/' }, to: { path: '^apps/' } },
    {
      name: 'pure-libs-no-framework',
      comment: 'crypto, policy, audit and custodian import no Nest, no TypeORM, no pg',
      severity: 'error',
      from: { path: '^libs/(crypto|policy|audit|custodian)/' },
      to: { path: 'node_modules/(@nestjs|typeorm|pg|pg-boss|@electric-sql)/' },
    },
    {
      name: 'custodian-runs-in-browsers',
      comment: 'the custodian library is shared with the web UI: no node: built-ins, no server-side crypto lib',
      severity: 'error',
      from: { path: '^libs/custodian/', pathNot: '\\.spec\\.ts$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'custodian-not-to-crypto',
      severity: 'error',
      from: { path: '^libs/custodian/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^libs/crypto/' },
    },
    {
      name: 'libs-through-index',
      comment: 'a lib is imported by others only through its index.ts',
      severity: 'error',
      from: { path: '^(apps|test|bench)/' },
      to: { path: '^libs/[^/]+/(?!index\\.ts$)' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true, pathNot: '^apps/gateway/src/.*\\.(entity|dto)\\.ts$' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['types', 'import', 'default'], extensions: ['.ts', '.js'] },
  },
};
