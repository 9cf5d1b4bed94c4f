import type { Page } from 'playwright-core';

/**
 * What a custodian does on a request page to approve: "Approve…", read the one-line
 * restatement of the operation, "Approve and sign". Every browser test approves through
 * this, so a change to the confirmation is made once. Answers the restatement.
 */
export async function approveInBrowser(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Approve…' }).click();
  const confirm = page.getByTestId('approve-confirm');
  const line = ((await confirm.locator('p').first().textContent()) ?? '').trim();
  await confirm.getByRole('button', { name: 'Approve and sign' }).click();
  return line;
}
