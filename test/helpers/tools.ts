// Real-component tests need real tools. A missing tool fails the test with the install command;
// it never skips silently.
import { execFileSync } from 'node:child_process';

export function requireTool(command: string, debianPackage: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${command} || test -x /usr/sbin/${command} || test -x /sbin/${command}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${command} is not installed; install it with: apt-get install -y ${debianPackage} (npm test does this through test/install-tools.sh)`);
  }
}
