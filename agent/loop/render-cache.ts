// The node's rendered files, kept for as long as their input stays the same. Rendering is a pure
// function of its input (shared/render/index.ts: the assignment and the certificate hashes, and
// nothing else), so the same input gives the same files; and the drift pass each report
// interval renders the same applied assignment with the same certificates again and again --
// YAML for the Calico manifests and the static pods was the biggest part of its CPU.
//
// The input is compared by a hash of its JSON, not by object identity, so an assignment changed
// in place can never be mistaken for the one rendered. One entry: the applied assignment's
// files (about 100 KB on a master), replaced when anything in the input changes.
import { hash } from 'node:crypto';
import { renderNode, type FileSpec, type RenderInput } from '../../shared/render/index.ts';

export class RenderCache {
  #key = '';
  #files: readonly FileSpec[] = [];

  files(input: RenderInput): readonly FileSpec[] {
    const hashes = input.certificateHashes ?? {};
    const key = hash('sha256', JSON.stringify([input.assignment, Object.keys(hashes).sort().map((k) => [k, hashes[k]])]), 'base64');
    if (key !== this.#key) {
      // Frozen: callers share them across passes, so none may change them.
      this.#files = Object.freeze(renderNode(input).map((f) => Object.freeze(f)));
      this.#key = key;
    }
    return this.#files;
  }
}
