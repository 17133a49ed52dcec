import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { osSupportedCheck, osMatches } from '../../shared/preflight/checks/os.ts';
import type { Finding } from '../../shared/preflight/index.ts';
import { ctx } from './fixtures.ts';

const REQUIRED = 'Ubuntu 22.04/24.04, Debian 12/13, RHEL/Rocky/AlmaLinux 8-10, or an entry of cluster.preflight.supported_os';
const EOL_REQUIRED = 'a supported release (Ubuntu 22.04/24.04, Debian 12/13, RHEL/Rocky/AlmaLinux 8-10)';
const EOL_FIX = 'upgrade the operating system; the node is accepted but gets no security fixes';

const rows: Array<[string, string, string, string, Finding[], string[]?]> = [
  ['ubuntu 24.04 passes', 'ubuntu', '24.04', 'Ubuntu 24.04.1 LTS', []],
  ['ubuntu 22.04 passes', 'ubuntu', '22.04', 'Ubuntu 22.04.5 LTS', []],
  ['debian 13 passes', 'debian', '13', 'Debian GNU/Linux 13 (trixie)', []],
  ['rocky 9.4 matches "rocky 9"', 'rocky', '9.4', 'Rocky Linux 9.4 (Blue Onyx)', []],
  ['almalinux 10.0 passes', 'almalinux', '10.0', 'AlmaLinux 10.0', []],
  ['rhel 8.10 passes', 'rhel', '8.10', 'Red Hat Enterprise Linux 8.10', []],
  ['ubuntu 20.04 is end-of-life: warning with the date', 'ubuntu', '20.04', 'Ubuntu 20.04.6 LTS',
    [{ severity: 'warning', found: 'Ubuntu 20.04.6 LTS (ubuntu 20.04): end-of-life, standard support ended May 2025', required: EOL_REQUIRED, fix: EOL_FIX }]],
  ['centos 7 is end-of-life', 'centos', '7', 'CentOS Linux 7 (Core)',
    [{ severity: 'warning', found: 'CentOS Linux 7 (Core) (centos 7): end-of-life, end of life since June 2024', required: EOL_REQUIRED, fix: EOL_FIX }]],
  ['rhel 7.9 is end-of-life', 'rhel', '7.9', 'Red Hat Enterprise Linux Server 7.9',
    [{ severity: 'warning', found: 'Red Hat Enterprise Linux Server 7.9 (rhel 7.9): end-of-life, maintenance support ended June 2024', required: EOL_REQUIRED, fix: EOL_FIX }]],
  ['debian 11 is end-of-life', 'debian', '11', 'Debian GNU/Linux 11 (bullseye)',
    [{ severity: 'warning', found: 'Debian GNU/Linux 11 (bullseye) (debian 11): end-of-life, security support ended August 2024 (LTS only, until August 2026)', required: EOL_REQUIRED, fix: EOL_FIX }]],
  ['unknown OS is an error', 'arch', '', 'Arch Linux',
    [{ severity: 'error', found: 'Arch Linux (arch )', required: REQUIRED, fix: 'install a supported release, or add "arch " to cluster.preflight.supported_os if you have tested it' }]],
  ['ubuntu 23.10 (non-LTS) is an error', 'ubuntu', '23.10', 'Ubuntu 23.10',
    [{ severity: 'error', found: 'Ubuntu 23.10 (ubuntu 23.10)', required: REQUIRED, fix: 'install a supported release, or add "ubuntu 23.10" to cluster.preflight.supported_os if you have tested it' }]],
  ['"rhel 9" does not match rhel 90', 'rhel', '90', '',
    [{ severity: 'error', found: 'rhel 90 (rhel 90)', required: REQUIRED, fix: 'install a supported release, or add "rhel 90" to cluster.preflight.supported_os if you have tested it' }]],
  ['listed in supported_os passes', 'fedora', '40', 'Fedora Linux 40', [], ['fedora 40']],
  ['listed id without version passes any version', 'opensuse-leap', '15.6', 'openSUSE Leap 15.6', [], ['opensuse-leap']],
];

for (const [name, id, version, pretty, want, supported] of rows) {
  test(name, () => {
    const c = ctx(['worker'], (f, p) => {
      f.os = { ...f.os!, id, version_id: version, pretty_name: pretty };
      p.cluster.preflight.supported_os = supported ?? [];
    });
    assert.equal(osSupportedCheck.run(c), want);
  });
}

test('osMatches: version prefixes stop at a dot', () => {
  assert.ok(osMatches('debian', '12', 'debian 12'));
  assert.ok(osMatches('rocky', '9.4', 'Rocky 9'));
  assert.not.ok(osMatches('debian', '120', 'debian 12'));
  assert.not.ok(osMatches('ubuntu', '24.04', 'debian 24.04'));
});

test.run();
