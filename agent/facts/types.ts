// The shape collectFacts() returns: the proto's Facts with every section present and plain
// numbers for 64-bit fields. It is assignable to the wire type Facts, so it can be sent as is.
import type { Facts__Output } from '../../proto/gen/types/muster/v1/Facts.ts';

export type NodeFacts = { [K in keyof Facts__Output]: NonNullable<Facts__Output[K]> };

export type SectionName = keyof NodeFacts;

/** Sections in wire order (Facts field numbers 1..9). */
export const SECTION_NAMES: readonly SectionName[] = [
  'cpu',
  'memory',
  'disks',
  'os',
  'network',
  'ports',
  'binaries',
  'kernel',
  'clock',
];

export type CpuSection = NodeFacts['cpu'];
export type MemorySection = NodeFacts['memory'];
export type DiskSection = NodeFacts['disks'];
export type FilesystemFact = DiskSection['filesystems'][number];
export type OsSection = NodeFacts['os'];
export type NetworkSection = NodeFacts['network'];
export type InterfaceFact = NetworkSection['interfaces'][number];
export type PortSection = NodeFacts['ports'];
export type ListeningPortFact = PortSection['listening'][number];
export type BinarySection = NodeFacts['binaries'];
export type BinaryFact = BinarySection['binaries'][number];
export type KernelSection = NodeFacts['kernel'];
export type ClockSection = NodeFacts['clock'];
