// The planted secrets of the secret-corpus tests (test/integration/secrets-corpus.test.ts, the TUI's
// test/e2e/secrets-tui.test.ts): values of every shape for a node's .env and host-local override,
// and a compose file that makes them reach the container log, the healthcheck output (cut by Docker
// at 4096 bytes) and, with `withBadDuration`, a Compose error.
//
// Each secret carries markers (letters and digits only, so every encoding -- raw, Go-quoted, JSON,
// \xNN -- prints them unchanged): a marker found anywhere is a leak, whatever form it leaked in.

export interface Planted {
  readonly name: string;
  /** The .env line (or '' for override-only values). */
  readonly line: string;
  /** Texts that must never be seen: the markers, or the whole value when it is too short for one. */
  readonly needles: readonly string[];
}

export interface SecretCorpus {
  readonly planted: readonly Planted[];
  readonly envText: string;
  readonly override: string;
  compose(port: number, withBadDuration: boolean): string;
  /** Every planted secret found in text, with a little context: [] when none. */
  leaks(where: string, text: string): string[];
}

export function secretCorpus(id: string): SecretCorpus {
  let n = 0;
  /** A marker: no word, no hex, no base64 of anything else prints it by chance. */
  const mark = (): string => `Zq${++n}X${id}W`;

  const m = Array.from({ length: 24 }, mark);
  const long = Array.from(
    { length: 10 },
    (_v, i) => `${m[10 + (i % 4)]}-${'abcdefghij'.slice(i)}`,
  ).join('');
  const PLANTED: readonly Planted[] = [
    { name: 'SHORT', line: 'SHORT=Q7j', needles: ['Q7j'] },
    { name: 'LONG', line: `LONG=${long}`, needles: [m[10]!, m[11]!, m[12]!, m[13]!] },
    { name: 'QUOTES', line: `QUOTES="it's \\"quoted\\" ${m[0]}"`, needles: [m[0]!] },
    { name: 'BACKSL', line: `BACKSL=cfg\\back\\slash-${m[1]}`, needles: [m[1]!] },
    { name: 'EQUALS', line: `EQUALS=a=b=${m[2]}=c`, needles: [m[2]!] },
    { name: 'UNI', line: `UNI="geheim-Ä-ünï-${m[3]}-☃"`, needles: [m[3]!] },
    { name: 'JSONV', line: `JSONV='{"user":"u","pass":"${m[4]}"}'`, needles: [m[4]!] },
    { name: 'URL', line: `URL=postgres://app:${m[5]}@db:5432/app`, needles: [m[5]!] },
    // A value equal to a common word: redacted wherever the word appears (documented).
    { name: 'COMMON', line: 'COMMON=sunshine', needles: ['sunshine'] },
    { name: 'INLINE', line: `INLINE=inl1ne-${m[6]} # a comment`, needles: [m[6]!] },
    { name: 'MULTI', line: `MULTI="first-${m[7]}\nsecond-${m[8]}"`, needles: [m[7]!, m[8]!] },
    { name: 'EXPORTED', line: `export EXPORTED = exp-${m[9]}`, needles: [m[9]!] },
    // Printed by the healthcheck at byte 4085: Docker keeps 11 bytes of it, all of them this marker.
    { name: 'TRUNC', line: `TRUNC=${m[14]}-${m[15]}-the-rest`, needles: [m[14]!, m[15]!] },
    // Interpolated into a healthcheck interval: Compose's error quotes it Go's way (\xc3\x84, \\, \").
    { name: 'DUR', line: `DUR="dur-Ä\\\\x\\"q-${m[16]}"`, needles: [m[16]!] },
    { name: 'SMTP_PASS', line: '', needles: [m[17]!] },
    { name: 'LISTED', line: '', needles: [m[18]!] },
  ];
  const ENV_KEYS = PLANTED.filter((p) => p.line !== '').map((p) => p.name);
  const OVERRIDE = [
    'services:',
    '  web:',
    '    environment:',
    `      SMTP_PASS: ovr-only-${m[17]}`,
    `      LISTED: "list \\"style\\" ${m[18]}"`,
    '',
  ].join('\n');

  // The container prints every value raw and JSON-quoted, then serves; the healthcheck prints 4085
  // bytes of padding, then TRUNC, and fails.
  const compose = (port: number, withBadDuration: boolean): string => {
    const all = [...ENV_KEYS, 'SMTP_PASS', 'LISTED'];
    const script = [
      ...all.map((k) => `echo "${k}=$$${k}"`),
      `printf '{"uni":"%s","url":"%s"}\\n' "$$UNI" "$$URL"`,
      `exec httpd -f -p 127.0.0.1:${port} -h /www`,
    ].join('; ');
    return [
      'services:',
      '  web:',
      '    image: busybox:1.36',
      '    network_mode: host',
      '    stop_signal: SIGKILL',
      `    command: ["sh", "-c", '${script.replace(/'/g, "''")}']`,
      '    volumes: ["./www:/www:ro"]',
      '    environment:',
      ...ENV_KEYS.map((k) => `      ${k}: \${${k}}`),
      '    healthcheck:',
      `      test: ["CMD-SHELL", 'printf "%4085s" ""; echo "$$TRUNC"; echo "also $$LONG"; exit 1']`,
      `      interval: ${withBadDuration ? '${DUR}' : '1s'}`,
      '      timeout: 2s',
      '      retries: 1',
      '',
    ].join('\n');
  };

  const envText = `# planted by test/support/secrets-corpus.ts\r\n${PLANTED.map((p) => p.line)
    .filter(Boolean)
    .join('\n')}\n`;
  const leaks = (where: string, text: string): string[] => {
    const out: string[] = [];
    for (const p of PLANTED)
      for (const needle of p.needles) {
        const at = text.indexOf(needle);
        if (at >= 0)
          out.push(`${p.name} in ${where}: …${text.slice(Math.max(0, at - 60), at + 40)}…`);
      }
    return out;
  };
  return { planted: PLANTED, envText, override: OVERRIDE, compose, leaks };
}
