// The attackers of test/load.e2e-spec.ts, in their own process: an operator on
// another machine does not share an event loop with the clients flooding the
// gateway, so the timed client must not share one with them either.
//
// argv[2]: JSON { url, waitUrl, tokens, polls, pollers, attempts, sprayers }.
// Prints one JSON line when done: { polls, attempts, statuses, pollStatuses }
// (the statuses of the spray's answers and of the polls answered before their drop).
import http from 'node:http';

const plan = JSON.parse(process.argv[2]);
const sprayAgent = new http.Agent({ keepAlive: true, maxSockets: plan.sprayers });
const statuses = {};
const pollStatuses = {};
let polls = 0;
let attempts = 0;

/** Opens a long poll on its own connection and drops it after `afterMs`. */
function openAndDrop(token, afterMs) {
  return new Promise((resolve) => {
    const req = http.get(plan.waitUrl, { headers: { authorization: `Bearer ${token}` }, agent: false });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      pollStatuses[res.statusCode] = (pollStatuses[res.statusCode] ?? 0) + 1;
      res.resume();
      res.on('end', resolve);
      res.on('error', resolve);
    });
    req.on('close', resolve);
    setTimeout(() => req.destroy(), afterMs);
  });
}

/** One login attempt from a spread of client addresses; resolves with the status. */
function login(i) {
  const payload = JSON.stringify({ username: `user${i}`, password: `Winter${i}!` });
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
    'x-forwarded-for': `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`,
  };
  return new Promise((resolve) => {
    const req = http.request(`${plan.url}/api/v1/auth/login`, { method: 'POST', headers, agent: sprayAgent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(payload);
  });
}

const pollers = Array.from({ length: plan.pollers }, async (_, w) => {
  while (polls < plan.polls) {
    polls++;
    // Spread over several callers, as a flood from several stolen tokens would be.
    await openAndDrop(plan.tokens[w % plan.tokens.length], 5 + (polls % 20));
  }
});
const sprayers = Array.from({ length: plan.sprayers }, async () => {
  while (attempts < plan.attempts) {
    const status = await login(attempts++);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
});
await Promise.all([...pollers, ...sprayers]);
sprayAgent.destroy();
process.stdout.write(`${JSON.stringify({ polls, attempts, statuses, pollStatuses })}\n`);
