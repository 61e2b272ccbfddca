// Line-oriented oracle over stdin/stdout: one JSON request per line, one JSON
// reply per line, so a test can ask thousands of questions of one node process.
// Request: {"op": "encode", "value": ..., "options": {...}} or {"op": "decode" | "events",
// "text": "...", "options": {...}} ("events": decodeStreamSync's events as a list)
import { encode, decode, decodeStreamSync } from '@toon-format/toon';
import { createInterface } from 'node:readline';

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  let reply;
  try {
    const req = JSON.parse(line);
    const result = req.op === 'encode'
      ? encode(req.value, req.options ?? {})
      : req.op === 'events'
        ? [...decodeStreamSync(req.text.split('\n'), req.options ?? {})]
        : decode(req.text, req.options ?? {});
    reply = { ok: result };
  } catch (err) {
    reply = { error: String(err && err.message || err) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}
