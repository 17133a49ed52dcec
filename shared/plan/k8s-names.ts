// Kubernetes' syntax rules for label keys and values and taint keys (apimachinery's
// IsQualifiedName / IsValidLabelValue), so a plan fails here rather than when the kubelet
// registers the node. Each function returns the reasons a value is rejected; empty when valid.
const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_CHARS = 'must be 63 characters or less, start and end with a letter or digit, and contain only letters, digits, "-", "_" and "."';

export function qualifiedNameErrors(key: string): string[] {
  const parts = key.split('/');
  if (parts.length > 2) return ['may contain at most one "/" (prefix/name)'];
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  const errors: string[] = [];
  if (prefix !== undefined) {
    if (prefix === '') errors.push('prefix before "/" must not be empty');
    else if (prefix.length > 253) errors.push('prefix must be 253 characters or less');
    else if (!DNS1123_SUBDOMAIN.test(prefix)) errors.push(`prefix "${prefix}" must be a lowercase DNS subdomain (e.g. example.com)`);
  }
  if (!name) errors.push('name part must not be empty');
  else if (name.length > 63 || !NAME_PART.test(name)) errors.push(`name part "${name}" ${NAME_CHARS}`);
  return errors;
}

export function labelValueErrors(value: string): string[] {
  if (value === '') return [];
  return value.length > 63 || !NAME_PART.test(value) ? [`value "${value}" ${NAME_CHARS}, or be empty`] : [];
}

/** A node name / hostname as Kubernetes accepts it (RFC 1123 subdomain, lowercase). */
export function hostnameErrors(host: string): string[] {
  if (host.length > 253) return ['must be 253 characters or less'];
  return DNS1123_SUBDOMAIN.test(host) ? [] : ['must be a lowercase RFC 1123 hostname (letters, digits, "-" and ".")'];
}
