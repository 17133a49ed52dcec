// collectFacts(): one full collection, every section set. The sections that wait on other
// processes or the disk (binary versions, statfs) start first; the in-memory /proc and /sys reads
// run while they are pending.
import { collectBinaries } from './binaries.ts';
import { collectCpu } from './cpu.ts';
import { collectDisks } from './disks.ts';
import { collectKernel } from './kernel.ts';
import { collectMemory } from './memory.ts';
import { collectNetwork } from './network.ts';
import { compileCollectOptions } from './options.ts';
import type { CollectOptions } from './options.ts';
import { collectOs } from './os.ts';
import { collectPorts } from './ports.ts';
import type { NodeFacts, SectionName } from './types.ts';

export async function collectFacts(options: CollectOptions = {}): Promise<NodeFacts> {
  const o = compileCollectOptions(options);
  // Array order is start order: an async function runs synchronously up to its first await.
  const [binaries, disks, cpu, memory, os, network, ports, kernel] = await Promise.all([
    section('binaries', () => collectBinaries(o)),
    section('disks', () => collectDisks(o)),
    section('cpu', () => collectCpu(o)),
    section('memory', () => collectMemory(o)),
    section('os', () => collectOs(o)),
    section('network', () => collectNetwork(o)),
    section('ports', () => collectPorts(o)),
    section('kernel', () => collectKernel(o)),
  ]);
  return {
    cpu,
    memory,
    disks,
    os,
    network,
    ports,
    binaries,
    kernel,
    clock: { ...o.clock },
  };
}

/** Runs one collector; a failure names its section (collectors do not throw on missing files). */
async function section<T>(name: SectionName, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new Error(`collecting the ${name} facts failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
