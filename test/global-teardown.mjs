import { rm } from 'node:fs/promises';

export default async function globalTeardown() {
  if (process.env.QG_TEST_PGLITE_TEMPLATE) await rm(process.env.QG_TEST_PGLITE_TEMPLATE, { force: true });
}
