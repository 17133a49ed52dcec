// Operating system support. Today's users expect current Ubuntu LTS, Debian stable and the RHEL
// family (REFERENCE section 1); the seed-era systems are end-of-life and only warn, so an old
// fleet can still be inventoried. Anything else is an error unless the plan lists it.
import type { Check } from '../types.ts';
import { notReported } from '../read.ts';

/** "<os-release ID> <VERSION_ID prefix>" entries supported out of the box. */
export const DEFAULT_SUPPORTED_OS: readonly string[] = [
  'ubuntu 22.04', 'ubuntu 24.04',
  'debian 12', 'debian 13',
  'rhel 8', 'rhel 9', 'rhel 10',
  'rocky 8', 'rocky 9', 'rocky 10',
  'almalinux 8', 'almalinux 9', 'almalinux 10',
];

/** End-of-life releases and when their vendor's standard support ended. */
export const END_OF_LIFE_OS: Readonly<Record<string, string>> = {
  'ubuntu 16.04': 'standard support ended April 2021',
  'ubuntu 18.04': 'standard support ended May 2023',
  'ubuntu 20.04': 'standard support ended May 2025',
  'debian 9': 'security support ended July 2020, LTS ended June 2022',
  'debian 10': 'security support ended June 2022, LTS ended June 2024',
  'debian 11': 'security support ended August 2024 (LTS only, until August 2026)',
  'centos 7': 'end of life since June 2024',
  'rhel 7': 'maintenance support ended June 2024',
};

/** Whether "<id> <version>" matches an entry: same id, version equal or a dotted extension ("9" matches "9.4"). */
export function osMatches(id: string, version: string, entry: string): boolean {
  const [eid = '', ever = ''] = entry.trim().toLowerCase().split(/\s+/);
  if (eid !== id.toLowerCase()) return false;
  return ever === '' || version === ever || version.startsWith(`${ever}.`);
}

export const osSupportedCheck: Check = {
  name: 'os-supported',
  roles: 'all',
  description: 'the operating system is supported (or listed in cluster.preflight.supported_os); end-of-life releases warn',
  run(ctx) {
    const os = ctx.facts.os;
    if (!os) return [notReported('os')];
    const id = os.id ?? '';
    const version = os.version_id ?? '';
    const name = `${os.pretty_name || `${id} ${version}`} (${id} ${version})`;
    const eol = Object.entries(END_OF_LIFE_OS).find(([entry]) => osMatches(id, version, entry));
    if (eol) {
      return [{
        severity: 'warning',
        found: `${name}: end-of-life, ${eol[1]}`,
        required: 'a supported release (Ubuntu 22.04/24.04, Debian 12/13, RHEL/Rocky/AlmaLinux 8-10)',
        fix: 'upgrade the operating system; the node is accepted but gets no security fixes',
      }];
    }
    const listed = [...DEFAULT_SUPPORTED_OS, ...ctx.plan.cluster.preflight.supported_os];
    if (listed.some((entry) => osMatches(id, version, entry))) return [];
    return [{
      severity: 'error',
      found: name,
      required: 'Ubuntu 22.04/24.04, Debian 12/13, RHEL/Rocky/AlmaLinux 8-10, or an entry of cluster.preflight.supported_os',
      fix: `install a supported release, or add "${id} ${version}" to cluster.preflight.supported_os if you have tested it`,
    }];
  },
};
