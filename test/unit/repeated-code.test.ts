import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** No run of ten or more lines is repeated inside src/ (jscpd, a maintained copy-paste detector). */
const root = path.resolve(__dirname, '..', '..');

function clones(dir: string): Array<{ firstFile: { name: string }; secondFile: { name: string } }> {
  const output = mkdtempSync(path.join(os.tmpdir(), 'jscpd-'));
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'jscpd', 'bin', 'jscpd'), dir, '--min-lines', '10', '--min-tokens', '50', '--reporters', 'json', '--output', output, '--silent'], {
      cwd: root,
      stdio: 'pipe',
    });
    return (JSON.parse(readFileSync(path.join(output, 'jscpd-report.json'), 'utf8')) as { duplicates: Array<{ firstFile: { name: string }; secondFile: { name: string } }> }).duplicates;
  } finally {
    rmSync(output, { recursive: true, force: true });
  }
}

describe('repeated code', () => {
  it('src/ repeats no run of ten or more lines', () => {
    expect(clones('src').map((c) => `${c.firstFile.name} ~ ${c.secondFile.name}`)).toEqual([]);
  });

  it('the check finds a repeated run', () => {
    expect(clones('test/fixtures/repeated-code')).toHaveLength(1);
  });
});
