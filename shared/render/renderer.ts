// A renderer: one component's files, as a small named object -- whether the node needs it, and
// what it renders. shared/render/index.ts lists them all (the catalogue); the apply engine and
// `muster render` only ever see the list of files that comes out.
import type { RenderContext } from './context.ts';
import type { FileSpec } from './types.ts';

export interface Renderer {
  /** Stable name, e.g. "kubelet", shown by `muster render` and in errors. */
  readonly name: string;
  applies(ctx: RenderContext): boolean;
  render(ctx: RenderContext): FileSpec[];
}

export function defineRenderer(name: string, applies: (ctx: RenderContext) => boolean, render: (ctx: RenderContext) => FileSpec[]): Renderer {
  return { name, applies, render };
}
