// Sizes in messages. RAM is sold and reported in binary units (GiB), disks in decimal (GB); each
// check prints the unit its minimum is stated in, so found and required compare at a glance.
export const GiB = 1024 ** 3;
export const GB = 1000 ** 3;

function oneDecimal(x: number): string {
  return x.toFixed(1).replace(/\.0$/, '');
}

export function gib(bytes: number): string {
  return `${oneDecimal(bytes / GiB)} GiB`;
}

export function gb(bytes: number): string {
  return `${oneDecimal(bytes / GB)} GB`;
}

export function ms(x: number): string {
  return `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;
}
